//! A broken configuration stops the start with exit code 2, naming key and line.

use crate::support;

#[test]
fn bad_config_exits_2_naming_the_key_and_line() {
    let cases = [
        ("[server]\nlisen = \"127.0.0.1:7717\"\n", "lisen", "line 2"),
        (
            "[events]\nretention_days = 7\nmax_events = \"lots\"\n",
            "events.max_events",
            "line 3",
        ),
        ("[server]\nlisten = 7717\n", "server.listen", "line 2"),
        ("[twich]\nclient_id = \"x\"\n", "twich", "line 1"),
    ];
    for (text, key, line) in cases {
        let env = support::env();
        let path = env.write_config(text);
        let output = env.run(&["daemon"], None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{text:?}: {stderr}");
        assert!(
            stderr.contains(key),
            "{text:?}: key {key} not named in {stderr}"
        );
        assert!(
            stderr.contains(line),
            "{text:?}: {line} not named in {stderr}"
        );
        assert!(
            stderr.contains(&path.display().to_string()),
            "{text:?}: file not named in {stderr}"
        );
        assert!(
            !env.data_dir().join("daemon.json").exists(),
            "the daemon started anyway"
        );
    }
}

#[test]
fn bad_environment_override_exits_2_naming_the_variable() {
    let mut env = support::env();
    env.set_env("ROADIE_SERVER__LISEN", "127.0.0.1:0");
    let output = env.run(&["daemon"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("ROADIE_SERVER__LISEN"));
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let env = support::env();
    let output = env.run(&["frobnicate"], None);
    assert_eq!(output.status.code(), Some(2));
}
