//! Roadie's chat automation domain: commands and their response templates, role
//! gates, cooldowns, timers and the points rules (accrual and the reference ledger).
//!
//! Architecture invariant: like `roadie-core`, this crate does no I/O and knows no
//! async runtime, clock or random source. "Now" comes in as a parameter (a monotonic
//! `Duration` since an arbitrary epoch for cooldowns and timers, a `Timestamp` for wall
//! time), and random numbers come from the caller through [`Environment::random`], so
//! the daemon can drive everything from its own (possibly paused) clock and tests are
//! deterministic.
//!
//! The daemon's flow for a chat line: [`Dispatcher::evaluate`] matches the line,
//! checks enablement, platform, role gate and cooldowns, and renders the reply; it
//! returns an [`Outcome`] saying what to send (or why nothing is sent).
//!
//! Actions ([`action`]) are named step lists run by triggers (redemptions, follows,
//! subs, cheers, raids, tips, commands) or by name; [`document`] reads and writes a
//! channel's commands, timers and actions as one TOML document.

pub mod action;
pub mod builtin;
pub mod command;
pub mod cooldown;
pub mod dispatch;
pub mod document;
pub mod format;
pub mod matcher;
pub mod points;
pub mod role;
pub mod template;
pub mod timer;

pub use action::{
    ActionDef, ActionError, ActionName, ActionNameError, Admission, Concurrency, Decimal,
    DecimalError, MediaAction, Next, OnError, Refusal, RewardMatch, RunId, RunQueue, SourceState,
    Step, StepError, StepReport, Trigger, TriggerContext, TriggerError, TriggerKind, next_after,
    triggered,
};
pub use builtin::BuiltinCommand;
pub use command::{CommandDef, CommandName, CommandSet, CommandSetError, NameError};
pub use cooldown::{CooldownRefusal, CooldownScope, CooldownTracker};
pub use dispatch::{Dispatcher, Environment, Outcome};
pub use document::{Document, DocumentError};
pub use matcher::{Invocation, parse_invocation};
pub use points::accrual::{AccrualPolicy, MessageAccrual, PolicyError, WatchAccrual};
pub use points::ledger::{AccountKey, Entry, Ledger, LedgerError};
pub use role::RoleGate;
pub use template::{
    FollowAge, MAX_REPLY_CHARS, MAX_TEMPLATE_BYTES, Template, TemplateContext, TemplateError,
    TemplateErrorKind, Variable, VariableSet,
};
pub use timer::{Timer, TimerDef, TimerError};
