//! A fake YouTube on 127.0.0.1:0: Google OAuth (loopback code and device flow) and the Data API (live broadcasts, live chat messages, videos, channels) with quota accounting and quota errors.
//!
//! One HTTP server carries Google's hosts under their real paths:
//! - `/o/oauth2/v2/auth` (accounts.google.com): auto-approves, records the query
//!   (`access_type`, `prompt`...) and redirects with `code` and `state`;
//! - `/token`, `/device/code`, `/revoke` (oauth2.googleapis.com): code exchange checking
//!   the client, the redirect URI and the PKCE verifier (a refresh token only when
//!   `access_type=offline`), refresh (Google keeps the refresh token; rotation can be
//!   switched on), the device flow answering `verification_url`, refusing scopes
//!   Google's device flow does not allow, and a scripted run of
//!   `authorization_pending` / `slow_down`; revocation of a whole grant. Errors are
//!   RFC 6749 bodies (`{"error","error_description"}`);
//! - `/youtube/v3/...` (www.googleapis.com): `liveBroadcasts`, `liveChat/messages`
//!   (GET with `pageToken` paging and `pollingIntervalMillis`, POST), `videos`
//!   (`liveStreamingDetails.concurrentViewers` as a string) and `channels?mine=true`,
//!   with bearer checks (401 for unknown or expired tokens) and Google's JSON error
//!   format `{"error":{"code","message","errors":[{"message","domain","reason"}]}}`.
//!
//! Quota: each Data API call that passes the token check is charged its method's
//! cost; once the daily limit would be passed, calls answer 403 `quotaExceeded` (not
//! charged) until [`FakeYoutube::reset_quota`]. A broadcast ends with `offlineAt` in
//! the chat's answers or with 403 `liveChatEnded`, and new ones can start. Chat items
//! are shaped like the real captured `liveChatMessages.list` items (see
//! `crates/roadie-platform-youtube/tests/data/SOURCES.md`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Form, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

/// The OAuth client id the fake accepts (and `config_section` writes).
pub const CLIENT_ID: &str = "fake-yt-client";
/// The OAuth client secret the fake accepts.
pub const CLIENT_SECRET: &str = "fake-yt-secret";
/// The YouTube scope (the only one the adapter asks for).
pub const YOUTUBE_SCOPE: &str = "https://www.googleapis.com/auth/youtube";
/// The scopes Google's device flow allows.
pub const DEVICE_ALLOWED_SCOPES: &[&str] = &[
    "email",
    "profile",
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
    "https://www.googleapis.com/auth/drive.appdata",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/youtube",
    "https://www.googleapis.com/auth/youtube.readonly",
];

/// Quota units per Data API method, as the fake charges them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FakeCosts {
    /// `liveBroadcasts.list`.
    pub broadcasts_list: u32,
    /// `liveChatMessages.list`.
    pub messages_list: u32,
    /// `liveChatMessages.insert`.
    pub messages_insert: u32,
    /// `videos.list`.
    pub videos_list: u32,
    /// `channels.list`.
    pub channels_list: u32,
}

impl Default for FakeCosts {
    fn default() -> Self {
        FakeCosts {
            broadcasts_list: 1,
            messages_list: 5,
            messages_insert: 50,
            videos_list: 1,
            channels_list: 1,
        }
    }
}

/// How a broadcast ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The chat stays readable and its answers carry `offlineAt`.
    OfflineAt,
    /// The chat answers 403 `liveChatEnded`.
    ChatEnded,
}

/// A scripted failure of the next `liveChatMessages.list` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connection breaks mid-answer (no complete HTTP response).
    Drop,
    /// An HTTP status with Google's error body (e.g. 503 `backendError`).
    Status(u16),
    /// 403 `rateLimitExceeded`.
    RateLimited,
}

/// A chat author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeAuthor {
    /// The channel id.
    pub channel_id: String,
    /// The display name.
    pub display_name: String,
    /// The channel owner.
    pub owner: bool,
    /// A moderator.
    pub moderator: bool,
    /// A member.
    pub sponsor: bool,
}

impl FakeAuthor {
    /// An ordinary viewer named `name`.
    pub fn viewer(name: &str) -> FakeAuthor {
        let digest = Sha256::digest(name.as_bytes());
        let id = Base64UrlUnpadded::encode_string(&digest);
        FakeAuthor {
            channel_id: format!("UC{}", id.chars().take(22).collect::<String>()),
            display_name: name.to_owned(),
            owner: false,
            moderator: false,
            sponsor: false,
        }
    }

    /// The channel's owner (who the fake's tokens belong to).
    pub fn owner() -> FakeAuthor {
        FakeAuthor {
            channel_id: OWNER_CHANNEL_ID.to_owned(),
            display_name: OWNER_TITLE.to_owned(),
            owner: true,
            moderator: false,
            sponsor: false,
        }
    }

