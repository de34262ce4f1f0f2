//! The closed set of events that flow through Roadie: every platform adapter
//! normalises into these, and the daemon adds its own.
//!
//! Wire names (`chat.message`, `twitch`, ...) live here because they are part of the
//! domain (filters and configuration refer to them); the JSON shape lives in the
//! protocol crate.

use crate::{EventId, Timestamp};
use std::fmt;
use std::str::FromStr;

/// A name that is not one of a closed set's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {given:?}; expected one of: {expected}")]
pub struct UnknownName {
    /// What kind of name was expected ("platform", "role", ...).
    pub what: &'static str,
    /// The name that was given.
    pub given: String,
    /// The accepted names, comma-separated.
    pub expected: &'static str,
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName {
                        what: $what,
                        given: text.to_owned(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }
    };
}

named_enum!(
    /// Where an event came from.
    Platform, "platform" {
        /// Twitch.
        Twitch => "twitch",
        /// Kick.
        Kick => "kick",
        /// YouTube.
        Youtube => "youtube",
        /// The daemon itself.
        Roadie => "roadie",
    }
);

named_enum!(
    /// A chat role that gates commands.
    Role, "role" {
        /// The channel owner.
        Broadcaster => "broadcaster",
        /// A moderator.
        Moderator => "moderator",
        /// A VIP.
        Vip => "vip",
        /// A subscriber or member.
        Subscriber => "subscriber",
    }
);

named_enum!(
    /// The unit of a cheer.
    CheerUnit, "cheer unit" {
        /// Twitch bits.
        Bits => "bits",
        /// Kick kicks.
        Kicks => "kicks",
    }
);

named_enum!(
    /// What an `obs.*` event is about; its wire type is the name.
    ObsTopic, "OBS topic" {
        /// The connection to OBS changed (`state`, `detail`).
        Status => "obs.status",
        /// The program scene changed (`scene`).
        Scene => "obs.scene",
        /// Streaming started or stopped (`active`, `state`).
        Stream => "obs.stream",
        /// Recording started or stopped (`active`, `state`).
        Record => "obs.record",
        /// A scene item was shown or hidden (`scene`, `item_id`, `enabled`).
        Source => "obs.source",
    }
);

named_enum!(
    /// What a `tts.*` event reports; its wire type is the name.
    TtsPhase, "TTS phase" {
        /// Accepted into the queue (`id`, `user`, `text`, `voice`, `ahead`).
        Queued => "tts.queued",
        /// Being spoken (`id`, `text`, `voice`).
        Started => "tts.started",
        /// Done (`id`, `heard`: whether an overlay played it).
        Finished => "tts.finished",
        /// Skipped or cleared (`id`, `reason`).
        Skipped => "tts.skipped",
        /// Not accepted (`user`, `reason`).
        Refused => "tts.refused",
    }
);

named_enum!(
    /// The state of a channel-point or Kick reward redemption.
    RedemptionStatus, "redemption status" {
        /// Waiting for the streamer or an action.
        Unfulfilled => "unfulfilled",
        /// Done.
        Fulfilled => "fulfilled",
        /// Refunded.
        Canceled => "canceled",
    }
);

named_enum!(
    /// A platform connection's health, as reported in `platform.status`.
    ConnectionState, "connection state" {
        /// Connected and receiving.
        Connected => "connected",
        /// Lost and trying again.
        Reconnecting => "reconnecting",
        /// The token is gone or revoked: `roadie auth login` fixes it.
        AuthRequired => "auth_required",
        /// Switched off in the configuration.
        Disabled => "disabled",
    }
);

/// A chat user as platforms report one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The platform's stable user id.
    pub id: String,
    /// The login, lowercase on platforms that have one; it can change.
    pub login: String,
    /// The display name.
    pub name: String,
    /// The user's roles in this channel.
    pub roles: Vec<Role>,
}

/// A channel-point or Kick reward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reward {
    /// The platform's reward id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its cost in channel points.
    pub cost: u64,
}

