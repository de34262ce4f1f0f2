//! User scripts: JavaScript run in an embedded QuickJS sandbox (through `rquickjs`) with
//! limits on time, memory, output and stack depth, and an explicit host API.
//!
//! One call, [`run`], evaluates one script with a fresh engine and returns its replies,
//! log lines and (possibly changed) per-script variables, or a [`ScriptError`] a
//! streamer can read. It is synchronous: the daemon calls it inside
//! `tokio::task::spawn_blocking`. The script runs on a thread of its own; host calls
//! come back to the calling thread.
//!
//! # What a script sees
//!
//! The standard ECMAScript built-ins (strict mode; no `std`/`os` modules, no module
//! loader, no Proxy, WeakRef or typed arrays; no file, network, process or
//! environment access) plus the globals in [`HOST_GLOBALS`]:
//!
//! - `reply(...values)`: a chat reply (values joined by spaces, objects as JSON).
//! - `user` (`id`, `login`, `name`, `platform`, `roles`) and `args`: frozen.
//! - `vars.get(key)` / `vars.set(key, value)`: the script's persisted variables,
//!   JSON values only; `get` returns a copy, `set(key, undefined)` forgets.
//! - `points.get(login?)`, `points.add(n)` / `points.add(login, n)`: balances,
//!   the caller's when no login is given.
//! - `random(low, high)`: a whole number in `low..=high`.
//! - `obs.scene(name)`, `obs.source(scene, source, "on" | "off" | "toggle")`,
//!   `obs.text(source, text)`, `tts.say(text)`.
//! - `console.log(...)` (and `info`, `warn`, `error`, `debug`): log lines.
//!
//! Points, random, OBS and TTS go through the [`Host`] trait, the same path an action
//! step takes; a host's refusal is an `Error` the script may catch. `eval` and
//! `new Function` exist (QuickJS compiles the script itself with them) and are
//! harmless: they compile into the same sandbox, under the same limits.
//!
//! # Limits
//!
//! See [`Limits`]. Time: QuickJS's interrupt handler (every 10,000 calls and
//! backward jumps, and during regular-expression matching) stops the script with an
//! error it cannot catch; host calls count, and the allocator also watches the clock.
//! Memory: the engine's allocator refuses past the limit, which stops the run as
//! surely as the clock. Output, host calls, variables and source size are counted
//! here. Stack: QuickJS's own stack check, on a thread whose stack is sized to fit.
//! Whatever the engine does, [`run`] answers within the time limit plus half of it
//! (at least 20 ms more).
//!
//! Architecture invariant: no input (source text, arguments, variables, host answers)
//! makes this crate panic or answer later than its limits allow; every failure is a
//! [`ScriptError`], and one run leaves nothing behind that the next one could see.

mod engine;
mod error;
mod globals;
mod host;
mod io;
mod limits;
mod memory;
mod runner;

pub use error::ScriptError;
pub use host::{Host, HostCall, NullHost, ObsCall, RecordingHost, Visibility};
pub use io::{ScriptInput, ScriptOutput, ScriptUser};
pub use limits::Limits;
pub use runner::{live_engines, run};

/// The globals the host API adds to a script's global object, beside the standard
/// ECMAScript built-ins. Tests compare a script's view of its global object with this
/// list, so adding a global means adding it here.
pub const HOST_GLOBALS: &[&str] = &[
    "reply", "user", "args", "vars", "points", "random", "obs", "tts", "console",
];
