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
use roadie_oauth::{ClientCredentials, DeviceFlavor, TokenResponse, TokenSet};
use roadie_platform::{AnalyticsSample, BoxFuture, ChatError, Platform, PlatformSink};
use roadie_platform_twitch::adapter::{
    TokenStore, TwitchAdapter, TwitchSettings, TwitchTokens, validate,
};
use roadie_platform_twitch::helix::{CustomReward, HelixError, RewardChanges};
use roadie_protocol::{
    Account, AuthStatus, ComponentState, DeviceInstructions, PlatformAuth, timefmt,
};
use roadie_store::{OauthCredential, Store, StreamSample};
use tokio::sync::oneshot;

use crate::automation::Automation;
use crate::bus::EventBus;
use crate::health::HealthBoard;
use crate::keystore::KeystoreSlot;

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
    stop: Option<oneshot::Sender<()>>,
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
    /// The running Twitch adapter, typed: rewards are Twitch-only so far.
    twitch: Mutex<Option<Arc<TwitchAdapter>>>,
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
    let changed = states
        .lock()
        .map(|mut states| {
            states
                .insert(platform, (state, detail.to_owned()))
                .is_none_or(|(previous, _)| previous != state)
        })
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
            if let Err(error) = bus.publish(event).await {
                tracing::warn!(%error, "could not record a platform status change");
            }
        });
    }
}

