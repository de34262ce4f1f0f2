//! Random input never makes the sandbox panic or fail internally: whatever the
//! source, the run ends with output or with an error that blames the script.

use std::time::Duration;

use proptest::prelude::*;
use roadie_scripts::{Limits, NullHost, ScriptError, run};

use crate::common::{assert_healthy, input, serial};

fn limits() -> Limits {
    // Short, so that random endless loops cost little.
    Limits {
        time: Duration::from_millis(20),
        ..Limits::default()
    }
}

fn check(source: &str) -> Result<(), TestCaseError> {
    // Random endless loops burn CPU: keep them from blurring the timing tests.
    let _serial = serial();
    match run(source, input(&["a"]), &mut NullHost, &limits()) {
        Err(ScriptError::Engine(reason)) => Err(TestCaseError::fail(format!(
            "engine failure on {source:?}: {reason}"
        ))),
        _ => Ok(()),
    }
}

/// Pieces of JavaScript, so that random sources parse often enough to run.
const FRAGMENTS: &[&str] = &[
    "reply(",
    ")",
    "(",
    "{",
    "}",
    "[",
    "]",
    ";",
    ",",
    "'x'",
    "\"y\"",
    "`t${",
    "1",
    "1e9",
    "-0",
    "null",
    "undefined",
    "user",
    "args",
    "vars.get(",
    "vars.set(",
    "points.add(",
    "points.get(",
    "random(",
    "obs.scene(",
    "obs.source(",
    "obs.text(",
    "tts.say(",
    "console.log(",
    "function f(",
    "=>",
    "f()",
    "new ",
    "Array(",
    "Map",
    "Promise.resolve().then(",
    "async ",
    "await ",
    "yield ",
    "for(;;)",
    "while(",
    "if(",
    "else ",
    "try{",
    "}catch(e){",
    "throw ",
    "return ",
    "let a=",
    "a",
    ".repeat(",
    ".fill(",
    "+",
    "*",
    "=",
    "?.",
    "??",
    "\n",
    " ",
    "eval(",
    "JSON.parse(",
    "JSON.stringify(",
    "Symbol()",
    "this",
    "globalThis",
    "import(",
    "class C{",
    "#p",
    "/re/g",
    "0n",
    "...",
    "delete ",
    "typeof ",
    "Object.freeze(",
    "Reflect.ownKeys(",
    "\u{1F600}",
    "\\u0000",
];

fn fragments() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(source in any::<String>()) {
        check(&source)?;
    }

    #[test]
    fn random_javascript_never_panics(source in fragments()) {
        check(&source)?;
    }

    #[test]
    fn random_inputs_never_panic(
        login in any::<String>(),
        args in proptest::collection::vec(any::<String>(), 0..4),
        key in any::<String>(),
    ) {
        let mut script_input = input(&[]);
        script_input.user.login = login;
        script_input.args = args;
        script_input.vars.insert(key, serde_json::json!({"n": 1}));
        let source = "reply(user.login, args.join(' ')); for (const k of ['a']) vars.set(k, vars.get(k))";
        let result = run(source, script_input, &mut NullHost, &limits());
        prop_assert!(result.is_ok(), "{result:?}");
    }
}

#[test]
fn healthy_after_random_input() {
    assert_healthy();
}
