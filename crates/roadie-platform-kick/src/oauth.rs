//! Signing in to Kick (id.kick.com, OAuth 2.1): the authorize URL with PKCE (S256) and
//! `state`, both mandatory at Kick; the code exchange and refresh, which need the client
//! secret too (Kick is not a public-client flow); refresh rotating both tokens (through
//! [`RotatingTokens`]); revocation with its parameters in the query string; token
//! introspection; and the signed-in user, for the account display.
//!
//! The redirect quirk: Kick's front-end rewrites a `127.0.0.1` redirect host to
//! `localhost`, which then no longer matches the registered URI. The daemon therefore
//! starts `roadie_oauth::CallbackServer` with redirect host [`REDIRECT_HOST`] and the
//! Kick app must register `http://localhost:<port>/...`.
//!
//! Kick's docs show `expires_in: ""` placeholders; a string `expires_in` is tolerated
//! here ([`parse_token_answer`]) by normalising the answer before `roadie_oauth` reads it.

use std::sync::Arc;

use roadie_core::{Secret, Timestamp};
use roadie_oauth::{
    ClientCredentials, OAuthError, Pkce, RotatingTokens, TokenResponse, TokenSet, TokenStore,
};
use serde_json::Value;

use crate::KickError;
use crate::adapter::KickSettings;

/// The redirect host Kick accepts (it rewrites `127.0.0.1` to this).
pub const REDIRECT_HOST: &str = "localhost";

fn base(settings: &KickSettings) -> &str {
    settings.auth_url.trim_end_matches('/')
}

/// `{auth_url}/oauth/authorize`.
pub fn authorize_endpoint(settings: &KickSettings) -> String {
    format!("{}/oauth/authorize", base(settings))
}

/// `{auth_url}/oauth/token` (code exchange, refresh, app tokens).
pub fn token_url(settings: &KickSettings) -> String {
    format!("{}/oauth/token", base(settings))
}

/// `{auth_url}/oauth/revoke`.
pub fn revoke_url(settings: &KickSettings) -> String {
    format!("{}/oauth/revoke", base(settings))
}

/// `{auth_url}/oauth/token/introspect` (the old `/public/v1/token/introspect` is
/// deprecated).
pub fn introspect_url(settings: &KickSettings) -> String {
    format!("{}/oauth/token/introspect", base(settings))
}

/// The app's credentials: Kick always wants the secret.
pub fn credentials(settings: &KickSettings) -> ClientCredentials {
    ClientCredentials {
        client_id: settings.client_id.clone(),
        client_secret: Some(settings.client_secret.clone()),
    }
}

/// Every scope the adapter's capabilities need.
pub fn scopes() -> Vec<&'static str> {
    roadie_platform::all_scopes(crate::CAPABILITIES)
}

/// The authorize URL for `redirect_uri` (use host [`REDIRECT_HOST`]), with `state` and
/// the PKCE `challenge`, asking for [`scopes`].
pub fn authorize_url(
    settings: &KickSettings,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> Result<String, OAuthError> {
    roadie_oauth::authorize_url(
        &authorize_endpoint(settings),
        &settings.client_id,
        redirect_uri,
        &scopes(),
        state,
        challenge,
        &[],
    )
}

/// A sign-in about to start: the URL to open, and what to keep for the answer.
#[derive(Debug)]
pub struct SignInStart {
    /// Open this in the browser.
    pub url: String,
    /// Compare with the callback's `state`.
    pub state: String,
    /// Its verifier goes with the code exchange.
    pub pkce: Pkce,
}

/// Starts a sign-in: fresh state and PKCE pair, and the authorize URL.
pub fn start_sign_in(
    settings: &KickSettings,
    redirect_uri: &str,
) -> Result<SignInStart, OAuthError> {
    let state = roadie_oauth::new_state();
    let pkce = Pkce::generate();
    let url = authorize_url(settings, redirect_uri, &state, &pkce.challenge)?;
    Ok(SignInStart { url, state, pkce })
}

/// A token answer with `expires_in` made a number: Kick's docs show strings. A
/// non-numeric string is dropped (the expiry is then unknown).
pub fn normalise_token_answer(body: &[u8]) -> Vec<u8> {
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    let Some(object) = value.as_object_mut() else {
        return body.to_vec();
    };
    if let Some(Value::String(text)) = object.get("expires_in") {
        match text.trim().parse::<u64>() {
            Ok(seconds) => {
                object.insert("expires_in".into(), Value::from(seconds));
            }
            Err(_) => {
                object.remove("expires_in");
            }
        }
    }
    serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec())
}

/// Reads a token answer (tolerating a string `expires_in`).
pub fn parse_token_answer(
    body: &[u8],
    now: Timestamp,
    previous_refresh: Option<Secret>,
) -> Result<TokenSet, OAuthError> {
    Ok(TokenResponse::parse(&normalise_token_answer(body))?.into_token_set(now, previous_refresh))
}

fn now() -> Timestamp {
    Timestamp(crate::normalise::now_ms())
}