    /// `authorDetails` as the real API writes it.
    pub fn details(&self) -> Value {
        json!({
            "channelId": self.channel_id,
            "channelUrl": format!("http://www.youtube.com/channel/{}", self.channel_id),
            "displayName": self.display_name,
            "profileImageUrl": "https://yt3.ggpht.com/fake=s88-c-k-c0x00ffffff-no-rj",
            "isVerified": false,
            "isChatOwner": self.owner,
            "isChatSponsor": self.sponsor,
            "isChatModerator": self.moderator,
        })
    }
}

/// The signed-in channel's id.
pub const OWNER_CHANNEL_ID: &str = "UCfakeRoadieChannel0000001";
/// The signed-in channel's title.
pub const OWNER_TITLE: &str = "Roadie Test Channel";

/// A broadcast and its chat.
#[derive(Debug, Clone)]
pub struct FakeBroadcast {
    /// Its id (also the video id).
    pub id: String,
    /// Its live chat's id.
    pub chat_id: String,
    /// Its title.
    pub title: String,
    /// Whether it is live (`broadcastStatus=active`).
    pub live: bool,
    /// How it ended, once it did.
    pub ending: Option<Ending>,
    /// Its chat answers 403 `liveChatDisabled`.
    pub chat_disabled: bool,
    /// The chat's items, oldest first.
    pub items: Vec<Value>,
    /// When it went live (RFC 3339).
    pub started_at: String,
}

#[derive(Debug, Clone)]
struct CodeGrant {
    challenge: String,
    redirect_uri: String,
    scope: String,
    offline: bool,
}

/// Options for [`FakeYoutube::start_with`].
#[derive(Debug, Clone)]
pub struct FakeYoutubeOptions {
    /// `pollingIntervalMillis` in chat answers (default 500).
    pub polling_interval_ms: u64,
    /// Daily quota limit (default 10,000).
    pub daily_limit: u32,
    /// Per-method costs.
    pub costs: FakeCosts,
    /// Start with a live broadcast (default true).
    pub live: bool,
    /// Issue a new refresh token on each refresh (Google normally does not).
    pub rotate_refresh_tokens: bool,
    /// The device flow's `interval` in seconds (default 1).
    pub device_interval: u64,
}

impl Default for FakeYoutubeOptions {
    fn default() -> Self {
        FakeYoutubeOptions {
            polling_interval_ms: 500,
            daily_limit: 10_000,
            costs: FakeCosts::default(),
            live: true,
            rotate_refresh_tokens: false,
            device_interval: 1,
        }
    }
}

/// The fake's state, open for tests to inspect and change.
#[derive(Debug)]
pub struct YoutubeState {
    /// Codes handed out by authorize.
    codes: HashMap<String, CodeGrant>,
    /// Valid access tokens → their grant.
    pub access_tokens: HashMap<String, String>,
    /// Valid refresh tokens → their grant.
    pub refresh_tokens: HashMap<String, String>,
    /// Grants → their scopes.
    pub grants: HashMap<String, String>,
    /// Issue a new refresh token on each refresh.
    pub rotate_refresh_tokens: bool,
    /// Tokens revoked through /revoke.
    pub revoked: Vec<String>,
    /// Every authorize request's query parameters, in order.
    pub authorize_requests: Vec<HashMap<String, String>>,
    /// Every token request's grant type, in order.
    pub token_grants: Vec<String>,
    /// Device poll answers still to give before approval (`authorization_pending`,
    /// `slow_down`, `access_denied`), in order.
    pub device_script: Vec<&'static str>,
    /// When each device poll arrived.
    pub device_polls: Vec<Instant>,
    /// The `scope` of the last device start.
    pub device_scope: Option<String>,
    /// The device flow's `interval`.
    pub device_interval: u64,
    /// Broadcasts, oldest first.
    pub broadcasts: Vec<FakeBroadcast>,
    /// `pollingIntervalMillis` in chat answers.
    pub polling_interval_ms: u64,
    /// Per-method costs.
    pub costs: FakeCosts,
    /// Daily quota limit.
    pub daily_limit: u32,
    /// Units charged since the last reset.
    pub spent: u32,
    /// Units charged per method (`liveChatMessages.list`...).
    pub spent_by_method: BTreeMap<String, u32>,
    /// When each `liveChatMessages.list` call arrived (tokio's clock).
    pub poll_times: Vec<Instant>,
    /// Bodies of `liveChatMessages.insert` calls, in order.
    pub inserted: Vec<Value>,
    /// Scripted failures of the next chat polls.
    pub failures: VecDeque<Failure>,
    /// Concurrent viewers of the live broadcast (`None`: hidden).
    pub viewers: Option<u64>,
    /// Requests seen (`GET /liveBroadcasts?...`), in order.
    pub requests: Vec<String>,
    /// Added to the times the fake writes (`publishedAt`...), in microseconds, for
    /// tests that move the adapter's wall clock.
    pub clock_offset_micros: i64,
    counter: u64,
}

