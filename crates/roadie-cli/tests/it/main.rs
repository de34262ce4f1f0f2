//! End-to-end tests of the `roadie` binary: each starts real daemons in a hermetic
//! environment and talks to them over the API and the CLI, as a user would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_security;
mod automation;
mod config_errors;
mod crash_safety;
mod event_stream;
mod kick;
mod obs;
mod peers_secret_service;
mod secrets;
mod shutdown;
mod support;
mod tts;
mod twitch;
mod youtube;

/// Every module in this directory must be listed above, or its tests never run.
#[test]
fn no_forgotten_test_files() {
    let listed = include_str!("main.rs");
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name.strip_suffix(".rs")
            && module != "main"
        {
            assert!(
                listed.contains(&format!("mod {module};")),
                "tests/it/{name} is not listed in main.rs"
            );
        }
    }
}
