//! Hostile scripts: each kind is stopped within twice its limit, reported with the
//! right error, and leaves the process able to run the next script.

use std::time::{Duration, Instant};

use roadie_scripts::{HOST_GLOBALS, Host, Limits, ObsCall, ScriptError, live_engines, run};

use crate::common::{
    assert_healthy, assert_within_twice, input, run_default, run_hostile, run_with, serial,
    wait_for_engines,
};

fn timeout(limits: &Limits) -> ScriptError {
    ScriptError::Timeout { limit: limits.time }
}

fn out_of_memory(limits: &Limits) -> ScriptError {
    ScriptError::OutOfMemory {
        limit: limits.memory_bytes,
    }
}

#[test]
fn endless_loops_time_out() {
    let _serial = serial();
    let limits = Limits::default();
    for source in [
        "while (true) {}",
        "for (;;) {}",
        "do {} while (1)",
        "let i = 0; while (true) { i = (i + 1) % 7 }",
        // An endless loop started from a promise job, after the script body.
        "Promise.resolve().then(() => { for (;;) {} })",
        // A job that queues itself for ever: each job is short, the chain is not.
        "function again() { Promise.resolve().then(again) } again()",
        // Catastrophic regular-expression backtracking.
        "/(a+)+$/.test('a'.repeat(40) + 'b')",
        // Code compiled at run time is under the same limit.
        "eval('while (true) {}')",
        "new Function('for (;;) {}')()",
    ] {
        let (err, elapsed) = run_hostile(source, &limits);
        assert_eq!(err, timeout(&limits), "{source}");
        assert!(
            elapsed >= limits.time,
            "{source} stopped early: {elapsed:?}"
        );
        assert_within_twice(source, elapsed, &limits);
        assert_healthy();
    }
}

#[test]
fn catching_the_interrupt_does_not_escape_the_limit() {
    let _serial = serial();
    let limits = Limits::default();
    for source in [
        "for (;;) { try { while (true) {} } catch (e) {} }",
        "for (;;) { try { while (true) {} } finally { continue } }",
        "try { while (true) {} } finally { while (true) {} }",
        "async function f() { try { for (;;) {} } catch (e) { reply('caught') } } f()",
    ] {
        let (err, elapsed) = run_hostile(source, &limits);
        assert_eq!(err, timeout(&limits), "{source}");
        assert_within_twice(source, elapsed, &limits);
        assert_healthy();
    }
}

#[test]
fn a_short_time_limit_holds_too() {
    let _serial = serial();
    let limits = Limits {
        time: Duration::from_millis(20),
        ..Limits::default()
    };
    let (err, elapsed) = run_hostile("for (;;) {}", &limits);
    assert_eq!(err, timeout(&limits));
    assert_within_twice("for (;;) {}", elapsed, &limits);
    assert_healthy();
}

/// Memory bombs of every shape. Filling 16 MiB takes a debug build tens of
/// milliseconds, more on a busy machine, so that it is the memory limit that trips
/// is checked with time to spare; that the default limits stop them within twice
/// the time limit (by memory or, on a crawling machine, by time) separately.
const MEMORY_BOMBS: &[&str] = &[
    "let a = []; for (;;) a.push(new Array(1e6).fill(1))",
    "let s = 'x'; for (;;) s += s",
    "let s = 'x'; for (;;) { s += s; s.indexOf('y') }",
    "'x'.repeat(1e9)",
    "new Array(1e9).fill(0)",
    "let a = []; for (;;) a.push({})",
    "function local() { const a = []; for (;;) a.push([1, 2, 3]) } local()",
    "const o = {}; for (let i = 0; ; i++) o['k' + i] = i",
    "const m = new Map(); for (let i = 0; ; i++) m.set(i, new Array(1000).fill(i))",
    // Catching the failure does not help: the memory limit, once hit, ends the run.
    "const a = []; for (;;) { try { a.push(new Array(1e6).fill(1)) } catch (e) {} }",
    "const a = []; for (;;) { try { for (;;) a.push([1]) } catch (e) {} }",
    "eval('let a = []; for (;;) a.push(new Array(1e6).fill(1))')",
];