impl YoutubeState {
    /// Now, as the fake's clock says, written as YouTube writes times.
    pub fn now_text(&self) -> String {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_micros() as i64)
            .unwrap_or(0);
        rfc3339_micros(micros.saturating_add(self.clock_offset_micros))
    }

    fn mint(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    fn issue(&mut self, scope: &str, with_refresh: bool) -> Value {
        let grant = self.mint("grant-");
        self.grants.insert(grant.clone(), scope.to_owned());
        let access = self.mint("ya29.fake-access-");
        self.access_tokens.insert(access.clone(), grant.clone());
        let mut answer = json!({"access_token": access, "expires_in": 3599, "scope": scope, "token_type": "Bearer"});
        if with_refresh {
            let refresh = self.mint("1//fake-refresh-");
            self.refresh_tokens.insert(refresh.clone(), grant);
            answer["refresh_token"] = json!(refresh);
        }
        answer
    }

    fn live_broadcast(&mut self) -> Option<&mut FakeBroadcast> {
        self.broadcasts
            .iter_mut()
            .rev()
            .find(|broadcast| broadcast.live)
    }

    fn new_broadcast(&mut self, title: &str) -> (String, String) {
        let id = self.mint("fakeBroadcast");
        let chat_id = self.mint("fakeLiveChat");
        self.broadcasts.push(FakeBroadcast {
            id: id.clone(),
            chat_id: chat_id.clone(),
            title: title.to_owned(),
            live: true,
            ending: None,
            chat_disabled: false,
            items: Vec::new(),
            started_at: self.now_text(),
        });
        (id, chat_id)
    }
}

type Shared = Arc<Mutex<YoutubeState>>;

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, YoutubeState> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian, H. Hinnant's
/// algorithm), so the fake needs no calendar library.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Now as YouTube writes `publishedAt`: `2023-05-25T20:08:08.479833+00:00`.
pub fn rfc3339_now() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_micros() as i64)
        .unwrap_or(0);
    rfc3339_micros(micros)
}

/// A time in microseconds since the epoch as YouTube writes it.
pub fn rfc3339_micros(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:06}+00:00",
        of_day / 3600,
        (of_day % 3600) / 60,
        of_day % 60
    )
}

fn etag(seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    Base64UrlUnpadded::encode_string(&digest)
        .chars()
        .take(27)
        .collect()
}

/// An RFC 6749 error body, as Google's OAuth endpoints write them.
fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        code,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// Google's JSON error format for the Data API.
pub fn google_error(status: u16, domain: &str, reason: &str, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        code,
        Json(json!({"error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }})),
    )
        .into_response()
}

fn unauthenticated() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {
            "code": 401,
            "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError", "location": "Authorization", "locationType": "header"}],
            "status": "UNAUTHENTICATED",
        }})),
    )
        .into_response()
}

fn quota_exceeded() -> Response {
    google_error(
        403,
        "youtube.quota",
        "quotaExceeded",
        "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
    )
}

fn chat_ended() -> Response {
    google_error(
        403,
        "youtube.liveChat",
        "liveChatEnded",
        "The live chat is no longer live.",
    )
}

fn chat_not_found() -> Response {
    google_error(
        404,
        "youtube.liveChat",
        "liveChatNotFound",
        "The live chat that you are trying to retrieve cannot be found.",
    )
}

/// Checks the bearer token and charges the call; an answer means refused.
fn gate(
    state: &mut YoutubeState,
    headers: &HeaderMap,
    method: &str,
    cost: fn(&FakeCosts) -> u32,
) -> Option<Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !state.access_tokens.contains_key(token) {
        return Some(unauthenticated());
    }
    let units = cost(&state.costs);
    if state.spent.saturating_add(units) > state.daily_limit {
        return Some(quota_exceeded());
    }
    state.spent += units;
    *state.spent_by_method.entry(method.to_owned()).or_default() += units;
    None
}

fn record(state: &mut YoutubeState, verb: &str, path: &str, query: &Option<String>) {
    state.requests.push(format!(
        "{verb} {path}?{}",
        query.clone().unwrap_or_default()
    ));
}

async fn authorize(State(state): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    let query = crate::query_pairs(raw);
    let mut state = lock(&state);
    state.authorize_requests.push(query.clone());
    let (Some(redirect), Some(challenge), Some(client_state)) = (
        query.get("redirect_uri"),
        query.get("code_challenge"),
        query.get("state"),
    ) else {
        return oauth_error(
            400,
            "invalid_request",
            "Missing required parameter: redirect_uri, code_challenge or state",
        );
    };
    if query.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return oauth_error(401, "invalid_client", "The OAuth client was not found.");
    }
    if query.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return oauth_error(400, "invalid_request", "code_challenge_method must be S256");
    }
    let code = state.mint("4/fake-code-");
    let scope = query.get("scope").cloned().unwrap_or_default();
    let grant = CodeGrant {
        challenge: challenge.clone(),
        redirect_uri: redirect.clone(),
        scope: scope.clone(),
        offline: query.get("access_type").map(String::as_str) == Some("offline"),
    };
    state.codes.insert(code.clone(), grant);
    let mut target = match reqwest::Url::parse(redirect) {
        Ok(url) => url,
        Err(_) => return oauth_error(400, "invalid_request", "redirect_uri is not a URL"),
    };
    target
        .query_pairs_mut()
        .append_pair("state", client_state)
        .append_pair("code", &code)
        .append_pair("scope", &scope);
    Redirect::to(target.as_str()).into_response()
}