/// What happened, with the fields the SPEC's event table lists.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A chat line.
    ChatMessage {
        /// The platform's message id.
        message_id: String,
        /// Who wrote it.
        user: User,
        /// The text.
        text: String,
        /// The message id this one replies to.
        reply_to: Option<String>,
    },
    /// A chat line was deleted.
    ChatDeleted {
        /// The deleted message's id.
        message_id: String,
    },
    /// A user was banned or timed out.
    UserBanned {
        /// The user.
        user: User,
        /// When a timeout ends; `None` for a permanent ban.
        until: Option<Timestamp>,
    },
    /// A new follower.
    Follow {
        /// The follower.
        user: User,
    },
    /// A new or renewed subscription or membership.
    Subscription {
        /// The subscriber.
        user: User,
        /// `"1000"`, `"2000"`, `"3000"`, `"prime"` on Twitch; the level name elsewhere.
        tier: String,
        /// Cumulative months, when known.
        months: Option<u32>,
        /// The shared message, if any.
        message: Option<String>,
    },
    /// Gifted subscriptions.
    SubscriptionGift {
        /// The gifter; `None` when anonymous.
        gifter: Option<User>,
        /// How many were gifted.
        count: u32,
        /// The tier gifted.
        tier: String,
    },
    /// Bits or kicks.
    Cheer {
        /// The cheerer; `None` when anonymous.
        user: Option<User>,
        /// How many units.
        amount: u64,
        /// Bits or kicks.
        unit: CheerUnit,
        /// The message sent with it.
        message: Option<String>,
    },
    /// Money: Super Chat or Super Sticker.
    Tip {
        /// Who paid.
        user: User,
        /// The amount as a decimal string, exact.
        amount: String,
        /// ISO 4217 currency code.
        currency: String,
        /// The message sent with it.
        message: Option<String>,
    },
    /// An incoming raid.
    Raid {
        /// The raiding channel.
        from: User,
        /// How many viewers came.
        viewers: u64,
    },
    /// A reward redemption.
    Redemption {
        /// The platform's redemption id.
        redemption_id: String,
        /// Who redeemed.
        user: User,
        /// The reward.
        reward: Reward,
        /// Text the viewer entered, if the reward asks for it.
        input: Option<String>,
        /// Its state.
        status: RedemptionStatus,
    },
    /// The stream went live.
    StreamOnline {
        /// Stream title, when known.
        title: Option<String>,
        /// Category or game, when known.
        category: Option<String>,
    },
    /// The stream ended.
    StreamOffline {
        /// Stream title, when known.
        title: Option<String>,
        /// Category or game, when known.
        category: Option<String>,
    },
    /// Title or category changed.
    StreamUpdated {
        /// New title, when known.
        title: Option<String>,
        /// New category, when known.
        category: Option<String>,
    },
    /// A concurrent-viewer sample.
    Viewers {
        /// How many are watching.
        count: u64,
    },
    /// A platform connection changed state.
    PlatformStatus {
        /// The new state.
        state: ConnectionState,
        /// A human-readable reason.
        detail: String,
    },
    /// A chat command answered (`command.ran`).
    CommandRan {
        /// The command's name, e.g. `!uptime`.
        command: String,
        /// Who invoked it.
        user: User,
        /// The reply sent, if any.
        reply: Option<String>,
        /// The command's use counter after this use (0 for built-ins).
        count: u64,
    },
    /// A viewer's points balance changed (`points.changed`).
    PointsChanged {
        /// The viewer whose account changed.
        user: User,
        /// The change.
        delta: i64,
        /// The balance after it, shared by linked accounts.
        balance: i64,
        /// Why: `watch`, `chat`, `give`, `take`, an action's name...
        reason: String,
    },
    /// An action finished (`action.ran`).
    ActionRan {
        /// The action's name.
        action: String,
        /// What started it: `command`, `redemption`, `follow`, `api`, `cli`...
        trigger: String,
        /// The viewer it ran for, if any.
        user: Option<User>,
        /// Whether every step that ran succeeded.
        ok: bool,
        /// Each step that ran, in order.
        steps: Vec<StepOutcome>,
    },
    /// The text-to-speech queue moved (`tts.*`).
    Tts {
        /// Which `tts.*` event.
        phase: TtsPhase,
        /// Its fields (see docs/events.md).
        data: serde_json::Value,
    },
    /// Something happened in or with OBS (`obs.*`).
    Obs {
        /// Which `obs.*` event.
        topic: ObsTopic,
        /// Its fields (see docs/events.md).
        data: serde_json::Value,
    },
    /// A user-defined event (from an action step, the API or the CLI).
    Custom {
        /// The event's name, chosen by the user.
        name: String,
        /// Free-form JSON payload.
        data: serde_json::Value,
    },
}

