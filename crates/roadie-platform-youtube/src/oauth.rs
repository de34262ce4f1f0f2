//! Google sign-in for YouTube. The user's own Google Cloud project provides the OAuth
//! client (and with it the API quota, which is per project).
//!
//! - Browser: the loopback authorization code flow with PKCE. Google issues a refresh
//!   token only with `access_type=offline`, and only on first consent unless
//!   `prompt=consent` is sent, so both are always added ([`AUTHORIZE_EXTRA`]).
//! - Device: Google's "TVs and Limited Input devices" flow allows only a few scopes;
//!   `https://www.googleapis.com/auth/youtube` is one of them (and enough to read and
//!   send chat), `youtube.force-ssl` is not. Google names the page `verification_url`
//!   ([`roadie_oauth::DeviceFlavor::Standard`] reads it).
//! - Refresh: Google normally keeps the refresh token (the answer has none);
//!   `roadie_oauth` keeps the old one then, and stores a new one if Google sends it.
//! - Revoke: `POST https://oauth2.googleapis.com/revoke` with `token=`; revoking either
//!   token of a grant revokes the grant.

use roadie_core::Secret;
use roadie_oauth::{
    Client, ClientCredentials, DeviceAuthorization, DeviceFlavor, DevicePoller, TokenSet,
};

use crate::YoutubeError;
use crate::api::{get_once, parse_channel};
use crate::settings::YoutubeSettings;

/// The one scope Roadie asks for: read and send live chat, list broadcasts.
pub const SCOPE: &str = "https://www.googleapis.com/auth/youtube";

/// The scopes the device flow asks for (Google allows `youtube` there, not
/// `youtube.force-ssl`).
pub const DEVICE_SCOPES: &[&str] = &[SCOPE];

/// Extra authorize parameters: a refresh token is only issued offline, and only on
/// consent.
pub const AUTHORIZE_EXTRA: &[(&str, &str)] = &[("access_type", "offline"), ("prompt", "consent")];

/// The OAuth client for the settings' Google project.
pub fn client(settings: &YoutubeSettings) -> Client {
    Client::new(ClientCredentials {
        client_id: settings.client_id.clone(),
        client_secret: settings.client_secret.clone(),
    })
}

/// The browser's sign-in URL for the loopback flow, with the PKCE `challenge`.
pub fn authorize_url(
    settings: &YoutubeSettings,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> Result<String, YoutubeError> {
    Ok(roadie_oauth::authorize_url(
        &settings.auth_url,
        &settings.client_id,
        redirect_uri,
        &[SCOPE],
        state,
        challenge,
        AUTHORIZE_EXTRA,
    )?)
}

/// Exchanges the code the browser brought back, with the PKCE verifier.
pub async fn exchange_code(
    settings: &YoutubeSettings,
    code: &Secret,
    redirect_uri: &str,
    verifier: &Secret,
) -> Result<TokenSet, YoutubeError> {
    Ok(client(settings)
        .exchange_code(
            &settings.token_url,
            code.expose_secret(),
            redirect_uri,
            verifier,
        )
        .await?)
}

/// Starts the device flow for [`DEVICE_SCOPES`].
pub async fn device_start(settings: &YoutubeSettings) -> Result<DeviceAuthorization, YoutubeError> {
    Ok(client(settings)
        .device_start(&settings.device_url, DeviceFlavor::Standard, DEVICE_SCOPES)
        .await?)
}

/// The poller that waits for the user to approve a device authorization.
pub fn device_poller(settings: &YoutubeSettings) -> DevicePoller {
    client(settings).device_poller(&settings.token_url, DeviceFlavor::Standard, DEVICE_SCOPES)
}

/// Refreshes an access token (Google keeps the refresh token unless it sends a new one).
pub async fn refresh(
    settings: &YoutubeSettings,
    refresh_token: &Secret,
) -> Result<TokenSet, YoutubeError> {
    Ok(client(settings)
        .refresh(&settings.token_url, refresh_token)
        .await?)
}

/// Google's revoke endpoint, derived from the token endpoint:
/// `https://oauth2.googleapis.com/token` → `https://oauth2.googleapis.com/revoke`.
pub fn revoke_url(token_url: &str) -> String {
    let trimmed = token_url.trim_end_matches('/');
    match trimmed.strip_suffix("/token") {
        Some(base) => format!("{base}/revoke"),
        None => format!("{trimmed}/revoke"),
    }
}

/// Revokes `token` (the refresh token revokes the whole grant).
pub async fn revoke(settings: &YoutubeSettings, token: &Secret) -> Result<(), YoutubeError> {
    Ok(client(settings)
        .revoke(&revoke_url(&settings.token_url), token)
        .await?)
}

/// The signed-in account's channel: `(channel id, title)`, for the account display
/// (`GET {api_url}/channels?part=snippet&mine=true`, 1 quota unit).
pub async fn my_channel(
    http: &reqwest::Client,
    api_url: &str,
    access: &Secret,
) -> Result<(String, String), YoutubeError> {
    let body = get_once(
        http,
        &format!("{}/channels", api_url.trim_end_matches('/')),
        &[("part", "snippet"), ("mine", "true")],
        access,
    )
    .await?;
    parse_channel(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revoke_url_sits_next_to_the_token_url() {
        assert_eq!(
            revoke_url("https://oauth2.googleapis.com/token"),
            "https://oauth2.googleapis.com/revoke"
        );
        assert_eq!(
            revoke_url("http://127.0.0.1:5000/token/"),
            "http://127.0.0.1:5000/revoke"
        );
        assert_eq!(
            revoke_url("http://127.0.0.1:5000/oauth"),
            "http://127.0.0.1:5000/oauth/revoke"
        );
    }

    #[test]
    fn the_authorize_url_asks_for_a_refresh_token() {
        let settings = YoutubeSettings::new("cid.apps.googleusercontent.com");
        let url = authorize_url(&settings, "http://127.0.0.1:9/callback", "st", "ch").unwrap();
        assert!(url.starts_with("https://accounts.google.com/o/oauth2/v2/auth?"));
        assert!(url.contains("scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fyoutube&"));
        assert!(url.contains("code_challenge=ch&code_challenge_method=S256"));
        assert!(
            url.ends_with("&access_type=offline&prompt=consent"),
            "{url}"
        );
    }
}
