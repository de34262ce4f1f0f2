//! The Twitch adapter: the `Platform` strategy for Twitch. It validates the token at
//! start and hourly, refreshes on 401 (storing the rotated pair before using it),
//! runs the EventSub session with Helix-created subscriptions, restarts the session
//! after a wall-clock jump (sleep and wake), reports `auth_required` when the refresh
//! token is gone, and sends chat through the rate-limited queue.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use roadie_core::{ConnectionState, Secret};
use roadie_oauth::{ClientCredentials, RefreshError, RotatingTokens, TokenSet};
use roadie_platform::{
    BoxFuture, Capability, CapabilityScopes, ChatError, Platform, PlatformSink, Shutdown,
};
use serde::Deserialize;
use tokio::sync::{mpsc, watch};

use crate::chat_queue::{ChatSender, LIMIT_PRIVILEGED, OutboundQueue, QueueError};
use crate::eventsub::session::{self, SessionConfig, SessionUpdate, SubscriptionCreator};
use crate::helix::{Helix, HelixError, HelixSubscriptionCreator, SentMessage, TokenSource};

/// How often the token is validated (Twitch requires at least hourly).
pub const VALIDATE_EVERY: Duration = Duration::from_secs(3600);
/// How often the wall clock is compared with the monotonic clock (default).
pub const CLOCK_CHECK_EVERY: Duration = Duration::from_secs(30);
/// A difference beyond this between the two clocks means the machine slept.
const CLOCK_JUMP: Duration = Duration::from_secs(60);

/// What Twitch needs for each capability.
pub const CAPABILITIES: &[CapabilityScopes] = &[
    CapabilityScopes {
        capability: Capability::ChatRead,
        scopes: &["user:read:chat"],
    },
    CapabilityScopes {
        capability: Capability::ChatSend,
        scopes: &["user:write:chat"],
    },
    CapabilityScopes {
        capability: Capability::Events,
        scopes: &[
            "moderator:read:followers",
            "channel:read:subscriptions",
            "bits:read",
            "channel:moderate",
        ],
    },
    CapabilityScopes {
        capability: Capability::Rewards,
        scopes: &["channel:manage:redemptions"],
    },
    CapabilityScopes {
        capability: Capability::ChatterList,
        scopes: &["moderator:read:chatters"],
    },
    CapabilityScopes {
        capability: Capability::Polling,
        scopes: &[],
    },
];

/// Endpoints and the app's identity.
#[derive(Debug, Clone)]
pub struct TwitchSettings {
    /// The app's client id.
    pub client_id: String,
    /// The app's secret, if it is a confidential client.
    pub client_secret: Option<Secret>,
    /// `https://id.twitch.tv/oauth2`.
    pub auth_url: String,
    /// `https://api.twitch.tv/helix`.
    pub helix_url: String,
    /// `wss://eventsub.wss.twitch.tv/ws`.
    pub eventsub_url: String,
    /// How often viewers, followers and chatters are polled while live ([`POLL_EVERY`]).
    pub poll_every: Duration,
    /// How often the wall clock is compared with the monotonic one ([`CLOCK_CHECK_EVERY`]).
    pub clock_check_every: Duration,
    /// The wall clock ([`WallClock::system`]; tests move it to simulate sleep and wake).
    pub wall_clock: WallClock,
}

/// A source of wall-clock time.
#[derive(Clone)]
pub struct WallClock(pub Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl WallClock {
    /// The system clock.
    pub fn system() -> WallClock {
        WallClock(Arc::new(SystemTime::now))
    }

    fn now(&self) -> SystemTime {
        (self.0)()
    }
}

impl std::fmt::Debug for WallClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WallClock")
    }
}

/// Twitch's viewer count updates about once a minute; polling faster buys nothing.
pub const POLL_EVERY: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
struct LiveStream {
    viewer_count: u64,
}

#[derive(Deserialize)]
struct Total {
    total: u64,
}

