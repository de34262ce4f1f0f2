//! Actions: named lists of steps (chat reply, TTS, OBS changes, points, waits, scripts,
//! custom events) run when one of their triggers matches an event, or on demand by name
//! (API, CLI, Stream Deck: no trigger needed). This module holds the model, trigger
//! matching, the per-action [`RunQueue`] and the step-error policy; the daemon performs
//! the steps and reports them back as [`StepReport`]s.

use crate::builtin::BuiltinCommand;
use crate::command::CommandName;
use crate::dispatch::Environment;
use crate::matcher::parse_invocation;
use crate::role::RoleGate;
use crate::template::{FollowAge, Template, TemplateContext};
use roadie_core::{EventKind, Platform, RedemptionStatus, Reward, Timestamp, UnknownName, User};
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The longest action name, in characters.
pub const MAX_ACTION_NAME_LEN: usize = 64;

/// The most steps one action may have.
pub const MAX_STEPS: usize = 100;

/// The most triggers one action may have.
pub const MAX_TRIGGERS: usize = 32;

/// The longest `wait` step: ten minutes.
pub const MAX_WAIT: Duration = Duration::from_secs(600);

/// The most runs of one action that may wait in its queue; more are refused.
pub const MAX_QUEUED: usize = 50;

/// The longest name-like step field (scene, source, voice, script, event name, points
/// reason) and reward id or title, in bytes.
pub const MAX_LABEL_BYTES: usize = 256;

/// The longest decimal amount, in bytes.
pub const MAX_DECIMAL_BYTES: usize = 32;

/// A valid action name: 1 to 64 of `[a-z0-9_-]`, stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionName(String);

/// Why an action name is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionNameError {
    /// The name is empty.
    #[error("the action name is empty; expected 1 to {MAX_ACTION_NAME_LEN} of a-z, 0-9, _ or -")]
    Empty,
    /// More than [`MAX_ACTION_NAME_LEN`] characters.
    #[error("action name {given:?} is longer than {MAX_ACTION_NAME_LEN} characters")]
    TooLong {
        /// The name as given.
        given: String,
    },
    /// A character outside `[a-z0-9_-]` (after lowercasing).
    #[error(
        "action name {given:?} has {found:?} at byte column {column}; expected a-z, 0-9, _ or -"
    )]
    BadCharacter {
        /// The name as given.
        given: String,
        /// The offending character.
        found: char,
        /// Its 1-based byte column in `given`.
        column: usize,
    },
}

impl ActionName {
    /// Validates `text`, lowercasing ASCII letters (`Hydrate` becomes `hydrate`).
    pub fn parse(text: &str) -> Result<ActionName, ActionNameError> {
        if text.is_empty() {
            return Err(ActionNameError::Empty);
        }
        for (offset, found) in text.char_indices() {
            if !(found.is_ascii_alphanumeric() || found == '_' || found == '-') {
                return Err(ActionNameError::BadCharacter {
                    given: text.to_owned(),
                    found,
                    column: offset + 1,
                });
            }
        }
        // All ASCII from here, so bytes are characters.
        if text.len() > MAX_ACTION_NAME_LEN {
            return Err(ActionNameError::TooLong {
                given: text.to_owned(),
            });
        }
        Ok(ActionName(text.to_ascii_lowercase()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ActionName {
    type Err = ActionNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ActionName::parse(text)
    }
}

// Sound because `ActionName` hashes and compares exactly like its `String`.
impl Borrow<str> for ActionName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, $expected:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The configuration name.
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
                        expected: $expected,
                    }),
                }
            }
        }
    };
}

word_enum!(
    /// What an `obs_source` step does to a scene item's visibility.
    SourceState, "source state", "on, off, toggle" {
        /// Show it.
        On => "on",
        /// Hide it.
        Off => "off",
        /// Show it when hidden, hide it when shown.
        Toggle => "toggle",
    }
);

word_enum!(
    /// What an `obs_media` step does to a media input.
    MediaAction, "media action", "play, pause, restart, stop" {
        /// Play (resume).
        Play => "play",
        /// Pause.
        Pause => "pause",
        /// Play from the start.
        Restart => "restart",
        /// Stop.
        Stop => "stop",
    }
);

