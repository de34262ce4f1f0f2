//! A fake Twitch EventSub WebSocket server on 127.0.0.1:0, speaking the real protocol
//! with frames built from real captured messages (data/): welcome, keepalives,
//! notifications, `session_reconnect` hand-over, revocations, Twitch's close codes
//! (4001 for inbound traffic, 4003 for an unused session) and abrupt drops.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const WELCOME: &str = include_str!("../data/twitch_eventsub_ws_session_welcome.json");
const KEEPALIVE: &str = include_str!("../data/twitch_eventsub_ws_session_keepalive.json");
const RECONNECT: &str = include_str!("../data/twitch_eventsub_ws_session_reconnect.json");
const CHAT_MESSAGE: &str =
    include_str!("../data/twitch_eventsub_ws_notification_channel.chat.message.json");
const REVOCATION: &str = include_str!("../data/twitch_eventsub_ws_revocation.json");

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct FakeEventSubOptions {
    /// `keepalive_timeout_seconds` announced in the welcome.
    pub keepalive_seconds: u64,
    /// Whether keepalives are sent (off: test the client's watchdog).
    pub send_keepalives: bool,
    /// Close a session with 4003 if no subscription is registered this long after its
    /// welcome (`None`: never).
    pub unused_close_after: Option<Duration>,
}

impl Default for FakeEventSubOptions {
    fn default() -> Self {
        FakeEventSubOptions {
            keepalive_seconds: 10,
            send_keepalives: true,
            unused_close_after: None,
        }
    }
}

#[derive(Debug)]
enum ConnectionCommand {
    Send(String),
    Drop,
    Close(u16, String),
}

#[derive(Debug, Default)]
struct Registry {
    /// Each accepted connection: its session id and command channel.
    connections: Vec<(String, mpsc::UnboundedSender<ConnectionCommand>)>,
    /// Index of the connection that receives notifications.
    current: Option<usize>,
    /// Session ids that have subscriptions (see [`FakeEventSub::mark_subscribed`]).
    subscribed: Vec<String>,
}