/// One poll: while the channel is live, a `viewers` event and an analytics sample with
/// the follower and chatter totals (each left out when the token may not read it).
pub async fn poll_once(helix: &Helix, user_id: &str, sink: &dyn PlatformSink) {
    let streams: Result<crate::helix::DataList<LiveStream>, HelixError> =
        helix.get("/streams", &[("user_id", user_id)]).await;
    let viewers = match streams {
        Ok(list) => list.data.first().map(|stream| stream.viewer_count),
        Err(error) => {
            tracing::debug!(%error, "polling the stream failed");
            return;
        }
    };
    // Offline: nothing to sample.
    let Some(viewers) = viewers else { return };
    let at = crate::eventsub::session::now();
    sink.event(roadie_core::Event {
        platform: roadie_core::Platform::Twitch,
        at,
        kind: roadie_core::EventKind::Viewers { count: viewers },
    })
    .await;
    let followers = helix
        .get::<Total>(
            "/channels/followers",
            &[("broadcaster_id", user_id), ("first", "1")],
        )
        .await
        .ok()
        .map(|total| total.total);
    let chatters = match chatter_list(helix, user_id).await {
        Some((total, list)) => {
            sink.chatters(at, list).await;
            Some(total)
        }
        None => None,
    };
    sink.analytics(roadie_platform::AnalyticsSample {
        at,
        viewers: Some(viewers),
        followers,
        chatters,
    })
    .await;
}

#[derive(Deserialize)]
struct Follower {
    followed_at: String,
}

/// When `user_id` followed `broadcaster`'s channel (`None`: not following). Needs
/// `moderator:read:followers`.
pub async fn followed_at(
    helix: &Helix,
    broadcaster: &str,
    user_id: &str,
) -> Result<Option<roadie_core::Timestamp>, HelixError> {
    let list: crate::helix::DataList<Follower> = helix
        .get(
            "/channels/followers",
            &[("broadcaster_id", broadcaster), ("user_id", user_id)],
        )
        .await?;
    Ok(list
        .data
        .first()
        .and_then(|follower| crate::eventsub::parse_time(&follower.followed_at)))
}

#[derive(Deserialize)]
struct Chatter {
    user_id: String,
    user_login: String,
    user_name: String,
}

#[derive(Deserialize)]
struct ChatterPage {
    data: Vec<Chatter>,
    #[serde(default)]
    pagination: Option<Pagination>,
    total: u64,
}

#[derive(Deserialize)]
struct Pagination {
    #[serde(default)]
    cursor: Option<String>,
}

/// Most chatters listed per poll (Twitch pages hold 1,000): enough for watch-time
/// points in any channel Roadie's users run, without unbounded polling.
const MAX_CHATTER_PAGES: usize = 20;

/// The chat's total and its people (`None` when the token may not list them).
async fn chatter_list(helix: &Helix, user_id: &str) -> Option<(u64, Vec<roadie_core::User>)> {
    let mut people = Vec::new();
    let mut total = 0;
    let mut after: Option<String> = None;
    for _ in 0..MAX_CHATTER_PAGES {
        let mut query = vec![
            ("broadcaster_id", user_id),
            ("moderator_id", user_id),
            ("first", "1000"),
        ];
        if let Some(cursor) = after.as_deref() {
            query.push(("after", cursor));
        }
        let page = match helix.get::<ChatterPage>("/chat/chatters", &query).await {
            Ok(page) => page,
            Err(error) => {
                tracing::debug!(%error, "listing chatters failed");
                return (!people.is_empty()).then_some((total, people));
            }
        };
        total = page.total;
        people.extend(page.data.into_iter().map(|chatter| roadie_core::User {
            id: chatter.user_id,
            login: chatter.user_login,
            name: chatter.user_name,
            roles: Vec::new(),
        }));
        match page.pagination.and_then(|pagination| pagination.cursor) {
            Some(cursor) if !cursor.is_empty() => after = Some(cursor),
            _ => break,
        }
    }
    Some((total, people))
}

pub use roadie_oauth::TokenStore;

/// `GET /oauth2/validate`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Validation {
    /// The token's user id (absent for app tokens).
    #[serde(default)]
    pub user_id: Option<String>,
    /// The token's login.
    #[serde(default)]
    pub login: Option<String>,
    /// Granted scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Seconds until expiry.
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// Validates an access token; `Ok(None)` when Twitch says it is invalid (401).
pub async fn validate(
    http: &reqwest::Client,
    auth_url: &str,
    token: &Secret,
) -> Result<Option<Validation>, String> {
    let response = http
        .get(format!("{}/validate", auth_url.trim_end_matches('/')))
        .header("authorization", format!("OAuth {}", token.expose_secret()))
        .send()
        .await
        .map_err(|error| error.without_url().to_string())?;
    match response.status().as_u16() {
        200 => response
            .json::<Validation>()
            .await
            .map(Some)
            .map_err(|error| error.without_url().to_string()),
        401 => Ok(None),
        status => Err(format!("validation answered HTTP {status}")),
    }
}

