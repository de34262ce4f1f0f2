//! Why a script run failed, in words a streamer understands.

use std::time::Duration;

/// Why a script run failed. Every variant is the script's fault or a limit it hit,
/// except [`ScriptError::Engine`]; none of them affects the daemon or later runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// The script ran longer than its time limit (an endless loop, or slow host calls).
    #[error("the script took longer than {} ms and was stopped (an endless loop?)", limit.as_millis())]
    Timeout {
        /// The time limit.
        limit: Duration,
    },
    /// The script tried to use more memory than allowed.
    #[error("the script used more than {} of memory and was stopped", human_bytes(*limit))]
    OutOfMemory {
        /// The memory limit in bytes.
        limit: usize,
    },
    /// The script recursed too deeply (a function that calls itself without end?).
    #[error(
        "the script recursed too deeply and was stopped (a function that calls itself without end?)"
    )]
    StackOverflow,
    /// The script produced too many replies or too much reply and log text.
    #[error("the script produced more than {} of output (or more than {max_replies} replies) and was stopped", human_bytes(*limit))]
    OutputLimit {
        /// The output limit in bytes (replies and log lines together).
        limit: usize,
        /// The limit on the number of replies.
        max_replies: usize,
    },
    /// The script made too many host calls (points, random, OBS, TTS).
    #[error(
        "the script made more than {limit} calls to points, random, OBS or TTS and was stopped"
    )]
    HostCallLimit {
        /// The limit on host calls per run.
        limit: usize,
    },
    /// The script threw an error nobody caught.
    #[error("the script failed{}: {message}", at_line(*line))]
    Exception {
        /// The error's name and message, e.g. `TypeError: x is not a function`.
        message: String,
        /// The line in the script where it was thrown, when known.
        line: Option<u32>,
    },
    /// The script is not valid JavaScript.
    #[error("the script has a syntax error{}: {message}", at_line(*line))]
    Syntax {
        /// The parser's message.
        message: String,
        /// The line of the error, when known.
        line: Option<u32>,
    },
    /// The script's source is larger than allowed.
    #[error("the script is {} long; scripts may be at most {}", human_bytes(*size), human_bytes(*limit))]
    TooLarge {
        /// The source's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Too many scripts are running (or still finishing after a timeout).
    #[error("{running} scripts are still running; try again in a moment")]
    Busy {
        /// The limit on engines alive at once.
        running: usize,
    },
    /// The sandbox itself could not run the script (no thread or engine could be
    /// created). Not the script's fault.
    #[error("the script engine could not run the script: {0}")]
    Engine(String),
}

fn at_line(line: Option<u32>) -> String {
    line.map(|l| format!(" at line {l}")).unwrap_or_default()
}

fn human_bytes(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KB", bytes / KIB)
    } else if bytes >= KIB {
        format!("{:.1} KB", bytes as f64 / KIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}
