//! Sign-in and chat endpoints: account status, token import, code exchange, device
//! flow, sign-out with revocation, and sending chat. Tokens go in, never out.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use roadie_core::Platform;
use roadie_protocol::{
    Account, AuthStatus, AuthorizeRequest, AuthorizeUrl, ChatSend, ChatSent, CodeExchange,
    DeviceInstructions, LoggedOut, TokenImport,
};

use super::{ApiError, AppState};
use crate::platforms::{PlatformError, token_set_from_import};

fn platform(name: &str) -> Result<Platform, ApiError> {
    match name.parse::<Platform>() {
        Ok(Platform::Roadie) | Err(_) => Err(ApiError::bad_request(format!(
            "unknown platform {name:?}; expected twitch, kick or youtube"
        ))),
        Ok(platform) => Ok(platform),
    }
}

impl From<PlatformError> for ApiError {
    fn from(error: PlatformError) -> ApiError {
        match error {
            PlatformError::BadRequest(message) => ApiError::bad_request(message),
            PlatformError::NotAvailable(message) => {
                ApiError::new(StatusCode::CONFLICT, "not_available", message)
            }
            PlatformError::Upstream(message) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "platform_error", message)
            }
            PlatformError::Internal(message) => {
                ApiError::internal("a platform operation failed", &message)
            }
        }
    }
}

/// Every platform's sign-in state and account (never tokens).
#[utoipa::path(get, path = "/api/v1/auth", security(("bearer" = [])), responses((status = 200, body = AuthStatus)))]
pub async fn status(State(state): State<AppState>) -> Json<AuthStatus> {
    Json(state.platforms.status().await)
}

/// Imports a platform's token answer; the platform validates it before it is stored.
#[utoipa::path(post, path = "/api/v1/auth/{platform}/import", security(("bearer" = [])), request_body = TokenImport,
    params(("platform" = String, Path, description = "twitch, kick or youtube")),
    responses((status = 200, body = Account), (status = 400, body = roadie_protocol::ErrorBody), (status = 409, body = roadie_protocol::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Account>, ApiError> {
    let platform = platform(&name)?;
    // Parse here (not through the Json extractor) so no error can quote a token.
    let tokens = token_set_from_import(&body)?;
    Ok(Json(state.platforms.import(platform, tokens).await?))
}

/// The authorize URL for a browser sign-in whose callback page the client runs.
#[utoipa::path(post, path = "/api/v1/auth/{platform}/authorize", security(("bearer" = [])), request_body = AuthorizeRequest,
    params(("platform" = String, Path, description = "twitch, kick or youtube")),
    responses((status = 200, body = AuthorizeUrl), (status = 409, body = roadie_protocol::ErrorBody)))]
pub async fn authorize(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<AuthorizeRequest>, JsonRejection>,
) -> Result<Json<AuthorizeUrl>, ApiError> {
    let platform = platform(&name)?;
    let Json(request) = body.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    if !(request.redirect_uri.starts_with("http://127.0.0.1:")
        || request.redirect_uri.starts_with("http://localhost:"))
    {
        return Err(ApiError::bad_request(
            "the redirect URI must be a loopback address (http://127.0.0.1:PORT/... or http://localhost:PORT/...)",
        ));
    }
    let url = state
        .platforms
        .authorize_url(
            platform,
            &request.redirect_uri,
            &request.state,
            &request.code_challenge,
        )
        .await?;
    Ok(Json(AuthorizeUrl { url }))
}

/// Exchanges an authorization code from the browser flow (with its PKCE verifier).
#[utoipa::path(post, path = "/api/v1/auth/{platform}/exchange", security(("bearer" = [])), request_body = CodeExchange,
    params(("platform" = String, Path, description = "twitch, kick or youtube")),
    responses((status = 200, body = Account), (status = 400, body = roadie_protocol::ErrorBody), (status = 502, body = roadie_protocol::ErrorBody)))]
pub async fn exchange(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<CodeExchange>, JsonRejection>,
) -> Result<Json<Account>, ApiError> {
    let platform = platform(&name)?;
    let Json(request) = body.map_err(|_| {
        ApiError::bad_request("expected {\"code\", \"redirect_uri\", \"code_verifier\"}")
    })?;
    Ok(Json(
        state
            .platforms
            .exchange(
                platform,
                &request.code,
                &request.redirect_uri,
                &request.code_verifier,
            )
            .await?,
    ))
}

/// Starts a device sign-in; the daemon waits for approval and stores the result.
#[utoipa::path(post, path = "/api/v1/auth/{platform}/device", security(("bearer" = [])),
    params(("platform" = String, Path, description = "twitch, kick or youtube")),
    responses((status = 200, body = DeviceInstructions), (status = 409, body = roadie_protocol::ErrorBody), (status = 502, body = roadie_protocol::ErrorBody)))]
pub async fn device(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<DeviceInstructions>, ApiError> {
    let platform = platform(&name)?;
    Ok(Json(state.platforms.device_start(platform).await?))
}

/// Signs out: revokes the tokens at the platform and deletes them.
#[utoipa::path(delete, path = "/api/v1/auth/{platform}", security(("bearer" = [])),
    params(("platform" = String, Path, description = "twitch, kick or youtube")),
    responses((status = 200, body = LoggedOut)))]
pub async fn logout(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<LoggedOut>, ApiError> {
    let platform = platform(&name)?;
    let (account, revoked) = state.platforms.logout(platform).await?;
    Ok(Json(LoggedOut {
        platform: platform.to_string(),
        account,
        revoked,
    }))
}

/// Sends a chat message (split or refused per the platform's limits).
#[utoipa::path(post, path = "/api/v1/chat", security(("bearer" = [])), request_body = ChatSend,
    responses((status = 200, body = ChatSent), (status = 400, body = roadie_protocol::ErrorBody), (status = 409, body = roadie_protocol::ErrorBody), (status = 502, body = roadie_protocol::ErrorBody)))]
pub async fn chat(
    State(state): State<AppState>,
    body: Result<Json<ChatSend>, JsonRejection>,
) -> Result<Json<ChatSent>, ApiError> {
    let Json(request) = body.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let chosen = request.platform.as_deref().map(platform).transpose()?;
    let (platform, message_ids) = state.platforms.send_chat(chosen, &request.text).await?;
    Ok(Json(ChatSent {
        platform: platform.to_string(),
        message_ids,
    }))
}
