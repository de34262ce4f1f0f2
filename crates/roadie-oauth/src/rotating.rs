//! The live token set of one signed-in account, refreshed in one place: concurrent
//! callers that hit a 401 share one refresh, and a rotated pair is written to the
//! keystore (through [`TokenStore`]) before anything uses it. Every adapter uses it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use roadie_core::Secret;

use crate::{Client, ClientCredentials, OAuthError, TokenSet};

/// Persists rotated token sets (the keystore). Called before a new token is used.
pub trait TokenStore: Send + Sync {
    /// Stores `tokens`, replacing the previous set.
    fn save(
        &self,
        tokens: &TokenSet,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

/// Why a refresh did not give a usable token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// The refresh token is gone or refused: the user must sign in again.
    #[error("{0}")]
    AuthRequired(String),
    /// The provider or the keystore could not be reached; trying later may work.
    #[error("{0}")]
    Transport(String),
}

/// The current token set, and how to refresh it.
pub struct RotatingTokens {
    current: Mutex<TokenSet>,
    oauth: Client,
    token_url: String,
    store: Arc<dyn TokenStore>,
    refreshing: tokio::sync::Mutex<()>,
    provider: &'static str,
}

impl std::fmt::Debug for RotatingTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatingTokens")
            .field("provider", &self.provider)
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

impl RotatingTokens {
    /// `tokens` for the app `credentials`, refreshed at `token_url` and persisted
    /// through `store`; `provider` names it in logs ("Twitch").
    pub fn new(
        provider: &'static str,
        credentials: ClientCredentials,
        token_url: String,
        tokens: TokenSet,
        store: Arc<dyn TokenStore>,
    ) -> RotatingTokens {
        RotatingTokens {
            current: Mutex::new(tokens),
            oauth: Client::new(credentials),
            token_url,
            store,
            refreshing: tokio::sync::Mutex::new(()),
            provider,
        }
    }

    /// A copy of the current set.
    pub fn snapshot(&self) -> Option<TokenSet> {
        self.current.lock().ok().map(|tokens| tokens.clone())
    }

    /// The current access token.
    pub fn access(&self) -> Secret {
        self.current
            .lock()
            .map(|tokens| tokens.access_token.clone())
            .unwrap_or_else(|_| Secret::new(""))
    }

    /// Refreshes after `seen` (the access token that was refused) stopped working.
    /// When another caller already refreshed meanwhile, its token is returned.
    pub async fn refresh(&self, seen: &Secret) -> Result<Secret, RefreshError> {
        let _one_at_a_time = self.refreshing.lock().await;
        let now_current = self.access();
        if &now_current != seen {
            return Ok(now_current);
        }
        let Some(previous) = self.snapshot() else {
            return Err(RefreshError::AuthRequired("token state lost".into()));
        };
        let Some(refresh_token) = previous.refresh_token.clone() else {
            return Err(RefreshError::AuthRequired(
                "the token expired and there is no refresh token".into(),
            ));
        };
        let mut fresh = match self.oauth.refresh(&self.token_url, &refresh_token).await {
            Ok(fresh) => fresh,
            Err(OAuthError::Provider { code, .. }) => {
                return Err(RefreshError::AuthRequired(format!(
                    "the refresh was refused: {code}"
                )));
            }
            Err(error) => return Err(RefreshError::Transport(error.to_string())),
        };
        fresh.account_id = previous.account_id.clone();
        fresh.account_login = previous.account_login.clone();
        if fresh.scopes.is_empty() {
            fresh.scopes = previous.scopes.clone();
        }
        // The rotated pair is durable before anything uses it.
        self.store.save(&fresh).await.map_err(|error| {
            RefreshError::Transport(format!("storing the refreshed token failed: {error}"))
        })?;
        let access = fresh.access_token.clone();
        if let Ok(mut current) = self.current.lock() {
            *current = fresh;
        }
        tracing::info!(provider = self.provider, "token refreshed and stored");
        Ok(access)
    }
}
