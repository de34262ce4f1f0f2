//! A fake Kick on 127.0.0.1:0: OAuth (id.kick.com), the public API, the channel-info endpoint and a Pusher-protocol WebSocket, fed from the real fixtures.
//!
//! One HTTP server carries Kick's three HTTP hosts under their real paths:
//! `/oauth/{token,revoke,token/introspect}` (id.kick.com: code exchange checking the
//! PKCE verifier and the client secret, refresh rotating both tokens, revocation with
//! its parameters in the query string, introspection), `/public/v1/...`
//! (api.kick.com: `/users`, `/channels?slug=`, `/chat` with a switchable HTTP 500 for
//! `type: bot`, `/channels/rewards/redemptions[/accept|/reject]`, `/public-key`, `/events/subscriptions` listing and creating webhook subscriptions with per-event errors; 401 for
//! unknown or expired tokens, answers wrapped as `{"data", "message"}`) and
//! `/api/v2/channels/{slug}` (kick.com's channel information). A second listener speaks
//! Pusher protocol 7 over WebSocket: `pusher:connection_established` with
//! `activity_timeout`, subscribe → `pusher_internal:subscription_succeeded`,
//! `pusher:ping`/`pusher:pong`, events with double-encoded `data` on named channels,
//! closes with a chosen code, and abrupt drops (TCP closed without a close frame).
//!
//! Payloads are built on the captured and documented ones in `data/kick/` (see its
//! SOURCES.md). Webhooks are signed with a throwaway key whose public half the fake
//! serves at `/public-key`, exactly as Kick signs (RSASSA-PKCS1-v1_5 / SHA-256 over
//! `{message_id}.{timestamp}.{body}`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Form, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use futures_util::{SinkExt, StreamExt};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Value, json};
use sha2::Digest;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const CHAT_EVENT: &str = include_str!("../data/kick/kick_pusher_ChatMessageEvent_badges.json");
const ESTABLISHED: &str = include_str!("../data/kick/kick_pusher_connection_established.json");
const USER: &str = include_str!("../data/kick/kick_api_get_users_item.json");
const CHANNEL: &str = include_str!("../data/kick/kick_api_get_channels_item.json");
const CHAT_SENT: &str = include_str!("../data/kick/kick_api_post_chat_response_data.json");
const SUBSCRIPTION: &str =
    include_str!("../data/kick/kick_api_post_events_subscriptions_response_item.json");
const INTROSPECT: &str = include_str!("../data/kick/kick_api_token_introspect_data.json");
const REDEMPTIONS: &str =
    include_str!("../data/kick/kick_api_get_channel_reward_redemptions_data.json");
const PRIVATE_KEY: &str = include_str!("../data/kick/fake_kick_webhook_private_key.pem");
/// The public key the fake serves at `/public-key` (PEM).
pub const PUBLIC_KEY: &str = include_str!("../data/kick/fake_kick_webhook_public_key.pem");

/// The client id the fake accepts.
pub const CLIENT_ID: &str = "fake-kick-client";
/// The client secret the fake requires.
pub const CLIENT_SECRET: &str = "fake-kick-secret";
/// Kick's Pusher app key (the fake serves `/app/<key>`).
pub const APP_KEY: &str = "32cbd69e4b950bf97679";

/// The channel the fake serves, and how its Pusher server behaves.
#[derive(Debug, Clone)]
pub struct FakeKickOptions {
    /// The channel slug.
    pub slug: String,
    /// The chatroom id (the captured chat frame's).
    pub chatroom_id: u64,
    /// The channel id.
    pub channel_id: u64,
    /// The broadcaster's user id.
    pub user_id: u64,
    /// `activity_timeout` announced in `pusher:connection_established` (120 in the capture).
    pub activity_timeout_secs: u64,
}

impl Default for FakeKickOptions {
    fn default() -> Self {
        FakeKickOptions {
            slug: "roadie-fake".into(),
            chatroom_id: 332_923,
            channel_id: 1_174_682,
            user_id: 1_185_563,
            activity_timeout_secs: 120,
        }
    }
}

