//! YouTube's part of platform supervision: settings from `[youtube]` (the user's own
//! Google project: quota is per project), sign-in through Google (loopback with PKCE,
//! or the device flow limited to the `youtube` scope), revocation, the adapter, and
//! its quota spending for `roadie status`.

use std::sync::Arc;
use std::time::Duration;

use roadie_core::Platform as PlatformId;
use roadie_oauth::{ClientCredentials, DeviceFlavor, TokenSet, TokenStore};
use roadie_platform::Platform;
use roadie_platform_youtube::{QuotaCosts, YoutubeAdapter, YoutubeSettings};

use super::{DeviceSignIn, PlatformError, PlatformManager, SignIn};

impl PlatformManager {
    async fn youtube_settings(&self) -> Result<YoutubeSettings, PlatformError> {
        let youtube = self.config.youtube.as_ref().ok_or_else(|| {
            PlatformError::NotAvailable(
                "YouTube is not configured: add a [youtube] section with your Google project's client_id".into(),
            )
        })?;
        let client_secret = match &youtube.client_secret {
            Some(secret) => Some(secret.clone()),
            None => self
                .read_secret("youtube.client_secret")
                .await
                .ok()
                .flatten(),
        };
        let mut settings = YoutubeSettings::new(youtube.client_id.clone());
        settings.client_secret = client_secret;
        settings.auth_url = youtube.auth_url.clone();
        settings.token_url = youtube.token_url.clone();
        settings.device_url = youtube.device_url.clone();
        settings.api_url = youtube.api_url.clone();
        settings.daily_quota = youtube.daily_quota;
        settings.viewers_every = Duration::from_secs(u64::from(youtube.poll_seconds));
        settings.quota_horizon = youtube
            .stream_hours
            .map(|hours| Duration::from_secs(u64::from(hours) * 3600));
        settings.costs = QuotaCosts {
            broadcasts_list: youtube.costs.live_broadcasts_list,
            messages_list: youtube.costs.live_chat_messages_list,
            messages_insert: youtube.costs.live_chat_messages_insert,
            videos_list: youtube.costs.videos_list,
            channels_list: youtube.costs.channels_list,
        };
        Ok(settings)
    }

    pub(super) async fn start_youtube(
        &self,
        tokens: TokenSet,
        token_store: Arc<dyn TokenStore>,
    ) -> Result<(), PlatformError> {
        let settings = self.youtube_settings().await?;
        let rotating = Arc::new(roadie_oauth::RotatingTokens::new(
            "YouTube",
            ClientCredentials {
                client_id: settings.client_id.clone(),
                client_secret: settings.client_secret.clone(),
            },
            settings.token_url.clone(),
            tokens,
            token_store,
        ));
        let youtube = Arc::new(YoutubeAdapter::new(settings, rotating));
        let adapter: Arc<dyn Platform> = Arc::clone(&youtube) as Arc<dyn Platform>;
        self.run_adapter(PlatformId::Youtube, adapter).await;
        if let Ok(mut slot) = self.youtube.lock() {
            *slot = Some(youtube);
        }
        Ok(())
    }

    pub(super) async fn youtube_sign_in(&self) -> Result<SignIn, PlatformError> {
        let settings = self.youtube_settings().await?;
        let scopes = roadie_platform::all_scopes(roadie_platform_youtube::CAPABILITIES);
        Ok(SignIn {
            credentials: ClientCredentials {
                client_id: settings.client_id.clone(),
                client_secret: settings.client_secret.clone(),
            },
            authorize_url: settings.auth_url.clone(),
            authorize_extra: roadie_platform_youtube::oauth::AUTHORIZE_EXTRA,
            token_url: settings.token_url.clone(),
            device: Some(DeviceSignIn {
                url: settings.device_url.clone(),
                flavor: DeviceFlavor::Standard,
                scopes: roadie_platform_youtube::oauth::DEVICE_SCOPES.to_vec(),
            }),
            scopes,
        })
    }

    /// Reads the token's channel.
    pub(super) async fn identify_youtube(
        &self,
        tokens: &mut TokenSet,
    ) -> Result<(String, String), PlatformError> {
        let settings = self.youtube_settings().await?;
        roadie_platform_youtube::oauth::my_channel(
            &self.http,
            &settings.api_url,
            &tokens.access_token,
        )
        .await
        .map_err(|error| {
            PlatformError::Upstream(format!("cannot read the YouTube channel: {error}"))
        })
    }

    /// Revokes the token at Google (revoking either revokes the grant).
    pub(super) async fn revoke_youtube(&self, tokens: &TokenSet) -> bool {
        let Ok(settings) = self.youtube_settings().await else {
            return false;
        };
        let token = tokens
            .refresh_token
            .as_ref()
            .unwrap_or(&tokens.access_token);
        roadie_platform_youtube::oauth::revoke(&settings, token)
            .await
            .is_ok()
    }

    /// YouTube's quota spending, while YouTube runs.
    pub fn youtube_quota(&self) -> Option<roadie_protocol::QuotaInfo> {
        let youtube = self.youtube.lock().ok()?.clone()?;
        let quota = youtube.quota();
        Some(roadie_protocol::QuotaInfo {
            used: u64::from(quota.used),
            budget: u64::from(quota.budget),
            remaining: u64::from(quota.remaining),
            poll_interval_ms: quota.interval_ms,
            warning: quota.warning,
            exhausted: quota.exhausted,
        })
    }
}
