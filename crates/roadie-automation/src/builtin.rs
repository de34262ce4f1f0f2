//! The built-in commands every channel has (`!commands`, `!points`, `!uptime`): their
//! names are reserved, and the daemon answers them from data it holds, through the
//! reply helpers here.

use crate::command::CommandSet;
use crate::format;
use crate::template::MAX_REPLY_CHARS;
use roadie_core::{Platform, User};
use std::time::Duration;

/// A built-in command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltinCommand {
    /// `!commands`: the commands the caller may use here.
    Commands,
    /// `!points`: a balance (the caller's, or the user named in the first argument).
    Points,
    /// `!uptime`: how long the stream has been live.
    Uptime,
}

impl BuiltinCommand {
    /// Every built-in.
    pub const ALL: &'static [BuiltinCommand] = &[
        BuiltinCommand::Commands,
        BuiltinCommand::Points,
        BuiltinCommand::Uptime,
    ];

    /// The chat word, with its `!`.
    pub fn name(self) -> &'static str {
        match self {
            BuiltinCommand::Commands => "!commands",
            BuiltinCommand::Points => "!points",
            BuiltinCommand::Uptime => "!uptime",
        }
    }

    /// The built-in a chat word names, ignoring ASCII case.
    pub fn lookup(word: &str) -> Option<BuiltinCommand> {
        BuiltinCommand::ALL
            .iter()
            .copied()
            .find(|builtin| builtin.name().eq_ignore_ascii_case(word))
    }
}

/// The `!commands` reply: built-ins, then every enabled command `caller` may use on
/// `platform`, by name, cut to whole names within [`MAX_REPLY_CHARS`] (ending in `…`
/// when some did not fit).
pub fn commands_reply(set: &CommandSet, caller: &User, platform: Platform) -> String {
    let names = BuiltinCommand::ALL
        .iter()
        .map(|builtin| builtin.name())
        .chain(
            set.iter()
                .filter(|def| def.enabled && def.runs_on(platform) && def.gate.admits(caller))
                .map(|def| def.name.as_str()),
        );
    let mut reply = String::from("Commands:");
    // Room for ", …" so the cut-off marker always fits.
    let budget = MAX_REPLY_CHARS.saturating_sub(3);
    let mut length = reply.chars().count();
    for (index, name) in names.enumerate() {
        let separator = if index == 0 { " " } else { ", " };
        let added = separator.len() + name.len();
        if length + added > budget {
            reply.push_str(", …");
            break;
        }
        reply.push_str(separator);
        reply.push_str(name);
        length += added;
    }
    reply
}

/// The `!points` reply: `Alice has 120 points` (`1 point` in the singular).
pub fn points_reply(display_name: &str, balance: i64) -> String {
    let unit = if balance == 1 { "point" } else { "points" };
    let mut reply = format!("{display_name} has {balance} {unit}");
    format::truncate_chars(&mut reply, MAX_REPLY_CHARS);
    reply
}

/// The `!uptime` reply: `Live for 2h 5m`, or `The stream is offline`.
pub fn uptime_reply(uptime: Option<Duration>) -> String {
    match uptime {
        Some(elapsed) => format!("Live for {}", format::uptime(elapsed)),
        None => "The stream is offline".to_owned(),
    }
}