word_enum!(
    /// What happens to the rest of a run when a step fails.
    #[derive(Default)]
    OnError, "error policy", "stop, continue" {
        /// Skip the remaining steps (the default).
        #[default]
        Stop => "stop",
        /// Report the failure and run the next step anyway.
        Continue => "continue",
    }
);

/// One thing an action does. Templates here are parsed for
/// [`VariableSet::Action`](crate::template::VariableSet::Action).
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send a chat message on the platform the trigger came from (or the daemon's
    /// default for runs by name).
    Chat {
        /// The message.
        text: Template,
    },
    /// Queue text for text to speech.
    Tts {
        /// What to say.
        text: Template,
        /// The voice; `None` for the viewer's or the default voice.
        voice: Option<String>,
    },
    /// Switch OBS to a scene.
    ObsScene {
        /// The scene's name.
        scene: String,
    },
    /// Show, hide or toggle a source in a scene.
    ObsSource {
        /// The scene holding the source.
        scene: String,
        /// The source's name.
        source: String,
        /// What to do.
        state: SourceState,
    },
    /// Set the text of a text source.
    ObsText {
        /// The text source's name.
        source: String,
        /// The new text.
        text: Template,
    },
    /// Control a media input.
    ObsMedia {
        /// The media input's name.
        source: String,
        /// What to do.
        action: MediaAction,
    },
    /// Change the triggering viewer's points (negative spends; a run without a viewer
    /// fails this step).
    Points {
        /// Points added, or taken when negative; never zero.
        delta: i64,
        /// The ledger entry's reason.
        reason: String,
    },
    /// Pause before the next step.
    Wait {
        /// How long; at most [`MAX_WAIT`].
        duration: Duration,
    },
    /// Run a stored user script.
    Script {
        /// The script's name, as the daemon stores it.
        script: String,
    },
    /// Emit a custom event (`EventKind::Custom`).
    Event {
        /// The event's name.
        name: String,
        /// Its payload; `Null` for none.
        data: serde_json::Value,
    },
}

/// Why a step is not valid. [`StepError::field`] names the offending field as the
/// config document spells it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// A name-like field is empty or only whitespace.
    #[error("`{field}` is empty; expected some text")]
    Blank {
        /// The field.
        field: &'static str,
    },
    /// A name-like field is longer than [`MAX_LABEL_BYTES`].
    #[error("`{field}` is {len} bytes long; expected at most {MAX_LABEL_BYTES}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// A name-like field holds a control character (a newline, say).
    #[error("`{field}` contains a control character; expected a single line of text")]
    Control {
        /// The field.
        field: &'static str,
    },
    /// A wait longer than [`MAX_WAIT`].
    #[error("a wait of {}s is too long; expected at most {}s", given.as_secs_f64(), MAX_WAIT.as_secs())]
    WaitTooLong {
        /// The duration given.
        given: Duration,
    },
    /// A points step that changes nothing.
    #[error("a points change of 0 does nothing; expected a positive or negative whole number")]
    ZeroPoints,
}

impl StepError {
    /// The offending field's name in the config document.
    pub fn field(&self) -> &'static str {
        match self {
            StepError::Blank { field }
            | StepError::TooLong { field, .. }
            | StepError::Control { field } => field,
            StepError::WaitTooLong { .. } => "seconds",
            StepError::ZeroPoints => "delta",
        }
    }
}

/// Checks a name-like text: not blank, at most [`MAX_LABEL_BYTES`], no control
/// characters.
fn check_label(field: &'static str, text: &str) -> Result<(), StepError> {
    if text.trim().is_empty() {
        return Err(StepError::Blank { field });
    }
    if text.len() > MAX_LABEL_BYTES {
        return Err(StepError::TooLong {
            field,
            len: text.len(),
        });
    }
    if text.chars().any(char::is_control) {
        return Err(StepError::Control { field });
    }
    Ok(())
}