/// What the fake saw, and how it should behave next. Open for tests.
#[derive(Debug, Default)]
pub struct KickState {
    /// Authorization codes: code -> (PKCE challenge, redirect_uri, scopes).
    pub codes: HashMap<String, (String, String, Vec<String>)>,
    /// Valid access tokens -> scopes.
    pub access_tokens: HashMap<String, Vec<String>>,
    /// Valid refresh tokens (single use: a refresh rotates both).
    pub refresh_tokens: Vec<String>,
    /// Revocations: (token, token_hint_type).
    pub revoked: Vec<(String, String)>,
    /// Every token request's grant type, in order.
    pub grants: Vec<String>,
    /// Answer `expires_in` as a string, as Kick's docs show it.
    pub expires_in_as_string: bool,
    /// Every `POST /chat` request: (body, bearer token), in order.
    pub chat_requests: Vec<(Value, String)>,
    /// Texts of chat messages sent successfully, in order.
    pub chats: Vec<String>,
    /// `type: bot` chat answers HTTP 500 (Kick's known problem).
    pub bot_chat_fails: bool,
    /// The next chat messages are answered `is_sent: false` with this message.
    pub chat_not_sent: Option<String>,
    /// Whether the channel is live.
    pub live: bool,
    /// Viewers while live.
    pub viewers: u64,
    /// Accept/reject calls: ("accept" | "reject", ids).
    pub redemption_calls: Vec<(String, Vec<String>)>,
    /// Redemption ids that fail, with Kick's reason (`NOT_PENDING`...).
    pub failing_redemptions: HashMap<String, String>,
    /// Pending redemption groups served by `GET /channels/rewards/redemptions`.
    pub pending_redemptions: Vec<Value>,
    /// Paths and queries of API GETs, in order.
    pub gets: Vec<String>,
    /// Bearer tokens presented to the API, in order.
    pub bearer_tokens: Vec<String>,
    /// Status to answer the channel-info endpoint with instead of the channel (e.g.
    /// 403, as Cloudflare does).
    pub channel_info_status: Option<u16>,
    /// Channel-info requests seen.
    pub channel_info_requests: usize,
    /// Webhook event subscriptions, as `GET /events/subscriptions` lists them.
    pub event_subscriptions: Vec<Value>,
    /// `POST /events/subscriptions` bodies, in order.
    pub subscribe_requests: Vec<Value>,
    /// Events `POST /events/subscriptions` refuses, with the per-event error.
    pub refused_events: HashMap<String, String>,
    counter: u64,
}

impl KickState {
    fn mint(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}-{}", self.counter)
    }

    fn issue(&mut self, scopes: Vec<String>) -> Value {
        let access = self.mint("kick-access");
        let refresh = self.mint("kick-refresh");
        self.access_tokens.insert(access.clone(), scopes.clone());
        self.refresh_tokens.push(refresh.clone());
        let expires_in = if self.expires_in_as_string {
            json!("7200")
        } else {
            json!(7200)
        };
        json!({"access_token": access, "token_type": "Bearer", "refresh_token": refresh,
               "expires_in": expires_in, "scope": scopes.join(" ")})
    }
}

#[derive(Debug)]
enum Command {
    Send(String),
    SendMany(Vec<String>),
    Close(u16, String),
    Drop,
}

#[derive(Debug)]
struct Connection {
    subscribed: HashSet<String>,
    commands: mpsc::UnboundedSender<Command>,
    open: bool,
}

#[derive(Debug, Default)]
struct PusherRegistry {
    connections: Vec<Connection>,
    /// Frames clients sent, in order.
    client_frames: Vec<String>,
    /// Request paths (with query) of WebSocket connections.
    paths: Vec<String>,
    pings: usize,
    pongs: usize,
    /// Do not answer `pusher:ping` (to test the client's pong timeout).
    silent: bool,
}

/// A webhook delivery signed as Kick signs: the `Kick-Event-*` header values and the
/// raw body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedWebhook {
    /// `Kick-Event-Message-Id`.
    pub message_id: String,
    /// `Kick-Event-Subscription-Id`.
    pub subscription_id: String,
    /// `Kick-Event-Signature`.
    pub signature: String,
    /// `Kick-Event-Message-Timestamp`.
    pub timestamp: String,
    /// `Kick-Event-Type`.
    pub event_type: String,
    /// `Kick-Event-Version`.
    pub event_version: String,
    /// The raw body.
    pub body: String,
}