fn check_client(form: &HashMap<String, String>) -> Option<Response> {
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return Some(oauth_error(
            401,
            "invalid_client",
            "The OAuth client was not found.",
        ));
    }
    if form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET) {
        return Some(oauth_error(401, "invalid_client", "Unauthorized"));
    }
    None
}

async fn token(State(state): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let mut state = lock(&state);
    let grant_type = form.get("grant_type").cloned().unwrap_or_default();
    state.token_grants.push(grant_type.clone());
    if grant_type == "urn:ietf:params:oauth:grant-type:device_code" {
        state.device_polls.push(Instant::now());
    }
    if let Some(refusal) = check_client(&form) {
        return refusal;
    }
    match grant_type.as_str() {
        "authorization_code" => {
            let code = form.get("code").cloned().unwrap_or_default();
            let Some(grant) = state.codes.remove(&code) else {
                return oauth_error(400, "invalid_grant", "Malformed auth code.");
            };
            if form.get("redirect_uri") != Some(&grant.redirect_uri) {
                return oauth_error(400, "redirect_uri_mismatch", "Bad Request");
            }
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            if Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()))
                != grant.challenge
            {
                return oauth_error(400, "invalid_grant", "Invalid code verifier.");
            }
            Json(state.issue(&grant.scope, grant.offline)).into_response()
        }
        "refresh_token" => {
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            let Some(grant) = state.refresh_tokens.get(&presented).cloned() else {
                return oauth_error(400, "invalid_grant", "Token has been expired or revoked.");
            };
            let scope = state.grants.get(&grant).cloned().unwrap_or_default();
            let access = state.mint("ya29.fake-access-");
            state.access_tokens.insert(access.clone(), grant.clone());
            let mut answer = json!({"access_token": access, "expires_in": 3599, "scope": scope, "token_type": "Bearer"});
            if state.rotate_refresh_tokens {
                state.refresh_tokens.remove(&presented);
                let refresh = state.mint("1//fake-refresh-");
                state.refresh_tokens.insert(refresh.clone(), grant);
                answer["refresh_token"] = json!(refresh);
            }
            Json(answer).into_response()
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            if !form
                .get("device_code")
                .is_some_and(|code| code.starts_with("fake-device-code-"))
            {
                return oauth_error(400, "invalid_grant", "Malformed device code.");
            }
            if !state.device_script.is_empty() {
                // Status codes as Google is reported to use them; clients go by `error`.
                return match state.device_script.remove(0) {
                    "authorization_pending" => {
                        oauth_error(428, "authorization_pending", "Precondition Required")
                    }
                    "slow_down" => oauth_error(403, "slow_down", "Forbidden"),
                    other => oauth_error(403, other, "Forbidden"),
                };
            }
            let scope = state.device_scope.clone().unwrap_or_default();
            Json(state.issue(&scope, true)).into_response()
        }
        _ => oauth_error(400, "unsupported_grant_type", "Invalid grant_type"),
    }
}

async fn device(
    State(state): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut state = lock(&state);
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return oauth_error(401, "invalid_client", "The OAuth client was not found.");
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    if scope.is_empty()
        || scope
            .split_whitespace()
            .any(|wanted| !DEVICE_ALLOWED_SCOPES.contains(&wanted))
    {
        return oauth_error(400, "invalid_scope", "Invalid device flow scope");
    }
    state.device_scope = Some(scope);
    let device_code = state.mint("fake-device-code-");
    Json(json!({
        "device_code": device_code,
        "user_code": "FAK-EYT-ABC",
        "expires_in": 1800,
        "interval": state.device_interval,
        "verification_url": "https://www.google.com/device",
    }))
    .into_response()
}

async fn revoke(
    State(state): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut state = lock(&state);
    let token = form.get("token").cloned().unwrap_or_default();
    let grant = state
        .access_tokens
        .get(&token)
        .or_else(|| state.refresh_tokens.get(&token))
        .cloned();
    let Some(grant) = grant else {
        return oauth_error(400, "invalid_token", "Token expired or revoked");
    };
    // Revoking either token revokes the grant.
    state.access_tokens.retain(|_, owner| *owner != grant);
    state.refresh_tokens.retain(|_, owner| *owner != grant);
    state.revoked.push(token);
    Json(json!({})).into_response()
}

fn broadcast_resource(broadcast: &FakeBroadcast) -> Value {
    json!({
        "kind": "youtube#liveBroadcast",
        "etag": etag(&broadcast.id),
        "id": broadcast.id,
        "snippet": {
            "publishedAt": broadcast.started_at,
            "channelId": OWNER_CHANNEL_ID,
            "title": broadcast.title,
            "description": "",
            "scheduledStartTime": broadcast.started_at,
            "actualStartTime": broadcast.started_at,
            "isDefaultBroadcast": false,
            "liveChatId": broadcast.chat_id,
        },
        "status": {
            "lifeCycleStatus": if broadcast.live { "live" } else { "complete" },
            "privacyStatus": "public",
            "recordingStatus": if broadcast.live { "recording" } else { "recorded" },
            "madeForKids": false,
            "selfDeclaredMadeForKids": false,
        },
    })
}