impl Step {
    /// The step's type name, as the config document's `type` spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Chat { .. } => "chat",
            Step::Tts { .. } => "tts",
            Step::ObsScene { .. } => "obs_scene",
            Step::ObsSource { .. } => "obs_source",
            Step::ObsText { .. } => "obs_text",
            Step::ObsMedia { .. } => "obs_media",
            Step::Points { .. } => "points",
            Step::Wait { .. } => "wait",
            Step::Script { .. } => "script",
            Step::Event { .. } => "event",
        }
    }

    /// Checks the fields a [`Template`] does not already guarantee.
    pub fn check(&self) -> Result<(), StepError> {
        match self {
            Step::Chat { .. } => Ok(()),
            Step::Tts { voice, .. } => voice
                .as_deref()
                .map_or(Ok(()), |voice| check_label("voice", voice)),
            Step::ObsScene { scene } => check_label("scene", scene),
            Step::ObsSource { scene, source, .. } => {
                check_label("scene", scene)?;
                check_label("source", source)
            }
            Step::ObsText { source, .. } | Step::ObsMedia { source, .. } => {
                check_label("source", source)
            }
            Step::Points { delta, reason } => {
                if *delta == 0 {
                    return Err(StepError::ZeroPoints);
                }
                check_label("reason", reason)
            }
            Step::Wait { duration } => {
                if *duration > MAX_WAIT {
                    return Err(StepError::WaitTooLong { given: *duration });
                }
                Ok(())
            }
            Step::Script { script } => check_label("script", script),
            Step::Event { name, .. } => check_label("name", name),
        }
    }
}

/// An exact, non-negative decimal amount such as `5`, `4.99` or `0.5`: digits with an
/// optional `.` and at least one digit on each side of it. Compared by value, never
/// through floating point, so `4.99 < 5.00` and `5 == 5.00` hold exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal(String);

/// Why a decimal amount is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// Nothing given.
    #[error("the amount is empty; expected a decimal such as 5 or 4.99")]
    Empty,
    /// Longer than [`MAX_DECIMAL_BYTES`].
    #[error("the amount is {len} bytes long; expected at most {MAX_DECIMAL_BYTES}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A character other than a digit or the one `.`.
    #[error(
        "amount {given:?} has {found:?} at byte column {column}; expected digits with an optional `.`, such as 4.99"
    )]
    BadCharacter {
        /// The amount as given.
        given: String,
        /// The offending character.
        found: char,
        /// Its 1-based byte column.
        column: usize,
    },
    /// No digit before or after the `.` (`.5`, `5.`).
    #[error("amount {given:?} needs digits on both sides of `.`; expected a decimal such as 0.5")]
    MissingDigits {
        /// The amount as given.
        given: String,
    },
}

impl Decimal {
    /// Validates `text` (kept as written; see [`Decimal::cmp_value`] for comparison).
    pub fn parse(text: &str) -> Result<Decimal, DecimalError> {
        if text.is_empty() {
            return Err(DecimalError::Empty);
        }
        if text.len() > MAX_DECIMAL_BYTES {
            return Err(DecimalError::TooLong { len: text.len() });
        }
        let mut seen_point = false;
        for (offset, found) in text.char_indices() {
            let ok = found.is_ascii_digit() || (found == '.' && !seen_point);
            if !ok {
                return Err(DecimalError::BadCharacter {
                    given: text.to_owned(),
                    found,
                    column: offset + 1,
                });
            }
            seen_point |= found == '.';
        }
        let (whole, fraction) = split_point(text);
        if whole.is_empty() || fraction.is_some_and(str::is_empty) {
            return Err(DecimalError::MissingDigits {
                given: text.to_owned(),
            });
        }
        Ok(Decimal(text.to_owned()))
    }

    /// The amount as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the amount is zero (`0`, `0.00`...).
    pub fn is_zero(&self) -> bool {
        self.0.bytes().all(|b| b == b'0' || b == b'.')
    }

    /// Compares by value: leading zeros of the whole part and trailing zeros of the
    /// fraction do not matter.
    pub fn cmp_value(&self, other: &Decimal) -> Ordering {
        let (a_whole, a_fraction) = split_point(&self.0);
        let (b_whole, b_fraction) = split_point(&other.0);
        let a_whole = a_whole.trim_start_matches('0');
        let b_whole = b_whole.trim_start_matches('0');
        // Digits only, so a longer whole part is a larger number and equal lengths
        // compare like strings.
        let whole = a_whole
            .len()
            .cmp(&b_whole.len())
            .then_with(|| a_whole.cmp(b_whole));
        whole.then_with(|| {
            let a = a_fraction.unwrap_or_default().as_bytes();
            let b = b_fraction.unwrap_or_default().as_bytes();
            (0..a.len().max(b.len()))
                .map(|i| {
                    let digit = |bytes: &[u8]| bytes.get(i).copied().unwrap_or(b'0');
                    digit(a).cmp(&digit(b))
                })
                .find(|ordering| ordering.is_ne())
                .unwrap_or(Ordering::Equal)
        })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Decimal::parse(text)
    }
}

