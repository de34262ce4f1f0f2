//! The connection task: connect, Hello → Identify → Identified, then requests matched
//! to responses by `requestId` and events broadcast, until the connection drops; then
//! reconnect forever with jittered exponential backoff. A refused password (close
//! 4009) parks the task until the password changes or a long pause has passed, so a
//! wrong password never turns into a storm of connections.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use roadie_core::Secret;
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::client::{Command, ObsConfig, ObsState};
use crate::error::ObsError;
use crate::event::ObsEvent;
use crate::protocol::{
    Hello, RequestResponse, SUBPROTOCOL, ServerFrame, auth_string, close, identify_frame,
    parse_server_frame, request_frame, subscription,
};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long one outgoing frame may take to be written.
const SEND_LIMIT: Duration = Duration::from_secs(10);

/// Why a connection attempt failed.
#[derive(Debug, thiserror::Error)]
enum HandshakeError {
    #[error("invalid OBS url: {0}")]
    Url(String),
    #[error("cannot reach OBS: {0}")]
    Connect(String),
    #[error("OBS closed the connection during the handshake{}", describe_close(*.code, .reason))]
    Closed { code: Option<u16>, reason: String },
    #[error("unexpected handshake message: {0}")]
    Protocol(String),
    #[error("OBS did not complete the handshake in time")]
    Timeout,
    #[error("OBS refused the password")]
    WrongPassword,
    #[error("OBS requires a password and none is set")]
    PasswordRequired,
}

fn describe_close(code: Option<u16>, reason: &str) -> String {
    match code {
        Some(code) if reason.is_empty() => format!(" (code {code})"),
        Some(code) => format!(" (code {code}: {reason})"),
        None => String::new(),
    }
}

/// How a session ended.
enum SessionEnd {
    Shutdown,
    Lost(String),
}

/// Runs until shutdown or until every handle is gone; then reports `Disconnected`.
pub(crate) async fn run(
    config: ObsConfig,
    commands: mpsc::Receiver<Command>,
    state: watch::Sender<ObsState>,
    events: broadcast::Sender<ObsEvent>,
) {
    supervise(config, commands, &state, events).await;
    state.send_replace(ObsState::Disconnected {
        reason: "the OBS client is shut down".to_owned(),
    });
}

async fn supervise(
    config: ObsConfig,
    mut commands: mpsc::Receiver<Command>,
    state: &watch::Sender<ObsState>,
    events: broadcast::Sender<ObsEvent>,
) {
    let mut password = PasswordSlot {
        value: config.password.clone(),
        generation: 0,
    };
    let mut failures: u32 = 0;
    loop {
        state.send_replace(ObsState::Connecting);
        let tried = password.generation;
        let attempt = handshake(&config, password.value.clone());
        let Some(result) = refusing(&mut commands, &mut password, attempt).await else {
            return;
        };
        match result {
            Ok((socket, hello)) => {
                failures = 0;
                tracing::info!(
                    obs = %hello.obs_studio_version,
                    websocket = %hello.obs_web_socket_version,
                    "connected to OBS"
                );
                state.send_replace(ObsState::Connected {
                    obs_version: hello.obs_studio_version,
                    ws_version: hello.obs_web_socket_version,
                });
                match session(&config, socket, &mut commands, &mut password, &events).await {
                    SessionEnd::Shutdown => return,
                    SessionEnd::Lost(reason) => {
                        tracing::warn!(%reason, "lost the connection to OBS");
                        state.send_replace(ObsState::Disconnected { reason });
                    }
                }
            }
            Err(error @ (HandshakeError::WrongPassword | HandshakeError::PasswordRequired)) => {
                tracing::warn!(
                    reason = %error,
                    retry_in = ?config.wrong_password_pause,
                    "OBS authentication failed; waiting for a new password"
                );
                // A password that arrived while this attempt was under way has not
                // been tried yet: try it now instead of waiting.
                if password.generation != tried {
                    continue;
                }
                state.send_replace(ObsState::WrongPassword);
                if !wait_for_new_password(&config, &mut commands, &mut password).await {
                    return;
                }
                failures = 0;
                continue;
            }
            Err(error) => {
                tracing::debug!(reason = %error, "OBS connection attempt failed");
                state.send_replace(ObsState::Disconnected {
                    reason: error.to_string(),
                });
            }
        }
        failures = failures.saturating_add(1);
        let delay = backoff(&config, failures, random());
        tracing::debug!(?delay, failures, "reconnecting to OBS");
        if refusing(&mut commands, &mut password, tokio::time::sleep(delay))
            .await
            .is_none()
        {
            return;
        }
    }
}

/// The password, and how often it was replaced (so a handshake refused with an old
/// password is not taken as a verdict on a new one).
struct PasswordSlot {
    value: Option<Secret>,
    generation: u64,
}

impl PasswordSlot {
    fn set(&mut self, value: Option<Secret>) {
        self.value = value;
        self.generation = self.generation.wrapping_add(1);
    }
}

