//! The host API as a script uses it: replies, user and args, variables that persist
//! across runs, points, random, OBS and TTS through the host, console, errors.

use roadie_scripts::{
    HostCall, Limits, NullHost, ObsCall, RecordingHost, ScriptError, Visibility, run,
};
use serde_json::json;

use crate::common::{input, run_default, run_with};

#[test]
fn reply_sees_user_and_args() {
    let source = r#"
        reply(`hi ${user.name} (${user.login}, ${user.platform}, #${user.id})`);
        reply("args:", args.length, args.join("|"));
        reply(user.roles.includes("vip") ? "vip" : "no vip");
    "#;
    let out = run(
        source,
        input(&["one", "two words"]),
        &mut NullHost,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        out.replies,
        [
            "hi Alice (alice, twitch, #1001)",
            "args: 2 one|two words",
            "vip"
        ]
    );
    assert!(out.logs.is_empty());
}

#[test]
fn user_and_args_are_frozen() {
    // Strict mode: writing to a frozen object throws instead of being ignored.
    let err = run_default("user.login = 'mallory'").unwrap_err();
    assert!(
        matches!(&err, ScriptError::Exception { message, line: Some(1) } if message.starts_with("TypeError")),
        "{err:?}"
    );
    let err = run_default("args.push('x')").unwrap_err();
    assert!(matches!(err, ScriptError::Exception { .. }), "{err:?}");
    let err = run_default("user.roles.push('broadcaster')").unwrap_err();
    assert!(matches!(err, ScriptError::Exception { .. }), "{err:?}");
}

#[test]
fn vars_persist_when_the_output_is_fed_back() {
    let source = r#"
        const n = (vars.get("count") ?? 0) + 1;
        vars.set("count", n);
        const seen = vars.get("seen") ?? [];
        seen.push(user.login);
        vars.set("seen", seen);
        reply(`run ${n}`);
    "#;
    let mut first = input(&[]);
    first
        .vars
        .insert("untouched".to_owned(), json!({"keep": true}));
    let out1 = run(source, first.clone(), &mut NullHost, &Limits::default()).unwrap();
    assert_eq!(out1.replies, ["run 1"]);
    assert_eq!(out1.vars["count"], json!(1));

    let mut second = first;
    second.vars = out1.vars;
    let out2 = run(source, second, &mut NullHost, &Limits::default()).unwrap();
    assert_eq!(out2.replies, ["run 2"]);
    assert_eq!(out2.vars["count"], json!(2));
    assert_eq!(out2.vars["seen"], json!(["alice", "alice"]));
    assert_eq!(out2.vars["untouched"], json!({"keep": true}));
}

#[test]
fn vars_get_returns_a_copy_and_set_undefined_forgets() {
    let mut start = input(&[]);
    start.vars.insert("list".to_owned(), json!([1, 2]));
    start.vars.insert("gone".to_owned(), json!("x"));
    let source = r#"
        vars.get("list").push(3);              // a copy: not stored
        vars.set("gone", undefined);
        reply(JSON.stringify(vars.get("list")), typeof vars.get("gone"), typeof vars.get("never"));
    "#;
    let out = run(source, start, &mut NullHost, &Limits::default()).unwrap();
    assert_eq!(out.replies, ["[1,2] undefined undefined"]);
    assert_eq!(out.vars.get("list"), Some(&json!([1, 2])));
    assert!(!out.vars.contains_key("gone"));
}

#[test]
fn vars_accept_only_json_within_the_size_limit() {
    let err = run_default("vars.set('f', () => 1)").unwrap_err();
    assert!(
        matches!(&err, ScriptError::Exception { message, .. } if message.contains("must be JSON")),
        "{err:?}"
    );
    let err = run_default("const o = {}; o.self = o; vars.set('o', o)").unwrap_err();
    assert!(matches!(err, ScriptError::Exception { .. }), "{err:?}");

    let limits = Limits {
        vars_bytes: 100,
        ..Limits::default()
    };
    let source = r#"
        vars.set("small", "x".repeat(50));
        try { vars.set("big", "x".repeat(60)); } catch (e) { reply(e.name); }
        vars.set("small", "x".repeat(80));   // replacing counts the new size only
    "#;
    let out = run_with(source, &mut RecordingHost::new("alice"), &limits).unwrap();
    assert_eq!(out.replies, ["RangeError"]);
    assert_eq!(out.vars.len(), 1);
    assert_eq!(out.vars["small"], json!("x".repeat(80)));
}