fn split_point(text: &str) -> (&str, Option<&str>) {
    match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    }
}

/// Which reward a redemption trigger answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewardMatch {
    /// The platform's reward id, exactly.
    Id(String),
    /// The reward's title, ignoring case and surrounding whitespace (titles can be
    /// renamed; ids cannot).
    Title(String),
}

impl RewardMatch {
    /// Whether `reward` is the one meant.
    pub fn matches(&self, reward: &Reward) -> bool {
        match self {
            RewardMatch::Id(id) => *id == reward.id,
            RewardMatch::Title(title) => {
                title.trim().to_lowercase() == reward.title.trim().to_lowercase()
            }
        }
    }
}

/// What kind of event starts an action, with its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerKind {
    /// A chat line starting with `name`; the words after it become `$(input)`.
    Command {
        /// The word, with its `!`.
        name: CommandName,
        /// Who may trigger it (OBS changes are rarely for everyone).
        role: RoleGate,
    },
    /// A reward redemption, when it arrives (status `unfulfilled`), not on the
    /// later fulfilment or refund.
    Redemption {
        /// Which reward.
        reward: RewardMatch,
    },
    /// A new follower.
    Follow,
    /// A new or renewed subscription or membership.
    Subscription {
        /// At least this many cumulative months; a sub whose months the platform does
        /// not report counts as one month.
        min_months: Option<u32>,
    },
    /// Gifted subscriptions.
    Gift {
        /// At least this many gifted at once.
        min_count: u32,
    },
    /// Bits or kicks.
    Cheer {
        /// At least this many units.
        min_amount: u64,
    },
    /// An incoming raid.
    Raid {
        /// At least this many viewers.
        min_viewers: u64,
    },
    /// A Super Chat or Super Sticker.
    Tip {
        /// At least this amount, compared exactly as decimals in the tip's own
        /// currency (no conversion).
        min_amount: Decimal,
        /// Only tips in this ISO 4217 currency (compared ignoring case); `None` for
        /// any currency.
        currency: Option<String>,
    },
}

impl TriggerKind {
    /// The trigger's type name, as the config document's `type` spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            TriggerKind::Command { .. } => "command",
            TriggerKind::Redemption { .. } => "redemption",
            TriggerKind::Follow => "follow",
            TriggerKind::Subscription { .. } => "subscription",
            TriggerKind::Gift { .. } => "gift",
            TriggerKind::Cheer { .. } => "cheer",
            TriggerKind::Raid { .. } => "raid",
            TriggerKind::Tip { .. } => "tip",
        }
    }
}

/// An event that starts an action, optionally restricted to some platforms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The event and threshold.
    pub kind: TriggerKind,
    /// The platforms it answers on; empty means all of them.
    pub platforms: Vec<Platform>,
}

/// Why a trigger is not valid. [`TriggerError::field`] names the offending field as
/// the config document spells it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriggerError {
    /// A command trigger on a built-in's word.
    #[error("{name} is a built-in command; expected a word of the action's own")]
    Builtin {
        /// The word.
        name: CommandName,
    },
    /// A reward id or title that is empty, too long or has control characters.
    #[error("the reward {field} is empty, longer than {MAX_LABEL_BYTES} bytes or not one line")]
    BadReward {
        /// `reward` (title) or `reward_id`.
        field: &'static str,
    },
    /// A currency that is not three ASCII letters.
    #[error("currency {given:?} is not valid; expected a three-letter ISO 4217 code such as USD")]
    BadCurrency {
        /// The currency as given.
        given: String,
    },
    /// A platform listed twice.
    #[error("platform {platform} is listed twice")]
    RepeatedPlatform {
        /// The platform.
        platform: Platform,
    },
}

impl TriggerError {
    /// The offending field's name in the config document.
    pub fn field(&self) -> &'static str {
        match self {
            TriggerError::Builtin { .. } => "name",
            TriggerError::BadReward { field } => field,
            TriggerError::BadCurrency { .. } => "currency",
            TriggerError::RepeatedPlatform { .. } => "platforms",
        }
    }
}

