//! A fake Twitch Helix API on 127.0.0.1:0: `POST /eventsub/subscriptions`,
//! `POST /chat/messages`, `GET /users`, with `Client-Id` and bearer checks, Twitch's
//! `Ratelimit-*` headers and error bodies, answers built from the real documented
//! examples (data/), and scripted failures (401, 403 for a type, 429, dropped chat).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

const CHAT_SENT: &str = include_str!("../data/twitch_helix_post_chat_messages_response.json");
const USERS: &str = include_str!("../data/twitch_helix_get_users_response.json");
const STREAMS: &str = include_str!("../data/twitch_helix_get_streams_response.txt");
const FOLLOWERS: &str = include_str!("../data/twitch_helix_get_channel_followers_response.txt");
const CHATTERS: &str = include_str!("../data/twitch_helix_get_chatters_response.txt");
const REWARD: &str = include_str!("../data/twitch_helix_create_custom_rewards_response.json");
const REDEMPTION: &str =
    include_str!("../data/twitch_helix_get_custom_reward_redemption_response.json");

/// The JSON of a docs example: the text after `# RESPONSE`, without the docs' `...`
/// placeholder line (and the comma it leaves behind).
pub fn docs_example(text: &str) -> Value {
    let body = text
        .split_once("# RESPONSE")
        .map(|(_, rest)| rest)
        .unwrap_or(text);
    let body = body.split_once('\n').map(|(_, rest)| rest).unwrap_or(body);
    let mut lines: Vec<String> = Vec::new();
    for line in body.lines() {
        if line.trim() == "..." || line.trim() == "...," {
            if let Some(previous) = lines
                .iter_mut()
                .rev()
                .find(|previous| !previous.trim().is_empty())
                && previous.trim_end().ends_with(',')
            {
                let trimmed = previous.trim_end().trim_end_matches(',').to_owned();
                *previous = trimmed;
            }
            continue;
        }
        lines.push(line.to_owned());
    }
    serde_json::from_str(&lines.join("\n")).unwrap_or(Value::Null)
}

/// What the fake saw and how it should misbehave next.
#[derive(Debug, Default)]
pub struct HelixState {
    /// Bearer tokens it accepts.
    pub valid_tokens: HashSet<String>,
    /// Subscription requests, in order: the request bodies.
    pub subscriptions: Vec<Value>,
    /// Chat requests, in order: the request bodies.
    pub chat_messages: Vec<Value>,
    /// Subscription types answered with 403 (missing scope).
    pub forbidden_types: HashSet<String>,
    /// The next requests answered with 429, one each.
    pub throttle_next: usize,
    /// The next chat message is accepted but not sent, with this (code, message).
    pub drop_next_chat: Option<(String, String)>,
    /// Requests seen, for counting retries.
    pub requests: usize,
    /// Whether the channel is live (`GET /streams` lists it).
    pub live: bool,
    /// The viewer count `GET /streams` reports while live.
    pub viewers: u64,
    /// `GET /channels/followers` total.
    pub followers: u64,
    /// `GET /chat/chatters` total.
    pub chatters: u64,
    /// Custom rewards: (reward, created by this app?). Foreign ones cannot be changed.
    pub rewards: Vec<(Value, bool)>,
    /// Redemption status changes: (redemption id, reward id, status).
    pub redemption_updates: Vec<(String, String, String)>,
    /// Paths of the GET requests seen, in order.
    pub gets: Vec<String>,
    /// Also accept the fake OAuth provider's live access tokens.
    pub linked_oauth: Option<Arc<Mutex<crate::fake_oauth::OAuthState>>>,
    next_id: u64,
}

