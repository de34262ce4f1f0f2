//! The Pusher connection, kept: look the channel up, connect, wait for
//! `pusher:connection_established`, subscribe the four channels and report connected
//! once Kick confirms them all, decode and normalise events, ping when idle for the
//! server's `activity_timeout` and treat a missing pong as a drop, answer server pings,
//! and reconnect by Pusher's close-code ranges:
//!
//! - 4000–4099: the server asks not to reconnect unchanged (app disabled, over quota,
//!   bad protocol). Nothing in Roadie can change, so it waits long
//!   ([`SessionConfig::refused_retry`], ten minutes) and says why;
//! - 4100–4199: reconnect after a pause of at least one second, backing off;
//! - 4200–4299: reconnect at once (with backoff only when it keeps happening before
//!   the subscriptions are confirmed);
//! - any other close or drop: jittered exponential backoff.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use roadie_platform::reconnect_delay;

use super::frame::{PING_FRAME, PONG_FRAME, PusherFrame, parse_frame, subscribe_frame};
use super::{ChannelIds, resolve_channel};
use crate::normalise::{Normalised, pusher_event};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Where to connect and how patiently.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The Pusher WebSocket URL (app key and protocol in the query).
    pub url: String,
    /// The channel-information base URL (`<url>/<slug>`).
    pub channel_info_url: String,
    /// The channel's slug.
    pub slug: String,
    /// How long to wait for the connection and `pusher:connection_established`.
    pub connect_timeout: Duration,
    /// How long to wait for every subscription's confirmation.
    pub subscribe_timeout: Duration,
    /// First reconnect delay; doubles per failed attempt.
    pub backoff_initial: Duration,
    /// Longest ordinary reconnect delay.
    pub backoff_max: Duration,
    /// The wait after a 4000–4099 close ("do not reconnect unchanged").
    pub refused_retry: Duration,
    /// How long after `pusher:ping` a pong (or any frame) must come.
    pub pong_timeout: Duration,
    /// The longest idle time before pinging, whatever the server announces.
    pub activity_timeout_cap: Duration,
    /// Ids the user configured: the channel-information lookup is skipped.
    pub known_ids: Option<ChannelIds>,
}

impl SessionConfig {
    /// Defaults (pusher-js's: 120 s activity cap, 30 s pong timeout).
    pub fn new(url: String, channel_info_url: String, slug: String) -> SessionConfig {
        SessionConfig {
            url,
            channel_info_url,
            slug,
            connect_timeout: Duration::from_secs(10),
            subscribe_timeout: Duration::from_secs(10),
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            refused_retry: Duration::from_secs(600),
            pong_timeout: Duration::from_secs(30),
            activity_timeout_cap: Duration::from_secs(120),
            known_ids: None,
        }
    }
}

/// What the session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionUpdate {
    /// The channel was looked up (once per session).
    Resolved(ChannelIds),
    /// Every channel is subscribed; events flow.
    Connected {
        /// For the status line.
        detail: String,
    },
    /// The connection is lost (or cannot be made); trying again after `retry_in`.
    Reconnecting {
        /// Why, and what Pusher advised.
        reason: String,
        /// The delay before the next attempt.
        retry_in: Duration,
    },
    /// A normalised event (not yet de-duplicated).
    Event(Normalised),
}

/// Why one connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Shutdown was requested (or nobody listens).
    Shutdown,
    /// The server closed with a code (a close frame or a `pusher:error`).
    Closed {
        /// The close code.
        code: u16,
        /// The reason given.
        reason: String,
    },
    /// The connection dropped or went silent.
    Lost(String),
}

/// `instant + delay`, or a day later when that would overflow (absurd settings).
fn later(instant: Instant, delay: Duration) -> Instant {
    instant
        .checked_add(delay)
        .unwrap_or_else(|| instant + Duration::from_secs(86_400))
}

