//! Kick's part of platform supervision: settings from `[kick]` (the client secret from
//! the file or the keystore), sign-in through `id.kick.com` (PKCE and the client
//! secret; no device flow), token introspection, revocation, the adapter, reward
//! redemptions, and signed webhooks.

use std::sync::Arc;
use std::time::Duration;

use roadie_core::{Platform as PlatformId, Timestamp};
use roadie_oauth::{ClientCredentials, TokenSet, TokenStore};
use roadie_platform::Platform;
use roadie_platform_kick::{KickAdapter, KickSettings};

use super::{PlatformError, PlatformManager, SignIn};

impl PlatformManager {
    async fn kick_settings(&self, channel: Option<&str>) -> Result<KickSettings, PlatformError> {
        let kick = self.config.kick.as_ref().ok_or_else(|| {
            PlatformError::NotAvailable(
                "Kick is not configured: add a [kick] section with your app's client_id".into(),
            )
        })?;
        let client_secret = match &kick.client_secret {
            Some(secret) => secret.clone(),
            None => self.read_secret("kick.client_secret").await?.ok_or_else(|| {
                PlatformError::NotAvailable(
                    "Kick requires the app's client secret: add client_secret to [kick] or run `roadie secrets set kick.client_secret`".into(),
                )
            })?,
        };
        let channel = kick
            .channel
            .clone()
            .or_else(|| channel.map(str::to_owned))
            .unwrap_or_default();
        let mut settings = KickSettings::new(kick.client_id.clone(), client_secret, channel);
        settings.auth_url = kick.auth_url.clone();
        settings.api_url = kick.api_url.clone();
        settings.pusher_url = kick.pusher_url.clone();
        settings.channel_info_url = kick.channel_info_url.clone();
        settings.poll_every = Duration::from_secs(u64::from(kick.poll_seconds));
        settings.subscribe_webhooks = kick.webhook;
        settings.known_ids = match (kick.chatroom_id, kick.channel_id) {
            (Some(chatroom_id), Some(channel_id)) => {
                Some(roadie_platform_kick::pusher::ChannelIds {
                    chatroom_id: chatroom_id.to_string(),
                    channel_id: channel_id.to_string(),
                    // Unknown here; the adapter asks the API for it when it needs it.
                    user_id: String::new(),
                })
            }
            (None, None) => None,
            _ => {
                return Err(PlatformError::NotAvailable(
                    "set both [kick] chatroom_id and channel_id, or neither".into(),
                ));
            }
        };
        Ok(settings)
    }

    pub(super) async fn start_kick(
        &self,
        tokens: TokenSet,
        token_store: Arc<dyn TokenStore>,
    ) -> Result<(), PlatformError> {
        // Without `[kick] channel`, the signed-in user's own channel (Kick slugs are
        // the lower-cased user name).
        let own = tokens
            .account_login
            .as_deref()
            .map(|login| login.to_ascii_lowercase());
        let settings = self.kick_settings(own.as_deref()).await?;
        if settings.channel.is_empty() {
            return Err(PlatformError::NotAvailable(
                "the Kick channel is not known: set [kick] channel".into(),
            ));
        }
        let rotating = Arc::new(roadie_oauth::RotatingTokens::new(
            "Kick",
            ClientCredentials {
                client_id: settings.client_id.clone(),
                client_secret: Some(settings.client_secret.clone()),
            },
            roadie_platform_kick::oauth::token_url(&settings),
            tokens,
            token_store,
        ));
        let kick = Arc::new(KickAdapter::new(settings, rotating));
        let adapter: Arc<dyn Platform> = Arc::clone(&kick) as Arc<dyn Platform>;
        self.run_adapter(PlatformId::Kick, adapter).await;
        if let Ok(mut slot) = self.kick.lock() {
            *slot = Some(kick);
        }
        Ok(())
    }

