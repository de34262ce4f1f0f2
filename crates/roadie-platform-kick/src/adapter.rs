//! The Kick adapter: the `Platform` strategy for Kick. `run` reads the Pusher feed,
//! polls the viewer count while live, and hands webhooks verified by
//! [`KickAdapter::ingest_webhook`] to the same sink; one de-duplication window serves
//! both routes. Chat goes out through the public API as `bot`, falling back to `user`
//! for the rest of the session when `bot` answers HTTP 500 (a known Kick problem). A
//! 401 anywhere refreshes the token once (rotating both tokens, stored before use); a
//! refused refresh reports `auth_required` and stops the connection until the daemon
//! restarts it after a new sign-in.
//!
//! Chat longer than 500 characters is refused with the reason, not split: a split
//! message reads badly in Kick's chat and a command reply that long is a template
//! mistake worth seeing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use roadie_core::{ConnectionState, Event, EventKind, Secret, Timestamp};
use roadie_oauth::RotatingTokens;
use roadie_platform::{
    AnalyticsSample, BoxFuture, Capability, CapabilityScopes, ChatError, Platform, PlatformSink,
    Shutdown,
};
use rsa::RsaPublicKey;
use tokio::sync::{mpsc, watch};

use crate::KickError;
use crate::api::{ChatAs, KickApi, PendingRedemption};
use crate::dedup::{DedupKey, EventDedup};
use crate::normalise::{Normalised, now_ms, unix_ms};
use crate::pusher::ChannelIds;
use crate::pusher::session::{self, SessionConfig, SessionUpdate};
use crate::webhook::{
    TIMESTAMP_TOLERANCE, WebhookError, WebhookGuard, WebhookHeaders, parse_body, parse_public_key,
};

/// What Kick needs for each capability. Reading chat needs no token (the Pusher feed
/// is public), but the adapter identifies the account (`user:read`) and checks the
/// channel (`channel:read`). Kick cannot list chatters: no `ChatterList`.
pub const CAPABILITIES: &[CapabilityScopes] = &[
    CapabilityScopes {
        capability: Capability::ChatRead,
        scopes: &["user:read", "channel:read"],
    },
    CapabilityScopes {
        capability: Capability::ChatSend,
        scopes: &["chat:write"],
    },
    CapabilityScopes {
        capability: Capability::Events,
        scopes: &["events:subscribe"],
    },
    CapabilityScopes {
        capability: Capability::Rewards,
        scopes: &["channel:rewards:read", "channel:rewards:write"],
    },
    CapabilityScopes {
        capability: Capability::Polling,
        scopes: &["channel:read"],
    },
];

/// The least time between two fetches of Kick's webhook key after a bad signature.
const KEY_REFETCH_AFTER: Duration = Duration::from_secs(600);

/// Kick's longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 500;

/// Kick's viewer count updates slowly; polling faster buys nothing.
pub const POLL_EVERY: Duration = Duration::from_secs(60);

/// The default Pusher URL (Kick's app key on cluster us2).
pub const DEFAULT_PUSHER_URL: &str = "wss://ws-us2.pusher.com/app/32cbd69e4b950bf97679?protocol=7&client=js&version=8.4.0&flash=false";