/// A running fake Kick; both servers stop when it is dropped.
#[derive(Debug)]
pub struct FakeKick {
    http_address: std::net::SocketAddr,
    pusher_address: std::net::SocketAddr,
    /// The HTTP side's state.
    pub state: Arc<Mutex<KickState>>,
    pusher: Arc<Mutex<PusherRegistry>>,
    options: FakeKickOptions,
    accepted: Arc<AtomicUsize>,
    counter: AtomicU64,
    http_server: tokio::task::JoinHandle<()>,
    pusher_server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeKick {
    fn drop(&mut self) {
        self.http_server.abort();
        self.pusher_server.abort();
        if let Ok(registry) = self.pusher.lock() {
            for connection in &registry.connections {
                let _ = connection.commands.send(Command::Drop);
            }
        }
    }
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<KickState>>,
    options: FakeKickOptions,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn template(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// Kick's API wrapper.
fn wrapped(data: Value) -> Response {
    Json(json!({"data": data, "message": "OK"})).into_response()
}

fn api_error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (code, Json(json!({"data": null, "message": message}))).into_response()
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        code,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned()
}

/// Checks the bearer token; records it.
fn gate(state: &mut KickState, headers: &HeaderMap) -> Option<Response> {
    let token = bearer(headers);
    state.bearer_tokens.push(token.clone());
    if state.access_tokens.contains_key(&token) {
        None
    } else {
        Some(api_error(401, "Unauthorized"))
    }
}

/// Now as RFC 3339 UTC (`2026-01-08T10:12:23Z`), with `offset_s` added.
fn rfc3339(offset_s: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs() as i64 + offset_s;
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
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

async fn token(
    State(shared): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut state = lock(&shared.state);
    let grant = form.get("grant_type").cloned().unwrap_or_default();
    state.grants.push(grant.clone());
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return oauth_error(401, "invalid_client", "unknown client_id");
    }
    // Kick wants the secret even with PKCE.
    if form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET) {
        return oauth_error(401, "invalid_client", "client_secret missing or wrong");
    }
    match grant.as_str() {
        "authorization_code" => {
            let code = form.get("code").cloned().unwrap_or_default();
            let Some((challenge, redirect, scopes)) = state.codes.remove(&code) else {
                return oauth_error(400, "invalid_grant", "unknown or used code");
            };
            if form.get("redirect_uri") != Some(&redirect) {
                return oauth_error(400, "invalid_grant", "redirect_uri does not match");
            }
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            if Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes())) != challenge {
                return oauth_error(400, "invalid_grant", "code_verifier does not match");
            }
            Json(state.issue(scopes)).into_response()
        }
        "refresh_token" => {
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            let Some(position) = state.refresh_tokens.iter().position(|t| *t == presented) else {
                return oauth_error(400, "invalid_grant", "invalid refresh token");
            };
            // Rotation: the old refresh token is single-use.
            state.refresh_tokens.remove(position);
            let scopes = vec![
                "user:read".to_owned(),
                "channel:read".to_owned(),
                "chat:write".to_owned(),
            ];
            Json(state.issue(scopes)).into_response()
        }
        _ => oauth_error(400, "unsupported_grant_type", "unsupported grant_type"),
    }
}

async fn revoke(State(shared): State<Shared>, RawQuery(raw): RawQuery, body: Bytes) -> Response {
    // Kick takes the parameters in the query string; a form body is not read.
    let query = crate::query_pairs(raw);
    let (Some(token), Some(hint)) = (query.get("token"), query.get("token_hint_type")) else {
        let detail = if body.is_empty() {
            "token and token_hint_type are required in the query"
        } else {
            "token and token_hint_type go in the query string, not the body"
        };
        return oauth_error(400, "invalid_request", detail);
    };
    let mut state = lock(&shared.state);
    let known = match hint.as_str() {
        "access_token" => state.access_tokens.remove(token).is_some(),
        "refresh_token" => {
            let before = state.refresh_tokens.len();
            state.refresh_tokens.retain(|refresh| refresh != token);
            state.refresh_tokens.len() != before
        }
        _ => return oauth_error(400, "invalid_request", "unknown token_hint_type"),
    };
    if known {
        state.revoked.push((token.clone(), hint.clone()));
    }
    (StatusCode::OK, "OK").into_response()
}

async fn introspect(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let state = lock(&shared.state);
    let token = bearer(&headers);
    match state.access_tokens.get(&token) {
        Some(scopes) => {
            let mut data = template(INTROSPECT);
            data["client_id"] = json!(CLIENT_ID);
            data["token_type"] = json!("user");
            data["scope"] = json!(scopes.join(" "));
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            data["exp"] = json!(now + 7200);
            wrapped(data)
        }
        None => wrapped(json!({"active": false})),
    }
}

async fn users(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let mut state = lock(&shared.state);
    state.gets.push("/users".into());
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    let mut user = template(USER);
    user["user_id"] = json!(shared.options.user_id);
    user["name"] = json!(shared.options.slug);
    user["email"] = json!(format!("{}@example.com", shared.options.slug));
    wrapped(json!([user]))
}

async fn channels(
    State(shared): State<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut state = lock(&shared.state);
    state
        .gets
        .push(format!("/channels?{}", raw.clone().unwrap_or_default()));
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    let query = crate::query_pairs(raw);
    if query.get("slug") != Some(&shared.options.slug) {
        return wrapped(json!([]));
    }
    let mut channel = template(CHANNEL);
    channel["slug"] = json!(shared.options.slug);
    channel["broadcaster_user_id"] = json!(shared.options.user_id);
    channel["stream"]["is_live"] = json!(state.live);
    channel["stream"]["viewer_count"] = json!(if state.live { state.viewers } else { 0 });
    wrapped(json!([channel]))
}

