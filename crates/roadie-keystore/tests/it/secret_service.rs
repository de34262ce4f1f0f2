//! The real OS secret store, behind explicit switches (it is a FAILURE, not a skip, if
//! the switch is on and the store is missing):
//!
//! * `ROADIE_TEST_SECRET_SERVICE=1`: round trip through the OS store, `Auto` picks it,
//!   and (Linux) `Auto` falls back to the file when the session bus is unreachable.
//! * `ROADIE_TEST_SECRET_SERVICE_LOCKED=1`: the Secret Service is running but locked
//!   (`SECRET_SERVICE_LOCKED=1 scripts/with-secret-service.sh ...`); `Auto` must pick the
//!   file and `Os` must fail.

use std::time::{Duration, Instant};

use roadie_keystore::{
    BackendChoice, BackendKind, KeystoreError, KeystoreOptions, OpenedKeystore, SecretStore,
    VAULT_FILE,
};

use crate::common::{
    CHILD_ENV, CHILD_OK, assert_child_ok, get_str, run_self, secret, unique_namespace,
};

const SWITCH: &str = "ROADIE_TEST_SECRET_SERVICE";
const LOCKED_SWITCH: &str = "ROADIE_TEST_SECRET_SERVICE_LOCKED";

/// True if `name=1`; otherwise prints why the test is not run.
fn switched_on(name: &str, test: &str) -> bool {
    if std::env::var(name).as_deref() == Ok("1") {
        true
    } else {
        println!("{test}: not run because {name} is not 1 (switch off)");
        false
    }
}

fn options(choice: BackendChoice, dir: &std::path::Path, namespace: &str) -> KeystoreOptions {
    KeystoreOptions {
        choice,
        data_dir: dir.to_path_buf(),
        passphrase: None,
        namespace: namespace.to_owned(),
    }
}

fn open_os(dir: &std::path::Path, namespace: &str) -> OpenedKeystore {
    roadie_keystore::open(options(BackendChoice::Os, dir, namespace)).unwrap_or_else(|e| {
        panic!("{SWITCH}=1 but the OS secret store is not usable (this is a failure): {e}")
    })
}

/// Deletes the test's entries even if an assertion fails halfway.
struct Cleanup<'a>(&'a dyn SecretStore, &'a [&'a str]);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for key in self.1 {
            let _ = self.0.delete(key);
        }
    }
}

#[test]
fn os_backend_round_trip() {
    if !switched_on(SWITCH, "os_backend_round_trip") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let namespace = unique_namespace("rt");
    let started = Instant::now();
    let opened = open_os(dir.path(), &namespace);
    let open_time = started.elapsed();
    assert_eq!(opened.kind, BackendKind::Os);
    assert_eq!(opened.store.kind(), BackendKind::Os);
    assert!(opened.reason.contains("answered"), "{}", opened.reason);
    let store = opened.store.as_ref();
    let keys = ["obs.password", "oauth.twitch.12345"];
    let _cleanup = Cleanup(store, &keys);

    let started = Instant::now();
    assert_eq!(get_str(store, "obs.password"), None);
    store.set("obs.password", &secret("os-first")).unwrap();
    assert_eq!(get_str(store, "obs.password").as_deref(), Some("os-first"));
    store.set("obs.password", &secret("os-second ✓")).unwrap();
    assert_eq!(
        get_str(store, "obs.password").as_deref(),
        Some("os-second ✓")
    );
    // A second store in the same namespace sees it; another namespace does not.
    let again = open_os(dir.path(), &namespace);
    assert_eq!(
        get_str(again.store.as_ref(), "obs.password").as_deref(),
        Some("os-second ✓")
    );
    let other = open_os(dir.path(), &unique_namespace("other"));
    assert_eq!(get_str(other.store.as_ref(), "obs.password"), None);
    assert!(store.delete("obs.password").unwrap());
    assert_eq!(get_str(store, "obs.password"), None);
    assert!(!store.delete("obs.password").unwrap());
    let round_trip = started.elapsed();

    // Invalid keys are rejected before reaching the store.
    assert!(matches!(
        store.get("Bad Key"),
        Err(KeystoreError::InvalidKey { .. })
    ));
    assert!(
        !dir.path().join(VAULT_FILE).exists(),
        "the OS backend must not write a vault"
    );
    println!(
        "Secret Service: open (probe) {open_time:?}; round trip (get, set, get, set, get, 2 opens + gets, delete, get, delete) {round_trip:?}"
    );
}

