//! Timers: messages posted on an interval while the stream is live, but only when
//! chat has moved (a minimum number of lines since the last post), so a quiet chat
//! is not filled with the bot's own messages.

use crate::dispatch::Environment;
use crate::template::{FollowAge, Template, TemplateContext};
use roadie_core::{Platform, Timestamp, User};
use std::time::Duration;

/// The shortest interval: a zero interval would fire on every poll.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest timer name, in characters.
pub const MAX_TIMER_NAME_LEN: usize = 64;

/// A timer as the streamer configured it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimerDef {
    /// Its name: 1 to 64 of `[a-z0-9_-]`.
    pub name: String,
    /// Time between posts, counted from going live and from the last post.
    pub interval: Duration,
    /// Chat lines needed since the last post (or going live) before the next.
    pub min_lines: u32,
    /// The message; it uses no caller variables (there is no caller).
    pub message: Template,
    /// Switched off timers never fire.
    pub enabled: bool,
}

/// Why a timer definition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimerError {
    /// The name is empty, too long or has a character outside `[a-z0-9_-]`.
    #[error(
        "timer name {given:?} is not valid; expected 1 to {MAX_TIMER_NAME_LEN} of a-z, 0-9, _ or -"
    )]
    BadName {
        /// The name as given.
        given: String,
    },
    /// The interval is shorter than [`MIN_INTERVAL`].
    #[error("timer interval {given:?} is too short; expected at least {MIN_INTERVAL:?}")]
    IntervalTooShort {
        /// The interval given.
        given: Duration,
    },
    /// The message uses a variable that needs a caller.
    #[error("timer messages have no caller, so `$({variable})` cannot be used")]
    CallerVariable {
        /// The variable's name.
        variable: &'static str,
    },
}

impl TimerDef {
    /// A validated, enabled timer.
    pub fn new(
        name: &str,
        interval: Duration,
        min_lines: u32,
        message: Template,
    ) -> Result<TimerDef, TimerError> {
        TimerDef::check_name(name)?;
        if interval < MIN_INTERVAL {
            return Err(TimerError::IntervalTooShort { given: interval });
        }
        TimerDef::check_message(&message)?;
        Ok(TimerDef {
            name: name.to_owned(),
            interval,
            min_lines,
            message,
            enabled: true,
        })
    }

    /// Checks a timer name alone: 1 to 64 of `[a-z0-9_-]`.
    pub fn check_name(name: &str) -> Result<(), TimerError> {
        let valid = !name.is_empty()
            && name.len() <= MAX_TIMER_NAME_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if valid {
            Ok(())
        } else {
            Err(TimerError::BadName {
                given: name.to_owned(),
            })
        }
    }

    /// Checks a timer message alone: it must not use a variable that needs a caller.
    pub fn check_message(message: &Template) -> Result<(), TimerError> {
        match message.variables().find(|v| v.needs_caller()) {
            Some(variable) => Err(TimerError::CallerVariable {
                variable: variable.name(),
            }),
            None => Ok(()),
        }
    }
}

/// A timer and its state. Drive it with [`Timer::on_chat_line`] for every chat line
/// and [`Timer::poll`] regularly (every few seconds is plenty).
#[derive(Debug, Clone)]
pub struct Timer {
    def: TimerDef,
    // When the current interval started: going live (or being enabled) or the last
    // post. `None` while offline or disabled.
    anchor: Option<Duration>,
    lines: u32,
}

impl Timer {
    /// A timer that has not seen the stream live yet.
    pub fn new(def: TimerDef) -> Timer {
        Timer {
            def,
            anchor: None,
            lines: 0,
        }
    }

    /// The definition.
    pub fn def(&self) -> &TimerDef {
        &self.def
    }

    /// Chat lines counted since the last post or going live.
    pub fn lines(&self) -> u32 {
        self.lines
    }

    /// Counts one chat line.
    pub fn on_chat_line(&mut self) {
        self.lines = self.lines.saturating_add(1);
    }

    /// Whether to post now. Fires only while `live`, when `interval` has passed since
    /// going live (the first poll that sees it live) or since the last post, and at
    /// least `min_lines` chat lines came since then. Firing restarts the interval and
    /// the line count. Going offline (or disabling) stops it; going live again starts
    /// afresh, lines included, since offline chat is not this stream's audience.
    pub fn poll(&mut self, now: Duration, live: bool) -> bool {
        if !live || !self.def.enabled {
            self.anchor = None;
            return false;
        }
        let Some(anchor) = self.anchor else {
            self.anchor = Some(now);
            self.lines = 0;
            return false;
        };
        let due = now.saturating_sub(anchor) >= self.def.interval;
        if due && self.lines >= self.def.min_lines {
            self.anchor = Some(now);
            self.lines = 0;
            return true;
        }
        false
    }

    /// The message to post on `platform`.
    pub fn render(&self, platform: Platform, env: &dyn Environment) -> String {
        self.def.message.render(&TimerContext {
            nobody: User {
                id: String::new(),
                login: String::new(),
                name: String::new(),
                roles: Vec::new(),
            },
            platform,
            env,
        })
    }
}

/// A template context without a caller. `TimerDef::new` refuses caller variables, so
/// the caller-specific answers here only matter for a definition built by hand.
struct TimerContext<'a> {
    nobody: User,
    platform: Platform,
    env: &'a dyn Environment,
}

impl TemplateContext for TimerContext<'_> {
    fn caller(&self) -> &User {
        &self.nobody
    }
    fn args(&self) -> &[&str] {
        &[]
    }
    fn count(&self) -> u64 {
        0
    }
    fn points(&self) -> i64 {
        0
    }
    fn uptime(&self) -> Option<Duration> {
        self.env.uptime(self.platform)
    }
    fn followage(&self) -> FollowAge {
        FollowAge::Unknown
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
}
