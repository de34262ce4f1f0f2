//! Pusher protocol 7 frames as Kick's feed sends them: `{"event", "data", "channel"?}`
//! where `data` is usually a JSON *string* holding JSON (double-encoded), sometimes an
//! object (`pusher:error`, pings from some servers).

use serde::Deserialize;
use serde_json::Value;

/// One frame from the server.
#[derive(Debug, Clone, PartialEq)]
pub enum PusherFrame {
    /// The first frame: the socket id and the idle time after which to ping.
    ConnectionEstablished {
        /// The socket id.
        socket_id: String,
        /// Seconds of silence after which the client sends `pusher:ping`.
        activity_timeout: Option<u64>,
    },
    /// A subscription was accepted.
    SubscriptionSucceeded {
        /// The channel name.
        channel: String,
    },
    /// The server checks the client is alive: answer `pusher:pong`.
    Ping,
    /// The answer to the client's `pusher:ping`.
    Pong,
    /// A protocol error, with Pusher's code (4000–4299 carry reconnect advice).
    Error {
        /// The code, when given.
        code: Option<u16>,
        /// The message.
        message: String,
    },
    /// An application event on a channel, `data` decoded.
    Event {
        /// The event name as sent (may carry Kick's `App\Events\` prefix).
        event: String,
        /// The channel it came on.
        channel: Option<String>,
        /// The payload, decoded from its string form.
        data: Value,
    },
}

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Not JSON, or not an object with an `event`.
    #[error("not a Pusher frame: {0}")]
    NotAFrame(String),
}

#[derive(Deserialize)]
struct RawFrame {
    event: String,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    channel: Option<String>,
}

/// `data` decoded: a string holding JSON becomes that JSON; anything else is kept.
pub fn decode_data(data: Value) -> Value {
    match data {
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        other => other,
    }
}

/// Reads one text frame.
pub fn parse_frame(text: &str) -> Result<PusherFrame, FrameError> {
    let raw: RawFrame = serde_json::from_str(text)
        .map_err(|error| FrameError::NotAFrame(error.classify_name().to_owned()))?;
    let data = decode_data(raw.data);
    Ok(match raw.event.as_str() {
        "pusher:connection_established" => PusherFrame::ConnectionEstablished {
            socket_id: data
                .get("socket_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            activity_timeout: data.get("activity_timeout").and_then(Value::as_u64),
        },
        "pusher_internal:subscription_succeeded" => PusherFrame::SubscriptionSucceeded {
            channel: raw.channel.unwrap_or_default(),
        },
        "pusher:ping" => PusherFrame::Ping,
        "pusher:pong" => PusherFrame::Pong,
        "pusher:error" => PusherFrame::Error {
            code: data
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|code| u16::try_from(code).ok()),
            message: data
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        },
        _ => PusherFrame::Event {
            event: raw.event,
            channel: raw.channel,
            data,
        },
    })
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "missing or wrong fields",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}

/// The client's `pusher:subscribe` for a public channel.
pub fn subscribe_frame(channel: &str) -> String {
    serde_json::json!({"event": "pusher:subscribe", "data": {"auth": "", "channel": channel}})
        .to_string()
}

/// The client's keep-alive probe.
pub const PING_FRAME: &str = r#"{"event":"pusher:ping","data":{}}"#;
/// The client's answer to a server ping.
pub const PONG_FRAME: &str = r#"{"event":"pusher:pong","data":{}}"#;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn errors_pings_and_subscriptions() {
        assert_eq!(
            parse_frame(r#"{"event":"pusher:error","data":{"code":4201,"message":"Pong reply not received"}}"#).unwrap(),
            PusherFrame::Error { code: Some(4201), message: "Pong reply not received".into() }
        );
        assert_eq!(
            parse_frame(r#"{"event":"pusher:ping","data":{}}"#).unwrap(),
            PusherFrame::Ping
        );
        assert_eq!(
            parse_frame(r#"{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"chatrooms.1.v2"}"#).unwrap(),
            PusherFrame::SubscriptionSucceeded { channel: "chatrooms.1.v2".into() }
        );
        assert!(parse_frame("[1]").is_err());
        assert!(parse_frame(r#"{"data":"{}"}"#).is_err());
    }

    #[test]
    fn undecodable_data_is_kept_as_a_string() {
        match parse_frame(r#"{"event":"X","data":"not json","channel":"c"}"#).unwrap() {
            PusherFrame::Event { data, .. } => assert_eq!(data, Value::String("not json".into())),
            other => panic!("{other:?}"),
        }
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,300}") {
            let _ = parse_frame(&text);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_frame(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn frame_like_text_never_panics(event in "(pusher:[a-z_]{0,12}|App\\\\Events\\\\[A-Za-z]{0,20}|[A-Za-z]{0,12})", data in ".{0,120}", channel in "[a-z0-9._]{0,20}") {
            let frame = serde_json::json!({"event": event, "data": data, "channel": channel}).to_string();
            if let Ok(PusherFrame::Event { event, data, .. }) = parse_frame(&frame) {
                let _ = crate::normalise::pusher_event(&event, &data);
            }
        }
    }
}
