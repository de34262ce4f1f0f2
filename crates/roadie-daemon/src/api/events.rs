//! The event endpoints: the WebSocket stream with `type` filters and `since` replay,
//! stored history, and publishing custom events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use roadie_core::{Event, EventId, EventKind, Platform, Timestamp};
use roadie_protocol::{CustomEvent, EventHistory, PublishRequest, Published};

use super::{ApiError, AppState};
use crate::bus::Frame;

/// Rows fetched per store read while replaying.
const REPLAY_PAGE: usize = 1000;
/// Most custom events in one publish request.
const MAX_PUBLISH: usize = 10_000;
/// WebSocket close code for "policy violation": used when a consumer is too slow.
const CLOSE_TOO_SLOW: u16 = 1008;
/// WebSocket close code "going away": the daemon shuts down.
const CLOSE_GOING_AWAY: u16 = 1001;

/// Parsed `?type=...&since=...&limit=...`.
#[derive(Debug, Default)]
struct EventQuery {
    types: Vec<String>,
    since: Option<EventId>,
    limit: Option<usize>,
}

fn parse_query(raw: Option<&str>) -> Result<EventQuery, ApiError> {
    let mut query = EventQuery::default();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "type" => {
                if !EventKind::TYPE_NAMES.contains(&value.as_ref()) {
                    return Err(ApiError::bad_request(format!(
                        "unknown event type {value:?}; known types: {}",
                        EventKind::TYPE_NAMES.join(", ")
                    )));
                }
                query.types.push(value.into_owned());
            }
            "since" => {
                let id = value
                    .parse::<EventId>()
                    .map_err(|error| ApiError::bad_request(format!("since: {error}")))?;
                query.since = Some(id);
            }
            "limit" => {
                let limit = value
                    .parse::<usize>()
                    .map_err(|_| ApiError::bad_request("limit: expected a whole number"))?;
                query.limit = Some(limit);
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter {other:?}"
                )));
            }
        }
    }
    Ok(query)
}

/// Upgrades to a WebSocket that sends one event envelope per text frame.
///
/// Stored events after `since` are replayed first, then live events follow with no
/// gap and no duplicate. A client that falls more than the fan-out capacity behind
/// catches up from the database; one that also stopped taking frames for 10 s is closed
/// with code 1008 and a reason naming the last id it got, so it can resume.
#[utoipa::path(get, path = "/api/v1/events", security(("bearer" = [])),
    params(("type" = Option<Vec<String>>, Query, description = "only these types (repeatable)"),
           ("since" = Option<String>, Query, description = "replay stored events after this id first")),
    responses((status = 101, description = "WebSocket: one EventEnvelope per text frame"), (status = 400, body = roadie_protocol::ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let query = parse_query(raw.as_deref())?;
    // Subscribe before answering the upgrade (and before any replay): an event
    // committed once the client has its 101 is never missed.
    let live = state.bus.subscribe();
    // Clients send nothing but pings and a close: a small read buffer will do.
    Ok(upgrade
        .read_buffer_size(4096)
        .on_upgrade(move |socket| serve_stream(state, query, live, socket)))
}

async fn serve_stream(
    state: AppState,
    query: EventQuery,
    mut live: tokio::sync::broadcast::Receiver<std::sync::Arc<crate::bus::Frame>>,
    socket: WebSocket,
) {
    // Reading happens in its own task: the client only ever sends pings and a close,
    // and polling a read on every event would cost a buffer reset per event.
    let (socket, mut incoming) = socket.split();
    let (closed, mut client_closed) = tokio::sync::oneshot::channel::<()>();
    let reader = tokio::spawn(async move {
        while let Some(message) = incoming.next().await {
            if matches!(message, Ok(Message::Close(_)) | Err(_)) {
                break;
            }
        }
        let _ = closed.send(());
    });
    let _reader_guard = AbortOnDrop(reader);
    let mut shutdown = state.shutdown.clone();
    let mut out = Outgoing {
        socket,
        last_sent: query.since.unwrap_or(EventId::MIN),
        blocked: Duration::ZERO,
    };
    let wanted =
        |kind: &str| query.types.is_empty() || query.types.iter().any(|wanted| wanted == kind);

    if query.since.is_some() && out.replay(&state, &query.types, None).await.is_err() {
        return;
    }

    // Frames fed to the socket but not yet written out.
    let mut unflushed = false;
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(frame) => {
                    let frame: Arc<Frame> = frame;
                    if frame.id > out.last_sent && wanted(&frame.kind) {
                        // Queue the frame; write to the socket once nothing more is
                        // waiting, so a burst goes out in few system calls.
                        if out.feed(frame.json.clone()).await.is_err() {
                            return;
                        }
                        out.last_sent = frame.id;
                        unflushed = true;
                    }
                    // Checked after every frame, wanted or not: a wanted frame followed
                    // only by filtered-out ones must still go out.
                    if live.is_empty() {
                        if unflushed {
                            if out.flush().await.is_err() {
                                return;
                            }
                            unflushed = false;
                        }
                        // Caught up: time spent waiting on the client starts over.
                        out.blocked = Duration::ZERO;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    // Everything live is stored first, so a subscriber that fell behind
                    // the fan-out (a flood, a busy machine) catches up from the database
                    // and misses nothing. Only one whose client stopped reading is cut off.
                    tracing::debug!(missed, last_sent = %out.last_sent, "an event-stream subscriber catches up from the database");
                    match out.replay(&state, &query.types, Some(STALLED)).await {
                        Ok(()) => unflushed = false,
                        Err(StreamEnded::TooSlow) => {
                            tracing::warn!(missed, last_sent = %out.last_sent, "cut off a slow event-stream subscriber");
                            let reason = format!(
                                "too slow: not reading for {} s while behind; reconnect with since={}",
                                out.blocked.as_secs(),
                                out.last_sent
                            );
                            let _ = close(&mut out.socket, CLOSE_TOO_SLOW, &reason).await;
                            return;
                        }
                        Err(StreamEnded::Gone) => return,
                    }
                }
                Err(RecvError::Closed) => {
                    let _ = close(&mut out.socket, CLOSE_GOING_AWAY, "daemon shutting down").await;
                    return;
                }
            },
            _ = &mut client_closed => return,
            _ = shutdown.changed() => {
                let _ = close(&mut out.socket, CLOSE_GOING_AWAY, "daemon shutting down").await;
                return;
            }
        }
    }
}

