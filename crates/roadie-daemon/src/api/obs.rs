//! OBS over the API: state and scenes, switching scenes, showing and hiding sources,
//! starting and stopping the stream and the recording.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;

use roadie_obs::{MediaAction, ObsError, ObsState, SourceState};
use roadie_protocol::{
    ObsInfo, ObsMediaChange, ObsOutputChange, ObsSceneChange, ObsSourceChange, ObsSourceShown,
    ObsTextChange,
};

use super::{ApiError, AppState};
use crate::obs::ObsServiceError;

impl From<ObsServiceError> for ApiError {
    fn from(error: ObsServiceError) -> Self {
        let message = error.to_string();
        match error {
            ObsServiceError::NotConfigured => {
                ApiError::new(StatusCode::CONFLICT, "not_configured", message)
            }
            ObsServiceError::Obs(ObsError::Request { .. }) => {
                ApiError::new(StatusCode::BAD_REQUEST, "obs_refused", message)
            }
            ObsServiceError::Obs(ObsError::Timeout { .. }) => {
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, "obs_timeout", message)
            }
            ObsServiceError::Obs(_) => ApiError::unavailable(message),
        }
    }
}

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(value)| value)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

/// OBS's connection state and scenes.
#[utoipa::path(get, path = "/api/v1/obs", security(("bearer" = [])), responses((status = 200, body = ObsInfo)))]
pub async fn status(State(state): State<AppState>) -> Json<ObsInfo> {
    let Some(obs_state) = state.obs.state() else {
        return Json(ObsInfo {
            configured: false,
            state: "off".into(),
            detail: "no [obs] section in the config".into(),
            current_scene: None,
            scenes: Vec::new(),
        });
    };
    let (word, detail) = match &obs_state {
        ObsState::Connected {
            obs_version,
            ws_version,
        } => (
            "connected",
            format!("OBS {obs_version}, obs-websocket {ws_version}"),
        ),
        ObsState::Connecting => ("connecting", "connecting".to_owned()),
        ObsState::Disconnected { reason } => ("reconnecting", reason.clone()),
        ObsState::WrongPassword => (
            "wrong_password",
            "OBS refused the password: `roadie secrets set obs.password`, then restart".to_owned(),
        ),
    };
    let scenes = match obs_state {
        ObsState::Connected { .. } => state.obs.scenes().await.ok(),
        _ => None,
    };
    Json(ObsInfo {
        configured: true,
        state: word.into(),
        detail,
        current_scene: scenes
            .as_ref()
            .and_then(|list| list.current_program_scene.clone()),
        scenes: scenes.map(|list| list.scenes).unwrap_or_default(),
    })
}

/// Switches the program scene.
#[utoipa::path(post, path = "/api/v1/obs/scene", security(("bearer" = [])), request_body = ObsSceneChange,
    responses((status = 204), (status = 400, body = roadie_protocol::ErrorBody), (status = 503, body = roadie_protocol::ErrorBody)))]
pub async fn scene(
    State(state): State<AppState>,
    request: Result<Json<ObsSceneChange>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    state.obs.set_scene(&body(request)?.scene).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Shows, hides or toggles a source in a scene.
#[utoipa::path(post, path = "/api/v1/obs/source", security(("bearer" = [])), request_body = ObsSourceChange,
    responses((status = 200, body = ObsSourceShown), (status = 400, body = roadie_protocol::ErrorBody), (status = 503, body = roadie_protocol::ErrorBody)))]
pub async fn source(
    State(state): State<AppState>,
    request: Result<Json<ObsSourceChange>, JsonRejection>,
) -> Result<Json<ObsSourceShown>, ApiError> {
    let request = body(request)?;
    let wanted = request
        .state
        .parse::<SourceState>()
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    let enabled = state
        .obs
        .set_source(&request.scene, &request.source, wanted)
        .await?;
    Ok(Json(ObsSourceShown { enabled }))
}

fn start_or_stop(change: &ObsOutputChange) -> Result<bool, ApiError> {
    match change.action.as_str() {
        "start" => Ok(true),
        "stop" => Ok(false),
        other => Err(ApiError::bad_request(format!(
            "{other:?}: expected start or stop"
        ))),
    }
}

/// Starts or stops streaming.
#[utoipa::path(post, path = "/api/v1/obs/stream", security(("bearer" = [])), request_body = ObsOutputChange,
    responses((status = 204), (status = 400, body = roadie_protocol::ErrorBody), (status = 503, body = roadie_protocol::ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    request: Result<Json<ObsOutputChange>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let start = start_or_stop(&body(request)?)?;
    state.obs.stream(start).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts or stops recording.
#[utoipa::path(post, path = "/api/v1/obs/record", security(("bearer" = [])), request_body = ObsOutputChange,
    responses((status = 204), (status = 400, body = roadie_protocol::ErrorBody), (status = 503, body = roadie_protocol::ErrorBody)))]
pub async fn record(
    State(state): State<AppState>,
    request: Result<Json<ObsOutputChange>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let start = start_or_stop(&body(request)?)?;
    state.obs.record(start).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a text source's text.
#[utoipa::path(post, path = "/api/v1/obs/text", security(("bearer" = [])), request_body = ObsTextChange,
    responses((status = 204), (status = 400, body = roadie_protocol::ErrorBody), (status = 503, body = roadie_protocol::ErrorBody)))]
pub async fn text(
    State(state): State<AppState>,
    request: Result<Json<ObsTextChange>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let request = body(request)?;
    state.obs.set_text(&request.source, &request.text).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Plays, pauses, restarts or stops a media input.
#[utoipa::path(post, path = "/api/v1/obs/media", security(("bearer" = [])), request_body = ObsMediaChange,
    responses((status = 204), (status = 400, body = roadie_protocol::ErrorBody), (status = 503, body = roadie_protocol::ErrorBody)))]
pub async fn media(
    State(state): State<AppState>,
    request: Result<Json<ObsMediaChange>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let request = body(request)?;
    let action = request
        .action
        .parse::<MediaAction>()
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    state.obs.media(&request.source, action).await?;
    Ok(StatusCode::NO_CONTENT)
}
