//! The Twitch adapter against the fake Twitch (OAuth, Helix and EventSub on
//! 127.0.0.1:0): the shared platform conformance suite, a token expiring mid-stream,
//! and a revoked refresh token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roadie_core::{ConnectionState, EventKind, Secret};
use roadie_oauth::TokenSet;
use roadie_platform::conformance::{FakeDriver, RecordingSink, Trigger, run_suite};
use roadie_platform::{BoxFuture, Platform};
use roadie_platform_twitch::adapter::{
    TokenStore, TwitchAdapter, TwitchSettings, TwitchTokens, WallClock,
};
use roadie_test_support::fake_eventsub::FakeEventSub;
use roadie_test_support::fake_twitch::FakeTwitch as Fakes;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Default)]
struct MemoryStore {
    saved: Mutex<Vec<TokenSet>>,
}

impl TokenStore for MemoryStore {
    fn save(&self, tokens: &TokenSet) -> BoxFuture<'_, Result<(), String>> {
        self.saved.lock().unwrap().push(tokens.clone());
        Box::pin(async { Ok(()) })
    }
}

/// The fake Twitch, and the frames already sent (to redeliver them as Twitch does).
struct FakeTwitch {
    fakes: Fakes,
    frames: Mutex<HashMap<String, String>>,
    /// Seconds added to the system clock (to simulate sleep and wake).
    clock_offset: Arc<AtomicI64>,
    clock: WallClock,
}

impl std::ops::Deref for FakeTwitch {
    type Target = Fakes;
    fn deref(&self) -> &Fakes {
        &self.fakes
    }
}

impl FakeTwitch {
    async fn start() -> FakeTwitch {
        let clock_offset = Arc::new(AtomicI64::new(0));
        let offset = Arc::clone(&clock_offset);
        let clock = WallClock(Arc::new(move || {
            let seconds = offset.load(Ordering::SeqCst);
            let now = std::time::SystemTime::now();
            if seconds >= 0 {
                now + Duration::from_secs(seconds as u64)
            } else {
                now - Duration::from_secs(seconds.unsigned_abs())
            }
        }));
        FakeTwitch {
            fakes: Fakes::start().await,
            frames: Mutex::default(),
            clock_offset,
            clock,
        }
    }

    fn adapter(&self, store: Arc<MemoryStore>) -> (Arc<TwitchAdapter>, String) {
        let (access, refresh) = self
            .oauth
            .mint_tokens(&["user:read:chat", "user:write:chat"]);
        let settings = TwitchSettings {
            client_id: "fake-client".into(),
            client_secret: Some(Secret::new("fake-secret")),
            auth_url: self.oauth.base_url(),
            helix_url: self.helix.base_url(),
            eventsub_url: self.eventsub.url(),
            poll_every: Duration::from_millis(200),
            clock_check_every: Duration::from_millis(100),
            wall_clock: self.clock.clone(),
        };
        let tokens = TokenSet {
            access_token: Secret::new(access.clone()),
            refresh_token: Some(Secret::new(refresh)),
            expires_at: None,
            scopes: vec!["user:read:chat".into(), "user:write:chat".into()],
            account_id: Some("141981764".into()),
            account_login: Some("twitchdev".into()),
        };
        let tokens = Arc::new(TwitchTokens::new(&settings, tokens, store));
        (Arc::new(TwitchAdapter::new(settings, tokens)), access)
    }
}