/// The delay before reconnecting after `ended` (the `failures`-th in a row), and the
/// advice followed, for the status line.
pub fn retry_after(ended: &Ended, failures: u32, config: &SessionConfig) -> (Duration, String) {
    match ended {
        Ended::Closed { code, .. } if (4000..=4099).contains(code) => (
            config.refused_retry,
            format!(
                "Pusher asks not to reconnect unchanged (check [kick] pusher_url); waiting {} s",
                config.refused_retry.as_secs()
            ),
        ),
        Ended::Closed { code, .. } if (4100..=4199).contains(code) => {
            let delay = reconnect_delay(config.backoff_initial, config.backoff_max, failures)
                .max(Duration::from_secs(1));
            (
                delay,
                format!(
                    "Pusher asks to back off; reconnecting in {} ms",
                    delay.as_millis()
                ),
            )
        }
        // At once after a working connection; a server that keeps closing before the
        // subscriptions are confirmed is not hammered in a tight loop.
        Ended::Closed { code, .. } if (4200..=4299).contains(code) && failures <= 1 => (
            Duration::ZERO,
            "Pusher asks to reconnect; reconnecting now".into(),
        ),
        _ => {
            let delay = reconnect_delay(config.backoff_initial, config.backoff_max, failures);
            (delay, format!("reconnecting in {} ms", delay.as_millis()))
        }
    }
}

/// Resolves once shutdown is requested (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Waits `delay`; false when shutdown came first.
async fn sleep_or_shutdown(delay: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if delay.is_zero() {
        return !*shutdown.borrow();
    }
    tokio::select! {
        () = tokio::time::sleep(delay) => true,
        () = stopped(shutdown) => false,
    }
}

/// Runs the feed until `shutdown` turns true (or nobody listens to `updates`).
pub async fn run(
    config: SessionConfig,
    http: reqwest::Client,
    updates: mpsc::Sender<SessionUpdate>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ids: Option<ChannelIds> = config.known_ids.clone();
    let mut failures: u32 = 0;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let channel = match &ids {
            Some(ids) => ids.clone(),
            None => {
                let resolved = tokio::select! {
                    resolved = resolve_channel(&http, &config.channel_info_url, &config.slug) => resolved,
                    () = stopped(&mut shutdown) => return,
                };
                match resolved {
                    Ok(found) => {
                        if updates
                            .send(SessionUpdate::Resolved(found.clone()))
                            .await
                            .is_err()
                        {
                            return;
                        }
                        ids = Some(found.clone());
                        found
                    }
                    Err(reason) => {
                        failures = failures.saturating_add(1);
                        let delay =
                            reconnect_delay(config.backoff_initial, config.backoff_max, failures);
                        let update = SessionUpdate::Reconnecting {
                            reason: format!(
                                "cannot look up the Kick channel {:?}: {reason}; retrying in {} ms",
                                config.slug,
                                delay.as_millis()
                            ),
                            retry_in: delay,
                        };
                        if updates.send(update).await.is_err()
                            || !sleep_or_shutdown(delay, &mut shutdown).await
                        {
                            return;
                        }
                        continue;
                    }
                }
            }
        };
        let ended =
            connect_and_read(&config, &channel, &updates, &mut shutdown, &mut failures).await;
        let reason = match &ended {
            Ended::Shutdown => return,
            Ended::Closed { code, reason } => {
                format!("Kick's Pusher closed the connection ({code} {reason})")
            }
            Ended::Lost(reason) => reason.clone(),
        };
        failures = failures.saturating_add(1);
        let (delay, advice) = retry_after(&ended, failures, &config);
        tracing::info!(%reason, %advice, "the Kick chat feed dropped");
        let update = SessionUpdate::Reconnecting {
            reason: format!("{reason}; {advice}"),
            retry_in: delay,
        };
        if updates.send(update).await.is_err() || !sleep_or_shutdown(delay, &mut shutdown).await {
            return;
        }
    }
}

