//! Decoding EventSub WebSocket frames: `{"metadata":{...},"payload":{...}}`.
//! Pure: text in, a typed frame out; the event body stays raw JSON until the
//! normaliser reads it with the type that fits its subscription.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// Every frame's `metadata`. Its strings borrow from the frame's text (no copy per
/// notification) unless they hold JSON escapes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Metadata<'a> {
    /// Unique per message; a redelivery keeps it.
    #[serde(borrow)]
    pub message_id: Cow<'a, str>,
    /// `session_welcome`, `session_keepalive`, `notification`, `session_reconnect`, `revocation`.
    #[serde(borrow)]
    pub message_type: Cow<'a, str>,
    /// RFC 3339 with nanoseconds.
    #[serde(borrow)]
    pub message_timestamp: Cow<'a, str>,
    /// For notifications and revocations.
    #[serde(default, borrow)]
    pub subscription_type: Option<Cow<'a, str>>,
    /// For notifications and revocations.
    #[serde(default, borrow)]
    pub subscription_version: Option<Cow<'a, str>>,
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

/// `payload.subscription` of notifications and revocations, borrowing like [`Metadata`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SubscriptionInfo<'a> {
    /// The subscription's id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// Its type, e.g. `channel.follow`.
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// Its version, e.g. `2`.
    #[serde(borrow)]
    pub version: Cow<'a, str>,
    /// `enabled`, or why it was revoked.
    #[serde(borrow)]
    pub status: Cow<'a, str>,
}

/// A decoded frame.
#[derive(Debug)]
pub enum Frame<'a> {
    /// The session is open; subscribe within the keepalive window.
    Welcome {
        /// The frame's metadata.
        metadata: Metadata<'a>,
        /// The session.
        session: Session,
    },
    /// Nothing happened; the connection is alive.
    Keepalive {
        /// The frame's metadata.
        metadata: Metadata<'a>,
    },
    /// An event.
    Notification {
        /// The frame's metadata.
        metadata: Metadata<'a>,
        /// Which subscription it belongs to.
        subscription: SubscriptionInfo<'a>,
        /// The event body, decoded by the normaliser.
        event: &'a RawValue,
    },
    /// Move to `session.reconnect_url`; subscriptions carry over.
    Reconnect {
        /// The frame's metadata.
        metadata: Metadata<'a>,
        /// The session, with the reconnect URL.
        session: Session,
    },
    /// Twitch revoked a subscription.
    Revocation {
        /// The frame's metadata.
        metadata: Metadata<'a>,
        /// The revoked subscription and why.
        subscription: SubscriptionInfo<'a>,
    },
    /// A message type this build does not know; ignored.
    Other {
        /// The frame's metadata.
        metadata: Metadata<'a>,
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
    #[serde(borrow)]
    metadata: Metadata<'a>,
    #[serde(default)]
    #[serde(borrow)]
    payload: Option<RawPayload<'a>>,
}

#[derive(Deserialize, Default)]
struct RawPayload<'a> {
    #[serde(default)]
    session: Option<Session>,
    #[serde(default, borrow)]
    subscription: Option<SubscriptionInfo<'a>>,
    #[serde(default)]
    #[serde(borrow)]
    event: Option<&'a RawValue>,
}

/// The one-pass path for `channel.chat.message` notifications, most of the traffic:
/// metadata, then the event body read by `seed` as it is scanned, instead of keeping
/// the body raw and parsing it again. `None` whenever the frame is anything else or
/// not laid out as Twitch sends it (`metadata` first); [`parse_frame`] then decides,
/// with its precise errors.
pub fn parse_chat_fast<'a, S>(text: &'a str, seed: S) -> Option<(Metadata<'a>, S::Value)>
where
    S: DeserializeSeed<'a>,
{
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = deserializer
        .deserialize_map(ChatFrameVisitor { seed })
        .ok()?;
    deserializer.end().ok()?;
    parsed
}

struct ChatFrameVisitor<S> {
    seed: S,
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for ChatFrameVisitor<S> {
    type Value = Option<(Metadata<'de>, S::Value)>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an EventSub frame")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if map.next_key::<Cow<'de, str>>()?.as_deref() != Some("metadata") {
            return Ok(None);
        }
        let metadata: Metadata<'de> = map.next_value()?;
        if metadata.message_type != "notification"
            || metadata.subscription_type.as_deref() != Some("channel.chat.message")
        {
            return Ok(None);
        }
        let mut event = None;
        let mut seed = Some(self.seed);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match (key.as_ref(), seed.take()) {
                ("payload", Some(seed)) => {
                    event = map.next_value_seed(PayloadSeed { seed })?;
                }
                (_, unused) => {
                    seed = unused;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(event.map(|event| (metadata, event)))
    }
}

struct PayloadSeed<S> {
    seed: S,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for PayloadSeed<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for PayloadSeed<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an EventSub payload")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut event = None;
        let mut seed = Some(self.seed);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match (key.as_ref(), seed.take()) {
                ("event", Some(seed)) => event = Some(map.next_value_seed(seed)?),
                (_, unused) => {
                    seed = unused;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(event)
    }
}

/// Decodes one WebSocket text frame.
pub fn parse_frame(text: &str) -> Result<Frame<'_>, FrameError> {
    let raw: RawFrame =
        serde_json::from_str(text).map_err(|error| FrameError::Malformed(error.to_string()))?;
    let metadata = raw.metadata;
    let payload = raw.payload.unwrap_or_default();
    let missing = |field| FrameError::Missing {
        message_type: metadata.message_type.clone().into_owned(),
        field,
    };
    Ok(match metadata.message_type.as_ref() {
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
            let _ = parse_chat_fast(&text, std::marker::PhantomData::<serde::de::IgnoredAny>);
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