#[test]
fn auto_picks_os_when_it_answers() {
    if !switched_on(SWITCH, "auto_picks_os_when_it_answers") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let namespace = unique_namespace("auto");
    let opened =
        roadie_keystore::open(options(BackendChoice::Auto, dir.path(), &namespace)).unwrap();
    assert_eq!(
        opened.kind,
        BackendKind::Os,
        "{SWITCH}=1 but Auto chose {}: {}",
        opened.kind,
        opened.reason
    );
    let store = opened.store.as_ref();
    let _cleanup = Cleanup(store, &["kick.client_secret"]);
    store.set("kick.client_secret", &secret("auto-os")).unwrap();
    assert_eq!(
        get_str(store, "kick.client_secret").as_deref(),
        Some("auto-os")
    );
    assert!(store.delete("kick.client_secret").unwrap());
    assert!(!dir.path().join(VAULT_FILE).exists());
}

/// Shared by the no-bus child and the locked-keyring test: `Auto` must pick the file
/// (and say why), `Os` must fail quickly, and the file store must work.
fn assert_fallback(expect_in_reason: &str) {
    let dir = tempfile::tempdir().unwrap();
    let namespace = unique_namespace("fallback");

    let started = Instant::now();
    let err = roadie_keystore::open(options(BackendChoice::Os, dir.path(), &namespace))
        .expect_err("Os must fail when the OS store does not answer");
    let os_time = started.elapsed();
    assert!(
        matches!(err, KeystoreError::OsUnavailable { .. }),
        "{err:?}"
    );
    assert!(os_time < Duration::from_secs(5), "Os took {os_time:?}");

    let started = Instant::now();
    let opened =
        roadie_keystore::open(options(BackendChoice::Auto, dir.path(), &namespace)).unwrap();
    let auto_time = started.elapsed();
    assert_eq!(opened.kind, BackendKind::File, "{}", opened.reason);
    assert!(
        opened.reason.starts_with("no OS secret store: "),
        "{}",
        opened.reason
    );
    assert!(
        opened.reason.contains(expect_in_reason),
        "{}",
        opened.reason
    );
    assert!(
        opened
            .reason
            .contains(&dir.path().join(VAULT_FILE).display().to_string()),
        "{}",
        opened.reason
    );
    opened
        .store
        .set("obs.password", &secret("fallback"))
        .unwrap();
    assert_eq!(
        get_str(opened.store.as_ref(), "obs.password").as_deref(),
        Some("fallback")
    );
    assert!(dir.path().join(VAULT_FILE).exists());
    println!(
        "fallback: Os error after {os_time:?} ({err}); Auto chose file after {auto_time:?}: {}",
        opened.reason
    );
}

/// Parent (switch on, Linux): re-runs itself with `DBUS_SESSION_BUS_ADDRESS` pointing at
/// a socket that does not exist, because env changes are process-global.
#[test]
fn auto_falls_back_to_file_without_session_bus() {
    const TEST: &str = "secret_service::auto_falls_back_to_file_without_session_bus";
    if std::env::var(CHILD_ENV).as_deref() == Ok("no-bus") {
        assert_fallback("DBus");
        println!("{CHILD_OK}");
        return;
    }
    if !switched_on(SWITCH, "auto_falls_back_to_file_without_session_bus") {
        return;
    }
    if !cfg!(target_os = "linux") {
        println!("auto_falls_back_to_file_without_session_bus: Linux only (D-Bus)");
        return;
    }
    let started = Instant::now();
    let output = run_self(
        TEST,
        &[
            (CHILD_ENV, "no-bus"),
            (
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/roadie-keystore-test/bus",
            ),
        ],
    );
    let elapsed = started.elapsed();
    let stdout = assert_child_ok(&output, "no-bus child");
    if let Some(at) = stdout.find("fallback:") {
        let line = stdout[at..].lines().next().unwrap_or_default();
        println!("{line} (child process total {elapsed:?})");
    }
    assert!(elapsed < Duration::from_secs(30), "child took {elapsed:?}");
}

/// Under `SECRET_SERVICE_LOCKED=1 scripts/with-secret-service.sh`, the Secret Service
/// answers on the bus but its collection is locked: `Auto` must choose the file.
#[test]
fn auto_falls_back_to_file_when_secret_service_is_locked() {
    if !switched_on(
        LOCKED_SWITCH,
        "auto_falls_back_to_file_when_secret_service_is_locked",
    ) {
        return;
    }
    assert_fallback("secure storage");
}
