//! Platform supervision: builds each configured adapter from the stored sign-in,
//! runs it, turns its reports into bus events and component health, and handles
//! sign-in (token import, code exchange, device flow), sign-out with revocation, and
//! chat sending. A platform that fails or needs a sign-in never stops the others.
//!
//! This is the one place that names concrete adapters; everything else sees
//! `Arc<dyn Platform>`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roadie_core::{ConnectionState, Event, EventKind, Platform as PlatformId, Secret, Timestamp};
use roadie_oauth::{ClientCredentials, DeviceFlavor, TokenResponse, TokenSet, TokenStore};
use roadie_platform::{AnalyticsSample, BoxFuture, ChatError, Platform, PlatformSink};
use roadie_platform_twitch::adapter::TwitchAdapter;
use roadie_protocol::{
    Account, AuthStatus, ComponentState, DeviceInstructions, PlatformAuth, timefmt,
};
use roadie_store::{OauthCredential, Store, StreamSample};
use tokio::sync::watch;

use crate::automation::Automation;
use crate::bus::EventBus;
use crate::health::HealthBoard;
use crate::keystore::{KeystoreSlot, TOKEN_KEY_PREFIX};
use crate::supervise::restart_on_panic;

mod kick;
mod twitch;
mod youtube;

/// The keystore key of an account's tokens: `oauth.{platform}.{account id}`. Keystore
/// keys are lower-case, and YouTube channel ids (`UCx9...`) are case-sensitive, so
/// an id with other characters is written in hex to keep two accounts apart.
fn token_keystore_key(platform: PlatformId, account_id: &str) -> String {
    let plain = account_id.bytes().all(|byte| {
        byte.is_ascii_lowercase() || byte.is_ascii_digit() || matches!(byte, b'.' | b'_' | b'-')
    });
    if plain && !account_id.is_empty() {
        format!("{TOKEN_KEY_PREFIX}{platform}.{account_id}")
    } else {
        let hex: String = account_id
            .bytes()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!("{TOKEN_KEY_PREFIX}{platform}.x{hex}")
    }
}

/// Runs a platform's adapter until `stopped` turns true; a panic in it is shown as
/// `reconnecting` with the reason, and the adapter starts again (see
/// [`restart_on_panic`]).
async fn supervise(
    platform: PlatformId,
    adapter: Arc<dyn Platform>,
    sink: Arc<dyn PlatformSink>,
    stopped: watch::Receiver<bool>,
) {
    let start = || {
        let mut stop_signal = stopped.clone();
        Arc::clone(&adapter).run(
            Arc::clone(&sink),
            Box::pin(async move {
                let _ = stop_signal.wait_for(|stop| *stop).await;
            }),
        )
    };
    let report = |reason: String, delay: Duration| {
        sink.status(
            ConnectionState::Reconnecting,
            format!(
                "crashed ({reason}); starting again in {} s",
                delay.as_secs().max(1)
            ),
        );
    };
    restart_on_panic(platform.as_str(), start, stopped.clone(), report).await;
}

/// How a platform signs in: the app's credentials, its endpoints and the scopes
/// Roadie asks for.
pub(crate) struct SignIn {
    credentials: ClientCredentials,
    authorize_url: String,
    authorize_extra: &'static [(&'static str, &'static str)],
    token_url: String,
    scopes: Vec<&'static str>,
    /// `None`: the platform has no device flow.
    device: Option<DeviceSignIn>,
}

/// The device flow of a platform.
pub(crate) struct DeviceSignIn {
    url: String,
    flavor: DeviceFlavor,
    /// The scopes the device flow may ask for (Google allows fewer than the browser).
    scopes: Vec<&'static str>,
}

/// Why a sign-in or chat request failed, with the HTTP status it maps to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// The request cannot be served as asked (400).
    #[error("{0}")]
    BadRequest(String),
    /// The platform is off or not supported (409).
    #[error("{0}")]
    NotAvailable(String),
    /// The platform refused (502).
    #[error("{0}")]
    Upstream(String),
    /// Something local failed (500).
    #[error("{0}")]
    Internal(String),
}

