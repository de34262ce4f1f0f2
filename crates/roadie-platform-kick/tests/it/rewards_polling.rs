//! Reward redemptions accepted and rejected at the fake, a Pusher redemption given its
//! id from the pending list, and viewer polling while live.

use std::sync::Arc;
use std::time::Duration;

use roadie_core::EventKind;
use roadie_platform_kick::KickError;
use roadie_test_support::fake_kick::FakeKick;
use serde_json::json;

use crate::{MemoryStore, Running, adapter_with, settings, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redemptions_are_accepted_and_rejected() {
    let fake = FakeKick::start().await;
    let (adapter, _, _) = adapter_with(&fake, settings(&fake), Arc::new(MemoryStore::default()));
    adapter
        .finish_redemption("01KBHE78QE4HZY1617DK5FC7YD", true)
        .await
        .unwrap();
    adapter
        .finish_redemption("01KCTMJ2X3DXT814CVX8FR9T1D", false)
        .await
        .unwrap();
    assert_eq!(
        fake.redemption_calls(),
        [
            (
                "accept".to_owned(),
                vec!["01KBHE78QE4HZY1617DK5FC7YD".to_owned()]
            ),
            (
                "reject".to_owned(),
                vec!["01KCTMJ2X3DXT814CVX8FR9T1D".to_owned()]
            ),
        ]
    );
    fake.with(|state| {
        state
            .failing_redemptions
            .insert("01DONE".into(), "NOT_PENDING".into())
    });
    match adapter.finish_redemption("01DONE", true).await {
        Err(KickError::Refused(reason)) => assert!(reason.contains("NOT_PENDING"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        adapter.finish_redemption(" ", true).await,
        Err(KickError::Refused(_))
    ));
    assert_eq!(fake.redemption_calls().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pusher_redemption_without_an_id_gets_it_from_the_pending_list() {
    let running = Running::start(FakeKick::start().await).await;
    let fake = &running.fake;
    fake.add_pending_redemption("01HYDRATE", 77, "Hydrate", 250);
    // The documented feed payload has no redemption id.
    fake.push_event(
        "RewardRedeemedEvent",
        &fake.chatroom_channel(),
        &json!({"reward_title": "Hydrate", "user_id": 77, "channel_id": 1174682, "username": "Thirsty",
                "user_input": "water", "reward_background_color": "#00ff00"}),
    );
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        !sink.events.lock().unwrap().is_empty()
    })
    .await;
    match &running.kinds()[0] {
        EventKind::Redemption {
            redemption_id,
            user,
            reward,
            input,
            ..
        } => {
            assert_eq!(redemption_id, "01HYDRATE");
            assert_eq!(user.id, "77");
            assert_eq!(
                (reward.id.as_str(), reward.title.as_str(), reward.cost),
                ("reward-01HYDRATE", "Hydrate", 250)
            );
            assert_eq!(input.as_deref(), Some("water"));
        }
        other => panic!("{other:?}"),
    }
    running
        .adapter
        .finish_redemption("01HYDRATE", true)
        .await
        .unwrap();
    assert_eq!(
        fake.redemption_calls(),
        [("accept".to_owned(), vec!["01HYDRATE".to_owned()])]
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_live_viewers_are_polled_into_an_event_and_a_sample() {
    let fake = FakeKick::start().await;
    fake.set_live(false, 0);
    let mut settings = settings(&fake);
    settings.poll_every = Duration::from_millis(150);
    let running = Running::start_with(fake, settings).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let slug = running.fake.options().slug.clone();
    assert!(
        running.fake.with(|state| state
            .gets
            .iter()
            .filter(|get| **get == format!("/channels?slug={slug}"))
            .count())
            >= 2
    );
    assert!(
        running.sink.samples.lock().unwrap().is_empty(),
        "offline: nothing to sample"
    );
    running.fake.set_live(true, 4321);
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        !sink.samples.lock().unwrap().is_empty()
    })
    .await;
    let sample = running.sink.samples.lock().unwrap()[0];
    assert_eq!(
        (sample.viewers, sample.followers, sample.chatters),
        (Some(4321), None, None)
    );
    assert!(
        running
            .kinds()
            .contains(&EventKind::Viewers { count: 4321 })
    );
    assert!(
        running.sink.chatters.lock().unwrap().is_empty(),
        "Kick cannot list chatters"
    );
    running.stop().await;
}
