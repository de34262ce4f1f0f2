//! Webhook event subscriptions (`/events/subscriptions`): Kick only sends an app's
//! webhooks for the events it subscribed to, so with `[kick] webhook = true` Roadie
//! makes sure every event it normalises is subscribed, creating only the missing ones
//! (subscriptions outlive the daemon, and Kick caps their number).
//!
//! Shapes: the list is `data[{id, app_id, broadcaster_user_id, event, method, version,
//! created_at, updated_at}]` (fixture `kick_api_post_events_subscriptions_response_item.json`,
//! KickLib's `EventSubscriptionResponse`); creating takes `{"broadcaster_user_id"?,
//! "events": [{"name", "version"}], "method": "webhook"}` and answers per event with
//! `data[{name, version, subscription_id, error}]` (KickLib's `SubscribeToEventResponse`;
//! errors such as "webhooks are not enabled for app").

use reqwest::Method;
use serde_json::{Value, json};

use crate::KickError;
use crate::api::KickApi;

/// The webhook events Roadie normalises, each at version 1.
pub const WEBHOOK_EVENTS: &[&str] = &[
    "chat.message.sent",
    "channel.followed",
    "channel.subscription.new",
    "channel.subscription.renewal",
    "channel.subscription.gifts",
    "channel.reward.redemption.updated",
    "livestream.status.updated",
    "livestream.metadata.updated",
    "moderation.banned",
    "kicks.gifted",
];

/// One existing subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Its id.
    pub id: String,
    /// The event name (`chat.message.sent`...).
    pub event: String,
    /// The event version.
    pub version: u64,
    /// `webhook`.
    pub method: String,
    /// The broadcaster it is for, when Kick says.
    pub broadcaster_user_id: Option<String>,
}

/// What Kick answered for one event asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribed {
    /// The event name.
    pub name: String,
    /// The new subscription's id, when it was created.
    pub subscription_id: Option<String>,
    /// Why it was not, when it was not.
    pub error: Option<String>,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(number) => Some(number.to_string()),
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        _ => None,
    }
}

fn data_items(body: &[u8], what: &str) -> Result<Vec<Value>, KickError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| KickError::Malformed(format!("the {what} answer is not JSON")))?;
    match value.get("data") {
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(Value::Null) | None => Ok(Vec::new()),
        Some(_) => Err(KickError::Malformed(format!(
            "the {what} answer's data is not a list"
        ))),
    }
}

/// Reads `GET /events/subscriptions`; items without an event name are skipped.
pub fn parse_subscriptions(body: &[u8]) -> Result<Vec<Subscription>, KickError> {
    Ok(data_items(body, "subscriptions")?
        .iter()
        .filter_map(|item| {
            Some(Subscription {
                id: text(item.get("id")).unwrap_or_default(),
                event: text(item.get("event"))?,
                version: item.get("version").and_then(Value::as_u64).unwrap_or(1),
                method: text(item.get("method")).unwrap_or_default(),
                broadcaster_user_id: text(item.get("broadcaster_user_id")),
            })
        })
        .collect())
}

/// Reads `POST /events/subscriptions`'s per-event answers.
pub fn parse_subscribed(body: &[u8]) -> Result<Vec<Subscribed>, KickError> {
    Ok(data_items(body, "subscribe")?
        .iter()
        .filter_map(|item| {
            Some(Subscribed {
                name: text(item.get("name"))?,
                subscription_id: text(item.get("subscription_id")),
                error: text(item.get("error")),
            })
        })
        .collect())
}

/// The events of [`WEBHOOK_EVENTS`] that `existing` lacks as version-1 webhooks for
/// `broadcaster` (a subscription that names no broadcaster counts for any).
pub fn missing_events(existing: &[Subscription], broadcaster: &str) -> Vec<&'static str> {
    WEBHOOK_EVENTS
        .iter()
        .copied()
        .filter(|event| {
            !existing.iter().any(|subscription| {
                subscription.event == *event
                    && subscription.version == 1
                    && subscription.method == "webhook"
                    && subscription
                        .broadcaster_user_id
                        .as_deref()
                        .is_none_or(|id| id == broadcaster)
            })
        })
        .collect()
}