/// Exchanges the authorization code (with the PKCE verifier and the client secret).
pub async fn exchange_code(
    http: &reqwest::Client,
    settings: &KickSettings,
    code: &Secret,
    redirect_uri: &str,
    verifier: &Secret,
) -> Result<TokenSet, OAuthError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", settings.client_id.as_str()),
        ("client_secret", settings.client_secret.expose_secret()),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier.expose_secret()),
        ("code", code.expose_secret()),
    ];
    let body = roadie_oauth::post_form(http, &token_url(settings), &form).await?;
    parse_token_answer(&body, now(), None)
}

/// The live token set, refreshed at Kick's token endpoint (both tokens rotate; the new
/// pair is stored through `store` before use).
pub fn rotating_tokens(
    settings: &KickSettings,
    tokens: TokenSet,
    store: Arc<dyn TokenStore>,
) -> RotatingTokens {
    RotatingTokens::new(
        "Kick",
        credentials(settings),
        token_url(settings),
        tokens,
        store,
    )
}

/// Which token a revocation names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenHint {
    /// The access token.
    AccessToken,
    /// The refresh token.
    RefreshToken,
}

impl TokenHint {
    /// Kick's `token_hint_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenHint::AccessToken => "access_token",
            TokenHint::RefreshToken => "refresh_token",
        }
    }
}

fn transport(error: reqwest::Error) -> KickError {
    KickError::Transport(error.without_url().to_string())
}

/// Kick's `message` from an error body, or the status text.
pub(crate) fn error_message(status: u16, body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| {
            value
                .get("message")
                .or_else(|| value.get("error"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .filter(|message| !message.is_empty())
        .unwrap_or_else(|| {
            reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|code| code.canonical_reason())
                .unwrap_or("error")
                .to_owned()
        })
}

/// Revokes `token`: `POST {auth_url}/oauth/revoke?token=…&token_hint_type=…` (Kick
/// wants the parameters in the query string, not a form); Kick answers `OK`.
pub async fn revoke(
    http: &reqwest::Client,
    settings: &KickSettings,
    token: &Secret,
    hint: TokenHint,
) -> Result<(), KickError> {
    let mut url = reqwest::Url::parse(&revoke_url(settings))
        .map_err(|error| KickError::Malformed(format!("auth_url: {error}")))?;
    url.query_pairs_mut()
        .append_pair("token", token.expose_secret())
        .append_pair("token_hint_type", hint.as_str());
    let response = http.post(url).send().await.map_err(transport)?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(transport)?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(KickError::Http {
            status,
            message: error_message(status, &body),
        })
    }
}

/// What Kick knows of a token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Introspection {
    /// Whether the token works (false: expired, revoked or unknown).
    pub active: bool,
    /// The app it belongs to.
    pub client_id: Option<String>,
    /// `user` or `app`.
    pub token_type: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When it expires, in seconds since the epoch.
    pub expires_at_unix: Option<i64>,
}

/// Reads the introspection answer `{"data": {active, client_id, token_type, scope,
/// exp}, "message"}`.
pub fn parse_introspection(body: &[u8]) -> Result<Introspection, KickError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| KickError::Malformed("the introspection answer is not JSON".into()))?;
    let data = value
        .get("data")
        .ok_or_else(|| KickError::Malformed("the introspection answer has no data".into()))?;
    let text = |key: &str| {
        data.get(key)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    Ok(Introspection {
        active: data.get("active").and_then(Value::as_bool).unwrap_or(false),
        client_id: text("client_id"),
        token_type: text("token_type"),
        scopes: text("scope")
            .map(|scope| scope.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        expires_at_unix: data.get("exp").and_then(|exp| {
            exp.as_i64()
                .or_else(|| exp.as_str().and_then(|text| text.trim().parse().ok()))
        }),
    })
}

/// Introspects `token` (`POST {auth_url}/oauth/token/introspect` with it as Bearer).
/// A token Kick refuses outright (401) is reported as inactive.
pub async fn introspect(
    http: &reqwest::Client,
    settings: &KickSettings,
    token: &Secret,
) -> Result<Introspection, KickError> {
    let response = http
        .post(introspect_url(settings))
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .map_err(transport)?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(transport)?;
    match status {
        200..=299 => parse_introspection(&body),
        401 => Ok(Introspection::default()),
        status => Err(KickError::Http {
            status,
            message: error_message(status, &body),
        }),
    }
}

/// The signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KickUser {
    /// The user id.
    pub id: String,
    /// The user name (Kick's channel slug is usually its lower-case form).
    pub name: String,
    /// The profile picture URL, when given.
    pub profile_picture: Option<String>,
}