impl FakeDriver for FakeTwitch {
    fn inject_chat(&self, message_id: &str, text: &str) -> BoxFuture<'_, ()> {
        // The same platform message again is a redelivery: the same frame.
        let frame = self
            .frames
            .lock()
            .unwrap()
            .entry(message_id.to_owned())
            .or_insert_with(|| {
                self.eventsub.notification_frame(
                    "channel.chat.message",
                    FakeEventSub::chat_event(message_id, text),
                )
            })
            .clone();
        self.eventsub.send_raw(frame);
        Box::pin(async {})
    }

    fn received_chats(&self) -> Vec<String> {
        self.helix.chat_texts()
    }

    fn drop_connection(&self) -> BoxFuture<'_, ()> {
        self.eventsub.drop_connection();
        Box::pin(async {})
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        tokio::spawn(future);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twitch_passes_the_platform_conformance_suite() {
    let fake = FakeTwitch::start().await;
    let (adapter, _) = fake.adapter(Arc::new(MemoryStore::default()));
    let adapter: Arc<dyn Platform> = adapter;
    run_suite(adapter, &fake).await.unwrap();
}

async fn wait_for(sink: &RecordingSink, limit: Duration, check: impl Fn(&RecordingSink) -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check(sink) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met in {limit:?}: states {:?}",
            sink.states.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn connected(sink: &RecordingSink) -> bool {
    sink.states
        .lock()
        .unwrap()
        .last()
        .is_some_and(|(state, _)| *state == ConnectionState::Connected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_stream_is_refreshed_and_stored_without_losing_events() {
    let fake = FakeTwitch::start().await;
    let store = Arc::new(MemoryStore::default());
    let (adapter, access) = fake.adapter(store.clone());
    let sink = Arc::new(RecordingSink::default());
    let stop = Trigger::default();
    let running = tokio::spawn(Arc::clone(&adapter).run(sink.clone(), stop.wait()));
    wait_for(&sink, Duration::from_secs(10), connected).await;

    fake.inject_chat("before", "one").await;
    fake.oauth.expire_access_token(&access);
    fake.inject_chat("during", "two").await;
    // Sending chat needs Helix: the 401 triggers one refresh, stored before use.
    adapter.send_chat("still talking").await.unwrap();
    fake.inject_chat("after", "three").await;
    wait_for(&sink, Duration::from_secs(5), |sink| {
        sink.events.lock().unwrap().len() >= 3
    })
    .await;
    let ids: Vec<String> = sink
        .events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::ChatMessage { message_id, .. } => Some(message_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, vec!["before", "during", "after"]);
    let saved = store.saved.lock().unwrap().clone();
    assert_eq!(
        saved.len(),
        1,
        "the refreshed pair was not stored exactly once"
    );
    assert_ne!(saved[0].access_token.expose_secret(), access);
    assert_eq!(saved[0].account_id.as_deref(), Some("141981764"));
    assert_eq!(fake.helix.chat_texts(), vec!["still talking"]);
    stop.fire();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_reports_auth_required() {
    let fake = FakeTwitch::start().await;
    let (adapter, access) = fake.adapter(Arc::new(MemoryStore::default()));
    fake.oauth.expire_access_token(&access);
    fake.oauth.revoke_refresh_tokens();
    let sink = Arc::new(RecordingSink::default());
    let stop = Trigger::default();
    let running = tokio::spawn(Arc::clone(&adapter).run(sink.clone(), stop.wait()));
    wait_for(&sink, Duration::from_secs(10), |sink| {
        sink.states
            .lock()
            .unwrap()
            .last()
            .is_some_and(|(state, _)| *state == ConnectionState::AuthRequired)
    })
    .await;
    let detail = sink.states.lock().unwrap().last().unwrap().1.clone();
    assert!(detail.contains("roadie auth login twitch"), "{detail}");
    match adapter.send_chat("anyone?").await {
        Err(
            roadie_platform::ChatError::Unavailable(_)
            | roadie_platform::ChatError::AuthRequired(_),
        ) => {}
        other => panic!("{other:?}"),
    }
    stop.fire();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_live_viewers_followers_and_chatters_are_polled() {
    let fake = FakeTwitch::start().await;
    fake.helix.with(|state| {
        state.live = false;
        state.viewers = 4321;
        state.followers = 812;
        state.chatters = 57;
    });
    let (adapter, _) = fake.adapter(Arc::new(MemoryStore::default()));
    let sink = Arc::new(RecordingSink::default());
    let stop = Trigger::default();
    let running = tokio::spawn(Arc::clone(&adapter).run(sink.clone(), stop.wait()));
    wait_for(&sink, Duration::from_secs(10), connected).await;
    // Offline: polled, but nothing to sample.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(fake.helix.with(|state| {
        state
            .gets
            .iter()
            .any(|get| get.starts_with("/streams?user_id=141981764"))
    }));
    assert!(sink.samples.lock().unwrap().is_empty());
    fake.helix.with(|state| state.live = true);
    wait_for(&sink, Duration::from_secs(5), |sink| {
        !sink.samples.lock().unwrap().is_empty()
    })
    .await;
    let sample = sink.samples.lock().unwrap()[0];
    assert_eq!(
        (sample.viewers, sample.followers, sample.chatters),
        (Some(4321), Some(812), Some(57))
    );
    let viewers: Vec<u64> = sink
        .events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::Viewers { count } => Some(count),
            _ => None,
        })
        .collect();
    assert!(viewers.first() == Some(&4321), "{viewers:?}");
    let gets = fake.helix.with(|state| state.gets.clone());
    assert!(
        gets.iter()
            .any(|get| get == "/channels/followers?broadcaster_id=141981764&first=1"),
        "{gets:?}"
    );
    // The whole chatter list, page by page, for watch-time points.
    assert!(
        gets.iter().any(|get| get
            == "/chat/chatters?broadcaster_id=141981764&moderator_id=141981764&first=1000"),
        "{gets:?}"
    );
    assert!(
        gets.iter().any(|get| get.starts_with(
            "/chat/chatters?broadcaster_id=141981764&moderator_id=141981764&first=1000&after="
        )),
        "{gets:?}"
    );
    let lists = sink.chatters.lock().unwrap().clone();
    let logins: Vec<&str> = lists[0].iter().map(|user| user.login.as_str()).collect();
    assert_eq!(logins, ["smittysmithers"], "the docs example's chatter");
    assert_eq!(lists[0][0].id, "128393656");
    stop.fire();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_clock_jump_revalidates_and_reconnects() {
    let fake = FakeTwitch::start().await;
    let (adapter, _) = fake.adapter(Arc::new(MemoryStore::default()));
    let sink = Arc::new(RecordingSink::default());
    let stop = Trigger::default();
    let running = tokio::spawn(Arc::clone(&adapter).run(sink.clone(), stop.wait()));
    wait_for(&sink, Duration::from_secs(10), connected).await;
    let subscriptions = fake.helix.with(|state| state.subscriptions.len());
    let connections = fake.eventsub.connections_accepted();
    // The machine "slept" for two hours.
    fake.clock_offset.store(7200, Ordering::SeqCst);
    wait_for(&sink, Duration::from_secs(5), |sink| {
        sink.states.lock().unwrap().iter().any(|(state, detail)| {
            *state == ConnectionState::Reconnecting && detail.contains("clock jumped")
        })
    })
    .await;
    wait_for(&sink, Duration::from_secs(10), |sink| {
        connected(sink) && fake.eventsub.connections_accepted() > connections
    })
    .await;
    assert_eq!(
        fake.eventsub.connections_accepted(),
        connections + 1,
        "one fresh EventSub connection"
    );
    assert_eq!(
        fake.helix.with(|state| state.subscriptions.len()),
        subscriptions * 2,
        "subscribed again on the new session"
    );
    fake.inject_chat("after-wake", "good morning").await;
    wait_for(&sink, Duration::from_secs(5), |sink| {
        sink.events.lock().unwrap().iter().any(|event| matches!(&event.kind, EventKind::ChatMessage { message_id, .. } if message_id == "after-wake"))
    })
    .await;
    stop.fire();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .unwrap()
        .unwrap();
}
