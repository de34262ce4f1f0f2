//! Config as code: a channel's commands, timers and actions as one TOML document the
//! streamer can keep in git (`roadie commands export|import`, `roadie actions
//! export|import`). [`parse`] validates everything and reports every problem with the
//! 1-based line and column of the offending value (the table's header line for a
//! missing field), its dotted path (`commands[2].template`, indices 0-based) and what
//! was expected; [`render`] writes the deterministic form that [`parse`] reads back to
//! an equal [`Document`].
//!
//! ```toml
//! # Chat commands: `roadie commands add` flags, as fields.
//! [[commands]]
//! name = "!discord"                 # `!` and 1 to 32 of a-z 0-9 _
//! template = "Join us: https://discord.gg/x, $(user)!"
//! aliases = ["!dc"]                 # optional
//! cooldown = 30                     # seconds, for everybody (default 0)
//! user_cooldown = 120               # seconds, per viewer (default 0)
//! role = "subscriber"               # everyone (default), subscriber, vip, moderator, broadcaster
//! platforms = ["twitch", "kick"]    # default: all
//! enabled = true                    # default
//!
//! # Timers: posted while live, every `interval` minutes once `min_lines` chat lines came.
//! [[timers]]
//! name = "socials"
//! interval = 15                     # minutes, 1 to 1440
//! min_lines = 5                     # default 0
//! message = "Follow on all platforms! Live for $(uptime)."
//!
//! # Actions: steps run in order when a trigger fires, or by name.
//! [[actions]]
//! name = "hydrate"
//! concurrency = "queue"             # queue (default), skip_if_busy, parallel (+ max_parallel = N)
//! on_error = "stop"                 # stop (default) or continue
//!
//! [[actions.triggers]]
//! type = "redemption"
//! reward = "Hydrate!"               # the title, any case; or reward_id = "..."
//! platforms = ["twitch"]            # any trigger may be restricted
//!
//! [[actions.triggers]]
//! type = "command"
//! name = "!hydrate"
//! role = "moderator"                # default everyone
//!
//! [[actions.steps]]
//! type = "chat"
//! text = "$(user) says: drink water! $(input)"
//!
//! [[actions.steps]]
//! type = "obs_source"
//! scene = "Main"
//! source = "Water glass"
//! state = "on"                      # on, off, toggle
//!
//! [[actions.steps]]
//! type = "wait"
//! seconds = 5                       # up to 600, decimals allowed (milliseconds kept)
//! ```
//!
//! Step types and their fields: `chat` (`text`), `tts` (`text`, optional `voice`),
//! `obs_scene` (`scene`), `obs_source` (`scene`, `source`, `state`), `obs_text`
//! (`source`, `text`), `obs_media` (`source`, `action`: play, pause, restart, stop),
//! `points` (`delta`, `reason`), `wait` (`seconds`), `script` (`script`), `event`
//! (`name`, optional `data`: any TOML value, stored as JSON). Trigger types:
//! `command` (`name`, `role`), `redemption` (`reward` or `reward_id`), `follow`,
//! `subscription` (`min_months`), `gift` (`min_count`, default 1), `cheer`
//! (`min_amount`, default 1), `raid` (`min_viewers`, default 1), `tip` (`min_amount`
//! as a decimal string such as `"4.99"`, default `"0"`; `currency`); each also takes
//! `platforms`. Action templates may use `$(input)`, `$(amount)`, `$(reward)` and
//! `$(action)`; command and timer templates may not.
//!
//! A syntax error, a value of the wrong TOML type in a structural position (say
//! `steps = 5`) or an unknown field stops parsing at that one error; every other
//! problem is collected. What TOML cannot hold is not rendered: sub-second parts of
//! command cooldowns and timer intervals (timer intervals are whole minutes, rounded
//! up), sub-millisecond waits and JSON `null`s in event data.

use crate::action::{
    ActionDef, ActionName, ActionNameError, Concurrency, Decimal, DecimalError, MAX_STEPS,
    MAX_TRIGGERS, MAX_WAIT, MediaAction, OnError, RewardMatch, SourceState, Step, Trigger,
    TriggerKind,
};
use crate::builtin::BuiltinCommand;
use crate::command::{CommandDef, CommandName, CommandSet, CommandSetError, NameError};
use crate::role::RoleGate;
use crate::template::{Template, VariableSet};
use crate::timer::TimerDef;
use roadie_core::Platform;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::ops::{Range, RangeInclusive};
use std::time::Duration;
use toml::{Spanned, Value};

/// The largest document [`parse`] reads, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// The longest command cooldown, in seconds: a week.
pub const MAX_COOLDOWN_SECS: u64 = 7 * 24 * 3600;

/// The longest timer interval, in minutes: a day.
pub const MAX_INTERVAL_MINUTES: u64 = 24 * 60;

/// The most runs a `parallel` action may have at once.
pub const MAX_PARALLEL: u32 = 100;

/// A channel's automation as code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// Chat commands, in document order.
    pub commands: Vec<CommandDef>,
    /// Timers, in document order.
    pub timers: Vec<TimerDef>,
    /// Actions, in document order.
    pub actions: Vec<ActionDef>,
}

impl Document {
    /// The commands as a [`CommandSet`] (a parsed document never collides).
    pub fn command_set(&self) -> Result<CommandSet, CommandSetError> {
        let mut set = CommandSet::new();
        for def in &self.commands {
            set.insert(def.clone())?;
        }
        Ok(set)
    }
}