struct Running {
    adapter: Arc<dyn Platform>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Runs and controls the platform adapters.
pub struct PlatformManager {
    config: roadie_config::Config,
    bus: EventBus,
    store: Store,
    automation: Automation,
    health: Arc<HealthBoard>,
    keystore: Arc<KeystoreSlot>,
    running: tokio::sync::Mutex<HashMap<PlatformId, Running>>,
    /// The running Twitch adapter, typed: Roadie's own rewards.
    twitch: Mutex<Option<Arc<TwitchAdapter>>>,
    /// The running Kick adapter, typed: redemptions and webhooks.
    kick: Mutex<Option<Arc<roadie_platform_kick::KickAdapter>>>,
    /// The running YouTube adapter, typed: its quota spending.
    youtube: Mutex<Option<Arc<roadie_platform_youtube::YoutubeAdapter>>>,
    states: Arc<Mutex<HashMap<PlatformId, (ConnectionState, String)>>>,
    device_flows: Arc<Mutex<HashMap<PlatformId, String>>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for PlatformManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformManager").finish_non_exhaustive()
    }
}

/// Reports from an adapter: events to the bus, states to health and as
/// `platform.status` events.
struct DaemonSink {
    platform: PlatformId,
    bus: EventBus,
    store: Store,
    automation: Automation,
    health: Arc<HealthBoard>,
    states: Arc<Mutex<HashMap<PlatformId, (ConnectionState, String)>>>,
}

fn component_state(state: ConnectionState) -> ComponentState {
    match state {
        ConnectionState::Connected => ComponentState::Ok,
        ConnectionState::Reconnecting => ComponentState::Degraded,
        ConnectionState::AuthRequired => ComponentState::AuthRequired,
        ConnectionState::Disabled => ComponentState::Disabled,
    }
}

fn now() -> Timestamp {
    Timestamp(roadie_store::now_ms())
}

fn record_state(
    platform: PlatformId,
    state: ConnectionState,
    detail: &str,
    health: &HealthBoard,
    states: &Mutex<HashMap<PlatformId, (ConnectionState, String)>>,
    bus: &EventBus,
) {
    health.set(platform.as_str(), component_state(state), detail);
    // A platform that starts disabled (no config section) did not change: storing
    // that at every start only filled the log with three lines per start.
    let changed = states
        .lock()
        .map(
            |mut states| match states.insert(platform, (state, detail.to_owned())) {
                Some((previous, _)) => previous != state,
                None => state != ConnectionState::Disabled,
            },
        )
        .unwrap_or(true);
    if changed {
        let bus = bus.clone();
        let event = Event {
            platform,
            at: now(),
            kind: EventKind::PlatformStatus {
                state,
                detail: detail.to_owned(),
            },
        };
        tokio::spawn(async move {
            if let Err(error) = bus.publish(&event).await {
                tracing::warn!(%error, "could not record a platform status change");
            }
        });
    }
}

impl DaemonSink {
    /// After an event was queued for storage (or could not be): automation sees it.
    fn queued(&self, queued: Result<(), roadie_store::StoreError>, event: Event) {
        if let Err(error) = queued {
            tracing::error!(%error, platform = %self.platform, "could not store a platform event");
        }
        self.automation.observe(event);
    }
}

