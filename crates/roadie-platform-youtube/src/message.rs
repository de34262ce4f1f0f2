//! `liveChatMessages.list` answers and their items, normalised into SPEC events.
//!
//! Field names follow the liveChatMessage resource representation (and the one real
//! captured answer in `tests/data`). Reading is lenient: a page whose items cannot all
//! be read still yields the ones that can, numbers are accepted as JSON numbers or as
//! the strings Google uses for 64-bit integers (`amountMicros`, `banDurationSeconds`),
//! and nothing here panics on any input.
//!
//! Mapping (SPEC "Events"):
//! - `textMessageEvent` → `chat.message`;
//! - `superChatEvent`, `superStickerEvent` → `tip` (amount from `amountMicros` as an
//!   exact decimal: "5", "5.5", "0.99"; a sticker has no message);
//! - `newSponsorEvent` → `subscription` (tier = level name; months 1 unless it is an
//!   upgrade, when it is unknown); `memberMilestoneChatEvent` → `subscription` with
//!   `memberMonth` and the comment;
//! - `membershipGiftingEvent` → `subscription.gift` (gifter = author);
//! - `giftMembershipReceivedEvent` → nothing when its gifting event was seen (the
//!   gifter's `subscription.gift` already counts it, as on Twitch), otherwise (the
//!   gifting happened before Roadie connected) a `subscription` for the recipient, so
//!   each gifted membership is counted once;
//! - `messageDeletedEvent` → `chat.deleted`; `userBannedEvent` → `user.banned` with
//!   `until` = published time + `banDurationSeconds` (null when permanent);
//! - mode changes, polls, tombstones and `chatEndedEvent` carry no SPEC event (the
//!   adapter treats `chatEndedEvent` as the end of the chat).
//!
//! Users: `id` is the channel id; YouTube has no login, so `login` is the display
//! name (the channel id when there is none); roles from `isChatOwner` (broadcaster),
//! `isChatModerator` (moderator) and `isChatSponsor` (subscriber).

use std::time::Duration;

use roadie_core::{Event, EventKind, Platform, Role, Timestamp, User};
use roadie_platform::DedupWindow;
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::YoutubeError;

/// A number as a JSON number or a string holding one; anything else is `None`.
fn lenient_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(number) => number.as_u64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    })
}

/// A string, or `None` for anything else (null, a number...).
fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Some(text),
        _ => None,
    })
}

/// A boolean, `false` for anything else.
fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(matches!(
        serde_json::Value::deserialize(deserializer)?,
        serde_json::Value::Bool(true)
    ))
}

/// `authorDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthorDetails {
    /// The author's channel id.
    #[serde(deserialize_with = "lenient_string")]
    pub channel_id: Option<String>,
    /// The author's display name.
    #[serde(deserialize_with = "lenient_string")]
    pub display_name: Option<String>,
    /// The channel owner (the broadcaster).
    #[serde(deserialize_with = "lenient_bool")]
    pub is_chat_owner: bool,
    /// A moderator.
    #[serde(deserialize_with = "lenient_bool")]
    pub is_chat_moderator: bool,
    /// A channel member (sponsor).
    #[serde(deserialize_with = "lenient_bool")]
    pub is_chat_sponsor: bool,
}

/// `textMessageDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TextMessageDetails {
    /// The text.
    #[serde(deserialize_with = "lenient_string")]
    pub message_text: Option<String>,
}

/// `superChatDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SuperChatDetails {
    /// The amount in millionths of the currency unit (a string in real answers).
    #[serde(deserialize_with = "lenient_u64")]
    pub amount_micros: Option<u64>,
    /// ISO 4217 currency code.
    #[serde(deserialize_with = "lenient_string")]
    pub currency: Option<String>,
    /// The comment sent with it.
    #[serde(deserialize_with = "lenient_string")]
    pub user_comment: Option<String>,
}

/// `superStickerDetails` (the sticker metadata is not needed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SuperStickerDetails {
    /// The amount in millionths of the currency unit.
    #[serde(deserialize_with = "lenient_u64")]
    pub amount_micros: Option<u64>,
    /// ISO 4217 currency code.
    #[serde(deserialize_with = "lenient_string")]
    pub currency: Option<String>,
}

/// `newSponsorDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewSponsorDetails {
    /// The membership level.
    #[serde(deserialize_with = "lenient_string")]
    pub member_level_name: Option<String>,
    /// An upgrade from a lower level rather than a new membership.
    #[serde(deserialize_with = "lenient_bool")]
    pub is_upgrade: bool,
}

