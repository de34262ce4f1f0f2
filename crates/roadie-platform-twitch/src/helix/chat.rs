//! `POST /chat/messages`: a message Twitch accepts but does not send (`is_sent:
//! false`) is an error carrying Twitch's drop reason.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::{DataList, Helix, HelixError};

/// A sent chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// Twitch's id of the message.
    pub message_id: String,
}

#[derive(Deserialize)]
struct DropReason {
    code: String,
    message: String,
}

#[derive(Deserialize)]
struct SendResult {
    #[serde(default)]
    message_id: String,
    is_sent: bool,
    #[serde(default)]
    drop_reason: Option<DropReason>,
}

impl Helix {
    /// Sends `text` to `broadcaster_id`'s chat as `sender_id`.
    pub async fn send_chat_message(
        &self,
        broadcaster_id: &str,
        sender_id: &str,
        text: &str,
        reply_to: Option<&str>,
    ) -> Result<SentMessage, HelixError> {
        let mut body =
            json!({"broadcaster_id": broadcaster_id, "sender_id": sender_id, "message": text});
        if let Some(parent) = reply_to {
            body["reply_parent_message_id"] = json!(parent);
        }
        let (_, answer) = self
            .call(Method::POST, "/chat/messages", &[], Some(&body))
            .await?;
        let parsed: DataList<SendResult> = serde_json::from_slice(&answer)
            .map_err(|error| HelixError::Malformed(format!("/chat/messages: {error}")))?;
        let result = parsed
            .data
            .into_iter()
            .next()
            .ok_or_else(|| HelixError::Malformed("/chat/messages returned no result".into()))?;
        if result.is_sent {
            return Ok(SentMessage {
                message_id: result.message_id,
            });
        }
        let reason = result.drop_reason.unwrap_or(DropReason {
            code: "unknown".into(),
            message: "Twitch did not say why".into(),
        });
        Err(HelixError::Dropped {
            code: reason.code,
            message: reason.message,
        })
    }
}
