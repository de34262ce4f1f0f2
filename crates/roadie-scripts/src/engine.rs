//! The engine thread: a fresh QuickJS runtime per run, its limits, the script's
//! evaluation and the promise job queue, and turning what went wrong into a
//! [`ScriptError`].

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rquickjs::context::EvalOptions;
use rquickjs::context::intrinsic::{Date, Eval, Json, MapSet, Promise, RegExp, RegExpCompiler};
use rquickjs::{Coerced, Context, Ctx, Object, Runtime, Value};
use serde_json::Map;

use crate::globals;
use crate::memory::LimitedAllocator;
use crate::runner::{HostReply, ToHost};
use crate::{HostCall, Limits, ScriptError, ScriptInput, ScriptOutput};

/// The file name the script is compiled under. Line numbers are read back from
/// stack traces by looking for it, so it must not look like anything else there
/// (code run by `eval` is `<input>`, built-ins are `native`).
pub(crate) const FILE_NAME: &str = "script";

/// The built-ins beyond the base objects (Object, Function, Array, Error, Math,
/// String, Number, Boolean, Symbol, BigInt, iterators, Reflect...). Left out: Proxy,
/// WeakRef and FinalizationRegistry (finalisers run outside the script's time),
/// typed arrays, `performance` and DOMException, which chat scripts do not need.
/// `Eval` is the compiler itself: without it QuickJS cannot run the script either,
/// so `eval` and `new Function` exist; they compile into the same sandbox, under the
/// same limits, and reach nothing the script could not reach already.
type Intrinsics = (Date, Eval, RegExpCompiler, RegExp, Json, MapSet, Promise);

/// Why the engine must stop no matter what the script does next. Once set, the
/// interrupt handler stops the script at its next check, with an error JavaScript
/// cannot catch, and the allocator refuses every new allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abort {
    Timeout = 1,
    Output = 2,
    HostCalls = 3,
    OutOfMemory = 4,
}

/// Allocations granted after an interrupt, whatever the limits: the error object,
/// its message and their shapes need a handful.
const GRACE_ALLOCATIONS: u32 = 16;

/// The largest grace allocation: QuickJS carves small objects out of 4 KiB arenas.
const GRACE_MAX_SIZE: usize = 8 * 1024;

/// What the engine thread, its allocator and the caller share for one run.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// The [`Abort`] reason, 0 while none. Shared with the caller so that, if it
    /// stops waiting before the engine's next interrupt check, it still reports the
    /// limit that tripped, and the engine learns that nobody waits any more.
    abort: AtomicU8,
    /// When the script's time is up; set once the host API is installed.
    deadline: OnceLock<Instant>,
    /// The run is over and the runtime is being freed: allocations are no longer
    /// refused for an abort (tearing down must not fail half-way).
    closing: AtomicBool,
    /// Small allocations still granted whatever the limits, see [`Shared::grant_grace`].
    grace: AtomicU32,
}

impl Shared {
    pub(crate) fn abort(&self) -> Option<Abort> {
        match self.abort.load(Ordering::Acquire) {
            1 => Some(Abort::Timeout),
            2 => Some(Abort::Output),
            3 => Some(Abort::HostCalls),
            4 => Some(Abort::OutOfMemory),
            _ => None,
        }
    }

    /// Sets the reason unless one is set already (the first one wins: later ones
    /// are its consequences) and returns the reason in force.
    pub(crate) fn raise(&self, why: Abort) -> Abort {
        match self
            .abort
            .compare_exchange(0, why as u8, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => why,
            Err(_) => self.abort().unwrap_or(why),
        }
    }

    pub(crate) fn past_deadline(&self) -> bool {
        self.deadline.get().is_some_and(|d| Instant::now() >= *d)
    }

    /// Whether the allocator must refuse everything: the run is to stop.
    pub(crate) fn refusing(&self) -> bool {
        self.abort.load(Ordering::Acquire) != 0 && !self.closing.load(Ordering::Acquire)
    }