/// Reads `GET /users`'s answer: the first of `data` (a list; a lone object is accepted).
pub fn parse_users(body: &[u8]) -> Result<KickUser, KickError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| KickError::Malformed("the user answer is not JSON".into()))?;
    let data = value.get("data").unwrap_or(&Value::Null);
    let first = match data {
        Value::Array(list) => list.first(),
        Value::Object(_) => Some(data),
        _ => None,
    }
    .ok_or_else(|| KickError::Malformed("the user answer lists no user".into()))?;
    let id = match first.get("user_id") {
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::String(text)) if !text.is_empty() => text.clone(),
        _ => return Err(KickError::Malformed("the user has no user_id".into())),
    };
    let name = first
        .get("name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| KickError::Malformed("the user has no name".into()))?
        .to_owned();
    Ok(KickUser {
        id,
        name,
        profile_picture: first
            .get("profile_picture")
            .and_then(Value::as_str)
            .filter(|url| !url.is_empty())
            .map(str::to_owned),
    })
}

/// The token's user: `GET {api_url}/users`. A refused token is
/// [`KickError::AuthRequired`] (no refresh here: this runs right after a sign-in or an
/// import, with a fresh token).
pub async fn current_user(
    http: &reqwest::Client,
    api_url: &str,
    access: &Secret,
) -> Result<KickUser, KickError> {
    let response = http
        .get(format!("{}/users", api_url.trim_end_matches('/')))
        .bearer_auth(access.expose_secret())
        .header("accept", "application/json")
        .send()
        .await
        .map_err(transport)?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(transport)?;
    match status {
        200..=299 => parse_users(&body),
        401 => Err(KickError::AuthRequired(
            "Kick refuses the token (401)".into(),
        )),
        status => Err(KickError::Http {
            status,
            message: error_message(status, &body),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> KickSettings {
        KickSettings::new("cid", Secret::new("shh"), "chan")
    }

    fn wrapped(file: &str) -> Vec<u8> {
        format!("{{\"data\": {file}, \"message\": \"OK\"}}").into_bytes()
    }

    #[test]
    fn the_authorize_url_has_pkce_state_and_the_scopes() {
        let url = authorize_url(&settings(), "http://localhost:5555/callback", "st", "ch").unwrap();
        assert!(url.starts_with("https://id.kick.com/oauth/authorize?client_id=cid&redirect_uri=http%3A%2F%2Flocalhost%3A5555%2Fcallback&response_type=code&scope=user%3Aread+channel%3Aread+chat%3Awrite+events%3Asubscribe+channel%3Arewards%3Aread+channel%3Arewards%3Awrite&state=st&code_challenge=ch&code_challenge_method=S256"), "{url}");
        let start = start_sign_in(&settings(), "http://localhost:1/cb").unwrap();
        assert!(start.url.contains(&start.pkce.challenge));
        assert!(start.url.contains(&format!("state={}", start.state)));
        assert_eq!(token_url(&settings()), "https://id.kick.com/oauth/token");
        assert_eq!(
            introspect_url(&settings()),
            "https://id.kick.com/oauth/token/introspect"
        );
    }

    #[test]
    fn expires_in_may_be_a_string() {
        let body = br#"{"access_token":"a","token_type":"Bearer","refresh_token":"r","expires_in":"7200","scope":"user:read chat:write"}"#;
        let tokens = parse_token_answer(body, Timestamp(0), None).unwrap();
        assert_eq!(tokens.expires_at, Some(Timestamp(7_200_000)));
        assert_eq!(tokens.scopes, ["user:read", "chat:write"]);
        // The docs' placeholder: no expiry known, still a token.
        let docs = br#"{"access_token":"a","token_type":"","refresh_token":"","expires_in":"","scope":""}"#;
        let tokens = parse_token_answer(docs, Timestamp(0), Some(Secret::new("old"))).unwrap();
        assert_eq!(tokens.expires_at, None);
        assert_eq!(tokens.refresh_token, Some(Secret::new("old")));
        let number = br#"{"access_token":"a","expires_in":60}"#;
        assert_eq!(
            parse_token_answer(number, Timestamp(0), None)
                .unwrap()
                .expires_at,
            Some(Timestamp(60_000))
        );
        assert!(parse_token_answer(b"nope", Timestamp(0), None).is_err());
    }

    #[test]
    fn introspection_fixture_parses() {
        let body = wrapped(include_str!(
            "../tests/data/kick_api_token_introspect_data.json"
        ));
        let found = parse_introspection(&body).unwrap();
        assert_eq!(
            found,
            Introspection {
                active: true,
                client_id: Some("text".into()),
                token_type: None,
                scopes: vec!["text".into()],
                expires_at_unix: Some(1),
            }
        );
        let inactive = parse_introspection(br#"{"data":{"active":false},"message":"OK"}"#).unwrap();
        assert!(!inactive.active);
        assert!(parse_introspection(b"{}").is_err());
    }

    #[test]
    fn users_fixture_parses() {
        let list = format!(
            "{{\"data\": [{}], \"message\": \"OK\"}}",
            include_str!("../tests/data/kick_api_get_users_item.json")
        );
        let user = parse_users(list.as_bytes()).unwrap();
        assert_eq!(
            user,
            KickUser {
                id: "1".into(),
                name: "text".into(),
                profile_picture: Some("text".into())
            }
        );
        assert!(parse_users(br#"{"data":[],"message":"OK"}"#).is_err());
    }
}
