//! Twitch's part of platform supervision: settings from `[twitch]`, sign-in through
//! `id.twitch.tv` (browser and device flows, validation, revocation), the adapter, and
//! Roadie's own channel-point rewards.

use std::sync::Arc;
use std::time::Duration;

use roadie_core::{Platform as PlatformId, Timestamp};
use roadie_oauth::{ClientCredentials, DeviceFlavor, TokenSet, TokenStore};
use roadie_platform::Platform;
use roadie_platform_twitch::adapter::{TwitchAdapter, TwitchSettings, TwitchTokens, validate};
use roadie_platform_twitch::helix::{CustomReward, HelixError, RewardChanges};

use super::{DeviceSignIn, PlatformError, PlatformManager, SignIn};

impl PlatformManager {
    pub(super) async fn twitch_settings(&self) -> Result<TwitchSettings, PlatformError> {
        let twitch = self.config.twitch.as_ref().ok_or_else(|| {
            PlatformError::NotAvailable(
                "Twitch is not configured: add a [twitch] section with your app's client_id".into(),
            )
        })?;
        let client_secret = match &twitch.client_secret {
            Some(secret) => Some(secret.clone()),
            None => self
                .read_secret("twitch.client_secret")
                .await
                .ok()
                .flatten(),
        };
        Ok(TwitchSettings {
            client_id: twitch.client_id.clone(),
            client_secret,
            auth_url: twitch.auth_url.clone(),
            helix_url: twitch.helix_url.clone(),
            eventsub_url: twitch.eventsub_url.clone(),
            poll_every: Duration::from_secs(u64::from(twitch.poll_seconds)),
            clock_check_every: roadie_platform_twitch::adapter::CLOCK_CHECK_EVERY,
            wall_clock: roadie_platform_twitch::adapter::WallClock::system(),
        })
    }

    pub(super) async fn start_twitch(
        &self,
        tokens: TokenSet,
        token_store: Arc<dyn TokenStore>,
    ) -> Result<(), PlatformError> {
        let settings = self.twitch_settings().await?;
        let twitch = Arc::new(TwitchAdapter::new(
            settings.clone(),
            Arc::new(TwitchTokens::new(&settings, tokens, token_store)),
        ));
        let adapter: Arc<dyn Platform> = Arc::clone(&twitch) as Arc<dyn Platform>;
        self.run_adapter(PlatformId::Twitch, adapter).await;
        // After `run_adapter`, which stops (and forgets) a previous adapter first.
        if let Ok(mut slot) = self.twitch.lock() {
            *slot = Some(twitch);
        }
        Ok(())
    }

    pub(super) fn twitch_rewards(&self) -> Result<(Arc<TwitchAdapter>, String), PlatformError> {
        let adapter = self
            .twitch
            .lock()
            .ok()
            .and_then(|slot| slot.clone())
            .ok_or_else(|| {
                PlatformError::NotAvailable(
                    "Twitch is not signed in; run `roadie auth login twitch`".into(),
                )
            })?;
        let broadcaster = adapter.account_id().ok_or_else(|| {
            PlatformError::NotAvailable("the Twitch account is not known yet".into())
        })?;
        Ok((adapter, broadcaster))
    }

    /// Roadie's own Twitch rewards.
    pub async fn rewards(&self) -> Result<Vec<CustomReward>, PlatformError> {
        let (adapter, broadcaster) = self.twitch_rewards()?;
        adapter
            .helix()
            .own_rewards(&broadcaster)
            .await
            .map_err(helix_error)
    }

    /// Creates (`reward_id` None) or updates one of Roadie's Twitch rewards.
    pub async fn change_reward(
        &self,
        reward_id: Option<&str>,
        changes: RewardChanges,
    ) -> Result<CustomReward, PlatformError> {
        let (adapter, broadcaster) = self.twitch_rewards()?;
        let helix = adapter.helix();
        match reward_id {
            None => helix.create_reward(&broadcaster, &changes).await,
            Some(id) => helix.update_reward(&broadcaster, id, &changes).await,
        }
        .map_err(helix_error)
    }

    /// Fulfils or cancels (refunds) a redemption of one of Roadie's Twitch rewards.
    pub(super) async fn finish_twitch_redemption(
        &self,
        reward_id: &str,
        redemption_id: &str,
        fulfilled: bool,
    ) -> Result<(), PlatformError> {
        let (adapter, broadcaster) = self.twitch_rewards()?;
        adapter
            .helix()
            .finish_redemption(&broadcaster, reward_id, redemption_id, fulfilled)
            .await
            .map_err(helix_error)
    }

    pub(super) async fn twitch_sign_in(&self) -> Result<SignIn, PlatformError> {
        let settings = self.twitch_settings().await?;
        let scopes = roadie_platform::all_scopes(roadie_platform_twitch::adapter::CAPABILITIES);
        Ok(SignIn {
            credentials: ClientCredentials {
                client_id: settings.client_id.clone(),
                client_secret: settings.client_secret.clone(),
            },
            authorize_url: format!("{}/authorize", settings.auth_url),
            authorize_extra: &[("force_verify", "true")],
            token_url: format!("{}/token", settings.auth_url),
            device: Some(DeviceSignIn {
                url: format!("{}/device", settings.auth_url),
                flavor: DeviceFlavor::Twitch,
                scopes: scopes.clone(),
            }),
            scopes,
        })
    }

    /// Validates the token with Twitch: its user, scopes and expiry.
    pub(super) async fn identify_twitch(
        &self,
        tokens: &mut TokenSet,
    ) -> Result<(String, String), PlatformError> {
        let settings = self.twitch_settings().await?;
        let validation = validate(&self.http, &settings.auth_url, &tokens.access_token)
            .await
            .map_err(|error| {
                PlatformError::Upstream(format!("cannot validate the token with Twitch: {error}"))
            })?
            .ok_or_else(|| {
                PlatformError::BadRequest("Twitch rejects this token (invalid or expired)".into())
            })?;
        let (Some(user_id), Some(login)) = (validation.user_id, validation.login) else {
            return Err(PlatformError::BadRequest(
                "this is an app token; sign in as the broadcaster instead".into(),
            ));
        };
        if !validation.scopes.is_empty() {
            tokens.scopes = validation.scopes;
        }
        if let Some(seconds) = validation.expires_in {
            tokens.expires_at = Some(Timestamp(
                roadie_store::now_ms() + i64::try_from(seconds).unwrap_or(0) * 1000,
            ));
        }
        Ok((user_id, login))
    }

    /// Revokes both tokens (RFC 7009 form with the client id).
    pub(super) async fn revoke_twitch(&self, tokens: &TokenSet) -> bool {
        let Ok(settings) = self.twitch_settings().await else {
            return false;
        };
        let client = roadie_oauth::Client::new(ClientCredentials {
            client_id: settings.client_id.clone(),
            client_secret: None,
        });
        let revoke_url = format!("{}/revoke", settings.auth_url);
        let revoked = client
            .revoke(&revoke_url, &tokens.access_token)
            .await
            .is_ok();
        if let Some(refresh) = &tokens.refresh_token {
            let _ = client.revoke(&revoke_url, refresh).await;
        }
        revoked
    }
}

pub(super) fn helix_error(error: HelixError) -> PlatformError {
    match error {
        HelixError::Api {
            status: 400..=499,
            message,
        } => PlatformError::BadRequest(message),
        HelixError::AuthRequired(reason) => {
            PlatformError::NotAvailable(format!("{reason}; run `roadie auth login twitch`"))
        }
        other => PlatformError::Upstream(other.to_string()),
    }
}
