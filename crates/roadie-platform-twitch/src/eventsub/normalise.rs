//! EventSub notifications into core events, one SPEC event per real occurrence.
//!
//! Twitch reports a sub, resub, gift or raid twice: as its own subscription type and
//! as a `channel.chat.notification`. The dedicated types are the source of truth
//! (they carry tiers, totals and anonymity reliably); a chat notice of the same kind
//! becomes an event only when its dedicated subscription is not active (for example
//! when the token lacks `channel:read:subscriptions`). Announcements, which have no
//! dedicated type, become `chat.message`.
//!
//! A gifted sub also produces one `channel.subscribe` per recipient with
//! `is_gift: true`; those are counted by the gifter's `subscription.gift` (`count`) and
//! not repeated as `subscription` events.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::value::RawValue;

use roadie_core::{
    CheerUnit, Event, EventKind, Platform, RedemptionStatus, Reward, Role, Timestamp, User,
};

/// The subscriptions Roadie creates, as `(type, version)`.
pub const SUBSCRIPTION_TYPES: &[(&str, &str)] = &[
    ("channel.chat.message", "1"),
    ("channel.chat.message_delete", "1"),
    ("channel.chat.notification", "1"),
    ("channel.follow", "2"),
    ("channel.subscribe", "1"),
    ("channel.subscription.gift", "1"),
    ("channel.subscription.message", "1"),
    ("channel.cheer", "1"),
    ("channel.raid", "1"),
    ("channel.ban", "1"),
    ("channel.channel_points_custom_reward_redemption.add", "1"),
    (
        "channel.channel_points_custom_reward_redemption.update",
        "1",
    ),
    ("channel.update", "2"),
    ("stream.online", "1"),
    ("stream.offline", "1"),
];

/// Why a notification could not be normalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read a {kind} notification: {reason}")]
pub struct NormaliseError {
    /// The subscription type.
    pub kind: String,
    /// What was wrong.
    pub reason: String,
}

/// Turns notifications into events for one channel.
#[derive(Debug, Clone, Default)]
pub struct Normaliser {
    dedicated_active: BTreeSet<String>,
}

/// Only `set_id` is read; it borrows from the notification's text.
#[derive(Deserialize)]
struct Badge<'a> {
    #[serde(borrow)]
    set_id: Cow<'a, str>,
}

#[derive(Deserialize)]
struct MessageText {
    text: String,
}

#[derive(Deserialize)]
struct Reply {
    parent_message_id: String,
}

#[derive(Deserialize)]
struct ChatMessage<'a> {
    chatter_user_id: String,
    chatter_user_login: String,
    chatter_user_name: String,
    message_id: String,
    message: MessageText,
    #[serde(default, borrow)]
    badges: Vec<Badge<'a>>,
    #[serde(default)]
    reply: Option<Reply>,
}

#[derive(Deserialize)]
struct MessageDelete {
    message_id: String,
}

#[derive(Deserialize)]
struct Amount {
    #[serde(default)]
    sub_tier: Option<String>,
    #[serde(default)]
    is_prime: Option<bool>,
    #[serde(default)]
    cumulative_months: Option<u32>,
    #[serde(default)]
    total: Option<u32>,
}

#[derive(Deserialize)]
struct ChatNotification<'a> {
    #[serde(default)]
    chatter_user_id: Option<String>,
    #[serde(default)]
    chatter_user_login: Option<String>,
    #[serde(default)]
    chatter_user_name: Option<String>,
    #[serde(default)]
    chatter_is_anonymous: bool,
    message_id: String,
    #[serde(default)]
    message: Option<MessageText>,
    #[serde(default, borrow)]
    badges: Vec<Badge<'a>>,
    notice_type: String,
    #[serde(default)]
    sub: Option<Amount>,
    #[serde(default)]
    resub: Option<Amount>,
    #[serde(default)]
    sub_gift: Option<Amount>,
    #[serde(default)]
    community_sub_gift: Option<Amount>,
    #[serde(default)]
    raid: Option<NoticeRaid>,
}

#[derive(Deserialize)]
struct NoticeRaid {
    user_id: String,
    user_login: String,
    user_name: String,
    viewer_count: u64,
}

#[derive(Deserialize)]
struct UserEvent {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    user_login: Option<String>,
    #[serde(default)]
    user_name: Option<String>,
}