async fn chat(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut state = lock(&shared.state);
    let token = bearer(&headers);
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    state.chat_requests.push((body.clone(), token));
    let content = body["content"].as_str().unwrap_or_default().to_owned();
    if content.is_empty() || content.chars().count() > 500 {
        return api_error(422, "content must be 1 to 500 characters");
    }
    match body["type"].as_str() {
        Some("bot") if state.bot_chat_fails => {
            return api_error(500, "Internal Server Error");
        }
        Some("bot") => {}
        Some("user") => {
            let broadcaster = body["broadcaster_user_id"].as_u64().or_else(|| {
                body["broadcaster_user_id"]
                    .as_str()
                    .and_then(|id| id.parse().ok())
            });
            if broadcaster != Some(shared.options.user_id) {
                return api_error(400, "broadcaster_user_id is required for type user");
            }
        }
        _ => return api_error(400, "type must be user or bot"),
    }
    let mut data = template(CHAT_SENT);
    if let Some(reason) = state.chat_not_sent.clone() {
        data["is_sent"] = json!(false);
        data["message_id"] = json!("");
        return Json(json!({"data": data, "message": reason})).into_response();
    }
    let id = state.mint("kick-chat");
    data["message_id"] = json!(id);
    state.chats.push(content);
    wrapped(data)
}

async fn redemptions(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let mut state = lock(&shared.state);
    state.gets.push("/channels/rewards/redemptions".into());
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    wrapped(Value::Array(state.pending_redemptions.clone()))
}

async fn finish(shared: Shared, action: &str, headers: HeaderMap, body: Value) -> Response {
    let mut state = lock(&shared.state);
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    let Some(ids) = body["ids"].as_array() else {
        return api_error(400, "ids is required");
    };
    let ids: Vec<String> = ids
        .iter()
        .filter_map(|id| id.as_str().map(str::to_owned))
        .collect();
    if ids.is_empty() || ids.len() > 25 {
        return api_error(400, "ids must hold 1 to 25 ids");
    }
    state
        .redemption_calls
        .push((action.to_owned(), ids.clone()));
    let failed: Vec<Value> = ids
        .iter()
        .filter_map(|id| {
            state
                .failing_redemptions
                .get(id)
                .map(|reason| json!({"id": id, "reason": reason}))
        })
        .collect();
    wrapped(Value::Array(failed))
}

async fn accept(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    finish(shared, "accept", headers, body).await
}

async fn reject(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    finish(shared, "reject", headers, body).await
}

async fn list_subscriptions(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let mut state = lock(&shared.state);
    state.gets.push("/events/subscriptions".into());
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    wrapped(Value::Array(state.event_subscriptions.clone()))
}

/// Creates subscriptions as Kick does: one answer per event asked for, with its
/// subscription id or its error.
async fn subscribe(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut state = lock(&shared.state);
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    state.subscribe_requests.push(body.clone());
    if body["method"] != "webhook" {
        return api_error(400, "method must be webhook");
    }
    let Some(events) = body["events"].as_array() else {
        return api_error(400, "events is required");
    };
    let broadcaster = body["broadcaster_user_id"]
        .as_u64()
        .unwrap_or(shared.options.user_id);
    let mut answers = Vec::new();
    for event in events {
        let name = event["name"].as_str().unwrap_or_default().to_owned();
        let version = event["version"].as_u64().unwrap_or(1);
        if let Some(error) = state.refused_events.get(&name).cloned() {
            answers.push(
                json!({"name": name, "version": version, "subscription_id": null, "error": error}),
            );
            continue;
        }
        let id = state.mint("kick-subscription");
        let mut listed = template(SUBSCRIPTION);
        listed["id"] = json!(id);
        listed["app_id"] = json!(CLIENT_ID);
        listed["broadcaster_user_id"] = json!(broadcaster);
        listed["event"] = json!(name);
        listed["method"] = json!("webhook");
        listed["version"] = json!(version);
        state.event_subscriptions.push(listed);
        answers
            .push(json!({"name": name, "version": version, "subscription_id": id, "error": null}));
    }
    wrapped(Value::Array(answers))
}

async fn public_key() -> Response {
    wrapped(json!({"public_key": PUBLIC_KEY}))
}

async fn channel_info(State(shared): State<Shared>, Path(slug): Path<String>) -> Response {
    let mut state = lock(&shared.state);
    state.channel_info_requests += 1;
    if let Some(status) = state.channel_info_status {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
        return (code, "Just a moment...").into_response();
    }
    if slug != shared.options.slug {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Not found"}))).into_response();
    }
    let options = &shared.options;
    // The fields Roadie reads (no captured answer exists in the fixtures): the
    // channel id, the broadcaster's user id and `chatroom.id`, which all differ.
    Json(json!({
        "id": options.channel_id,
        "user_id": options.user_id,
        "slug": options.slug,
        "chatroom": {"id": options.chatroom_id, "channel_id": options.channel_id},
        "user": {"id": options.user_id, "username": options.slug},
        "livestream": null
    }))
    .into_response()
}