impl PlatformSink for DaemonSink {
    fn event(&self, event: Event) -> BoxFuture<'_, ()> {
        if !matches!(
            event.kind,
            EventKind::StreamOnline { .. } | EventKind::StreamOffline { .. }
        ) {
            // Chat and most events: queued for storage right here while the store's
            // queue has room, with no future holding the event (it was most of the
            // allocation per chat line).
            return match self.bus.try_publish(&event) {
                Ok(Some(prepared)) => Box::pin(async move {
                    let queued = self.bus.publish_prepared(prepared).await;
                    self.queued(queued, event);
                }),
                queued => {
                    self.queued(queued.map(|_| ()), event);
                    Box::pin(std::future::ready(()))
                }
            };
        }
        Box::pin(async move {
            // Stream sessions for per-stream reports.
            let session = match &event.kind {
                EventKind::StreamOnline { title, category } => {
                    let online = self
                        .store
                        .stream_online(self.platform, event.at, title.clone(), category.clone())
                        .await;
                    if let Ok(session) = &online
                        && session.announced
                    {
                        // Announced again (YouTube after a restart mid-stream finds the
                        // broadcast anew): not a new stream, so no second "we're live"
                        // for overlays or automations; timers and uptime go on from
                        // the real start.
                        tracing::info!(platform = %self.platform, since_ms = session.started_at.unix_ms(), "already live; not announced again");
                        self.automation
                            .resume_live(self.platform, session.started_at);
                        return;
                    }
                    online.map(|_| ())
                }
                EventKind::StreamOffline { .. } => self
                    .store
                    .stream_offline(self.platform, event.at)
                    .await
                    .map(|_| ()),
                _ => Ok(()),
            };
            if let Err(error) = session {
                tracing::warn!(%error, platform = %self.platform, "could not record the stream session");
            }
            // Automation sees an event after it is queued for storage, so what it
            // publishes in answer (a command's reply) is stored after it.
            let queued = self.bus.publish(&event).await;
            self.queued(queued, event);
        })
    }

    fn chatters(&self, at: Timestamp, chatters: Vec<roadie_core::User>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.automation.watched(self.platform, at, chatters).await;
        })
    }

    fn analytics(&self, sample: AnalyticsSample) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let sample = StreamSample {
                at: sample.at,
                viewers: sample.viewers,
                followers: sample.followers,
                chatters: sample.chatters,
            };
            match self.store.add_stream_sample(self.platform, sample).await {
                // Samples come only while live: after a restart mid-stream (Twitch and
                // Kick do not announce the stream again) they tell automation the
                // stream is on, so timers and uptime work.
                Ok(Some(session)) => self
                    .automation
                    .resume_live(self.platform, session.started_at),
                Ok(None) => {
                    tracing::debug!(platform = %self.platform, "a late sample after the stream ended; not stored");
                }
                Err(error) => {
                    tracing::warn!(%error, platform = %self.platform, "could not store an analytics sample");
                }
            }
        })
    }

    fn status(&self, state: ConnectionState, detail: String) {
        record_state(
            self.platform,
            state,
            &detail,
            &self.health,
            &self.states,
            &self.bus,
        );
    }
}

/// Writes rotated tokens to the keystore (and their expiry to the database).
struct KeystoreTokens {
    keystore: Arc<KeystoreSlot>,
    store: Store,
    credential: OauthCredential,
}

impl TokenStore for KeystoreTokens {
    fn save(&self, tokens: &TokenSet) -> BoxFuture<'_, Result<(), String>> {
        let value = tokens.to_keystore_value();
        let mut credential = self.credential.clone();
        credential.expires_at = tokens.expires_at;
        Box::pin(async move {
            let secrets = self
                .keystore
                .get()
                .map(|opened| opened.store.clone())
                .ok_or("the keystore is not available")?;
            let key = credential.keystore_key.clone();
            tokio::task::spawn_blocking(move || secrets.set(&key, &value))
                .await
                .map_err(|error| error.to_string())?
                .map_err(|error| error.to_string())?;
            self.store
                .upsert_credential(credential, roadie_store::now_ms())
                .await
                .map_err(|error| error.to_string())
        })
    }
}

impl PlatformManager {
    /// A manager; nothing runs until [`PlatformManager::start_all`].
    pub fn new(
        config: roadie_config::Config,
        bus: EventBus,
        store: Store,
        automation: Automation,
        health: Arc<HealthBoard>,
        keystore: Arc<KeystoreSlot>,
    ) -> PlatformManager {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        PlatformManager {
            config,
            bus,
            store,
            automation,
            health,
            keystore,
            running: tokio::sync::Mutex::default(),
            twitch: Mutex::new(None),
            kick: Mutex::new(None),
            youtube: Mutex::new(None),
            states: Arc::default(),
            device_flows: Arc::default(),
            http,
        }
    }

    fn set_state(&self, platform: PlatformId, state: ConnectionState, detail: &str) {
        record_state(
            platform,
            state,
            detail,
            &self.health,
            &self.states,
            &self.bus,
        );
    }

