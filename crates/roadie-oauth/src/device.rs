//! The device code flow (RFC 8628) with the platforms' quirks: Twitch names the scope
//! parameter `scopes` and answers pending polls with `{"status":400,
//! "message":"authorization_pending"}`; Google names the page `verification_url`.
//! Polls never come faster than the interval; `slow_down` adds 5 s to it.

use std::time::Duration;

use roadie_core::Secret;
use serde::Deserialize;

use crate::flow::now;
use crate::{Client, OAuthError, TokenResponse, TokenSet};

/// Which dialect the provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceFlavor {
    /// Twitch: `scopes` (plural) on start and on every poll.
    Twitch,
    /// RFC 8628 as Google and Kick speak it: `scope`.
    Standard,
}

impl DeviceFlavor {
    fn scope_parameter(self) -> &'static str {
        match self {
            DeviceFlavor::Twitch => "scopes",
            DeviceFlavor::Standard => "scope",
        }
    }
}

/// What to show the user, and what to poll with.
#[derive(Deserialize)]
pub struct DeviceAuthorization {
    #[serde(rename = "device_code")]
    device_code_text: String,
    /// The code the user types.
    pub user_code: String,
    /// Where the user goes (`verification_url` at Google).
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    /// Seconds between polls (RFC default 5).
    #[serde(default = "default_interval")]
    pub interval: u64,
    /// Seconds until the codes expire.
    pub expires_in: u64,
}

fn default_interval() -> u64 {
    5
}

impl std::fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("interval", &self.interval)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Polls the token endpoint until the user approved, declined, or the code expired.
#[derive(Debug, Clone)]
pub struct DevicePoller {
    client: Client,
    token_url: String,
    flavor: DeviceFlavor,
    scopes: String,
    /// Added to the interval on `slow_down` (RFC 8628 §3.5: 5 s).
    pub slow_down_step: Duration,
}

impl Client {
    /// Starts a device authorization for `scopes`.
    pub async fn device_start(
        &self,
        device_url: &str,
        flavor: DeviceFlavor,
        scopes: &[&str],
    ) -> Result<DeviceAuthorization, OAuthError> {
        let joined = scopes.join(" ");
        let form = vec![
            ("client_id", self.credentials().client_id.as_str()),
            (flavor.scope_parameter(), joined.as_str()),
        ];
        let body = self.post_form(device_url, &form).await?;
        serde_json::from_slice(&body)
            .map_err(|error| OAuthError::Malformed(format!("device authorization answer: {error}")))
    }

    /// A poller for a device authorization.
    pub fn device_poller(
        &self,
        token_url: &str,
        flavor: DeviceFlavor,
        scopes: &[&str],
    ) -> DevicePoller {
        DevicePoller {
            client: self.clone(),
            token_url: token_url.to_owned(),
            flavor,
            scopes: scopes.join(" "),
            slow_down_step: Duration::from_secs(5),
        }
    }
}

impl DeviceAuthorization {
    /// The device code (secret: it can be exchanged for tokens).
    pub fn device_code(&self) -> Secret {
        Secret::new(self.device_code_text.clone())
    }
}

impl DevicePoller {
    /// Waits for the user, polling no faster than the interval. `on_wait` is told the
    /// interval each time it changes (for progress output).
    pub async fn poll(
        &self,
        authorization: &DeviceAuthorization,
        mut on_wait: impl FnMut(Duration),
    ) -> Result<TokenSet, OAuthError> {
        let mut interval = Duration::from_secs(authorization.interval.max(1));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(authorization.expires_in);
        let device_code = authorization.device_code();
        on_wait(interval);
        loop {
            tokio::time::sleep(interval).await;
            if tokio::time::Instant::now() >= deadline {
                return Err(OAuthError::Expired(
                    "the device code expired before it was approved".into(),
                ));
            }
            let mut form = vec![
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code.expose_secret()),
                ("client_id", self.client.credentials().client_id.as_str()),
            ];
            if self.flavor == DeviceFlavor::Twitch {
                form.push(("scopes", self.scopes.as_str()));
            }
            if let Some(secret) = &self.client.credentials().client_secret {
                form.push(("client_secret", secret.expose_secret()));
            }
            match self.client.post_form(&self.token_url, &form).await {
                Ok(body) => return Ok(TokenResponse::parse(&body)?.into_token_set(now(), None)),
                Err(OAuthError::Provider { code, .. }) if code == "authorization_pending" => {}
                Err(OAuthError::Provider { code, .. }) if code == "slow_down" => {
                    interval += self.slow_down_step;
                    on_wait(interval);
                }
                Err(OAuthError::Provider { code, .. }) if code == "access_denied" => {
                    return Err(OAuthError::Denied(code));
                }
                Err(OAuthError::Provider { code, .. })
                    if code == "expired_token" || code == "invalid device code" =>
                {
                    return Err(OAuthError::Expired(code));
                }
                Err(other) => return Err(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_names_the_page_verification_url() {
        let google = br#"{"device_code":"d","user_code":"ABC-DEF","verification_url":"https://www.google.com/device","expires_in":1800,"interval":5}"#;
        let parsed: DeviceAuthorization = serde_json::from_slice(google).unwrap();
        assert_eq!(parsed.verification_uri, "https://www.google.com/device");
        let twitch = br#"{"device_code":"d","expires_in":1800,"interval":5,"user_code":"ABCDEFGH","verification_uri":"https://www.twitch.tv/activate?public=true&device-code=ABCDEFGH"}"#;
        let parsed: DeviceAuthorization = serde_json::from_slice(twitch).unwrap();
        assert_eq!(parsed.user_code, "ABCDEFGH");
        assert!(!format!("{parsed:?}").contains("device_code_text"));
    }
}