async fn broadcasts(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut state = lock(&state);
    record(&mut state, "GET", "/liveBroadcasts", &raw);
    if let Some(refusal) = gate(&mut state, &headers, "liveBroadcasts.list", |costs| {
        costs.broadcasts_list
    }) {
        return refusal;
    }
    let query = crate::query_pairs(raw);
    let filters = ["id", "mine", "broadcastStatus"]
        .iter()
        .filter(|filter| query.contains_key(**filter))
        .count();
    if filters != 1 {
        return google_error(
            400,
            "youtube.liveBroadcast",
            "incompatibleParameters",
            "Incompatible parameters specified in the request: id, mine, broadcastStatus.",
        );
    }
    let chosen: Vec<Value> = state
        .broadcasts
        .iter()
        .filter(|broadcast| {
            if let Some(id) = query.get("id") {
                return id.split(',').any(|wanted| wanted == broadcast.id);
            }
            match query.get("broadcastStatus").map(String::as_str) {
                Some("active") => broadcast.live,
                Some("completed") => !broadcast.live,
                Some("upcoming") => false,
                _ => true,
            }
        })
        .map(broadcast_resource)
        .collect();
    Json(json!({
        "kind": "youtube#liveBroadcastListResponse",
        "etag": etag(&format!("broadcasts-{}", chosen.len())),
        "pageInfo": {"totalResults": chosen.len(), "resultsPerPage": 5},
        "items": chosen,
    }))
    .into_response()
}

/// A body that breaks off: the client sees the connection fail mid-answer.
fn dropped() -> Response {
    let broken =
        futures_util::stream::iter(vec![Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the fake dropped the connection",
        ))]);
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
        .body(Body::from_stream(broken))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn list_messages(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut state = lock(&state);
    record(&mut state, "GET", "/liveChat/messages", &raw);
    state.poll_times.push(Instant::now());
    if let Some(failure) = state.failures.pop_front() {
        return match failure {
            Failure::Drop => dropped(),
            Failure::Status(status) => google_error(
                status,
                "global",
                "backendError",
                "The service is currently unavailable.",
            ),
            Failure::RateLimited => google_error(
                403,
                "youtube.quota",
                "rateLimitExceeded",
                "The request cannot be completed because you have exceeded your quota rate limit.",
            ),
        };
    }
    if let Some(refusal) = gate(&mut state, &headers, "liveChatMessages.list", |costs| {
        costs.messages_list
    }) {
        return refusal;
    }
    let query = crate::query_pairs(raw);
    let chat_id = query.get("liveChatId").cloned().unwrap_or_default();
    let part = query.get("part").cloned().unwrap_or_default();
    if !part.split(',').any(|part| part.trim() == "snippet") {
        return google_error(
            400,
            "youtube.part",
            "unknownPart",
            "part must include snippet",
        );
    }
    let with_authors = part.split(',').any(|part| part.trim() == "authorDetails");
    let page_size = query
        .get("maxResults")
        .and_then(|size| size.parse::<usize>().ok())
        .unwrap_or(500)
        .clamp(200, 2000);
    let interval = state.polling_interval_ms;
    let Some(broadcast) = state
        .broadcasts
        .iter()
        .find(|broadcast| broadcast.chat_id == chat_id)
    else {
        return chat_not_found();
    };
    if broadcast.ending == Some(Ending::ChatEnded) {
        return chat_ended();
    }
    if broadcast.chat_disabled {
        return google_error(
            403,
            "youtube.liveChat",
            "liveChatDisabled",
            "Live chat is not enabled for the specified broadcast.",
        );
    }
    let start = match query.get("pageToken") {
        Some(token) => match token
            .strip_prefix("fakePage")
            .and_then(|index| index.parse::<usize>().ok())
        {
            Some(index) => index.min(broadcast.items.len()),
            None => {
                return google_error(
                    400,
                    "youtube.liveChat",
                    "pageTokenInvalid",
                    "The page token is invalid.",
                );
            }
        },
        None => 0,
    };
    let end = (start + page_size).min(broadcast.items.len());
    let items: Vec<Value> = broadcast.items[start..end]
        .iter()
        .map(|item| {
            let mut item = item.clone();
            if !with_authors && let Some(object) = item.as_object_mut() {
                object.remove("authorDetails");
            }
            item
        })
        .collect();
    let mut answer = json!({
        "kind": "youtube#liveChatMessageListResponse",
        "etag": etag(&format!("{chat_id}-{end}")),
        "pollingIntervalMillis": interval,
        "pageInfo": {"totalResults": broadcast.items.len(), "resultsPerPage": items.len()},
        "nextPageToken": format!("fakePage{end}"),
        "items": items,
    });
    if broadcast.ending == Some(Ending::OfflineAt) {
        answer["offlineAt"] = json!(state.now_text());
    }
    Json(answer).into_response()
}