/// Connects and waits for `pusher:connection_established`: the socket and the idle
/// time after which to ping.
async fn open(config: &SessionConfig) -> Result<(Socket, Duration), Ended> {
    let attempt = async {
        let (mut socket, _) = tokio_tungstenite::connect_async(config.url.as_str())
            .await
            .map_err(|error| Ended::Lost(format!("cannot connect to Kick's Pusher: {error}")))?;
        loop {
            let message = match socket.next().await {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    return Err(Ended::Lost(format!(
                        "connection error before the handshake: {error}"
                    )));
                }
                None => return Err(Ended::Lost("closed before the handshake".into())),
            };
            match message {
                Message::Text(text) => match parse_frame(&text) {
                    Ok(PusherFrame::ConnectionEstablished {
                        activity_timeout, ..
                    }) => {
                        let announced = activity_timeout
                            .map(Duration::from_secs)
                            .unwrap_or(config.activity_timeout_cap);
                        // Never idle-check faster than 100 ms, whatever is announced.
                        let activity = announced
                            .min(config.activity_timeout_cap)
                            .max(Duration::from_millis(100));
                        return Ok((socket, activity));
                    }
                    Ok(PusherFrame::Error {
                        code: Some(code),
                        message,
                    }) => {
                        return Err(Ended::Closed {
                            code,
                            reason: message,
                        });
                    }
                    other => tracing::debug!(?other, "frame before the handshake ignored"),
                },
                Message::Close(frame) => {
                    return Err(match frame {
                        Some(frame) => Ended::Closed {
                            code: u16::from(frame.code),
                            reason: frame.reason.to_string(),
                        },
                        None => Ended::Lost("closed before the handshake".into()),
                    });
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(config.connect_timeout, attempt)
        .await
        .map_err(|_| Ended::Lost("no pusher:connection_established in time".into()))?
}

/// One connection, from connect to its end.
async fn connect_and_read(
    config: &SessionConfig,
    ids: &ChannelIds,
    updates: &mpsc::Sender<SessionUpdate>,
    shutdown: &mut watch::Receiver<bool>,
    failures: &mut u32,
) -> Ended {
    let (mut socket, activity) = tokio::select! {
        opened = open(config) => match opened {
            Ok(opened) => opened,
            Err(ended) => return ended,
        },
        () = stopped(shutdown) => return Ended::Shutdown,
    };
    let channels = ids.pusher_channels();
    for channel in &channels {
        if let Err(error) = socket.feed(Message::text(subscribe_frame(channel))).await {
            return Ended::Lost(format!("subscribing failed: {error}"));
        }
    }
    if let Err(error) = socket.flush().await {
        return Ended::Lost(format!("subscribing failed: {error}"));
    }
    let mut reader = Reader {
        config,
        ids,
        updates,
        pending: channels.into_iter().collect(),
        failures,
    };
    let ended = reader.read(&mut socket, activity, shutdown).await;
    if ended == Ended::Shutdown {
        let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
    }
    ended
}

struct Reader<'a> {
    config: &'a SessionConfig,
    ids: &'a ChannelIds,
    updates: &'a mpsc::Sender<SessionUpdate>,
    /// Channels not yet confirmed.
    pending: HashSet<String>,
    failures: &'a mut u32,
}

/// What one message asks of the reader.
enum Step {
    Continue,
    End(Ended),
}

impl Reader<'_> {
    async fn read(
        &mut self,
        socket: &mut Socket,
        activity: Duration,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Ended {
        let subscribe_deadline = later(Instant::now(), self.config.subscribe_timeout);
        let mut last_heard = Instant::now();
        let mut ping_sent: Option<Instant> = None;
        loop {
            // Under load the next frames are already buffered: take them without arming
            // timers each time.
            if !*shutdown.borrow()
                && let Some(buffered) = socket.next().now_or_never()
            {
                last_heard = Instant::now();
                ping_sent = None;
                match self.on_message(socket, buffered).await {
                    Step::Continue => continue,
                    Step::End(ended) => return ended,
                }
            }
            let deadline = match ping_sent {
                Some(sent) => later(sent, self.config.pong_timeout),
                None => later(last_heard, activity),
            };
            let confirmations = async {
                if self.pending.is_empty() {
                    std::future::pending::<()>().await;
                } else {
                    tokio::time::sleep_until(subscribe_deadline).await;
                }
            };
            let step = tokio::select! {
                message = socket.next() => {
                    last_heard = Instant::now();
                    ping_sent = None;
                    self.on_message(socket, message).await
                }
                () = tokio::time::sleep_until(deadline) => {
                    if ping_sent.is_some() {
                        Step::End(Ended::Lost(format!(
                            "no pusher:pong within {} s",
                            self.config.pong_timeout.as_secs_f64()
                        )))
                    } else if let Err(error) = socket.send(Message::text(PING_FRAME)).await {
                        Step::End(Ended::Lost(format!("sending pusher:ping failed: {error}")))
                    } else {
                        ping_sent = Some(Instant::now());
                        Step::Continue
                    }
                }
                () = confirmations => {
                    let mut missing: Vec<&String> = self.pending.iter().collect();
                    missing.sort();
                    Step::End(Ended::Lost(format!("Kick's Pusher did not confirm the subscriptions to {missing:?}")))
                }
                () = stopped(shutdown) => Step::End(Ended::Shutdown),
            };
            if let Step::End(ended) = step {
                return ended;
            }
        }
    }

    async fn on_message(
        &mut self,
        socket: &mut Socket,
        message: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> Step {
        let message = match message {
            None => {
                return Step::End(Ended::Lost(
                    "the connection ended without a close frame".into(),
                ));
            }
            Some(Err(error)) => {
                return Step::End(Ended::Lost(format!("connection error: {error}")));
            }
            Some(Ok(message)) => message,
        };
        let text = match message {
            Message::Text(text) => text,
            Message::Close(Some(frame)) => {
                return Step::End(Ended::Closed {
                    code: u16::from(frame.code),
                    reason: frame.reason.to_string(),
                });
            }
            Message::Close(None) => {
                return Step::End(Ended::Lost("closed by Kick's Pusher without a code".into()));
            }
            // WebSocket pings are answered by tungstenite on the next write or read.
            _ => return Step::Continue,
        };
        match parse_frame(&text) {
            Ok(PusherFrame::Event { event, data, .. }) => match pusher_event(&event, &data) {
                Ok(events) => {
                    for event in events {
                        if self
                            .updates
                            .send(SessionUpdate::Event(event))
                            .await
                            .is_err()
                        {
                            return Step::End(Ended::Shutdown);
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "skipped a Kick event Roadie cannot read"),
            },
            Ok(PusherFrame::SubscriptionSucceeded { channel }) => {
                if self.pending.remove(&channel) && self.pending.is_empty() {
                    *self.failures = 0;
                    let detail = format!(
                        "reading Kick chat of {} over Pusher (chatroom {}, channel {})",
                        self.config.slug, self.ids.chatroom_id, self.ids.channel_id
                    );
                    if self
                        .updates
                        .send(SessionUpdate::Connected { detail })
                        .await
                        .is_err()
                    {
                        return Step::End(Ended::Shutdown);
                    }
                }
            }
            Ok(PusherFrame::Ping) => {
                if let Err(error) = socket.send(Message::text(PONG_FRAME)).await {
                    return Step::End(Ended::Lost(format!(
                        "answering pusher:ping failed: {error}"
                    )));
                }
            }
            Ok(PusherFrame::Error {
                code: Some(code),
                message,
            }) if (4000..=4299).contains(&code) => {
                return Step::End(Ended::Closed {
                    code,
                    reason: message,
                });
            }
            Ok(PusherFrame::Error { code, message }) => {
                tracing::warn!(?code, %message, "Kick's Pusher reported an error");
            }
            Ok(PusherFrame::Pong | PusherFrame::ConnectionEstablished { .. }) => {}
            Err(error) => tracing::warn!(%error, "skipped a malformed Pusher frame"),
        }
        Step::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SessionConfig {
        SessionConfig::new("ws://x".into(), "http://x".into(), "s".into())
    }

    #[test]
    fn close_code_ranges_decide_the_delay() {
        let config = config();
        let closed = |code| Ended::Closed {
            code,
            reason: String::new(),
        };
        assert_eq!(
            retry_after(&closed(4001), 1, &config).0,
            Duration::from_secs(600)
        );
        assert_eq!(
            retry_after(&closed(4099), 1, &config).0,
            Duration::from_secs(600)
        );
        for failures in 1..8 {
            let (delay, _) = retry_after(&closed(4100), failures, &config);
            assert!(delay >= Duration::from_secs(1), "{delay:?}");
        }
        assert!(retry_after(&closed(4100), 8, &config).0 >= Duration::from_secs(30));
        assert_eq!(retry_after(&closed(4200), 1, &config).0, Duration::ZERO);
        assert_eq!(retry_after(&closed(4299), 1, &config).0, Duration::ZERO);
        // Closed again before ever being connected: backing off after all.
        assert!(retry_after(&closed(4200), 3, &config).0 >= Duration::from_secs(1));
        let lost = retry_after(&Ended::Lost("x".into()), 1, &config).0;
        assert!(lost >= Duration::from_millis(250) && lost < Duration::from_millis(500));
        let capped = retry_after(&Ended::Lost("x".into()), 30, &config).0;
        assert!(capped <= Duration::from_secs(60));
    }
}
