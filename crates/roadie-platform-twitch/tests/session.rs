//! The EventSub session against the fake EventSub server (real wire protocol on
//! 127.0.0.1:0): hand-over without loss or duplicates, redelivery, drops, keepalive
//! silence, Twitch's close codes and revocations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use roadie_core::EventKind;
use roadie_platform_twitch::eventsub::session::{self, BoxFuture};
use roadie_platform_twitch::eventsub::{
    SUBSCRIPTION_TYPES, SessionConfig, SessionUpdate, SubscriptionCreator,
};
use roadie_test_support::fake_eventsub::{FakeEventSub, FakeEventSubOptions};
use tokio::sync::{mpsc, watch};

/// Stands in for Helix: records each session it subscribed, and tells the fake.
struct Recorder {
    fake: Arc<FakeEventSub>,
    calls: AtomicUsize,
}

impl SubscriptionCreator for Recorder {
    fn create(&self, session_id: &str) -> BoxFuture<'_, Result<Vec<String>, String>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.fake.mark_subscribed(session_id);
        Box::pin(async {
            Ok(SUBSCRIPTION_TYPES
                .iter()
                .map(|(kind, _)| (*kind).to_owned())
                .collect())
        })
    }
}

struct Harness {
    fake: Arc<FakeEventSub>,
    recorder: Arc<Recorder>,
    updates: mpsc::Receiver<SessionUpdate>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Harness {
    async fn start(options: FakeEventSubOptions) -> Harness {
        let fake = Arc::new(FakeEventSub::start(options).await);
        let recorder = Arc::new(Recorder {
            fake: Arc::clone(&fake),
            calls: AtomicUsize::new(0),
        });
        let mut config = SessionConfig::new(fake.url());
        config.backoff_initial = Duration::from_millis(50);
        config.backoff_max = Duration::from_millis(500);
        config.keepalive_grace = Duration::from_millis(300);
        let (sender, updates) = mpsc::channel(4096);
        let (stop, stopped) = watch::channel(false);
        let creator: Arc<dyn SubscriptionCreator> = recorder.clone();
        let task = tokio::spawn(session::run(config, creator, sender, stopped));
        Harness {
            fake,
            recorder,
            updates,
            stop,
            task,
        }
    }

    async fn next(&mut self) -> SessionUpdate {
        tokio::time::timeout(Duration::from_secs(10), self.updates.recv())
            .await
            .expect("no update within 10 s")
            .expect("session ended")
    }

    /// Waits for `Connected`, returning whether it was a hand-over.
    async fn connected(&mut self) -> bool {
        loop {
            match self.next().await {
                SessionUpdate::Connected { handed_over, .. } => return handed_over,
                SessionUpdate::Event(event) => panic!("an event before connecting: {event:?}"),
                _ => {}
            }
        }
    }

    /// Collects chat message ids until `count` arrived, ignoring status updates.
    async fn chat_ids(&mut self, count: usize) -> Vec<String> {
        let mut ids = Vec::new();
        while ids.len() < count {
            if let SessionUpdate::Event(event) = self.next().await
                && let EventKind::ChatMessage { message_id, .. } = event.kind
            {
                ids.push(message_id);
            }
        }
        ids
    }

    /// Asserts that no event arrives within `quiet`.
    async fn no_more_events(&mut self, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + quiet;
        while let Ok(Some(update)) = tokio::time::timeout_at(deadline, self.updates.recv()).await {
            assert!(
                !matches!(update, SessionUpdate::Event(_)),
                "unexpected extra event: {update:?}"
            );
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the session did not stop")
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_in_the_middle_of_1000_notifications_yields_exactly_1000_events() {
    let mut harness = Harness::start(FakeEventSubOptions::default()).await;
    assert!(!harness.connected().await);
    for n in 0..500 {
        harness.fake.send_chat(&format!("m{n}"), "hello");
    }
    harness.fake.reconnect();
    // These race the hand-over: some go out on the old connection, the rest on the new.
    for n in 500..1000 {
        if !harness.fake.send_chat(&format!("m{n}"), "hello").is_empty() {
            tokio::task::yield_now().await;
        }
    }
    let mut ids = Vec::new();
    let mut handed_over = false;
    while ids.len() < 1000 {
        match harness.next().await {
            SessionUpdate::Event(event) => {
                if let EventKind::ChatMessage { message_id, .. } = event.kind {
                    ids.push(message_id);
                }
            }
            SessionUpdate::Connected {
                handed_over: true, ..
            } => handed_over = true,
            other => panic!("unexpected update during the hand-over: {other:?}"),
        }
    }
    harness.no_more_events(Duration::from_millis(300)).await;
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        1000,
        "duplicates or losses across the hand-over"
    );
    assert!(
        handed_over || harness.fake.connections_accepted() == 2,
        "no hand-over happened"
    );
    assert_eq!(harness.fake.connections_accepted(), 2);
    assert_eq!(
        harness.recorder.calls.load(Ordering::SeqCst),
        1,
        "the hand-over resubscribed"
    );
    // After the hand-over, new notifications still arrive.
    harness.fake.send_chat("after", "still here");
    assert_eq!(harness.chat_ids(1).await, vec!["after"]);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_notification_yields_one_event() {
    let mut harness = Harness::start(FakeEventSubOptions::default()).await;
    harness.connected().await;
    let frame = harness.fake.send_chat("once", "hi");
    harness.fake.send_raw(frame.clone());
    harness.fake.send_raw(frame);
    harness.fake.send_chat("twice", "hi");
    assert_eq!(harness.chat_ids(2).await, vec!["once", "twice"]);
    harness.no_more_events(Duration::from_millis(200)).await;
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abrupt_drop_reconnects_and_resubscribes_within_5_seconds() {
    let mut harness = Harness::start(FakeEventSubOptions::default()).await;
    harness.connected().await;
    harness.fake.send_chat("before", "hi");
    assert_eq!(harness.chat_ids(1).await, vec!["before"]);
    let dropped_at = Instant::now();
    harness.fake.drop_connection();
    loop {
        match harness.next().await {
            SessionUpdate::Reconnecting { .. } => {}
            SessionUpdate::Connected { handed_over, .. } => {
                assert!(!handed_over);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        dropped_at.elapsed() < Duration::from_secs(5),
        "took {:?}",
        dropped_at.elapsed()
    );
    assert_eq!(
        harness.recorder.calls.load(Ordering::SeqCst),
        2,
        "not resubscribed after the drop"
    );
    harness.fake.send_chat("after", "hi");
    assert_eq!(harness.chat_ids(1).await, vec!["after"]);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_silence_is_a_dead_connection() {
    let options = FakeEventSubOptions {
        keepalive_seconds: 1,
        send_keepalives: false,
        unused_close_after: None,
    };
    let mut harness = Harness::start(options).await;
    harness.connected().await;
    let began = Instant::now();
    match harness.next().await {
        SessionUpdate::Reconnecting { reason, .. } => {
            assert!(reason.contains("keepalive"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // 1 s keepalive + 0.3 s grace.
    assert!(
        began.elapsed() >= Duration::from_millis(1200) && began.elapsed() < Duration::from_secs(8)
    );
    assert!(!harness.connected().await);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalives_keep_a_quiet_connection_open() {
    let options = FakeEventSubOptions {
        keepalive_seconds: 1,
        send_keepalives: true,
        unused_close_after: None,
    };
    let mut harness = Harness::start(options).await;
    harness.connected().await;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(2500);
    if let Ok(Some(update)) = tokio::time::timeout_at(deadline, harness.updates.recv()).await {
        panic!("a quiet but kept-alive session changed: {update:?}");
    }
    assert_eq!(harness.fake.connections_accepted(), 1);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twitch_close_codes_lead_to_a_fresh_subscribed_session() {
    let mut harness = Harness::start(FakeEventSubOptions::default()).await;
    harness.connected().await;
    harness.fake.close_current(4003, "connection unused");
    match harness.next().await {
        SessionUpdate::Reconnecting { reason, .. } => assert!(reason.contains("4003"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(!harness.connected().await);
    harness
        .fake
        .close_current(4001, "client sent inbound traffic");
    match harness.next().await {
        SessionUpdate::Reconnecting { reason, .. } => assert!(reason.contains("4001"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(!harness.connected().await);
    assert_eq!(harness.recorder.calls.load(Ordering::SeqCst), 3);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_is_reported_and_the_session_stays_up() {
    let mut harness = Harness::start(FakeEventSubOptions::default()).await;
    harness.connected().await;
    harness
        .fake
        .revoke("channel.follow", "authorization_revoked");
    assert_eq!(
        harness.next().await,
        SessionUpdate::Revoked {
            kind: "channel.follow".into(),
            status: "authorization_revoked".into()
        }
    );
    harness.fake.send_chat("still", "hi");
    assert_eq!(harness.chat_ids(1).await, vec!["still"]);
    assert_eq!(harness.fake.connections_accepted(), 1);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_retried_with_growing_delays() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut config = SessionConfig::new(format!("ws://{address}/ws"));
    config.backoff_initial = Duration::from_millis(20);
    config.backoff_max = Duration::from_millis(200);
    let fake = Arc::new(FakeEventSub::start(FakeEventSubOptions::default()).await);
    let creator: Arc<dyn SubscriptionCreator> = Arc::new(Recorder {
        fake,
        calls: AtomicUsize::new(0),
    });
    let (sender, mut updates) = mpsc::channel(64);
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(session::run(config, creator, sender, stopped));
    let mut delays = Vec::new();
    while delays.len() < 6 {
        match tokio::time::timeout(Duration::from_secs(5), updates.recv())
            .await
            .unwrap()
            .unwrap()
        {
            SessionUpdate::Reconnecting { retry_in, .. } => delays.push(retry_in),
            other => panic!("{other:?}"),
        }
    }
    assert!(
        delays[0] < Duration::from_millis(25) && delays[0] >= Duration::from_millis(10),
        "{delays:?}"
    );
    assert!(
        delays
            .iter()
            .all(|delay| *delay <= Duration::from_millis(200)),
        "{delays:?}"
    );
    assert!(
        delays[4] >= Duration::from_millis(100),
        "the delay does not grow: {delays:?}"
    );
    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}