#[test]
fn memory_bombs_run_out_of_memory() {
    let _serial = serial();
    let limits = Limits {
        time: Duration::from_secs(5),
        ..Limits::default()
    };
    for source in MEMORY_BOMBS {
        let (err, elapsed) = run_hostile(source, &limits);
        assert_eq!(err, out_of_memory(&limits), "{source}");
        assert!(elapsed < limits.time, "{source}: {elapsed:?}");
        assert_healthy();
    }
}

#[test]
fn memory_bombs_stop_within_twice_the_default_time_limit() {
    let _serial = serial();
    let limits = Limits::default();
    for source in MEMORY_BOMBS {
        let (err, elapsed) = run_hostile(source, &limits);
        assert!(
            err == out_of_memory(&limits) || err == timeout(&limits),
            "{source}: {err:?}"
        );
        assert_within_twice(source, elapsed, &limits);
    }
    // These hit the memory limit at once, whatever the machine.
    for source in ["'x'.repeat(1e9)", "let s = 'x'; for (;;) s += s"] {
        let (err, elapsed) = run_hostile(source, &limits);
        assert_eq!(err, out_of_memory(&limits), "{source}");
        assert_within_twice(source, elapsed, &limits);
    }
    assert_healthy();
}

#[test]
fn runaway_recursion_overflows_the_stack() {
    let _serial = serial();
    let limits = Limits::default();
    for source in [
        "function f() { return f() + 1 } f()",
        "const g = () => [g()]; g()",
        "const o = {}; o.toString = function () { return String(this) }; String(o)",
        // Deep nesting in code compiled at run time overflows the parser's stack.
        "eval('('.repeat(100000))",
        "JSON.parse('['.repeat(100000))",
    ] {
        let (err, elapsed) = run_hostile(source, &limits);
        assert_eq!(err, ScriptError::StackOverflow, "{source}");
        assert_within_twice(source, elapsed, &limits);
        assert_healthy();
    }
    // Catching every overflow turns into an endless loop, which the time limit ends.
    let source = "function f() { try { return f() } catch (e) { return f() } } f()";
    let (err, elapsed) = run_hostile(source, &limits);
    assert_eq!(err, timeout(&limits), "{source}");
    assert_within_twice(source, elapsed, &limits);
    assert_healthy();
}

#[test]
fn the_stack_limit_is_the_configured_one() {
    let depth = |max_stack_bytes| {
        let limits = Limits {
            max_stack_bytes,
            ..Limits::default()
        };
        let source =
            "let d = 0; function f() { d++; f() } try { f() } catch (e) { reply(d, e.name) }";
        let out = run_with(
            source,
            &mut roadie_scripts::RecordingHost::new("a"),
            &limits,
        )
        .unwrap();
        let (depth, name) = out.replies[0].split_once(' ').unwrap();
        assert_eq!(name, "RangeError");
        depth.parse::<u32>().unwrap()
    };
    let small = depth(64 * 1024);
    let large = depth(512 * 1024);
    assert!(small > 10, "{small}");
    // Eight times the stack, several times the depth (frames vary a little).
    assert!(
        large > small * 4,
        "64 KiB: {small} calls, 512 KiB: {large} calls"
    );
}

#[test]
fn huge_output_hits_the_output_limit() {
    let _serial = serial();
    let limits = Limits::default();
    let output_limit = ScriptError::OutputLimit {
        limit: limits.output_bytes,
        max_replies: limits.max_replies,
    };
    for source in [
        "for (;;) reply('x'.repeat(1e5))",
        "for (;;) reply('x')",
        "for (;;) console.log('spam spam spam')",
        // Catching the refusal does not let the script go on producing output.
        "for (;;) { try { reply('x'.repeat(1e5)) } catch (e) {} }",
        "try { reply('x'.repeat(1e6)) } catch (e) {} reply('small')",
    ] {
        let (err, elapsed) = run_hostile(source, &limits);
        assert_eq!(err, output_limit, "{source}");
        assert_within_twice(source, elapsed, &limits);
        assert_healthy();
    }
}