/// Endpoints, the app's identity, the channel, and timings.
#[derive(Debug, Clone)]
pub struct KickSettings {
    /// The app's client id.
    pub client_id: String,
    /// The app's secret (Kick requires it even with PKCE).
    pub client_secret: Secret,
    /// The channel's slug.
    pub channel: String,
    /// `https://id.kick.com`.
    pub auth_url: String,
    /// `https://api.kick.com/public/v1`.
    pub api_url: String,
    /// The Pusher WebSocket URL ([`DEFAULT_PUSHER_URL`]).
    pub pusher_url: String,
    /// `https://kick.com/api/v2/channels` (`<url>/<slug>` gives the chatroom id).
    pub channel_info_url: String,
    /// How often the viewer count is polled while live ([`POLL_EVERY`]).
    pub poll_every: Duration,
    /// First reconnect delay of the Pusher feed (doubles per failure).
    pub backoff_initial: Duration,
    /// Longest ordinary reconnect delay.
    pub backoff_max: Duration,
    /// The wait after Pusher closes with 4000–4099 ("do not reconnect unchanged").
    pub refused_retry: Duration,
    /// How long after a `pusher:ping` the pong may take.
    pub pong_timeout: Duration,
    /// The longest idle time before pinging, whatever Pusher announces.
    pub activity_timeout_cap: Duration,
    /// How long connecting (and the subscription confirmations) may take.
    pub connect_timeout: Duration,
    /// How many ids and derived keys the de-duplication window remembers.
    pub dedup_capacity: usize,
    /// How close in time two routes' reports of one occurrence are (derived keys).
    pub cross_route_window: Duration,
    /// How far a webhook's timestamp may be from now ([`TIMESTAMP_TOLERANCE`]).
    pub webhook_tolerance: Duration,
    /// Kick's webhook public key (PEM); `None` fetches it from `{api_url}/public-key`.
    pub webhook_public_key: Option<String>,
    /// Subscribe the webhook events Roadie reads (`[kick] webhook = true`): Kick sends
    /// an app's webhooks only for subscribed events. Default false.
    pub subscribe_webhooks: bool,
    /// The chatroom and channel ids, when the user configured them: the Pusher feed
    /// then skips the channel-information lookup (which Cloudflare may refuse).
    pub known_ids: Option<ChannelIds>,
}

impl KickSettings {
    /// Settings for the app and channel, everything else at the SPEC's defaults.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: Secret,
        channel: impl Into<String>,
    ) -> KickSettings {
        KickSettings {
            client_id: client_id.into(),
            client_secret,
            channel: channel.into(),
            auth_url: "https://id.kick.com".into(),
            api_url: "https://api.kick.com/public/v1".into(),
            pusher_url: DEFAULT_PUSHER_URL.into(),
            channel_info_url: "https://kick.com/api/v2/channels".into(),
            poll_every: POLL_EVERY,
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            refused_retry: Duration::from_secs(600),
            pong_timeout: Duration::from_secs(30),
            activity_timeout_cap: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            dedup_capacity: 4096,
            cross_route_window: Duration::from_secs(120),
            webhook_tolerance: TIMESTAMP_TOLERANCE,
            webhook_public_key: None,
            subscribe_webhooks: false,
            known_ids: None,
        }
    }

    fn session_config(&self) -> SessionConfig {
        let mut config = SessionConfig::new(
            self.pusher_url.clone(),
            self.channel_info_url.clone(),
            self.channel.clone(),
        );
        config.connect_timeout = self.connect_timeout;
        config.subscribe_timeout = self.connect_timeout;
        config.backoff_initial = self.backoff_initial;
        config.backoff_max = self.backoff_max;
        config.refused_retry = self.refused_retry;
        config.pong_timeout = self.pong_timeout;
        config.activity_timeout_cap = self.activity_timeout_cap;
        config.known_ids = self.known_ids.clone();
        config
    }
}

/// Checks chat text: trimmed, not empty, at most [`MAX_CHAT_CHARS`] characters; the
/// error is the reason.
pub fn check_chat_text(text: &str) -> Result<&str, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the message is empty".into());
    }
    let chars = trimmed.chars().count();
    if chars > MAX_CHAT_CHARS {
        return Err(format!(
            "Kick chat messages are at most {MAX_CHAT_CHARS} characters; this one has {chars}"
        ));
    }
    Ok(trimmed)
}

/// The running connection's sink, and how to tell it the sign-in is gone.
#[derive(Clone)]
struct Running {
    id: u64,
    sink: Arc<dyn PlatformSink>,
    auth_lost: watch::Sender<Option<String>>,
}

