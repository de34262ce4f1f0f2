//! Kick's events, from either route, into core events with their de-duplication keys.
//!
//! The Pusher feed ([`pusher_event`]) and the webhooks ([`webhook_event`]) describe the
//! same occurrences in different shapes; both produce [`Normalised`] events here. The
//! payloads are read as loose JSON on purpose: Kick's unofficial feed changes shape
//! without notice, ids arrive as numbers or strings, and fields come and go (`identity`
//! omitted, anonymous gifters with `null` ids). A missing field that the SPEC event
//! cannot do without is an error for that one event; anything else is defaulted.
//!
//! Cross-route keys (see [`crate::dedup`]), chosen from what both routes carry:
//! - chat message: the message id (`chat:<id>`), the same on both routes;
//! - follow, subscription, gift, kicks: the user's name, lower-cased (the Pusher feed
//!   names these users only by username), plus the count or amount, within two minutes;
//! - ban: the banned user's id, within two minutes;
//! - redemption: `redemption:<id>:<status>` when the id is known, and for a new
//!   (pending) one also the redeemer's id with the reward title within two minutes (the
//!   Pusher feed has no redemption id);
//! - stream online/offline/updated: the type (and title/category), within two minutes.
//!
//! Kick has a single subscription level, so `tier` is always [`SUB_TIER`].

use serde_json::Value;

use roadie_core::{CheerUnit, EventKind, RedemptionStatus, Reward, Role, Timestamp, User};

use crate::dedup::DedupKey;

/// The `tier` of every Kick subscription (Kick has one level; the SPEC asks for the
/// level name).
pub const SUB_TIER: &str = "subscriber";

/// The prefix Kick puts before most Pusher event names.
pub const PUSHER_EVENT_PREFIX: &str = "App\\Events\\";

/// One normalised event with its de-duplication keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalised {
    /// What happened.
    pub kind: EventKind,
    /// When, if the payload says.
    pub at: Option<Timestamp>,
    /// What identifies the occurrence (empty: never a duplicate).
    pub keys: Vec<DedupKey>,
}

/// Why an event could not be normalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read a Kick {kind} event: {reason}")]
pub struct NormaliseError {
    /// The event name or webhook type.
    pub kind: String,
    /// What was wrong.
    pub reason: String,
}

fn missing(kind: &str, what: &str) -> NormaliseError {
    NormaliseError {
        kind: kind.to_owned(),
        reason: format!("{what} is missing"),
    }
}

/// An event name without Kick's `App\Events\` prefix (the feed sends both forms).
pub fn bare_event_name(name: &str) -> &str {
    name.strip_prefix(PUSHER_EVENT_PREFIX).unwrap_or(name)
}

/// An RFC 3339 time.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let moment =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(moment.unix_timestamp_nanos() / 1_000_000)
        .ok()
        .map(Timestamp)
}