/// A subscriber that has spent this long waiting for its client to take frames since
/// it was last caught up is cut off when it falls behind the fan-out, instead of
/// catching up: its client is not reading.
const STALLED: Duration = Duration::from_secs(10);

/// The stream's sending half, the last id sent, and how long writes have waited for
/// the client since the stream was last caught up.
struct Outgoing {
    socket: SplitSink<WebSocket, Message>,
    last_sent: EventId,
    blocked: Duration,
}

/// Why sending ended early.
enum StreamEnded {
    /// The client is gone (a write failed) or the replay failed (the client was told).
    Gone,
    /// Behind the fan-out, and its client took no frames for [`STALLED`].
    TooSlow,
}

impl Outgoing {
    async fn feed(&mut self, json: axum::extract::ws::Utf8Bytes) -> Result<(), StreamEnded> {
        let started = Instant::now();
        let fed = self.socket.feed(Message::Text(json)).await;
        self.blocked += started.elapsed();
        fed.map_err(|_| StreamEnded::Gone)
    }

    async fn flush(&mut self) -> Result<(), StreamEnded> {
        let started = Instant::now();
        let flushed = self.socket.flush().await;
        self.blocked += started.elapsed();
        flushed.map_err(|_| StreamEnded::Gone)
    }

    /// Sends the stored events after `last_sent`, page by page, until none are left;
    /// given up on once the client has kept the stream waiting for longer than
    /// `give_up_after` since it was last caught up (a subscriber catching up).
    async fn replay(
        &mut self,
        state: &AppState,
        types: &[String],
        give_up_after: Option<Duration>,
    ) -> Result<(), StreamEnded> {
        loop {
            if give_up_after.is_some_and(|limit| self.blocked > limit) {
                return Err(StreamEnded::TooSlow);
            }
            let page = match state
                .bus
                .store()
                .events_after(Some(self.last_sent), types.to_vec(), REPLAY_PAGE)
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    tracing::error!(%error, "event replay failed");
                    let _ =
                        close(&mut self.socket, 1011, "replay failed; see the daemon log").await;
                    return Err(StreamEnded::Gone);
                }
            };
            let complete = page.len() < REPLAY_PAGE;
            for row in &page {
                self.feed(Frame::from_row(row).json).await?;
                self.last_sent = row.id;
            }
            self.flush().await?;
            if complete {
                return Ok(());
            }
        }
    }
}

