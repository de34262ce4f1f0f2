//! Concurrent writers on one data directory: threads with separate stores, threads
//! sharing one store, and separate processes. No update may be lost.

use std::sync::Arc;
use std::thread;

use roadie_keystore::SecretStore;

use crate::common::{CHILD_ENV, CHILD_OK, assert_child_ok, get_str, open_file, secret, vault_json};

fn value_for(writer: usize, i: usize) -> String {
    format!("value-{writer}-{i}-{}", "x".repeat(i % 7))
}

fn check_all(store: &dyn SecretStore, writers: usize, per_writer: usize) {
    for w in 0..writers {
        for i in 0..per_writer {
            let key = format!("writer{w}.key{i}");
            assert_eq!(
                get_str(store, &key).as_deref(),
                Some(value_for(w, i).as_str()),
                "{key} lost"
            );
        }
    }
}

/// Each thread opens its own store (as separate processes would) and writes 25 keys.
fn separate_stores(passphrase: Option<&'static str>, writers: usize, per_writer: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let path = path.clone();
            thread::spawn(move || {
                let store = open_file(&path, passphrase).store;
                for i in 0..per_writer {
                    store
                        .set(&format!("writer{w}.key{i}"), &secret(&value_for(w, i)))
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("writer thread panicked");
    }
    let store = open_file(&path, passphrase).store;
    check_all(store.as_ref(), writers, per_writer);
    assert_eq!(vault_json(&path)["format"], "roadie-vault");
}

#[test]
fn threads_with_separate_stores_lose_no_updates_key_file() {
    separate_stores(None, 8, 25);
}

#[test]
fn threads_with_separate_stores_lose_no_updates_passphrase() {
    separate_stores(Some("concurrent-pw"), 4, 10);
}

#[test]
fn threads_sharing_one_store_lose_no_updates() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn SecretStore> = open_file(dir.path(), None).store;
    let handles: Vec<_> = (0..4)
        .map(|w| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                for i in 0..15 {
                    let key = format!("writer{w}.key{i}");
                    store.set(&key, &secret(&value_for(w, i))).unwrap();
                    // Interleave reads and deletes of a scratch key.
                    store.set(&format!("scratch.{w}"), &secret("tmp")).unwrap();
                    assert!(store.delete(&format!("scratch.{w}")).unwrap());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("writer thread panicked");
    }
    check_all(store.as_ref(), 4, 15);
    for w in 0..4 {
        assert_eq!(get_str(store.as_ref(), &format!("scratch.{w}")), None);
    }
}

const PROCESSES: usize = 4;
const PER_PROCESS: usize = 20;

/// Parent: starts 4 copies of this test binary that each write 20 keys into one data
/// directory at the same time. Child (`ROADIE_KEYSTORE_TEST_CHILD=writer:<n>:<dir>`):
/// does the writing.
#[test]
fn separate_processes_lose_no_updates() {
    if let Ok(role) = std::env::var(CHILD_ENV) {
        let mut parts = role.splitn(3, ':');
        assert_eq!(parts.next(), Some("writer"), "unexpected role {role}");
        let w: usize = parts.next().unwrap().parse().unwrap();
        let dir = std::path::PathBuf::from(parts.next().unwrap());
        let store = open_file(&dir, None).store;
        for i in 0..PER_PROCESS {
            store
                .set(&format!("writer{w}.key{i}"), &secret(&value_for(w, i)))
                .unwrap();
        }
        println!("{CHILD_OK}");
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCESSES)
        .map(|w| {
            std::process::Command::new(&exe)
                .args([
                    "concurrency::separate_processes_lose_no_updates",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, format!("writer:{w}:{}", dir.path().display()))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (w, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
        assert_child_ok(&output, &format!("writer process {w}"));
    }
    let store = open_file(dir.path(), None).store;
    check_all(store.as_ref(), PROCESSES, PER_PROCESS);
}
