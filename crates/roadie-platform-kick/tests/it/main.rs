//! The Kick adapter's integration tests, one binary: every fixture's SPEC event, the
//! shared conformance suite against the fake Kick, reconnection by Pusher close codes,
//! signed webhooks (the real test vector, staleness, replays, one event across both
//! routes), chat sending with the bot→user fallback and token refresh, rewards,
//! viewer polling, and the sign-in helpers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chat;
mod conformance;
mod fixtures;
mod oauth;
mod pusher;
mod rewards_polling;
mod webhooks;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use roadie_core::{ConnectionState, EventKind, Secret};
use roadie_oauth::{TokenSet, TokenStore};
use roadie_platform::conformance::{RecordingSink, Trigger};
use roadie_platform::{BoxFuture, Platform};
use roadie_platform_kick::{KickAdapter, KickSettings};
use roadie_test_support::fake_kick::{self, FakeKick};

/// Scopes of a complete sign-in.
pub const SCOPES: &[&str] = &[
    "user:read",
    "channel:read",
    "chat:write",
    "events:subscribe",
    "channel:rewards:read",
    "channel:rewards:write",
];

/// Remembers every saved token set, and what the fake had seen when it was saved.
#[derive(Debug, Default)]
pub struct MemoryStore {
    pub saved: Mutex<Vec<TokenSet>>,
    /// The bearer tokens the fake had seen at each save.
    pub seen_at_save: Mutex<Vec<Vec<String>>>,
    pub fake: Mutex<Option<Arc<Mutex<fake_kick::KickState>>>>,
}

impl TokenStore for MemoryStore {
    fn save(&self, tokens: &TokenSet) -> BoxFuture<'_, Result<(), String>> {
        self.saved.lock().unwrap().push(tokens.clone());
        if let Some(state) = self.fake.lock().unwrap().as_ref() {
            let seen = state.lock().unwrap().bearer_tokens.clone();
            self.seen_at_save.lock().unwrap().push(seen);
        }
        Box::pin(async { Ok(()) })
    }
}

/// Settings pointing at the fake, with test-sized timings.
pub fn settings(fake: &FakeKick) -> KickSettings {
    let mut settings = KickSettings::new(
        fake_kick::CLIENT_ID,
        Secret::new(fake_kick::CLIENT_SECRET),
        fake.options().slug.clone(),
    );
    settings.auth_url = fake.auth_url();
    settings.api_url = fake.api_url();
    settings.pusher_url = fake.pusher_url();
    settings.channel_info_url = fake.channel_info_url();
    settings.poll_every = Duration::from_secs(3600);
    settings.backoff_initial = Duration::from_millis(50);
    settings.backoff_max = Duration::from_secs(2);
    settings.connect_timeout = Duration::from_secs(5);
    settings
}

/// An adapter signed in at the fake; returns it with its access and refresh tokens.
pub fn adapter_with(
    fake: &FakeKick,
    settings: KickSettings,
    store: Arc<MemoryStore>,
) -> (Arc<KickAdapter>, String, String) {
    let (access, refresh) = fake.mint_tokens(SCOPES);
    *store.fake.lock().unwrap() = Some(Arc::clone(&fake.state));
    let tokens = TokenSet {
        access_token: Secret::new(access.clone()),
        refresh_token: Some(Secret::new(refresh.clone())),
        expires_at: None,
        scopes: SCOPES.iter().map(|scope| (*scope).to_owned()).collect(),
        account_id: Some(fake.options().user_id.to_string()),
        account_login: Some(fake.options().slug.clone()),
    };
    let rotating = Arc::new(roadie_platform_kick::oauth::rotating_tokens(
        &settings, tokens, store,
    ));
    (
        Arc::new(KickAdapter::new(settings, rotating)),
        access,
        refresh,
    )
}

/// A running adapter against a fake.
#[derive(Debug)]
pub struct Running {
    pub fake: FakeKick,
    pub adapter: Arc<KickAdapter>,
    pub store: Arc<MemoryStore>,
    pub sink: Arc<RecordingSink>,
    pub access: String,
    pub refresh: String,
    stop: Trigger,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Starts the adapter with `settings` and waits until it reports connected.
    pub async fn start_with(fake: FakeKick, settings: KickSettings) -> Running {
        let running = Running::start_unconnected(fake, settings).await;
        wait_for(&running.sink, Duration::from_secs(10), connected).await;
        running
    }

    /// Starts the adapter with default test settings and waits until connected.
    pub async fn start(fake: FakeKick) -> Running {
        let settings = settings(&fake);
        Running::start_with(fake, settings).await
    }

    /// Starts the adapter without waiting.
    pub async fn start_unconnected(fake: FakeKick, settings: KickSettings) -> Running {
        let store = Arc::new(MemoryStore::default());
        let (adapter, access, refresh) = adapter_with(&fake, settings, Arc::clone(&store));
        let sink = Arc::new(RecordingSink::default());
        let stop = Trigger::default();
        let task = tokio::spawn(Arc::clone(&adapter).run(sink.clone(), stop.wait()));
        Running {
            fake,
            adapter,
            store,
            sink,
            access,
            refresh,
            stop,
            task,
        }
    }

    /// Stops the adapter and checks that `run` ends.
    pub async fn stop(self) {
        self.stop.fire();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("run ends after shutdown")
            .unwrap();
    }

    /// The events recorded so far.
    pub fn kinds(&self) -> Vec<EventKind> {
        kinds(&self.sink)
    }

    /// How many states have been recorded.
    pub fn state_count(&self) -> usize {
        self.sink.states.lock().unwrap().len()
    }

    /// States recorded after the first `from`.
    pub fn states_since(&self, from: usize) -> Vec<(ConnectionState, String)> {
        self.sink.states.lock().unwrap()[from..].to_vec()
    }
}

pub fn kinds(sink: &RecordingSink) -> Vec<EventKind> {
    sink.events
        .lock()
        .unwrap()
        .iter()
        .map(|event| event.kind.clone())
        .collect()
}

pub fn chat_ids(sink: &RecordingSink) -> Vec<String> {
    kinds(sink)
        .into_iter()
        .filter_map(|kind| match kind {
            EventKind::ChatMessage { message_id, .. } => Some(message_id),
            _ => None,
        })
        .collect()
}

pub fn connected(sink: &RecordingSink) -> bool {
    sink.states
        .lock()
        .unwrap()
        .last()
        .is_some_and(|(state, _)| *state == ConnectionState::Connected)
}

/// Waits until `check` holds, failing after `limit` with the recorded states.
pub async fn wait_for(
    sink: &RecordingSink,
    limit: Duration,
    check: impl Fn(&RecordingSink) -> bool,
) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check(sink) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met in {limit:?}: states {:?}, events {:?}",
            sink.states.lock().unwrap(),
            kinds(sink)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until `check` holds (no sink involved).
pub async fn wait_until(limit: Duration, what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The adapter as the daemon holds it.
pub fn as_platform(adapter: &Arc<KickAdapter>) -> Arc<dyn Platform> {
    Arc::clone(adapter) as Arc<dyn Platform>
}

/// A test data file's text.
pub fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A test data file's bytes, exactly.
pub fn data_bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}
