//! The Pusher feed against the fake: subscriptions, events of every kind, duplicates
//! across channel names, pings both ways, and reconnection by close-code range.

use std::time::Duration;

use roadie_core::{CheerUnit, ConnectionState, EventKind, RedemptionStatus};
use roadie_platform_kick::normalise::SUB_TIER;
use roadie_test_support::fake_kick::{APP_KEY, FakeKick, FakeKickOptions};
use serde_json::json;

use crate::{Running, chat_ids, connected, settings, wait_for, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribes_the_four_channels_and_reads_every_event_kind() {
    let running = Running::start(FakeKick::start().await).await;
    let fake = &running.fake;
    assert_eq!(
        fake.subscriptions(),
        [
            "channel.1174682",
            "channel_1174682",
            "chatroom_332923",
            "chatrooms.332923.v2"
        ]
    );
    assert!(fake.connect_paths()[0].starts_with(&format!("/app/{APP_KEY}?protocol=7")));
    let detail = running
        .sink
        .states
        .lock()
        .unwrap()
        .last()
        .unwrap()
        .1
        .clone();
    assert!(detail.contains("chatroom 332923"), "{detail}");

    // Payload shapes as KickLib's client models them (no captures in the fixtures).
    let chat = fake.chat_channel();
    let chatroom = fake.chatroom_channel();
    let channel = fake.channel_channel();
    fake.push_event(
        "App\\Events\\MessageDeletedEvent",
        &chat,
        &json!({"id": "d1", "message": {"id": "m-9"}, "aiModerated": false}),
    );
    fake.push_event(
        "App\\Events\\UserBannedEvent",
        &chat,
        &json!({"id": "b1",
        "user": {"id": 42, "username": "Troll", "slug": "troll"},
        "banned_by": {"id": 1, "username": "Mod", "slug": "mod"},
        "permanent": false, "duration": 10, "expires_at": "2030-01-01T00:10:00+00:00"}),
    );
    // Sent both with and without the App\Events\ prefix.
    fake.push_event(
        "SubscriptionEvent",
        &chat,
        &json!({"chatroom_id": 332923, "username": "Fan", "months": 4}),
    );
    fake.push_event(
        "App\\Events\\GiftedSubscriptionsEvent",
        &chat,
        &json!({"chatroom_id": 332923,
        "gifted_usernames": ["a", "b", "c"], "gifter_username": "Generous", "gifter_total": 10}),
    );
    fake.push_event("KicksGifted", &channel, &json!({"gift_transaction_id": "t-1", "message": "TAKE MINE",
        "sender": {"id": 3026507, "username": "ChrisE", "username_color": "#E9113C"},
        "gift": {"gift_id": "pack_it_up", "name": "Pack It Up", "amount": 1000, "type": "LEVEL_UP", "tier": "MID"},
        "created_at": "2026-09-03T15:21:07.373823974Z"}));
    fake.push_event(
        "App\\Events\\StreamerIsLive",
        &channel,
        &json!({"livestream": {"id": 5,
        "channel_id": 1174682, "session_title": "Live now", "created_at": "2026-01-01T10:00:00Z"}}),
    );
    fake.push_event("App\\Events\\FollowersUpdated", &channel, &json!({"followersCount": 11,
        "channel_id": 1174682, "username": "NewFriend", "created_at": 1_700_000_000, "followed": true}));
    fake.push_event(
        "App\\Events\\StopStreamBroadcast",
        &channel,
        &json!({"livestream": {"id": 5, "channel": {"id": 1174682, "is_banned": false}}}),
    );
    fake.push_event(
        "RewardRedeemedEvent",
        &chatroom,
        &json!({"id": "01REDEEMED", "reward_title": "Hydrate",
        "user_id": 77, "channel_id": 1174682, "username": "Thirsty", "user_input": "water pls",
        "reward_background_color": "#00ff00"}),
    );
    fake.push_event("App\\Events\\PollUpdateEvent", &chat, &json!({"poll": {}}));
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        sink.events.lock().unwrap().len() >= 9
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let kinds = running.kinds();
    assert_eq!(kinds.len(), 9, "{kinds:#?}");
    assert_eq!(
        kinds[0],
        EventKind::ChatDeleted {
            message_id: "m-9".into()
        }
    );
    assert!(
        matches!(&kinds[1], EventKind::UserBanned { user, until: Some(_) } if user.id == "42" && user.login == "troll")
    );
    assert!(
        matches!(&kinds[2], EventKind::Subscription { user, tier, months: Some(4), .. } if user.name == "Fan" && tier == SUB_TIER)
    );
    assert!(
        matches!(&kinds[3], EventKind::SubscriptionGift { gifter: Some(gifter), count: 3, .. } if gifter.name == "Generous")
    );
    assert!(
        matches!(&kinds[4], EventKind::Cheer { user: Some(user), amount: 1000, unit: CheerUnit::Kicks, message: Some(message) } if user.id == "3026507" && message == "TAKE MINE")
    );
    assert_eq!(
        kinds[5],
        EventKind::StreamOnline {
            title: Some("Live now".into()),
            category: None
        }
    );
    assert!(matches!(&kinds[6], EventKind::Follow { user } if user.login == "newfriend"));
    assert_eq!(
        kinds[7],
        EventKind::StreamOffline {
            title: None,
            category: None
        }
    );
    assert!(
        matches!(&kinds[8], EventKind::Redemption { redemption_id, status: RedemptionStatus::Unfulfilled, input: Some(input), reward, .. }
        if redemption_id == "01REDEEMED" && input == "water pls" && reward.title == "Hydrate")
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_on_two_channel_names_counts_once() {
    let running = Running::start(FakeKick::start().await).await;
    let fake = &running.fake;
    let follow =
        json!({"followersCount": 12, "channel_id": 1174682, "username": "Twice", "followed": true});
    fake.push_event("App\\Events\\FollowersUpdated", "channel.1174682", &follow);
    fake.push_event("App\\Events\\FollowersUpdated", "channel_1174682", &follow);
    let chat = fake.chat_frame("same-id", "hello");
    fake.send_raw(&chat);
    fake.send_raw(&chat);
    fake.inject_chat("next-id", "after");
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        chat_ids(sink).contains(&"next-id".to_owned())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let follows = running
        .kinds()
        .iter()
        .filter(|kind| matches!(kind, EventKind::Follow { .. }))
        .count();
    assert_eq!(follows, 1);
    assert_eq!(chat_ids(&running.sink), ["same-id", "next-id"]);
    running.stop().await;
}

fn last_detail(running: &Running, state: ConnectionState) -> Option<String> {
    running
        .sink
        .states
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|(recorded, _)| *recorded == state)
        .map(|(_, detail)| detail.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4200_close_reconnects_at_once_and_later_events_arrive() {
    let running = Running::start(FakeKick::start().await).await;
    let before = running.state_count();
    let started = tokio::time::Instant::now();
    running
        .fake
        .close_current(4200, "Generic reconnect immediately");
    wait_until(Duration::from_secs(5), "a second connection", || {
        running.fake.connections_accepted() == 2
    })
    .await;
    // "At once": well under the one-second pause of the 4100 range.
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        connected(sink) && sink.states.lock().unwrap().len() > before + 1
    })
    .await;
    let detail = last_detail(&running, ConnectionState::Reconnecting).unwrap();
    assert!(
        detail.contains("4200") && detail.contains("reconnecting now"),
        "{detail}"
    );
    running.fake.inject_chat("after-4200", "still here");
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        chat_ids(sink) == ["after-4200"]
    })
    .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abrupt_drop_reconnects_with_backoff_and_later_events_arrive() {
    let running = Running::start(FakeKick::start().await).await;
    let before = running.state_count();
    running.fake.drop_connection();
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        connected(sink) && sink.states.lock().unwrap().len() > before + 1
    })
    .await;
    let since: Vec<ConnectionState> = running
        .states_since(before)
        .into_iter()
        .map(|(state, _)| state)
        .collect();
    assert_eq!(
        since,
        [ConnectionState::Reconnecting, ConnectionState::Connected]
    );
    let detail = last_detail(&running, ConnectionState::Reconnecting).unwrap();
    assert!(detail.contains("reconnecting in"), "{detail}");
    assert_eq!(running.fake.connections_accepted(), 2);
    running.fake.inject_chat("after-drop", "back");
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        chat_ids(sink) == ["after-drop"]
    })
    .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4100_close_reconnects_after_a_pause_of_at_least_a_second() {
    let running = Running::start(FakeKick::start().await).await;
    let started = tokio::time::Instant::now();
    running.fake.close_current(4100, "Over capacity");
    wait_until(Duration::from_secs(5), "a second connection", || {
        running.fake.connections_accepted() == 2
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    wait_for(&running.sink, Duration::from_secs(5), connected).await;
    let detail = last_detail(&running, ConnectionState::Reconnecting).unwrap();
    assert!(
        detail.contains("4100") && detail.contains("back off"),
        "{detail}"
    );
    running.fake.inject_chat("after-4100", "ok");
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        chat_ids(sink) == ["after-4100"]
    })
    .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4000_range_close_does_not_reconnect_unchanged() {
    let running = Running::start(FakeKick::start().await).await;
    running.fake.close_current(4001, "App does not exist");
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        sink.states
            .lock()
            .unwrap()
            .last()
            .is_some_and(|(state, _)| *state == ConnectionState::Reconnecting)
    })
    .await;
    let detail = last_detail(&running, ConnectionState::Reconnecting).unwrap();
    assert!(
        detail.contains("4001")
            && detail.contains("not to reconnect unchanged")
            && detail.contains("600 s"),
        "{detail}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(running.fake.connections_accepted(), 1, "no reconnection");
    // Shutdown still ends the long wait.
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_pings_and_a_missing_pong_is_a_drop() {
    let fake = FakeKick::start_with(FakeKickOptions {
        activity_timeout_secs: 1,
        ..FakeKickOptions::default()
    })
    .await;
    fake.set_silent(true);
    let mut settings = settings(&fake);
    settings.pong_timeout = Duration::from_millis(300);
    let running = Running::start_with(fake, settings).await;
    wait_until(
        Duration::from_secs(5),
        "a reconnection after the missing pong",
        || running.fake.connections_accepted() >= 2,
    )
    .await;
    assert!(running.fake.pings_received() >= 1);
    assert!(
        running
            .fake
            .client_frames()
            .iter()
            .any(|frame| frame == r#"{"event":"pusher:ping","data":{}}"#)
    );
    let detail = last_detail(&running, ConnectionState::Reconnecting).unwrap();
    assert!(detail.contains("no pusher:pong"), "{detail}");
    // Answered pings keep the connection.
    running.fake.set_silent(false);
    wait_for(&running.sink, Duration::from_secs(5), connected).await;
    let connections = running.fake.connections_accepted();
    let pings = running.fake.pings_received();
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert!(running.fake.pings_received() > pings);
    assert_eq!(running.fake.connections_accepted(), connections);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_ping_is_answered_with_a_pong() {
    let running = Running::start(FakeKick::start().await).await;
    assert_eq!(running.fake.ping_clients(), 1);
    wait_until(Duration::from_secs(5), "a pong", || {
        running.fake.pongs_received() == 1
    })
    .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_channel_lookup_is_reported_and_retried() {
    let fake = FakeKick::start().await;
    fake.with(|state| state.channel_info_status = Some(403));
    let mut settings = settings(&fake);
    settings.backoff_initial = Duration::from_millis(20);
    let running = Running::start_unconnected(fake, settings).await;
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        sink.states.lock().unwrap().iter().any(|(state, detail)| {
            *state == ConnectionState::Reconnecting
                && detail.contains("403")
                && detail.contains("Cloudflare")
                && detail.contains("chatroom_id")
        })
    })
    .await;
    running.fake.with(|state| state.channel_info_status = None);
    wait_for(&running.sink, Duration::from_secs(5), connected).await;
    assert!(running.fake.with(|state| state.channel_info_requests) >= 2);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_ids_skip_a_refused_channel_lookup() {
    let fake = FakeKick::start().await;
    fake.with(|state| state.channel_info_status = Some(403));
    let mut settings = settings(&fake);
    settings.known_ids = Some(roadie_platform_kick::pusher::ChannelIds {
        chatroom_id: fake.options().chatroom_id.to_string(),
        channel_id: fake.options().channel_id.to_string(),
        user_id: String::new(),
    });
    let running = Running::start_with(fake, settings).await;
    running.fake.inject_chat("with-known-ids", "hello");
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        chat_ids(sink).contains(&"with-known-ids".to_owned())
    })
    .await;
    assert_eq!(running.fake.with(|state| state.channel_info_requests), 0);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_chat_arrives_whole_and_in_order() {
    let running = Running::start(FakeKick::start().await).await;
    assert_eq!(running.fake.flood_chat("flood", 3000), 1);
    wait_for(&running.sink, Duration::from_secs(20), |sink| {
        sink.events.lock().unwrap().len() >= 3000
    })
    .await;
    let ids = chat_ids(&running.sink);
    let expected: Vec<String> = (0..3000).map(|index| format!("flood-{index}")).collect();
    assert_eq!(ids, expected);
    running.stop().await;
}