/// What a matched trigger hands to the run: the viewer, their input and the amount,
/// for templates (`$(user)`, `$(input)`, `$(amount)`, `$(reward)`) and `points` steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerContext {
    /// The viewer who caused it; `None` for an anonymous cheer or gift, or a run by
    /// name without `--user`.
    pub user: Option<User>,
    /// Redemption input, a command's words after the name, a cheer's, sub's or tip's
    /// message, or `--input`.
    pub input: Option<String>,
    /// Bits or kicks, a tip's decimal amount, a sub's months, a gift's count or a
    /// raid's viewers, as text.
    pub amount: Option<String>,
    /// The redeemed reward.
    pub reward: Option<Reward>,
}

impl TriggerContext {
    /// The context of a run by name (API, CLI `--user`/`--input`, Stream Deck).
    pub fn manual(user: Option<User>, input: Option<String>) -> TriggerContext {
        TriggerContext {
            user,
            input,
            ..TriggerContext::default()
        }
    }
}

impl Trigger {
    /// A trigger on every platform.
    pub fn new(kind: TriggerKind) -> Trigger {
        Trigger {
            kind,
            platforms: Vec::new(),
        }
    }

    /// Checks what the types do not already guarantee.
    pub fn check(&self) -> Result<(), TriggerError> {
        for (index, platform) in self.platforms.iter().enumerate() {
            if self.platforms[..index].contains(platform) {
                return Err(TriggerError::RepeatedPlatform {
                    platform: *platform,
                });
            }
        }
        match &self.kind {
            TriggerKind::Command { name, .. } => {
                if BuiltinCommand::lookup(name.as_str()).is_some() {
                    return Err(TriggerError::Builtin { name: name.clone() });
                }
            }
            TriggerKind::Redemption { reward } => {
                let (field, text) = match reward {
                    RewardMatch::Id(id) => ("reward_id", id),
                    RewardMatch::Title(title) => ("reward", title),
                };
                if check_label(field, text).is_err() {
                    return Err(TriggerError::BadReward { field });
                }
            }
            TriggerKind::Tip {
                currency: Some(currency),
                ..
            } => {
                if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(TriggerError::BadCurrency {
                        given: currency.clone(),
                    });
                }
            }
            TriggerKind::Follow
            | TriggerKind::Subscription { .. }
            | TriggerKind::Gift { .. }
            | TriggerKind::Cheer { .. }
            | TriggerKind::Raid { .. }
            | TriggerKind::Tip { currency: None, .. } => {}
        }
        Ok(())
    }

    /// Whether `event` on `platform` fires this trigger, and with what context.
    pub fn matches(&self, platform: Platform, event: &EventKind) -> Option<TriggerContext> {
        if !self.platforms.is_empty() && !self.platforms.contains(&platform) {
            return None;
        }
        let context =
            |user: Option<&User>, input: Option<&String>, amount: Option<String>| TriggerContext {
                user: user.cloned(),
                input: input.cloned(),
                amount,
                reward: None,
            };
        match (&self.kind, event) {
            (TriggerKind::Command { name, role }, EventKind::ChatMessage { user, text, .. }) => {
                let invocation = parse_invocation(text)?;
                if !invocation.word.eq_ignore_ascii_case(name.as_str()) || !role.admits(user) {
                    return None;
                }
                let input = invocation.args.join(" ");
                Some(TriggerContext {
                    user: Some(user.clone()),
                    input: (!input.is_empty()).then_some(input),
                    ..TriggerContext::default()
                })
            }
            (
                TriggerKind::Redemption { reward: wanted },
                EventKind::Redemption {
                    user,
                    reward,
                    input,
                    status,
                    ..
                },
            ) => (*status == RedemptionStatus::Unfulfilled && wanted.matches(reward)).then(|| {
                TriggerContext {
                    reward: Some(reward.clone()),
                    ..context(Some(user), input.as_ref(), None)
                }
            }),
            (TriggerKind::Follow, EventKind::Follow { user }) => {
                Some(context(Some(user), None, None))
            }
            (
                TriggerKind::Subscription { min_months },
                EventKind::Subscription {
                    user,
                    months,
                    message,
                    ..
                },
            ) => (months.unwrap_or(1) >= min_months.unwrap_or(0)).then(|| {
                context(
                    Some(user),
                    message.as_ref(),
                    months.map(|months| months.to_string()),
                )
            }),
            (
                TriggerKind::Gift { min_count },
                EventKind::SubscriptionGift { gifter, count, .. },
            ) => (count >= min_count)
                .then(|| context(gifter.as_ref(), None, Some(count.to_string()))),
            (
                TriggerKind::Cheer { min_amount },
                EventKind::Cheer {
                    user,
                    amount,
                    message,
                    ..
                },
            ) => (amount >= min_amount)
                .then(|| context(user.as_ref(), message.as_ref(), Some(amount.to_string()))),
            (TriggerKind::Raid { min_viewers }, EventKind::Raid { from, viewers }) => (viewers
                >= min_viewers)
                .then(|| context(Some(from), None, Some(viewers.to_string()))),
            (
                TriggerKind::Tip {
                    min_amount,
                    currency: wanted,
                },
                EventKind::Tip {
                    user,
                    amount,
                    currency,
                    message,
                },
            ) => {
                if let Some(wanted) = wanted
                    && !wanted.eq_ignore_ascii_case(currency)
                {
                    return None;
                }
                // A malformed amount from a platform never fires a trigger.
                let paid = Decimal::parse(amount).ok()?;
                paid.cmp_value(min_amount)
                    .is_ge()
                    .then(|| context(Some(user), message.as_ref(), Some(amount.clone())))
            }
            _ => None,
        }
    }
}

