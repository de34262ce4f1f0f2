//! The YouTube adapter's tests, one binary: snippet normalisation (the real captured
//! excerpt and the documented types, table-driven) with property tests, the quota
//! planner over a simulated day, the adapter against the fake YouTube (conformance
//! suite, broadcast end and restart, quota pacing and exhaustion, chat sending, token
//! refresh, viewers) and Google sign-in against the fake.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod adapter;
mod normalise;
mod oauth;
mod quota_plan;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roadie_core::{ConnectionState, EventKind, Secret, Timestamp};
use roadie_oauth::{ClientCredentials, RotatingTokens, TokenSet, TokenStore};
use roadie_platform::BoxFuture;
use roadie_platform::conformance::{RecordingSink, Trigger};
use roadie_platform_youtube::{WallClock, YoutubeAdapter, YoutubeSettings};
use roadie_test_support::fake_youtube::{CLIENT_ID, CLIENT_SECRET, FakeYoutube};

/// A keystore in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    pub saved: Mutex<Vec<TokenSet>>,
}

impl TokenStore for MemoryStore {
    fn save(&self, tokens: &TokenSet) -> BoxFuture<'_, Result<(), String>> {
        self.saved.lock().unwrap().push(tokens.clone());
        Box::pin(async { Ok(()) })
    }
}

/// A wall clock that tests can move forward.
#[derive(Debug, Clone, Default)]
pub struct MovableClock(Arc<AtomicI64>);

impl MovableClock {
    pub fn clock(&self) -> WallClock {
        let offset = Arc::clone(&self.0);
        let system = WallClock::system();
        WallClock(Arc::new(move || {
            Timestamp(system.now().0 + offset.load(Ordering::SeqCst))
        }))
    }

    pub fn advance(&self, by: Duration) {
        self.0
            .fetch_add(i64::try_from(by.as_millis()).unwrap(), Ordering::SeqCst);
    }
}

/// Settings pointing at the fake, with test-sized pacing.
pub fn settings_for(fake: &FakeYoutube) -> YoutubeSettings {
    let mut settings = YoutubeSettings::new(CLIENT_ID);
    settings.client_secret = Some(Secret::new(CLIENT_SECRET));
    settings.auth_url = fake.auth_url();
    settings.token_url = fake.token_url();
    settings.device_url = fake.device_url();
    settings.api_url = fake.api_url();
    settings.idle_poll = Duration::from_millis(100);
    settings.retry_base = Duration::from_millis(100);
    settings.request_timeout = Duration::from_secs(5);
    // Plan the budget for a one-minute "stream" so the fake's fast polling is
    // affordable (planning until the reset would space polls ~20 s apart).
    settings.quota_horizon = Some(Duration::from_secs(60));
    settings
}

/// An adapter signed in with freshly minted tokens; returns the access token too.
pub fn adapter_for(
    fake: &FakeYoutube,
    settings: YoutubeSettings,
    store: Arc<MemoryStore>,
) -> (Arc<YoutubeAdapter>, String) {
    let (access, refresh) = fake.mint_tokens();
    let tokens = TokenSet {
        access_token: Secret::new(access.clone()),
        refresh_token: Some(Secret::new(refresh)),
        expires_at: None,
        scopes: vec![roadie_platform_youtube::oauth::SCOPE.into()],
        account_id: Some("UCfakeRoadieChannel0000001".into()),
        account_login: Some("Roadie Test Channel".into()),
    };
    let rotating = Arc::new(RotatingTokens::new(
        "YouTube",
        ClientCredentials {
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
        },
        settings.token_url.clone(),
        tokens,
        store,
    ));
    (Arc::new(YoutubeAdapter::new(settings, rotating)), access)
}

/// A running adapter.
#[derive(Debug)]
pub struct Running {
    pub sink: Arc<RecordingSink>,
    stop: Trigger,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Running {
    pub fn start(adapter: &Arc<YoutubeAdapter>) -> Running {
        use roadie_platform::Platform;
        let sink = Arc::new(RecordingSink::default());
        let stop = Trigger::default();
        let task = tokio::spawn(Arc::clone(adapter).run(sink.clone(), stop.wait()));
        Running {
            sink,
            stop,
            task: Mutex::new(Some(task)),
        }
    }

    /// Stops the adapter and checks that `run` ends.
    pub async fn stop(&self) {
        self.stop.fire();
        let task = self.task.lock().unwrap().take().expect("stopped twice");
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("run did not end after shutdown")
            .unwrap();
    }

    pub fn states(&self) -> Vec<(ConnectionState, String)> {
        self.sink.states.lock().unwrap().clone()
    }

    pub fn last_state(&self) -> Option<(ConnectionState, String)> {
        self.states().last().cloned()
    }

    pub fn kinds(&self) -> Vec<EventKind> {
        self.sink
            .events
            .lock()
            .unwrap()
            .iter()
            .map(|event| event.kind.clone())
            .collect()
    }

    pub fn chat_ids(&self) -> Vec<String> {
        self.kinds()
            .into_iter()
            .filter_map(|kind| match kind {
                EventKind::ChatMessage { message_id, .. } => Some(message_id),
                _ => None,
            })
            .collect()
    }

    pub async fn wait(&self, limit: Duration, what: &str, check: impl Fn(&Running) -> bool) {
        let deadline = tokio::time::Instant::now() + limit;
        while !check(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within {limit:?}; states {:?}; events {:?}",
                self.states(),
                self.kinds()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn wait_connected(&self) {
        self.wait(Duration::from_secs(10), "connected", |running| {
            running
                .last_state()
                .is_some_and(|(state, _)| state == ConnectionState::Connected)
        })
        .await;
    }
}