    pub(super) async fn kick_sign_in(&self) -> Result<SignIn, PlatformError> {
        let settings = self.kick_settings(None).await?;
        Ok(SignIn {
            credentials: ClientCredentials {
                client_id: settings.client_id.clone(),
                client_secret: Some(settings.client_secret.clone()),
            },
            authorize_url: roadie_platform_kick::oauth::authorize_endpoint(&settings),
            authorize_extra: &[],
            token_url: roadie_platform_kick::oauth::token_url(&settings),
            scopes: roadie_platform::all_scopes(roadie_platform_kick::CAPABILITIES),
            device: None,
        })
    }

    /// Introspects the token (scopes, expiry) and reads its user.
    pub(super) async fn identify_kick(
        &self,
        tokens: &mut TokenSet,
    ) -> Result<(String, String), PlatformError> {
        let settings = self.kick_settings(None).await?;
        let introspection =
            roadie_platform_kick::oauth::introspect(&self.http, &settings, &tokens.access_token)
                .await
                .map_err(|error| {
                    PlatformError::Upstream(format!("cannot check the token with Kick: {error}"))
                })?;
        if !introspection.active {
            return Err(PlatformError::BadRequest(
                "Kick says this token is not active (invalid or expired)".into(),
            ));
        }
        if !introspection.scopes.is_empty() {
            tokens.scopes = introspection.scopes.clone();
        }
        if let Some(expires) = introspection.expires_at_unix {
            tokens.expires_at = Some(Timestamp(expires.saturating_mul(1000)));
        }
        let user = roadie_platform_kick::oauth::current_user(
            &self.http,
            &settings.api_url,
            &tokens.access_token,
        )
        .await
        .map_err(|error| PlatformError::Upstream(format!("cannot read the Kick user: {error}")))?;
        Ok((user.id, user.name))
    }

    /// Revokes both tokens (Kick takes them in the query string).
    pub(super) async fn revoke_kick(&self, tokens: &TokenSet) -> bool {
        let Ok(settings) = self.kick_settings(None).await else {
            return false;
        };
        let revoked = roadie_platform_kick::oauth::revoke(
            &self.http,
            &settings,
            &tokens.access_token,
            roadie_platform_kick::oauth::TokenHint::AccessToken,
        )
        .await
        .is_ok();
        if let Some(refresh) = &tokens.refresh_token {
            let _ = roadie_platform_kick::oauth::revoke(
                &self.http,
                &settings,
                refresh,
                roadie_platform_kick::oauth::TokenHint::RefreshToken,
            )
            .await;
        }
        revoked
    }

    pub(super) fn kick_adapter(&self) -> Result<Arc<KickAdapter>, PlatformError> {
        self.kick
            .lock()
            .ok()
            .and_then(|slot| slot.clone())
            .ok_or_else(|| {
                PlatformError::NotAvailable(
                    "Kick is not signed in; run `roadie auth login kick`".into(),
                )
            })
    }

    /// Accepts or rejects a Kick reward redemption.
    pub(super) async fn finish_kick_redemption(
        &self,
        redemption_id: &str,
        accept: bool,
    ) -> Result<(), PlatformError> {
        self.kick_adapter()?
            .finish_redemption(redemption_id, accept)
            .await
            .map_err(|error| PlatformError::Upstream(error.to_string()))
    }

    /// A signed webhook from Kick: verified, then normalised like the Pusher feed
    /// (an event heard both ways counts once). Returns how many events it gave.
    pub async fn kick_webhook(
        &self,
        headers: &roadie_platform_kick::webhook::WebhookHeaders,
        body: &[u8],
    ) -> Result<usize, PlatformError> {
        if !self.config.kick.as_ref().is_some_and(|kick| kick.webhook) {
            return Err(PlatformError::NotAvailable(
                "Kick webhooks are off; set [kick] webhook = true".into(),
            ));
        }
        self.kick_adapter()?
            .ingest_webhook(headers, body, std::time::SystemTime::now())
            .await
            .map_err(|error| PlatformError::BadRequest(error.to_string()))
    }
}