/// How many runs of one action may happen at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Concurrency {
    /// One run at a time; more wait in order, up to [`MAX_QUEUED`] (the default).
    #[default]
    Queue,
    /// Up to `max` runs at once (at least 1); more wait in order, up to [`MAX_QUEUED`].
    Parallel {
        /// Runs at once.
        max: u32,
    },
    /// One run at a time; a trigger while it runs is dropped.
    SkipIfBusy,
}

impl Concurrency {
    /// The configuration name: `queue`, `parallel` or `skip_if_busy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Concurrency::Queue => "queue",
            Concurrency::Parallel { .. } => "parallel",
            Concurrency::SkipIfBusy => "skip_if_busy",
        }
    }

    /// Runs allowed at once (`Parallel { max: 0 }` counts as 1).
    pub fn slots(self) -> usize {
        match self {
            Concurrency::Parallel { max } => usize::try_from(max).unwrap_or(usize::MAX).max(1),
            Concurrency::Queue | Concurrency::SkipIfBusy => 1,
        }
    }
}

/// Why an action definition is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// No steps.
    #[error("the action has no steps; expected at least one")]
    NoSteps,
    /// More than [`MAX_STEPS`] steps.
    #[error("the action has {count} steps; expected at most {MAX_STEPS}")]
    TooManySteps {
        /// How many.
        count: usize,
    },
    /// More than [`MAX_TRIGGERS`] triggers.
    #[error("the action has {count} triggers; expected at most {MAX_TRIGGERS}")]
    TooManyTriggers {
        /// How many.
        count: usize,
    },
    /// A step is not valid.
    #[error("steps[{index}]: {error}")]
    Step {
        /// The step's 0-based position.
        index: usize,
        /// What is wrong with it.
        error: StepError,
    },
    /// A trigger is not valid.
    #[error("triggers[{index}]: {error}")]
    Trigger {
        /// The trigger's 0-based position.
        index: usize,
        /// What is wrong with it.
        error: TriggerError,
    },
    /// `Parallel { max: 0 }`.
    #[error("parallel runs need a maximum of at least 1")]
    ZeroParallel,
}

/// An action as the streamer configured it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionDef {
    /// Its name, by which the API, the CLI and Stream Deck keys run it.
    pub name: ActionName,
    /// What it does, in order.
    pub steps: Vec<Step>,
    /// Events that start it; it can always be run by name too.
    pub triggers: Vec<Trigger>,
    /// How many runs may happen at once.
    pub concurrency: Concurrency,
    /// Whether a failed step ends the run.
    pub on_error: OnError,
    /// Switched off actions stay listed but never run.
    pub enabled: bool,
}

impl ActionDef {
    /// A validated, enabled action without triggers, queueing its runs and stopping at
    /// the first failed step.
    pub fn new(name: ActionName, steps: Vec<Step>) -> Result<ActionDef, ActionError> {
        let def = ActionDef {
            name,
            steps,
            triggers: Vec::new(),
            concurrency: Concurrency::Queue,
            on_error: OnError::Stop,
            enabled: true,
        };
        def.validate()?;
        Ok(def)
    }

