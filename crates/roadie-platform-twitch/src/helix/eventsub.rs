//! Creating EventSub subscriptions for a WebSocket session (`POST
//! /eventsub/subscriptions`), with the condition each type needs.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};

use super::{Helix, HelixError};
use crate::eventsub::SUBSCRIPTION_TYPES;
use crate::eventsub::session::{BoxFuture, SubscriptionCreator};

/// The condition for `kind` on `broadcaster_id`'s channel, read by `user_id` (the
/// signed-in account, which is the broadcaster or one of their moderators).
pub fn condition_for(kind: &str, broadcaster_id: &str, user_id: &str) -> Value {
    match kind {
        "channel.chat.message" | "channel.chat.message_delete" | "channel.chat.notification" => {
            json!({"broadcaster_user_id": broadcaster_id, "user_id": user_id})
        }
        "channel.follow" => {
            json!({"broadcaster_user_id": broadcaster_id, "moderator_user_id": user_id})
        }
        "channel.raid" => json!({"to_broadcaster_user_id": broadcaster_id}),
        _ => json!({"broadcaster_user_id": broadcaster_id}),
    }
}

impl Helix {
    /// Subscribes `kind` (at `version`) on a WebSocket session.
    pub async fn create_eventsub_subscription(
        &self,
        kind: &str,
        version: &str,
        condition: Value,
        session_id: &str,
    ) -> Result<(), HelixError> {
        let body = json!({
            "type": kind,
            "version": version,
            "condition": condition,
            "transport": {"method": "websocket", "session_id": session_id},
        });
        self.call(Method::POST, "/eventsub/subscriptions", &[], Some(&body))
            .await
            .map(|_| ())
    }
}

/// Subscribes every type Roadie uses. A type refused for a missing scope (403) is
/// skipped with a warning: its events are then taken from chat notices where
/// possible. Any other failure fails the session, which is retried.
#[derive(Debug, Clone)]
pub struct HelixSubscriptionCreator {
    /// The Helix client.
    pub helix: Arc<Helix>,
    /// The channel.
    pub broadcaster_id: String,
    /// The signed-in user.
    pub user_id: String,
}

impl SubscriptionCreator for HelixSubscriptionCreator {
    fn create(&self, session_id: &str) -> BoxFuture<'_, Result<Vec<String>, String>> {
        let session_id = session_id.to_owned();
        Box::pin(async move {
            let mut active = Vec::new();
            for (kind, version) in SUBSCRIPTION_TYPES {
                let condition = condition_for(kind, &self.broadcaster_id, &self.user_id);
                match self
                    .helix
                    .create_eventsub_subscription(kind, version, condition, &session_id)
                    .await
                {
                    Ok(()) => active.push((*kind).to_owned()),
                    Err(HelixError::Api {
                        status: 403,
                        message,
                    }) => {
                        tracing::warn!(kind, %message, "not subscribed: the token lacks a scope for it");
                    }
                    // Already subscribed on this session (a retried create).
                    Err(HelixError::Api { status: 409, .. }) => active.push((*kind).to_owned()),
                    Err(error) => return Err(format!("{kind}: {error}")),
                }
            }
            Ok(active)
        })
    }
}
