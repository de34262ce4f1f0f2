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