impl KickApi {
    /// The app's event subscriptions for the signed-in account.
    pub async fn subscriptions(&self) -> Result<Vec<Subscription>, KickError> {
        let answer = self
            .request(Method::GET, "/events/subscriptions", &[], None)
            .await?;
        parse_subscriptions(&answer)
    }

    /// Subscribes `events` (version 1, by webhook) for `broadcaster_user_id`.
    pub async fn subscribe(
        &self,
        broadcaster_user_id: &str,
        events: &[&str],
    ) -> Result<Vec<Subscribed>, KickError> {
        // Kick's API takes the broadcaster id as a number.
        let broadcaster = broadcaster_user_id
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(broadcaster_user_id));
        let events: Vec<Value> = events
            .iter()
            .map(|name| json!({"name": name, "version": 1}))
            .collect();
        let body =
            json!({"broadcaster_user_id": broadcaster, "events": events, "method": "webhook"});
        let answer = self
            .request(Method::POST, "/events/subscriptions", &[], Some(&body))
            .await?;
        parse_subscribed(&answer)
    }

    /// Makes sure every event Roadie normalises is subscribed by webhook, creating only
    /// the missing ones. Returns the events Kick refused, with its reasons.
    pub async fn ensure_webhook_subscriptions(
        &self,
        broadcaster_user_id: &str,
    ) -> Result<Vec<(String, String)>, KickError> {
        let existing = self.subscriptions().await?;
        let missing = missing_events(&existing, broadcaster_user_id);
        if missing.is_empty() {
            return Ok(Vec::new());
        }
        let answers = self.subscribe(broadcaster_user_id, &missing).await?;
        let mut refused: Vec<(String, String)> = answers
            .into_iter()
            .filter_map(|answer| match (answer.subscription_id, answer.error) {
                (_, Some(error)) => Some((answer.name, error)),
                (None, None) => Some((answer.name, "no subscription id".into())),
                (Some(_), None) => None,
            })
            .collect();
        refused.sort();
        Ok(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTED: &str =
        include_str!("../tests/data/kick_api_post_events_subscriptions_response_item.json");

    #[test]
    fn the_listed_fixture_reads_and_counts_for_its_event() {
        let body = format!(r#"{{"data":[{LISTED}],"message":"OK"}}"#);
        let listed = parse_subscriptions(body.as_bytes()).unwrap();
        assert_eq!(
            listed,
            vec![Subscription {
                id: "text".into(),
                event: "chat.message.sent".into(),
                version: 1,
                method: "text".into(),
                broadcaster_user_id: Some("1".into()),
            }]
        );
        // Its method is a placeholder, so it is not a webhook: nothing counts yet.
        assert_eq!(missing_events(&listed, "1").len(), WEBHOOK_EVENTS.len());
        let mut webhook = listed[0].clone();
        webhook.method = "webhook".into();
        let missing = missing_events(std::slice::from_ref(&webhook), "1");
        assert!(!missing.contains(&"chat.message.sent"));
        assert_eq!(missing.len(), WEBHOOK_EVENTS.len() - 1);
        // Another broadcaster's subscription does not count for this one.
        assert_eq!(
            missing_events(std::slice::from_ref(&webhook), "2").len(),
            WEBHOOK_EVENTS.len()
        );
    }

    #[test]
    fn per_event_answers_keep_their_errors() {
        let body = br#"{"data":[{"name":"chat.message.sent","version":1,"subscription_id":"01J","error":null},
            {"name":"kicks.gifted","version":1,"subscription_id":null,"error":"webhooks are not enabled for app"}],"message":"OK"}"#;
        let answers = parse_subscribed(body).unwrap();
        assert_eq!(answers[0].subscription_id.as_deref(), Some("01J"));
        assert_eq!(answers[0].error, None);
        assert_eq!(
            answers[1].error.as_deref(),
            Some("webhooks are not enabled for app")
        );
        assert!(parse_subscribed(b"not json").is_err());
        assert!(parse_subscribed(br#"{"data":{}}"#).is_err());
        assert!(parse_subscriptions(br#"{"data":null}"#).unwrap().is_empty());
    }
}
