//! Sign-in and chat bodies: accounts (never tokens), token import, code exchange,
//! device flow instructions, chat sending.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A platform's token answer, as `roadie auth import` reads it from stdin.
/// `scope` may be a list or a space-separated string.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenImport {
    /// The access token.
    pub access_token: String,
    /// The refresh token.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// Granted scopes (list or space-separated string).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub scope: Option<serde_json::Value>,
}

impl std::fmt::Debug for TokenImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenImport")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// An authorization code from the browser flow, to exchange in the daemon.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeExchange {
    /// The code from the callback.
    pub code: String,
    /// The redirect URI used.
    pub redirect_uri: String,
    /// The PKCE verifier.
    pub code_verifier: String,
}

impl std::fmt::Debug for CodeExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeExchange")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// A connected account: metadata only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Account {
    /// `twitch`, `kick` or `youtube`.
    pub platform: String,
    /// The platform's account id.
    pub account_id: String,
    /// The login.
    pub login: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When the access token expires (RFC 3339), if known.
    pub expires_at: Option<String>,
}

/// One platform's sign-in state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlatformAuth {
    /// The platform.
    pub platform: String,
    /// `connected`, `reconnecting`, `auth_required` or `disabled`.
    pub state: String,
    /// Why.
    pub detail: String,
    /// The signed-in account, if any.
    pub account: Option<Account>,
    /// A device sign-in under way or just failed, if any.
    pub device_flow: Option<String>,
}

/// `GET /api/v1/auth`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuthStatus {
    /// Every platform, configured or not.
    pub platforms: Vec<PlatformAuth>,
}

/// `POST /api/v1/auth/{platform}/device`: what to show the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeviceInstructions {
    /// Where to go.
    pub verification_uri: String,
    /// The code to enter.
    pub user_code: String,
    /// Seconds until the code expires.
    pub expires_in: u64,
}

/// `POST /api/v1/chat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatSend {
    /// The platform; may be left out when exactly one is connected.
    #[serde(default)]
    pub platform: Option<String>,
    /// The message.
    pub text: String,
}

/// The answer to a sent chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatSent {
    /// Where it went.
    pub platform: String,
    /// The platform's ids of the message (several when it was split).
    pub message_ids: Vec<String>,
}

/// `DELETE /api/v1/auth/{platform}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LoggedOut {
    /// The platform.
    pub platform: String,
    /// The account signed out, if there was one.
    pub account: Option<String>,
    /// Whether the platform confirmed the revocation.
    pub revoked: bool,
}

/// `POST /api/v1/auth/{platform}/authorize`: the browser flow's parameters, chosen by
/// the client that runs the callback page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    /// The client's loopback callback URI.
    pub redirect_uri: String,
    /// The anti-CSRF state the callback will check.
    pub state: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
}

/// The URL to open in the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuthorizeUrl {
    /// The platform's authorize URL with every parameter.
    pub url: String,
}

/// A channel-point reward Roadie manages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RewardInfo {
    /// The platform.
    pub platform: String,
    /// The platform's reward id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Cost in channel points.
    pub cost: u64,
    /// Prompt shown to viewers.
    pub prompt: String,
    /// Visible to viewers.
    pub enabled: bool,
    /// Redeeming paused.
    pub paused: bool,
    /// The viewer must enter text.
    pub input_required: bool,
}

/// Fields to set on a reward; title and cost are required to create one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewardChange {
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Cost.
    #[serde(default)]
    pub cost: Option<u64>,
    /// Prompt.
    #[serde(default)]
    pub prompt: Option<String>,
    /// Visible.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Paused.
    #[serde(default)]
    pub paused: Option<bool>,
    /// Text required.
    #[serde(default)]
    pub input_required: Option<bool>,
}

/// `POST /api/v1/rewards/{reward_id}/redemptions/{redemption_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedemptionDecision {
    /// `fulfilled` or `canceled` (refunds the points).
    pub status: String,
}