#[test]
fn flooding_the_host_hits_the_host_call_limit() {
    let _serial = serial();
    let limits = Limits::default();
    for source in [
        "for (;;) tts.say('hi')",
        "for (;;) { try { obs.scene('x') } catch (e) {} }",
    ] {
        let (err, elapsed) = run_hostile(source, &limits);
        assert_eq!(
            err,
            ScriptError::HostCallLimit {
                limit: limits.max_host_calls
            },
            "{source}"
        );
        assert_within_twice(source, elapsed, &limits);
        assert_healthy();
    }
}

/// A host whose calls take longer than a script may run.
struct SlowHost(Duration);

impl Host for SlowHost {
    fn points_get(&mut self, _login: Option<&str>) -> Result<i64, String> {
        std::thread::sleep(self.0);
        Ok(1)
    }
    fn points_add(&mut self, _login: Option<&str>, _delta: i64) -> Result<i64, String> {
        std::thread::sleep(self.0);
        Ok(1)
    }
    fn random(&mut self, low: i64, _high: i64) -> i64 {
        std::thread::sleep(self.0);
        low
    }
    fn obs(&mut self, _call: ObsCall) -> Result<(), String> {
        std::thread::sleep(self.0);
        Ok(())
    }
    fn tts_say(&mut self, _text: &str) -> Result<(), String> {
        std::thread::sleep(self.0);
        Ok(())
    }
}

#[test]
fn slow_host_calls_cannot_extend_the_deadline() {
    let _serial = serial();
    let limits = Limits::default();
    for (source, delay) in [
        ("for (;;) random(1, 2)", 40),
        // Catching the error and finishing quickly is still a timeout.
        (
            "try { points.get() } catch (e) {} vars.set('done', true)",
            120,
        ),
    ] {
        let mut host = SlowHost(Duration::from_millis(delay));
        let started = Instant::now();
        let err = run(source, input(&[]), &mut host, &limits).unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(err, timeout(&limits), "{source}");
        assert_within_twice(source, elapsed, &limits);
    }
    // A host call that alone takes longer than twice the limit ends the run when it
    // returns; the engine does not wait any longer.
    let mut host = SlowHost(Duration::from_millis(250));
    let err = run("points.get(); for (;;) {}", input(&[]), &mut host, &limits).unwrap_err();
    assert_eq!(err, timeout(&limits));
    assert_healthy();
}

#[test]
fn host_objects_are_not_there() {
    let out = run_default(
        r#"
        reply([typeof require, typeof process, typeof std, typeof os, typeof fetch,
               typeof XMLHttpRequest, typeof Deno, typeof Bun, typeof module, typeof exports,
               typeof setTimeout, typeof WebAssembly, typeof scriptArgs, typeof print,
               typeof Proxy, typeof WeakRef, typeof FinalizationRegistry].join(" "));
        reply(eval("typeof process"), new Function("return typeof require")());
        "#,
    )
    .unwrap();
    assert_eq!(
        out.replies,
        [
            ["undefined"; 17].join(" "),
            "undefined undefined".to_owned()
        ]
    );
    // No module loader: dynamic import fails, and the failure is the script's error.
    let err = run_default("import('fs')").unwrap_err();
    assert!(
        matches!(&err, ScriptError::Exception { message, .. } if message.contains("could not load module")),
        "{err:?}"
    );
    let out =
        run_default("import('os').then(() => reply('loaded'), e => reply('refused'))").unwrap();
    assert_eq!(out.replies, ["refused"]);
    // Static imports are a syntax error in a script.
    let err = run_default("import * as std from 'std'").unwrap_err();
    assert!(matches!(err, ScriptError::Syntax { .. }), "{err:?}");
    assert_healthy();
}