    /// Called when the interrupt handler stops the script. QuickJS then allocates
    /// the "interrupted" error and marks it uncatchable; if that allocation failed
    /// (memory full, or refused because the run is stopping) it would throw `null`,
    /// which JavaScript *can* catch, and a `catch` in a loop would never end. So the
    /// next few small allocations are granted even past the limits.
    fn grant_grace(&self) {
        self.grace.store(GRACE_ALLOCATIONS, Ordering::Release);
    }

    /// Takes one grace allocation if `size` is small and one is left.
    pub(crate) fn take_grace(&self, size: usize) -> bool {
        size <= GRACE_MAX_SIZE
            && self
                .grace
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |g| g.checked_sub(1))
                .is_ok()
    }
}

/// How a host call failed, seen from the script.
pub(crate) enum Stop {
    /// A limit was reached: the run is over (an uncatchable interrupt follows).
    Abort,
    /// The host refused: a normal JavaScript error the script may catch.
    Refused(String),
}

/// What the host API functions share during one run. Lives on the engine thread
/// only (hence `Rc` and `Cell`).
pub(crate) struct State {
    pub(crate) limits: Limits,
    shared: Arc<Shared>,
    replies: RefCell<Vec<String>>,
    logs: RefCell<Vec<String>>,
    output_used: Cell<usize>,
    host_calls: Cell<usize>,
    pub(crate) vars: RefCell<Map<String, serde_json::Value>>,
    pub(crate) vars_used: Cell<usize>,
    unhandled_rejections: Cell<usize>,
    last_rejection: RefCell<Option<Thrown>>,
    to_host: Sender<ToHost>,
    from_host: Receiver<HostReply>,
}

impl State {
    /// Whether the script must stop now; called by QuickJS every few thousand
    /// instructions and during regular-expression matching.
    fn must_stop(&self) -> bool {
        if self.shared.abort().is_some() {
            return true;
        }
        if self.shared.past_deadline() {
            self.shared.raise(Abort::Timeout);
            return true;
        }
        false
    }

    /// `Err` once the run must stop: host functions refuse straight away then.
    pub(crate) fn check(&self) -> Result<(), Stop> {
        if self.must_stop() {
            Err(Stop::Abort)
        } else {
            Ok(())
        }
    }

    fn abort(&self, why: Abort) -> Stop {
        self.shared.raise(why);
        Stop::Abort
    }

    /// Counts `text` against the output limit; `reply` also against the reply count.
    pub(crate) fn emit(&self, text: String, reply: bool) -> Result<(), Stop> {
        self.check()?;
        let used = self.output_used.get().saturating_add(text.len());
        let too_many = reply && self.replies.borrow().len() >= self.limits.max_replies;
        if used > self.limits.output_bytes || too_many {
            return Err(self.abort(Abort::Output));
        }
        self.output_used.set(used);
        if reply {
            self.replies.borrow_mut().push(text);
        } else {
            self.logs.borrow_mut().push(text);
        }
        Ok(())
    }

    /// Makes one host call on the caller's thread and waits for its answer. The time
    /// it takes counts: past the deadline the run is over, whatever the host said.
    pub(crate) fn host_call(&self, call: HostCall) -> Result<i64, Stop> {
        self.check()?;
        let calls = self.host_calls.get().saturating_add(1);
        if calls > self.limits.max_host_calls {
            return Err(self.abort(Abort::HostCalls));
        }
        self.host_calls.set(calls);
        // A closed channel means the caller gave up on this run (its hard deadline).
        if self.to_host.send(ToHost::Call(call)).is_err() {
            return Err(self.abort(Abort::Timeout));
        }
        let Ok(reply) = self.from_host.recv() else {
            return Err(self.abort(Abort::Timeout));
        };
        self.check()?;
        reply.map_err(Stop::Refused)
    }
}