    /// Starts every configured platform that has a sign-in; reports the others.
    pub async fn start_all(&self) {
        for platform in [PlatformId::Twitch, PlatformId::Kick, PlatformId::Youtube] {
            if !self.configured(platform) {
                self.set_not_configured(platform);
                continue;
            }
            if self.keystore.get().is_none() {
                let problem = self.keystore.problem().unwrap_or_else(|| "not open".into());
                self.set_state(
                    platform,
                    ConnectionState::AuthRequired,
                    &format!(
                        "the keystore is not available ({problem}); the sign-in cannot be read"
                    ),
                );
                continue;
            }
            match self.credential(platform).await {
                Some(credential) => {
                    if let Err(error) = self.start_platform(credential).await {
                        self.set_state(
                            platform,
                            ConnectionState::AuthRequired,
                            &format!("{error}; run `roadie auth login {platform}`"),
                        );
                    }
                }
                None => self.set_state(
                    platform,
                    ConnectionState::AuthRequired,
                    &format!("not signed in; run `roadie auth login {platform}`"),
                ),
            }
        }
    }

    fn configured(&self, platform: PlatformId) -> bool {
        match platform {
            PlatformId::Twitch => self.config.twitch.is_some(),
            PlatformId::Kick => self.config.kick.is_some(),
            PlatformId::Youtube => self.config.youtube.is_some(),
            PlatformId::Roadie => false,
        }
    }

    /// Reads the stored token set and starts the platform's adapter with it.
    async fn start_platform(&self, credential: OauthCredential) -> Result<(), PlatformError> {
        let stored = self
            .read_secret(&credential.keystore_key)
            .await?
            .ok_or_else(|| {
                PlatformError::Internal("the stored sign-in has no token in the keystore".into())
            })?;
        let tokens = TokenSet::from_keystore_value(&stored)
            .map_err(|error| PlatformError::Internal(error.to_string()))?;
        let platform = credential.platform;
        let token_store: Arc<dyn TokenStore> = Arc::new(KeystoreTokens {
            keystore: Arc::clone(&self.keystore),
            store: self.store.clone(),
            credential,
        });
        match platform {
            PlatformId::Twitch => self.start_twitch(tokens, token_store).await,
            PlatformId::Kick => self.start_kick(tokens, token_store).await,
            PlatformId::Youtube => self.start_youtube(tokens, token_store).await,
            PlatformId::Roadie => Err(PlatformError::NotAvailable(
                "roadie is not a platform to sign in to".into(),
            )),
        }
    }

    /// How `platform` signs in: the app's credentials, endpoints and scopes.
    async fn sign_in(&self, platform: PlatformId) -> Result<SignIn, PlatformError> {
        match platform {
            PlatformId::Twitch => self.twitch_sign_in().await,
            PlatformId::Kick => self.kick_sign_in().await,
            PlatformId::Youtube => self.youtube_sign_in().await,
            PlatformId::Roadie => Err(PlatformError::NotAvailable(
                "roadie is not a platform to sign in to".into(),
            )),
        }
    }

    /// Asks the platform whose token this is (and its real scopes and expiry).
    async fn identify(
        &self,
        platform: PlatformId,
        tokens: &mut TokenSet,
    ) -> Result<(String, String), PlatformError> {
        match platform {
            PlatformId::Twitch => self.identify_twitch(tokens).await,
            PlatformId::Kick => self.identify_kick(tokens).await,
            PlatformId::Youtube => self.identify_youtube(tokens).await,
            PlatformId::Roadie => Err(PlatformError::NotAvailable(
                "roadie is not a platform to sign in to".into(),
            )),
        }
    }

    /// Revokes both tokens at the platform; whether the access token was revoked.
    async fn revoke(&self, platform: PlatformId, tokens: &TokenSet) -> bool {
        match platform {
            PlatformId::Twitch => self.revoke_twitch(tokens).await,
            PlatformId::Kick => self.revoke_kick(tokens).await,
            PlatformId::Youtube => self.revoke_youtube(tokens).await,
            PlatformId::Roadie => false,
        }
    }

