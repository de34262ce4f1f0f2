//! The EventSub WebSocket session, whole: connect, wait for the welcome, create the
//! subscriptions within the keepalive window, watch keepalives, hand over on
//! `session_reconnect` without resubscribing, note revocations, and after any other
//! drop reconnect with jittered exponential backoff and resubscribe everything.
//! Redelivered notifications are dropped by `message_id` across reconnects.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use roadie_core::{Event, Platform, Timestamp};
use roadie_platform::reconnect_delay;

use super::frame::parse_chat_fast;
use super::normalise::ChatMessageSeed;
use super::{DedupWindow, Frame, Normaliser, Session, parse_frame, parse_time};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A connection being opened during a hand-over.
type Opening<'a> = BoxFuture<'a, Result<(Socket, Session), String>>;

/// A boxed future, so the subscription creator can be a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Creates the EventSub subscriptions for a new session (Helix in production, a
/// recorder in tests). Returns the subscription types that are now active.
pub trait SubscriptionCreator: Send + Sync {
    /// Subscribes everything on `session_id`.
    fn create(&self, session_id: &str) -> BoxFuture<'_, Result<Vec<String>, String>>;
}

/// Timings and limits of a session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The EventSub WebSocket URL.
    pub url: String,
    /// Added to the server's keepalive timeout before the connection counts as dead.
    pub keepalive_grace: Duration,
    /// How long to wait for a connection and its welcome.
    pub connect_timeout: Duration,
    /// First reconnect delay; doubles per failed attempt.
    pub backoff_initial: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// How many message ids to remember for de-duplication.
    pub dedup_capacity: usize,
}

impl SessionConfig {
    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> SessionConfig {
        SessionConfig {
            url: url.into(),
            keepalive_grace: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            dedup_capacity: 4096,
        }
    }
}

/// What the session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionUpdate {
    /// Welcomed and subscribed (or handed over); events flow.
    Connected {
        /// The session id.
        session_id: String,
        /// True after a `session_reconnect` hand-over (no resubscription).
        handed_over: bool,
    },
    /// The connection is lost; reconnecting after `retry_in`.
    Reconnecting {
        /// Why.
        reason: String,
        /// The delay before the next attempt.
        retry_in: Duration,
    },
    /// Twitch revoked a subscription.
    Revoked {
        /// Its type.
        kind: String,
        /// Why (`authorization_revoked`, `user_removed`, `version_removed`).
        status: String,
    },
    /// A normalised event.
    Event(Event),
}

/// Where a session's updates go. The adapter takes events straight to its sink, on
/// the session's task: a hop through a channel to another task cost more CPU per chat
/// line than storing it. A plain channel sender takes everything (tests).
pub trait Updates: Send + Sync {
    /// Hands `update` on; false once nobody listens any more.
    fn send(&self, update: SessionUpdate) -> impl Future<Output = bool> + Send;
}

impl Updates for mpsc::Sender<SessionUpdate> {
    async fn send(&self, update: SessionUpdate) -> bool {
        mpsc::Sender::send(self, update).await.is_ok()
    }
}

/// Why one connection ended.
enum Ended {
    Shutdown,
    Lost(String),
    /// The new connection is welcomed; the old one (if still open) is drained.
    HandedOver {
        socket: Box<Socket>,
        session: Session,
        url: String,
        old: Option<Box<Socket>>,
    },
}

