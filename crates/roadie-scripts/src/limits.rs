//! The limits one script run is held to.

use std::time::Duration;

/// The limits one script run is held to. [`Limits::default`] gives the values the
/// daemon uses unless configured otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time the script may run, host calls included (default 100 ms).
    pub time: Duration,
    /// Memory the engine may allocate, its own start-up included (default 16 MiB).
    pub memory_bytes: usize,
    /// Total bytes of replies and log lines together (default 16 KiB).
    pub output_bytes: usize,
    /// Number of `reply` calls (default 10): each one is a chat message.
    pub max_replies: usize,
    /// Host calls (points, random, OBS, TTS) per run (default 100): a loop must not
    /// flood the TTS queue or OBS.
    pub max_host_calls: usize,
    /// Script engines that may be alive at once in the process (default 4), counting
    /// those still finishing after their caller got a timeout: beyond it, a run is
    /// refused with [`ScriptError::Busy`](crate::ScriptError::Busy).
    pub max_live_engines: usize,
    /// Size of the script's source text (default 128 KiB). Parsing cannot be
    /// interrupted, so this bounds its time.
    pub max_source_bytes: usize,
    /// Native stack the engine may use for JavaScript recursion (default 512 KiB:
    /// about 800 plain calls deep in an optimised build, 160 in a debug build).
    pub max_stack_bytes: usize,
    /// Total bytes of the per-script variables as JSON, keys included (default 64 KiB).
    pub vars_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            time: Duration::from_millis(100),
            memory_bytes: 16 * 1024 * 1024,
            output_bytes: 16 * 1024,
            max_replies: 10,
            max_host_calls: 100,
            max_live_engines: 4,
            max_source_bytes: 128 * 1024,
            max_stack_bytes: 512 * 1024,
            vars_bytes: 64 * 1024,
        }
    }
}
