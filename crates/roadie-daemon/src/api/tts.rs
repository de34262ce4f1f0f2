//! Text to speech over the API: the queue, say, skip, pause, resume, clear.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;

use roadie_protocol::{TtsItem, TtsQueueInfo, TtsQueued, TtsSay};
use roadie_tts::TtsEvent;

use super::{ApiError, AppState};

/// The queue.
#[utoipa::path(get, path = "/api/v1/tts", security(("bearer" = [])), responses((status = 200, body = TtsQueueInfo)))]
pub async fn queue(State(state): State<AppState>) -> Json<TtsQueueInfo> {
    let view = state.tts.view();
    let item = |(id, text): (u64, String)| TtsItem { id, text };
    Json(TtsQueueInfo {
        engine: view.engine,
        paused: view.paused,
        current: view.current.map(item),
        pending: view.pending.into_iter().map(item).collect(),
        listeners: view.listeners,
        voices: view.voices,
    })
}

/// Queues text, as the streamer (filters and length limits apply).
#[utoipa::path(post, path = "/api/v1/tts/say", security(("bearer" = [])), request_body = TtsSay,
    responses((status = 200, body = TtsQueued), (status = 409, body = roadie_protocol::ErrorBody)))]
pub async fn say(
    State(state): State<AppState>,
    request: Result<Json<TtsSay>, JsonRejection>,
) -> Result<Json<TtsQueued>, ApiError> {
    let Json(request) =
        request.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let events = state.tts.say(None, &request.text, request.voice).await;
    for event in events {
        match event {
            TtsEvent::Queued {
                id, text, ahead, ..
            } => {
                return Ok(Json(TtsQueued {
                    id: id.0,
                    text,
                    ahead,
                }));
            }
            TtsEvent::Refused { reason, .. } => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "refused",
                    format!("not queued: {reason}"),
                ));
            }
            _ => {}
        }
    }
    Err(ApiError::internal(
        "the TTS queue gave no answer",
        &"no event",
    ))
}

macro_rules! queue_control {
    ($name:ident, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, security(("bearer" = [])), responses((status = 204)))]
        pub async fn $name(State(state): State<AppState>) -> StatusCode {
            state.tts.$name().await;
            StatusCode::NO_CONTENT
        }
    };
}

queue_control!(skip, "/api/v1/tts/skip", "Skips the item being spoken.");
queue_control!(pause, "/api/v1/tts/pause", "Holds new items back.");
queue_control!(resume, "/api/v1/tts/resume", "Lets items start again.");
queue_control!(clear, "/api/v1/tts/clear", "Drops every item.");
