//! Kick's signed webhooks (`POST /webhooks/kick`), for streamers who expose the daemon
//! through a tunnel: no API token (Kick cannot hold one), the RSA signature is the
//! authentication. Off unless `[kick] webhook = true`; the tunnel's host name must be
//! listed in `[server] allowed_hosts` to pass the Host check.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use roadie_platform_kick::webhook::WebhookHeaders;

use super::{ApiError, AppState};
use crate::platforms::PlatformError;

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Verifies and ingests one Kick webhook delivery.
#[utoipa::path(post, path = "/webhooks/kick", request_body(content = String, description = "Kick's event body, signed"),
    responses((status = 204), (status = 400, body = roadie_protocol::ErrorBody), (status = 409, body = roadie_protocol::ErrorBody)))]
pub async fn kick(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let delivery = WebhookHeaders {
        message_id: header(&headers, "kick-event-message-id"),
        subscription_id: header(&headers, "kick-event-subscription-id"),
        signature: header(&headers, "kick-event-signature"),
        timestamp: header(&headers, "kick-event-message-timestamp"),
        event_type: header(&headers, "kick-event-type"),
        event_version: header(&headers, "kick-event-version"),
    };
    match state.platforms.kick_webhook(&delivery, &body).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(error @ PlatformError::BadRequest(_)) => {
            tracing::warn!(%error, "a Kick webhook was refused");
            Err(error.into())
        }
        Err(error) => Err(error.into()),
    }
}