/// Runs the session until `shutdown` turns true. Updates go to `updates`; the task
/// ends early only if nobody listens any more.
pub async fn run<U: Updates>(
    config: SessionConfig,
    creator: Arc<dyn SubscriptionCreator>,
    updates: U,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut dedup = DedupWindow::new(config.dedup_capacity);
    let mut normaliser = Normaliser::default();
    let mut url = config.url.clone();
    let mut handover: Option<(Socket, Session)> = None;
    let mut replaced: Option<Socket> = None;
    let mut failures: u32 = 0;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let (socket, session, handed_over) = match handover.take() {
            Some((socket, session)) => (socket, session, true),
            None => {
                match connect_and_subscribe(&config, &url, creator.as_ref(), &mut shutdown).await {
                    Ok(Some((socket, session, active))) => {
                        normaliser = Normaliser::new(active);
                        (socket, session, false)
                    }
                    Ok(None) => return,
                    Err(reason) => {
                        if !retry_later(&config, &mut failures, reason, &updates, &mut shutdown)
                            .await
                        {
                            return;
                        }
                        url = config.url.clone();
                        continue;
                    }
                }
            }
        };
        failures = 0;
        let connected = SessionUpdate::Connected {
            session_id: session.id.clone(),
            handed_over,
        };
        if !report(&updates, connected).await {
            return;
        }
        let keepalive = session
            .keepalive_timeout_seconds
            .map(Duration::from_secs)
            .unwrap_or(Duration::from_secs(10));
        let mut reading = Reading {
            normaliser: &mut normaliser,
            dedup: &mut dedup,
            updates: &updates,
        };
        let draining = replaced.take();
        match read_until_end(
            &config,
            socket,
            draining,
            keepalive + config.keepalive_grace,
            &mut reading,
            &mut shutdown,
        )
        .await
        {
            Ended::Shutdown => return,
            Ended::HandedOver {
                socket,
                session,
                url: reconnect_url,
                old,
            } => {
                url = reconnect_url;
                handover = Some((*socket, session));
                replaced = old.map(|old| *old);
            }
            Ended::Lost(reason) => {
                // Any other drop disables the session's subscriptions: start over at
                // the configured URL and subscribe again.
                if !retry_later(&config, &mut failures, reason, &updates, &mut shutdown).await {
                    return;
                }
                url = config.url.clone();
            }
        }
    }
}

async fn report<U: Updates>(updates: &U, update: SessionUpdate) -> bool {
    updates.send(update).await
}

/// Counts a failure, reports `Reconnecting` with the backoff delay and waits it out;
/// false when the session must end instead (shutdown, or nobody listens).
async fn retry_later<U: Updates>(
    config: &SessionConfig,
    failures: &mut u32,
    reason: String,
    updates: &U,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    *failures = failures.saturating_add(1);
    let retry_in = reconnect_delay(config.backoff_initial, config.backoff_max, *failures);
    report(updates, SessionUpdate::Reconnecting { reason, retry_in }).await
        && sleep_or_shutdown(retry_in, shutdown).await
}

/// Resolves once shutdown is requested (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not Send; drop it right here.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Waits `delay`; false when shutdown came first.
async fn sleep_or_shutdown(delay: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(delay) => true,
        () = stopped(shutdown) => false,
    }
}

async fn open(config: &SessionConfig, url: String) -> Result<(Socket, Session), String> {
    let attempt = async {
        let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .map_err(|error| format!("connect: {error}"))?;
        loop {
            let message = socket
                .next()
                .await
                .ok_or("closed before the welcome")?
                .map_err(|error| error.to_string())?;
            let Message::Text(text) = message else {
                if let Message::Close(frame) = message {
                    return Err(format!("closed before the welcome: {frame:?}"));
                }
                continue;
            };
            match parse_frame(&text).map_err(|error| error.to_string())? {
                Frame::Welcome { session, .. } => return Ok((socket, session)),
                other => tracing::debug!(?other, "frame before the welcome ignored"),
            }
        }
    };
    tokio::time::timeout(config.connect_timeout, attempt)
        .await
        .map_err(|_| "no welcome in time".to_owned())?
}

/// Connects and subscribes; `Ok(None)` on shutdown.
async fn connect_and_subscribe(
    config: &SessionConfig,
    url: &str,
    creator: &dyn SubscriptionCreator,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Option<(Socket, Session, Vec<String>)>, String> {
    let (socket, session) = tokio::select! {
        opened = open(config, url.to_owned()) => opened?,
        () = stopped(shutdown) => return Ok(None),
    };
    let keepalive = session
        .keepalive_timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(10));
    // Twitch closes an unused session (4003) after the keepalive window.
    let active = tokio::time::timeout(keepalive, creator.create(&session.id))
        .await
        .map_err(|_| "creating subscriptions took longer than the keepalive window".to_owned())?
        .map_err(|error| format!("creating subscriptions failed: {error}"))?;
    Ok(Some((socket, session, active)))
}