/// One problem in a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {}{message}", path_prefix(path))]
pub struct DocumentError {
    /// 1-based line of the offending value (of its table's header when missing).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Dotted path to the value (`commands[2].template`, 0-based indices); empty for
    /// the document as a whole.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// Parses and validates a document: every error, sorted by position, or the document.
pub fn parse(text: &str) -> Result<Document, Vec<DocumentError>> {
    let mut checker = Checker {
        text,
        errors: Vec::new(),
    };
    if text.len() > MAX_DOCUMENT_BYTES {
        checker.report(
            0,
            String::new(),
            format!(
                "the document is {} bytes long; expected at most {MAX_DOCUMENT_BYTES}",
                text.len()
            ),
        );
        return Err(checker.errors);
    }
    let raw: RawDocument = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(error) => {
            let offset = error.span().map_or(0, |span| span.start);
            let path = locate(text, offset);
            checker.report(offset, path, error.message().to_owned());
            return Err(checker.errors);
        }
    };
    let document = checker.document(&raw);
    if checker.errors.is_empty() {
        Ok(document)
    } else {
        let mut errors = checker.errors;
        errors.sort_by_key(|error| (error.line, error.column));
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------
// The raw shape, as serde reads it. Leaf values stay `toml::Value` so that every
// problem with them is collected and explained here, with its span.

type Field = Option<Spanned<Value>>;
type List = Option<Spanned<Vec<Spanned<Value>>>>;
type Span = Range<usize>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    #[serde(default)]
    commands: Vec<Spanned<RawCommand>>,
    #[serde(default)]
    timers: Vec<Spanned<RawTimer>>,
    #[serde(default)]
    actions: Vec<Spanned<RawAction>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    name: Field,
    template: Field,
    aliases: List,
    cooldown: Field,
    user_cooldown: Field,
    role: Field,
    platforms: List,
    enabled: Field,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimer {
    name: Field,
    interval: Field,
    min_lines: Field,
    message: Field,
    enabled: Field,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    name: Field,
    concurrency: Field,
    max_parallel: Field,
    on_error: Field,
    enabled: Field,
    #[serde(default)]
    triggers: Vec<Spanned<RawTrigger>>,
    #[serde(default)]
    steps: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrigger {
    #[serde(rename = "type")]
    kind: Field,
    platforms: List,
    name: Field,
    role: Field,
    reward: Field,
    reward_id: Field,
    min_months: Field,
    min_count: Field,
    min_amount: Field,
    min_viewers: Field,
    currency: Field,
}

impl RawTrigger {
    fn fields(&self) -> [(&'static str, &Field); 9] {
        [
            ("name", &self.name),
            ("role", &self.role),
            ("reward", &self.reward),
            ("reward_id", &self.reward_id),
            ("min_months", &self.min_months),
            ("min_count", &self.min_count),
            ("min_amount", &self.min_amount),
            ("min_viewers", &self.min_viewers),
            ("currency", &self.currency),
        ]
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(rename = "type")]
    kind: Field,
    text: Field,
    voice: Field,
    scene: Field,
    source: Field,
    state: Field,
    action: Field,
    delta: Field,
    reason: Field,
    seconds: Field,
    script: Field,
    name: Field,
    data: Field,
}

impl RawStep {
    fn fields(&self) -> [(&'static str, &Field); 12] {
        [
            ("text", &self.text),
            ("voice", &self.voice),
            ("scene", &self.scene),
            ("source", &self.source),
            ("state", &self.state),
            ("action", &self.action),
            ("delta", &self.delta),
            ("reason", &self.reason),
            ("seconds", &self.seconds),
            ("script", &self.script),
            ("name", &self.name),
            ("data", &self.data),
        ]
    }
}

/// The types of a tagged table (a step or a trigger): each with its required and
/// optional fields.
struct Kinds {
    /// `step` or `trigger`.
    what: &'static str,
    /// Type name, required fields, optional fields.
    types: TypeTable,
    /// The type names, for messages.
    names: &'static str,
}

const STEPS: Kinds = Kinds {
    what: "step",
    types: STEP_TYPES,
    names: "chat, tts, obs_scene, obs_source, obs_text, obs_media, points, wait, script, event",
};

const TRIGGERS: Kinds = Kinds {
    what: "trigger",
    types: TRIGGER_TYPES,
    names: "command, redemption, follow, subscription, gift, cheer, raid, tip",
};

/// Each step type with its required and optional fields (besides `type`).
type TypeTable = &'static [(
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
)];

const STEP_TYPES: TypeTable = &[
    ("chat", &["text"], &[]),
    ("tts", &["text"], &["voice"]),
    ("obs_scene", &["scene"], &[]),
    ("obs_source", &["scene", "source", "state"], &[]),
    ("obs_text", &["source", "text"], &[]),
    ("obs_media", &["source", "action"], &[]),
    ("points", &["delta", "reason"], &[]),
    ("wait", &["seconds"], &[]),
    ("script", &["script"], &[]),
    ("event", &["name"], &["data"]),
];

/// Each trigger type with its required and optional fields (besides `type` and
/// `platforms`).
const TRIGGER_TYPES: TypeTable = &[
    ("command", &["name"], &["role"]),
    ("redemption", &[], &["reward", "reward_id"]),
    ("follow", &[], &[]),
    ("subscription", &[], &["min_months"]),
    ("gift", &[], &["min_count"]),
    ("cheer", &[], &["min_amount"]),
    ("raid", &[], &["min_viewers"]),
    ("tip", &[], &["min_amount", "currency"]),
];

const PLATFORM_NAMES: &str = "twitch, kick, youtube, roadie";

// ---------------------------------------------------------------------------------
// Validation.

/// A command trigger seen while checking actions, checked against the commands last.
struct CommandTrigger {
    name: CommandName,
    span: Span,
    path: String,
}

struct Checker<'t> {
    text: &'t str,
    errors: Vec<DocumentError>,
}

impl Checker<'_> {
    fn report(&mut self, offset: usize, path: String, message: impl Into<String>) {
        let (line, column) = position(self.text, offset);
        self.errors.push(DocumentError {
            line,
            column,
            path,
            message: message.into(),
        });
    }

    fn line_of(&self, span: &Span) -> usize {
        position(self.text, span.start).0
    }

    fn document(&mut self, raw: &RawDocument) -> Document {
        let mut document = Document::default();
        // Every command word (names, aliases) to its command and that command's line.
        let mut words: HashMap<CommandName, (CommandName, usize)> = HashMap::new();
        for (index, command) in raw.commands.iter().enumerate() {
            if let Some(def) = self.command(command, index, &mut words) {
                document.commands.push(def);
            }
        }
        let mut timers: HashMap<String, usize> = HashMap::new();
        for (index, timer) in raw.timers.iter().enumerate() {
            if let Some(def) = self.timer(timer, index, &mut timers) {
                document.timers.push(def);
            }
        }
        let mut actions: HashMap<ActionName, usize> = HashMap::new();
        let mut command_triggers = Vec::new();
        for (index, action) in raw.actions.iter().enumerate() {
            if let Some(def) = self.action(action, index, &mut actions, &mut command_triggers) {
                document.actions.push(def);
            }
        }
        for trigger in command_triggers {
            if let Some((owner, line)) = words.get(&trigger.name) {
                self.report(
                    trigger.span.start,
                    trigger.path,
                    format!(
                        "{} is already a word of command {owner} (line {line}); expected a word \
                         of the action's own",
                        trigger.name
                    ),
                );
            }
        }
        document
    }

    // --- commands ---

    fn command(
        &mut self,
        raw: &Spanned<RawCommand>,
        index: usize,
        words: &mut HashMap<CommandName, (CommandName, usize)>,
    ) -> Option<CommandDef> {
        let errors_before = self.errors.len();
        let header = raw.span();
        let base = format!("commands[{index}]");
        let path = |key: &str| format!("{base}.{key}");
        let raw = raw.get_ref();

        let name = self
            .required(
                &raw.name,
                &header,
                path("name"),
                "the command's name, such as \"!hello\"",
            )
            .and_then(|field| self.command_name(field, path("name")));
        let template = self
            .required(
                &raw.template,
                &header,
                path("template"),
                "the reply template",
            )
            .and_then(|field| self.template(field, path("template"), VariableSet::Command));
        let mut aliases = Vec::new();
        if let Some(list) = &raw.aliases {
            for (position, item) in list.get_ref().iter().enumerate() {
                if let Some(alias) = self.command_name(item, format!("{base}.aliases[{position}]"))
                {
                    aliases.push(alias);
                }
            }
        }
        let cooldown = self.seconds(&raw.cooldown, path("cooldown"));
        let user_cooldown = self.seconds(&raw.user_cooldown, path("user_cooldown"));
        let gate = raw
            .role
            .as_ref()
            .and_then(|field| self.role(field, path("role")));
        let platforms = self.platforms(&raw.platforms, &base);
        let enabled = self.enabled(&raw.enabled, path("enabled"));

        if let Some((name, name_span)) = &name {
            self.collisions(name, name_span, &aliases, &base, words);
        }
        if self.errors.len() > errors_before {
            return None;
        }
        Some(CommandDef {
            name: name?.0,
            aliases: aliases.into_iter().map(|(alias, _)| alias).collect(),
            template: template?,
            global_cooldown: cooldown?,
            user_cooldown: user_cooldown?,
            gate: gate.unwrap_or_default(),
            platforms: platforms?,
            enabled: enabled?,
        })
    }

    /// Reports a command's words that are built-ins, repeated within the command or
    /// taken by an earlier command, and registers the rest.
    fn collisions(
        &mut self,
        name: &CommandName,
        name_span: &Span,
        aliases: &[(CommandName, Span)],
        base: &str,
        words: &mut HashMap<CommandName, (CommandName, usize)>,
    ) {
        let line = self.line_of(name_span);
        let mut own: Vec<&CommandName> = Vec::new();
        let all_words = std::iter::once((name, name_span))
            .chain(aliases.iter().map(|(alias, span)| (alias, span)));
        for (position, (word, span)) in all_words.enumerate() {
            let word_path = if position == 0 {
                format!("{base}.name")
            } else {
                format!("{base}.aliases[{}]", position - 1)
            };
            if BuiltinCommand::lookup(word.as_str()).is_some() {
                self.report(
                    span.start,
                    word_path,
                    format!("{word} is a built-in command; expected another word"),
                );
            } else if own.contains(&word) {
                self.report(
                    span.start,
                    word_path,
                    format!("{word} is listed twice in this command"),
                );
            } else if let Some((owner, owner_line)) = words.get(word) {
                let message = if position == 0 && owner == word {
                    format!("command {word} is already defined on line {owner_line}")
                } else {
                    format!("{word} is already used by command {owner} (line {owner_line})")
                };
                self.report(span.start, word_path, message);
            }
            own.push(word);
        }
        for word in own {
            words
                .entry(word.clone())
                .or_insert_with(|| (name.clone(), line));
        }
    }

    fn command_name(
        &mut self,
        field: &Spanned<Value>,
        path: String,
    ) -> Option<(CommandName, Span)> {
        let text = self.string(field, &path, "a command word such as \"!hello\"")?;
        match CommandName::parse(text) {
            Ok(name) => Some((name, field.span())),
            Err(error) => {
                let at = match &error {
                    NameError::BadCharacter { column, .. } => {
                        string_offset(self.text, &field.span(), text, column.saturating_sub(1))
                    }
                    _ => field.span().start,
                };
                self.report(at, path, error.to_string());
                None
            }
        }
    }

    // --- timers ---

    fn timer(
        &mut self,
        raw: &Spanned<RawTimer>,
        index: usize,
        names: &mut HashMap<String, usize>,
    ) -> Option<TimerDef> {
        let errors_before = self.errors.len();
        let header = raw.span();
        let base = format!("timers[{index}]");
        let path = |key: &str| format!("{base}.{key}");
        let raw = raw.get_ref();

        let name = self
            .required(&raw.name, &header, path("name"), "the timer's name")
            .and_then(|field| {
                let name = self.string(field, &path("name"), "the timer's name")?;
                if let Err(error) = TimerDef::check_name(name) {
                    self.report(field.span().start, path("name"), error.to_string());
                    return None;
                }
                if let Some(line) = names.get(name) {
                    self.report(
                        field.span().start,
                        path("name"),
                        format!("timer {name:?} is already defined on line {line}"),
                    );
                    return None;
                }
                names.insert(name.to_owned(), self.line_of(&field.span()));
                Some(name.to_owned())
            });
        let interval = self
            .required(
                &raw.interval,
                &header,
                path("interval"),
                "minutes between posts",
            )
            .and_then(|field| {
                let expected =
                    format!("a whole number of minutes from 1 to {MAX_INTERVAL_MINUTES}");
                let minutes = self.integer(
                    field,
                    &path("interval"),
                    &expected,
                    1..=MAX_INTERVAL_MINUTES,
                )?;
                Some(Duration::from_secs(minutes * 60))
            });
        let min_lines = match &raw.min_lines {
            None => Some(0),
            Some(field) => self
                .integer(
                    field,
                    &path("min_lines"),
                    "a whole number of chat lines, 0 or more",
                    0..=u64::from(u32::MAX),
                )
                .and_then(|lines| u32::try_from(lines).ok()),
        };
        let message = self
            .required(
                &raw.message,
                &header,
                path("message"),
                "the message template",
            )
            .and_then(|field| {
                let message = self.template(field, path("message"), VariableSet::Command)?;
                if let Err(error) = TimerDef::check_message(&message) {
                    self.report(field.span().start, path("message"), error.to_string());
                    return None;
                }
                Some(message)
            });
        let enabled = self.enabled(&raw.enabled, path("enabled"));
        if self.errors.len() > errors_before {
            return None;
        }
        let (name, interval, min_lines, message, enabled) =
            (name?, interval?, min_lines?, message?, enabled?);
        match TimerDef::new(&name, interval, min_lines, message) {
            Ok(mut def) => {
                def.enabled = enabled;
                Some(def)
            }
            Err(error) => {
                self.report(header.start, base, error.to_string());
                None
            }
        }
    }

    // --- actions ---

    fn action(
        &mut self,
        raw: &Spanned<RawAction>,
        index: usize,
        names: &mut HashMap<ActionName, usize>,
        command_triggers: &mut Vec<CommandTrigger>,
    ) -> Option<ActionDef> {
        let errors_before = self.errors.len();
        let header = raw.span();
        let base = format!("actions[{index}]");
        let path = |key: &str| format!("{base}.{key}");
        let raw = raw.get_ref();

        let name = self
            .required(&raw.name, &header, path("name"), "the action's name")
            .and_then(|field| {
                let text = self.string(field, &path("name"), "the action's name")?;
                let name = match ActionName::parse(text) {
                    Ok(name) => name,
                    Err(error) => {
                        let at = match &error {
                            ActionNameError::BadCharacter { column, .. } => string_offset(
                                self.text,
                                &field.span(),
                                text,
                                column.saturating_sub(1),
                            ),
                            _ => field.span().start,
                        };
                        self.report(at, path("name"), error.to_string());
                        return None;
                    }
                };
                if let Some(line) = names.get(&name) {
                    self.report(
                        field.span().start,
                        path("name"),
                        format!("action {name} is already defined on line {line}"),
                    );
                    return None;
                }
                names.insert(name.clone(), self.line_of(&field.span()));
                Some(name)
            });
        let concurrency = self.concurrency(raw, &header, &base);
        let on_error = match &raw.on_error {
            None => Some(OnError::Stop),
            Some(field) => self.word::<OnError>(field, path("on_error"), "stop or continue"),
        };
        let enabled = self.enabled(&raw.enabled, path("enabled"));

        if raw.steps.is_empty() {
            self.report(
                header.start,
                path("steps"),
                "the action has no steps; expected at least one [[actions.steps]] table",
            );
        } else if raw.steps.len() > MAX_STEPS {
            self.report(
                header.start,
                path("steps"),
                format!(
                    "the action has {} steps; expected at most {MAX_STEPS}",
                    raw.steps.len()
                ),
            );
        }
        if raw.triggers.len() > MAX_TRIGGERS {
            self.report(
                header.start,
                path("triggers"),
                format!(
                    "the action has {} triggers; expected at most {MAX_TRIGGERS}",
                    raw.triggers.len()
                ),
            );
        }
        let mut steps = Vec::new();
        for (position, step) in raw.steps.iter().enumerate() {
            if let Some(step) = self.step(step, &format!("{base}.steps[{position}]")) {
                steps.push(step);
            }
        }
        let mut triggers = Vec::new();
        for (position, trigger) in raw.triggers.iter().enumerate() {
            let trigger_path = format!("{base}.triggers[{position}]");
            if let Some(trigger) = self.trigger(trigger, &trigger_path, command_triggers) {
                triggers.push(trigger);
            }
        }
        if self.errors.len() > errors_before {
            return None;
        }
        let def = ActionDef {
            name: name?,
            steps,
            triggers,
            concurrency: concurrency?,
            on_error: on_error?,
            enabled: enabled?,
        };
        // Everything was checked field by field; this keeps the type's own rules the
        // final word.
        if let Err(error) = def.validate() {
            self.report(header.start, base, error.to_string());
            return None;
        }
        Some(def)
    }

    fn concurrency(&mut self, raw: &RawAction, header: &Span, base: &str) -> Option<Concurrency> {
        let path = |key: &str| format!("{base}.{key}");
        let policy = match &raw.concurrency {
            None => "queue",
            Some(field) => self.string(
                field,
                &path("concurrency"),
                "queue, skip_if_busy or parallel",
            )?,
        };
        let max = match &raw.max_parallel {
            None => None,
            Some(field) => {
                let expected = format!("a whole number of runs from 1 to {MAX_PARALLEL}");
                let max = self.integer(
                    field,
                    &path("max_parallel"),
                    &expected,
                    1..=u64::from(MAX_PARALLEL),
                )?;
                Some((u32::try_from(max).ok()?, field.span()))
            }
        };
        let at = raw
            .concurrency
            .as_ref()
            .map_or(header.start, |f| f.span().start);
        match (policy, max) {
            ("parallel", Some((max, _))) => Some(Concurrency::Parallel { max }),
            ("parallel", None) => {
                self.report(
                    at,
                    path("max_parallel"),
                    "missing; `parallel` needs max_parallel, the runs allowed at once",
                );
                None
            }
            ("queue" | "skip_if_busy", Some((_, span))) => {
                self.report(
                    span.start,
                    path("max_parallel"),
                    format!(
                        "max_parallel applies to concurrency = \"parallel\" only, not {policy:?}"
                    ),
                );
                None
            }
            ("queue", None) => Some(Concurrency::Queue),
            ("skip_if_busy", None) => Some(Concurrency::SkipIfBusy),
            (other, _) => {
                self.report(
                    at,
                    path("concurrency"),
                    format!(
                        "unknown concurrency {other:?}; expected queue, skip_if_busy or parallel"
                    ),
                );
                None
            }
        }
    }

    /// The `type` of a step or trigger and the fields it takes, after checking that no
    /// field of another type is present and none it needs is missing.
    fn typed(
        &mut self,
        kinds: &Kinds,
        kind: &Field,
        header: &Span,
        base: &str,
        fields: &[(&'static str, &Field)],
    ) -> Option<&'static str> {
        let Kinds { what, types, names } = kinds;
        let path = format!("{base}.type");
        let expected = format!("the {what} type: {names}");
        let field = self.required(kind, header, path.clone(), &expected)?;
        let given = self.string(field, &path, &expected)?;
        let Some(&(name, required, optional)) = types.iter().find(|(name, ..)| *name == given)
        else {
            self.report(
                field.span().start,
                path,
                format!("unknown {what} type {given:?}; expected one of: {names}"),
            );
            return None;
        };
        let takes = if required.is_empty() && optional.is_empty() {
            "nothing else".to_owned()
        } else {
            required
                .iter()
                .chain(optional.iter())
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut fine = true;
        for (key, value) in fields {
            if let Some(value) = value
                && !required.contains(key)
                && !optional.contains(key)
            {
                fine = false;
                self.report(
                    value.span().start,
                    format!("{base}.{key}"),
                    format!("`{key}` does not apply to a {name} {what}; it takes: {takes}"),
                );
            }
        }
        for key in required {
            let present = fields
                .iter()
                .any(|(present, value)| present == key && value.is_some());
            if !present {
                fine = false;
                self.report(
                    header.start,
                    format!("{base}.{key}"),
                    format!("missing; a {name} {what} needs: {}", required.join(", ")),
                );
            }
        }
        fine.then_some(name)
    }

    fn step(&mut self, raw: &Spanned<RawStep>, base: &str) -> Option<Step> {
        let header = raw.span();
        let raw = raw.get_ref();
        let fields = raw.fields();
        let kind = self.typed(&STEPS, &raw.kind, &header, base, &fields)?;
        let path = |key: &str| format!("{base}.{key}");
        let get = |key: &str| {
            fields
                .iter()
                .find(|(name, _)| *name == key)
                .and_then(|(_, value)| value.as_ref())
        };
        // `typed` made sure every required field is present.
        let label = |checker: &mut Self, key: &str| {
            get(key).and_then(|field| {
                checker
                    .string(field, &path(key), "a name or text")
                    .map(str::to_owned)
            })
        };
        let template = |checker: &mut Self, key: &str| {
            get(key).and_then(|field| checker.template(field, path(key), VariableSet::Action))
        };
        let step = match kind {
            "chat" => Step::Chat {
                text: template(self, "text")?,
            },
            "tts" => {
                let text = template(self, "text");
                let voice = match get("voice") {
                    None => Some(None),
                    Some(_) => label(self, "voice").map(Some),
                };
                Step::Tts {
                    text: text?,
                    voice: voice?,
                }
            }
            "obs_scene" => Step::ObsScene {
                scene: label(self, "scene")?,
            },
            "obs_source" => {
                let scene = label(self, "scene");
                let source = label(self, "source");
                let state = get("state").and_then(|field| {
                    self.word::<SourceState>(field, path("state"), "on, off or toggle")
                });
                Step::ObsSource {
                    scene: scene?,
                    source: source?,
                    state: state?,
                }
            }
            "obs_text" => {
                let source = label(self, "source");
                let text = template(self, "text");
                Step::ObsText {
                    source: source?,
                    text: text?,
                }
            }
            "obs_media" => {
                let source = label(self, "source");
                let action = get("action").and_then(|field| {
                    self.word::<MediaAction>(field, path("action"), "play, pause, restart or stop")
                });
                Step::ObsMedia {
                    source: source?,
                    action: action?,
                }
            }
            "points" => {
                let delta = get("delta").and_then(|field| {
                    self.integer_i64(
                        field,
                        &path("delta"),
                        "a non-zero whole number of points (negative spends)",
                    )
                });
                let reason = label(self, "reason");
                Step::Points {
                    delta: delta?,
                    reason: reason?,
                }
            }
            "wait" => Step::Wait {
                duration: get("seconds").and_then(|field| self.wait(field, path("seconds")))?,
            },
            "script" => Step::Script {
                script: label(self, "script")?,
            },
            "event" => {
                let name = label(self, "name");
                let data = match get("data") {
                    None => Some(serde_json::Value::Null),
                    Some(field) => match to_json(field.get_ref()) {
                        Ok(data) => Some(data),
                        Err(problem) => {
                            self.report(field.span().start, path("data"), problem);
                            None
                        }
                    },
                };
                Step::Event {
                    name: name?,
                    data: data?,
                }
            }
            _ => return None,
        };
        if let Err(error) = step.check() {
            let at = get(error.field()).map_or(header.start, |field| field.span().start);
            self.report(at, path(error.field()), error.to_string());
            return None;
        }
        Some(step)
    }

    fn trigger(
        &mut self,
        raw: &Spanned<RawTrigger>,
        base: &str,
        command_triggers: &mut Vec<CommandTrigger>,
    ) -> Option<Trigger> {
        let header = raw.span();
        let raw = raw.get_ref();
        let fields = raw.fields();
        let platforms = self.platforms(&raw.platforms, base);
        let kind = self.typed(&TRIGGERS, &raw.kind, &header, base, &fields);
        let (platforms, kind) = (platforms?, kind?);
        let path = |key: &str| format!("{base}.{key}");
        let get = |key: &str| {
            fields
                .iter()
                .find(|(name, _)| *name == key)
                .and_then(|(_, value)| value.as_ref())
        };
        let count = |checker: &mut Self, key: &str, default: u64, max: u64| match get(key) {
            None => Some(default),
            Some(field) => checker.integer(
                field,
                &path(key),
                &format!("a whole number from 0 to {max}"),
                0..=max,
            ),
        };
        let kind = match kind {
            "command" => {
                let field = get("name")?;
                let (name, span) = self.command_name(field, path("name"))?;
                let role = match get("role") {
                    None => RoleGate::Everyone,
                    Some(field) => self.role(field, path("role"))?,
                };
                command_triggers.push(CommandTrigger {
                    name: name.clone(),
                    span,
                    path: path("name"),
                });
                TriggerKind::Command { name, role }
            }
            "redemption" => {
                let reward = match (get("reward"), get("reward_id")) {
                    (Some(title), None) => RewardMatch::Title(
                        self.string(title, &path("reward"), "the reward's title")?
                            .to_owned(),
                    ),
                    (None, Some(id)) => RewardMatch::Id(
                        self.string(id, &path("reward_id"), "the reward's id")?
                            .to_owned(),
                    ),
                    (Some(_), Some(id)) => {
                        self.report(
                            id.span().start,
                            path("reward_id"),
                            "give either `reward` (the title) or `reward_id`, not both",
                        );
                        return None;
                    }
                    (None, None) => {
                        self.report(
                            header.start,
                            path("reward"),
                            "missing; a redemption trigger needs `reward` (the title) or `reward_id`",
                        );
                        return None;
                    }
                };
                TriggerKind::Redemption { reward }
            }
            "follow" => TriggerKind::Follow,
            "subscription" => TriggerKind::Subscription {
                min_months: match get("min_months") {
                    None => None,
                    Some(_) => Some(
                        u32::try_from(count(self, "min_months", 0, u64::from(u32::MAX))?).ok()?,
                    ),
                },
            },
            "gift" => TriggerKind::Gift {
                min_count: u32::try_from(count(self, "min_count", 1, u64::from(u32::MAX))?).ok()?,
            },
            "cheer" => TriggerKind::Cheer {
                min_amount: count(self, "min_amount", 1, i64::MAX.unsigned_abs())?,
            },
            "raid" => TriggerKind::Raid {
                min_viewers: count(self, "min_viewers", 1, i64::MAX.unsigned_abs())?,
            },
            "tip" => {
                let min_amount = match get("min_amount") {
                    None => Decimal::parse("0").ok(),
                    Some(field) => self.decimal(field, path("min_amount")),
                };
                let currency = match get("currency") {
                    None => Some(None),
                    Some(field) => self
                        .string(
                            field,
                            &path("currency"),
                            "a three-letter currency code such as USD",
                        )
                        .map(|currency| Some(currency.to_owned())),
                };
                TriggerKind::Tip {
                    min_amount: min_amount?,
                    currency: currency?,
                }
            }
            _ => return None,
        };
        let trigger = Trigger { kind, platforms };
        if let Err(error) = trigger.check() {
            let at = match error.field() {
                "platforms" => raw.platforms.as_ref().map(Spanned::span),
                field => get(field).map(Spanned::span),
            }
            .map_or(header.start, |span| span.start);
            self.report(at, path(error.field()), error.to_string());
            return None;
        }
        Some(trigger)
    }

    // --- values ---

    fn required<'f>(
        &mut self,
        field: &'f Field,
        header: &Span,
        path: String,
        expected: &str,
    ) -> Option<&'f Spanned<Value>> {
        if field.is_none() {
            self.report(header.start, path, format!("missing; expected {expected}"));
        }
        field.as_ref()
    }

    fn mismatch(&mut self, field: &Spanned<Value>, path: &str, expected: &str) {
        self.report(
            field.span().start,
            path.to_owned(),
            format!("expected {expected}, found {}", describe(field.get_ref())),
        );
    }

    fn string<'f>(
        &mut self,
        field: &'f Spanned<Value>,
        path: &str,
        expected: &str,
    ) -> Option<&'f str> {
        match field.get_ref() {
            Value::String(text) => Some(text),
            _ => {
                self.mismatch(field, path, &format!("a string: {expected}"));
                None
            }
        }
    }

    fn integer(
        &mut self,
        field: &Spanned<Value>,
        path: &str,
        expected: &str,
        range: RangeInclusive<u64>,
    ) -> Option<u64> {
        match field.get_ref() {
            Value::Integer(value) => match u64::try_from(*value) {
                Ok(value) if range.contains(&value) => Some(value),
                _ => {
                    self.mismatch(field, path, expected);
                    None
                }
            },
            _ => {
                self.mismatch(field, path, expected);
                None
            }
        }
    }

    fn integer_i64(&mut self, field: &Spanned<Value>, path: &str, expected: &str) -> Option<i64> {
        match field.get_ref() {
            Value::Integer(value) => Some(*value),
            _ => {
                self.mismatch(field, path, expected);
                None
            }
        }
    }

    fn enabled(&mut self, field: &Field, path: String) -> Option<bool> {
        match field {
            None => Some(true),
            Some(field) => match field.get_ref() {
                Value::Boolean(value) => Some(*value),
                _ => {
                    self.mismatch(field, &path, "true or false");
                    None
                }
            },
        }
    }

    fn seconds(&mut self, field: &Field, path: String) -> Option<Duration> {
        match field {
            None => Some(Duration::ZERO),
            Some(field) => {
                let expected = format!("a whole number of seconds from 0 to {MAX_COOLDOWN_SECS}");
                self.integer(field, &path, &expected, 0..=MAX_COOLDOWN_SECS)
                    .map(Duration::from_secs)
            }
        }
    }

    fn wait(&mut self, field: &Spanned<Value>, path: String) -> Option<Duration> {
        let max = MAX_WAIT.as_secs();
        let expected = format!("a number of seconds from 0 to {max}");
        match field.get_ref() {
            Value::Integer(_) => self
                .integer(field, &path, &expected, 0..=max)
                .map(Duration::from_secs),
            // The range check first, so the cast below is exact and in range.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Value::Float(seconds) if (0.0..=max as f64).contains(seconds) => {
                Some(Duration::from_millis((seconds * 1000.0).round() as u64))
            }
            _ => {
                self.mismatch(field, &path, &expected);
                None
            }
        }
    }

    fn decimal(&mut self, field: &Spanned<Value>, path: String) -> Option<Decimal> {
        let expected = "a decimal amount as a string, such as \"4.99\"";
        let text = match field.get_ref() {
            Value::String(text) => text.clone(),
            Value::Integer(value) if *value >= 0 => value.to_string(),
            _ => {
                self.mismatch(field, &path, expected);
                return None;
            }
        };
        match Decimal::parse(&text) {
            Ok(decimal) => Some(decimal),
            Err(error) => {
                let at = match &error {
                    DecimalError::BadCharacter { column, .. } => {
                        string_offset(self.text, &field.span(), &text, column.saturating_sub(1))
                    }
                    _ => field.span().start,
                };
                self.report(at, path, error.to_string());
                None
            }
        }
    }

    fn template(
        &mut self,
        field: &Spanned<Value>,
        path: String,
        set: VariableSet,
    ) -> Option<Template> {
        let source = self.string(field, &path, "a template")?;
        match Template::parse_for(source, set) {
            Ok(template) => Some(template),
            Err(error) => {
                let at = string_offset(
                    self.text,
                    &field.span(),
                    source,
                    error.column.saturating_sub(1),
                );
                self.report(at, path, error.kind.to_string());
                None
            }
        }
    }

    fn word<W>(&mut self, field: &Spanned<Value>, path: String, expected: &str) -> Option<W>
    where
        W: std::str::FromStr,
        W::Err: fmt::Display,
    {
        let text = self.string(field, &path, expected)?;
        match text.parse::<W>() {
            Ok(word) => Some(word),
            Err(error) => {
                self.report(field.span().start, path, error.to_string());
                None
            }
        }
    }

    fn role(&mut self, field: &Spanned<Value>, path: String) -> Option<RoleGate> {
        self.word::<RoleGate>(
            field,
            path,
            "everyone, subscriber, vip, moderator or broadcaster",
        )
    }

    fn platforms(&mut self, list: &List, base: &str) -> Option<Vec<Platform>> {
        let Some(list) = list else {
            return Some(Vec::new());
        };
        let mut platforms = Vec::new();
        let mut fine = true;
        for (position, item) in list.get_ref().iter().enumerate() {
            let path = format!("{base}.platforms[{position}]");
            match self.word::<Platform>(item, path.clone(), PLATFORM_NAMES) {
                Some(platform) if platforms.contains(&platform) => {
                    fine = false;
                    self.report(
                        item.span().start,
                        path,
                        format!("platform {platform} is listed twice"),
                    );
                }
                Some(platform) => platforms.push(platform),
                None => fine = false,
            }
        }
        fine.then_some(platforms)
    }
}