/// `memberMilestoneChatDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MemberMilestoneChatDetails {
    /// The comment.
    #[serde(deserialize_with = "lenient_string")]
    pub user_comment: Option<String>,
    /// Cumulative months of membership.
    #[serde(deserialize_with = "lenient_u64")]
    pub member_month: Option<u64>,
    /// The membership level.
    #[serde(deserialize_with = "lenient_string")]
    pub member_level_name: Option<String>,
}

/// `membershipGiftingDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MembershipGiftingDetails {
    /// How many memberships were gifted.
    #[serde(deserialize_with = "lenient_u64")]
    pub gift_memberships_count: Option<u64>,
    /// Their level.
    #[serde(deserialize_with = "lenient_string")]
    pub gift_memberships_level_name: Option<String>,
}

/// `giftMembershipReceivedDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GiftMembershipReceivedDetails {
    /// The level received.
    #[serde(deserialize_with = "lenient_string")]
    pub member_level_name: Option<String>,
    /// The gifter's channel id.
    #[serde(deserialize_with = "lenient_string")]
    pub gifter_channel_id: Option<String>,
    /// The `membershipGiftingEvent` message this gift came from.
    #[serde(deserialize_with = "lenient_string")]
    pub associated_membership_gifting_message_id: Option<String>,
}

/// `messageDeletedDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MessageDeletedDetails {
    /// The deleted message's id.
    #[serde(deserialize_with = "lenient_string")]
    pub deleted_message_id: Option<String>,
}

/// `userBannedDetails.bannedUserDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BannedUserDetails {
    /// The banned user's channel id.
    #[serde(deserialize_with = "lenient_string")]
    pub channel_id: Option<String>,
    /// Their display name.
    #[serde(deserialize_with = "lenient_string")]
    pub display_name: Option<String>,
}

/// `userBannedDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserBannedDetails {
    /// Who was banned.
    pub banned_user_details: Option<BannedUserDetails>,
    /// `permanent` or `temporary`.
    #[serde(deserialize_with = "lenient_string")]
    pub ban_type: Option<String>,
    /// A temporary ban's length (a string in Google's JSON: it is a uint64).
    #[serde(deserialize_with = "lenient_u64")]
    pub ban_duration_seconds: Option<u64>,
}

/// `snippet`, with the detail object of each type this adapter reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Snippet {
    /// The message type, e.g. `textMessageEvent`.
    #[serde(rename = "type", deserialize_with = "lenient_string")]
    pub kind: Option<String>,
    /// The author's channel id.
    #[serde(deserialize_with = "lenient_string")]
    pub author_channel_id: Option<String>,
    /// When it was published (RFC 3339).
    #[serde(deserialize_with = "lenient_string")]
    pub published_at: Option<String>,
    /// The text as YouTube displays it.
    #[serde(deserialize_with = "lenient_string")]
    pub display_message: Option<String>,
    /// For `textMessageEvent`.
    pub text_message_details: Option<TextMessageDetails>,
    /// For `superChatEvent`.
    pub super_chat_details: Option<SuperChatDetails>,
    /// For `superStickerEvent`.
    pub super_sticker_details: Option<SuperStickerDetails>,
    /// For `newSponsorEvent`.
    pub new_sponsor_details: Option<NewSponsorDetails>,
    /// For `memberMilestoneChatEvent`.
    pub member_milestone_chat_details: Option<MemberMilestoneChatDetails>,
    /// For `membershipGiftingEvent`.
    pub membership_gifting_details: Option<MembershipGiftingDetails>,
    /// For `giftMembershipReceivedEvent`.
    pub gift_membership_received_details: Option<GiftMembershipReceivedDetails>,
    /// For `messageDeletedEvent`.
    pub message_deleted_details: Option<MessageDeletedDetails>,
    /// For `userBannedEvent`.
    pub user_banned_details: Option<UserBannedDetails>,
}

/// One liveChatMessage.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatItem {
    /// The message id.
    pub id: String,
    /// What it is.
    #[serde(default)]
    pub snippet: Snippet,
    /// Who wrote it (only with `part=authorDetails`).
    #[serde(default)]
    pub author_details: Option<AuthorDetails>,
}

impl ChatItem {
    /// The snippet type, or "".
    pub fn kind(&self) -> &str {
        self.snippet.kind.as_deref().unwrap_or_default()
    }

    /// When it was published, if readable.
    pub fn published(&self) -> Option<Timestamp> {
        self.snippet.published_at.as_deref().and_then(parse_time)
    }

    /// `chatEndedEvent`: the broadcast's chat is over.
    pub fn ends_chat(&self) -> bool {
        self.kind() == "chatEndedEvent"
    }
}

