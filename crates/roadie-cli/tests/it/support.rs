//! Helpers shared by the end-to-end tests.

use roadie_client::Client;
use roadie_test_support::{RunningDaemon, TestEnv};

pub fn env() -> TestEnv {
    TestEnv::new(env!("CARGO_BIN_EXE_roadie"))
}

pub fn client(daemon: &RunningDaemon) -> Client {
    Client::new(daemon.address().to_owned(), Some(daemon.token().to_owned()))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub fn custom_events(count: usize, offset: usize) -> Vec<roadie_protocol::CustomEvent> {
    (offset..offset + count)
        .map(|n| roadie_protocol::CustomEvent {
            name: "test".into(),
            data: serde_json::json!({"n": n}),
        })
        .collect()
}

/// `n` from a custom event envelope produced by [`custom_events`].
pub fn sequence_number(envelope: &roadie_protocol::EventEnvelope) -> u64 {
    envelope.data["data"]["n"].as_u64().unwrap()
}

/// A platform's `(state, detail)` as `roadie auth status --json` reports it.
pub fn platform_state(env: &TestEnv, platform: &str) -> (String, String) {
    let output = env.run(&["auth", "status", "--json"], None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let entry = status["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["platform"] == platform)
        .unwrap()
        .clone();
    (
        entry["state"].as_str().unwrap().to_owned(),
        entry["detail"].as_str().unwrap().to_owned(),
    )
}

/// Waits up to 15 s for `platform` to reach `wanted`; returns the detail.
pub fn wait_for_platform_state(env: &TestEnv, platform: &str, wanted: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let (state, detail) = platform_state(env, platform);
        if state == wanted {
            return detail;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{platform} stayed {state} ({detail}), wanted {wanted}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Runs a CLI command that must succeed; its stdout.
pub fn run_ok(env: &TestEnv, args: &[&str]) -> String {
    let output = env.run(args, None);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