    /// Checks the whole definition (for one assembled field by field).
    pub fn validate(&self) -> Result<(), ActionError> {
        if self.steps.is_empty() {
            return Err(ActionError::NoSteps);
        }
        if self.steps.len() > MAX_STEPS {
            return Err(ActionError::TooManySteps {
                count: self.steps.len(),
            });
        }
        if self.triggers.len() > MAX_TRIGGERS {
            return Err(ActionError::TooManyTriggers {
                count: self.triggers.len(),
            });
        }
        for (index, step) in self.steps.iter().enumerate() {
            step.check()
                .map_err(|error| ActionError::Step { index, error })?;
        }
        for (index, trigger) in self.triggers.iter().enumerate() {
            trigger
                .check()
                .map_err(|error| ActionError::Trigger { index, error })?;
        }
        if self.concurrency == (Concurrency::Parallel { max: 0 }) {
            return Err(ActionError::ZeroParallel);
        }
        Ok(())
    }

    /// The context of the first trigger `event` on `platform` fires; `None` when none
    /// does or the action is switched off.
    pub fn triggered_by(&self, platform: Platform, event: &EventKind) -> Option<TriggerContext> {
        if !self.enabled {
            return None;
        }
        self.triggers
            .iter()
            .find_map(|trigger| trigger.matches(platform, event))
    }

    /// Renders one of this action's step templates for a run on `platform` (the
    /// trigger's platform, or the daemon's default for runs by name). Without a viewer
    /// (`$(user)` of an anonymous cheer) the caller is named `Anonymous`; `$(args)` and
    /// `$(arg N)` are the words of `$(input)`.
    pub fn render(
        &self,
        template: &Template,
        platform: Platform,
        trigger: &TriggerContext,
        env: &dyn Environment,
    ) -> String {
        let args: Vec<&str> = trigger
            .input
            .as_deref()
            .map(|input| input.split_whitespace().collect())
            .unwrap_or_default();
        template.render(&ActionContext {
            action: self.name.as_str(),
            anonymous: User {
                id: String::new(),
                login: String::new(),
                name: "Anonymous".to_owned(),
                roles: Vec::new(),
            },
            args,
            trigger,
            platform,
            env,
        })
    }
}

/// Every enabled action in `actions` that `event` on `platform` triggers, in order,
/// with its context.
pub fn triggered<'a>(
    actions: &'a [ActionDef],
    platform: Platform,
    event: &EventKind,
) -> Vec<(&'a ActionDef, TriggerContext)> {
    actions
        .iter()
        .filter_map(|action| {
            action
                .triggered_by(platform, event)
                .map(|context| (action, context))
        })
        .collect()
}

/// One run's view for a template.
struct ActionContext<'a> {
    action: &'a str,
    anonymous: User,
    args: Vec<&'a str>,
    trigger: &'a TriggerContext,
    platform: Platform,
    env: &'a dyn Environment,
}

impl TemplateContext for ActionContext<'_> {
    fn caller(&self) -> &User {
        self.trigger.user.as_ref().unwrap_or(&self.anonymous)
    }
    fn args(&self) -> &[&str] {
        &self.args
    }
    fn count(&self) -> u64 {
        // Action templates cannot use `$(count)` (see `VariableSet::Action`).
        0
    }
    fn points(&self) -> i64 {
        self.env.points(self.platform, self.caller())
    }
    fn uptime(&self) -> Option<Duration> {
        self.env.uptime(self.platform)
    }
    fn followage(&self) -> FollowAge {
        match &self.trigger.user {
            Some(user) => self.env.followage(self.platform, user),
            None => FollowAge::Unknown,
        }
    }
    fn platform(&self) -> Platform {
        self.platform
    }
    fn now(&self) -> Timestamp {
        self.env.now()
    }
    fn random(&self, low: i64, high: i64) -> i64 {
        self.env.random(low, high)
    }
    fn input(&self) -> Option<&str> {
        self.trigger.input.as_deref()
    }
    fn amount(&self) -> Option<&str> {
        self.trigger.amount.as_deref()
    }
    fn reward(&self) -> Option<&str> {
        self.trigger
            .reward
            .as_ref()
            .map(|reward| reward.title.as_str())
    }
    fn action(&self) -> Option<&str> {
        Some(self.action)
    }
}