    async fn credential(&self, platform: PlatformId) -> Option<OauthCredential> {
        match self.store.credentials().await {
            Ok(credentials) => credentials
                .into_iter()
                .find(|credential| credential.platform == platform),
            Err(error) => {
                tracing::error!(%error, "cannot read stored sign-ins");
                None
            }
        }
    }

    /// Reads a keystore entry off the async threads (the OS store talks D-Bus).
    /// A secret from the keystore, read off the async threads.
    pub async fn read_secret(&self, key: &str) -> Result<Option<Secret>, PlatformError> {
        let store = self
            .keystore
            .get()
            .map(|opened| opened.store.clone())
            .ok_or_else(|| PlatformError::Internal("the keystore is not available".into()))?;
        let key = key.to_owned();
        tokio::task::spawn_blocking(move || store.get(&key))
            .await
            .map_err(|error| PlatformError::Internal(error.to_string()))?
            .map_err(|error| PlatformError::Internal(error.to_string()))
    }

    async fn run_adapter(&self, platform: PlatformId, adapter: Arc<dyn Platform>) {
        self.stop(platform).await;
        let sink: Arc<dyn PlatformSink> = Arc::new(DaemonSink {
            platform,
            bus: self.bus.clone(),
            store: self.store.clone(),
            automation: self.automation.clone(),
            health: Arc::clone(&self.health),
            states: Arc::clone(&self.states),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(supervise(platform, Arc::clone(&adapter), sink, stopped));
        self.running.lock().await.insert(
            platform,
            Running {
                adapter,
                stop,
                task,
            },
        );
    }

    /// Stops a platform's adapter; at most about a second, as shutdown has 5 s in all.
    async fn stop(&self, platform: PlatformId) {
        self.forget_typed(platform);
        let previous = self.running.lock().await.remove(&platform);
        if let Some(mut running) = previous {
            running.stop.send_replace(true);
            if tokio::time::timeout(Duration::from_secs(1), &mut running.task)
                .await
                .is_err()
            {
                running.task.abort();
            }
        }
    }

    /// Stops every adapter (daemon shutdown).
    pub async fn stop_all(&self) {
        let platforms: Vec<PlatformId> = self.running.lock().await.keys().copied().collect();
        for platform in platforms {
            self.stop(platform).await;
        }
    }

    /// Stores a token set after the platform confirmed it, then (re)starts the adapter.
    pub async fn import(
        &self,
        platform: PlatformId,
        mut tokens: TokenSet,
    ) -> Result<Account, PlatformError> {
        let (user_id, login) = self.identify(platform, &mut tokens).await?;
        tokens.account_id = Some(user_id.clone());
        tokens.account_login = Some(login.clone());
        let credential = OauthCredential {
            platform,
            account_id: user_id.clone(),
            account_login: login.clone(),
            scopes: tokens.scopes.clone(),
            expires_at: tokens.expires_at,
            keystore_key: token_keystore_key(platform, &user_id),
        };
        // One account per platform: forget a previous one.
        if let Some(previous) = self.credential(platform).await
            && previous.account_id != user_id
        {
            self.forget(&previous).await;
        }
        KeystoreTokens {
            keystore: Arc::clone(&self.keystore),
            store: self.store.clone(),
            credential: credential.clone(),
        }
        .save(&tokens)
        .await
        .map_err(PlatformError::Internal)?;
        tracing::info!(%platform, %login, "signed in");
        self.start_platform(credential.clone()).await?;
        Ok(account(&credential))
    }

    async fn forget(&self, credential: &OauthCredential) {
        if let Some(secrets) = self.keystore.get().map(|opened| opened.store.clone()) {
            let key = credential.keystore_key.clone();
            let _ = tokio::task::spawn_blocking(move || secrets.delete(&key)).await;
        }
        let _ = self
            .store
            .delete_credential(credential.platform, credential.account_id.clone())
            .await;
    }

    /// Exchanges a browser-flow code (the daemon holds the client secret), then imports.
    pub async fn exchange(
        &self,
        platform: PlatformId,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<Account, PlatformError> {
        let sign_in = self.sign_in(platform).await?;
        let client = roadie_oauth::Client::new(sign_in.credentials);
        let tokens = client
            .exchange_code(
                &sign_in.token_url,
                code,
                redirect_uri,
                &Secret::new(verifier),
            )
            .await
            .map_err(|error| PlatformError::Upstream(error.to_string()))?;
        self.import(platform, tokens).await
    }

    /// The browser flow's authorize URL, with this platform's scopes.
    pub async fn authorize_url(
        &self,
        platform: PlatformId,
        redirect_uri: &str,
        state: &str,
        challenge: &str,
    ) -> Result<String, PlatformError> {
        let sign_in = self.sign_in(platform).await?;
        roadie_oauth::authorize_url(
            &sign_in.authorize_url,
            &sign_in.credentials.client_id,
            redirect_uri,
            &sign_in.scopes,
            state,
            challenge,
            sign_in.authorize_extra,
        )
        .map_err(|error| PlatformError::Internal(error.to_string()))
    }

    /// Starts a device sign-in; the daemon polls and imports in the background.
    pub async fn device_start(
        self: &Arc<Self>,
        platform: PlatformId,
    ) -> Result<DeviceInstructions, PlatformError> {
        let sign_in = self.sign_in(platform).await?;
        let device = sign_in.device.ok_or_else(|| {
            PlatformError::NotAvailable(format!(
                "{platform} has no device sign-in; run `roadie auth login {platform}` without --device"
            ))
        })?;
        let client = roadie_oauth::Client::new(sign_in.credentials);
        let authorization = client
            .device_start(&device.url, device.flavor, &device.scopes)
            .await
            .map_err(|error| PlatformError::Upstream(error.to_string()))?;
        let instructions = DeviceInstructions {
            verification_uri: authorization.verification_uri.clone(),
            user_code: authorization.user_code.clone(),
            expires_in: authorization.expires_in,
        };
        self.set_device(
            platform,
            format!(
                "waiting for code {} at {}",
                authorization.user_code, authorization.verification_uri
            ),
        );
        let manager = Arc::clone(self);
        let token_url = sign_in.token_url;
        tokio::spawn(async move {
            let poller = client.device_poller(&token_url, device.flavor, &device.scopes);
            let outcome = match poller.poll(&authorization, |_| {}).await {
                Ok(tokens) => manager
                    .import(platform, tokens)
                    .await
                    .map(|account| format!("signed in as {}", account.login)),
                Err(error) => Err(PlatformError::Upstream(error.to_string())),
            };
            match outcome {
                Ok(done) => manager.set_device(platform, done),
                Err(error) => {
                    tracing::warn!(%platform, %error, "device sign-in failed");
                    manager.set_device(platform, format!("failed: {error}"));
                }
            }
        });
        Ok(instructions)
    }

    fn set_device(&self, platform: PlatformId, state: String) {
        if let Ok(mut flows) = self.device_flows.lock() {
            flows.insert(platform, state);
        }
    }

    /// Signs out: stops the adapter, revokes the tokens, deletes them and their metadata.
    pub async fn logout(
        &self,
        platform: PlatformId,
    ) -> Result<(Option<String>, bool), PlatformError> {
        self.stop(platform).await;
        let Some(credential) = self.credential(platform).await else {
            self.set_signed_out(platform);
            return Ok((None, false));
        };
        let mut revoked = false;
        if let Ok(Some(value)) = self.read_secret(&credential.keystore_key).await
            && let Ok(tokens) = TokenSet::from_keystore_value(&value)
        {
            revoked = self.revoke(platform, &tokens).await;
        }
        self.forget(&credential).await;
        self.set_signed_out(platform);
        Ok((Some(credential.account_login), revoked))
    }

    /// The state after a sign-out: a platform without its config section stays
    /// disabled (signing in would not start it), the others need a sign-in.
    fn set_signed_out(&self, platform: PlatformId) {
        if self.configured(platform) {
            self.set_state(
                platform,
                ConnectionState::AuthRequired,
                &format!("signed out; run `roadie auth login {platform}`"),
            );
        } else {
            self.set_not_configured(platform);
        }
    }

    fn set_not_configured(&self, platform: PlatformId) {
        self.set_state(
            platform,
            ConnectionState::Disabled,
            &format!("no [{platform}] section in the config"),
        );
    }

    /// Sends chat on `platform`, or on the one connected platform when `None`.
    pub async fn send_chat(
        &self,
        platform: Option<PlatformId>,
        text: &str,
    ) -> Result<(PlatformId, Vec<String>), PlatformError> {
        let (platform, adapter) = {
            let running = self.running.lock().await;
            let chosen = match platform {
                Some(platform) => running
                    .get(&platform)
                    .map(|entry| (platform, Arc::clone(&entry.adapter))),
                None if running.len() == 1 => running
                    .iter()
                    .next()
                    .map(|(platform, entry)| (*platform, Arc::clone(&entry.adapter))),
                None if running.is_empty() => None,
                None => {
                    return Err(PlatformError::BadRequest(
                        "several platforms are connected; pass --platform".into(),
                    ));
                }
            };
            chosen.ok_or_else(|| {
                PlatformError::NotAvailable(
                    "no connected platform to send to; run `roadie auth status`".into(),
                )
            })?
        };
        adapter
            .send_chat(text)
            .await
            .map(|ids| (platform, ids))
            .map_err(|error| match error {
                ChatError::Refused(reason) => PlatformError::BadRequest(reason),
                ChatError::AuthRequired(reason) => PlatformError::NotAvailable(format!(
                    "{reason}; run `roadie auth login {platform}`"
                )),
                ChatError::Unavailable(reason) => PlatformError::NotAvailable(reason),
                ChatError::Platform(reason) => PlatformError::Upstream(reason),
            })
    }

    /// When a viewer followed the channel on `platform` (`Ok(None)`: not following);
    /// an error when the platform does not say.
    pub async fn followed_at(
        &self,
        platform: PlatformId,
        user_id: &str,
    ) -> Result<Option<Timestamp>, PlatformError> {
        if platform != PlatformId::Twitch {
            return Err(PlatformError::NotAvailable(format!(
                "{platform} does not report follow dates"
            )));
        }
        let (adapter, broadcaster) = self.twitch_rewards()?;
        roadie_platform_twitch::adapter::followed_at(adapter.helix(), &broadcaster, user_id)
            .await
            .map_err(twitch::helix_error)
    }

    /// Settles a redemption of a Roadie-managed reward: on Twitch fulfils or cancels
    /// (refunds) it, on Kick accepts or rejects it.
    pub async fn finish_redemption(
        &self,
        platform: PlatformId,
        reward_id: &str,
        redemption_id: &str,
        fulfilled: bool,
    ) -> Result<(), PlatformError> {
        match platform {
            PlatformId::Twitch => {
                self.finish_twitch_redemption(reward_id, redemption_id, fulfilled)
                    .await
            }
            PlatformId::Kick => self.finish_kick_redemption(redemption_id, fulfilled).await,
            other => Err(PlatformError::NotAvailable(format!(
                "{other} has no redemptions to settle"
            ))),
        }
    }

    /// Forgets the typed handle of a platform's adapter (it is stopping).
    fn forget_typed(&self, platform: PlatformId) {
        match platform {
            PlatformId::Twitch => {
                if let Ok(mut slot) = self.twitch.lock() {
                    *slot = None;
                }
            }
            PlatformId::Kick => {
                if let Ok(mut slot) = self.kick.lock() {
                    *slot = None;
                }
            }
            PlatformId::Youtube => {
                if let Ok(mut slot) = self.youtube.lock() {
                    *slot = None;
                }
            }
            PlatformId::Roadie => {}
        }
    }

    /// Every platform's sign-in state.
    pub async fn status(&self) -> AuthStatus {
        let credentials = self.store.credentials().await.unwrap_or_default();
        let states = self
            .states
            .lock()
            .map(|states| states.clone())
            .unwrap_or_default();
        let flows = self
            .device_flows
            .lock()
            .map(|flows| flows.clone())
            .unwrap_or_default();
        let platforms = [PlatformId::Twitch, PlatformId::Kick, PlatformId::Youtube]
            .into_iter()
            .map(|platform| {
                let (state, detail) = states
                    .get(&platform)
                    .cloned()
                    .unwrap_or((ConnectionState::Disabled, "not started".into()));
                PlatformAuth {
                    platform: platform.to_string(),
                    state: state.to_string(),
                    detail,
                    account: credentials
                        .iter()
                        .find(|credential| credential.platform == platform)
                        .map(account),
                    device_flow: flows.get(&platform).cloned(),
                }
            })
            .collect();
        AuthStatus { platforms }
    }
}

fn account(credential: &OauthCredential) -> Account {
    Account {
        platform: credential.platform.to_string(),
        account_id: credential.account_id.clone(),
        login: credential.account_login.clone(),
        scopes: credential.scopes.clone(),
        expires_at: credential
            .expires_at
            .map(|moment| timefmt::format_ms(moment.unix_ms())),
    }
}

/// Reads a `roadie auth import` body into a token set.
pub fn token_set_from_import(body: &[u8]) -> Result<TokenSet, PlatformError> {
    TokenResponse::parse(body)
        .map(|response| response.into_token_set(now(), None))
        .map_err(|error| PlatformError::BadRequest(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    use roadie_platform::conformance::RecordingSink;
    use roadie_platform::{CapabilityScopes, Shutdown};

    /// Panics in its first two runs, then connects and waits for shutdown.
    #[derive(Default)]
    struct Crashy {
        runs: AtomicU32,
    }

    impl Platform for Crashy {
        fn id(&self) -> PlatformId {
            PlatformId::Twitch
        }

        fn capabilities(&self) -> &'static [CapabilityScopes] {
            &[]
        }

        fn run(
            self: Arc<Self>,
            sink: Arc<dyn PlatformSink>,
            shutdown: Shutdown,
        ) -> BoxFuture<'static, ()> {
            Box::pin(async move {
                let run = self.runs.fetch_add(1, Ordering::SeqCst);
                assert!(run >= 2, "boom {run}");
                sink.status(ConnectionState::Connected, "up".into());
                shutdown.await;
            })
        }

        fn send_chat(&self, _text: &str) -> BoxFuture<'_, Result<Vec<String>, ChatError>> {
            Box::pin(async { Ok(Vec::new()) })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_crashed_adapter_is_reported_and_started_again_until_stopped() {
        let adapter = Arc::new(Crashy::default());
        let sink = Arc::new(RecordingSink::default());
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(supervise(
            PlatformId::Twitch,
            Arc::clone(&adapter) as Arc<dyn Platform>,
            Arc::clone(&sink) as Arc<dyn PlatformSink>,
            stopped,
        ));
        let connected = || {
            sink.states
                .lock()
                .unwrap()
                .iter()
                .any(|(state, _)| *state == ConnectionState::Connected)
        };
        for _ in 0..1000 {
            if connected() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(connected(), "{:?}", sink.states.lock().unwrap());
        let states = sink.states.lock().unwrap().clone();
        assert_eq!(states.len(), 3, "{states:?}");
        for (index, (state, detail)) in states[..2].iter().enumerate() {
            assert_eq!(*state, ConnectionState::Reconnecting);
            assert!(
                detail.starts_with(&format!("crashed (boom {index}")),
                "{detail}"
            );
        }
        assert_eq!(adapter.runs.load(Ordering::SeqCst), 3);

        stop.send_replace(true);
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            adapter.runs.load(Ordering::SeqCst),
            3,
            "started again after the stop"
        );
    }

    #[test]
    fn token_keys_keep_case_sensitive_ids_apart() {
        assert_eq!(
            token_keystore_key(PlatformId::Twitch, "141981764"),
            "oauth.twitch.141981764"
        );
        let upper = token_keystore_key(PlatformId::Youtube, "UCab");
        let lower = token_keystore_key(PlatformId::Youtube, "ucab");
        assert_eq!(upper, "oauth.youtube.x55436162");
        assert_eq!(lower, "oauth.youtube.ucab");
        assert!(roadie_keystore::validate_key(&upper).is_ok());
    }
}
