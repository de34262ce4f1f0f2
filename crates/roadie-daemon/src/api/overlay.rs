//! The text-to-speech overlay: a page for an OBS browser source at
//! `/overlay/tts?token=...` and its WebSocket, which sends each clip (a JSON note,
//! then the WAV as a binary frame) and hears back when it loaded and ended. The token
//! is the overlay token, not the API token: the URL gets pasted into OBS.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::{ApiError, AppState};
use crate::tts::OverlayMessage;

const PAGE: &str = include_str!("../../assets/overlay-tts.html");

/// `?token=`.
#[derive(Debug, Deserialize)]
pub struct OverlayQuery {
    token: Option<String>,
}

fn check(state: &AppState, query: &OverlayQuery) -> Result<(), ApiError> {
    let given = query.token.as_deref().unwrap_or_default();
    let expected = state.overlay_token.expose_secret();
    // Compare without stopping at the first difference.
    let same = given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "the overlay URL's token is missing or wrong: copy it from `roadie tts queue`",
        ))
    }
}

/// The overlay page.
pub async fn page(
    State(state): State<AppState>,
    Query(query): Query<OverlayQuery>,
) -> Result<Html<&'static str>, ApiError> {
    check(&state, &query)?;
    Ok(Html(PAGE))
}

/// The overlay's WebSocket.
pub async fn socket(
    State(state): State<AppState>,
    Query(query): Query<OverlayQuery>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    check(&state, &query)?;
    Ok(upgrade
        .on_upgrade(move |socket| serve(state, socket))
        .into_response())
}

#[derive(Deserialize)]
struct Report {
    #[serde(rename = "type")]
    kind: String,
    id: u64,
    #[serde(default)]
    duration: Option<f64>,
}

async fn serve(state: AppState, socket: WebSocket) {
    let mut feed = state.tts.overlay_feed();
    let (mut sink, mut incoming) = socket.split();
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            message = feed.recv() => match message {
                Ok(message) => {
                    let frames = match message.as_ref() {
                        OverlayMessage::Clip { id, wav } => vec![
                            Message::text(serde_json::json!({"type": "clip", "id": id, "bytes": wav.len()}).to_string()),
                            Message::binary(wav.clone()),
                        ],
                        OverlayMessage::Stop { id } => vec![Message::text(
                            serde_json::json!({"type": "stop", "id": id}).to_string(),
                        )],
                    };
                    for frame in frames {
                        if sink.send(frame).await.is_err() {
                            return;
                        }
                    }
                }
                Err(RecvError::Lagged(missed)) => tracing::warn!(missed, "an overlay missed TTS clips"),
                Err(RecvError::Closed) => return,
            },
            message = incoming.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    if let Ok(report) = serde_json::from_str::<Report>(&text) {
                        match report.kind.as_str() {
                            "loaded" => state.tts.overlay_loaded(report.id, report.duration.unwrap_or(0.0)),
                            "ended" => state.tts.overlay_ended(report.id),
                            "error" => tracing::warn!(id = report.id, "an overlay could not play a TTS clip"),
                            _ => {}
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            () = async { let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ()); } => {
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
        }
    }
}