struct Reading<'a, U> {
    normaliser: &'a mut Normaliser,
    dedup: &'a mut DedupWindow,
    updates: &'a U,
}

/// What one frame asks of the reader.
enum Next {
    Continue,
    Reconnect(String),
    Stop,
}

/// Decodes and delivers one text frame.
async fn deliver<U: Updates>(text: &str, reading: &mut Reading<'_, U>) -> Next {
    if let Some((metadata, kind)) = parse_chat_fast(text, ChatMessageSeed) {
        if !reading.dedup.first_seen(&metadata.message_id) {
            tracing::debug!(message_id = %metadata.message_id, "dropped a redelivered notification");
            return Next::Continue;
        }
        let at = parse_time(&metadata.message_timestamp).unwrap_or_else(now);
        let update = SessionUpdate::Event(Event {
            platform: Platform::Twitch,
            at,
            kind,
        });
        return if !reading.updates.send(update).await {
            Next::Stop
        } else {
            Next::Continue
        };
    }
    match parse_frame(text) {
        Ok(Frame::Notification {
            metadata,
            subscription,
            event,
        }) => {
            if !reading.dedup.first_seen(&metadata.message_id) {
                tracing::debug!(message_id = %metadata.message_id, "dropped a redelivered notification");
                return Next::Continue;
            }
            let at = parse_time(&metadata.message_timestamp).unwrap_or_else(now);
            match reading.normaliser.normalise(&subscription.kind, event) {
                Ok(kinds) => {
                    for kind in kinds {
                        let update = SessionUpdate::Event(Event {
                            platform: Platform::Twitch,
                            at,
                            kind,
                        });
                        if !reading.updates.send(update).await {
                            return Next::Stop;
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "skipped a notification Roadie cannot read"),
            }
            Next::Continue
        }
        Ok(Frame::Keepalive { .. } | Frame::Welcome { .. } | Frame::Other { .. }) => Next::Continue,
        Ok(Frame::Reconnect { session, .. }) => match session.reconnect_url {
            Some(url) => Next::Reconnect(url),
            None => Next::Continue,
        },
        Ok(Frame::Revocation { subscription, .. }) => {
            tracing::warn!(kind = %subscription.kind, status = %subscription.status, "Twitch revoked a subscription");
            reading.normaliser.deactivate(&subscription.kind);
            let revoked = SessionUpdate::Revoked {
                kind: subscription.kind.into_owned(),
                status: subscription.status.into_owned(),
            };
            if !reading.updates.send(revoked).await {
                Next::Stop
            } else {
                Next::Continue
            }
        }
        Err(error) => {
            tracing::warn!(%error, "skipped a malformed EventSub frame");
            Next::Continue
        }
    }
}

/// Longest silence on a replaced connection before it is closed without waiting more.
const DRAIN_SILENCE: Duration = Duration::from_secs(2);

/// Reads one connection until it ends. `draining` is the connection this one replaced
/// in a hand-over: it is read too, until Twitch closes it, so nothing sent on it
/// during the switch is lost.
async fn read_until_end<U: Updates>(
    config: &SessionConfig,
    socket: Socket,
    mut draining: Option<Socket>,
    silence_limit: Duration,
    reading: &mut Reading<'_, U>,
    shutdown: &mut watch::Receiver<bool>,
) -> Ended {
    let mut socket = Some(socket);
    // While a hand-over is under way: the new connection being opened, and its URL.
    let mut pending: Option<(Opening<'_>, String)> = None;
    loop {
        // Under load the next frames are already buffered: take them without arming
        // the select (timers, wakers) each time. Only on the plain path; hand-overs
        // and shutdown go through the select.
        let buffered = if pending.is_none() && draining.is_none() && !*shutdown.borrow() {
            socket
                .as_mut()
                .and_then(|socket| socket.next().now_or_never())
        } else {
            None
        };
        let mut taken = None;
        if let Some(message) = buffered {
            match message {
                Some(Ok(Message::Text(text))) => match deliver(&text, reading).await {
                    Next::Continue => {}
                    Next::Stop => return Ended::Shutdown,
                    Next::Reconnect(url) => {
                        // Open the new connection while this one keeps delivering.
                        let opening: BoxFuture<'_, Result<(Socket, Session), String>> =
                            Box::pin(open(config, url.clone()));
                        pending = Some((opening, url));
                    }
                },
                // Anything else (close, error, end) takes the usual path below.
                other => taken = Some(other),
            }
            if taken.is_none() {
                continue;
            }
        }
        let next = if let Some(message) = taken {
            Ok(message)
        } else {
            let next_message = async {
                match socket.as_mut() {
                    Some(socket) => tokio::time::timeout(silence_limit, socket.next()).await,
                    // The old connection is gone: only the hand-over can end the wait.
                    None => std::future::pending().await,
                }
            };
            let next_drained = async {
                match draining.as_mut() {
                    Some(old) => tokio::time::timeout(DRAIN_SILENCE, old.next()).await,
                    None => std::future::pending().await,
                }
            };
            let next_handover = async {
                match pending.as_mut() {
                    Some((opening, _)) => opening.await,
                    None => std::future::pending().await,
                }
            };

            tokio::select! {
                next = next_message => next,
                drained = next_drained => {
                    match drained {
                        Ok(Some(Ok(Message::Text(text)))) => {
                            // A reconnect request on a replaced connection is stale.
                            if let Next::Stop = deliver(&text, reading).await {
                                return Ended::Shutdown;
                            }
                        }
                        Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) | Err(_) => {
                            if let Some(mut old) = draining.take() {
                                let _ = old.close(None).await;
                            }
                        }
                        Ok(Some(Ok(_))) => {}
                    }
                    continue;
                }
                opened = next_handover => {
                    let Some((_, url)) = pending.take() else { continue };
                    return match opened {
                        Ok((new_socket, session)) => Ended::HandedOver { socket: Box::new(new_socket), session, url, old: socket.take().map(Box::new) },
                        Err(reason) => Ended::Lost(format!("the reconnect hand-over failed: {reason}")),
                    };
                }
                () = stopped(shutdown) => {
                    for mut old in [socket.take(), draining.take()].into_iter().flatten() {
                        let _ = old.close(None).await;
                    }
                    return Ended::Shutdown;
                }
            }
        };
        let message = match next {
            Err(_) => {
                return Ended::Lost(format!(
                    "no message or keepalive for {} s",
                    silence_limit.as_secs()
                ));
            }
            Ok(Some(Ok(message))) => message,
            Ok(None) | Ok(Some(Err(_))) if pending.is_some() => {
                // The old connection may end during a hand-over; wait for the new one.
                socket = None;
                continue;
            }
            Ok(None) => return Ended::Lost("the connection closed".into()),
            Ok(Some(Err(error))) => return Ended::Lost(format!("connection error: {error}")),
        };
        let text = match message {
            Message::Text(text) => text,
            Message::Close(frame) => {
                if pending.is_some() {
                    socket = None;
                    continue;
                }
                let reason = frame
                    .map(|frame| {
                        format!(
                            "closed by Twitch: {} {}",
                            u16::from(frame.code),
                            frame.reason
                        )
                    })
                    .unwrap_or_else(|| "closed by Twitch".into());
                return Ended::Lost(reason);
            }
            // Pings are answered by tungstenite while we keep reading.
            _ => continue,
        };
        match deliver(&text, reading).await {
            Next::Continue => {}
            Next::Stop => return Ended::Shutdown,
            Next::Reconnect(url) => {
                if pending.is_none() {
                    // Open the new connection while this one keeps delivering.
                    let opening: BoxFuture<'_, Result<(Socket, Session), String>> =
                        Box::pin(open(config, url.clone()));
                    pending = Some((opening, url));
                }
            }
        }
    }
}

/// The current time (the adapter's clock for events).
pub(crate) fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0),
    )
}
