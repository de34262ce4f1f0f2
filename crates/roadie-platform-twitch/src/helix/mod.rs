//! Helix, Twitch's REST API: one client that adds `Client-Id` and the bearer token,
//! answers a 401 with one refresh and one retry, honours the `Ratelimit-*` headers
//! (waits when the bucket is empty, backs off on 429), and reads Twitch's error bodies.

mod chat;
mod eventsub;
mod rewards;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use reqwest::header::HeaderMap;
use roadie_core::Secret;
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use chat::SentMessage;
pub use eventsub::{HelixSubscriptionCreator, condition_for};
pub use rewards::{CustomReward, RewardChanges};

use crate::eventsub::session::BoxFuture;

/// Longest wait for a rate-limit bucket to refill before a request gives up.
const MAX_RATE_WAIT: Duration = Duration::from_secs(60);
/// Attempts per request (401 refresh and 429 back-off share them).
const ATTEMPTS: usize = 4;

/// Where Helix calls get their access token.
pub trait TokenSource: Send + Sync {
    /// The current access token.
    fn current(&self) -> Secret;
    /// Called after a 401: refresh (rotating and storing the new pair before
    /// returning it) and return the new access token.
    fn refresh(&self) -> BoxFuture<'_, Result<Secret, HelixError>>;
}

/// A fixed token that cannot be refreshed (tests, imported app tokens).
#[derive(Debug, Clone)]
pub struct StaticToken(pub Secret);

impl TokenSource for StaticToken {
    fn current(&self) -> Secret {
        self.0.clone()
    }

    fn refresh(&self) -> BoxFuture<'_, Result<Secret, HelixError>> {
        Box::pin(async {
            Err(HelixError::AuthRequired(
                "the token was rejected and cannot be refreshed".into(),
            ))
        })
    }
}

/// What a Helix call can end in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelixError {
    /// Twitch could not be reached.
    #[error("cannot reach Twitch: {0}")]
    Transport(String),
    /// The token is invalid and a refresh did not help: sign in again.
    #[error("Twitch needs a new sign-in: {0}")]
    AuthRequired(String),
    /// Still rate-limited after waiting.
    #[error("Twitch rate limit: {0}")]
    RateLimited(String),
    /// Twitch refused the request.
    #[error("Twitch refused ({status}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Twitch's message.
        message: String,
    },
    /// Twitch's answer was not what the API documents.
    #[error("unexpected answer from Twitch: {0}")]
    Malformed(String),
    /// Twitch accepted a chat message but did not send it.
    #[error("Twitch dropped the message ({code}): {message}")]
    Dropped {
        /// Twitch's drop code, e.g. `msg_duplicate`.
        code: String,
        /// Twitch's explanation.
        message: String,
    },
}

#[derive(Debug, Default, Clone, Copy)]
struct RateState {
    remaining: Option<u64>,
    reset_unix: Option<u64>,
}

/// A Helix client for one token.
#[derive(Clone)]
pub struct Helix {
    http: reqwest::Client,
    base: String,
    client_id: String,
    tokens: Arc<dyn TokenSource>,
    rate: Arc<Mutex<RateState>>,
}

impl std::fmt::Debug for Helix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Helix")
            .field("base", &self.base)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl Helix {
    /// A client for `base` (e.g. `https://api.twitch.tv/helix`).
    pub fn new(base: &str, client_id: &str, tokens: Arc<dyn TokenSource>) -> Helix {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Helix {
            http,
            base: base.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            tokens,
            rate: Arc::default(),
        }
    }

    /// How long to wait before the bucket has room, if it is known to be empty.
    fn rate_wait(&self) -> Option<Duration> {
        let state = *self.rate.lock().ok()?;
        match (state.remaining, state.reset_unix) {
            (Some(0), Some(reset)) => {
                let now = unix_now();
                (reset > now).then(|| Duration::from_secs(reset - now).min(MAX_RATE_WAIT))
            }
            _ => None,
        }
    }

    fn note_rate(&self, headers: &HeaderMap) {
        if let Ok(mut state) = self.rate.lock() {
            if let Some(remaining) = header_number(headers, "ratelimit-remaining") {
                state.remaining = Some(remaining);
            }
            if let Some(reset) = header_number(headers, "ratelimit-reset") {
                state.reset_unix = Some(reset);
            }
        }
    }

    /// Sends a request; returns the status and body of a 2xx answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, Vec<u8>), HelixError> {
        let mut token = self.tokens.current();
        let mut refreshed = false;
        for _ in 0..ATTEMPTS {
            if let Some(wait) = self.rate_wait() {
                tracing::info!(
                    wait_ms = wait.as_millis() as u64,
                    "Helix rate limit reached; waiting for the bucket to refill"
                );
                tokio::time::sleep(wait).await;
            }
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .query(query)
                .header("client-id", &self.client_id)
                .bearer_auth(token.expose_secret());
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|error| HelixError::Transport(error.without_url().to_string()))?;
            let status = response.status().as_u16();
            self.note_rate(response.headers());
            let reset = header_number(response.headers(), "ratelimit-reset");
            let bytes = response
                .bytes()
                .await
                .map_err(|error| HelixError::Transport(error.without_url().to_string()))?;
            match status {
                200..=299 => return Ok((status, bytes.to_vec())),
                401 if !refreshed => {
                    tracing::info!(path, "Helix answered 401; refreshing the token once");
                    token = self.tokens.refresh().await?;
                    refreshed = true;
                }
                401 => return Err(HelixError::AuthRequired(message_of(&bytes))),
                429 => {
                    let wait = reset
                        .map(|reset| Duration::from_secs(reset.saturating_sub(unix_now()).max(1)))
                        .unwrap_or(Duration::from_secs(1))
                        .min(MAX_RATE_WAIT);
                    tracing::warn!(
                        path,
                        wait_ms = wait.as_millis() as u64,
                        "Helix answered 429; backing off"
                    );
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    return Err(HelixError::Api {
                        status,
                        message: message_of(&bytes),
                    });
                }
            }
        }
        Err(HelixError::RateLimited(format!(
            "{path} still refused after {ATTEMPTS} attempts"
        )))
    }

    /// A GET whose answer is `T`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, HelixError> {
        let (_, body) = self.call(Method::GET, path, query, None).await?;
        serde_json::from_slice(&body)
            .map_err(|error| HelixError::Malformed(format!("{path}: {error}")))
    }

    /// The token's own user (`GET /users` without parameters).
    pub async fn token_user(&self) -> Result<HelixUser, HelixError> {
        let answer: DataList<HelixUser> = self.get("/users", &[]).await?;
        answer
            .data
            .into_iter()
            .next()
            .ok_or_else(|| HelixError::Malformed("GET /users returned no user".into()))
    }
}

fn message_of(body: &[u8]) -> String {
    serde_json::from_slice::<ErrorBody>(body)
        .map(|parsed| parsed.message)
        .ok()
        .filter(|message| !message.is_empty())
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect())
}

/// Helix's `{"data": [...]}` wrapper.
#[derive(Debug, Deserialize)]
pub struct DataList<T> {
    /// The items.
    pub data: Vec<T>,
}

/// A user from `GET /users`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HelixUser {
    /// The user id.
    pub id: String,
    /// The login.
    pub login: String,
    /// The display name.
    pub display_name: String,
}