#[test]
fn points_go_through_the_host() {
    let mut host = RecordingHost::new("alice");
    host.balances.insert("alice".to_owned(), 10);
    host.balances.insert("bob".to_owned(), 2);
    let source = r#"
        reply(points.get(), points.get("bob"));
        reply(points.add(5), points.add("@Bob", 3));
        try { points.add("bob", -100); } catch (e) { reply("refused: " + e.message); }
        try { points.add(1.5); } catch (e) { reply(e.name); }
    "#;
    let out = run_with(source, &mut host, &Limits::default()).unwrap();
    assert_eq!(
        out.replies,
        [
            "10 2",
            "15 5",
            "refused: not enough points (balance 5)",
            "TypeError"
        ]
    );
    assert_eq!(host.balances["alice"], 15);
    assert_eq!(host.balances["bob"], 5);
    assert_eq!(
        host.calls,
        [
            HostCall::PointsGet { login: None },
            HostCall::PointsGet {
                login: Some("bob".to_owned())
            },
            HostCall::PointsAdd {
                login: None,
                delta: 5
            },
            HostCall::PointsAdd {
                login: Some("Bob".to_owned()),
                delta: 3
            },
            HostCall::PointsAdd {
                login: Some("bob".to_owned()),
                delta: -100
            },
        ]
    );
}

#[test]
fn a_host_refusal_is_an_error_the_script_may_leave_uncaught() {
    let mut host = RecordingHost::new("alice");
    host.fail_points = Some("the points ledger is busy".to_owned());
    let err = run_with("\npoints.add(1)", &mut host, &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        ScriptError::Exception {
            message: "Error: the points ledger is busy".to_owned(),
            line: Some(2)
        }
    );
}

#[test]
fn obs_and_tts_calls_are_recorded_in_order() {
    let mut host = RecordingHost::new("alice");
    let source = r#"
        obs.scene("BRB");
        obs.source("Main", "Cam", "off");
        obs.source("Main", "Cam", true);
        obs.source("Main", "Alert", "toggle");
        obs.text("Goal", `${user.name} did it`);
        tts.say("hello chat");
        try { obs.source("Main", "Cam", "sideways"); } catch (e) { reply(e.name); }
    "#;
    let out = run_with(source, &mut host, &Limits::default()).unwrap();
    assert_eq!(out.replies, ["TypeError"]);
    let source_call = |source: &str, visibility| {
        HostCall::Obs(ObsCall::Source {
            scene: "Main".to_owned(),
            source: source.to_owned(),
            visibility,
        })
    };
    assert_eq!(
        host.calls,
        [
            HostCall::Obs(ObsCall::Scene {
                scene: "BRB".to_owned()
            }),
            source_call("Cam", Visibility::Off),
            source_call("Cam", Visibility::On),
            source_call("Alert", Visibility::Toggle),
            HostCall::Obs(ObsCall::Text {
                source: "Goal".to_owned(),
                text: "Alice did it".to_owned()
            }),
            HostCall::TtsSay {
                text: "hello chat".to_owned()
            },
        ]
    );
}