/// An uncaught JavaScript value, described for a streamer.
#[derive(Debug, Clone)]
struct Thrown {
    /// `name: message` for errors, the value as text otherwise.
    text: String,
    name: Option<String>,
    message: Option<String>,
    line: Option<u32>,
    /// Thrown by the parser for the script itself (not by `eval` or `JSON.parse`).
    parse_error: bool,
}

/// The engine thread's body: runs the script and sends the result to the caller.
pub(crate) fn run(
    source: &str,
    input: ScriptInput,
    limits: Limits,
    shared: Arc<Shared>,
    to_host: Sender<ToHost>,
    from_host: Receiver<HostReply>,
) {
    let vars_used = globals::vars_size(&input.vars);
    let state = Rc::new(State {
        limits,
        shared,
        replies: RefCell::new(Vec::new()),
        logs: RefCell::new(Vec::new()),
        output_used: Cell::new(0),
        host_calls: Cell::new(0),
        vars: RefCell::new(input.vars.clone()),
        vars_used: Cell::new(vars_used),
        unhandled_rejections: Cell::new(0),
        last_rejection: RefCell::new(None),
        to_host,
        from_host,
    });
    // The runtime (and with it every closure holding `state`) is gone when
    // `execute` returns, so the output below is final.
    let result = execute(source, &input, &state).map(|()| ScriptOutput {
        replies: state.replies.take(),
        logs: state.logs.take(),
        vars: state.vars.take(),
        elapsed: std::time::Duration::ZERO,
    });
    // The caller may have given up already; nobody is left to tell then.
    let _ = state.to_host.send(ToHost::Done(result));
}

fn engine_error(e: rquickjs::Error) -> ScriptError {
    ScriptError::Engine(e.to_string())
}

fn execute(source: &str, input: &ScriptInput, state: &Rc<State>) -> Result<(), ScriptError> {
    let limits = state.limits;
    // Parsing cannot be interrupted, so its time is bounded through the size.
    if source.len() > limits.max_source_bytes {
        return Err(ScriptError::TooLarge {
            size: source.len(),
            limit: limits.max_source_bytes,
        });
    }
    // The allocator enforces the memory limit from the first allocation on: the
    // runtime and context themselves count against it.
    let allocator = LimitedAllocator::new(Arc::clone(&state.shared), limits.memory_bytes);
    let runtime = Runtime::new_with_alloc(allocator).map_err(|e| setup_error(state, e))?;
    runtime.set_max_stack_size(limits.max_stack_bytes);
    let st = Rc::clone(state);
    runtime.set_interrupt_handler(Some(Box::new(move || {
        let stop = st.must_stop();
        if stop {
            st.shared.grant_grace();
        }
        stop
    })));
    let st = Rc::clone(state);
    runtime.set_host_promise_rejection_tracker(Some(Box::new(
        move |ctx: Ctx<'_>, _promise: Value<'_>, reason: Value<'_>, handled: bool| {
            let count = st.unhandled_rejections.get();
            if handled {
                st.unhandled_rejections.set(count.saturating_sub(1));
            } else {
                st.unhandled_rejections.set(count.saturating_add(1));
                *st.last_rejection.borrow_mut() = Some(describe(&ctx, reason));
            }
        },
    )));
    let context = Context::custom::<Intrinsics>(&runtime).map_err(|e| setup_error(state, e))?;
    let result = evaluate(source, input, state, &runtime, &context);
    // Freeing the runtime must not run into refused allocations.
    state.shared.closing.store(true, Ordering::Release);
    result
}