/// One `liveChatMessages.list` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessagePage {
    /// Pass it as `pageToken` on the next call.
    pub next_page_token: Option<String>,
    /// How long to wait before the next call.
    pub polling_interval: Option<Duration>,
    /// Set once the broadcast went offline.
    pub offline_at: Option<String>,
    /// The items that could be read, in order.
    pub items: Vec<ChatItem>,
    /// How many items could not be read.
    pub unreadable: usize,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct WirePage {
    #[serde(deserialize_with = "lenient_string")]
    next_page_token: Option<String>,
    #[serde(deserialize_with = "lenient_u64")]
    polling_interval_millis: Option<u64>,
    #[serde(deserialize_with = "lenient_string")]
    offline_at: Option<String>,
    items: Option<Vec<serde_json::Value>>,
}

/// Reads a `liveChatMessages.list` answer. Fails only when the body is not a JSON
/// object; unreadable items are counted and skipped.
pub fn parse_page(body: &[u8]) -> Result<MessagePage, YoutubeError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| YoutubeError::Malformed(format!("liveChatMessages.list: {error}")))?;
    // serde would read a struct from an array too; an answer is an object.
    if !value.is_object() {
        return Err(YoutubeError::Malformed(
            "liveChatMessages.list: the answer is not a JSON object".into(),
        ));
    }
    let wire: WirePage = serde_json::from_value(value)
        .map_err(|error| YoutubeError::Malformed(format!("liveChatMessages.list: {error}")))?;
    let mut page = MessagePage {
        next_page_token: wire.next_page_token.filter(|token| !token.is_empty()),
        polling_interval: wire.polling_interval_millis.map(Duration::from_millis),
        offline_at: wire.offline_at,
        items: Vec::new(),
        unreadable: 0,
    };
    for item in wire.items.unwrap_or_default() {
        match serde_json::from_value::<ChatItem>(item) {
            Ok(item) => page.items.push(item),
            Err(_) => page.unreadable += 1,
        }
    }
    Ok(page)
}

/// Parses an RFC 3339 time (`2023-05-25T20:08:08.479833+00:00`).
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let moment = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    let millis = moment.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(millis).ok().map(Timestamp)
}

