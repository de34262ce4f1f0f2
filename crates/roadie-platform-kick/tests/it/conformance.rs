//! The shared platform conformance suite, against the fake Kick.

use std::sync::Arc;
use std::time::Duration;

use roadie_platform::BoxFuture;
use roadie_platform::conformance::{FakeDriver, run_suite};
use roadie_test_support::fake_kick::FakeKick;

use crate::{MemoryStore, adapter_with, as_platform, settings};

struct Driver {
    fake: FakeKick,
}

impl FakeDriver for Driver {
    fn inject_chat(&self, message_id: &str, text: &str) -> BoxFuture<'_, ()> {
        self.fake.inject_chat(message_id, text);
        Box::pin(async {})
    }

    fn received_chats(&self) -> Vec<String> {
        self.fake.received_chats()
    }

    fn drop_connection(&self) -> BoxFuture<'_, ()> {
        self.fake.drop_connection();
        Box::pin(async {})
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        tokio::spawn(future);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kick_passes_the_platform_conformance_suite() {
    let fake = FakeKick::start().await;
    let (adapter, _, _) = adapter_with(&fake, settings(&fake), Arc::new(MemoryStore::default()));
    let driver = Driver { fake };
    run_suite(as_platform(&adapter), &driver).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_also_passes_when_bot_chat_fails() {
    let fake = FakeKick::start().await;
    fake.set_bot_chat_fails(true);
    let (adapter, _, _) = adapter_with(&fake, settings(&fake), Arc::new(MemoryStore::default()));
    let driver = Driver { fake };
    run_suite(as_platform(&adapter), &driver).await.unwrap();
    assert!(adapter.chats_as_user());
}