/// Standard ECMAScript globals (ES2025 plus explicit resource management), and
/// QuickJS's `InternalError` and `queueMicrotask` (a job on the same queue).
const STANDARD_GLOBALS: &[&str] = &[
    "AggregateError",
    "Array",
    "AsyncDisposableStack",
    "BigInt",
    "Boolean",
    "Date",
    "DisposableStack",
    "Error",
    "EvalError",
    "Function",
    "Infinity",
    "InternalError",
    "Iterator",
    "JSON",
    "Map",
    "Math",
    "NaN",
    "Number",
    "Object",
    "Promise",
    "RangeError",
    "ReferenceError",
    "Reflect",
    "RegExp",
    "Set",
    "String",
    "SuppressedError",
    "Symbol",
    "SyntaxError",
    "TypeError",
    "URIError",
    "WeakMap",
    "WeakSet",
    "decodeURI",
    "decodeURIComponent",
    "encodeURI",
    "encodeURIComponent",
    "escape",
    "eval",
    "globalThis",
    "isFinite",
    "isNaN",
    "parseFloat",
    "parseInt",
    "queueMicrotask",
    "undefined",
    "unescape",
];

#[test]
fn only_documented_globals_are_reachable() {
    // The global object reached the sneaky way (through the Function constructor of
    // an ordinary object) is the same one, with the same names: nothing is hidden.
    let source = r#"
        const viaFunction = this.constructor.constructor("return this")();
        const viaArrow = (() => {}).constructor("return globalThis")();
        reply(viaFunction === globalThis && viaArrow === globalThis);
        reply(Object.getOwnPropertyNames(viaFunction).sort().join(" "));
        reply(Object.getOwnPropertySymbols(viaFunction).map(String).join(" "));
        reply(Object.getPrototypeOf(globalThis) === Object.prototype);
    "#;
    let out = run_default(source).unwrap();
    assert_eq!(out.replies[0], "true");
    let mut expected: Vec<&str> = STANDARD_GLOBALS
        .iter()
        .chain(HOST_GLOBALS)
        .copied()
        .collect();
    expected.sort_unstable();
    let found: Vec<&str> = out.replies[1].split(' ').collect();
    assert_eq!(found, expected, "global names differ from the allowlist");
    assert_eq!(out.replies[2], "Symbol(Symbol.toStringTag)");
    assert_eq!(out.replies[3], "true");
}

#[test]
fn host_functions_reveal_nothing() {
    let source = r#"
        reply(String(reply));
        reply(Object.getOwnPropertyNames(reply).sort().join(" "));
        reply(Object.getOwnPropertyNames(points).sort().join(" "));
        reply(Object.isFrozen(points) && Object.isFrozen(obs) && Object.isFrozen(console));
        let caller = "unreachable";
        try { caller = String(reply.caller) } catch (e) { caller = e.name }
        reply(caller);
    "#;
    let out = run_default(source).unwrap();
    assert_eq!(
        out.replies,
        [
            "function reply() {\n    [native code]\n}",
            "length name",
            "add get",
            "true",
            "TypeError"
        ]
    );
}

#[test]
fn eval_and_function_are_present_but_harmless() {
    // Serial like every test that runs hostile scripts: `run_hostile` waits for the
    // process-wide engine count, which another test's abandoned engine would hold up.
    let _serial = serial();
    // They compile into the same sandbox: the same globals, the same limits.
    let out = run_default(
        "reply(eval('1 + 1'), new Function('a', 'return a * 2')(21), eval('typeof user'))",
    )
    .unwrap();
    assert_eq!(out.replies, ["2 42 object"]);
    let (err, _) = run_hostile("eval('for (;;) {}')", &Limits::default());
    assert_eq!(err, timeout(&Limits::default()));
    // A loaded machine can reach 100 ms before 16 MB: give time enough to hit memory.
    let roomy = Limits {
        time: Duration::from_secs(5),
        ..Limits::default()
    };
    let (err, _) = run_hostile(
        "eval('let a = []; for (;;) a.push(new Array(1e6).fill(1))')",
        &roomy,
    );
    assert_eq!(err, out_of_memory(&roomy));
    assert_healthy();
}