enum Outcome {
    Shutdown,
    AuthRequired(String),
}

/// The Kick platform.
pub struct KickAdapter {
    settings: KickSettings,
    api: Arc<KickApi>,
    /// For the token-less endpoints (channel information, Pusher).
    http: reqwest::Client,
    dedup: Mutex<EventDedup>,
    guard: Mutex<WebhookGuard>,
    /// Kick's webhook key: injected, or fetched once and cached.
    public_key: Mutex<Option<RsaPublicKey>>,
    key_injected: bool,
    /// When the key was last fetched: forged deliveries must not make Roadie fetch it
    /// over and over.
    key_fetched_at: Mutex<Option<std::time::Instant>>,
    running: Mutex<Option<Running>>,
    runs: AtomicU64,
    /// Set once `type: bot` answered 500: chat goes as `user` for the session.
    chat_as_user: AtomicBool,
    broadcaster_id: Mutex<Option<String>>,
    /// One chat send at a time, so the bot/user fallback is decided once.
    send_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for KickAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KickAdapter")
            .field("channel", &self.settings.channel)
            .field("api", &self.settings.api_url)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Resolves once shutdown is requested (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

impl KickAdapter {
    /// An adapter for the signed-in account in `tokens` (see
    /// [`crate::oauth::rotating_tokens`]).
    pub fn new(settings: KickSettings, tokens: Arc<RotatingTokens>) -> KickAdapter {
        let api = Arc::new(KickApi::new(&settings.api_url, tokens));
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("Roadie/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        let injected =
            settings
                .webhook_public_key
                .as_deref()
                .and_then(|pem| match parse_public_key(pem) {
                    Ok(key) => Some(key),
                    Err(error) => {
                        tracing::warn!(%error, "the configured Kick webhook key is unusable");
                        None
                    }
                });
        KickAdapter {
            dedup: Mutex::new(EventDedup::new(
                settings.dedup_capacity,
                settings.cross_route_window,
            )),
            guard: Mutex::new(WebhookGuard::new(
                settings.dedup_capacity,
                settings.webhook_tolerance,
            )),
            key_injected: settings.webhook_public_key.is_some(),
            key_fetched_at: Mutex::new(None),
            public_key: Mutex::new(injected),
            settings,
            api,
            http,
            running: Mutex::new(None),
            runs: AtomicU64::new(0),
            chat_as_user: AtomicBool::new(false),
            broadcaster_id: Mutex::new(None),
            send_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &KickSettings {
        &self.settings
    }

    /// The public API client.
    pub fn api(&self) -> &Arc<KickApi> {
        &self.api
    }

    /// The signed-in account's id, once known.
    pub fn account_id(&self) -> Option<String> {
        self.api
            .tokens()
            .snapshot()
            .and_then(|tokens| tokens.account_id)
    }

    /// True once chat is sent as `user` because `bot` failed.
    pub fn chats_as_user(&self) -> bool {
        self.chat_as_user.load(Ordering::SeqCst)
    }

    fn running(&self) -> Option<Running> {
        lock(&self.running).clone()
    }

    /// Tells the running connection that the sign-in is gone.
    fn report_auth_lost(&self, reason: &str) {
        if let Some(running) = self.running() {
            let _ = running.auth_lost.send(Some(reason.to_owned()));
        }
    }

    fn remember_broadcaster(&self, id: Option<String>) {
        if let Some(id) = id.filter(|id| !id.is_empty()) {
            *lock(&self.broadcaster_id) = Some(id);
        }
    }

    /// The broadcaster's user id: cached, or looked up with `GET /channels?slug=`.
    pub async fn broadcaster_user_id(&self) -> Result<String, KickError> {
        if let Some(id) = lock(&self.broadcaster_id).clone() {
            return Ok(id);
        }
        let state = self
            .api
            .channel(&self.settings.channel)
            .await?
            .ok_or_else(|| {
                KickError::Refused(format!("Kick has no channel {:?}", self.settings.channel))
            })?;
        let id = state
            .broadcaster_user_id
            .ok_or_else(|| KickError::Malformed("the channel has no broadcaster_user_id".into()))?;
        self.remember_broadcaster(Some(id.clone()));
        Ok(id)
    }

    /// Emits `event` unless it was heard already (on either route); true if emitted.
    async fn emit(&self, sink: &Arc<dyn PlatformSink>, event: Normalised, heard_ms: i64) -> bool {
        let fresh = lock(&self.dedup).admit(&event.keys, heard_ms);
        if !fresh {
            tracing::debug!(keys = ?event.keys, "dropped a Kick event heard before");
            return false;
        }
        sink.event(Event {
            platform: roadie_core::Platform::Kick,
            at: event.at.unwrap_or(Timestamp(heard_ms)),
            kind: event.kind,
        })
        .await;
        true
    }

    /// Kick's webhook key: injected, cached, or fetched (again when `refetch`).
    async fn webhook_key(&self, refetch: bool) -> Result<RsaPublicKey, WebhookError> {
        if !refetch || self.key_injected {
            if let Some(key) = lock(&self.public_key).clone() {
                return Ok(key);
            }
            if self.key_injected {
                return Err(WebhookError::PublicKey(
                    "the configured key is not a PEM RSA public key".into(),
                ));
            }
        }
        let pem = self
            .api
            .public_key()
            .await
            .map_err(|error| WebhookError::PublicKey(error.to_string()))?;
        *lock(&self.key_fetched_at) = Some(std::time::Instant::now());
        let key = parse_public_key(&pem)?;
        *lock(&self.public_key) = Some(key.clone());
        Ok(key)
    }

    /// Verifies a webhook delivery (signature, timestamp within five minutes of `now`,
    /// message id not seen before), normalises it and hands its events to the running
    /// connection's sink, skipping any already heard on the Pusher feed. Returns how
    /// many events were emitted (0 for a duplicate or an uninteresting type).
    pub async fn ingest_webhook(
        &self,
        headers: &WebhookHeaders,
        body: &[u8],
        now: SystemTime,
    ) -> Result<usize, WebhookError> {
        let Some(running) = self.running() else {
            return Err(WebhookError::NotRunning);
        };
        let key = self.webhook_key(false).await?;
        let checked = lock(&self.guard).check(&key, headers, body, now);
        match checked {
            Ok(()) => {}
            // Kick may have rotated its key: fetch it once more before refusing (at most
            // every ten minutes).
            Err(WebhookError::BadSignature)
                if !self.key_injected
                    && lock(&self.key_fetched_at)
                        .is_none_or(|at| at.elapsed() >= KEY_REFETCH_AFTER) =>
            {
                let fresh = self.webhook_key(true).await?;
                if fresh == key {
                    return Err(WebhookError::BadSignature);
                }
                lock(&self.guard).check(&fresh, headers, body, now)?;
            }
            Err(error) => return Err(error),
        }
        let events = parse_body(&headers.event_type, body)?;
        let heard = unix_ms(now);
        let mut emitted = 0;
        for event in events {
            if self.emit(&running.sink, event, heard).await {
                emitted += 1;
            }
        }
        Ok(emitted)
    }

    /// Accepts (`accept`) or rejects a reward redemption.
    pub async fn finish_redemption(
        &self,
        redemption_id: &str,
        accept: bool,
    ) -> Result<(), KickError> {
        let id = redemption_id.trim();
        if id.is_empty() {
            return Err(KickError::Refused(
                "no redemption id (Kick's chat feed did not give one for this redemption)".into(),
            ));
        }
        let result = self.api.finish_redemptions(&[id], accept).await;
        if let Err(KickError::AuthRequired(reason)) = &result {
            self.report_auth_lost(reason);
        }
        result
    }

    /// One poll: while live, a `viewers` event and an analytics sample.
    async fn poll_once(&self, sink: &Arc<dyn PlatformSink>) -> Result<(), KickError> {
        let Some(state) = self.api.channel(&self.settings.channel).await? else {
            tracing::debug!(channel = %self.settings.channel, "Kick lists no such channel");
            return Ok(());
        };
        self.remember_broadcaster(state.broadcaster_user_id.clone());
        let (true, Some(viewers)) = (state.is_live, state.viewer_count) else {
            return Ok(());
        };
        let at = Timestamp(now_ms());
        sink.event(Event {
            platform: roadie_core::Platform::Kick,
            at,
            kind: EventKind::Viewers { count: viewers },
        })
        .await;
        sink.analytics(AnalyticsSample {
            at,
            viewers: Some(viewers),
            followers: None,
            chatters: None,
        })
        .await;
        Ok(())
    }

    /// Fills in a Pusher redemption's missing id from the pending list: the newest
    /// pending redemption of that reward title by that user.
    async fn complete_redemption(&self, mut event: Normalised) -> Normalised {
        let EventKind::Redemption {
            redemption_id,
            user,
            reward,
            ..
        } = &mut event.kind
        else {
            return event;
        };
        let pending = match tokio::time::timeout(
            Duration::from_secs(5),
            self.api.pending_redemptions(),
        )
        .await
        {
            Ok(Ok(pending)) => pending,
            Ok(Err(error)) => {
                tracing::debug!(%error, "could not look up the redemption's id");
                return event;
            }
            Err(_) => return event,
        };
        let best: Option<&PendingRedemption> = pending
            .iter()
            .filter(|candidate| {
                candidate.user_id == user.id
                    && candidate.reward_title.eq_ignore_ascii_case(&reward.title)
            })
            .max_by(|a, b| a.redeemed_at.cmp(&b.redeemed_at));
        if let Some(found) = best {
            *redemption_id = found.id.clone();
            if reward.id.is_empty() {
                reward.id = found.reward_id.clone();
            }
            if reward.cost == 0 {
                reward.cost = found.reward_cost;
            }
            event
                .keys
                .push(DedupKey::Id(format!("redemption:{}:unfulfilled", found.id)));
        }
        event
    }

    async fn on_pusher_event(self: &Arc<Self>, sink: &Arc<dyn PlatformSink>, event: Normalised) {
        let heard = now_ms();
        let needs_id = matches!(&event.kind, EventKind::Redemption { redemption_id, .. } if redemption_id.is_empty());
        if !needs_id {
            self.emit(sink, event, heard).await;
            return;
        }
        // The lookup must not hold up the chat behind it.
        let this = Arc::clone(self);
        let sink = Arc::clone(sink);
        tokio::spawn(async move {
            let event = this.complete_redemption(event).await;
            this.emit(&sink, event, heard).await;
        });
    }

    /// Subscribes the missing webhook events, retrying with backoff until Kick has
    /// answered; events Kick refuses are logged with its reason (the Pusher feed still
    /// carries them).
    async fn keep_webhooks_subscribed(&self, auth_lost: watch::Sender<Option<String>>) {
        let mut wait = self
            .settings
            .backoff_initial
            .max(Duration::from_millis(100));
        loop {
            let attempt = async {
                let broadcaster = self.broadcaster_user_id().await?;
                self.api.ensure_webhook_subscriptions(&broadcaster).await
            };
            match attempt.await {
                Ok(refused) if refused.is_empty() => {
                    tracing::info!("Kick webhook events are subscribed");
                    return;
                }
                Ok(refused) => {
                    for (event, reason) in refused {
                        tracing::warn!(%event, %reason, "Kick refused a webhook subscription; that event arrives by the Pusher feed only");
                    }
                    return;
                }
                Err(KickError::AuthRequired(reason)) => {
                    let _ = auth_lost.send(Some(reason));
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?wait, "cannot subscribe Kick's webhook events yet");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(self.settings.backoff_max);
                }
            }
        }
    }

    async fn run_connected(
        self: &Arc<Self>,
        sink: &Arc<dyn PlatformSink>,
        shutdown: &mut watch::Receiver<bool>,
        auth_watch: &mut watch::Receiver<Option<String>>,
        auth_lost: watch::Sender<Option<String>>,
    ) -> Outcome {
        let subscriber = self.settings.subscribe_webhooks.then(|| {
            let this = Arc::clone(self);
            let auth_lost = auth_lost.clone();
            tokio::spawn(async move { this.keep_webhooks_subscribed(auth_lost).await })
        });
        // The first poll also checks the sign-in (a 401 refreshes; a refused refresh
        // ends the connection with auth_required).
        let poller = {
            let this = Arc::clone(self);
            let sink = Arc::clone(sink);
            let every = self.settings.poll_every.max(Duration::from_millis(100));
            tokio::spawn(async move {
                let mut timer = tokio::time::interval(every);
                timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    timer.tick().await;
                    match this.poll_once(&sink).await {
                        Ok(()) => {}
                        Err(KickError::AuthRequired(reason)) => {
                            let _ = auth_lost.send(Some(reason));
                            return;
                        }
                        Err(error) => tracing::debug!(%error, "polling Kick failed"),
                    }
                }
            })
        };
        let (updates_sender, mut updates) = mpsc::channel(1024);
        let (stop_session, session_stopped) = watch::channel(false);
        let session = tokio::spawn(session::run(
            self.settings.session_config(),
            self.http.clone(),
            updates_sender,
            session_stopped,
        ));
        let mut auth_open = true;
        let outcome = loop {
            tokio::select! {
                update = updates.recv() => match update {
                    Some(SessionUpdate::Event(event)) => self.on_pusher_event(sink, event).await,
                    Some(SessionUpdate::Connected { detail }) => sink.status(ConnectionState::Connected, detail),
                    Some(SessionUpdate::Reconnecting { reason, .. }) => sink.status(ConnectionState::Reconnecting, reason),
                    Some(SessionUpdate::Resolved(ids)) => self.remember_broadcaster(Some(ids.user_id)),
                    None => break Outcome::Shutdown,
                },
                changed = auth_watch.changed(), if auth_open => {
                    if changed.is_err() {
                        auth_open = false;
                    } else if let Some(reason) = auth_watch.borrow_and_update().clone() {
                        break Outcome::AuthRequired(reason);
                    }
                }
                () = stopped(shutdown) => break Outcome::Shutdown,
            }
        };
        poller.abort();
        if let Some(subscriber) = subscriber {
            subscriber.abort();
        }
        let _ = stop_session.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(2), session).await;
        outcome
    }
}

impl Platform for KickAdapter {
    fn id(&self) -> roadie_core::Platform {
        roadie_core::Platform::Kick
    }

    fn capabilities(&self) -> &'static [CapabilityScopes] {
        CAPABILITIES
    }

    fn run(
        self: Arc<Self>,
        sink: Arc<dyn PlatformSink>,
        shutdown: Shutdown,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let (stop, mut stopped_watch) = watch::channel(false);
            let stopper = tokio::spawn(async move {
                shutdown.await;
                let _ = stop.send(true);
            });
            let (auth_lost, mut auth_watch) = watch::channel(None::<String>);
            let run_id = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
            *lock(&self.running) = Some(Running {
                id: run_id,
                sink: Arc::clone(&sink),
                auth_lost: auth_lost.clone(),
            });
            sink.status(
                ConnectionState::Reconnecting,
                format!("connecting to Kick (channel {})", self.settings.channel),
            );
            let outcome = self
                .run_connected(&sink, &mut stopped_watch, &mut auth_watch, auth_lost)
                .await;
            if let Outcome::AuthRequired(reason) = outcome {
                tracing::error!(%reason, "Kick needs a new sign-in: run `roadie auth login kick`");
                sink.status(
                    ConnectionState::AuthRequired,
                    format!("{reason}; run `roadie auth login kick`"),
                );
                stopped(&mut stopped_watch).await;
            }
            {
                let mut running = lock(&self.running);
                if running.as_ref().is_some_and(|running| running.id == run_id) {
                    *running = None;
                }
            }
            stopper.abort();
        })
    }

    fn send_chat(&self, text: &str) -> BoxFuture<'_, Result<Vec<String>, ChatError>> {
        let text = text.to_owned();
        Box::pin(async move {
            let content = check_chat_text(&text).map_err(ChatError::Refused)?;
            let _one_at_a_time = self.send_lock.lock().await;
            let result = self.send_chat_content(content).await;
            match result {
                Ok(sent) if sent.is_sent => Ok(sent.message_id.into_iter().collect()),
                Ok(sent) => Err(ChatError::Platform(if sent.message.is_empty() {
                    "Kick did not send the message".into()
                } else {
                    format!("Kick did not send the message: {}", sent.message)
                })),
                Err(KickError::AuthRequired(reason)) => {
                    self.report_auth_lost(&reason);
                    Err(ChatError::AuthRequired(format!(
                        "{reason}; run `roadie auth login kick`"
                    )))
                }
                Err(error @ KickError::Transport(_)) => {
                    Err(ChatError::Unavailable(error.to_string()))
                }
                Err(error) => Err(ChatError::Platform(error.to_string())),
            }
        })
    }
}

