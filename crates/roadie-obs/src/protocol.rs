//! The obs-websocket 5.x wire protocol: opcodes, close codes, event-subscription bits,
//! the parser of server frames, the client's frames and the authentication string.
//!
//! Parsing never panics: anything that is not a well-formed frame is a [`FrameError`].

use base64ct::{Base64, Encoding};
use roadie_core::Secret;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The RPC version Roadie speaks.
pub const RPC_VERSION: u32 = 1;

/// The WebSocket subprotocol of JSON frames (the server's default).
pub const SUBPROTOCOL: &str = "obswebsocket.json";

/// Opcodes (`op`).
pub mod op {
    /// Server → client, first message.
    pub const HELLO: u64 = 0;
    /// Client → server, answer to Hello.
    pub const IDENTIFY: u64 = 1;
    /// Server → client, the session is ready.
    pub const IDENTIFIED: u64 = 2;
    /// Client → server, change session parameters.
    pub const REIDENTIFY: u64 = 3;
    /// Server → client, an event.
    pub const EVENT: u64 = 5;
    /// Client → server, a request.
    pub const REQUEST: u64 = 6;
    /// Server → client, the answer to a request.
    pub const REQUEST_RESPONSE: u64 = 7;
    /// Client → server, several requests.
    pub const REQUEST_BATCH: u64 = 8;
    /// Server → client, the answer to a batch.
    pub const REQUEST_BATCH_RESPONSE: u64 = 9;
}

/// WebSocket close codes the server uses.
pub mod close {
    /// Unknown reason.
    pub const UNKNOWN_REASON: u16 = 4000;
    /// A frame could not be decoded.
    pub const MESSAGE_DECODE_ERROR: u16 = 4002;
    /// A required field is missing.
    pub const MISSING_DATA_FIELD: u16 = 4003;
    /// A field has the wrong type.
    pub const INVALID_DATA_FIELD_TYPE: u16 = 4004;
    /// A field has an invalid value.
    pub const INVALID_DATA_FIELD_VALUE: u16 = 4005;
    /// Unknown opcode.
    pub const UNKNOWN_OP_CODE: u16 = 4006;
    /// Something other than Identify was sent before Identified.
    pub const NOT_IDENTIFIED: u16 = 4007;
    /// Identify was sent twice.
    pub const ALREADY_IDENTIFIED: u16 = 4008;
    /// The authentication string was wrong (or missing).
    pub const AUTHENTICATION_FAILED: u16 = 4009;
    /// The RPC version is not supported.
    pub const UNSUPPORTED_RPC_VERSION: u16 = 4010;
    /// The session was invalidated (kicked) by the user.
    pub const SESSION_INVALIDATED: u16 = 4011;
    /// A feature is not supported.
    pub const UNSUPPORTED_FEATURE: u16 = 4012;
}

/// `eventSubscriptions` bits.
pub mod subscription {
    /// General events.
    pub const GENERAL: u32 = 1 << 0;
    /// Config events (profiles, scene collections).
    pub const CONFIG: u32 = 1 << 1;
    /// Scene events.
    pub const SCENES: u32 = 1 << 2;
    /// Input events.
    pub const INPUTS: u32 = 1 << 3;
    /// Transition events.
    pub const TRANSITIONS: u32 = 1 << 4;
    /// Filter events.
    pub const FILTERS: u32 = 1 << 5;
    /// Output events (stream, record).
    pub const OUTPUTS: u32 = 1 << 6;
    /// Scene item events.
    pub const SCENE_ITEMS: u32 = 1 << 7;
    /// Media input events.
    pub const MEDIA_INPUTS: u32 = 1 << 8;
    /// Vendor events.
    pub const VENDORS: u32 = 1 << 9;
    /// UI events.
    pub const UI: u32 = 1 << 10;
    /// What Roadie subscribes to: General, Config, Scenes, Inputs, Outputs, SceneItems
    /// and MediaInputs (463). No high-volume category.
    pub const ROADIE: u32 =
        GENERAL | CONFIG | SCENES | INPUTS | OUTPUTS | SCENE_ITEMS | MEDIA_INPUTS;
}

/// `requestStatus.code` of success.
pub const STATUS_SUCCESS: u32 = 100;

/// The authentication challenge of a Hello.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuthChallenge {
    /// Sent back hashed with the secret.
    pub challenge: String,
    /// Hashed with the password into the secret.
    pub salt: String,
}

/// Hello (op 0).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    /// OBS Studio's version (absent from very old servers: empty then).
    #[serde(default)]
    pub obs_studio_version: String,
    /// obs-websocket's version.
    pub obs_web_socket_version: String,
    /// The newest RPC version the server speaks.
    pub rpc_version: u32,
    /// Present when the server requires a password.
    #[serde(default)]
    pub authentication: Option<AuthChallenge>,
}

