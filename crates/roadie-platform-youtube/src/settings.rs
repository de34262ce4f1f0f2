//! What the adapter needs to know: the user's own Google OAuth client, the endpoints
//! (overridable so tests can point at the fake), the daily quota budget with its
//! per-method costs, and the pacing knobs.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use roadie_core::{Secret, Timestamp};

use crate::quota::QuotaCosts;

/// Google's authorization endpoint.
pub const AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
/// Google's token endpoint.
pub const TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Google's device authorization endpoint.
pub const DEVICE_URL: &str = "https://oauth2.googleapis.com/device/code";
/// The YouTube Data API v3 base.
pub const API_URL: &str = "https://www.googleapis.com/youtube/v3";
/// A Google Cloud project's default daily quota, in units.
pub const DEFAULT_DAILY_QUOTA: u32 = 10_000;
/// Viewer counts change about once a minute; polling faster only spends quota.
pub const DEFAULT_VIEWERS_EVERY: Duration = Duration::from_secs(60);
/// How often to look for a broadcast while none is live: each look costs quota
/// (`liveBroadcasts.list`, 1 unit), so 2 minutes spends at most 720 units a day and
/// finds a new stream within 2 minutes of its start.
pub const DEFAULT_IDLE_POLL: Duration = Duration::from_secs(120);
/// How long a broadcast whose chat is disabled goes before its chat is tried again
/// (the streamer may turn it on mid-stream): one `liveChatMessages.list` (5 units) per
/// try, so at most 240 units over a four-hour stream.
pub const DEFAULT_CHAT_RETRY: Duration = Duration::from_secs(300);
/// Units chat polling leaves for sending chat: ten messages at 50 units.
pub const DEFAULT_SEND_RESERVE: u32 = 500;

/// A source of wall-clock time: the quota day (midnight Pacific) and the chat backlog
/// cutoff are wall-clock matters, while waiting uses tokio's clock.
#[derive(Clone)]
pub struct WallClock(pub Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl WallClock {
    /// The system clock.
    pub fn system() -> WallClock {
        WallClock(Arc::new(|| {
            Timestamp(
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
                    .unwrap_or(0),
            )
        }))
    }

    /// A clock that reads `start` now and then advances with tokio's clock, so tests
    /// with paused time can run a whole quota day in moments. Call it inside a runtime.
    pub fn following_tokio(start: Timestamp) -> WallClock {
        let origin = tokio::time::Instant::now();
        WallClock(Arc::new(move || {
            let elapsed = i64::try_from(origin.elapsed().as_millis()).unwrap_or(i64::MAX);
            Timestamp(start.0.saturating_add(elapsed))
        }))
    }

    /// The time now.
    pub fn now(&self) -> Timestamp {
        (self.0)()
    }
}

impl std::fmt::Debug for WallClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WallClock")
    }
}

/// Endpoints, the app's identity, the quota budget and pacing.
///
/// The client id and secret are the user's own Google Cloud project's: the daily
/// quota is per project, so `daily_quota` and `costs` describe that project.
#[derive(Debug, Clone)]
pub struct YoutubeSettings {
    /// The OAuth client id ("Desktop app" or "TVs and Limited Input devices").
    pub client_id: String,
    /// The OAuth client secret (Google issues one even to installed apps).
    pub client_secret: Option<Secret>,
    /// Authorization endpoint ([`AUTH_URL`]).
    pub auth_url: String,
    /// Token endpoint ([`TOKEN_URL`]); the revoke endpoint is derived from it.
    pub token_url: String,
    /// Device authorization endpoint ([`DEVICE_URL`]).
    pub device_url: String,
    /// Data API base ([`API_URL`]).
    pub api_url: String,
    /// Units the adapter may spend per quota day ([`DEFAULT_DAILY_QUOTA`]).
    pub daily_quota: u32,
    /// Units per API method.
    pub costs: QuotaCosts,
    /// How often concurrent viewers are polled while live ([`DEFAULT_VIEWERS_EVERY`]).
    pub viewers_every: Duration,
    /// How often to look for a live broadcast while none is ([`DEFAULT_IDLE_POLL`]).
    pub idle_poll: Duration,
    /// How long a live broadcast whose chat is disabled goes before its chat is tried
    /// again ([`DEFAULT_CHAT_RETRY`]).
    pub chat_retry: Duration,
    /// Units chat polling leaves unspent for sending chat ([`DEFAULT_SEND_RESERVE`];
    /// at most a quarter of `daily_quota` is held back).
    pub send_reserve: u32,
    /// How far ahead the quota planner assumes the stream goes on. `None` (the
    /// default): until the daily reset, so chat never goes dark before it. `Some(h)`:
    /// for `h` more (a moving horizon, capped at the reset): faster polling, at the
    /// risk of running out on a stream longer than planned.
    pub quota_horizon: Option<Duration>,
    /// First wait after a failed request; doubles up to a minute (default 1 s).
    /// After `rateLimitExceeded` the first wait is five times this.
    pub retry_base: Duration,
    /// Longest wait for one HTTP answer (default 30 s).
    pub request_timeout: Duration,
    /// The wall clock ([`WallClock::system`]).
    pub wall_clock: WallClock,
}

impl YoutubeSettings {
    /// Settings for the OAuth client `client_id` with every other value at the SPEC's
    /// default.
    pub fn new(client_id: impl Into<String>) -> YoutubeSettings {
        YoutubeSettings {
            client_id: client_id.into(),
            client_secret: None,
            auth_url: AUTH_URL.to_owned(),
            token_url: TOKEN_URL.to_owned(),
            device_url: DEVICE_URL.to_owned(),
            api_url: API_URL.to_owned(),
            daily_quota: DEFAULT_DAILY_QUOTA,
            costs: QuotaCosts::default(),
            viewers_every: DEFAULT_VIEWERS_EVERY,
            idle_poll: DEFAULT_IDLE_POLL,
            chat_retry: DEFAULT_CHAT_RETRY,
            send_reserve: DEFAULT_SEND_RESERVE,
            quota_horizon: None,
            retry_base: Duration::from_secs(1),
            request_timeout: Duration::from_secs(30),
            wall_clock: WallClock::system(),
        }
    }
}