// ---------------------------------------------------------------------------------
// Positions.

/// The 1-based line and character column of byte `offset` in `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (line, column)
}

/// The document offset of byte `byte` of the string `value` written at `span`, when the
/// source spells it verbatim (no escapes); else the start of the value.
fn string_offset(text: &str, span: &Span, value: &str, byte: usize) -> usize {
    let Some(raw) = text.get(span.clone()) else {
        return span.start;
    };
    for delimiter in ["\"\"\"", "'''", "\"", "'"] {
        let width = delimiter.len();
        if raw.len() < 2 * width || !raw.starts_with(delimiter) || !raw.ends_with(delimiter) {
            continue;
        }
        let Some(mut body) = raw.get(width..raw.len() - width) else {
            return span.start;
        };
        let mut start = width;
        if width == 3 {
            // A newline right after the opening delimiter is not part of the value.
            for newline in ["\r\n", "\n"] {
                if let Some(rest) = body.strip_prefix(newline) {
                    body = rest;
                    start += newline.len();
                    break;
                }
            }
        }
        if body == value && byte <= value.len() {
            return span.start + start + byte;
        }
        return span.start;
    }
    span.start
}

/// The dotted path of the most specific key or value whose span holds `offset`.
fn locate(text: &str, offset: usize) -> String {
    let (root, _) = toml::de::DeTable::parse_recoverable(text);
    let mut best = None;
    walk_table(root.get_ref(), offset, &mut String::new(), &mut best);
    best.map(|(_, path)| path).unwrap_or_default()
}