/// `requestStatus` of a RequestResponse.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RequestStatus {
    /// Whether the request succeeded.
    pub result: bool,
    /// The status code (100 is success).
    pub code: u32,
    /// The server's explanation of a failure.
    #[serde(default)]
    pub comment: Option<String>,
}

/// RequestResponse (op 7).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestResponse {
    /// The request's type, echoed.
    pub request_type: String,
    /// The request's id, echoed.
    pub request_id: String,
    /// Success or failure.
    pub request_status: RequestStatus,
    /// The response's data (`Null` when there is none).
    #[serde(default)]
    pub response_data: Value,
}

/// Event (op 5), before normalisation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawEvent {
    /// The event's type, e.g. `CurrentProgramSceneChanged`.
    pub event_type: String,
    /// The subscription bit the event belongs to.
    #[serde(default)]
    pub event_intent: u64,
    /// The event's data (`Null` when there is none).
    #[serde(default)]
    pub event_data: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentifiedData {
    negotiated_rpc_version: u32,
}

/// A frame the server sent.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    /// op 0.
    Hello(Hello),
    /// op 2.
    Identified {
        /// The RPC version in use.
        negotiated_rpc_version: u32,
    },
    /// op 5.
    Event(RawEvent),
    /// op 7.
    RequestResponse(RequestResponse),
    /// Any other well-formed envelope (batch responses, client opcodes, unknown ones).
    Other {
        /// Its opcode.
        op: u64,
    },
}

/// Why a frame could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Not a JSON object with a numeric `op`.
    #[error("not an obs-websocket frame: {0}")]
    Envelope(String),
    /// The `d` object does not fit the opcode.
    #[error("bad data for op {op}: {detail}")]
    Data {
        /// The opcode.
        op: u64,
        /// What serde said.
        detail: String,
    },
}

#[derive(Deserialize)]
struct Envelope {
    op: u64,
    #[serde(default)]
    d: Value,
}

/// Parses one text frame from the server.
pub fn parse_server_frame(text: &str) -> Result<ServerFrame, FrameError> {
    let envelope: Envelope =
        serde_json::from_str(text).map_err(|error| FrameError::Envelope(error.to_string()))?;
    let op = envelope.op;
    let data_error = |error: serde_json::Error| FrameError::Data {
        op,
        detail: error.to_string(),
    };
    Ok(match op {
        op::HELLO => ServerFrame::Hello(serde_json::from_value(envelope.d).map_err(data_error)?),
        op::IDENTIFIED => {
            let data: IdentifiedData = serde_json::from_value(envelope.d).map_err(data_error)?;
            ServerFrame::Identified {
                negotiated_rpc_version: data.negotiated_rpc_version,
            }
        }
        op::EVENT => ServerFrame::Event(serde_json::from_value(envelope.d).map_err(data_error)?),
        op::REQUEST_RESPONSE => {
            ServerFrame::RequestResponse(serde_json::from_value(envelope.d).map_err(data_error)?)
        }
        other => ServerFrame::Other { op: other },
    })
}

/// `base64(sha256(base64(sha256(password + salt)) + challenge))`, the `authentication`
/// of Identify. The intermediate secret is wiped after use.
pub fn auth_string(password: &Secret, salt: &str, challenge: &str) -> Secret {
    let mut hasher = Sha256::new();
    hasher.update(password.expose_secret().as_bytes());
    hasher.update(salt.as_bytes());
    let digest: Zeroizing<[u8; 32]> = Zeroizing::new(hasher.finalize().into());
    let secret = Zeroizing::new(Base64::encode_string(digest.as_slice()));
    let mut hasher = Sha256::new();
    hasher.update(secret.as_bytes());
    hasher.update(challenge.as_bytes());
    Secret::new(Base64::encode_string(&hasher.finalize()))
}

/// Identify (op 1) with RPC version 1, the authentication string when the server asked
/// for one and the event subscriptions.
pub fn identify_frame(authentication: Option<&Secret>, event_subscriptions: u32) -> String {
    let mut data = json!({
        "rpcVersion": RPC_VERSION,
        "eventSubscriptions": event_subscriptions,
    });
    if let Some(authentication) = authentication {
        data["authentication"] = json!(authentication.expose_secret());
    }
    json!({ "op": op::IDENTIFY, "d": data }).to_string()
}