fn evaluate(
    source: &str,
    input: &ScriptInput,
    state: &Rc<State>,
    runtime: &Runtime,
    context: &Context,
) -> Result<(), ScriptError> {
    let limits = state.limits;
    let evaluated = context.with(|ctx| -> Result<(), ScriptError> {
        globals::install(&ctx, state, input).map_err(|e| setup_error(state, e))?;
        if let Some(deadline) = Instant::now().checked_add(limits.time) {
            // Set once per run: `set` cannot fail here, and would change nothing.
            let _ = state.shared.deadline.set(deadline);
        }
        let mut options = EvalOptions::default();
        options.global = true;
        options.strict = true;
        options.backtrace_barrier = true;
        options.filename = Some(FILE_NAME.to_owned());
        match ctx.eval_with_options::<(), _>(source, options) {
            Ok(()) => Ok(()),
            Err(e) => Err(failure(&ctx, state, e)),
        }
    });
    if let Some(abort) = state.shared.abort() {
        return Err(abort_error(abort, &limits));
    }
    evaluated?;

    // Promise reactions (`then`, `await`, `queueMicrotask`) run after the script
    // body, still under the same deadline: each job is interruptible, and a chain
    // that keeps queueing jobs is cut off here between jobs.
    loop {
        if state.must_stop() {
            break;
        }
        match runtime.execute_pending_job() {
            Ok(true) => {}
            Ok(false) => break,
            Err(job) => {
                let error = job
                    .0
                    .with(|ctx| failure(&ctx, state, rquickjs::Error::Exception));
                if let Some(abort) = state.shared.abort() {
                    return Err(abort_error(abort, &limits));
                }
                return Err(error);
            }
        }
    }
    if let Some(abort) = state.shared.abort() {
        return Err(abort_error(abort, &limits));
    }
    if state.unhandled_rejections.get() > 0
        && let Some(thrown) = state.last_rejection.borrow_mut().take()
    {
        return Err(classify(thrown, &limits, false));
    }
    Ok(())
}

/// A failure while creating the engine or installing the host API: the memory
/// limit is the only thing a caller can cause there (a tiny limit, huge arguments or
/// variables); anything else is the engine's fault.
fn setup_error(state: &State, e: rquickjs::Error) -> ScriptError {
    match state.shared.abort() {
        Some(abort) => abort_error(abort, &state.limits),
        None => engine_error(e),
    }
}

pub(crate) fn abort_error(abort: Abort, limits: &Limits) -> ScriptError {
    match abort {
        Abort::Timeout => ScriptError::Timeout { limit: limits.time },
        Abort::Output => ScriptError::OutputLimit {
            limit: limits.output_bytes,
            max_replies: limits.max_replies,
        },
        Abort::HostCalls => ScriptError::HostCallLimit {
            limit: limits.max_host_calls,
        },
        Abort::OutOfMemory => ScriptError::OutOfMemory {
            limit: limits.memory_bytes,
        },
    }
}

/// Turns an error out of the engine into a [`ScriptError`]. A limit that tripped
/// wins over whatever the script saw, since that was only its consequence.
fn failure(ctx: &Ctx<'_>, state: &State, e: rquickjs::Error) -> ScriptError {
    let limits = &state.limits;
    let error = match e {
        rquickjs::Error::Exception => {
            let thrown = describe(ctx, ctx.catch());
            classify(thrown, limits, true)
        }
        // The only string check on the way in: C strings cannot hold NUL.
        rquickjs::Error::InvalidString(_) => ScriptError::Syntax {
            message: "the script contains a NUL character".to_owned(),
            line: None,
        },
        e => engine_error(e),
    };
    match state.shared.abort() {
        Some(abort) => abort_error(abort, limits),
        None => error,
    }
}