type Best = Option<(usize, String)>;

fn consider(span: Span, offset: usize, path: &str, best: &mut Best) {
    let end = span.end.max(span.start + 1);
    if span.start <= offset && offset < end {
        let width = end - span.start;
        if best
            .as_ref()
            .is_none_or(|(best_width, _)| width <= *best_width)
        {
            *best = Some((width, path.to_owned()));
        }
    }
}

fn walk_table(table: &toml::de::DeTable<'_>, offset: usize, path: &mut String, best: &mut Best) {
    for (key, value) in table {
        let length = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key.get_ref());
        consider(key.span(), offset, path, best);
        consider(value.span(), offset, path, best);
        walk_value(value.get_ref(), offset, path, best);
        path.truncate(length);
    }
}

fn walk_value(value: &toml::de::DeValue<'_>, offset: usize, path: &mut String, best: &mut Best) {
    match value {
        toml::de::DeValue::Table(table) => walk_table(table, offset, path, best),
        toml::de::DeValue::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let length = path.len();
                path.push_str(&format!("[{index}]"));
                consider(item.span(), offset, path, best);
                walk_value(item.get_ref(), offset, path, best);
                path.truncate(length);
            }
        }
        _ => {}
    }
}

/// A short description of a found value, for "expected X, found Y".
fn describe(value: &Value) -> String {
    match value {
        Value::String(text) => {
            let mut shown: String = text.chars().take(40).collect();
            if shown.len() < text.len() {
                shown.push('…');
            }
            format!("the string {shown:?}")
        }
        Value::Integer(number) => format!("the integer {number}"),
        Value::Float(number) => format!("the float {number}"),
        Value::Boolean(flag) => format!("the boolean {flag}"),
        Value::Datetime(datetime) => format!("the datetime {datetime}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Table(_) => "a table".to_owned(),
    }
}

// ---------------------------------------------------------------------------------
// Event data: TOML in the document, JSON in the event.

fn to_json(value: &Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as Json;
    Ok(match value {
        Value::String(text) => Json::String(text.clone()),
        Value::Integer(number) => Json::from(*number),
        Value::Float(number) => serde_json::Number::from_f64(*number)
            .map(Json::Number)
            .ok_or_else(|| {
                format!("expected finite numbers, found {number} (JSON has no nan or inf)")
            })?,
        Value::Boolean(flag) => Json::Bool(*flag),
        Value::Datetime(datetime) => Json::String(datetime.to_string()),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Table(table) => Json::Object(
            table
                .iter()
                .map(|(key, value)| Ok((key.clone(), to_json(value)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// TOML has no null: `null`s are left out (and a `null` payload is no `data` at all).
fn to_toml(value: &serde_json::Value) -> Option<Value> {
    use serde_json::Value as Json;
    match value {
        Json::Null => None,
        Json::Bool(flag) => Some(Value::Boolean(*flag)),
        Json::Number(number) => number
            .as_i64()
            .map(Value::Integer)
            .or_else(|| number.as_f64().map(Value::Float)),
        Json::String(text) => Some(Value::String(text.clone())),
        Json::Array(items) => Some(Value::Array(items.iter().filter_map(to_toml).collect())),
        Json::Object(map) => Some(Value::Table(
            map.iter()
                .filter_map(|(key, value)| to_toml(value).map(|value| (key.clone(), value)))
                .collect(),
        )),
    }
}

// ---------------------------------------------------------------------------------
// Rendering.

/// The document as TOML: commands, then timers, then actions, in order; fields in a
/// fixed order; defaults left out. [`parse`] reads it back to an equal document.
pub fn render(document: &Document) -> String {
    let mut out = Writer::default();
    for def in &document.commands {
        out.header("[[commands]]");
        out.string("name", def.name.as_str());
        out.string("template", def.template.source());
        if !def.aliases.is_empty() {
            out.strings("aliases", def.aliases.iter().map(CommandName::as_str));
        }
        if !def.global_cooldown.is_zero() {
            out.raw("cooldown", def.global_cooldown.as_secs());
        }
        if !def.user_cooldown.is_zero() {
            out.raw("user_cooldown", def.user_cooldown.as_secs());
        }
        if def.gate != RoleGate::Everyone {
            out.string("role", def.gate.as_str());
        }
        out.platforms(&def.platforms);
        out.enabled(def.enabled);
    }
    for def in &document.timers {
        out.header("[[timers]]");
        out.string("name", &def.name);
        out.raw("interval", def.interval.as_secs().div_ceil(60).max(1));
        if def.min_lines != 0 {
            out.raw("min_lines", def.min_lines);
        }
        out.string("message", def.message.source());
        out.enabled(def.enabled);
    }
    for def in &document.actions {
        out.header("[[actions]]");
        out.string("name", def.name.as_str());
        if def.concurrency != Concurrency::Queue {
            out.string("concurrency", def.concurrency.as_str());
        }
        if let Concurrency::Parallel { max } = def.concurrency {
            out.raw("max_parallel", max);
        }
        if def.on_error != OnError::Stop {
            out.string("on_error", def.on_error.as_str());
        }
        out.enabled(def.enabled);
        for trigger in &def.triggers {
            out.header("[[actions.triggers]]");
            out.trigger(trigger);
        }
        for step in &def.steps {
            out.header("[[actions.steps]]");
            out.step(step);
        }
    }
    out.text
}

#[derive(Default)]
struct Writer {
    text: String,
}

impl Writer {
    fn header(&mut self, header: &str) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(header);
        self.text.push('\n');
    }

    fn raw(&mut self, key: &str, value: impl fmt::Display) {
        self.text.push_str(&format!("{key} = {value}\n"));
    }

    fn string(&mut self, key: &str, value: &str) {
        self.raw(key, Value::String(value.to_owned()));
    }

    fn strings<'a>(&mut self, key: &str, values: impl Iterator<Item = &'a str>) {
        let values = values
            .map(|value| Value::String(value.to_owned()))
            .collect();
        self.raw(key, Value::Array(values));
    }

    fn platforms(&mut self, platforms: &[Platform]) {
        if !platforms.is_empty() {
            self.strings(
                "platforms",
                platforms.iter().map(|platform| platform.as_str()),
            );
        }
    }

    fn enabled(&mut self, enabled: bool) {
        if !enabled {
            self.raw("enabled", false);
        }
    }

    fn trigger(&mut self, trigger: &Trigger) {
        self.string("type", trigger.kind.kind());
        match &trigger.kind {
            TriggerKind::Command { name, role } => {
                self.string("name", name.as_str());
                if *role != RoleGate::Everyone {
                    self.string("role", role.as_str());
                }
            }
            TriggerKind::Redemption { reward } => match reward {
                RewardMatch::Title(title) => self.string("reward", title),
                RewardMatch::Id(id) => self.string("reward_id", id),
            },
            TriggerKind::Follow => {}
            TriggerKind::Subscription { min_months } => {
                if let Some(months) = min_months {
                    self.raw("min_months", months);
                }
            }
            TriggerKind::Gift { min_count } => {
                if *min_count != 1 {
                    self.raw("min_count", min_count);
                }
            }
            TriggerKind::Cheer { min_amount } => {
                if *min_amount != 1 {
                    self.raw("min_amount", min_amount);
                }
            }
            TriggerKind::Raid { min_viewers } => {
                if *min_viewers != 1 {
                    self.raw("min_viewers", min_viewers);
                }
            }
            TriggerKind::Tip {
                min_amount,
                currency,
            } => {
                if min_amount.as_str() != "0" {
                    self.string("min_amount", min_amount.as_str());
                }
                if let Some(currency) = currency {
                    self.string("currency", currency);
                }
            }
        }
        self.platforms(&trigger.platforms);
    }

    fn step(&mut self, step: &Step) {
        self.string("type", step.kind());
        match step {
            Step::Chat { text } => self.string("text", text.source()),
            Step::Tts { text, voice } => {
                self.string("text", text.source());
                if let Some(voice) = voice {
                    self.string("voice", voice);
                }
            }
            Step::ObsScene { scene } => self.string("scene", scene),
            Step::ObsSource {
                scene,
                source,
                state,
            } => {
                self.string("scene", scene);
                self.string("source", source);
                self.string("state", state.as_str());
            }
            Step::ObsText { source, text } => {
                self.string("source", source);
                self.string("text", text.source());
            }
            Step::ObsMedia { source, action } => {
                self.string("source", source);
                self.string("action", action.as_str());
            }
            Step::Points { delta, reason } => {
                self.raw("delta", delta);
                self.string("reason", reason);
            }
            Step::Wait { duration } => {
                if duration.subsec_nanos() == 0 {
                    self.raw("seconds", duration.as_secs());
                } else {
                    // Milliseconds as a float: `1.5`, `0.25`; parse rounds back to them.
                    #[allow(clippy::cast_precision_loss)]
                    let seconds = duration.as_millis() as f64 / 1000.0;
                    self.raw("seconds", Value::Float(seconds));
                }
            }
            Step::Script { script } => self.string("script", script),
            Step::Event { name, data } => {
                self.string("name", name);
                if let Some(data) = to_toml(data) {
                    self.raw("data", data);
                }
            }
        }
    }
}