/// Request (op 6); `data` is left out when `None`.
pub fn request_frame(request_type: &str, request_id: &str, data: Option<&Value>) -> String {
    let mut d = json!({ "requestType": request_type, "requestId": request_id });
    if let Some(data) = data {
        d["requestData"] = data.clone();
    }
    json!({ "op": op::REQUEST, "d": d }).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn roadie_subscribes_to_463() {
        assert_eq!(subscription::ROADIE, 463);
    }

    #[test]
    fn parses_each_server_opcode() {
        let hello = parse_server_frame(
            r#"{"op":0,"d":{"obsStudioVersion":"30.2.2","obsWebSocketVersion":"5.5.2","rpcVersion":1,"authentication":{"challenge":"c","salt":"s"}}}"#,
        )
        .unwrap();
        let ServerFrame::Hello(hello) = hello else {
            panic!("not a hello: {hello:?}")
        };
        assert_eq!(hello.obs_studio_version, "30.2.2");
        assert_eq!(hello.authentication.unwrap().salt, "s");
        assert_eq!(
            parse_server_frame(r#"{"op":2,"d":{"negotiatedRpcVersion":1}}"#).unwrap(),
            ServerFrame::Identified {
                negotiated_rpc_version: 1
            }
        );
        let event =
            parse_server_frame(r#"{"op":5,"d":{"eventType":"ExitStarted","eventIntent":1}}"#)
                .unwrap();
        assert!(
            matches!(event, ServerFrame::Event(RawEvent { ref event_type, .. }) if event_type == "ExitStarted")
        );
        assert_eq!(
            parse_server_frame(r#"{"op":9,"d":{}}"#).unwrap(),
            ServerFrame::Other { op: 9 }
        );
    }

    #[test]
    fn rejects_malformed_frames() {
        for text in [
            "",
            "[]",
            "{}",
            r#"{"op":-1}"#,
            r#"{"op":"0"}"#,
            r#"{"op":0,"d":{}}"#,
            r#"{"op":7,"d":{"requestType":"X","requestId":"1","requestStatus":{"result":true}}}"#,
            r#"{"op":7,"d":{"requestType":"X","requestId":"1","requestStatus":{"result":true,"code":-4}}}"#,
            r#"{"op":2,"d":{"negotiatedRpcVersion":1e99}}"#,
        ] {
            assert!(parse_server_frame(text).is_err(), "accepted {text:?}");
        }
    }

    #[test]
    fn identify_carries_auth_only_when_given() {
        let without: Value = serde_json::from_str(&identify_frame(None, 463)).unwrap();
        assert_eq!(without["op"], 1);
        assert_eq!(without["d"]["rpcVersion"], 1);
        assert_eq!(without["d"]["eventSubscriptions"], 463);
        assert!(without["d"].get("authentication").is_none());
        let with: Value =
            serde_json::from_str(&identify_frame(Some(&Secret::new("abc=")), 463)).unwrap();
        assert_eq!(with["d"]["authentication"], "abc=");
    }

    fn json_value() -> impl Strategy<Value = Value> {
        crate::json_strategy::json_with_keys(
            &[
                "op",
                "d",
                "requestId",
                "requestType",
                "requestStatus",
                "eventType",
                "eventData",
                "result",
                "code",
            ],
            4,
        )
    }

    proptest! {
        #[test]
        fn random_text_never_panics(text in ".{0,200}") {
            let _ = parse_server_frame(&text);
        }

        #[test]
        fn random_json_never_panics(value in json_value()) {
            let _ = parse_server_frame(&value.to_string());
        }

        #[test]
        fn random_data_under_every_opcode_never_panics(op in 0u64..12, d in json_value()) {
            let _ = parse_server_frame(&json!({ "op": op, "d": d }).to_string());
        }

        #[test]
        fn well_formed_responses_round_trip(
            id in ".{0,20}",
            kind in "[A-Za-z]{1,20}",
            result in any::<bool>(),
            code in any::<u32>(),
            comment in proptest::option::of(".{0,20}"),
        ) {
            let mut status = json!({ "result": result, "code": code });
            if let Some(comment) = &comment {
                status["comment"] = json!(comment);
            }
            let text = json!({ "op": 7, "d": {
                "requestType": kind, "requestId": id, "requestStatus": status,
            }}).to_string();
            let ServerFrame::RequestResponse(response) = parse_server_frame(&text).unwrap() else {
                panic!("not a response");
            };
            prop_assert_eq!(response.request_id, id);
            prop_assert_eq!(response.request_status.code, code);
            prop_assert_eq!(response.request_status.comment, comment);
            prop_assert_eq!(response.response_data, Value::Null);
        }

        #[test]
        fn auth_string_never_panics(password in ".{0,40}", salt in ".{0,40}", challenge in ".{0,40}") {
            let first = auth_string(&Secret::new(password.clone()), &salt, &challenge);
            let again = auth_string(&Secret::new(password), &salt, &challenge);
            prop_assert_eq!(first.expose_secret().len(), 44);
            prop_assert_eq!(first, again);
        }
    }
}