fn text_item(id: &str, chat_id: &str, text: &str, author: &FakeAuthor, published: &str) -> Value {
    json!({
        "kind": "youtube#liveChatMessage",
        "etag": etag(id),
        "id": id,
        "snippet": {
            "type": "textMessageEvent",
            "liveChatId": chat_id,
            "authorChannelId": author.channel_id,
            "publishedAt": published,
            "hasDisplayContent": true,
            "displayMessage": text,
            "textMessageDetails": {"messageText": text},
        },
        "authorDetails": author.details(),
    })
}

async fn insert_message(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Json(body): Json<Value>,
) -> Response {
    let mut state = lock(&state);
    record(&mut state, "POST", "/liveChat/messages", &raw);
    if let Some(refusal) = gate(&mut state, &headers, "liveChatMessages.insert", |costs| {
        costs.messages_insert
    }) {
        return refusal;
    }
    let snippet = &body["snippet"];
    let chat_id = snippet["liveChatId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let text = snippet["textMessageDetails"]["messageText"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if snippet["type"] != "textMessageEvent" || text.is_empty() {
        return google_error(
            400,
            "youtube.liveChat",
            "invalidValue",
            "snippet.type must be textMessageEvent with textMessageDetails.messageText",
        );
    }
    let id = state.mint("LCC.fake-sent-");
    let published = state.now_text();
    let Some(broadcast) = state
        .broadcasts
        .iter_mut()
        .find(|broadcast| broadcast.chat_id == chat_id)
    else {
        return chat_not_found();
    };
    if broadcast.ending.is_some() {
        return chat_ended();
    }
    // The sender's own message shows up in the chat, as on YouTube.
    let item = text_item(&id, &chat_id, &text, &FakeAuthor::owner(), &published);
    broadcast.items.push(item.clone());
    state.inserted.push(body);
    let mut answer = item;
    if let Some(object) = answer.as_object_mut() {
        object.remove("authorDetails");
    }
    Json(answer).into_response()
}

async fn videos(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut state = lock(&state);
    record(&mut state, "GET", "/videos", &raw);
    if let Some(refusal) = gate(&mut state, &headers, "videos.list", |costs| {
        costs.videos_list
    }) {
        return refusal;
    }
    let query = crate::query_pairs(raw);
    let wanted = query.get("id").cloned().unwrap_or_default();
    let viewers = state.viewers;
    let now = state.now_text();
    let items: Vec<Value> = state
        .broadcasts
        .iter()
        .filter(|broadcast| wanted.split(',').any(|id| id == broadcast.id))
        .map(|broadcast| {
            let mut details = json!({
                "actualStartTime": broadcast.started_at,
                "scheduledStartTime": broadcast.started_at,
            });
            if broadcast.live {
                details["activeLiveChatId"] = json!(broadcast.chat_id);
                if let Some(viewers) = viewers {
                    // uint64 in Google's JSON: a string.
                    details["concurrentViewers"] = json!(viewers.to_string());
                }
            } else {
                details["actualEndTime"] = json!(now);
            }
            json!({"kind": "youtube#video", "etag": etag(&broadcast.id), "id": broadcast.id, "liveStreamingDetails": details})
        })
        .collect();
    Json(json!({
        "kind": "youtube#videoListResponse",
        "etag": etag(&wanted),
        "items": items,
        "pageInfo": {"totalResults": 1, "resultsPerPage": 1},
    }))
    .into_response()
}

async fn channels(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut state = lock(&state);
    record(&mut state, "GET", "/channels", &raw);
    if let Some(refusal) = gate(&mut state, &headers, "channels.list", |costs| {
        costs.channels_list
    }) {
        return refusal;
    }
    let query = crate::query_pairs(raw);
    if query.get("mine").map(String::as_str) != Some("true") {
        return google_error(
            400,
            "youtube.parameter",
            "missingRequiredParameter",
            "No filter selected. Expected one of: mine, id, forHandle, forUsername, managedByMe, categoryId",
        );
    }
    Json(json!({
        "kind": "youtube#channelListResponse",
        "etag": etag("channels"),
        "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
        "items": [{
            "kind": "youtube#channel",
            "etag": etag(OWNER_CHANNEL_ID),
            "id": OWNER_CHANNEL_ID,
            "snippet": {
                "title": OWNER_TITLE,
                "description": "",
                "customUrl": "@roadietest",
                "publishedAt": "2020-01-01T00:00:00Z",
            },
        }],
    }))
    .into_response()
}

