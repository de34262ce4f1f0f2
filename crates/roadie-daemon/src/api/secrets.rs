//! Setting and deleting keystore secrets. Values go in, never out: no endpoint
//! returns a secret, and none is logged.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};

use roadie_core::Secret;
use roadie_protocol::{SecretChanged, SecretValue};

use super::{ApiError, AppState};

/// Stores a secret in the keystore under `key` (e.g. `obs.password`).
#[utoipa::path(put, path = "/api/v1/secrets/{key}", security(("bearer" = [])), request_body = SecretValue,
    params(("key" = String, Path, description = "e.g. obs.password, kick.client_secret")),
    responses((status = 200, body = SecretChanged), (status = 400, body = roadie_protocol::ErrorBody), (status = 503, body = roadie_protocol::ErrorBody)))]
pub async fn set(
    State(state): State<AppState>,
    Path(key): Path<String>,
    body: Result<Json<SecretValue>, JsonRejection>,
) -> Result<Json<SecretChanged>, ApiError> {
    // The rejection text may quote the body; don't echo it, it may hold the secret.
    let Json(SecretValue { value }) =
        body.map_err(|_| ApiError::bad_request("expected a JSON body {\"value\": \"...\"}"))?;
    let note = checked_key(&key)?;
    if value.is_empty() {
        return Err(ApiError::bad_request("the secret is empty"));
    }
    let opened = state.keystore.get().ok_or_else(|| {
        ApiError::unavailable(format!(
            "the keystore is not available: {}",
            state.keystore.problem().unwrap_or_default()
        ))
    })?;
    let secret = Secret::new(value);
    let store = opened.store.clone();
    let stored_key = key.clone();
    tokio::task::spawn_blocking(move || store.set(&stored_key, &secret))
        .await
        .map_err(|error| ApiError::internal("the keystore task failed", &error))?
        .map_err(|error| ApiError::internal("storing the secret failed", &error))?;
    tracing::info!(%key, backend = %opened.kind, "secret stored");
    Ok(Json(SecretChanged {
        key,
        result: "stored".into(),
        backend: opened.kind.to_string(),
        note,
    }))
}

/// Deletes the secret under `key`.
#[utoipa::path(delete, path = "/api/v1/secrets/{key}", security(("bearer" = [])),
    params(("key" = String, Path, description = "e.g. obs.password")),
    responses((status = 200, body = SecretChanged), (status = 400, body = roadie_protocol::ErrorBody), (status = 503, body = roadie_protocol::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<SecretChanged>, ApiError> {
    let note = checked_key(&key)?;
    let opened = state.keystore.get().ok_or_else(|| {
        ApiError::unavailable(format!(
            "the keystore is not available: {}",
            state.keystore.problem().unwrap_or_default()
        ))
    })?;
    let store = opened.store.clone();
    let deleted_key = key.clone();
    let existed = tokio::task::spawn_blocking(move || store.delete(&deleted_key))
        .await
        .map_err(|error| ApiError::internal("the keystore task failed", &error))?
        .map_err(|error| ApiError::internal("deleting the secret failed", &error))?;
    tracing::info!(%key, existed, "secret deleted");
    let result = if existed { "deleted" } else { "absent" };
    Ok(Json(SecretChanged {
        key,
        result: result.into(),
        backend: opened.kind.to_string(),
        note,
    }))
}

/// A key that is well formed and not one of the token keys (see
/// [`crate::keystore::check_secret_key`]), with its note.
fn checked_key(key: &str) -> Result<Option<String>, ApiError> {
    roadie_keystore::validate_key(key).map_err(|error| ApiError::bad_request(error.to_string()))?;
    crate::keystore::check_secret_key(key).map_err(ApiError::bad_request)
}
