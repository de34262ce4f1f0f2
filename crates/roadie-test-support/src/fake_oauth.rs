//! A fake OAuth provider on 127.0.0.1:0 with Twitch's endpoints and error bodies
//! (`{"status","message"}`): authorize (auto-approving, recording the PKCE
//! challenge), token (code exchange that checks the verifier, refresh that rotates and
//! retires the old refresh token, device code polling with a scripted run of
//! `authorization_pending` and `slow_down`), device, validate and revoke.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Form, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The fake's state, open for tests to inspect.
#[derive(Debug, Default)]
pub struct OAuthState {
    /// Codes handed out by authorize: code -> (challenge, redirect_uri, scope).
    pub codes: HashMap<String, (String, String, String)>,
    /// Valid access tokens -> scopes.
    pub access_tokens: HashMap<String, Vec<String>>,
    /// Valid refresh tokens (single use: a refresh retires it).
    pub refresh_tokens: Vec<String>,
    /// Tokens revoked through /revoke.
    pub revoked: Vec<String>,
    /// Poll answers still to give before the device code is approved, in order
    /// (`authorization_pending`, `slow_down`).
    pub device_script: Vec<&'static str>,
    /// When each device poll arrived.
    pub device_polls: Vec<Instant>,
    /// The `scopes` parameter of the last device start (Twitch's plural name).
    pub device_scopes: Option<String>,
    /// Every token request's grant type, in order.
    pub grants: Vec<String>,
    counter: u64,
}

impl OAuthState {
    fn mint(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}-{}", self.counter)
    }

    fn issue(&mut self, scopes: Vec<String>) -> serde_json::Value {
        let access = self.mint("access");
        let refresh = self.mint("refresh");
        self.access_tokens.insert(access.clone(), scopes.clone());
        self.refresh_tokens.push(refresh.clone());
        json!({"access_token": access, "refresh_token": refresh, "expires_in": 14400, "scope": scopes, "token_type": "bearer"})
    }
}

/// A running fake provider.
#[derive(Debug)]
pub struct FakeOAuth {
    address: std::net::SocketAddr,
    /// The shared state.
    pub state: Arc<Mutex<OAuthState>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOAuth {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type Shared = Arc<Mutex<OAuthState>>;

fn twitch_error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (code, Json(json!({"status": status, "message": message}))).into_response()
}

async fn authorize(State(state): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    let query = crate::query_pairs(raw);
    let (Some(redirect), Some(challenge), Some(client_state)) = (
        query.get("redirect_uri"),
        query.get("code_challenge"),
        query.get("state"),
    ) else {
        return twitch_error(400, "missing redirect_uri, code_challenge or state");
    };
    if query.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return twitch_error(400, "code_challenge_method must be S256");
    }
    let Ok(mut state) = state.lock() else {
        return twitch_error(500, "poisoned");
    };
    let code = state.mint("code");
    let scope = query.get("scope").cloned().unwrap_or_default();
    state.codes.insert(
        code.clone(),
        (challenge.clone(), redirect.clone(), scope.clone()),
    );
    let separator = if redirect.contains('?') { '&' } else { '?' };
    let target = format!(
        "{redirect}{separator}code={code}&scope={}&state={client_state}",
        scope.replace(' ', "+")
    );
    Redirect::to(&target).into_response()
}