/// Maps what was thrown to the limit it reports, or to the script's own error.
/// Limits that this crate enforces (time, memory, output, host calls) never get
/// here: their [`Abort`] decides first. QuickJS reports its own limits as ordinary
/// errors with fixed texts: "Maximum call stack size exceeded" (`RangeError`; the
/// parsers say "stack overflow"), "string too long" and, for sizes it refuses
/// before asking the allocator, "out of memory" (`InternalError`).
fn classify(thrown: Thrown, limits: &Limits, from_script_body: bool) -> ScriptError {
    let name = thrown.name.as_deref();
    let message = thrown.message.as_deref().unwrap_or_default();
    // "string too long": QuickJS concatenates through ropes, so doubling a string
    // reaches the length limit (2^30 characters) without allocating it; the string
    // asked for is far beyond the memory limit all the same.
    let out_of_memory = name == Some("InternalError")
        && (message.starts_with("out of memory") || message == "string too long");
    if out_of_memory {
        return ScriptError::OutOfMemory {
            limit: limits.memory_bytes,
        };
    }
    if (name == Some("RangeError") && message == "Maximum call stack size exceeded")
        || message == "stack overflow"
    {
        return ScriptError::StackOverflow;
    }
    if from_script_body && thrown.parse_error {
        return ScriptError::Syntax {
            message: message.to_owned(),
            line: thrown.line,
        };
    }
    ScriptError::Exception {
        message: thrown.text,
        line: thrown.line,
    }
}

/// Reads name, message and line from a thrown value without running script code
/// where it can be avoided; any failure to read just leaves the part out.
fn describe<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> Thrown {
    let mut thrown = Thrown {
        text: String::new(),
        name: None,
        message: None,
        line: None,
        parse_error: false,
    };
    if let Some(object) = value.as_object().filter(|_| value.is_error()) {
        thrown.name = text_property(ctx, object, "name");
        thrown.message = text_property(ctx, object, "message");
        let stack = text_property(ctx, object, "stack").unwrap_or_default();
        thrown.line = line_in_stack(&stack);
        // The parser's own frame is the bare location ("at script:3:5"); errors
        // thrown while running name a function first ("at <eval> (script:3:5)").
        thrown.parse_error = thrown.name.as_deref() == Some("SyntaxError")
            && stack
                .trim_start()
                .strip_prefix("at ")
                .is_some_and(|rest| rest.starts_with(&format!("{FILE_NAME}:")));
        thrown.text = match (&thrown.name, &thrown.message) {
            (Some(name), Some(message)) if !message.is_empty() => format!("{name}: {message}"),
            (Some(name), _) => name.clone(),
            (None, Some(message)) => message.clone(),
            (None, None) => "an error".to_owned(),
        };
    } else {
        thrown.text = globals::display_value(ctx, value);
    }
    thrown.text = globals::truncate(thrown.text, 500);
    thrown
}

/// A property as text. Reading may run the script's own getters, which may throw
/// (or be interrupted): then the part is left out and the exception cleared, so that
/// no stale exception is left pending in the engine.
fn text_property<'js>(ctx: &Ctx<'js>, object: &Object<'js>, key: &str) -> Option<String> {
    match object.get::<_, Option<Coerced<String>>>(key) {
        Ok(text) => text.map(|c| c.0),
        Err(_) => {
            drop(ctx.catch());
            None
        }
    }
}

/// The line of the innermost stack frame in the script's own file.
fn line_in_stack(stack: &str) -> Option<u32> {
    let marker = format!("{FILE_NAME}:");
    stack.lines().find_map(|frame| {
        // The file name follows "at " or "(": "at script:3:5", "at f (script:3:5)".
        let at = frame
            .match_indices(&marker)
            .map(|(at, _)| at)
            .find(|&at| matches!(frame[..at].chars().next_back(), Some(' ' | '(')))?;
        let digits: String = frame[at + marker.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::line_in_stack;

    #[test]
    fn finds_the_innermost_script_line() {
        let stack = "    at f (<input>:1:1)\n    at g (script:7:3)\n    at <eval> (script:9:1)\n";
        assert_eq!(line_in_stack(stack), Some(7));
        assert_eq!(line_in_stack("    at script:12:5\n"), Some(12));
        assert_eq!(line_in_stack("    at native\n"), None);
        // A frame in a file whose name merely ends in "script" is not ours.
        assert_eq!(line_in_stack("    at x (myscript:3)\n"), None);
    }
}
