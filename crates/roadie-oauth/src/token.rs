//! Token sets: what a sign-in yields, how a provider's token answer is read, and the
//! one serialisation that exists (for the keystore).

use roadie_core::{Secret, Timestamp};
use serde::{Deserialize, Deserializer, Serialize};

use crate::OAuthError;

/// Access and refresh tokens with what is known about them.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSet {
    /// The bearer token.
    pub access_token: Secret,
    /// The refresh token; rotated providers return a new one on each refresh.
    pub refresh_token: Option<Secret>,
    /// When the access token expires, if the provider said.
    pub expires_at: Option<Timestamp>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The account's platform id, once known (validation or user lookup).
    pub account_id: Option<String>,
    /// The account's login, once known.
    pub account_login: Option<String>,
}

fn scopes_from_either<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scopes {
        List(Vec<String>),
        Spaced(String),
    }
    Ok(match Option::<Scopes>::deserialize(deserializer)? {
        Some(Scopes::List(list)) => list,
        Some(Scopes::Spaced(text)) => text.split_whitespace().map(str::to_owned).collect(),
        None => Vec::new(),
    })
}

/// `expires_in` as a number, or as a string holding one (Kick's documentation shows
/// strings, even `""`); anything unreadable counts as unknown rather than failing the
/// whole sign-in.
fn seconds_from_either<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(u64),
        Float(f64),
        Text(String),
    }
    Ok(match Option::<Seconds>::deserialize(deserializer)? {
        Some(Seconds::Number(seconds)) => Some(seconds),
        Some(Seconds::Float(seconds)) if seconds.is_finite() && seconds >= 0.0 => {
            Some(seconds as u64)
        }
        Some(Seconds::Text(text)) => text.trim().parse().ok(),
        _ => None,
    })
}

/// A provider's token answer (RFC 6749 §5.1): `scope` may be a list (Twitch) or a
/// space-separated string (the RFC, Google, Kick).
#[derive(Deserialize)]
pub struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "seconds_from_either")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "scopes_from_either")]
    scope: Vec<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl TokenResponse {
    /// Parses a token answer; the error never quotes the body (it holds tokens).
    pub fn parse(body: &[u8]) -> Result<TokenResponse, OAuthError> {
        let response: TokenResponse = serde_json::from_slice(body).map_err(|error| {
            OAuthError::Malformed(format!("token answer: {}", error.classify_name()))
        })?;
        if response.access_token.is_empty() {
            return Err(OAuthError::Malformed(
                "token answer with an empty access_token".into(),
            ));
        }
        Ok(response)
    }

    /// The token set, with `expires_in` counted from `now`. A refresh answer without a
    /// refresh token keeps `previous_refresh` (providers that do not rotate).
    pub fn into_token_set(self, now: Timestamp, previous_refresh: Option<Secret>) -> TokenSet {
        TokenSet {
            access_token: Secret::new(self.access_token),
            refresh_token: self
                .refresh_token
                .filter(|token| !token.is_empty())
                .map(Secret::new)
                .or(previous_refresh),
            expires_at: self.expires_in.map(|seconds| {
                Timestamp(
                    now.unix_ms()
                        .saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX / 2000) * 1000),
                )
            }),
            scopes: self.scope,
            account_id: None,
            account_login: None,
        }
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "missing or wrong fields",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_at_ms: Option<i64>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    account_login: Option<String>,
}

impl TokenSet {
    /// The keystore value: JSON, as a `Secret`.
    pub fn to_keystore_value(&self) -> Secret {
        let stored = Stored {
            access_token: self.access_token.expose_secret().to_owned(),
            refresh_token: self
                .refresh_token
                .as_ref()
                .map(|token| token.expose_secret().to_owned()),
            expires_at_ms: self.expires_at.map(Timestamp::unix_ms),
            scopes: self.scopes.clone(),
            account_id: self.account_id.clone(),
            account_login: self.account_login.clone(),
        };
        Secret::new(serde_json::to_string(&stored).unwrap_or_default())
    }

    /// Reads a keystore value written by [`TokenSet::to_keystore_value`].
    pub fn from_keystore_value(value: &Secret) -> Result<TokenSet, OAuthError> {
        let stored: Stored = serde_json::from_str(value.expose_secret()).map_err(|error| {
            OAuthError::Malformed(format!("stored token set: {}", error.classify_name()))
        })?;
        Ok(TokenSet {
            access_token: Secret::new(stored.access_token),
            refresh_token: stored.refresh_token.map(Secret::new),
            expires_at: stored.expires_at_ms.map(Timestamp),
            scopes: stored.scopes,
            account_id: stored.account_id,
            account_login: stored.account_login,
        })
    }

