//! Helpers: a standard input, runs with a recording host, timing, and the check that
//! the sandbox still works after a hostile run.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use roadie_scripts::{
    Limits, RecordingHost, ScriptError, ScriptInput, ScriptOutput, ScriptUser, live_engines, run,
};

/// Timing-sensitive tests take this lock so that two CPU-bound scripts do not share
/// the (two) cores and blur what each one measures.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub fn input(args: &[&str]) -> ScriptInput {
    ScriptInput {
        script_name: "test".to_owned(),
        user: ScriptUser {
            id: "1001".to_owned(),
            login: "alice".to_owned(),
            name: "Alice".to_owned(),
            platform: "twitch".to_owned(),
            roles: vec!["subscriber".to_owned(), "vip".to_owned()],
        },
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        vars: serde_json::Map::new(),
    }
}

pub fn run_with(
    source: &str,
    host: &mut RecordingHost,
    limits: &Limits,
) -> Result<ScriptOutput, ScriptError> {
    run(source, input(&[]), host, limits)
}

pub fn run_default(source: &str) -> Result<ScriptOutput, ScriptError> {
    run_with(source, &mut RecordingHost::new("alice"), &Limits::default())
}

/// Runs a script that must fail; returns the error and the wall time of the run.
/// Also checks that the engine thread itself ended soon after, not only that the
/// caller got its answer (the caller stops waiting at a hard deadline).
pub fn run_hostile(source: &str, limits: &Limits) -> (ScriptError, Duration) {
    let before = live_engines();
    let started = Instant::now();
    let result = run_with(source, &mut RecordingHost::new("alice"), limits);
    let elapsed = started.elapsed();
    wait_for_engines(before, Duration::from_secs(10), source);
    match result {
        Ok(output) => panic!("hostile script {source:?} finished: {output:?}"),
        Err(error) => (error, elapsed),
    }
}

/// Waits until no more engines are alive than `before`.
pub fn wait_for_engines(before: usize, patience: Duration, what: &str) {
    let waited = Instant::now();
    while live_engines() > before {
        assert!(
            waited.elapsed() < patience,
            "the engine running {what:?} did not end within {patience:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Asserts that a hostile run stopped within twice the time limit.
pub fn assert_within_twice(source: &str, elapsed: Duration, limits: &Limits) {
    assert!(
        elapsed < limits.time * 2,
        "{source:?} took {elapsed:?}, more than twice the {:?} limit",
        limits.time
    );
}

/// A normal script still runs, with its full output, after whatever ran before it.
pub fn assert_healthy() {
    let out = run_default("let n = 0; for (let i = 0; i < 1000; i++) n += i; reply(`ok ${n}`)")
        .expect("a normal script runs after a hostile one");
    assert_eq!(out.replies, ["ok 499500"]);
}
