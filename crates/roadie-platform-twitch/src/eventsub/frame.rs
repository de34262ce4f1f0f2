//! Decoding EventSub WebSocket frames: `{"metadata":{...},"payload":{...}}`.
//! Pure: text in, a typed frame out; the event body stays raw JSON until the
//! normaliser reads it with the type that fits its subscription.

use serde::Deserialize;
use serde_json::value::RawValue;

/// Every frame's `metadata`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Metadata {
    /// Unique per message; a redelivery keeps it.
    pub message_id: String,
    /// `session_welcome`, `session_keepalive`, `notification`, `session_reconnect`, `revocation`.
    pub message_type: String,
    /// RFC 3339 with nanoseconds.
    pub message_timestamp: String,
    /// For notifications and revocations.
    #[serde(default)]
    pub subscription_type: Option<String>,
    /// For notifications and revocations.
    #[serde(default)]
    pub subscription_version: Option<String>,
}

/// `payload.session` of welcome and reconnect frames.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Session {
    /// The session id subscriptions are created for.
    pub id: String,
    /// `connected` or `reconnecting`.
    pub status: String,
    /// Seconds without any frame after which the connection is dead (welcome only).
    #[serde(default)]
    pub keepalive_timeout_seconds: Option<u64>,
    /// Where to reconnect (reconnect only); used as is.
    #[serde(default)]
    pub reconnect_url: Option<String>,
    /// When the session started.
    #[serde(default)]
    pub connected_at: Option<String>,
}

/// `payload.subscription` of notifications and revocations.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SubscriptionInfo {
    /// The subscription's id.
    pub id: String,
    /// Its type, e.g. `channel.follow`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its version, e.g. `2`.
    pub version: String,
    /// `enabled`, or why it was revoked.
    pub status: String,
}

/// A decoded frame.
#[derive(Debug)]
pub enum Frame<'a> {
    /// The session is open; subscribe within the keepalive window.
    Welcome {
        /// The frame's metadata.
        metadata: Metadata,
        /// The session.
        session: Session,
    },
    /// Nothing happened; the connection is alive.
    Keepalive {
        /// The frame's metadata.
        metadata: Metadata,
    },
    /// An event.
    Notification {
        /// The frame's metadata.
        metadata: Metadata,
        /// Which subscription it belongs to.
        subscription: SubscriptionInfo,
        /// The event body, decoded by the normaliser.
        event: &'a RawValue,
    },
    /// Move to `session.reconnect_url`; subscriptions carry over.
    Reconnect {
        /// The frame's metadata.
        metadata: Metadata,
        /// The session, with the reconnect URL.
        session: Session,
    },
    /// Twitch revoked a subscription.
    Revocation {
        /// The frame's metadata.
        metadata: Metadata,
        /// The revoked subscription and why.
        subscription: SubscriptionInfo,
    },
    /// A message type this build does not know; ignored.
    Other {
        /// The frame's metadata.
        metadata: Metadata,
    },
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Not JSON, or not the EventSub frame shape.
    #[error("malformed EventSub frame: {0}")]
    Malformed(String),
    /// A field the message type needs is missing.
    #[error("EventSub {message_type} frame without {field}")]
    Missing {
        /// The frame's message type.
        message_type: String,
        /// The missing field.
        field: &'static str,
    },
}

#[derive(Deserialize)]
struct RawFrame<'a> {
    metadata: Metadata,
    #[serde(default)]
    #[serde(borrow)]
    payload: Option<RawPayload<'a>>,
}

#[derive(Deserialize, Default)]
struct RawPayload<'a> {
    #[serde(default)]
    session: Option<Session>,
    #[serde(default)]
    subscription: Option<SubscriptionInfo>,
    #[serde(default)]
    #[serde(borrow)]
    event: Option<&'a RawValue>,
}

/// Decodes one WebSocket text frame.
pub fn parse_frame(text: &str) -> Result<Frame<'_>, FrameError> {
    let raw: RawFrame =
        serde_json::from_str(text).map_err(|error| FrameError::Malformed(error.to_string()))?;
    let metadata = raw.metadata;
    let payload = raw.payload.unwrap_or_default();
    let missing = |field| FrameError::Missing {
        message_type: metadata.message_type.clone(),
        field,
    };
    Ok(match metadata.message_type.as_str() {
        "session_welcome" => {
            let session = payload.session.ok_or_else(|| missing("payload.session"))?;
            Frame::Welcome { metadata, session }
        }
        "session_keepalive" => Frame::Keepalive { metadata },
        "notification" => {
            let subscription = payload
                .subscription
                .ok_or_else(|| missing("payload.subscription"))?;
            let event = payload.event.ok_or_else(|| missing("payload.event"))?;
            Frame::Notification {
                metadata,
                subscription,
                event,
            }
        }
        "session_reconnect" => {
            let session = payload.session.ok_or_else(|| missing("payload.session"))?;
            if session.reconnect_url.is_none() {
                return Err(missing("payload.session.reconnect_url"));
            }
            Frame::Reconnect { metadata, session }
        }
        "revocation" => {
            let subscription = payload
                .subscription
                .ok_or_else(|| missing("payload.subscription"))?;
            Frame::Revocation {
                metadata,
                subscription,
            }
        }
        _ => Frame::Other { metadata },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        assert!(matches!(
            parse_frame("not json"),
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(parse_frame("{}"), Err(FrameError::Malformed(_))));
        let no_session = r#"{"metadata":{"message_id":"1","message_type":"session_welcome","message_timestamp":"t"},"payload":{}}"#;
        assert!(matches!(
            parse_frame(no_session),
            Err(FrameError::Missing {
                field: "payload.session",
                ..
            })
        ));
        let unknown = r#"{"metadata":{"message_id":"1","message_type":"session_tea","message_timestamp":"t"},"payload":{}}"#;
        assert!(matches!(parse_frame(unknown), Ok(Frame::Other { .. })));
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = parse_frame(&text);
        }

        #[test]
        fn arbitrary_json_objects_never_panic(
            message_type in prop::sample::select(vec!["session_welcome", "session_keepalive", "notification", "session_reconnect", "revocation", "x"]),
            payload in prop::sample::select(vec!["{}", "null", "[]", r#"{"session":{"id":"a","status":"connected"}}"#, r#"{"subscription":{"id":"a","type":"t","version":"1","status":"enabled"},"event":1}"#]),
        ) {
            let text = format!(r#"{{"metadata":{{"message_id":"m","message_type":"{message_type}","message_timestamp":"t"}},"payload":{payload}}}"#);
            let _ = parse_frame(&text);
        }
    }
}