/// Drives `work` while answering every request with `NotConnected` and noting new
/// passwords; `None` when the client is shut down.
async fn refusing<F: Future>(
    commands: &mut mpsc::Receiver<Command>,
    password: &mut PasswordSlot,
    work: F,
) -> Option<F::Output> {
    tokio::pin!(work);
    loop {
        tokio::select! {
            output = &mut work => return Some(output),
            command = commands.recv() => match command {
                None | Some(Command::Shutdown) => return None,
                Some(Command::SetPassword(new)) => password.set(new),
                Some(Command::Request { reply, .. }) => {
                    let _ = reply.send(Err(ObsError::NotConnected));
                }
            },
        }
    }
}

/// After a refused password: waits for a new one (true at once) or the long pause
/// (true); requests fail with `WrongPassword` meanwhile. False on shutdown.
async fn wait_for_new_password(
    config: &ObsConfig,
    commands: &mut mpsc::Receiver<Command>,
    password: &mut PasswordSlot,
) -> bool {
    let pause = tokio::time::sleep(config.wrong_password_pause);
    tokio::pin!(pause);
    loop {
        tokio::select! {
            () = &mut pause => return true,
            command = commands.recv() => match command {
                None | Some(Command::Shutdown) => return false,
                Some(Command::SetPassword(new)) => {
                    password.set(new);
                    return true;
                }
                Some(Command::Request { reply, .. }) => {
                    let _ = reply.send(Err(ObsError::WrongPassword));
                }
            },
        }
    }
}

/// 64 random bits (std's per-instance random hash keys).
fn random() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x0b5);
    hasher.finish()
}

/// The delay before reconnect attempt number `failures` (1-based): `initial * 2^(n-1)`
/// capped at `max`, scaled by a random factor in [0.5, 1.0), never below `initial`.
fn backoff(config: &ObsConfig, failures: u32, random: u64) -> Duration {
    roadie_core::backoff_delay(config.backoff_initial, config.backoff_max, failures, random)
        .max(config.backoff_initial)
}

/// Connects and identifies within `connect_timeout`.
async fn handshake(
    config: &ObsConfig,
    password: Option<Secret>,
) -> Result<(Socket, Hello), HandshakeError> {
    let attempt = async {
        let mut request = config
            .url
            .as_str()
            .into_client_request()
            .map_err(|error| HandshakeError::Url(error.to_string()))?;
        request.headers_mut().insert(
            SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(SUBPROTOCOL),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|error| HandshakeError::Connect(error.to_string()))?;
        let hello = match next_frame(&mut socket).await? {
            ServerFrame::Hello(hello) => hello,
            other => return Err(HandshakeError::Protocol(frame_name(&other))),
        };
        let authentication = match (&hello.authentication, &password) {
            (Some(challenge), Some(password)) => {
                Some(auth_string(password, &challenge.salt, &challenge.challenge))
            }
            (Some(_), None) => {
                let _ = socket.close(None).await;
                return Err(HandshakeError::PasswordRequired);
            }
            (None, _) => None,
        };
        let identify = identify_frame(authentication.as_ref(), subscription::ROADIE);
        drop(authentication);
        socket
            .send(Message::text(identify))
            .await
            .map_err(|error| HandshakeError::Connect(error.to_string()))?;
        match next_frame(&mut socket).await? {
            ServerFrame::Identified { .. } => Ok((socket, hello)),
            other => Err(HandshakeError::Protocol(frame_name(&other))),
        }
    };
    tokio::time::timeout(config.connect_timeout, attempt)
        .await
        .unwrap_or(Err(HandshakeError::Timeout))
}

fn frame_name(frame: &ServerFrame) -> String {
    match frame {
        ServerFrame::Hello(_) => "a second Hello".to_owned(),
        ServerFrame::Identified { .. } => "Identified before Identify".to_owned(),
        ServerFrame::Event(event) => format!("event {}", event.event_type),
        ServerFrame::RequestResponse(_) => "a response to no request".to_owned(),
        ServerFrame::Other { op } => format!("op {op}"),
    }
}

/// The next text frame of the handshake, parsed; a close becomes an error.
async fn next_frame(socket: &mut Socket) -> Result<ServerFrame, HandshakeError> {
    loop {
        match socket.next().await {
            None => {
                return Err(HandshakeError::Closed {
                    code: None,
                    reason: String::new(),
                });
            }
            Some(Err(error)) => return Err(HandshakeError::Connect(error.to_string())),
            Some(Ok(Message::Text(text))) => {
                return parse_server_frame(&text)
                    .map_err(|error| HandshakeError::Protocol(error.to_string()));
            }
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = close_parts(frame.as_ref());
                if code == Some(close::AUTHENTICATION_FAILED) {
                    return Err(HandshakeError::WrongPassword);
                }
                return Err(HandshakeError::Closed { code, reason });
            }
            Some(Ok(_)) => {}
        }
    }
}

fn close_parts(frame: Option<&CloseFrame>) -> (Option<u16>, String) {
    match frame {
        Some(frame) => (Some(u16::from(frame.code)), frame.reason.to_string()),
        None => (None, String::new()),
    }
}

