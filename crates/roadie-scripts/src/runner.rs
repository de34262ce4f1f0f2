//! The caller's side of a run: starts the engine thread, serves its host calls and
//! enforces a hard deadline even if the engine got stuck.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use std::sync::Arc;

use crate::engine::{self, Abort, Shared};
use crate::{Host, HostCall, Limits, ScriptError, ScriptInput, ScriptOutput};

/// Native stack beyond `max_stack_bytes` for the engine thread: the engine's own frames
/// below its stack check, our host-call glue and the parser need room after QuickJS
/// decides JavaScript recursion is too deep.
const STACK_HEADROOM: usize = 1024 * 1024;

/// The least the caller waits past the time limit before abandoning the engine:
/// thread start and engine set-up take a few hundred microseconds, more on a loaded
/// machine, and must not count as the script's time when the limit is tiny.
const MIN_GRACE: Duration = Duration::from_millis(20);

/// The grace is this fraction of the time limit (at least [`MIN_GRACE`]): the engine
/// stops itself right after the limit, so the backstop only matters for work it
/// cannot interrupt (parsing a huge `eval` string, one native operation on a huge
/// string), and must still answer within twice the limit.
const GRACE_DIVISOR: u32 = 2;

/// Engine threads alive in this process, abandoned ones included.
static LIVE_ENGINES: AtomicUsize = AtomicUsize::new(0);

/// How many script engines are running in this process right now, including those
/// whose caller already got a timeout and that are finishing work they could not be
/// interrupted in. For the daemon's status.
pub fn live_engines() -> usize {
    LIVE_ENGINES.load(Ordering::Relaxed)
}

/// Counts one engine thread for as long as it lives, even if it panics.
struct LiveEngine;

impl LiveEngine {
    /// Takes a slot unless `max` engines are alive already.
    fn acquire(max: usize) -> Option<Self> {
        LIVE_ENGINES
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| LiveEngine)
    }
}

impl Drop for LiveEngine {
    fn drop(&mut self) {
        LIVE_ENGINES.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A message from the engine thread to the caller.
pub(crate) enum ToHost {
    /// A host call; the engine waits for its [`HostReply`].
    Call(HostCall),
    /// The run is over.
    Done(Result<ScriptOutput, ScriptError>),
}

/// The answer to a [`ToHost::Call`]: a number (balance, random value; 0 for calls
/// without one) or the host's reason for refusing.
pub(crate) type HostReply = Result<i64, String>;

/// Runs `source` once with a fresh engine and returns its output or why it failed.
///
/// Synchronous: call it from a blocking context (`spawn_blocking` in the daemon). The
/// script runs on its own thread, whose stack is sized from
/// [`Limits::max_stack_bytes`], so the stack limit holds whatever thread calls this;
/// host calls run on the calling thread. Returns at the latest 1.5 × [`Limits::time`]
/// (at least the limit + 20 ms) after the call, even if the engine is stuck in work it
/// cannot interrupt; such an engine thread is abandoned and ends on its own once that
/// work is done (its memory stays bounded by the limit meanwhile).
pub fn run(
    source: &str,
    input: ScriptInput,
    host: &mut dyn Host,
    limits: &Limits,
) -> Result<ScriptOutput, ScriptError> {
    let started = Instant::now();
    let limits = *limits;
    let (to_host, from_engine) = mpsc::channel::<ToHost>();
    let (to_engine, from_host) = mpsc::channel::<HostReply>();
    let source = source.to_owned();
    let shared = Arc::new(Shared::default());
    let engine_shared = Arc::clone(&shared);
    // Engines abandoned after a timeout may still be busy for a while; starting more
    // beside them would let a script that keeps timing out eat every core.
    let slot = LiveEngine::acquire(limits.max_live_engines).ok_or(ScriptError::Busy {
        running: limits.max_live_engines,
    })?;
    let engine = thread::Builder::new()
        .name("roadie-script".to_owned())
        .stack_size(limits.max_stack_bytes.saturating_add(STACK_HEADROOM))
        .spawn(move || {
            let _slot = slot;
            engine::run(&source, input, limits, engine_shared, to_host, from_host);
        })
        .map_err(|e| ScriptError::Engine(format!("could not start the script thread: {e}")))?;

    let grace = (limits.time / GRACE_DIVISOR).max(MIN_GRACE);
    // An unrepresentable instant (a limit of centuries) means no backstop at all.
    let backstop = started.checked_add(limits.time.saturating_add(grace));
    // Giving up: report the limit the engine saw trip if it saw one, else the time
    // limit, which also tells the engine to stop at its next check.
    let give_up = || engine::abort_error(shared.raise(Abort::Timeout), &limits);
    loop {
        let message = match backstop {
            Some(at) => from_engine.recv_timeout(at.saturating_duration_since(Instant::now())),
            None => from_engine
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
        };
        match message {
            Ok(ToHost::Call(call)) => {
                let reply = dispatch(host, call);
                if backstop.is_some_and(|at| Instant::now() >= at) {
                    return Err(give_up());
                }
                // The engine may have stopped waiting (its own deadline passed); then
                // it no longer needs the answer.
                let _ = to_engine.send(reply);
            }
            Ok(ToHost::Done(result)) => {
                // The thread ends right after sending; joining keeps runs from piling
                // up threads. A panic there was already turned into this result or
                // into the disconnect below.
                let _ = engine.join();
                return result.map(|mut output| {
                    output.elapsed = started.elapsed();
                    output
                });
            }
            // The engine is stuck where it cannot be interrupted: give up on it. It
            // notices the closed channels or its deadline and ends by itself.
            Err(RecvTimeoutError::Timeout) => return Err(give_up()),
            Err(RecvTimeoutError::Disconnected) => {
                let _ = engine.join();
                return Err(ScriptError::Engine(
                    "the script engine stopped unexpectedly".to_owned(),
                ));
            }
        }
    }
}

fn dispatch(host: &mut dyn Host, call: HostCall) -> HostReply {
    match call {
        HostCall::PointsGet { login } => host.points_get(login.as_deref()),
        HostCall::PointsAdd { login, delta } => host.points_add(login.as_deref(), delta),
        // A host returning a value outside the range would break the script's
        // assumptions (array indexes), so clamp rather than trust it.
        HostCall::Random { low, high } => Ok(host.random(low, high).clamp(low, high)),
        HostCall::Obs(call) => host.obs(call).map(|()| 0),
        HostCall::TtsSay { text } => host.tts_say(&text).map(|()| 0),
    }
}