#[derive(Deserialize)]
struct Subscribe {
    #[serde(flatten)]
    user: UserEvent,
    tier: String,
    #[serde(default)]
    is_gift: bool,
}

#[derive(Deserialize)]
struct Gift {
    #[serde(flatten)]
    user: UserEvent,
    total: u32,
    tier: String,
    #[serde(default)]
    is_anonymous: bool,
}

#[derive(Deserialize)]
struct SubscriptionMessage {
    #[serde(flatten)]
    user: UserEvent,
    tier: String,
    #[serde(default)]
    cumulative_months: Option<u32>,
    #[serde(default)]
    message: Option<MessageText>,
}

#[derive(Deserialize)]
struct Cheer {
    #[serde(flatten)]
    user: UserEvent,
    #[serde(default)]
    is_anonymous: bool,
    #[serde(default)]
    message: Option<String>,
    bits: u64,
}

#[derive(Deserialize)]
struct Raid {
    from_broadcaster_user_id: String,
    from_broadcaster_user_login: String,
    from_broadcaster_user_name: String,
    viewers: u64,
}

#[derive(Deserialize)]
struct Ban {
    #[serde(flatten)]
    user: UserEvent,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default)]
    is_permanent: Option<bool>,
}

#[derive(Deserialize)]
struct RedemptionReward {
    id: String,
    title: String,
    cost: u64,
}

#[derive(Deserialize)]
struct Redemption {
    id: String,
    #[serde(flatten)]
    user: UserEvent,
    #[serde(default)]
    user_input: Option<String>,
    status: String,
    reward: RedemptionReward,
}

#[derive(Deserialize)]
struct ChannelUpdate {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    category_name: Option<String>,
}

fn roles(badges: &[Badge<'_>]) -> Vec<Role> {
    let mut roles: Vec<Role> = badges
        .iter()
        .filter_map(|badge| match badge.set_id.as_ref() {
            "broadcaster" => Some(Role::Broadcaster),
            "moderator" => Some(Role::Moderator),
            "vip" => Some(Role::Vip),
            "subscriber" | "founder" => Some(Role::Subscriber),
            _ => None,
        })
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

fn chat_message(message: ChatMessage<'_>) -> EventKind {
    EventKind::ChatMessage {
        message_id: message.message_id,
        user: user(
            message.chatter_user_id,
            message.chatter_user_login,
            message.chatter_user_name,
            roles(&message.badges),
        ),
        text: message.message.text,
        reply_to: message.reply.map(|reply| reply.parent_message_id),
    }
}

/// Reads a chat message's event body straight from the frame's deserializer, so the
/// busiest notification is parsed in one pass (see [`crate::eventsub::frame::parse_chat_fast`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ChatMessageSeed;

impl<'de> serde::de::DeserializeSeed<'de> for ChatMessageSeed {
    type Value = EventKind;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<EventKind, D::Error> {
        ChatMessage::deserialize(deserializer).map(chat_message)
    }
}

fn user(id: String, login: String, name: String, roles: Vec<Role>) -> User {
    User {
        id,
        login,
        name,
        roles,
    }
}

impl UserEvent {
    fn into_user(self, kind: &str) -> Result<User, NormaliseError> {
        match (self.user_id, self.user_login, self.user_name) {
            (Some(id), Some(login), Some(name)) => Ok(user(id, login, name, Vec::new())),
            _ => Err(NormaliseError {
                kind: kind.to_owned(),
                reason: "the user is missing".into(),
            }),
        }
    }

    fn into_optional_user(self) -> Option<User> {
        Some(user(
            self.user_id?,
            self.user_login?,
            self.user_name?,
            Vec::new(),
        ))
    }
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty())
}

/// Parses an RFC 3339 time (nanoseconds allowed) into a timestamp.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let moment =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(moment.unix_timestamp_nanos() / 1_000_000)
        .ok()
        .map(Timestamp)
}