impl FakeKick {
    /// Starts the fake with the default channel.
    pub async fn start() -> FakeKick {
        FakeKick::start_with(FakeKickOptions::default()).await
    }

    /// Starts the fake for `options`.
    pub async fn start_with(options: FakeKickOptions) -> FakeKick {
        let state: Arc<Mutex<KickState>> = Arc::default();
        let shared = Shared {
            state: Arc::clone(&state),
            options: options.clone(),
        };
        let app = Router::new()
            .route("/oauth/token", post(token))
            .route("/oauth/revoke", post(revoke))
            .route("/oauth/token/introspect", post(introspect))
            .route("/public/v1/users", get(users))
            .route("/public/v1/channels", get(channels))
            .route("/public/v1/chat", post(chat))
            .route("/public/v1/channels/rewards/redemptions", get(redemptions))
            .route(
                "/public/v1/channels/rewards/redemptions/accept",
                post(accept),
            )
            .route(
                "/public/v1/channels/rewards/redemptions/reject",
                post(reject),
            )
            .route("/public/v1/public-key", get(public_key))
            .route(
                "/public/v1/events/subscriptions",
                get(list_subscriptions).post(subscribe),
            )
            .route("/api/v2/channels/{slug}", get(channel_info))
            .with_state(shared);
        let (http_address, http_server) = crate::serve_on_loopback(app).await;

        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|error| panic!("bind: {error}"));
        let pusher_address = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("address: {error}"));
        let pusher: Arc<Mutex<PusherRegistry>> = Arc::default();
        let accepted: Arc<AtomicUsize> = Arc::default();
        let server_pusher = Arc::clone(&pusher);
        let server_accepted = Arc::clone(&accepted);
        let activity = options.activity_timeout_secs;
        let pusher_server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let number = server_accepted.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::spawn(serve_pusher(
                    stream,
                    number,
                    Arc::clone(&server_pusher),
                    activity,
                ));
            }
        });
        FakeKick {
            http_address,
            pusher_address,
            state,
            pusher,
            options,
            accepted,
            counter: AtomicU64::new(0),
            http_server,
            pusher_server,
        }
    }

    /// The options it runs with.
    pub fn options(&self) -> &FakeKickOptions {
        &self.options
    }

    /// `auth_url`: `http://127.0.0.1:PORT` (OAuth under `/oauth/...`).
    pub fn auth_url(&self) -> String {
        format!("http://{}", self.http_address)
    }

    /// `api_url`: `http://127.0.0.1:PORT/public/v1`.
    pub fn api_url(&self) -> String {
        format!("http://{}/public/v1", self.http_address)
    }

    /// `channel_info_url`: `http://127.0.0.1:PORT/api/v2/channels`.
    pub fn channel_info_url(&self) -> String {
        format!("http://{}/api/v2/channels", self.http_address)
    }

    /// `pusher_url`, shaped like Kick's.
    pub fn pusher_url(&self) -> String {
        format!(
            "ws://{}/app/{APP_KEY}?protocol=7&client=js&version=8.4.0&flash=false",
            self.pusher_address
        )
    }

    /// A `[kick]` config section pointing at the fake.
    pub fn config_section(&self) -> String {
        format!(
            "[kick]\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\nchannel = \"{}\"\nauth_url = \"{}\"\napi_url = \"{}\"\npusher_url = \"{}\"\nchannel_info_url = \"{}\"\n",
            self.options.slug,
            self.auth_url(),
            self.api_url(),
            self.pusher_url(),
            self.channel_info_url()
        )
    }

    /// Runs `f` on the HTTP side's state.
    pub fn with<T>(&self, f: impl FnOnce(&mut KickState) -> T) -> T {
        f(&mut lock(&self.state))
    }

    // --- OAuth ---

    /// Issues a token pair as a completed sign-in would: `(access, refresh)`.
    pub fn mint_tokens(&self, scopes: &[&str]) -> (String, String) {
        let answer =
            self.with(|state| state.issue(scopes.iter().map(|s| (*s).to_owned()).collect()));
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

    /// Registers an authorization code as `/oauth/authorize` would have issued it.
    pub fn register_code(&self, code: &str, challenge: &str, redirect_uri: &str, scopes: &[&str]) {
        self.with(|state| {
            state.codes.insert(
                code.to_owned(),
                (
                    challenge.to_owned(),
                    redirect_uri.to_owned(),
                    scopes.iter().map(|s| (*s).to_owned()).collect(),
                ),
            );
        });
    }

    /// Expires an access token: the API answers 401 to it from now on.
    pub fn expire_access_token(&self, token: &str) {
        self.with(|state| state.access_tokens.remove(token));
    }

    /// Revokes every refresh token (a refresh then fails: sign-in needed).
    pub fn revoke_refresh_tokens(&self) {
        self.with(|state| state.refresh_tokens.clear());
    }

    /// Revocations received: (token, token_hint_type).
    pub fn revocations(&self) -> Vec<(String, String)> {
        self.with(|state| state.revoked.clone())
    }

    // --- API ---

    /// Chat texts sent successfully, in order.
    pub fn received_chats(&self) -> Vec<String> {
        self.with(|state| state.chats.clone())
    }

    /// Every `POST /chat` request: (body, bearer token).
    pub fn chat_requests(&self) -> Vec<(Value, String)> {
        self.with(|state| state.chat_requests.clone())
    }

    /// Makes `type: bot` chat answer HTTP 500 (or stop doing so).
    pub fn set_bot_chat_fails(&self, fails: bool) {
        self.with(|state| state.bot_chat_fails = fails);
    }

    /// Sets the live status and the viewer count.
    pub fn set_live(&self, live: bool, viewers: u64) {
        self.with(|state| {
            state.live = live;
            state.viewers = viewers;
        });
    }

    /// Accept/reject calls received: ("accept" | "reject", ids).
    pub fn redemption_calls(&self) -> Vec<(String, Vec<String>)> {
        self.with(|state| state.redemption_calls.clone())
    }

    /// Lists a pending redemption of `reward_title` by `user_id` (the documented list
    /// shape, ids filled in).
    pub fn add_pending_redemption(
        &self,
        redemption_id: &str,
        user_id: u64,
        reward_title: &str,
        cost: u64,
    ) {
        let mut group = template(REDEMPTIONS);
        group["reward"]["id"] = json!(format!("reward-{redemption_id}"));
        group["reward"]["title"] = json!(reward_title);
        group["reward"]["cost"] = json!(cost);
        group["redemptions"][0]["id"] = json!(redemption_id);
        group["redemptions"][0]["redeemer"]["user_id"] = json!(user_id);
        group["redemptions"][0]["redeemed_at"] = json!(rfc3339(0));
        self.with(|state| state.pending_redemptions.push(group));
    }

    // --- Webhooks ---

    /// Signs `body` as a delivery of `event_type` now, with a fresh message id.
    pub fn sign_webhook(&self, event_type: &str, body: &str) -> SignedWebhook {
        let number = self.counter.fetch_add(1, Ordering::SeqCst);
        self.sign_webhook_as(
            event_type,
            body,
            &format!("01FAKEKICK{number:016}"),
            &rfc3339(0),
        )
    }

    /// Signs `body` with the given message id and timestamp.
    pub fn sign_webhook_as(
        &self,
        event_type: &str,
        body: &str,
        message_id: &str,
        timestamp: &str,
    ) -> SignedWebhook {
        static KEY: OnceLock<Option<SigningKey<Sha256>>> = OnceLock::new();
        let key = KEY.get_or_init(|| {
            rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE_KEY)
                .ok()
                .map(SigningKey::<Sha256>::new)
        });
        let signed = format!("{message_id}.{timestamp}.{body}");
        let signature = key
            .as_ref()
            .map(|key| Base64::encode_string(&key.sign(signed.as_bytes()).to_bytes()))
            .unwrap_or_default();
        SignedWebhook {
            message_id: message_id.to_owned(),
            subscription_id: "01FAKESUBSCRIPTION".into(),
            signature,
            timestamp: timestamp.to_owned(),
            event_type: event_type.to_owned(),
            event_version: "1".into(),
            body: body.to_owned(),
        }
    }

    // --- Pusher ---

    /// `chatrooms.<chatroom id>.v2`: chat, subscriptions, bans.
    pub fn chat_channel(&self) -> String {
        format!("chatrooms.{}.v2", self.options.chatroom_id)
    }

    /// `chatroom_<chatroom id>`: newer gift and reward events.
    pub fn chatroom_channel(&self) -> String {
        format!("chatroom_{}", self.options.chatroom_id)
    }

    /// `channel.<channel id>`: follows, live status, kicks.
    pub fn channel_channel(&self) -> String {
        format!("channel.{}", self.options.channel_id)
    }

    /// The captured `App\Events\ChatMessageEvent` frame with this id and text.
    pub fn chat_frame(&self, message_id: &str, text: &str) -> String {
        let mut frame = template(CHAT_EVENT);
        let mut data = template(frame["data"].as_str().unwrap_or("{}"));
        data["id"] = json!(message_id);
        data["content"] = json!(text);
        data["chatroom_id"] = json!(self.options.chatroom_id);
        data["created_at"] = json!(rfc3339(0).replace('Z', "+00:00"));
        frame["data"] = Value::String(data.to_string());
        frame["channel"] = json!(self.chat_channel());
        frame.to_string()
    }

    /// An event frame: `data` double-encoded, as Kick sends it.
    pub fn event_frame(event: &str, channel: &str, data: &Value) -> String {
        json!({"event": event, "data": data.to_string(), "channel": channel}).to_string()
    }

    /// Sends a chat message on the chat channel; returns how many connections got it.
    pub fn inject_chat(&self, message_id: &str, text: &str) -> usize {
        self.send_on(
            &self.chat_channel(),
            vec![self.chat_frame(message_id, text)],
        )
    }

    /// Sends any event on `channel`; returns how many connections got it.
    pub fn push_event(&self, event: &str, channel: &str, data: &Value) -> usize {
        self.send_on(channel, vec![Self::event_frame(event, channel, data)])
    }

    /// Sends `count` chat messages (ids `<prefix>-0`...) as fast as possible, written
    /// in one go; returns how many connections got them.
    pub fn flood_chat(&self, prefix: &str, count: usize) -> usize {
        let frames = (0..count)
            .map(|index| {
                self.chat_frame(
                    &format!("{prefix}-{index}"),
                    &format!("flood message {index}"),
                )
            })
            .collect();
        self.send_on(&self.chat_channel(), frames)
    }

    /// Sends prepared chat frames ([`FakeKick::chat_frame`]) on the chat channel in one
    /// write; returns how many connections got them.
    pub fn send_chat_frames(&self, frames: Vec<String>) -> usize {
        self.send_on(&self.chat_channel(), frames)
    }

    /// Sends a raw text frame to every open connection.
    pub fn send_raw(&self, frame: &str) -> usize {
        let registry = lock(&self.pusher);
        registry
            .connections
            .iter()
            .filter(|connection| connection.open)
            .filter(|connection| {
                connection
                    .commands
                    .send(Command::Send(frame.to_owned()))
                    .is_ok()
            })
            .count()
    }

    /// Sends `frames` to every open connection subscribed to `channel`, in one write
    /// each; returns how many connections got them.
    fn send_on(&self, channel: &str, frames: Vec<String>) -> usize {
        let registry = lock(&self.pusher);
        registry
            .connections
            .iter()
            .filter(|connection| connection.open && connection.subscribed.contains(channel))
            .filter(|connection| {
                connection
                    .commands
                    .send(Command::SendMany(frames.clone()))
                    .is_ok()
            })
            .count()
    }

    fn newest_open(&self) -> Option<mpsc::UnboundedSender<Command>> {
        let registry = lock(&self.pusher);
        registry
            .connections
            .iter()
            .rev()
            .find(|connection| connection.open)
            .map(|connection| connection.commands.clone())
    }

    /// Closes the newest open connection with a Pusher close code.
    pub fn close_current(&self, code: u16, reason: &str) {
        if let Some(connection) = self.newest_open() {
            let _ = connection.send(Command::Close(code, reason.to_owned()));
        }
    }

    /// Drops the newest open connection's TCP stream without a close frame.
    pub fn drop_connection(&self) {
        if let Some(connection) = self.newest_open() {
            let _ = connection.send(Command::Drop);
        }
    }

    /// Sends a server `pusher:ping` to every open connection.
    pub fn ping_clients(&self) -> usize {
        self.send_raw(r#"{"event":"pusher:ping","data":"{}"}"#)
    }

    /// Stops (or resumes) answering clients' `pusher:ping`.
    pub fn set_silent(&self, silent: bool) {
        lock(&self.pusher).silent = silent;
    }

    /// How many WebSocket connections were accepted.
    pub fn connections_accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// How many connections are open now.
    pub fn open_connections(&self) -> usize {
        lock(&self.pusher)
            .connections
            .iter()
            .filter(|connection| connection.open)
            .count()
    }

    /// The channels the newest open connection subscribed, sorted.
    pub fn subscriptions(&self) -> Vec<String> {
        let registry = lock(&self.pusher);
        let mut channels: Vec<String> = registry
            .connections
            .iter()
            .rev()
            .find(|connection| connection.open)
            .map(|connection| connection.subscribed.iter().cloned().collect())
            .unwrap_or_default();
        channels.sort();
        channels
    }

    /// `pusher:ping`s received from clients.
    pub fn pings_received(&self) -> usize {
        lock(&self.pusher).pings
    }

    /// `pusher:pong`s received from clients (answers to [`FakeKick::ping_clients`]).
    pub fn pongs_received(&self) -> usize {
        lock(&self.pusher).pongs
    }

    /// Every frame clients sent, in order.
    pub fn client_frames(&self) -> Vec<String> {
        lock(&self.pusher).client_frames.clone()
    }

    /// The request paths (with query) clients connected to.
    pub fn connect_paths(&self) -> Vec<String> {
        lock(&self.pusher).paths.clone()
    }
}