#[test]
fn runs_are_isolated_from_each_other() {
    // Globals, prototypes and built-ins changed by one run are fresh in the next.
    let out = run_default(
        "globalThis.leak = 1; Array.prototype.evil = 1; Object.freeze = null; JSON.parse = null; reply('changed')",
    )
    .unwrap();
    assert_eq!(out.replies, ["changed"]);
    let out = run_default(
        "reply(typeof leak, [].evil === undefined, typeof Object.freeze, typeof JSON.parse)",
    )
    .unwrap();
    assert_eq!(out.replies, ["undefined true function function"]);
}

#[test]
fn huge_eval_source_is_stopped_in_time() {
    let _serial = serial();
    let limits = Limits::default();
    // Parsing cannot be interrupted; a multi-megabyte string handed to eval is
    // stopped by the memory limit or, at the latest, by the caller's hard deadline.
    let source = "eval('1+'.repeat(3e6) + '1')";
    let (err, elapsed) = run_hostile(source, &limits);
    assert!(
        err == timeout(&limits) || err == out_of_memory(&limits),
        "{err:?}"
    );
    assert_within_twice(source, elapsed, &limits);
    assert_healthy();
}

#[test]
fn hostile_runs_in_a_row_leave_the_process_healthy() {
    let _serial = serial();
    let limits = Limits {
        time: Duration::from_millis(30),
        ..Limits::default()
    };
    let hostile = [
        "for (;;) {}",
        "let a = []; for (;;) a.push(new Array(1e6).fill(1))",
        "function f() { return f() } f()",
        "for (;;) reply('x'.repeat(1e5))",
        "throw new Error('x')",
        "let x = ;",
    ];
    for round in 0..5 {
        for source in hostile {
            let (_, elapsed) = run_hostile(source, &limits);
            assert!(
                elapsed < limits.time * 2,
                "round {round}: {source}: {elapsed:?}"
            );
        }
    }
    assert_healthy();
}

#[test]
fn work_between_interrupt_checks_cannot_delay_the_answer() {
    let _serial = serial();
    let limits = Limits::default();
    // QuickJS checks for interrupts every 10,000 calls and jumps, so when every call
    // is a costly built-in the next check can be seconds away. Built-ins that
    // allocate fail from the deadline on (the allocator watches the clock), so this
    // engine ends right away.
    let (err, elapsed) = run_hostile("for (;;) 'x'.repeat(1e5)", &limits);
    assert_eq!(err, timeout(&limits));
    assert_within_twice("repeat", elapsed, &limits);

    // One that only reads (a 100 kB scan) runs on to the next check: the caller gets
    // its answer on time all the same, and the abandoned engine, counted in
    // `live_engines`, ends by itself.
    let before = live_engines();
    let source = "const s = 'x'.repeat(1e5); for (;;) s.indexOf('y')";
    let started = Instant::now();
    let err = run(source, input(&[]), &mut roadie_scripts::NullHost, &limits).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err, timeout(&limits));
    assert_within_twice(source, elapsed, &limits);
    wait_for_engines(before, Duration::from_secs(120), source);
    assert_healthy();
}

#[test]
fn too_many_live_engines_refuse_new_runs() {
    let limits = Limits {
        max_live_engines: 0,
        ..Limits::default()
    };
    let err = run(
        "reply('x')",
        input(&[]),
        &mut roadie_scripts::NullHost,
        &limits,
    )
    .unwrap_err();
    assert_eq!(err, ScriptError::Busy { running: 0 });
    assert_healthy();
}