/// A running fake Helix.
#[derive(Debug)]
pub struct FakeHelix {
    address: std::net::SocketAddr,
    /// The shared state.
    pub state: Arc<Mutex<HelixState>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeHelix {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type Shared = Arc<Mutex<HelixState>>;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

fn with_rate_headers(mut response: Response, remaining: u64) -> Response {
    let headers = response.headers_mut();
    headers.insert("ratelimit-limit", HeaderValue::from(800u64));
    headers.insert("ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(unix_now() + 1));
    response
}

fn error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let reason = code.canonical_reason().unwrap_or("Error");
    (
        code,
        Json(json!({"error": reason, "status": status, "message": message})),
    )
        .into_response()
}

/// Checks Client-Id and the bearer token, and applies scripted throttling.
fn gate(state: &mut HelixState, headers: &HeaderMap) -> Option<Response> {
    state.requests += 1;
    if state.throttle_next > 0 {
        state.throttle_next -= 1;
        return Some(with_rate_headers(error(429, "Too Many Requests"), 0));
    }
    if headers.get("client-id").is_none() {
        return Some(error(401, "Client ID is missing"));
    }
    let token = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    let linked = state
        .linked_oauth
        .as_ref()
        .and_then(|oauth| {
            oauth
                .lock()
                .ok()
                .map(|oauth| oauth.access_tokens.contains_key(token))
        })
        .unwrap_or(false);
    if !linked && !state.valid_tokens.contains(token) {
        return Some(error(401, "Invalid OAuth token"));
    }
    None
}

async fn subscribe(
    State(state): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Ok(mut state) = state.lock() else {
        return error(500, "poisoned");
    };
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    let kind = body["type"].as_str().unwrap_or_default().to_owned();
    if body["transport"]["method"] != "websocket"
        || body["transport"]["session_id"]
            .as_str()
            .is_none_or(str::is_empty)
    {
        return error(400, "The transport must be websocket with a session_id");
    }
    if state.forbidden_types.contains(&kind) {
        return with_rate_headers(error(403, "subscription missing proper authorization"), 799);
    }
    state.next_id += 1;
    let id = format!("fake-subscription-{}", state.next_id);
    let mut recorded = body.clone();
    recorded["id"] = json!(id);
    state.subscriptions.push(recorded);
    let data = json!({
        "id": id, "status": "enabled", "type": kind, "version": body["version"], "condition": body["condition"],
        "created_at": "2020-11-10T20:08:33.12345678Z", "transport": body["transport"], "cost": 0
    });
    let answer = json!({"data": [data], "total": state.subscriptions.len(), "total_cost": 0, "max_total_cost": 10});
    with_rate_headers((StatusCode::ACCEPTED, Json(answer)).into_response(), 799)
}

async fn chat(
    State(state): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Ok(mut state) = state.lock() else {
        return error(500, "poisoned");
    };
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    state.chat_messages.push(body);
    let mut answer: Value = serde_json::from_str(CHAT_SENT).unwrap_or(Value::Null);
    if let Some((code, message)) = state.drop_next_chat.take() {
        answer["data"][0]["message_id"] = json!("");
        answer["data"][0]["is_sent"] = json!(false);
        answer["data"][0]["drop_reason"] = json!({"code": code, "message": message});
    } else {
        answer["data"][0]["message_id"] = json!(format!("fake-chat-{}", state.chat_messages.len()));
    }
    with_rate_headers(Json(answer).into_response(), 799)
}

async fn streams(
    State(state): State<Shared>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let Ok(mut state) = state.lock() else {
        return error(500, "poisoned");
    };
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    state
        .gets
        .push(format!("/streams?{}", query.unwrap_or_default()));
    let mut answer = docs_example(STREAMS);
    if state.live {
        answer["data"][0]["viewer_count"] = json!(state.viewers);
        answer["data"][0]["user_id"] = json!("141981764");
        answer["data"] = json!([answer["data"][0].clone()]);
    } else {
        answer["data"] = json!([]);
    }
    answer["pagination"] = json!({});
    with_rate_headers(Json(answer).into_response(), 799)
}

/// A docs example with its `total` set from the state: followers and chatters.
fn totals(
    state: &Shared,
    headers: &HeaderMap,
    path: &str,
    query: Option<String>,
    example: &str,
    total: fn(&HelixState) -> u64,
) -> Response {
    let Ok(mut state) = state.lock() else {
        return error(500, "poisoned");
    };
    if let Some(refusal) = gate(&mut state, headers) {
        return refusal;
    }
    state
        .gets
        .push(format!("{path}?{}", query.unwrap_or_default()));
    let mut answer = docs_example(example);
    answer["total"] = json!(total(&state));
    with_rate_headers(Json(answer).into_response(), 799)
}

async fn followers(
    State(state): State<Shared>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    totals(
        &state,
        &headers,
        "/channels/followers",
        query,
        FOLLOWERS,
        |state| state.followers,
    )
}

async fn chatters(
    State(state): State<Shared>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    // Like Twitch: the docs example's page carries a cursor; the page after it is the
    // last (empty, no cursor).
    let last_page = crate::query_pairs(query.clone()).contains_key("after");
    let answer = totals(
        &state,
        &headers,
        "/chat/chatters",
        query,
        CHATTERS,
        |state| state.chatters,
    );
    if !last_page || answer.status() != StatusCode::OK {
        return answer;
    }
    let total = state.lock().map(|state| state.chatters).unwrap_or(0);
    with_rate_headers(
        Json(json!({"data": [], "pagination": {}, "total": total})).into_response(),
        799,
    )
}

/// Copies the settable reward fields present in a request body onto a reward.
fn apply_reward_fields(reward: &mut Value, body: &Value) {
    for key in [
        "title",
        "cost",
        "prompt",
        "is_enabled",
        "is_paused",
        "is_user_input_required",
    ] {
        if !body[key].is_null() {
            reward[key] = body[key].clone();
        }
    }
}

const NOT_OURS: &str =
    "The ID in header Client-Id must match the client ID used to create the custom reward.";

async fn list_rewards(
    State(state): State<Shared>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let Ok(mut state) = state.lock() else {
        return error(500, "poisoned");
    };
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    let only_ours = crate::query_pairs(query)
        .get("only_manageable_rewards")
        .is_some_and(|value| value == "true");
    let data: Vec<Value> = state
        .rewards
        .iter()
        .filter(|(_, ours)| *ours || !only_ours)
        .map(|(reward, _)| reward.clone())
        .collect();
    with_rate_headers(Json(json!({"data": data})).into_response(), 799)
}

async fn create_reward(
    State(state): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Ok(mut state) = state.lock() else {
        return error(500, "poisoned");
    };
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    let (Some(title), Some(cost)) = (body["title"].as_str(), body["cost"].as_u64()) else {
        return error(400, "Missing required parameter title or cost");
    };
    let mut reward: Value = serde_json::from_str(REWARD)
        .map(|answer: Value| answer["data"][0].clone())
        .unwrap_or(Value::Null);
    state.next_id += 1;
    reward["id"] = json!(format!("fake-reward-{}", state.next_id));
    reward["title"] = json!(title);
    reward["cost"] = json!(cost);
    apply_reward_fields(&mut reward, &body);
    state.rewards.push((reward.clone(), true));
    with_rate_headers(Json(json!({"data": [reward]})).into_response(), 799)
}

async fn update_reward(
    State(state): State<Shared>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    Json(body): Json<Value>,
) -> Response {
    let Ok(mut state) = state.lock() else {
        return error(500, "poisoned");
    };
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    let id = crate::query_pairs(query)
        .get("id")
        .cloned()
        .unwrap_or_default();
    let Some((reward, ours)) = state
        .rewards
        .iter_mut()
        .find(|(reward, _)| reward["id"] == id)
    else {
        return error(404, "Custom Reward Not Found");
    };
    if !*ours {
        return error(403, NOT_OURS);
    }
    apply_reward_fields(reward, &body);
    let updated = reward.clone();
    with_rate_headers(Json(json!({"data": [updated]})).into_response(), 799)
}

async fn update_redemption(
    State(state): State<Shared>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    Json(body): Json<Value>,
) -> Response {
    let Ok(mut state) = state.lock() else {
        return error(500, "poisoned");
    };
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    let query = crate::query_pairs(query);
    let (reward_id, redemption_id) = (
        query.get("reward_id").cloned().unwrap_or_default(),
        query.get("id").cloned().unwrap_or_default(),
    );
    match state
        .rewards
        .iter()
        .find(|(reward, _)| reward["id"] == reward_id)
    {
        None => return error(404, "Custom Reward Not Found"),
        Some((_, false)) => return error(403, NOT_OURS),
        Some(_) => {}
    }
    let status = body["status"].as_str().unwrap_or_default().to_owned();
    if status != "FULFILLED" && status != "CANCELED" {
        return error(400, "status must be FULFILLED or CANCELED");
    }
    state
        .redemption_updates
        .push((redemption_id.clone(), reward_id.clone(), status.clone()));
    let mut answer: Value = serde_json::from_str(REDEMPTION).unwrap_or(Value::Null);
    answer["data"][0]["id"] = json!(redemption_id);
    answer["data"][0]["status"] = json!(status);
    answer["data"][0]["reward"]["id"] = json!(reward_id);
    answer
        .as_object_mut()
        .map(|object| object.remove("pagination"));
    with_rate_headers(Json(answer).into_response(), 799)
}

async fn users(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let Ok(mut state) = state.lock() else {
        return error(500, "poisoned");
    };
    if let Some(refusal) = gate(&mut state, &headers) {
        return refusal;
    }
    let answer: Value = serde_json::from_str(USERS).unwrap_or(Value::Null);
    with_rate_headers(Json(answer).into_response(), 799)
}

impl FakeHelix {
    /// Starts the fake, accepting `tokens`.
    pub async fn start(tokens: &[&str]) -> FakeHelix {
        let state: Shared = Arc::default();
        if let Ok(mut locked) = state.lock() {
            locked.valid_tokens = tokens.iter().map(|token| (*token).to_owned()).collect();
        }
        let app = Router::new()
            .route("/helix/eventsub/subscriptions", post(subscribe))
            .route("/helix/chat/messages", post(chat))
            .route("/helix/users", get(users))
            .route("/helix/streams", get(streams))
            .route("/helix/channels/followers", get(followers))
            .route("/helix/chat/chatters", get(chatters))
            .route(
                "/helix/channel_points/custom_rewards",
                get(list_rewards).post(create_reward).patch(update_reward),
            )
            .route(
                "/helix/channel_points/custom_rewards/redemptions",
                axum::routing::patch(update_redemption),
            )
            .with_state(Arc::clone(&state));
        let (address, server) = crate::serve_on_loopback(app).await;
        FakeHelix {
            address,
            state,
            server,
        }
    }

    /// Adds a reward made on twitch.tv (not by this app): Roadie may not change it.
    pub fn add_foreign_reward(&self, id: &str, title: &str) {
        let mut reward: Value = serde_json::from_str(REWARD)
            .map(|answer: Value| answer["data"][0].clone())
            .unwrap_or(Value::Null);
        reward["id"] = json!(id);
        reward["title"] = json!(title);
        self.with(|state| state.rewards.push((reward, false)));
    }

    /// Starts the fake accepting the live access tokens of `oauth`.
    pub async fn start_linked(oauth: &crate::fake_oauth::FakeOAuth) -> FakeHelix {
        let fake = FakeHelix::start(&[]).await;
        fake.with(|state| state.linked_oauth = Some(Arc::clone(&oauth.state)));
        fake
    }

    /// Texts of the chat messages received, in order.
    pub fn chat_texts(&self) -> Vec<String> {
        self.with(|state| {
            state
                .chat_messages
                .iter()
                .filter_map(|body| body["message"].as_str().map(str::to_owned))
                .collect()
        })
    }

    /// `http://127.0.0.1:PORT/helix`, the `helix_url` to configure.
    pub fn base_url(&self) -> String {
        format!("http://{}/helix", self.address)
    }

    /// Runs `change` on the state.
    pub fn with<T>(&self, change: impl FnOnce(&mut HelixState) -> T) -> T {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        change(&mut state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_examples_parse() {
        assert_eq!(docs_example(STREAMS)["data"][0]["viewer_count"], 78365);
        assert_eq!(docs_example(FOLLOWERS)["total"], 8);
        assert_eq!(
            docs_example(CHATTERS)["data"][0]["user_login"],
            "smittysmithers"
        );
    }
}