/// A string or a number as text; `None` for null, empty or anything else.
fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A non-negative whole number, given as a number or a numeric string.
fn count_of(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(number) => number
            .as_u64()
            .or_else(|| number.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn time_of(value: Option<&Value>) -> Option<Timestamp> {
    value.and_then(Value::as_str).and_then(parse_time)
}

/// Roles from Kick's badges (`identity.badges[].type`): OG and founder badges are
/// kinds of subscriber badge.
pub fn roles_from_badges(badges: Option<&Value>) -> Vec<Role> {
    let mut roles = Vec::new();
    for badge in badges.and_then(Value::as_array).into_iter().flatten() {
        let role = match badge.get("type").and_then(Value::as_str) {
            Some("broadcaster") => Role::Broadcaster,
            Some("moderator") => Role::Moderator,
            Some("vip") => Role::Vip,
            Some("subscriber" | "og" | "founder") => Role::Subscriber,
            _ => continue,
        };
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles
}

fn user(id: Option<String>, username: String, slug: Option<String>, roles: Vec<Role>) -> User {
    let login = slug.unwrap_or_else(|| username.clone()).to_lowercase();
    User {
        id: id.unwrap_or_default(),
        login,
        name: username,
        roles,
    }
}

/// A user on the Pusher feed: `{id, username, slug, identity: {badges}}`.
fn pusher_user(value: Option<&Value>) -> Option<User> {
    let value = value?;
    let username = text_of(value.get("username"))?;
    Some(user(
        text_of(value.get("id")),
        username,
        text_of(value.get("slug")),
        roles_from_badges(
            value
                .get("identity")
                .and_then(|identity| identity.get("badges")),
        ),
    ))
}

/// A user in a webhook: `{is_anonymous, user_id, username, channel_slug, identity}`;
/// `None` when anonymous or nameless.
fn webhook_user(value: Option<&Value>) -> Option<User> {
    let value = value?;
    if value.get("is_anonymous").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let username = text_of(value.get("username"))?;
    Some(user(
        text_of(value.get("user_id")),
        username,
        text_of(value.get("channel_slug")),
        roles_from_badges(
            value
                .get("identity")
                .and_then(|identity| identity.get("badges")),
        ),
    ))
}

/// The name part of derived keys: what both routes know of a user.
fn name_key(user: &User) -> String {
    user.name.to_lowercase()
}

fn near(key: String) -> DedupKey {
    DedupKey::Near(key)
}

fn one(kind: EventKind, at: Option<Timestamp>, keys: Vec<DedupKey>) -> Vec<Normalised> {
    vec![Normalised { kind, at, keys }]
}

/// An optional text, `None` when empty.
fn non_empty(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|text| !text.trim().is_empty())
        .map(str::to_owned)
}

/// A Pusher event's payload (the decoded `data`) into events. `name` may carry the
/// `App\Events\` prefix. Unknown or uninteresting events give nothing.
pub fn pusher_event(name: &str, data: &Value) -> Result<Vec<Normalised>, NormaliseError> {
    let name = bare_event_name(name);
    match name {
        "ChatMessageEvent" => {
            let id = text_of(data.get("id")).ok_or_else(|| missing(name, "id"))?;
            let sender = pusher_user(data.get("sender")).ok_or_else(|| missing(name, "sender"))?;
            let text = data
                .get("content")
                .and_then(Value::as_str)
                .ok_or_else(|| missing(name, "content"))?
                .to_owned();
            // Replies carry the parent in `metadata.original_message`.
            let reply_to = text_of(
                data.get("metadata")
                    .and_then(|metadata| metadata.get("original_message"))
                    .and_then(|original| original.get("id")),
            );
            Ok(one(
                EventKind::ChatMessage {
                    message_id: id.clone(),
                    user: sender,
                    text,
                    reply_to,
                },
                time_of(data.get("created_at")),
                vec![DedupKey::Id(format!("chat:{id}"))],
            ))
        }
        "MessageDeletedEvent" => {
            let id = text_of(data.get("message").and_then(|message| message.get("id")))
                .ok_or_else(|| missing(name, "message.id"))?;
            Ok(one(
                EventKind::ChatDeleted {
                    message_id: id.clone(),
                },
                None,
                vec![DedupKey::Id(format!("deleted:{id}"))],
            ))
        }
        "UserBannedEvent" => {
            let banned = pusher_user(data.get("user")).ok_or_else(|| missing(name, "user"))?;
            let permanent = data.get("permanent").and_then(Value::as_bool) == Some(true);
            let until = if permanent {
                None
            } else {
                time_of(data.get("expires_at")).or_else(|| {
                    // Older payloads give only the duration, in minutes.
                    count_of(data.get("duration")).map(|minutes| {
                        Timestamp(now_ms().saturating_add(
                            i64::try_from(minutes.saturating_mul(60_000)).unwrap_or(i64::MAX),
                        ))
                    })
                })
            };
            let mut keys = vec![near(format!("ban:{}", banned.id))];
            if let Some(id) = text_of(data.get("id")) {
                keys.push(DedupKey::Id(format!("ban:{id}")));
            }
            Ok(one(
                EventKind::UserBanned {
                    user: banned,
                    until,
                },
                None,
                keys,
            ))
        }
        "SubscriptionEvent" => {
            let username =
                text_of(data.get("username")).ok_or_else(|| missing(name, "username"))?;
            let subscriber = user(None, username, None, Vec::new());
            let key = format!("sub:{}", name_key(&subscriber));
            Ok(one(
                EventKind::Subscription {
                    user: subscriber,
                    tier: SUB_TIER.to_owned(),
                    months: count_of(data.get("months")).and_then(|m| u32::try_from(m).ok()),
                    message: None,
                },
                None,
                vec![near(key)],
            ))
        }
        "GiftedSubscriptionsEvent" => {
            let count = data
                .get("gifted_usernames")
                .and_then(Value::as_array)
                .map(Vec::len)
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| missing(name, "gifted_usernames"))?;
            // An anonymous gift names no gifter.
            let gifter = text_of(data.get("gifter_username"))
                .filter(|username| !username.eq_ignore_ascii_case("anonymous"))
                .map(|username| user(None, username, None, Vec::new()));
            let key = format!(
                "gift:{}:{count}",
                gifter
                    .as_ref()
                    .map(name_key)
                    .unwrap_or_else(|| "anonymous".into())
            );
            Ok(one(
                EventKind::SubscriptionGift {
                    gifter,
                    count,
                    tier: SUB_TIER.to_owned(),
                },
                None,
                vec![near(key)],
            ))
        }
        "FollowersUpdated" => {
            // Also sent for unfollows and count changes; only a named follow is an event.
            if data.get("followed").and_then(Value::as_bool) != Some(true) {
                return Ok(Vec::new());
            }
            let Some(username) = text_of(data.get("username")) else {
                return Ok(Vec::new());
            };
            let follower = user(None, username, None, Vec::new());
            let key = format!("follow:{}", name_key(&follower));
            Ok(one(
                EventKind::Follow { user: follower },
                None,
                vec![near(key)],
            ))
        }
        "StreamerIsLive" => {
            let livestream = data.get("livestream");
            Ok(one(
                EventKind::StreamOnline {
                    title: non_empty(livestream.and_then(|live| live.get("session_title"))),
                    category: None,
                },
                time_of(livestream.and_then(|live| live.get("created_at"))),
                vec![near("stream.online".into())],
            ))
        }
        "StopStreamBroadcast" => Ok(one(
            EventKind::StreamOffline {
                title: None,
                category: None,
            },
            None,
            vec![near("stream.offline".into())],
        )),
        "StreamHostedEvent" | "StreamHostEvent" => {
            // The captured shape: {message: {id, numberOfViewers, createdAt}, user}; older
            // clients document {host_username, number_viewers}.
            let message = data.get("message");
            let from = pusher_user(data.get("user"))
                .or_else(|| {
                    text_of(data.get("host_username"))
                        .map(|username| user(None, username, None, Vec::new()))
                })
                .ok_or_else(|| missing(name, "user"))?;
            let viewers = count_of(message.and_then(|message| message.get("numberOfViewers")))
                .or_else(|| count_of(data.get("number_viewers")))
                .unwrap_or(0);
            let mut keys = vec![near(format!("raid:{}", name_key(&from)))];
            if let Some(id) = text_of(message.and_then(|message| message.get("id"))) {
                keys.push(DedupKey::Id(format!("raid:{id}")));
            }
            Ok(one(
                EventKind::Raid { from, viewers },
                time_of(message.and_then(|message| message.get("createdAt"))),
                keys,
            ))
        }
        "KicksGifted" => {
            let sender = pusher_user(data.get("sender")).ok_or_else(|| missing(name, "sender"))?;
            let amount = count_of(data.get("gift").and_then(|gift| gift.get("amount")))
                .ok_or_else(|| missing(name, "gift.amount"))?;
            let mut keys = vec![near(format!("kicks:{}:{amount}", name_key(&sender)))];
            if let Some(id) = text_of(data.get("gift_transaction_id")) {
                keys.push(DedupKey::Id(format!("kicks:{id}")));
            }
            Ok(one(
                EventKind::Cheer {
                    user: Some(sender),
                    amount,
                    unit: CheerUnit::Kicks,
                    message: non_empty(data.get("message")),
                },
                time_of(data.get("created_at")),
                keys,
            ))
        }
        "RewardRedeemedEvent" => {
            let title =
                text_of(data.get("reward_title")).ok_or_else(|| missing(name, "reward_title"))?;
            let username =
                text_of(data.get("username")).ok_or_else(|| missing(name, "username"))?;
            let redeemer = user(text_of(data.get("user_id")), username, None, Vec::new());
            // The feed as documented carries no redemption or reward id; newer payloads
            // may. Without one the adapter looks the redemption up (see the adapter).
            let redemption_id = text_of(data.get("id"))
                .or_else(|| text_of(data.get("redemption_id")))
                .unwrap_or_default();
            let mut keys = vec![near(format!(
                "redeem:{}:{}",
                redeemer.id,
                title.to_lowercase()
            ))];
            if !redemption_id.is_empty() {
                keys.push(DedupKey::Id(format!(
                    "redemption:{redemption_id}:unfulfilled"
                )));
            }
            Ok(one(
                EventKind::Redemption {
                    redemption_id,
                    user: redeemer,
                    reward: Reward {
                        id: text_of(data.get("reward_id")).unwrap_or_default(),
                        title,
                        cost: count_of(data.get("reward_cost")).unwrap_or(0),
                    },
                    input: non_empty(data.get("user_input")),
                    status: RedemptionStatus::Unfulfilled,
                },
                None,
                keys,
            ))
        }
        _ => Ok(Vec::new()),
    }
}

/// Kick's redemption states in the SPEC's terms.
pub fn redemption_status(status: &str) -> Option<RedemptionStatus> {
    match status {
        "pending" => Some(RedemptionStatus::Unfulfilled),
        "accepted" => Some(RedemptionStatus::Fulfilled),
        "rejected" => Some(RedemptionStatus::Canceled),
        _ => None,
    }
}

/// A webhook body (already parsed) of type `event_type` into events. Unknown types
/// give nothing.
pub fn webhook_event(event_type: &str, body: &Value) -> Result<Vec<Normalised>, NormaliseError> {
    let kind = event_type;
    match event_type {
        "chat.message.sent" => {
            let id = text_of(body.get("message_id")).ok_or_else(|| missing(kind, "message_id"))?;
            let sender = webhook_user(body.get("sender")).ok_or_else(|| missing(kind, "sender"))?;
            let text = body
                .get("content")
                .and_then(Value::as_str)
                .ok_or_else(|| missing(kind, "content"))?
                .to_owned();
            let reply_to = text_of(
                body.get("replies_to")
                    .and_then(|parent| parent.get("message_id")),
            );
            Ok(one(
                EventKind::ChatMessage {
                    message_id: id.clone(),
                    user: sender,
                    text,
                    reply_to,
                },
                time_of(body.get("created_at")),
                vec![DedupKey::Id(format!("chat:{id}"))],
            ))
        }
        "channel.followed" => {
            let follower =
                webhook_user(body.get("follower")).ok_or_else(|| missing(kind, "follower"))?;
            let key = format!("follow:{}", name_key(&follower));
            Ok(one(
                EventKind::Follow { user: follower },
                None,
                vec![near(key)],
            ))
        }
        "channel.subscription.new" | "channel.subscription.renewal" => {
            let subscriber =
                webhook_user(body.get("subscriber")).ok_or_else(|| missing(kind, "subscriber"))?;
            let key = format!("sub:{}", name_key(&subscriber));
            Ok(one(
                EventKind::Subscription {
                    user: subscriber,
                    tier: SUB_TIER.to_owned(),
                    months: count_of(body.get("duration")).and_then(|m| u32::try_from(m).ok()),
                    message: None,
                },
                time_of(body.get("created_at")),
                vec![near(key)],
            ))
        }
        "channel.subscription.gifts" => {
            let count = body
                .get("giftees")
                .and_then(Value::as_array)
                .map(Vec::len)
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| missing(kind, "giftees"))?;
            let gifter = webhook_user(body.get("gifter"));
            let key = format!(
                "gift:{}:{count}",
                gifter
                    .as_ref()
                    .map(name_key)
                    .unwrap_or_else(|| "anonymous".into())
            );
            Ok(one(
                EventKind::SubscriptionGift {
                    gifter,
                    count,
                    tier: SUB_TIER.to_owned(),
                },
                time_of(body.get("created_at")),
                vec![near(key)],
            ))
        }
        "channel.reward.redemption.updated" => {
            let id = text_of(body.get("id")).ok_or_else(|| missing(kind, "id"))?;
            let status_text = body.get("status").and_then(Value::as_str).unwrap_or("");
            let status = redemption_status(status_text).ok_or_else(|| NormaliseError {
                kind: kind.to_owned(),
                reason: format!("unknown status {status_text:?}"),
            })?;
            let redeemer =
                webhook_user(body.get("redeemer")).ok_or_else(|| missing(kind, "redeemer"))?;
            let reward = body.get("reward");
            let title = text_of(reward.and_then(|reward| reward.get("title")))
                .ok_or_else(|| missing(kind, "reward.title"))?;
            let mut keys = vec![DedupKey::Id(format!("redemption:{id}:{status}"))];
            if status == RedemptionStatus::Unfulfilled {
                keys.push(near(format!(
                    "redeem:{}:{}",
                    redeemer.id,
                    title.to_lowercase()
                )));
            }
            Ok(one(
                EventKind::Redemption {
                    redemption_id: id,
                    user: redeemer,
                    reward: Reward {
                        id: text_of(reward.and_then(|reward| reward.get("id"))).unwrap_or_default(),
                        title,
                        cost: count_of(reward.and_then(|reward| reward.get("cost"))).unwrap_or(0),
                    },
                    input: non_empty(body.get("user_input")),
                    status,
                },
                time_of(body.get("redeemed_at")),
                keys,
            ))
        }
        "livestream.status.updated" => {
            let live = body
                .get("is_live")
                .and_then(Value::as_bool)
                .ok_or_else(|| missing(kind, "is_live"))?;
            let title = non_empty(body.get("title"));
            Ok(if live {
                one(
                    EventKind::StreamOnline {
                        title,
                        category: None,
                    },
                    time_of(body.get("started_at")),
                    vec![near("stream.online".into())],
                )
            } else {
                one(
                    EventKind::StreamOffline {
                        title,
                        category: None,
                    },
                    time_of(body.get("ended_at")),
                    vec![near("stream.offline".into())],
                )
            })
        }
        "livestream.metadata.updated" => {
            let metadata = body
                .get("metadata")
                .ok_or_else(|| missing(kind, "metadata"))?;
            let title = non_empty(metadata.get("title"));
            let category = non_empty(
                metadata
                    .get("category")
                    .and_then(|category| category.get("name")),
            );
            let key = format!(
                "stream.updated:{}:{}",
                title.as_deref().unwrap_or(""),
                category.as_deref().unwrap_or("")
            );
            Ok(one(
                EventKind::StreamUpdated { title, category },
                None,
                vec![near(key)],
            ))
        }
        "moderation.banned" => {
            let banned = webhook_user(body.get("banned_user"))
                .ok_or_else(|| missing(kind, "banned_user"))?;
            let metadata = body.get("metadata");
            // `expires_at` null: a permanent ban.
            let until = time_of(metadata.and_then(|metadata| metadata.get("expires_at")));
            let key = format!("ban:{}", banned.id);
            Ok(one(
                EventKind::UserBanned {
                    user: banned,
                    until,
                },
                time_of(metadata.and_then(|metadata| metadata.get("created_at"))),
                vec![near(key)],
            ))
        }
        "kicks.gifted" => {
            let sender = webhook_user(body.get("sender")).ok_or_else(|| missing(kind, "sender"))?;
            let gift = body.get("gift");
            let amount = count_of(gift.and_then(|gift| gift.get("amount")))
                .ok_or_else(|| missing(kind, "gift.amount"))?;
            let key = format!("kicks:{}:{amount}", name_key(&sender));
            Ok(one(
                EventKind::Cheer {
                    user: Some(sender),
                    amount,
                    unit: CheerUnit::Kicks,
                    message: non_empty(gift.and_then(|gift| gift.get("message"))),
                },
                time_of(body.get("created_at")),
                vec![near(key)],
            ))
        }
        _ => Ok(Vec::new()),
    }
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Milliseconds since the epoch of `time` (0 before the epoch).
pub(crate) fn unix_ms(time: std::time::SystemTime) -> i64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn badges_map_to_roles_once_each() {
        let badges = json!([
            {"type": "og"}, {"type": "subscriber"}, {"type": "sub_gifter"},
            {"type": "vip"}, {"type": "founder"}, {"type": "broadcaster"}, {"type": 5}
        ]);
        assert_eq!(
            roles_from_badges(Some(&badges)),
            vec![Role::Subscriber, Role::Vip, Role::Broadcaster]
        );
        assert!(roles_from_badges(None).is_empty());
    }

    #[test]
    fn pusher_names_with_and_without_the_prefix_are_the_same_event() {
        let data = json!({"chatroom_id": 1, "username": "Alice", "months": 3});
        let with = pusher_event("App\\Events\\SubscriptionEvent", &data).unwrap();
        let without = pusher_event("SubscriptionEvent", &data).unwrap();
        assert_eq!(with, without);
        assert!(matches!(
            &with[0].kind,
            EventKind::Subscription { months: Some(3), user, .. } if user.login == "alice"
        ));
    }

    #[test]
    fn a_timeout_has_an_end_and_a_permanent_ban_none() {
        let timeout = json!({"id": "b1", "user": {"id": 42, "username": "Troll", "slug": "troll"},
            "banned_by": {"id": 1, "username": "mod", "slug": "mod"}, "permanent": false,
            "duration": 10, "expires_at": "2026-07-13T12:10:00Z"});
        match &pusher_event("App\\Events\\UserBannedEvent", &timeout).unwrap()[0].kind {
            EventKind::UserBanned { user, until } => {
                assert_eq!(user.id, "42");
                assert_eq!(*until, parse_time("2026-07-13T12:10:00Z"));
                assert!(until.is_some());
            }
            other => panic!("{other:?}"),
        }
        let ban = json!({"user": {"id": 42, "username": "Troll"}, "permanent": true});
        assert!(matches!(
            &pusher_event("App\\Events\\UserBannedEvent", &ban).unwrap()[0].kind,
            EventKind::UserBanned { until: None, .. }
        ));
    }

    #[test]
    fn a_reply_names_its_parent_and_emotes_stay_in_the_text() {
        let data = json!({"id": "m2", "content": "yes [emote:37226:KEKW]", "type": "reply",
            "sender": {"id": 7, "username": "Bob", "slug": "bob", "identity": {"badges": []}},
            "metadata": {"original_sender": {"id": 8, "username": "Al"},
                         "original_message": {"id": "m1", "content": "hi"}}});
        match &pusher_event("ChatMessageEvent", &data).unwrap()[0].kind {
            EventKind::ChatMessage { text, reply_to, .. } => {
                assert_eq!(text, "yes [emote:37226:KEKW]");
                assert_eq!(reply_to.as_deref(), Some("m1"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unfollows_unknown_events_and_missing_fields() {
        assert!(
            pusher_event(
                "App\\Events\\FollowersUpdated",
                &json!({"followersCount": 5, "followed": false, "username": "x"})
            )
            .unwrap()
            .is_empty()
        );
        assert!(
            pusher_event("App\\Events\\PollUpdateEvent", &json!({}))
                .unwrap()
                .is_empty()
        );
        assert!(
            webhook_event("channel.unknown", &json!({}))
                .unwrap()
                .is_empty()
        );
        let error =
            pusher_event("App\\Events\\ChatMessageEvent", &json!({"content": "x"})).unwrap_err();
        assert!(error.to_string().contains("id is missing"), "{error}");
    }

    #[test]
    fn an_anonymous_gifter_is_none_on_both_routes() {
        let body = json!({"gifter": {"is_anonymous": true, "user_id": null, "username": null},
            "giftees": [{"user_id": 1, "username": "a"}, {"user_id": 2, "username": "b"}]});
        assert!(matches!(
            &webhook_event("channel.subscription.gifts", &body).unwrap()[0].kind,
            EventKind::SubscriptionGift {
                gifter: None,
                count: 2,
                ..
            }
        ));
        let data = json!({"gifted_usernames": ["a"], "gifter_username": null});
        assert!(matches!(
            &pusher_event("GiftedSubscriptionsEvent", &data).unwrap()[0].kind,
            EventKind::SubscriptionGift {
                gifter: None,
                count: 1,
                ..
            }
        ));
    }

    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|n| json!(n)),
            "[a-z_ ]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::hash_map(
                    prop_oneof![
                        Just("id".to_owned()),
                        Just("user".to_owned()),
                        Just("sender".to_owned()),
                        Just("username".to_owned()),
                        Just("content".to_owned()),
                        Just("gift".to_owned()),
                        Just("amount".to_owned()),
                        Just("message".to_owned()),
                        Just("user_id".to_owned()),
                        Just("identity".to_owned()),
                        Just("badges".to_owned()),
                        Just("type".to_owned()),
                        Just("is_anonymous".to_owned()),
                        "[a-z_]{1,8}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    const PUSHER_NAMES: &[&str] = &[
        "ChatMessageEvent",
        "MessageDeletedEvent",
        "UserBannedEvent",
        "SubscriptionEvent",
        "GiftedSubscriptionsEvent",
        "FollowersUpdated",
        "StreamerIsLive",
        "StopStreamBroadcast",
        "StreamHostedEvent",
        "KicksGifted",
        "RewardRedeemedEvent",
    ];
    const WEBHOOK_TYPES: &[&str] = &[
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

    proptest! {
        #[test]
        fn arbitrary_payloads_never_panic(value in arbitrary_json()) {
            for name in PUSHER_NAMES {
                let _ = pusher_event(name, &value);
            }
            for kind in WEBHOOK_TYPES {
                let _ = webhook_event(kind, &value);
            }
        }
    }
}