/// Aborts the reader task when the stream handler ends, however it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn close(
    socket: &mut SplitSink<WebSocket, Message>,
    code: u16,
    reason: &str,
) -> Result<(), axum::Error> {
    // Close reasons are limited to 123 bytes by the protocol.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason[..end].to_owned().into(),
        })))
        .await
}

/// Stored events: after `since` (oldest first), else the newest `limit` (default 100, at most 1000).
#[utoipa::path(get, path = "/api/v1/events/history", security(("bearer" = [])),
    params(("type" = Option<Vec<String>>, Query, description = "only these types (repeatable)"),
           ("since" = Option<String>, Query, description = "events after this id"),
           ("limit" = Option<usize>, Query, description = "at most this many (default 100, max 1000)")),
    responses((status = 200, body = EventHistory), (status = 400, body = roadie_protocol::ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = parse_query(raw.as_deref())?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let store = state.bus.store();
    let rows = match query.since {
        Some(since) => store.events_after(Some(since), query.types, limit).await,
        None => store.recent_events(query.types, limit).await,
    }
    .map_err(|error| ApiError::internal("reading the event log failed", &error))?;
    // The envelopes are already JSON text (the same the stream sends): join them
    // into the `EventHistory` shape instead of parsing and re-serialising each.
    let mut body = String::from("{\"events\":[");
    for (index, row) in rows.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body.push_str(Frame::from_row(row).json.as_str());
    }
    body.push_str("]}");
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// Publishes custom events (type `custom`, platform `roadie`); answers once they are stored.
#[utoipa::path(post, path = "/api/v1/events", security(("bearer" = [])), request_body = PublishRequest,
    responses((status = 200, body = Published), (status = 400, body = roadie_protocol::ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Json<Published>, ApiError> {
    // Like axum's Json extractor: only application/json, which a foreign page cannot
    // send without a CORS preflight.
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !is_json {
        return Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the events as Content-Type: application/json",
        ));
    }
    let customs = parse_publish(&body)?;
    if customs.len() > MAX_PUBLISH {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_PUBLISH} events per request"
        )));
    }
    let at = Timestamp(roadie_store::now_ms());
    let mut events = Vec::with_capacity(customs.len());
    for custom in customs {
        let name = custom.name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(ApiError::bad_request(
                "a custom event needs a name of 1 to 100 characters",
            ));
        }
        events.push(Event {
            platform: Platform::Roadie,
            at,
            kind: EventKind::Custom {
                name: name.to_owned(),
                data: custom.data,
            },
        });
    }
    let ids = state
        .bus
        .publish_acked(&events)
        .await
        .map_err(|error| ApiError::internal("storing events failed", &error))?;
    Ok(Json(Published {
        ids: ids.iter().map(ToString::to_string).collect(),
    }))
}

/// Parses a [`PublishRequest`] by its first byte instead of serde's untagged-enum
/// buffering, which costs a second pass over every event on this hot path.
fn parse_publish(body: &[u8]) -> Result<Vec<CustomEvent>, ApiError> {
    let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
    let parsed = match first {
        Some(b'[') => serde_json::from_slice::<Vec<CustomEvent>>(body),
        _ => serde_json::from_slice::<CustomEvent>(body).map(|event| vec![event]),
    };
    parsed.map_err(|error| {
        ApiError::bad_request(format!(
            "expected a custom event {{\"name\", \"data\"}} or a list of them: {error}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let query = parse_query(Some(
            "type=follow&type=chat.message&since=01JD0000000000000000000000&limit=5",
        ))
        .unwrap();
        assert_eq!(query.types, vec!["follow", "chat.message"]);
        assert!(query.since.is_some());
        assert_eq!(query.limit, Some(5));
        assert!(parse_query(Some("type=nonsense")).is_err());
        assert!(parse_query(Some("since=xyz")).is_err());
        assert!(parse_query(Some("colour=red")).is_err());
        assert!(parse_query(None).unwrap().types.is_empty());
    }

    #[test]
    fn publish_bodies() {
        assert_eq!(parse_publish(br#"{"name":"a"}"#).unwrap().len(), 1);
        assert_eq!(
            parse_publish(br#" [{"name":"a"},{"name":"b","data":{"x":1}}]"#)
                .unwrap()
                .len(),
            2
        );
        assert!(parse_publish(br#"{"name":"a","extra":1}"#).is_err());
        assert!(parse_publish(b"").is_err());
        assert!(parse_publish(b"[1]").is_err());
    }
}