/// The daemon's id for one run of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub u64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run {}", self.0)
    }
}

/// What [`RunQueue::offer`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Start the run now.
    Start,
    /// The run waits; its 1-based place in the queue.
    Queued(usize),
    /// The run will not happen.
    Refused(Refusal),
}

/// Why a run was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The action skips triggers while it runs.
    #[error("the action is already running and skips triggers while busy")]
    Busy,
    /// The queue is full.
    #[error("{limit} runs of the action are already waiting; expected fewer, try again later")]
    QueueFull {
        /// [`MAX_QUEUED`].
        limit: usize,
    },
    /// The id is already running or waiting.
    #[error("{run} is already running or waiting")]
    Duplicate {
        /// The id offered twice.
        run: RunId,
    },
}

/// One action's runs: which are running and which wait, by its [`Concurrency`]. The
/// daemon offers each new run and reports each finished one; the queue says what to
/// start. Waiting runs start in the order offered.
#[derive(Debug, Clone)]
pub struct RunQueue {
    concurrency: Concurrency,
    running: Vec<RunId>,
    waiting: VecDeque<RunId>,
}

impl RunQueue {
    /// An idle queue.
    pub fn new(concurrency: Concurrency) -> RunQueue {
        RunQueue {
            concurrency,
            running: Vec::new(),
            waiting: VecDeque::new(),
        }
    }

    /// The policy.
    pub fn concurrency(&self) -> Concurrency {
        self.concurrency
    }

    /// Admits a new run: start it, queue it, or refuse it.
    pub fn offer(&mut self, run: RunId) -> Admission {
        if self.running.contains(&run) || self.waiting.contains(&run) {
            return Admission::Refused(Refusal::Duplicate { run });
        }
        if self.running.len() < self.concurrency.slots() {
            self.running.push(run);
            return Admission::Start;
        }
        if self.concurrency == Concurrency::SkipIfBusy {
            return Admission::Refused(Refusal::Busy);
        }
        if self.waiting.len() >= MAX_QUEUED {
            return Admission::Refused(Refusal::QueueFull { limit: MAX_QUEUED });
        }
        self.waiting.push_back(run);
        Admission::Queued(self.waiting.len())
    }

    /// Reports that `run` ended (or, for a waiting run, was cancelled): returns the
    /// next run to start, if a slot opened and a run waits. Unknown ids change nothing.
    pub fn finished(&mut self, run: RunId) -> Option<RunId> {
        if let Some(position) = self.waiting.iter().position(|waiting| *waiting == run) {
            self.waiting.remove(position);
            return None;
        }
        let position = self.running.iter().position(|running| *running == run)?;
        self.running.remove(position);
        if self.running.len() >= self.concurrency.slots() {
            return None;
        }
        let next = self.waiting.pop_front()?;
        self.running.push(next);
        Some(next)
    }

    /// The runs in progress, oldest first.
    pub fn running(&self) -> &[RunId] {
        &self.running
    }

    /// The runs waiting, next first.
    pub fn waiting(&self) -> impl Iterator<Item = RunId> + '_ {
        self.waiting.iter().copied()
    }

    /// Whether nothing runs or waits.
    pub fn is_idle(&self) -> bool {
        self.running.is_empty() && self.waiting.is_empty()
    }
}

/// What the daemon reports about one performed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// The step's 0-based position in the action.
    pub index: usize,
    /// Its type name ([`Step::kind`]).
    pub kind: &'static str,
    /// Success, or why it failed.
    pub result: Result<(), String>,
    /// How long it took.
    pub elapsed: Duration,
}

/// Whether to go on after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Run the next step.
    Continue,
    /// End the run.
    Stop,
}

/// The next move after a step that ended with `result`, under `on_error`.
pub fn next_after(result: &Result<(), String>, on_error: OnError) -> Next {
    match (result, on_error) {
        (Ok(()), _) | (Err(_), OnError::Continue) => Next::Continue,
        (Err(_), OnError::Stop) => Next::Stop,
    }
}

impl StepReport {
    /// A report for `step` at `index`.
    pub fn new(
        index: usize,
        step: &Step,
        result: Result<(), String>,
        elapsed: Duration,
    ) -> StepReport {
        StepReport {
            index,
            kind: step.kind(),
            result,
            elapsed,
        }
    }
}