/// `amountMicros` as an exact decimal string: whole units, then the fraction without
/// trailing zeros ("5000000" → "5", "5500000" → "5.5", "990000" → "0.99").
pub fn amount_from_micros(micros: u64) -> String {
    let whole = micros / 1_000_000;
    let fraction = micros % 1_000_000;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

fn non_empty(text: Option<&String>) -> Option<String> {
    text.map(|text| text.trim())
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

fn make_user(id: Option<String>, name: Option<String>, roles: Vec<Role>) -> Option<User> {
    let id = id.filter(|id| !id.is_empty())?;
    let name = name.unwrap_or_else(|| id.clone());
    Some(User {
        login: name.clone(),
        id,
        name,
        roles,
    })
}

/// The author: `authorDetails`, or the snippet's channel id when that is missing.
pub fn author(item: &ChatItem) -> Option<User> {
    let details = item.author_details.clone().unwrap_or_default();
    let mut roles = Vec::new();
    if details.is_chat_owner {
        roles.push(Role::Broadcaster);
    }
    if details.is_chat_moderator {
        roles.push(Role::Moderator);
    }
    if details.is_chat_sponsor {
        roles.push(Role::Subscriber);
    }
    make_user(
        non_empty(details.channel_id.as_ref())
            .or_else(|| non_empty(item.snippet.author_channel_id.as_ref())),
        non_empty(details.display_name.as_ref()),
        roles,
    )
}

/// Turns items into SPEC events. It remembers the gifting messages it saw, so that a
/// gift's recipients are not counted twice.
#[derive(Debug)]
pub struct Normaliser {
    giftings: DedupWindow,
}

impl Default for Normaliser {
    fn default() -> Self {
        Normaliser {
            giftings: DedupWindow::new(4096),
        }
    }
}

impl Normaliser {
    /// The event for `item`, if it is one Roadie reports. `received_at` stands in for
    /// an unreadable `publishedAt`.
    pub fn normalise(&mut self, item: &ChatItem, received_at: Timestamp) -> Option<Event> {
        let at = item.published().unwrap_or(received_at);
        let snippet = &item.snippet;
        let kind = match item.kind() {
            "textMessageEvent" => {
                let text = snippet
                    .text_message_details
                    .as_ref()
                    .and_then(|details| details.message_text.clone())
                    .or_else(|| snippet.display_message.clone())
                    .filter(|text| !text.is_empty())?;
                EventKind::ChatMessage {
                    message_id: item.id.clone(),
                    user: author(item)?,
                    text,
                    reply_to: None,
                }
            }
            "superChatEvent" => {
                let details = snippet.super_chat_details.clone()?;
                EventKind::Tip {
                    user: author(item)?,
                    amount: amount_from_micros(details.amount_micros?),
                    currency: non_empty(details.currency.as_ref())?,
                    message: non_empty(details.user_comment.as_ref()),
                }
            }
            "superStickerEvent" => {
                let details = snippet.super_sticker_details.clone()?;
                EventKind::Tip {
                    user: author(item)?,
                    amount: amount_from_micros(details.amount_micros?),
                    currency: non_empty(details.currency.as_ref())?,
                    message: None,
                }
            }
            "newSponsorEvent" => {
                let details = snippet.new_sponsor_details.clone().unwrap_or_default();
                EventKind::Subscription {
                    user: author(item)?,
                    tier: details.member_level_name.unwrap_or_default(),
                    months: (!details.is_upgrade).then_some(1),
                    message: None,
                }
            }
            "memberMilestoneChatEvent" => {
                let details = snippet
                    .member_milestone_chat_details
                    .clone()
                    .unwrap_or_default();
                EventKind::Subscription {
                    user: author(item)?,
                    tier: details.member_level_name.unwrap_or_default(),
                    months: details
                        .member_month
                        .and_then(|months| u32::try_from(months).ok()),
                    message: non_empty(details.user_comment.as_ref()),
                }
            }
            "membershipGiftingEvent" => {
                let details = snippet.membership_gifting_details.clone()?;
                self.giftings.first_seen(&item.id);
                EventKind::SubscriptionGift {
                    gifter: Some(author(item)?),
                    count: details
                        .gift_memberships_count
                        .and_then(|count| u32::try_from(count).ok())
                        .unwrap_or(1),
                    tier: details.gift_memberships_level_name.unwrap_or_default(),
                }
            }
            "giftMembershipReceivedEvent" => {
                let details = snippet
                    .gift_membership_received_details
                    .clone()
                    .unwrap_or_default();
                let counted = details
                    .associated_membership_gifting_message_id
                    .as_deref()
                    .is_some_and(|gifting| self.giftings.contains(gifting));
                if counted {
                    return None;
                }
                EventKind::Subscription {
                    user: author(item)?,
                    tier: details.member_level_name.unwrap_or_default(),
                    months: None,
                    message: None,
                }
            }
            "messageDeletedEvent" => EventKind::ChatDeleted {
                message_id: non_empty(
                    snippet
                        .message_deleted_details
                        .as_ref()?
                        .deleted_message_id
                        .as_ref(),
                )?,
            },
            "userBannedEvent" => {
                let details = snippet.user_banned_details.clone()?;
                let banned = details.banned_user_details.unwrap_or_default();
                let user = make_user(
                    non_empty(banned.channel_id.as_ref()),
                    non_empty(banned.display_name.as_ref()),
                    Vec::new(),
                )?;
                let until = match details.ban_type.as_deref() {
                    Some("temporary") => details.ban_duration_seconds.map(|seconds| {
                        let millis = i64::try_from(seconds)
                            .unwrap_or(i64::MAX)
                            .saturating_mul(1000);
                        Timestamp(at.0.saturating_add(millis))
                    }),
                    _ => None,
                };
                EventKind::UserBanned { user, until }
            }
            _ => return None,
        };
        Some(Event {
            platform: Platform::Youtube,
            at,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_become_exact_decimals() {
        assert_eq!(amount_from_micros(5_000_000), "5");
        assert_eq!(amount_from_micros(5_500_000), "5.5");
        assert_eq!(amount_from_micros(990_000), "0.99");
        assert_eq!(amount_from_micros(1_234_567), "1.234567");
        assert_eq!(amount_from_micros(0), "0");
        assert_eq!(amount_from_micros(u64::MAX), "18446744073709.551615");
    }

    #[test]
    fn times_with_microseconds_and_offsets_parse() {
        assert_eq!(
            parse_time("2023-05-25T20:08:08.479833+00:00"),
            Some(Timestamp(1_685_045_288_479))
        );
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn pages_keep_readable_items() {
        let page = parse_page(
            br#"{"pollingIntervalMillis":"2500","nextPageToken":"t","items":[{"id":"a","snippet":{"type":"textMessageEvent"}},{"snippet":{}}, 5]}"#,
        )
        .unwrap();
        assert_eq!(page.polling_interval, Some(Duration::from_millis(2500)));
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.unreadable, 2);
        assert!(parse_page(b"[1]").is_err());
        assert!(parse_page(b"{}").unwrap().items.is_empty());
    }
}