impl Normaliser {
    /// A normaliser that knows which dedicated subscriptions are active, so chat
    /// notices of the same kind are not counted twice.
    pub fn new<I, S>(dedicated_active: I) -> Normaliser
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Normaliser {
            dedicated_active: dedicated_active.into_iter().map(Into::into).collect(),
        }
    }

    /// A normaliser for a session where every type in [`SUBSCRIPTION_TYPES`] is active.
    pub fn all_active() -> Normaliser {
        Normaliser::new(SUBSCRIPTION_TYPES.iter().map(|(kind, _)| *kind))
    }

    /// Marks a dedicated subscription as no longer active (revoked), so the matching
    /// chat notices count from now on.
    pub fn deactivate(&mut self, kind: &str) {
        self.dedicated_active.remove(kind);
    }

    fn active(&self, kind: &str) -> bool {
        self.dedicated_active.contains(kind)
    }

    /// The events for one notification: usually one, none for types or notices that
    /// have no event of their own (or are counted elsewhere).
    pub fn normalise(
        &self,
        kind: &str,
        event: &RawValue,
    ) -> Result<Vec<EventKind>, NormaliseError> {
        let text = event.get();
        let parse_error = |error: serde_json::Error| NormaliseError {
            kind: kind.to_owned(),
            reason: error.to_string(),
        };
        let one = |kind: EventKind| Ok(vec![kind]);
        match kind {
            "channel.chat.message" => {
                let message: ChatMessage = serde_json::from_str(text).map_err(parse_error)?;
                one(chat_message(message))
            }
            "channel.chat.message_delete" => {
                let deleted: MessageDelete = serde_json::from_str(text).map_err(parse_error)?;
                one(EventKind::ChatDeleted {
                    message_id: deleted.message_id,
                })
            }
            "channel.chat.notification" => {
                let notice: ChatNotification = serde_json::from_str(text).map_err(parse_error)?;
                Ok(self.chat_notification(notice).into_iter().collect())
            }
            "channel.follow" => {
                let follow: UserEvent = serde_json::from_str(text).map_err(parse_error)?;
                one(EventKind::Follow {
                    user: follow.into_user(kind)?,
                })
            }
            "channel.subscribe" => {
                let subscribe: Subscribe = serde_json::from_str(text).map_err(parse_error)?;
                if subscribe.is_gift {
                    return Ok(Vec::new());
                }
                one(EventKind::Subscription {
                    user: subscribe.user.into_user(kind)?,
                    tier: subscribe.tier,
                    months: None,
                    message: None,
                })
            }
            "channel.subscription.gift" => {
                let gift: Gift = serde_json::from_str(text).map_err(parse_error)?;
                let gifter = if gift.is_anonymous {
                    None
                } else {
                    gift.user.into_optional_user()
                };
                one(EventKind::SubscriptionGift {
                    gifter,
                    count: gift.total,
                    tier: gift.tier,
                })
            }
            "channel.subscription.message" => {
                let resub: SubscriptionMessage = serde_json::from_str(text).map_err(parse_error)?;
                one(EventKind::Subscription {
                    user: resub.user.into_user(kind)?,
                    tier: resub.tier,
                    months: resub.cumulative_months,
                    message: non_empty(resub.message.map(|message| message.text)),
                })
            }
            "channel.cheer" => {
                let cheer: Cheer = serde_json::from_str(text).map_err(parse_error)?;
                let cheerer = if cheer.is_anonymous {
                    None
                } else {
                    cheer.user.into_optional_user()
                };
                one(EventKind::Cheer {
                    user: cheerer,
                    amount: cheer.bits,
                    unit: CheerUnit::Bits,
                    message: non_empty(cheer.message),
                })
            }
            "channel.raid" => {
                let raid: Raid = serde_json::from_str(text).map_err(parse_error)?;
                one(EventKind::Raid {
                    from: user(
                        raid.from_broadcaster_user_id,
                        raid.from_broadcaster_user_login,
                        raid.from_broadcaster_user_name,
                        Vec::new(),
                    ),
                    viewers: raid.viewers,
                })
            }
            "channel.ban" => {
                let ban: Ban = serde_json::from_str(text).map_err(parse_error)?;
                let until = if ban.is_permanent == Some(true) {
                    None
                } else {
                    ban.ends_at.as_deref().and_then(parse_time)
                };
                one(EventKind::UserBanned {
                    user: ban.user.into_user(kind)?,
                    until,
                })
            }
            "channel.channel_points_custom_reward_redemption.add"
            | "channel.channel_points_custom_reward_redemption.update" => {
                let redemption: Redemption = serde_json::from_str(text).map_err(parse_error)?;
                let status = match redemption.status.as_str() {
                    "unfulfilled" | "UNFULFILLED" => RedemptionStatus::Unfulfilled,
                    "fulfilled" | "FULFILLED" => RedemptionStatus::Fulfilled,
                    "canceled" | "CANCELED" => RedemptionStatus::Canceled,
                    other => {
                        return Err(NormaliseError {
                            kind: kind.to_owned(),
                            reason: format!("unknown status {other:?}"),
                        });
                    }
                };
                one(EventKind::Redemption {
                    redemption_id: redemption.id,
                    user: redemption.user.into_user(kind)?,
                    reward: Reward {
                        id: redemption.reward.id,
                        title: redemption.reward.title,
                        cost: redemption.reward.cost,
                    },
                    input: non_empty(redemption.user_input),
                    status,
                })
            }
            "channel.update" => {
                let update: ChannelUpdate = serde_json::from_str(text).map_err(parse_error)?;
                one(EventKind::StreamUpdated {
                    title: update.title,
                    category: update.category_name,
                })
            }
            "stream.online" => one(EventKind::StreamOnline {
                title: None,
                category: None,
            }),
            "stream.offline" => one(EventKind::StreamOffline {
                title: None,
                category: None,
            }),
            _ => Ok(Vec::new()),
        }
    }

    fn chat_notification(&self, notice: ChatNotification<'_>) -> Option<EventKind> {
        let chatter = || -> Option<User> {
            if notice.chatter_is_anonymous {
                return None;
            }
            Some(user(
                notice.chatter_user_id.clone()?,
                notice.chatter_user_login.clone()?,
                notice.chatter_user_name.clone()?,
                roles(&notice.badges),
            ))
        };
        let tier_of = |amount: &Amount| -> String {
            if amount.is_prime == Some(true) {
                "prime".to_owned()
            } else {
                amount.sub_tier.clone().unwrap_or_else(|| "1000".to_owned())
            }
        };
        match notice.notice_type.as_str() {
            "announcement" => Some(EventKind::ChatMessage {
                message_id: notice.message_id.clone(),
                user: chatter()?,
                text: notice
                    .message
                    .as_ref()
                    .map(|message| message.text.clone())
                    .unwrap_or_default(),
                reply_to: None,
            }),
            "sub" if !self.active("channel.subscribe") => {
                let sub = notice.sub.as_ref()?;
                Some(EventKind::Subscription {
                    user: chatter()?,
                    tier: tier_of(sub),
                    months: None,
                    message: None,
                })
            }
            "resub" if !self.active("channel.subscription.message") => {
                let resub = notice.resub.as_ref()?;
                Some(EventKind::Subscription {
                    user: chatter()?,
                    tier: tier_of(resub),
                    months: resub.cumulative_months,
                    message: non_empty(notice.message.as_ref().map(|message| message.text.clone())),
                })
            }
            "community_sub_gift" if !self.active("channel.subscription.gift") => {
                let gift = notice.community_sub_gift.as_ref()?;
                Some(EventKind::SubscriptionGift {
                    gifter: chatter(),
                    count: gift.total.unwrap_or(1),
                    tier: tier_of(gift),
                })
            }
            "sub_gift" if !self.active("channel.subscription.gift") => {
                let gift = notice.sub_gift.as_ref()?;
                Some(EventKind::SubscriptionGift {
                    gifter: chatter(),
                    count: 1,
                    tier: tier_of(gift),
                })
            }
            "raid" if !self.active("channel.raid") => {
                let raid = notice.raid.as_ref()?;
                Some(EventKind::Raid {
                    from: user(
                        raid.user_id.clone(),
                        raid.user_login.clone(),
                        raid.user_name.clone(),
                        Vec::new(),
                    ),
                    viewers: raid.viewer_count,
                })
            }
            _ => None,
        }
    }

    /// Wraps normalised kinds into Twitch events at `at`.
    pub fn events(kinds: Vec<EventKind>, at: Timestamp) -> Vec<Event> {
        kinds
            .into_iter()
            .map(|kind| Event {
                platform: Platform::Twitch,
                at,
                kind,
            })
            .collect()
    }
}