#[test]
fn random_comes_from_the_host_and_is_repeatable() {
    let source =
        "const r = []; for (let i = 0; i < 20; i++) r.push(random(1, 6)); reply(r.join(','))";
    let roll = |seed| {
        let mut host = RecordingHost::with_seed("alice", seed);
        let out = run_with(source, &mut host, &Limits::default()).unwrap();
        assert_eq!(host.calls.len(), 20);
        out.replies[0].clone()
    };
    let a = roll(7);
    assert_eq!(a, roll(7), "same seed, same rolls");
    assert_ne!(a, roll(8), "another seed, other rolls");
    let values: Vec<i64> = a.split(',').map(|v| v.parse().unwrap()).collect();
    assert!(values.iter().all(|v| (1..=6).contains(v)), "{values:?}");

    // Reversed bounds are put in order; the host is asked for low <= high.
    let mut host = RecordingHost::new("alice");
    let out = run_with(
        "reply(random(10, 10), random(3, 1) <= 3)",
        &mut host,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(out.replies, ["10 true"]);
    assert_eq!(host.calls[1], HostCall::Random { low: 1, high: 3 });
}

#[test]
fn console_log_goes_to_the_logs() {
    let out =
        run_default("console.log('n =', 3, {a: [1]}, null); console.error('bad'); reply('done')")
            .unwrap();
    assert_eq!(out.logs, ["n = 3 {\"a\":[1]} null", "bad"]);
    assert_eq!(out.replies, ["done"]);
}

#[test]
fn standard_javascript_works() {
    let source = r#"
        const m = new Map([["a", 1]]);
        const s = new Set([1, 1, 2]);
        const when = Date.now();
        const parsed = JSON.parse('{"x": [1, 2]}');
        const re = /(\d+)-(\d+)/.exec("10-20");
        class Dice { constructor(n) { this.n = n } roll() { return this.n } }
        async function later() { await null; return "async"; }
        later().then(v => reply(v));
        reply(m.get("a"), s.size, typeof when, when > 1.6e12, parsed.x.length, re[2],
              new Dice(4).roll(), [3, 1, 2].toSorted().join(""), 2n ** 64n);
    "#;
    let out = run_default(source).unwrap();
    assert_eq!(
        out.replies,
        ["1 2 number true 2 20 4 123 18446744073709551616", "async"]
    );
}

#[test]
fn an_uncaught_error_reports_its_message_and_line() {
    let err = run_default("const a = 1;\n\nfunction f() {\n  return a.b.c;\n}\nf();").unwrap_err();
    assert_eq!(
        err,
        ScriptError::Exception {
            message: "TypeError: cannot read property 'c' of undefined".to_owned(),
            line: Some(4)
        }
    );
    assert_eq!(
        err.to_string(),
        "the script failed at line 4: TypeError: cannot read property 'c' of undefined"
    );

    let err = run_default("\n\nthrow new Error('no luck')").unwrap_err();
    assert_eq!(
        err,
        ScriptError::Exception {
            message: "Error: no luck".to_owned(),
            line: Some(3)
        }
    );

    // Values that are not errors have no line.
    let err = run_default("throw 'plain text'").unwrap_err();
    assert_eq!(
        err,
        ScriptError::Exception {
            message: "plain text".to_owned(),
            line: None
        }
    );

    // A rejected promise nobody handles fails the run like a throw.
    let err =
        run_default("async function f() {\n throw new RangeError('later') }\nf()").unwrap_err();
    assert_eq!(
        err,
        ScriptError::Exception {
            message: "RangeError: later".to_owned(),
            line: Some(2)
        }
    );
    // A handled one does not.
    let out =
        run_default("Promise.reject(new Error('x')).catch(e => reply('caught ' + e.message))")
            .unwrap();
    assert_eq!(out.replies, ["caught x"]);
}

#[test]
fn a_syntax_error_reports_its_line() {
    let err = run_default("reply('fine');\nlet x = ;\n").unwrap_err();
    assert!(
        matches!(&err, ScriptError::Syntax { line: Some(2), .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("the script has a syntax error at line 2"),
        "{err}"
    );

    // A SyntaxError thrown while running (JSON.parse, eval) is the script's error.
    let err = run_default("\nJSON.parse('{')").unwrap_err();
    assert!(
        matches!(&err, ScriptError::Exception { message, line: Some(2) } if message.starts_with("SyntaxError")),
        "{err:?}"
    );
}

#[test]
fn oversized_and_nul_sources_are_refused() {
    let limits = Limits {
        max_source_bytes: 1000,
        ..Limits::default()
    };
    let big = format!("// {}\nreply('x')", "a".repeat(1000));
    let err = run(&big, input(&[]), &mut NullHost, &limits).unwrap_err();
    assert!(
        matches!(err, ScriptError::TooLarge { limit: 1000, .. }),
        "{err:?}"
    );

    let err = run_default("reply('a')\0").unwrap_err();
    assert!(matches!(err, ScriptError::Syntax { .. }), "{err:?}");
}

#[test]
fn the_output_reports_elapsed_time() {
    let out = run_default("reply('x')").unwrap();
    assert!(out.elapsed > std::time::Duration::ZERO);
    assert!(out.elapsed < std::time::Duration::from_secs(5));
}

#[test]
fn odd_values_and_odd_errors_are_shown_without_failing() {
    let source = r#"
        const cyclic = {}; cyclic.self = cyclic;
        const sneaky = { toJSON() { throw new Error("no") }, toString() { throw new Error("no") } };
        console.log(cyclic, sneaky, 10n, [undefined], () => 1);
        reply("still here");
    "#;
    let out = run_default(source).unwrap();
    assert_eq!(out.replies, ["still here"]);
    assert_eq!(out.logs, ["[object Object] [value] 10 [null] () => 1"]);

    // An error whose own getters throw still gives a report.
    let source = "class E extends Error { get name() { throw 1 } }\nthrow new E('odd')";
    let err = run_default(source).unwrap_err();
    assert!(
        matches!(&err, ScriptError::Exception { message, line: Some(_) } if message == "odd"),
        "{err:?}"
    );
}