/// The live token set, refreshed in one place ([`RotatingTokens`]).
#[derive(Debug)]
pub struct TwitchTokens(RotatingTokens);

impl TwitchTokens {
    /// Tokens for `settings`, persisted through `store`.
    pub fn new(
        settings: &TwitchSettings,
        tokens: TokenSet,
        store: Arc<dyn TokenStore>,
    ) -> TwitchTokens {
        let credentials = ClientCredentials {
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
        };
        TwitchTokens(RotatingTokens::new(
            "Twitch",
            credentials,
            format!("{}/token", settings.auth_url.trim_end_matches('/')),
            tokens,
            store,
        ))
    }

    /// A copy of the current set.
    pub fn snapshot(&self) -> Option<TokenSet> {
        self.0.snapshot()
    }
}

impl TokenSource for TwitchTokens {
    fn current(&self) -> Secret {
        self.0.access()
    }

    fn refresh(&self) -> BoxFuture<'_, Result<Secret, HelixError>> {
        let seen = self.current();
        Box::pin(async move {
            self.0.refresh(&seen).await.map_err(|error| match error {
                RefreshError::AuthRequired(reason) => HelixError::AuthRequired(reason),
                RefreshError::Transport(reason) => HelixError::Transport(reason),
            })
        })
    }
}

/// The Twitch platform.
pub struct TwitchAdapter {
    settings: TwitchSettings,
    tokens: Arc<TwitchTokens>,
    helix: Arc<Helix>,
    http: reqwest::Client,
    queue: Mutex<Option<OutboundQueue>>,
    /// Tells the running session that the sign-in is gone (set while it runs).
    auth_lost: Mutex<Option<watch::Sender<Option<String>>>>,
}

impl std::fmt::Debug for TwitchAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwitchAdapter")
            .field("helix", &self.settings.helix_url)
            .finish_non_exhaustive()
    }
}

struct HelixChat {
    helix: Arc<Helix>,
    user_id: String,
}

impl ChatSender for HelixChat {
    fn send(&self, text: &str) -> BoxFuture<'_, Result<SentMessage, HelixError>> {
        let text = text.to_owned();
        Box::pin(async move {
            self.helix
                .send_chat_message(&self.user_id, &self.user_id, &text, None)
                .await
        })
    }
}

/// The session's events go straight to the daemon's sink from the session's task;
/// status changes and revocations go to the adapter's loop.
struct EventsToSink {
    sink: Arc<dyn PlatformSink>,
    others: mpsc::Sender<SessionUpdate>,
}

impl session::Updates for EventsToSink {
    async fn send(&self, update: SessionUpdate) -> bool {
        match update {
            SessionUpdate::Event(event) => {
                self.sink.event(event).await;
                // Once the adapter's loop has let this session go, it ends too.
                !self.others.is_closed()
            }
            other => self.others.send(other).await.is_ok(),
        }
    }
}

/// Stops the session when Helix says the sign-in is gone.
struct WatchingCreator {
    inner: HelixSubscriptionCreator,
    auth_lost: watch::Sender<Option<String>>,
}

impl SubscriptionCreator for WatchingCreator {
    fn create(&self, session_id: &str) -> BoxFuture<'_, Result<Vec<String>, String>> {
        let session_id = session_id.to_owned();
        Box::pin(async move {
            let result = self.inner.create(&session_id).await;
            if let Err(error) = &result
                && error.contains("needs a new sign-in")
            {
                let _ = self.auth_lost.send(Some(error.clone()));
            }
            result
        })
    }
}

enum Outcome {
    Shutdown,
    AuthRequired(String),
    ClockJumped,
}

impl TwitchAdapter {
    /// An adapter for the signed-in account in `tokens`.
    pub fn new(settings: TwitchSettings, tokens: Arc<TwitchTokens>) -> TwitchAdapter {
        let helix = Arc::new(Helix::new(
            &settings.helix_url,
            &settings.client_id,
            tokens.clone(),
        ));
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        TwitchAdapter {
            settings,
            tokens,
            helix,
            http,
            queue: Mutex::new(None),
            auth_lost: Mutex::new(None),
        }
    }