async fn serve_pusher(
    stream: tokio::net::TcpStream,
    number: usize,
    registry: Arc<Mutex<PusherRegistry>>,
    activity_timeout: u64,
) {
    let path = Arc::new(Mutex::new(String::new()));
    let seen_path = Arc::clone(&path);
    // The callback's shape (and its large error type) is tungstenite's.
    #[allow(clippy::result_large_err)]
    let callback = move |request: &tokio_tungstenite::tungstenite::handshake::server::Request,
                         response| {
        *lock(&seen_path) = request.uri().to_string();
        Ok(response)
    };
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    let (commands, mut inbox) = mpsc::unbounded_channel();
    let index = {
        let mut registry = lock(&registry);
        registry.paths.push(lock(&path).clone());
        registry.connections.push(Connection {
            subscribed: HashSet::new(),
            commands,
            open: true,
        });
        registry.connections.len() - 1
    };
    let mut established = template(ESTABLISHED);
    established["data"] = Value::String(
        json!({"socket_id": format!("{number}.{}", 19_803 + number), "activity_timeout": activity_timeout})
            .to_string(),
    );
    if socket
        .send(Message::text(established.to_string()))
        .await
        .is_ok()
    {
        pusher_loop(&mut socket, &mut inbox, index, &registry).await;
    }
    if let Some(connection) = lock(&registry).connections.get_mut(index) {
        connection.open = false;
    }
}

