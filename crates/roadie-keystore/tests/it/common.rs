//! Shared helpers: store constructors with a cheap Argon2 cost, vault inspection, and
//! re-running this test binary as a child process.

use std::path::Path;
use std::process::{Command, Output};

use roadie_keystore::{
    BackendChoice, KeystoreOptions, OpenedKeystore, Secret, SecretStore, VAULT_FILE, testing,
};

/// Env var telling a re-executed test binary which child role to play.
pub const CHILD_ENV: &str = "ROADIE_KEYSTORE_TEST_CHILD";
/// Printed by a child when its role finished without panicking.
pub const CHILD_OK: &str = "ROADIE-KEYSTORE-CHILD-OK";

/// Argon2id cost used by tests (256 KiB, 1 pass, 1 lane) so derivations take milliseconds.
pub const TEST_M_COST: u32 = 256;

pub fn secret(text: &str) -> Secret {
    Secret::new(text)
}

pub fn file_options(dir: &Path, passphrase: Option<&str>) -> KeystoreOptions {
    KeystoreOptions {
        choice: BackendChoice::File,
        data_dir: dir.to_path_buf(),
        passphrase: passphrase.map(Secret::new),
        namespace: "roadie-test-unused".to_owned(),
    }
}

/// Opens the file backend; new passphrase vaults get the cheap test cost.
pub fn try_open_file(
    dir: &Path,
    passphrase: Option<&str>,
) -> Result<OpenedKeystore, roadie_keystore::KeystoreError> {
    testing::open_with_argon2_cost(file_options(dir, passphrase), TEST_M_COST, 1, 1)
}

pub fn open_file(dir: &Path, passphrase: Option<&str>) -> OpenedKeystore {
    try_open_file(dir, passphrase).expect("open file keystore")
}

pub fn get_str(store: &dyn SecretStore, key: &str) -> Option<String> {
    store
        .get(key)
        .expect("get")
        .map(|s| s.expose_secret().to_owned())
}

pub fn vault_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join(VAULT_FILE)).expect("read vault")
}

pub fn vault_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&vault_bytes(dir)).expect("vault is JSON")
}

/// Unique OS keychain namespace for one test.
pub fn unique_namespace(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("roadie-test-{tag}-{}-{nanos}", std::process::id())
}

/// Runs exactly `test` (full path, e.g. `concurrency::multi_process_writers`) in a
/// fresh process of this test binary with `envs` added.
pub fn run_self(test: &str, envs: &[(&str, &str)]) -> Output {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("spawn child test process")
}

/// Panics with the child's output unless it exited 0 and printed [`CHILD_OK`].
pub fn assert_child_ok(output: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(CHILD_OK),
        "{what} failed: status {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    stdout
}