impl PlatformSink for DaemonSink {
    fn event(&self, event: Event) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // Stream sessions for per-stream reports.
            let session = match &event.kind {
                EventKind::StreamOnline { title, category } => self
                    .store
                    .stream_online(self.platform, event.at, title.clone(), category.clone())
                    .await
                    .map(|_| ()),
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
            let for_automation = self.automation.wants(&event).then(|| event.clone());
            if let Err(error) = self.bus.publish(event).await {
                tracing::error!(%error, platform = %self.platform, "could not store a platform event");
            }
            if let Some(event) = for_automation {
                self.automation.observe(event).await;
            }
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
            if let Err(error) = self.store.add_stream_sample(self.platform, sample).await {
                tracing::warn!(%error, platform = %self.platform, "could not store an analytics sample");
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
        if self.config.twitch.is_some() && self.keystore.get().is_none() {
            let problem = self.keystore.problem().unwrap_or_else(|| "not open".into());
            self.set_state(
                PlatformId::Twitch,
                ConnectionState::AuthRequired,
                &format!("the keystore is not available ({problem}); the sign-in cannot be read"),
            );
        } else if self.config.twitch.is_some() {
            match self.credential(PlatformId::Twitch).await {
                Some(credential) => {
                    if let Err(error) = self.start_twitch(credential).await {
                        self.set_state(
                            PlatformId::Twitch,
                            ConnectionState::AuthRequired,
                            &format!("{error}; run `roadie auth login twitch`"),
                        );
                    }
                }
                None => self.set_state(
                    PlatformId::Twitch,
                    ConnectionState::AuthRequired,
                    "not signed in; run `roadie auth login twitch`",
                ),
            }
        } else {
            self.set_state(
                PlatformId::Twitch,
                ConnectionState::Disabled,
                "no [twitch] section in the config",
            );
        }
        for (platform, configured) in [
            (PlatformId::Kick, self.config.kick.is_some()),
            (PlatformId::Youtube, self.config.youtube.is_some()),
        ] {
            let detail = if configured {
                "configured, but this build does not connect to it yet"
            } else {
                "not configured"
            };
            self.set_state(platform, ConnectionState::Disabled, detail);
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

    async fn twitch_settings(&self) -> Result<TwitchSettings, PlatformError> {
        let twitch = self.config.twitch.as_ref().ok_or_else(|| {
            PlatformError::NotAvailable(
                "Twitch is not configured: add a [twitch] section with your app's client_id".into(),
            )
        })?;
        let client_secret = match &twitch.client_secret {
            Some(secret) => Some(secret.clone()),
            None => self
                .read_secret("twitch.client_secret")
                .await
                .ok()
                .flatten(),
        };
        Ok(TwitchSettings {
            client_id: twitch.client_id.clone(),
            client_secret,
            auth_url: twitch.auth_url.clone(),
            helix_url: twitch.helix_url.clone(),
            eventsub_url: twitch.eventsub_url.clone(),
            poll_every: Duration::from_secs(u64::from(twitch.poll_seconds)),
            clock_check_every: roadie_platform_twitch::adapter::CLOCK_CHECK_EVERY,
            wall_clock: roadie_platform_twitch::adapter::WallClock::system(),
        })
    }

    async fn start_twitch(&self, credential: OauthCredential) -> Result<(), PlatformError> {
        let settings = self.twitch_settings().await?;
        let stored = self
            .read_secret(&credential.keystore_key)
            .await?
            .ok_or_else(|| {
                PlatformError::Internal("the stored sign-in has no token in the keystore".into())
            })?;
        let tokens = TokenSet::from_keystore_value(&stored)
            .map_err(|error| PlatformError::Internal(error.to_string()))?;
        let token_store = Arc::new(KeystoreTokens {
            keystore: Arc::clone(&self.keystore),
            store: self.store.clone(),
            credential,
        });
        let twitch = Arc::new(TwitchAdapter::new(
            settings.clone(),
            Arc::new(TwitchTokens::new(&settings, tokens, token_store)),
        ));
        let adapter: Arc<dyn Platform> = Arc::clone(&twitch) as Arc<dyn Platform>;
        self.run_adapter(PlatformId::Twitch, adapter).await;
        // After `run_adapter`, which stops (and forgets) a previous adapter first.
        if let Ok(mut slot) = self.twitch.lock() {
            *slot = Some(twitch);
        }
        Ok(())
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
        let (stop, stopped) = oneshot::channel::<()>();
        let run = Arc::clone(&adapter).run(
            sink,
            Box::pin(async move {
                let _ = stopped.await;
            }),
        );
        let task = tokio::spawn(run);
        self.running.lock().await.insert(
            platform,
            Running {
                adapter,
                stop: Some(stop),
                task,
            },
        );
    }

    /// Stops a platform's adapter; at most about a second, as shutdown has 5 s in all.
    async fn stop(&self, platform: PlatformId) {
        if platform == PlatformId::Twitch
            && let Ok(mut slot) = self.twitch.lock()
        {
            *slot = None;
        }
        let previous = self.running.lock().await.remove(&platform);
        if let Some(mut running) = previous {
            if let Some(stop) = running.stop.take() {
                let _ = stop.send(());
            }
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
        if platform != PlatformId::Twitch {
            return Err(PlatformError::NotAvailable(format!(
                "{platform} sign-in is not supported by this build yet"
            )));
        }
        let settings = self.twitch_settings().await?;
        let validation = validate(&self.http, &settings.auth_url, &tokens.access_token)
            .await
            .map_err(|error| {
                PlatformError::Upstream(format!("cannot validate the token with Twitch: {error}"))
            })?
            .ok_or_else(|| {
                PlatformError::BadRequest("Twitch rejects this token (invalid or expired)".into())
            })?;
        let (Some(user_id), Some(login)) = (validation.user_id, validation.login) else {
            return Err(PlatformError::BadRequest(
                "this is an app token; sign in as the broadcaster instead".into(),
            ));
        };
        if !validation.scopes.is_empty() {
            tokens.scopes = validation.scopes;
        }
        if let Some(seconds) = validation.expires_in {
            tokens.expires_at = Some(Timestamp(
                roadie_store::now_ms() + i64::try_from(seconds).unwrap_or(0) * 1000,
            ));
        }
        tokens.account_id = Some(user_id.clone());
        tokens.account_login = Some(login.clone());
        let credential = OauthCredential {
            platform,
            account_id: user_id.clone(),
            account_login: login.clone(),
            scopes: tokens.scopes.clone(),
            expires_at: tokens.expires_at,
            keystore_key: format!("oauth.{platform}.{user_id}"),
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
        self.start_twitch(credential.clone()).await?;
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
        let settings = self.twitch_settings_for(platform).await?;
        let client = roadie_oauth::Client::new(ClientCredentials {
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
        });
        let tokens = client
            .exchange_code(
                &format!("{}/token", settings.auth_url),
                code,
                redirect_uri,
                &Secret::new(verifier),
            )
            .await
            .map_err(|error| PlatformError::Upstream(error.to_string()))?;
        self.import(platform, tokens).await
    }

    async fn twitch_settings_for(
        &self,
        platform: PlatformId,
    ) -> Result<TwitchSettings, PlatformError> {
        if platform != PlatformId::Twitch {
            return Err(PlatformError::NotAvailable(format!(
                "{platform} sign-in is not supported by this build yet"
            )));
        }
        self.twitch_settings().await
    }

    /// The browser flow's authorize URL, with this platform's scopes.
    pub async fn authorize_url(
        &self,
        platform: PlatformId,
        redirect_uri: &str,
        state: &str,
        challenge: &str,
    ) -> Result<String, PlatformError> {
        let settings = self.twitch_settings_for(platform).await?;
        let scopes = roadie_platform::all_scopes(roadie_platform_twitch::adapter::CAPABILITIES);
        roadie_oauth::authorize_url(
            &format!("{}/authorize", settings.auth_url),
            &settings.client_id,
            redirect_uri,
            &scopes,
            state,
            challenge,
            &[("force_verify", "true")],
        )
        .map_err(|error| PlatformError::Internal(error.to_string()))
    }

    /// Starts a device sign-in; the daemon polls and imports in the background.
    pub async fn device_start(
        self: &Arc<Self>,
        platform: PlatformId,
    ) -> Result<DeviceInstructions, PlatformError> {
        let settings = self.twitch_settings_for(platform).await?;
        let client = roadie_oauth::Client::new(ClientCredentials {
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
        });
        let scopes = roadie_platform::all_scopes(roadie_platform_twitch::adapter::CAPABILITIES);
        let authorization = client
            .device_start(
                &format!("{}/device", settings.auth_url),
                DeviceFlavor::Twitch,
                &scopes,
            )
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
        let token_url = format!("{}/token", settings.auth_url);
        tokio::spawn(async move {
            let poller = client.device_poller(&token_url, DeviceFlavor::Twitch, &scopes);
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
            self.set_state(
                platform,
                ConnectionState::AuthRequired,
                &format!("signed out; run `roadie auth login {platform}`"),
            );
            return Ok((None, false));
        };
        let mut revoked = false;
        if platform == PlatformId::Twitch
            && let Ok(settings) = self.twitch_settings().await
            && let Ok(Some(value)) = self.read_secret(&credential.keystore_key).await
            && let Ok(tokens) = TokenSet::from_keystore_value(&value)
        {
            let client = roadie_oauth::Client::new(ClientCredentials {
                client_id: settings.client_id.clone(),
                client_secret: None,
            });
            let revoke_url = format!("{}/revoke", settings.auth_url);
            revoked = client
                .revoke(&revoke_url, &tokens.access_token)
                .await
                .is_ok();
            if let Some(refresh) = &tokens.refresh_token {
                let _ = client.revoke(&revoke_url, refresh).await;
            }
        }
        self.forget(&credential).await;
        self.set_state(
            platform,
            ConnectionState::AuthRequired,
            &format!("signed out; run `roadie auth login {platform}`"),
        );
        Ok((Some(credential.account_login), revoked))
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

    fn twitch_rewards(&self) -> Result<(Arc<TwitchAdapter>, String), PlatformError> {
        let adapter = self
            .twitch
            .lock()
            .ok()
            .and_then(|slot| slot.clone())
            .ok_or_else(|| {
                PlatformError::NotAvailable(
                    "Twitch is not signed in; run `roadie auth login twitch`".into(),
                )
            })?;
        let broadcaster = adapter.account_id().ok_or_else(|| {
            PlatformError::NotAvailable("the Twitch account is not known yet".into())
        })?;
        Ok((adapter, broadcaster))
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
            .map_err(helix_error)
    }

    /// Roadie's own Twitch rewards.
    pub async fn rewards(&self) -> Result<Vec<CustomReward>, PlatformError> {
        let (adapter, broadcaster) = self.twitch_rewards()?;
        adapter
            .helix()
            .own_rewards(&broadcaster)
            .await
            .map_err(helix_error)
    }

    /// Creates (`reward_id` None) or updates one of Roadie's Twitch rewards.
    pub async fn change_reward(
        &self,
        reward_id: Option<&str>,
        changes: RewardChanges,
    ) -> Result<CustomReward, PlatformError> {
        let (adapter, broadcaster) = self.twitch_rewards()?;
        let helix = adapter.helix();
        match reward_id {
            None => helix.create_reward(&broadcaster, &changes).await,
            Some(id) => helix.update_reward(&broadcaster, id, &changes).await,
        }
        .map_err(helix_error)
    }

    /// Fulfils or cancels (refunds) a redemption of one of Roadie's Twitch rewards.
    pub async fn finish_redemption(
        &self,
        reward_id: &str,
        redemption_id: &str,
        fulfilled: bool,
    ) -> Result<(), PlatformError> {
        let (adapter, broadcaster) = self.twitch_rewards()?;
        adapter
            .helix()
            .finish_redemption(&broadcaster, reward_id, redemption_id, fulfilled)
            .await
            .map_err(helix_error)
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

fn helix_error(error: HelixError) -> PlatformError {
    match error {
        HelixError::Api {
            status: 400..=499,
            message,
        } => PlatformError::BadRequest(message),
        HelixError::AuthRequired(reason) => {
            PlatformError::NotAvailable(format!("{reason}; run `roadie auth login twitch`"))
        }
        other => PlatformError::Upstream(other.to_string()),
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
