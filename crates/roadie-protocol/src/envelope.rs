//! The event envelope sent one per WebSocket frame and stored in the event log:
//! `{"v":1,"id":"01JD...","at":"...","platform":"twitch","type":"chat.message","data":{}}`.

use crate::timefmt;
use roadie_core::{EventKind, User};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

/// The envelope format version, `v` on the wire.
pub const ENVELOPE_VERSION: u32 = 1;

/// One event as clients receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventEnvelope {
    /// Envelope format version (1).
    pub v: u32,
    /// Unique, sortable id (ULID); pass it as `since` to resume.
    pub id: String,
    /// When it happened, RFC 3339 UTC.
    pub at: String,
    /// `twitch`, `kick`, `youtube` or `roadie`.
    pub platform: String,
    /// The event type, e.g. `chat.message`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Type-specific fields (see docs/events.md).
    #[schema(value_type = Object)]
    pub data: Value,
}

/// Builds the envelope's JSON text from stored parts without re-parsing `data_json`.
///
/// `data_json` must be a JSON value produced by [`event_data`]; ids, platform and type
/// names are plain ASCII without characters that need escaping.
pub fn envelope_json(id: &str, at_ms: i64, platform: &str, kind: &str, data_json: &str) -> String {
    // The fixed text and the timestamp take 101 bytes: sized once, never grown.
    let mut out =
        String::with_capacity(112 + id.len() + platform.len() + kind.len() + data_json.len());
    out.push_str("{\"v\":1,\"id\":\"");
    out.push_str(id);
    out.push_str("\",\"at\":\"");
    timefmt::push_ms(&mut out, at_ms);
    out.push_str("\",\"platform\":");
    push_json_string(&mut out, platform);
    out.push_str(",\"type\":");
    push_json_string(&mut out, kind);
    out.push_str(",\"data\":");
    out.push_str(data_json);
    out.push('}');
    out
}

fn push_json_string(out: &mut String, text: &str) {
    let plain = text
        .bytes()
        .all(|byte| byte >= 0x20 && byte != b'"' && byte != b'\\');
    if plain {
        out.push('"');
        out.push_str(text);
        out.push('"');
        return;
    }
    // serde_json escapes correctly; the fallback is unreachable for &str.
    out.push_str(&serde_json::to_string(text).unwrap_or_else(|_| String::from("\"\"")));
}

fn user_value(user: &User) -> Value {
    let roles: Vec<&str> = user.roles.iter().map(|role| role.as_str()).collect();
    json!({"id": user.id, "login": user.login, "name": user.name, "roles": roles})
}

fn optional_user(user: Option<&User>) -> Value {
    user.map(user_value).unwrap_or(Value::Null)
}

/// The `data` object as JSON text. Custom events are written straight from their
/// payload (no copy of it); everything else goes through [`event_data`].
pub fn event_data_json(kind: &EventKind) -> String {
    #[derive(Serialize)]
    struct CustomData<'a> {
        name: &'a str,
        data: &'a Value,
    }
    /// A chat message's `data`, serialised straight from the event: chat is most of
    /// the traffic, and building a `Value` first costs more than the rest of the path.
    #[derive(Serialize)]
    struct ChatData<'a> {
        message_id: &'a str,
        user: UserData<'a>,
        text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        reply_to: Option<&'a str>,
    }
    match kind {
        EventKind::Custom { name, data } => serde_json::to_string(&CustomData { name, data })
            .unwrap_or_else(|_| event_data(kind).to_string()),
        EventKind::ChatMessage {
            message_id,
            user,
            text,
            reply_to,
        } => {
            // Sized up front: growing the buffer (realloc and copy) cost as much as
            // writing it. Keys and punctuation take under 100 bytes, roles under 16
            // each; the rest leaves room for escapes.
            let capacity = 128
                + message_id.len()
                + user.id.len()
                + user.login.len()
                + user.name.len()
                + 16 * user.roles.len()
                + text.len() * 5 / 4
                + reply_to.as_ref().map_or(0, |id| id.len() + 16);
            let mut out = Vec::with_capacity(capacity);
            let data = ChatData {
                message_id,
                user: UserData::of(user),
                text,
                reply_to: reply_to.as_deref(),
            };
            match serde_json::to_writer(&mut out, &data).map(|()| String::from_utf8(out)) {
                Ok(Ok(json)) => json,
                _ => event_data(kind).to_string(),
            }
        }
        other => event_data(other).to_string(),
    }
}

/// A user as `data` shows one, borrowed for direct serialisation.
#[derive(Serialize)]
struct UserData<'a> {
    id: &'a str,
    login: &'a str,
    name: &'a str,
    roles: RoleNames<'a>,
}

impl<'a> UserData<'a> {
    fn of(user: &'a User) -> UserData<'a> {
        UserData {
            id: &user.id,
            login: &user.login,
            name: &user.name,
            roles: RoleNames(&user.roles),
        }
    }
}

struct RoleNames<'a>(&'a [roadie_core::Role]);

impl Serialize for RoleNames<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|role| role.as_str()))
    }
}

