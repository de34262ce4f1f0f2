//! Sending chat: `bot` first, `user` after a 500 (remembered), limits refused with a
//! reason, `is_sent: false` reported, a token expiring mid-stream refreshed (the rotated
//! pair stored before use), and a revoked refresh token giving `auth_required`.

use std::sync::Arc;
use std::time::Duration;

use roadie_core::ConnectionState;
use roadie_platform::ChatError;
use roadie_platform::Platform;
use roadie_test_support::fake_kick::FakeKick;

use crate::{MemoryStore, Running, adapter_with, chat_ids, settings, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_goes_as_bot_and_falls_back_to_user_after_a_500() {
    let fake = FakeKick::start().await;
    let (adapter, access, _) =
        adapter_with(&fake, settings(&fake), Arc::new(MemoryStore::default()));
    // Sending needs no running feed.
    let ids = adapter.send_chat("as the bot").await.unwrap();
    assert_eq!(ids.len(), 1);
    assert!(ids[0].starts_with("kick-chat-"), "{ids:?}");
    let requests = fake.chat_requests();
    assert_eq!(requests[0].0["type"], "bot");
    assert_eq!(requests[0].0["content"], "as the bot");
    assert_eq!(requests[0].1, access);

    fake.set_bot_chat_fails(true);
    adapter.send_chat("  via the fallback  ").await.unwrap();
    adapter.send_chat("and again").await.unwrap();
    let requests = fake.chat_requests();
    let types: Vec<&str> = requests
        .iter()
        .map(|(body, _)| body["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["bot", "bot", "user", "user"],
        "the fallback is remembered"
    );
    assert_eq!(requests[2].0["broadcaster_user_id"], fake.options().user_id);
    assert_eq!(
        fake.received_chats(),
        ["as the bot", "via the fallback", "and again"]
    );
    assert!(adapter.chats_as_user());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_kick_cannot_take_is_refused_with_a_reason() {
    let fake = FakeKick::start().await;
    let (adapter, _, _) = adapter_with(&fake, settings(&fake), Arc::new(MemoryStore::default()));
    match adapter.send_chat(&"word ".repeat(101)).await {
        Err(ChatError::Refused(reason)) => {
            assert!(
                reason.contains("500 characters") && reason.contains("504"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    match adapter.send_chat(" \n").await {
        Err(ChatError::Refused(reason)) => assert!(reason.contains("empty"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Exactly 500 characters is fine.
    adapter.send_chat(&"é".repeat(500)).await.unwrap();
    assert_eq!(fake.chat_requests().len(), 1);

    fake.with(|state| state.chat_not_sent = Some("You are in slow mode".into()));
    match adapter.send_chat("too fast").await {
        Err(ChatError::Platform(reason)) => assert!(reason.contains("slow mode"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_stream_is_refreshed_and_stored_before_use() {
    let running = Running::start(FakeKick::start().await).await;
    let fake = &running.fake;
    fake.inject_chat("before", "one");
    fake.expire_access_token(&running.access);
    fake.inject_chat("during", "two");
    // The 401 triggers one refresh, stored before the retry uses it.
    running.adapter.send_chat("still talking").await.unwrap();
    fake.inject_chat("after", "three");
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        chat_ids(sink).len() >= 3
    })
    .await;
    assert_eq!(chat_ids(&running.sink), ["before", "during", "after"]);

    let saved = running.store.saved.lock().unwrap().clone();
    assert_eq!(saved.len(), 1, "the refreshed pair is stored exactly once");
    let new_access = saved[0].access_token.expose_secret().to_owned();
    let new_refresh = saved[0]
        .refresh_token
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned();
    assert_ne!(new_access, running.access);
    assert_ne!(new_refresh, running.refresh, "both tokens rotate");
    assert_eq!(
        saved[0].account_id,
        Some(fake.options().user_id.to_string())
    );
    // When it was stored, Kick had not seen the new token yet.
    let seen = running.store.seen_at_save.lock().unwrap()[0].clone();
    assert!(!seen.contains(&new_access));
    let requests = fake.chat_requests();
    assert_eq!(
        requests.last().unwrap().1,
        new_access,
        "the retry used the new token"
    );
    assert_eq!(fake.received_chats(), ["still talking"]);
    assert!(
        fake.with(|state| state
            .grants
            .iter()
            .filter(|grant| *grant == "refresh_token")
            .count())
            == 1
    );
    assert!(
        !fake.with(|state| state.refresh_tokens.contains(&running.refresh)),
        "the old refresh token is spent"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_reports_auth_required() {
    let fake = FakeKick::start().await;
    let settings = settings(&fake);
    let running = Running::start_unconnected(fake, settings).await;
    // Expired and not refreshable: the first poll (the sign-in check) finds out.
    running.fake.expire_access_token(&running.access);
    running.fake.revoke_refresh_tokens();
    // The adapter is already running; its first poll may have passed. Sending finds
    // out too, and tells the connection.
    match running.adapter.send_chat("anyone?").await {
        Err(ChatError::AuthRequired(reason)) => {
            assert!(reason.contains("roadie auth login kick"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    wait_for(&running.sink, Duration::from_secs(10), |sink| {
        sink.states
            .lock()
            .unwrap()
            .last()
            .is_some_and(|(state, _)| *state == ConnectionState::AuthRequired)
    })
    .await;
    let detail = running
        .sink
        .states
        .lock()
        .unwrap()
        .last()
        .unwrap()
        .1
        .clone();
    assert!(detail.contains("roadie auth login kick"), "{detail}");
    assert!(running.store.saved.lock().unwrap().is_empty());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_that_is_gone_at_start_reports_auth_required() {
    let fake = FakeKick::start().await;
    let store = Arc::new(MemoryStore::default());
    let (adapter, access, _) = adapter_with(&fake, settings(&fake), store);
    fake.expire_access_token(&access);
    fake.revoke_refresh_tokens();
    let sink = Arc::new(roadie_platform::conformance::RecordingSink::default());
    let stop = roadie_platform::conformance::Trigger::default();
    let task = tokio::spawn(Arc::clone(&adapter).run(sink.clone(), stop.wait()));
    wait_for(&sink, Duration::from_secs(10), |sink| {
        sink.states
            .lock()
            .unwrap()
            .last()
            .is_some_and(|(state, _)| *state == ConnectionState::AuthRequired)
    })
    .await;
    // It stays there until shut down.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sink.states.lock().unwrap().last().unwrap().0,
        ConnectionState::AuthRequired
    );
    stop.fire();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}