async fn token(State(state): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let Ok(mut state) = state.lock() else {
        return twitch_error(500, "poisoned");
    };
    let grant = form.get("grant_type").cloned().unwrap_or_default();
    state.grants.push(grant.clone());
    if form.get("client_id").is_none_or(String::is_empty) {
        return twitch_error(400, "missing client id");
    }
    match grant.as_str() {
        "authorization_code" => {
            let code = form.get("code").cloned().unwrap_or_default();
            let Some((challenge, redirect, scope)) = state.codes.remove(&code) else {
                return twitch_error(400, "Invalid authorization code");
            };
            if form.get("redirect_uri") != Some(&redirect) {
                return twitch_error(400, "Parameter redirect_uri does not match registered URI");
            }
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            if Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes())) != challenge {
                return twitch_error(400, "invalid code verifier");
            }
            let scopes = scope.split_whitespace().map(str::to_owned).collect();
            Json(state.issue(scopes)).into_response()
        }
        "refresh_token" => {
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            let Some(position) = state
                .refresh_tokens
                .iter()
                .position(|token| *token == presented)
            else {
                return twitch_error(400, "Invalid refresh token");
            };
            // Rotation: the old refresh token is single-use.
            state.refresh_tokens.remove(position);
            Json(state.issue(vec!["user:read:chat".into()])).into_response()
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            state.device_polls.push(Instant::now());
            if !form.contains_key("scopes") {
                return twitch_error(400, "missing scopes");
            }
            if state.device_script.is_empty() {
                let scopes = form
                    .get("scopes")
                    .map(|text| text.split_whitespace().map(str::to_owned).collect())
                    .unwrap_or_default();
                return Json(state.issue(scopes)).into_response();
            }
            let answer = state.device_script.remove(0);
            twitch_error(400, answer)
        }
        _ => twitch_error(400, "unsupported grant_type"),
    }
}

async fn device(
    State(state): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Ok(mut state) = state.lock() else {
        return twitch_error(500, "poisoned");
    };
    state.device_scopes = form.get("scopes").cloned();
    Json(json!({
        "device_code": "fake-device-code",
        "expires_in": 1800,
        "interval": 1,
        "user_code": "ABCDEFGH",
        "verification_uri": "https://www.twitch.tv/activate?public=true&device-code=ABCDEFGH"
    }))
    .into_response()
}

async fn validate(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("OAuth "))
        .unwrap_or_default();
    let Ok(state) = state.lock() else {
        return twitch_error(500, "poisoned");
    };
    match state.access_tokens.get(token) {
        Some(scopes) => Json(json!({"client_id": "fake-client", "login": "twitchdev", "scopes": scopes, "user_id": "141981764", "expires_in": 14400})).into_response(),
        None => twitch_error(401, "invalid access token"),
    }
}

async fn revoke(
    State(state): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Ok(mut state) = state.lock() else {
        return twitch_error(500, "poisoned");
    };
    let token = form.get("token").cloned().unwrap_or_default();
    let known =
        state.access_tokens.remove(&token).is_some() || state.refresh_tokens.contains(&token);
    state.refresh_tokens.retain(|refresh| *refresh != token);
    if !known {
        return twitch_error(400, "Invalid token");
    }
    state.revoked.push(token);
    StatusCode::OK.into_response()
}

impl FakeOAuth {
    /// Starts the fake on 127.0.0.1:0 with Twitch's paths under `/oauth2`.
    pub async fn start() -> FakeOAuth {
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/oauth2/authorize", get(authorize))
            .route("/oauth2/token", post(token))
            .route("/oauth2/device", post(device))
            .route("/oauth2/validate", get(validate))
            .route("/oauth2/revoke", post(revoke))
            .with_state(Arc::clone(&state));
        let (address, server) = crate::serve_on_loopback(app).await;
        FakeOAuth {
            address,
            state,
            server,
        }
    }

    /// `http://127.0.0.1:PORT/oauth2`, the `auth_url` to configure.
    pub fn base_url(&self) -> String {
        format!("http://{}/oauth2", self.address)
    }

    /// Issues a token pair as a completed sign-in would: `(access, refresh)`.
    pub fn mint_tokens(&self, scopes: &[&str]) -> (String, String) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let answer = state.issue(scopes.iter().map(|scope| (*scope).to_owned()).collect());
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

    /// Expires an access token (Helix and validate answer 401 from now on).
    pub fn expire_access_token(&self, token: &str) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.access_tokens.remove(token);
    }

    /// Revokes every refresh token (a refresh then fails: sign-in needed).
    pub fn revoke_refresh_tokens(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.refresh_tokens.clear();
    }

    /// Scripts the next device polls' refusals, in order, before approval.
    pub fn script_device(&self, answers: &[&'static str]) {
        if let Ok(mut state) = self.state.lock() {
            state.device_script = answers.to_vec();
        }
    }
}
