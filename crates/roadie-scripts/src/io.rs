//! What a script gets (its caller, arguments and variables) and what it gives back.

use std::time::Duration;

use serde_json::{Map, Value};

/// The viewer whose chat command, redemption or event started the script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptUser {
    /// The platform's user id.
    pub id: String,
    /// The login (lower-case handle).
    pub login: String,
    /// The display name.
    pub name: String,
    /// The platform id, e.g. `twitch`.
    pub platform: String,
    /// Role names, e.g. `broadcaster`, `moderator`, `vip`, `subscriber`.
    pub roles: Vec<String>,
}

/// Everything one run of a script starts from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScriptInput {
    /// The script's name, used in error messages only.
    pub script_name: String,
    /// Who started it.
    pub user: ScriptUser,
    /// The command's arguments (words after the command).
    pub args: Vec<String>,
    /// The script's persisted variables, as the daemon loaded them.
    pub vars: Map<String, Value>,
}

/// What a run that finished produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScriptOutput {
    /// Chat replies, in order.
    pub replies: Vec<String>,
    /// `console.log` lines, in order.
    pub logs: Vec<String>,
    /// The variables after the run, for the daemon to persist.
    pub vars: Map<String, Value>,
    /// Wall time of the whole run, engine set-up included.
    pub elapsed: Duration,
}
