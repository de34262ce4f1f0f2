//! Integration tests for roadie-obs against the fake obs-websocket server of
//! roadie-test-support: handshakes with and without authentication, a refused password
//! without a reconnect storm, every typed request and its effect in the fake, events,
//! reconnection after the fake dies and comes back, and the documented test vectors.

// Test code: helpers outside #[test] fns panic on failure on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod documented;
mod events;
mod handshake;
mod real_obs;
mod reconnect;
mod requests;
mod support;

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
