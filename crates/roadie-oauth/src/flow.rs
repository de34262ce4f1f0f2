//! The HTTP side of OAuth: the authorize URL, code exchange (with the PKCE verifier),
//! refresh with rotation, revocation, and reading providers' error bodies (RFC 6749's
//! `{"error"}` and Twitch's `{"status","message"}` alike).

use std::time::Duration;

use roadie_core::{Secret, Timestamp};
use serde::Deserialize;

use crate::{OAuthError, TokenResponse, TokenSet};

/// The application's identity at the provider.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The app's client id.
    pub client_id: String,
    /// The app's secret; public clients have none.
    pub client_secret: Option<Secret>,
}

/// An OAuth client for one provider's token endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    credentials: ClientCredentials,
}

/// Builds the authorize URL: `response_type=code`, space-separated scopes, `state`,
/// and the S256 challenge, plus provider extras (e.g. `force_verify=true`).
pub fn authorize_url(
    base: &str,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[&str],
    state: &str,
    challenge: &str,
    extra: &[(&str, &str)],
) -> Result<String, OAuthError> {
    let mut url = reqwest::Url::parse(base)
        .map_err(|error| OAuthError::Malformed(format!("authorize URL {base:?}: {error}")))?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", state)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        for (key, value) in extra {
            query.append_pair(key, value);
        }
    }
    Ok(url.into())
}

#[derive(Deserialize)]
struct ProviderErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Reads an error answer: the RFC's `error`, else Twitch's `message`, else the status.
pub(crate) fn provider_error(status: u16, body: &[u8]) -> OAuthError {
    let code = serde_json::from_slice::<ProviderErrorBody>(body)
        .ok()
        .and_then(|parsed| parsed.error.or(parsed.message))
        .unwrap_or_else(|| format!("HTTP {status}"));
    OAuthError::Provider { status, code }
}

/// POSTs a form to an OAuth endpoint and returns the body of a 2xx answer; any other
/// answer becomes [`OAuthError::Provider`] with the provider's `error` (RFC 6749) or
/// `message` (Twitch, Kick). The URL is left out of transport errors: a revoke URL can
/// carry a token in its query.
pub async fn post_form(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<Vec<u8>, OAuthError> {
    let response = http
        .post(url)
        .form(form)
        .send()
        .await
        .map_err(|error| OAuthError::Transport(error.without_url().to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|error| OAuthError::Transport(error.without_url().to_string()))?;
    if (200..300).contains(&status) {
        Ok(body.to_vec())
    } else {
        Err(provider_error(status, &body))
    }
}

pub(crate) fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0),
    )
}

impl Client {
    /// A client for `credentials`.
    pub fn new(credentials: ClientCredentials) -> Client {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Client { http, credentials }
    }

    /// The credentials.
    pub fn credentials(&self) -> &ClientCredentials {
        &self.credentials
    }

    /// The underlying HTTP client.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn with_credentials<'a>(&'a self, form: &mut Vec<(&'a str, &'a str)>) {
        form.push(("client_id", &self.credentials.client_id));
        if let Some(secret) = &self.credentials.client_secret {
            form.push(("client_secret", secret.expose_secret()));
        }
    }

    /// POSTs a form and returns the body of a 2xx answer.
    pub(crate) async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<Vec<u8>, OAuthError> {
        post_form(&self.http, url, form).await
    }

    /// Exchanges an authorization code, proving possession of the PKCE verifier.
    pub async fn exchange_code(
        &self,
        token_url: &str,
        code: &str,
        redirect_uri: &str,
        verifier: &Secret,
    ) -> Result<TokenSet, OAuthError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.expose_secret()),
        ];
        self.with_credentials(&mut form);
        let body = self.post_form(token_url, &form).await?;
        Ok(TokenResponse::parse(&body)?.into_token_set(now(), None))
    }

    /// Refreshes. Providers that rotate return a new refresh token, which replaces the
    /// old one (write it to the keystore before using the new access token); others
    /// keep the old one.
    pub async fn refresh(
        &self,
        token_url: &str,
        refresh_token: &Secret,
    ) -> Result<TokenSet, OAuthError> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        self.with_credentials(&mut form);
        let body = self.post_form(token_url, &form).await?;
        Ok(TokenResponse::parse(&body)?.into_token_set(now(), Some(refresh_token.clone())))
    }

    /// Revokes a token (RFC 7009 form: `client_id`, `token`).
    pub async fn revoke(&self, revoke_url: &str, token: &Secret) -> Result<(), OAuthError> {
        let mut form = vec![("token", token.expose_secret())];
        self.with_credentials(&mut form);
        self.post_form(revoke_url, &form).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_carries_pkce_and_state() {
        let url = authorize_url(
            "https://id.twitch.tv/oauth2/authorize",
            "cid",
            "http://127.0.0.1:5555/callback",
            &["user:read:chat", "bits:read"],
            "st",
            "ch",
            &[("force_verify", "true")],
        )
        .unwrap();
        assert!(url.starts_with("https://id.twitch.tv/oauth2/authorize?client_id=cid&redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcallback&response_type=code&scope=user%3Aread%3Achat+bits%3Aread&state=st&code_challenge=ch&code_challenge_method=S256&force_verify=true"), "{url}");
        assert!(authorize_url("not a url", "c", "r", &[], "s", "c", &[]).is_err());
    }

    #[test]
    fn both_error_shapes_are_read() {
        let twitch = include_bytes!("../tests/data/twitch_oauth2_validate_401.json");
        assert_eq!(
            provider_error(401, twitch),
            OAuthError::Provider {
                status: 401,
                code: "invalid access token".into()
            }
        );
        assert_eq!(
            provider_error(400, br#"{"error":"invalid_grant","error_description":"x"}"#),
            OAuthError::Provider {
                status: 400,
                code: "invalid_grant".into()
            }
        );
        assert_eq!(
            provider_error(502, b"<html>"),
            OAuthError::Provider {
                status: 502,
                code: "HTTP 502".into()
            }
        );
    }
}