/// A request waiting for its response.
struct Pending {
    request_type: String,
    reply: oneshot::Sender<Result<RequestResponse, ObsError>>,
}

/// Serves one identified connection until it ends. Pending requests are dropped with
/// it, which their callers see as `ConnectionLost`.
async fn session(
    config: &ObsConfig,
    mut socket: Socket,
    commands: &mut mpsc::Receiver<Command>,
    password: &mut PasswordSlot,
    events: &broadcast::Sender<ObsEvent>,
) -> SessionEnd {
    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut next_id: u64 = 0;
    let keepalive = config.keepalive.max(Duration::from_millis(10));
    let mut ping = tokio::time::interval_at(Instant::now() + keepalive, keepalive);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                None | Some(Command::Shutdown) => {
                    let _ = tokio::time::timeout(SEND_LIMIT, socket.close(None)).await;
                    return SessionEnd::Shutdown;
                }
                Some(Command::SetPassword(new)) => password.set(new),
                Some(Command::Request { request_type, data, reply }) => {
                    // Callers that timed out left their entries behind.
                    pending.retain(|_, waiting| !waiting.reply.is_closed());
                    next_id = next_id.wrapping_add(1);
                    let request_id = format!("roadie-{next_id}");
                    let frame = request_frame(&request_type, &request_id, data.as_ref());
                    if let Err(reason) = send(&mut socket, Message::text(frame)).await {
                        let _ = reply.send(Err(ObsError::ConnectionLost { request_type }));
                        return SessionEnd::Lost(reason);
                    }
                    pending.insert(request_id, Pending { request_type, reply });
                }
            },
            message = socket.next() => {
                last_heard = Instant::now();
                match message {
                    None => return SessionEnd::Lost("OBS closed the connection".to_owned()),
                    Some(Err(error)) => return SessionEnd::Lost(format!("connection error: {error}")),
                    Some(Ok(Message::Text(text))) => handle_text(&text, &mut pending, events),
                    Some(Ok(Message::Close(frame))) => {
                        let (code, reason) = close_parts(frame.as_ref());
                        return SessionEnd::Lost(format!(
                            "OBS closed the connection{}",
                            describe_close(code, &reason)
                        ));
                    }
                    Some(Ok(_)) => {}
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > keepalive.saturating_mul(3) {
                    return SessionEnd::Lost("OBS stopped answering".to_owned());
                }
                if let Err(reason) = send(&mut socket, Message::Ping(Bytes::new())).await {
                    return SessionEnd::Lost(reason);
                }
            }
        }
    }
}

async fn send(socket: &mut Socket, message: Message) -> Result<(), String> {
    match tokio::time::timeout(SEND_LIMIT, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("send failed: {error}")),
        Err(_) => Err("OBS stopped reading".to_owned()),
    }
}

fn handle_text(
    text: &str,
    pending: &mut HashMap<String, Pending>,
    events: &broadcast::Sender<ObsEvent>,
) {
    match parse_server_frame(text) {
        Ok(ServerFrame::RequestResponse(response)) => match pending.remove(&response.request_id) {
            Some(waiting) => {
                if waiting.request_type != response.request_type {
                    tracing::debug!(
                        sent = %waiting.request_type,
                        answered = %response.request_type,
                        "OBS answered with another request type"
                    );
                }
                let _ = waiting.reply.send(Ok(response));
            }
            None => tracing::debug!(
                request_id = %response.request_id,
                "response to an unknown (or timed-out) request"
            ),
        },
        Ok(ServerFrame::Event(event)) => {
            // No receiver is fine: nobody listens right now.
            let _ = events.send(ObsEvent::from_raw(&event.event_type, event.event_data));
        }
        Ok(other) => tracing::debug!(frame = %frame_name(&other), "ignored OBS frame"),
        Err(error) => tracing::debug!(%error, "unparsable OBS frame"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn backoff_doubles_from_250ms_to_30s_with_jitter() {
        let config = ObsConfig::default();
        for random in [0, 511, 1023, u64::MAX] {
            assert_eq!(backoff(&config, 1, random), Duration::from_millis(250));
            let second = backoff(&config, 2, random);
            assert!(second >= Duration::from_millis(250) && second < Duration::from_millis(500));
            let late = backoff(&config, 40, random);
            assert!(late >= Duration::from_secs(15) && late < Duration::from_secs(30));
            assert!(backoff(&config, u32::MAX, random) <= Duration::from_secs(30));
        }
        assert_ne!(backoff(&config, 8, 0), backoff(&config, 8, 1000));
    }

    #[test]
    fn random_bits_vary() {
        let draws: std::collections::HashSet<u64> = (0..8).map(|_| random()).collect();
        assert!(draws.len() > 1);
    }

    #[test]
    fn close_descriptions_name_the_code() {
        assert_eq!(describe_close(Some(4011), ""), " (code 4011)");
        assert_eq!(describe_close(Some(4000), "bye"), " (code 4000: bye)");
        assert_eq!(describe_close(None, "ignored"), "");
    }
}