    /// The signed-in account's id (the broadcaster), once known.
    pub fn account_id(&self) -> Option<String> {
        self.tokens.snapshot().and_then(|tokens| tokens.account_id)
    }

    /// The Helix client (for rewards and polling).
    pub fn helix(&self) -> &Arc<Helix> {
        &self.helix
    }

    /// Validates, refreshing once on 401; returns the account or why sign-in is needed.
    async fn validate_or_refresh(&self) -> Result<Validation, Outcome> {
        let checked = validate(&self.http, &self.settings.auth_url, &self.tokens.current()).await;
        match checked {
            Ok(Some(validation)) => Ok(validation),
            Ok(None) => {
                let refreshed = self
                    .tokens
                    .refresh()
                    .await
                    .map_err(|error| Outcome::AuthRequired(error.to_string()))?;
                match validate(&self.http, &self.settings.auth_url, &refreshed).await {
                    Ok(Some(validation)) => Ok(validation),
                    Ok(None) => Err(Outcome::AuthRequired(
                        "Twitch rejects the refreshed token".into(),
                    )),
                    // Cannot reach Twitch: carry on with the token; the session retries.
                    Err(error) => Err(Outcome::AuthRequired(format!(
                        "cannot validate the refreshed token: {error}"
                    ))),
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not validate the Twitch token; continuing");
                Ok(Validation {
                    user_id: None,
                    login: None,
                    scopes: Vec::new(),
                    expires_in: None,
                })
            }
        }
    }

    async fn run_once(
        self: &Arc<Self>,
        sink: &Arc<dyn PlatformSink>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Outcome {
        let validation = match self.validate_or_refresh().await {
            Ok(validation) => validation,
            Err(outcome) => return outcome,
        };
        let snapshot = self.tokens.snapshot();
        let user_id = validation.user_id.clone().or_else(|| {
            snapshot
                .as_ref()
                .and_then(|tokens| tokens.account_id.clone())
        });
        let Some(user_id) = user_id else {
            return Outcome::AuthRequired(
                "the token belongs to no user (an app token?); sign in as the broadcaster".into(),
            );
        };
        let user_id_for_poll = user_id.clone();
        let chat = Arc::new(HelixChat {
            helix: Arc::clone(&self.helix),
            user_id: user_id.clone(),
        });
        let (queue, queue_task) = OutboundQueue::start(chat, LIMIT_PRIVILEGED, 500);
        if let Ok(mut slot) = self.queue.lock() {
            *slot = Some(queue);
        }

        let (auth_lost, mut auth_watch) = watch::channel(None::<String>);
        if let Ok(mut slot) = self.auth_lost.lock() {
            *slot = Some(auth_lost.clone());
        }
        let creator: Arc<dyn SubscriptionCreator> = Arc::new(WatchingCreator {
            inner: HelixSubscriptionCreator {
                helix: Arc::clone(&self.helix),
                broadcaster_id: user_id.clone(),
                user_id,
            },
            auth_lost,
        });
        let poller = {
            let helix = Arc::clone(&self.helix);
            let sink = Arc::clone(sink);
            let user_id = user_id_for_poll.clone();
            let every = self.settings.poll_every.max(Duration::from_millis(100));
            tokio::spawn(async move {
                let mut timer = tokio::time::interval(every);
                loop {
                    timer.tick().await;
                    poll_once(&helix, &user_id, sink.as_ref()).await;
                }
            })
        };
        let (updates_sender, mut updates) = mpsc::channel(1024);
        let (stop_session, session_stopped) = watch::channel(false);
        let session = tokio::spawn(session::run(
            SessionConfig::new(self.settings.eventsub_url.clone()),
            creator,
            EventsToSink {
                sink: Arc::clone(sink),
                others: updates_sender,
            },
            session_stopped,
        ));

        let mut validate_timer =
            tokio::time::interval_at(tokio::time::Instant::now() + VALIDATE_EVERY, VALIDATE_EVERY);
        let mut clock_timer = tokio::time::interval(
            self.settings
                .clock_check_every
                .max(Duration::from_millis(10)),
        );
        let clock = self.settings.wall_clock.clone();
        let (mut wall, mut mono) = (clock.now(), Instant::now());
        let outcome = loop {
            tokio::select! {
                update = updates.recv() => match update {
                    Some(SessionUpdate::Event(event)) => sink.event(event).await,
                    Some(SessionUpdate::Connected { handed_over, .. }) => {
                        let detail = if handed_over { "EventSub session handed over" } else { "EventSub session subscribed" };
                        sink.status(ConnectionState::Connected, detail.into());
                    }
                    Some(SessionUpdate::Reconnecting { reason, retry_in }) => {
                        sink.status(ConnectionState::Reconnecting, format!("{reason}; retrying in {} ms", retry_in.as_millis()));
                    }
                    Some(SessionUpdate::Revoked { kind, status }) => {
                        tracing::warn!(%kind, %status, "Twitch revoked a subscription");
                        if status == "authorization_revoked" {
                            break Outcome::AuthRequired(format!("Twitch revoked the authorization ({kind})"));
                        }
                    }
                    None => break Outcome::Shutdown,
                },
                changed = auth_watch.changed() => {
                    if changed.is_ok() && let Some(reason) = auth_watch.borrow().clone() {
                        break Outcome::AuthRequired(reason);
                    }
                }
                _ = validate_timer.tick() => {
                    if let Err(outcome) = self.validate_or_refresh().await {
                        break outcome;
                    }
                }
                _ = clock_timer.tick() => {
                    let now = clock.now();
                    // Forward or backward, in whole duration terms.
                    let wall_elapsed = now.duration_since(wall).unwrap_or_else(|backwards| backwards.duration());
                    let mono_elapsed = mono.elapsed();
                    (wall, mono) = (now, Instant::now());
                    if wall_elapsed.abs_diff(mono_elapsed) > CLOCK_JUMP {
                        tracing::info!(jump_s = wall_elapsed.abs_diff(mono_elapsed).as_secs(), "the wall clock jumped (sleep and wake?); revalidating and reconnecting");
                        break Outcome::ClockJumped;
                    }
                }
                _ = shutdown.changed() => break Outcome::Shutdown,
            }
        };
        poller.abort();
        let _ = stop_session.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(1), session).await;
        if let Ok(mut slot) = self.queue.lock() {
            *slot = None;
        }
        queue_task.abort();
        outcome
    }
}

impl Platform for TwitchAdapter {
    fn id(&self) -> roadie_core::Platform {
        roadie_core::Platform::Twitch
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
            let (stop, mut stopped) = watch::channel(false);
            tokio::spawn(async move {
                shutdown.await;
                let _ = stop.send(true);
            });
            sink.status(ConnectionState::Reconnecting, "connecting to Twitch".into());
            loop {
                match self.run_once(&sink, &mut stopped).await {
                    Outcome::Shutdown => return,
                    Outcome::ClockJumped => sink.status(
                        ConnectionState::Reconnecting,
                        "the clock jumped (sleep and wake); reconnecting".into(),
                    ),
                    Outcome::AuthRequired(reason) => {
                        tracing::error!(%reason, "Twitch needs a new sign-in: run `roadie auth login twitch`");
                        sink.status(
                            ConnectionState::AuthRequired,
                            format!("{reason}; run `roadie auth login twitch`"),
                        );
                        let _ = stopped.wait_for(|stop| *stop).await;
                        return;
                    }
                }
            }
        })
    }

    fn send_chat(&self, text: &str) -> BoxFuture<'_, Result<Vec<String>, ChatError>> {
        let text = text.to_owned();
        Box::pin(async move {
            let queue = self.queue.lock().ok().and_then(|slot| slot.clone());
            let Some(queue) = queue else {
                return Err(ChatError::Unavailable("Twitch is not connected yet".into()));
            };
            match queue.send(&text).await {
                Ok(sent) => Ok(sent.into_iter().map(|message| message.message_id).collect()),
                Err(QueueError::Refused(reason)) => Err(ChatError::Refused(reason)),
                Err(QueueError::Twitch(HelixError::AuthRequired(reason))) => {
                    // The refresh failed: the whole connection needs a new sign-in.
                    if let Some(lost) = self.auth_lost.lock().ok().and_then(|slot| slot.clone()) {
                        let _ = lost.send(Some(reason.clone()));
                    }
                    Err(ChatError::AuthRequired(reason))
                }
                Err(QueueError::Twitch(error)) => Err(ChatError::Platform(error.to_string())),
                Err(error @ (QueueError::Full(_) | QueueError::Stopped)) => {
                    Err(ChatError::Unavailable(error.to_string()))
                }
            }
        })
    }
}
