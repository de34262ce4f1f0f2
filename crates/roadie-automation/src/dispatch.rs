//! Deciding what a chat line does: match it, check the command's enablement,
//! platforms, role gate and cooldowns, then render the reply and record the use.
//! Only an accepted invocation starts cooldowns or counts.

use crate::builtin::BuiltinCommand;
use crate::command::{CommandDef, CommandName, CommandSet};
use crate::cooldown::{CooldownScope, CooldownTracker};
use crate::matcher::parse_invocation;
use crate::role::RoleGate;
use crate::template::{FollowAge, TemplateContext};
use roadie_core::{Platform, Timestamp, User};
use std::collections::HashMap;
use std::time::Duration;

/// What only the daemon knows, read while rendering (and only for the variables a
/// template uses): balances, stream state, follow ages, wall time and randomness.
pub trait Environment {
    /// `user`'s points balance (of their linked identity).
    fn points(&self, platform: Platform, user: &User) -> i64;
    /// How long the stream on `platform` has been live; `None` when offline.
    fn uptime(&self, platform: Platform) -> Option<Duration>;
    /// How long `user` has followed the channel on `platform`.
    fn followage(&self, platform: Platform, user: &User) -> FollowAge;
    /// The wall-clock time now.
    fn now(&self) -> Timestamp;
    /// A uniformly drawn integer in `low..=high`.
    fn random(&self, low: i64, high: i64) -> i64;
}

/// What to do about a chat line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Send `text` (when it is not empty). `count` is the command's new use counter,
    /// for the daemon to persist.
    Reply {
        /// The command's name (not the alias used).
        command: CommandName,
        /// The rendered reply, at most `MAX_REPLY_CHARS` characters.
        text: String,
        /// The use counter after this use.
        count: u64,
    },
    /// A built-in command, for the daemon to answer (see the `builtin` module). Built-ins
    /// have no gate, cooldown or platform restriction.
    Builtin {
        /// Which one.
        builtin: BuiltinCommand,
        /// The words after it.
        args: Vec<String>,
    },
    /// The line is not an invocation.
    NotACommand,
    /// It looks like one, but no command has that name or alias.
    Unknown,
    /// The command is switched off.
    Disabled {
        /// The command's name.
        command: CommandName,
    },
    /// The command does not answer on this platform.
    NotOnPlatform {
        /// The command's name.
        command: CommandName,
    },
    /// The caller's role is too low.
    Denied {
        /// The command's name.
        command: CommandName,
        /// The level the command needs.
        needed: RoleGate,
    },
    /// The command is resting.
    Cooldown {
        /// The command's name.
        command: CommandName,
        /// Time until this caller may use it again.
        remaining: Duration,
        /// Which cooldown refused it.
        scope: CooldownScope,
    },
}

/// A channel's commands with their use counters and running cooldowns.
#[derive(Debug, Clone, Default)]
pub struct Dispatcher {
    commands: CommandSet,
    cooldowns: CooldownTracker,
    counts: HashMap<CommandName, u64>,
}

impl Dispatcher {
    /// A dispatcher for `commands`, every counter at zero and no cooldown running.
    pub fn new(commands: CommandSet) -> Dispatcher {
        Dispatcher {
            commands,
            ..Dispatcher::default()
        }
    }

    /// The commands.
    pub fn commands(&self) -> &CommandSet {
        &self.commands
    }

    /// The commands, to add, replace or switch some (counters and cooldowns are kept;
    /// use [`Dispatcher::remove_command`] to remove one with its state).
    pub fn commands_mut(&mut self) -> &mut CommandSet {
        &mut self.commands
    }

    /// Removes a command with its counter and cooldowns.
    pub fn remove_command(&mut self, name: &str) -> Option<CommandDef> {
        self.counts.remove(name);
        self.cooldowns.forget(name);
        self.commands.remove(name)
    }

    /// A command's use counter.
    pub fn count(&self, name: &str) -> u64 {
        self.counts.get(name).copied().unwrap_or(0)
    }

    /// Sets a command's use counter (restored from storage, or reset by the streamer).
    pub fn set_count(&mut self, name: &CommandName, count: u64) {
        self.counts.insert(name.clone(), count);
    }