impl KickAdapter {
    /// Sends as `bot`; when that answers 500, as `user` (remembered for the session).
    async fn send_chat_content(&self, content: &str) -> Result<crate::api::SentChat, KickError> {
        if !self.chat_as_user.load(Ordering::SeqCst) {
            match self.api.send_chat(&ChatAs::Bot, content, None).await {
                Err(KickError::Http { status: 500, .. }) => {
                    tracing::warn!(
                        "Kick answered 500 to a bot chat message; sending as the user from now on"
                    );
                    self.chat_as_user.store(true, Ordering::SeqCst);
                }
                other => return other,
            }
        }
        let broadcaster_user_id = self.broadcaster_user_id().await?;
        self.api
            .send_chat(
                &ChatAs::User {
                    broadcaster_user_id,
                },
                content,
                None,
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_text_limits() {
        assert_eq!(check_chat_text("  hi  "), Ok("hi"));
        assert!(check_chat_text(" \n ").unwrap_err().contains("empty"));
        assert!(check_chat_text(&"é".repeat(500)).is_ok());
        let reason = check_chat_text(&"x".repeat(501)).unwrap_err();
        assert!(
            reason.contains("500 characters") && reason.contains("501"),
            "{reason}"
        );
    }

    #[test]
    fn capabilities_leave_out_the_chatter_list() {
        assert!(
            !CAPABILITIES
                .iter()
                .any(|declared| declared.capability == Capability::ChatterList)
        );
        assert_eq!(
            roadie_platform::all_scopes(CAPABILITIES),
            [
                "user:read",
                "channel:read",
                "chat:write",
                "events:subscribe",
                "channel:rewards:read",
                "channel:rewards:write"
            ]
        );
    }

    #[test]
    fn defaults_are_the_spec_ones() {
        let settings = KickSettings::new("c", Secret::new("s"), "slug");
        assert_eq!(settings.auth_url, "https://id.kick.com");
        assert_eq!(settings.api_url, "https://api.kick.com/public/v1");
        assert_eq!(settings.pusher_url, DEFAULT_PUSHER_URL);
        assert_eq!(
            settings.channel_info_url,
            "https://kick.com/api/v2/channels"
        );
        assert_eq!(settings.poll_every, Duration::from_secs(60));
        assert!(
            !format!("{settings:?}").contains("\"s\""),
            "the secret is redacted"
        );
    }
}