/// A running fake YouTube; it stops when dropped.
#[derive(Debug)]
pub struct FakeYoutube {
    address: std::net::SocketAddr,
    /// The shared state.
    pub state: Arc<Mutex<YoutubeState>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeYoutube {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeYoutube {
    /// Starts with the defaults: one live broadcast, 500 ms polling interval.
    pub async fn start() -> FakeYoutube {
        FakeYoutube::start_with(FakeYoutubeOptions::default()).await
    }

    /// Starts with `options`.
    pub async fn start_with(options: FakeYoutubeOptions) -> FakeYoutube {
        let mut initial = YoutubeState {
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            grants: HashMap::new(),
            rotate_refresh_tokens: options.rotate_refresh_tokens,
            revoked: Vec::new(),
            authorize_requests: Vec::new(),
            token_grants: Vec::new(),
            device_script: Vec::new(),
            device_polls: Vec::new(),
            device_scope: None,
            device_interval: options.device_interval,
            broadcasts: Vec::new(),
            polling_interval_ms: options.polling_interval_ms,
            costs: options.costs,
            daily_limit: options.daily_limit,
            spent: 0,
            spent_by_method: BTreeMap::new(),
            poll_times: Vec::new(),
            inserted: Vec::new(),
            failures: VecDeque::new(),
            viewers: Some(1234),
            requests: Vec::new(),
            clock_offset_micros: 0,
            counter: 0,
        };
        if options.live {
            initial.new_broadcast("Fake stream");
        }
        let state: Shared = Arc::new(Mutex::new(initial));
        let app = Router::new()
            .route("/o/oauth2/v2/auth", get(authorize))
            .route("/token", post(token))
            .route("/device/code", post(device))
            .route("/revoke", post(revoke))
            .route("/youtube/v3/liveBroadcasts", get(broadcasts))
            .route(
                "/youtube/v3/liveChat/messages",
                get(list_messages).post(insert_message),
            )
            .route("/youtube/v3/videos", get(videos))
            .route("/youtube/v3/channels", get(channels))
            .with_state(Arc::clone(&state));
        let (address, server) = crate::serve_on_loopback(app).await;
        FakeYoutube {
            address,
            state,
            server,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The `auth_url` to configure.
    pub fn auth_url(&self) -> String {
        format!("{}/o/oauth2/v2/auth", self.base_url())
    }

    /// The `token_url` to configure.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url())
    }

    /// The `device_url` to configure.
    pub fn device_url(&self) -> String {
        format!("{}/device/code", self.base_url())
    }

    /// Where tokens are revoked.
    pub fn revoke_url(&self) -> String {
        format!("{}/revoke", self.base_url())
    }

    /// The `api_url` to configure.
    pub fn api_url(&self) -> String {
        format!("{}/youtube/v3", self.base_url())
    }

    /// A `[youtube]` config section pointing Roadie at the fake.
    pub fn config_section(&self) -> String {
        let daily_quota = self.with(|state| state.daily_limit);
        format!(
            "[youtube]\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\nauth_url = \"{}\"\ntoken_url = \"{}\"\ndevice_url = \"{}\"\napi_url = \"{}\"\ndaily_quota = {daily_quota}\n",
            self.auth_url(),
            self.token_url(),
            self.device_url(),
            self.api_url()
        )
    }

    /// Runs `change` on the state.
    pub fn with<T>(&self, change: impl FnOnce(&mut YoutubeState) -> T) -> T {
        change(&mut lock(&self.state))
    }

    /// Issues a token pair as a completed sign-in would: `(access, refresh)`.
    pub fn mint_tokens(&self) -> (String, String) {
        let answer = self.with(|state| state.issue(YOUTUBE_SCOPE, true));
        (
            answer["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            answer["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }

    /// Expires an access token: the Data API answers 401 to it from now on.
    pub fn expire_access_token(&self, token: &str) {
        self.with(|state| state.access_tokens.remove(token));
    }

    /// Expires every access token.
    pub fn expire_access_tokens(&self) {
        self.with(|state| state.access_tokens.clear());
    }

    /// Revokes every refresh token (a refresh then fails with `invalid_grant`).
    pub fn revoke_refresh_tokens(&self) {
        self.with(|state| state.refresh_tokens.clear());
    }

    /// Scripts the next device polls' refusals, in order, before approval.
    pub fn script_device(&self, answers: &[&'static str]) {
        self.with(|state| state.device_script = answers.to_vec());
    }

    /// When each device poll arrived.
    pub fn device_polls(&self) -> Vec<Instant> {
        self.with(|state| state.device_polls.clone())
    }

    /// The live chat's id, if a broadcast is live.
    pub fn live_chat_id(&self) -> Option<String> {
        self.with(|state| state.live_broadcast().map(|live| live.chat_id.clone()))
    }

    /// Adds a text message by `author` to the live chat.
    pub fn inject_chat(&self, id: &str, text: &str, author: &FakeAuthor) {
        self.with(|state| {
            let published = state.now_text();
            if let Some(live) = state.live_broadcast() {
                let item = text_item(id, &live.chat_id, text, author, &published);
                live.items.push(item);
            }
        });
    }

    /// Adds a text message by the viewer "Fake Viewer" to the live chat.
    pub fn inject_text(&self, id: &str, text: &str) {
        self.inject_chat(id, text, &FakeAuthor::viewer("Fake Viewer"));
    }

    /// Adds any item (a `liveChatMessage` resource) to the live chat; its
    /// `snippet.liveChatId` is set to the live chat's.
    pub fn inject_item(&self, mut item: Value) {
        self.with(|state| {
            if let Some(live) = state.live_broadcast() {
                if item["snippet"].is_object() {
                    item["snippet"]["liveChatId"] = json!(live.chat_id);
                }
                live.items.push(item);
            }
        });
    }

    /// Adds one text message per number in `numbers` (id `{prefix}{n}`, from a
    /// rotating cast of viewers) to the live chat in one go; they are served in pages
    /// of up to 2,000 items (`maxResults`).
    pub fn flood(&self, prefix: &str, numbers: std::ops::Range<usize>) {
        let authors: Vec<FakeAuthor> = (0..50)
            .map(|index| FakeAuthor::viewer(&format!("viewer{index}")))
            .collect();
        self.with(|state| {
            let published = state.now_text();
            if let Some(live) = state.live_broadcast() {
                let chat_id = live.chat_id.clone();
                live.items.reserve(numbers.len());
                for number in numbers {
                    let author = &authors[number % authors.len()];
                    live.items.push(text_item(
                        &format!("{prefix}{number}"),
                        &chat_id,
                        &format!("flood message {number}: gg that was a clean run, KEKW"),
                        author,
                        &published,
                    ));
                }
            }
        });
    }

    /// Texts of the messages posted through `liveChatMessages.insert`, in order.
    pub fn received_chats(&self) -> Vec<String> {
        self.with(|state| {
            state
                .inserted
                .iter()
                .filter_map(|body| {
                    body["snippet"]["textMessageDetails"]["messageText"]
                        .as_str()
                        .map(str::to_owned)
                })
                .collect()
        })
    }

    /// When each `liveChatMessages.list` call arrived.
    pub fn poll_times(&self) -> Vec<Instant> {
        self.with(|state| state.poll_times.clone())
    }

    /// Units charged since the last reset.
    pub fn quota_spent(&self) -> u32 {
        self.with(|state| state.spent)
    }

    /// Units charged per method.
    pub fn spent_by_method(&self) -> BTreeMap<String, u32> {
        self.with(|state| state.spent_by_method.clone())
    }

    /// A new quota day: nothing spent.
    pub fn reset_quota(&self) {
        self.with(|state| {
            state.spent = 0;
            state.spent_by_method.clear();
        });
    }

    /// Changes the daily limit.
    pub fn set_daily_limit(&self, units: u32) {
        self.with(|state| state.daily_limit = units);
    }

    /// Changes `pollingIntervalMillis`.
    pub fn set_polling_interval(&self, millis: u64) {
        self.with(|state| state.polling_interval_ms = millis);
    }

    /// Moves the fake's clock (the times it writes) by `offset`, as a test moves the
    /// adapter's wall clock.
    pub fn advance_clock(&self, offset: std::time::Duration) {
        self.with(|state| {
            state.clock_offset_micros += i64::try_from(offset.as_micros()).unwrap_or(i64::MAX);
        });
    }

    /// Changes the concurrent viewer count (`None`: hidden).
    pub fn set_viewers(&self, viewers: Option<u64>) {
        self.with(|state| state.viewers = viewers);
    }

    /// Ends the live broadcast: it is no longer active, and its chat answers with
    /// `offlineAt` or 403 `liveChatEnded`.
    pub fn end_broadcast(&self, how: Ending) {
        self.with(|state| {
            if let Some(live) = state.live_broadcast() {
                live.live = false;
                live.ending = Some(how);
            }
        });
    }

    /// Disables the live broadcast's chat (403 `liveChatDisabled`).
    pub fn disable_chat(&self) {
        self.with(|state| {
            if let Some(live) = state.live_broadcast() {
                live.chat_disabled = true;
            }
        });
    }

    /// Turns the live broadcast's chat back on.
    pub fn enable_chat(&self) {
        self.with(|state| {
            if let Some(live) = state.live_broadcast() {
                live.chat_disabled = false;
            }
        });
    }

    /// Starts a new live broadcast titled `title`: `(broadcast id, live chat id)`.
    pub fn start_broadcast(&self, title: &str) -> (String, String) {
        self.with(|state| state.new_broadcast(title))
    }

    /// Makes the next chat poll fail abruptly (the connection breaks mid-answer).
    pub fn drop_next_poll(&self) {
        self.with(|state| state.failures.push_back(Failure::Drop));
    }

    /// Makes the next chat polls fail with `failure`, `count` times.
    pub fn fail_next_polls(&self, count: usize, failure: Failure) {
        self.with(|state| state.failures.extend(std::iter::repeat_n(failure, count)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_like_youtube() {
        assert_eq!(
            rfc3339_micros(1_685_045_288_479_833),
            "2023-05-25T20:08:08.479833+00:00"
        );
        assert_eq!(rfc3339_micros(0), "1970-01-01T00:00:00.000000+00:00");
        assert_eq!(
            rfc3339_micros(951_782_400_000_000),
            "2000-02-29T00:00:00.000000+00:00"
        );
    }
}