/// A running fake; the server stops when this is dropped.
#[derive(Debug)]
pub struct FakeEventSub {
    address: std::net::SocketAddr,
    registry: Arc<Mutex<Registry>>,
    message_counter: Arc<AtomicU64>,
    accepted: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeEventSub {
    fn drop(&mut self) {
        self.server.abort();
        if let Ok(registry) = self.registry.lock() {
            for (_, connection) in &registry.connections {
                let _ = connection.send(ConnectionCommand::Drop);
            }
        }
    }
}

fn timestamp() -> String {
    // Twitch sends nanosecond precision; any valid RFC 3339 time will do here.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs();
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60,
        now.subsec_nanos()
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn template(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

impl FakeEventSub {
    /// Starts the fake on 127.0.0.1:0.
    pub async fn start(options: FakeEventSubOptions) -> FakeEventSub {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|error| panic!("bind: {error}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("address: {error}"));
        let registry: Arc<Mutex<Registry>> = Arc::default();
        let accepted: Arc<AtomicUsize> = Arc::default();
        let server_registry = Arc::clone(&registry);
        let server_accepted = Arc::clone(&accepted);
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // Like Twitch's edge: frames go out as written, not held for ACKs.
                let _ = stream.set_nodelay(true);
                let number = server_accepted.fetch_add(1, Ordering::SeqCst) + 1;
                let registry = Arc::clone(&server_registry);
                let options = options.clone();
                tokio::spawn(serve_connection(stream, number, address, registry, options));
            }
        });
        FakeEventSub {
            address,
            registry,
            message_counter: Arc::default(),
            accepted,
            server,
        }
    }

    /// The URL to connect to.
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.address)
    }

    /// How many connections were accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// The session id of the connection that currently receives notifications.
    pub fn current_session(&self) -> Option<String> {
        let registry = self.registry.lock().ok()?;
        registry
            .current
            .map(|index| registry.connections[index].0.clone())
    }

    /// Records that subscriptions were created for `session_id` (what Helix would do).
    pub fn mark_subscribed(&self, session_id: &str) {
        if let Ok(mut registry) = self.registry.lock() {
            registry.subscribed.push(session_id.to_owned());
        }
    }

    /// Sends a raw text frame to the current connection; false when there is none.
    pub fn send_raw(&self, frame: String) -> bool {
        let Ok(registry) = self.registry.lock() else {
            return false;
        };
        match registry.current {
            Some(index) => registry.connections[index]
                .1
                .send(ConnectionCommand::Send(frame))
                .is_ok(),
            None => false,
        }
    }

    /// A notification frame for `subscription_type` with `event`, a fresh message id,
    /// built on the real captured notification frame.
    pub fn notification_frame(&self, subscription_type: &str, event: Value) -> String {
        self.notification_frame_for(None, subscription_type, event)
    }

    /// As [`FakeEventSub::notification_frame`], carrying `subscription_id` (what Helix
    /// answered when the subscription was created) instead of the captured frame's id:
    /// clients that route by subscription id, such as twurple, need it.
    pub fn notification_frame_for(
        &self,
        subscription_id: Option<&str>,
        subscription_type: &str,
        event: Value,
    ) -> String {
        let number = self.message_counter.fetch_add(1, Ordering::SeqCst);
        let mut frame = template(CHAT_MESSAGE);
        if let Some(id) = subscription_id {
            frame["payload"]["subscription"]["id"] = json!(id);
        }
        frame["metadata"]["message_id"] = json!(format!("fake-message-{number}"));
        frame["metadata"]["message_timestamp"] = json!(timestamp());
        frame["metadata"]["subscription_type"] = json!(subscription_type);
        frame["payload"]["subscription"]["type"] = json!(subscription_type);
        frame["payload"]["event"] = event;
        frame.to_string()
    }

    /// The event body of the real captured `channel.chat.message`, with `text` and a
    /// message id of `message_id`.
    pub fn chat_event(message_id: &str, text: &str) -> Value {
        let mut event = template(CHAT_MESSAGE)["payload"]["event"].clone();
        event["message_id"] = json!(message_id);
        event["message"]["text"] = json!(text);
        event["message"]["fragments"][0]["text"] = json!(text);
        event
    }

    /// Sends a `channel.chat.message` notification; returns its frame (to resend it).
    pub fn send_chat(&self, message_id: &str, text: &str) -> String {
        let frame =
            self.notification_frame("channel.chat.message", Self::chat_event(message_id, text));
        self.send_raw(frame.clone());
        frame
    }

    /// Sends `session_reconnect` pointing back at this server. The next connection
    /// becomes current once welcomed; the old one stays open until the client closes it.
    pub fn reconnect(&self) {
        let session = self.current_session().unwrap_or_default();
        let mut frame = template(RECONNECT);
        frame["metadata"]["message_timestamp"] = json!(timestamp());
        frame["payload"]["session"]["id"] = json!(session);
        frame["payload"]["session"]["reconnect_url"] =
            json!(format!("ws://{}/ws?reconnect=1", self.address));
        self.send_raw(frame.to_string());
    }

    /// Sends a revocation of `subscription_type` with `status`.
    pub fn revoke(&self, subscription_type: &str, status: &str) {
        let mut frame = template(REVOCATION);
        frame["metadata"]["message_timestamp"] = json!(timestamp());
        frame["metadata"]["subscription_type"] = json!(subscription_type);
        frame["payload"]["subscription"]["type"] = json!(subscription_type);
        frame["payload"]["subscription"]["status"] = json!(status);
        self.send_raw(frame.to_string());
    }

    /// Drops the current connection's TCP stream without a close frame.
    pub fn drop_connection(&self) {
        if let Ok(registry) = self.registry.lock()
            && let Some(index) = registry.current
        {
            let _ = registry.connections[index].1.send(ConnectionCommand::Drop);
        }
    }

    /// Closes the current connection with a WebSocket close code (4000-4007 as Twitch).
    pub fn close_current(&self, code: u16, reason: &str) {
        if let Ok(registry) = self.registry.lock()
            && let Some(index) = registry.current
        {
            let _ = registry.connections[index]
                .1
                .send(ConnectionCommand::Close(code, reason.to_owned()));
        }
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    number: usize,
    address: std::net::SocketAddr,
    registry: Arc<Mutex<Registry>>,
    options: FakeEventSubOptions,
) {
    let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let session_id = format!("fake-session-{number}-{}", address.port());
    let (commands, mut inbox) = mpsc::unbounded_channel();
    let mut welcome = template(WELCOME);
    welcome["metadata"]["message_id"] = json!(format!("welcome-{number}"));
    welcome["metadata"]["message_timestamp"] = json!(timestamp());
    welcome["payload"]["session"]["id"] = json!(session_id);
    welcome["payload"]["session"]["keepalive_timeout_seconds"] = json!(options.keepalive_seconds);
    welcome["payload"]["session"]["connected_at"] = json!(timestamp());
    // From now on this connection receives notifications (queued behind the welcome),
    // and, like Twitch after a reconnect, the server closes the one it replaces once
    // what was sent on that one is out.
    if let Ok(mut registry) = registry.lock() {
        if let Some(previous) = registry.current {
            let _ = registry.connections[previous]
                .1
                .send(ConnectionCommand::Close(
                    1000,
                    "replaced by a new connection".into(),
                ));
        }
        registry.connections.push((session_id.clone(), commands));
        registry.current = Some(registry.connections.len() - 1);
    }
    if socket
        .send(Message::text(welcome.to_string()))
        .await
        .is_err()
    {
        return;
    }
    let keepalive_every =
        Duration::from_millis(options.keepalive_seconds.saturating_mul(1000) * 2 / 3)
            .max(Duration::from_millis(50));
    let mut keepalive = tokio::time::interval_at(
        tokio::time::Instant::now() + keepalive_every,
        keepalive_every,
    );
    let unused_deadline = options
        .unused_close_after
        .map(|after| tokio::time::Instant::now() + after);
    let mut sent_since_keepalive = false;
    loop {
        let unused_check = async {
            match unused_deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            command = inbox.recv() => match command {
                Some(ConnectionCommand::Send(text)) => {
                    // Queue whatever else is already waiting and flush once, as a server
                    // under load writes: one syscall for many frames, never reordered.
                    if socket.feed(Message::text(text)).await.is_err() {
                        return;
                    }
                    let mut then = None;
                    while let Ok(next) = inbox.try_recv() {
                        match next {
                            ConnectionCommand::Send(text) => {
                                if socket.feed(Message::text(text)).await.is_err() {
                                    return;
                                }
                            }
                            other => {
                                then = Some(other);
                                break;
                            }
                        }
                    }
                    if socket.flush().await.is_err() {
                        return;
                    }
                    sent_since_keepalive = true;
                    match then {
                        Some(ConnectionCommand::Close(code, reason)) => {
                            let _ = socket.close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() })).await;
                            return;
                        }
                        Some(ConnectionCommand::Drop) => return,
                        Some(ConnectionCommand::Send(_)) | None => {}
                    }
                }
                Some(ConnectionCommand::Close(code, reason)) => {
                    let _ = socket.close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() })).await;
                    return;
                }
                // Abrupt drop: no close frame, the TCP stream just ends.
                Some(ConnectionCommand::Drop) | None => return,
            },
            _ = keepalive.tick() => {
                if options.send_keepalives && !sent_since_keepalive {
                    let mut frame = template(KEEPALIVE);
                    frame["metadata"]["message_timestamp"] = json!(timestamp());
                    if socket.send(Message::text(frame.to_string())).await.is_err() {
                        return;
                    }
                }
                sent_since_keepalive = false;
            }
            () = unused_check => {
                let subscribed = registry.lock().map(|registry| registry.subscribed.contains(&session_id)).unwrap_or(false);
                if !subscribed {
                    let _ = socket.close(Some(CloseFrame { code: CloseCode::from(4003), reason: "connection unused".into() })).await;
                    return;
                }
            }
            incoming = socket.next() => match incoming {
                Some(Ok(Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                // Twitch closes the connection when a client sends anything but pongs.
                Some(Ok(_)) => {
                    let _ = socket.close(Some(CloseFrame { code: CloseCode::from(4001), reason: "client sent inbound traffic".into() })).await;
                    return;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_418), (2025, 11, 26));
        assert!(timestamp().ends_with('Z'));
    }
}