/// One step of an action run, as reported in `action.ran`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    /// The step's position, from 0.
    pub index: usize,
    /// Its kind, e.g. `chat`, `tts`, `obs_scene`.
    pub kind: String,
    /// `None` when it succeeded; otherwise why it failed.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub elapsed_ms: u64,
}

impl EventKind {
    /// Every wire type name, for filters and documentation.
    pub const TYPE_NAMES: &'static [&'static str] = &[
        "chat.message",
        "chat.deleted",
        "user.banned",
        "follow",
        "subscription",
        "subscription.gift",
        "cheer",
        "tip",
        "raid",
        "redemption",
        "stream.online",
        "stream.offline",
        "stream.updated",
        "viewers",
        "platform.status",
        "command.ran",
        "points.changed",
        "action.ran",
        "obs.status",
        "obs.scene",
        "obs.stream",
        "obs.record",
        "obs.source",
        "tts.queued",
        "tts.started",
        "tts.finished",
        "tts.skipped",
        "tts.refused",
        "custom",
    ];

    /// The event's wire type name, as in the SPEC's table.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::ChatMessage { .. } => "chat.message",
            EventKind::ChatDeleted { .. } => "chat.deleted",
            EventKind::UserBanned { .. } => "user.banned",
            EventKind::Follow { .. } => "follow",
            EventKind::Subscription { .. } => "subscription",
            EventKind::SubscriptionGift { .. } => "subscription.gift",
            EventKind::Cheer { .. } => "cheer",
            EventKind::Tip { .. } => "tip",
            EventKind::Raid { .. } => "raid",
            EventKind::Redemption { .. } => "redemption",
            EventKind::StreamOnline { .. } => "stream.online",
            EventKind::StreamOffline { .. } => "stream.offline",
            EventKind::StreamUpdated { .. } => "stream.updated",
            EventKind::Viewers { .. } => "viewers",
            EventKind::PlatformStatus { .. } => "platform.status",
            EventKind::CommandRan { .. } => "command.ran",
            EventKind::PointsChanged { .. } => "points.changed",
            EventKind::ActionRan { .. } => "action.ran",
            EventKind::Obs { topic, .. } => topic.as_str(),
            EventKind::Tts { phase, .. } => phase.as_str(),
            EventKind::Custom { .. } => "custom",
        }
    }
}

/// An event as a producer hands it to the bus: not yet numbered or stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Where it came from.
    pub platform: Platform,
    /// When it happened (or was received).
    pub at: Timestamp,
    /// What happened.
    pub kind: EventKind,
}

/// An event after the bus numbered it: what the log stores and subscribers receive.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// Unique, time-sortable id.
    pub id: EventId,
    /// The event.
    pub event: Event,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for platform in Platform::ALL {
            assert_eq!(platform.as_str().parse::<Platform>(), Ok(*platform));
        }
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        let error = "twitter".parse::<Platform>().unwrap_err();
        assert!(error.to_string().contains("twitch kick youtube roadie"));
    }

    #[test]
    fn type_names_cover_every_kind() {
        let samples = [
            EventKind::Viewers { count: 1 },
            EventKind::Custom {
                name: "x".into(),
                data: serde_json::Value::Null,
            },
            EventKind::ChatDeleted {
                message_id: "m".into(),
            },
        ];
        for sample in samples {
            assert!(EventKind::TYPE_NAMES.contains(&sample.type_name()));
        }
    }
}