    /// The running cooldowns.
    pub fn cooldowns(&self) -> &CooldownTracker {
        &self.cooldowns
    }

    /// Evaluates `line` from `caller` on `platform` at monotonic time `now`. An
    /// accepted invocation bumps the counter and starts the cooldowns; a refused one
    /// changes nothing.
    pub fn evaluate(
        &mut self,
        line: &str,
        caller: &User,
        platform: Platform,
        now: Duration,
        env: &dyn Environment,
    ) -> Outcome {
        let (def, args) = match decide(&self.commands, &self.cooldowns, line, caller, platform, now)
        {
            Ok(accepted) => accepted,
            Err(outcome) => return outcome,
        };
        let count = next_count(&self.counts, def);
        let text = render(def, &args, caller, platform, count, env);
        self.cooldowns.record(def, platform, caller, now);
        self.counts.insert(def.name.clone(), count);
        Outcome::Reply {
            command: def.name.clone(),
            text,
            count,
        }
    }

    /// The dry run (`roadie commands test`): what [`Dispatcher::evaluate`] would answer,
    /// cooldowns included, without counting the use or starting cooldowns.
    pub fn preview(
        &self,
        line: &str,
        caller: &User,
        platform: Platform,
        now: Duration,
        env: &dyn Environment,
    ) -> Outcome {
        match decide(&self.commands, &self.cooldowns, line, caller, platform, now) {
            Ok((def, args)) => {
                let count = next_count(&self.counts, def);
                Outcome::Reply {
                    command: def.name.clone(),
                    text: render(def, &args, caller, platform, count, env),
                    count,
                }
            }
            Err(outcome) => outcome,
        }
    }
}

/// The command to run and its arguments, or the outcome that stops it.
fn decide<'a, 'l>(
    commands: &'a CommandSet,
    cooldowns: &CooldownTracker,
    line: &'l str,
    caller: &User,
    platform: Platform,
    now: Duration,
) -> Result<(&'a CommandDef, Vec<&'l str>), Outcome> {
    let Some(invocation) = parse_invocation(line) else {
        return Err(Outcome::NotACommand);
    };
    if let Some(builtin) = BuiltinCommand::lookup(invocation.word) {
        return Err(Outcome::Builtin {
            builtin,
            args: invocation
                .args
                .iter()
                .map(|arg| (*arg).to_owned())
                .collect(),
        });
    }
    let Some(def) = commands.lookup(invocation.word) else {
        return Err(Outcome::Unknown);
    };
    let command = def.name.clone();
    if !def.enabled {
        return Err(Outcome::Disabled { command });
    }
    if !def.runs_on(platform) {
        return Err(Outcome::NotOnPlatform { command });
    }
    if !def.gate.admits(caller) {
        return Err(Outcome::Denied {
            command,
            needed: def.gate,
        });
    }
    if let Err(refusal) = cooldowns.check(def, platform, caller, now) {
        return Err(Outcome::Cooldown {
            command,
            remaining: refusal.remaining,
            scope: refusal.scope,
        });
    }
    Ok((def, invocation.args))
}

fn next_count(counts: &HashMap<CommandName, u64>, def: &CommandDef) -> u64 {
    counts
        .get(&def.name)
        .copied()
        .unwrap_or(0)
        .saturating_add(1)
}

fn render(
    def: &CommandDef,
    args: &[&str],
    caller: &User,
    platform: Platform,
    count: u64,
    env: &dyn Environment,
) -> String {
    def.template.render(&InvocationContext {
        caller,
        args,
        count,
        platform,
        env,
    })
}

/// One invocation's view for a template: its own facts plus the environment.
struct InvocationContext<'a> {
    caller: &'a User,
    args: &'a [&'a str],
    count: u64,
    platform: Platform,
    env: &'a dyn Environment,
}

impl TemplateContext for InvocationContext<'_> {
    fn caller(&self) -> &User {
        self.caller
    }
    fn args(&self) -> &[&str] {
        self.args
    }
    fn count(&self) -> u64 {
        self.count
    }
    fn points(&self) -> i64 {
        self.env.points(self.platform, self.caller)
    }
    fn uptime(&self) -> Option<Duration> {
        self.env.uptime(self.platform)
    }
    fn followage(&self) -> FollowAge {
        self.env.followage(self.platform, self.caller)
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