/// The `data` object for an event, with the fields the SPEC's table lists.
pub fn event_data(kind: &EventKind) -> Value {
    match kind {
        EventKind::ChatMessage {
            message_id,
            user,
            text,
            reply_to,
        } => {
            let mut data = Map::new();
            data.insert("message_id".into(), json!(message_id));
            data.insert("user".into(), user_value(user));
            data.insert("text".into(), json!(text));
            if let Some(parent) = reply_to {
                data.insert("reply_to".into(), json!(parent));
            }
            Value::Object(data)
        }
        EventKind::ChatDeleted { message_id } => json!({"message_id": message_id}),
        EventKind::UserBanned { user, until } => json!({
            "user": user_value(user),
            "until": until.map(|moment| timefmt::format_ms(moment.unix_ms())),
        }),
        EventKind::Follow { user } => json!({"user": user_value(user)}),
        EventKind::Subscription {
            user,
            tier,
            months,
            message,
        } => json!({
            "user": user_value(user), "tier": tier, "months": months, "message": message,
        }),
        EventKind::SubscriptionGift {
            gifter,
            count,
            tier,
        } => json!({
            "gifter": optional_user(gifter.as_ref()), "count": count, "tier": tier,
        }),
        EventKind::Cheer {
            user,
            amount,
            unit,
            message,
        } => json!({
            "user": optional_user(user.as_ref()), "amount": amount,
            "unit": unit.as_str(), "message": message,
        }),
        EventKind::Tip {
            user,
            amount,
            currency,
            message,
        } => json!({
            "user": user_value(user), "amount": amount, "currency": currency, "message": message,
        }),
        EventKind::Raid { from, viewers } => json!({"from": user_value(from), "viewers": viewers}),
        EventKind::Redemption {
            redemption_id,
            user,
            reward,
            input,
            status,
        } => json!({
            "redemption_id": redemption_id,
            "user": user_value(user),
            "reward": {"id": reward.id, "title": reward.title, "cost": reward.cost},
            "input": input,
            "status": status.as_str(),
        }),
        EventKind::StreamOnline { title, category }
        | EventKind::StreamOffline { title, category }
        | EventKind::StreamUpdated { title, category } => {
            json!({"title": title, "category": category})
        }
        EventKind::Viewers { count } => json!({"count": count}),
        EventKind::PlatformStatus { state, detail } => {
            json!({"state": state.as_str(), "detail": detail})
        }
        EventKind::CommandRan {
            command,
            user,
            reply,
            count,
        } => json!({
            "command": command, "user": user_value(user), "reply": reply, "count": count,
        }),
        EventKind::PointsChanged {
            user,
            delta,
            balance,
            reason,
        } => json!({
            "user": user_value(user), "delta": delta, "balance": balance, "reason": reason,
        }),
        EventKind::ActionRan {
            action,
            trigger,
            user,
            ok,
            steps,
        } => {
            let steps: Vec<Value> = steps
                .iter()
                .map(|step| {
                    json!({
                        "index": step.index, "kind": step.kind, "ok": step.error.is_none(),
                        "error": step.error, "elapsed_ms": step.elapsed_ms,
                    })
                })
                .collect();
            json!({
                "action": action, "trigger": trigger, "user": optional_user(user.as_ref()),
                "ok": ok, "steps": steps,
            })
        }
        EventKind::Obs { data, .. } | EventKind::Tts { data, .. } => data.clone(),
        EventKind::Custom { name, data } => json!({"name": name, "data": data}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_data_serialised_directly_equals_the_value_form() {
        for reply_to in [None, Some("parent-1".to_owned())] {
            let kind = EventKind::ChatMessage {
                message_id: "m1".into(),
                user: alice(),
                text: "hi \"there\" \u{1F600}".into(),
                reply_to,
            };
            let direct: Value = serde_json::from_str(&event_data_json(&kind)).unwrap();
            assert_eq!(direct, event_data(&kind));
        }
    }
    use roadie_core::{CheerUnit, Role};

    fn alice() -> User {
        User {
            id: "1".into(),
            login: "alice".into(),
            name: "Alice".into(),
            roles: vec![Role::Moderator],
        }
    }

    #[test]
    fn envelope_text_escapes_odd_names() {
        let text = envelope_json("01JD0000000000000000000000", 0, "tw\"itch", "a\\b\n", "{}");
        let parsed: EventEnvelope = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (parsed.platform.as_str(), parsed.kind.as_str()),
            ("tw\"itch", "a\\b\n")
        );
        assert_eq!(parsed.at, "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn envelope_text_parses_back() {
        let data = event_data(&EventKind::ChatMessage {
            message_id: "m1".into(),
            user: alice(),
            text: "hi \"there\"".into(),
            reply_to: None,
        });
        let text = envelope_json(
            "01JD0000000000000000000000",
            1_764_151_200_123,
            "twitch",
            "chat.message",
            &data.to_string(),
        );
        let parsed: EventEnvelope = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.v, 1);
        assert_eq!(parsed.at, "2025-11-26T10:00:00.123Z");
        assert_eq!(parsed.kind, "chat.message");
        assert_eq!(parsed.data["user"]["roles"], json!(["moderator"]));
        assert_eq!(parsed.data["text"], "hi \"there\"");
        assert!(parsed.data.get("reply_to").is_none());
    }

    #[test]
    fn custom_data_text_matches_the_value_form() {
        let kind = EventKind::Custom {
            name: "n".into(),
            data: json!({"b": [1, 2], "a": null}),
        };
        let text: Value = serde_json::from_str(&event_data_json(&kind)).unwrap();
        assert_eq!(text, event_data(&kind));
    }

    #[test]
    fn anonymous_cheer_has_null_user() {
        let data = event_data(&EventKind::Cheer {
            user: None,
            amount: 100,
            unit: CheerUnit::Kicks,
            message: None,
        });
        assert_eq!(
            data,
            json!({"user": null, "amount": 100, "unit": "kicks", "message": null})
        );
    }
}