type ServerSocket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn pusher_loop(
    socket: &mut ServerSocket,
    inbox: &mut mpsc::UnboundedReceiver<Command>,
    index: usize,
    registry: &Arc<Mutex<PusherRegistry>>,
) {
    loop {
        tokio::select! {
            command = inbox.recv() => match command {
                Some(Command::Send(text)) => {
                    if socket.send(Message::text(text)).await.is_err() {
                        return;
                    }
                }
                Some(Command::SendMany(frames)) => {
                    for frame in frames {
                        if socket.feed(Message::text(frame)).await.is_err() {
                            return;
                        }
                    }
                    if socket.flush().await.is_err() {
                        return;
                    }
                }
                Some(Command::Close(code, reason)) => {
                    let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
                    let _ = socket.close(Some(frame)).await;
                    // Give the close frame a moment to reach the client before the TCP
                    // stream goes.
                    let _ = tokio::time::timeout(Duration::from_millis(500), async {
                        while let Some(Ok(_)) = socket.next().await {}
                    })
                    .await;
                    return;
                }
                // Abrupt drop: no close frame, the TCP stream just ends.
                Some(Command::Drop) | None => return,
            },
            incoming = socket.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let reply = client_frame(&text, index, registry);
                    if let Some(reply) = reply
                        && socket.send(Message::text(reply)).await.is_err()
                    {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// Handles a client frame; returns the answer to send, if any.
fn client_frame(text: &str, index: usize, registry: &Arc<Mutex<PusherRegistry>>) -> Option<String> {
    let mut registry = lock(registry);
    registry.client_frames.push(text.to_owned());
    let frame: Value = serde_json::from_str(text).ok()?;
    let data = match &frame["data"] {
        Value::String(inner) => serde_json::from_str(inner).unwrap_or(Value::Null),
        other => other.clone(),
    };
    match frame["event"].as_str()? {
        "pusher:subscribe" => {
            let channel = data["channel"].as_str()?.to_owned();
            if let Some(connection) = registry.connections.get_mut(index) {
                connection.subscribed.insert(channel.clone());
            }
            Some(
                json!({"event": "pusher_internal:subscription_succeeded", "data": "{}", "channel": channel})
                    .to_string(),
            )
        }
        "pusher:unsubscribe" => {
            let channel = data["channel"].as_str()?.to_owned();
            if let Some(connection) = registry.connections.get_mut(index) {
                connection.subscribed.remove(&channel);
            }
            None
        }
        "pusher:ping" => {
            registry.pings += 1;
            (!registry.silent).then(|| json!({"event": "pusher:pong", "data": "{}"}).to_string())
        }
        "pusher:pong" => {
            registry.pongs += 1;
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chat_frame_keeps_the_captured_shape() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let fake = FakeKick::start().await;
            let frame: Value = serde_json::from_str(&fake.chat_frame("m-1", "hello")).unwrap();
            assert_eq!(frame["event"], "App\\Events\\ChatMessageEvent");
            assert_eq!(frame["channel"], "chatrooms.332923.v2");
            let data: Value = serde_json::from_str(frame["data"].as_str().unwrap()).unwrap();
            assert_eq!(data["id"], "m-1");
            assert_eq!(data["content"], "hello");
            assert_eq!(data["sender"]["slug"], "virtualmeal");
            assert!(fake.config_section().contains("channel = \"roadie-fake\""));
            let signed = fake.sign_webhook("channel.followed", "{}");
            assert!(!signed.signature.is_empty());
        });
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_418), (2025, 11, 26));
        assert!(rfc3339(0).ends_with('Z'));
    }
}