    /// True when the access token expires within `margin_ms` of `now` (or has).
    pub fn expires_within(&self, now: Timestamp, margin_ms: i64) -> bool {
        self.expires_at
            .is_some_and(|expiry| expiry.unix_ms() <= now.unix_ms().saturating_add(margin_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn twitch_refresh_answer_fixture_parses() {
        // The documented example: `scope` is a string there, an array in real answers.
        let body = include_bytes!("../tests/data/twitch_oauth2_token_refresh_response.json");
        let tokens = TokenResponse::parse(body)
            .unwrap()
            .into_token_set(Timestamp(0), None);
        assert_eq!(tokens.scopes, vec!["channel:read:subscriptions"]);
        assert_eq!(
            tokens.refresh_token.as_ref().map(Secret::expose_secret),
            Some("eyJfaWQmNzMtNGCJ9%6VFV5LNrZFUj8oU231/3Aj")
        );
        assert_eq!(tokens.expires_at, Some(Timestamp(3_600_000)));
        let array = br#"{"access_token":"a","refresh_token":"r","scope":["channel:read:subscriptions","bits:read"],"token_type":"bearer"}"#;
        let tokens = TokenResponse::parse(array)
            .unwrap()
            .into_token_set(Timestamp(0), None);
        assert_eq!(
            tokens.scopes,
            vec!["channel:read:subscriptions", "bits:read"]
        );
    }

    #[test]
    fn scope_may_be_a_spaced_string_and_refresh_tokens_carry_over() {
        let body = br#"{"access_token":"a","expires_in":3600,"scope":"youtube youtube.readonly"}"#;
        let previous = Some(Secret::new("old-refresh"));
        let tokens = TokenResponse::parse(body)
            .unwrap()
            .into_token_set(Timestamp(1_000), previous.clone());
        assert_eq!(tokens.scopes, vec!["youtube", "youtube.readonly"]);
        assert_eq!(tokens.expires_at, Some(Timestamp(3_601_000)));
        assert_eq!(tokens.refresh_token, previous);
        assert!(tokens.expires_within(Timestamp(3_000_000), 700_000));
        assert!(!tokens.expires_within(Timestamp(1_000), 60_000));
    }

    #[test]
    fn expires_in_may_be_a_string_as_kick_documents_it() {
        let expiry = |body: &[u8]| {
            TokenResponse::parse(body)
                .unwrap()
                .into_token_set(Timestamp(0), None)
                .expires_at
        };
        assert_eq!(
            expiry(br#"{"access_token":"a","expires_in":"7200"}"#),
            Some(Timestamp(7_200_000))
        );
        assert_eq!(expiry(br#"{"access_token":"a","expires_in":""}"#), None);
        assert_eq!(expiry(br#"{"access_token":"a","expires_in":null}"#), None);
        assert_eq!(
            expiry(br#"{"access_token":"a","expires_in":60}"#),
            Some(Timestamp(60_000))
        );
    }

    #[test]
    fn errors_and_debug_never_show_tokens() {
        let error =
            TokenResponse::parse(br#"{"access_token": 5, "refresh_token": "leaky-refresh"}"#)
                .unwrap_err();
        assert!(!error.to_string().contains("leaky"));
        let parsed = TokenResponse::parse(
            br#"{"access_token":"leaky-access","refresh_token":"leaky-refresh"}"#,
        )
        .unwrap();
        assert!(!format!("{parsed:?}").contains("leaky"));
        let tokens = parsed.into_token_set(Timestamp(0), None);
        assert!(!format!("{tokens:?}").contains("leaky"));
        assert!(TokenResponse::parse(br#"{"access_token":""}"#).is_err());
    }

    #[test]
    fn keystore_round_trip() {
        let tokens = TokenSet {
            access_token: Secret::new("a"),
            refresh_token: Some(Secret::new("r")),
            expires_at: Some(Timestamp(5)),
            scopes: vec!["s".into()],
            account_id: Some("1".into()),
            account_login: Some("alice".into()),
        };
        assert_eq!(
            TokenSet::from_keystore_value(&tokens.to_keystore_value()).unwrap(),
            tokens
        );
        assert!(TokenSet::from_keystore_value(&Secret::new("garbage")).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = TokenResponse::parse(&body);
        }
    }
}
