//! Passphrase mode: wrong passphrase leaves the vault untouched, mode mismatches fail
//! clearly, and new vaults record the production Argon2id cost.

use std::time::Instant;

use roadie_keystore::{
    BackendChoice, KEY_FILE, KeystoreError, KeystoreOptions, PASSPHRASE_ENV, Secret, testing,
};

use crate::common::{get_str, open_file, secret, try_open_file, vault_bytes, vault_json};

#[test]
fn wrong_passphrase_fails_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let right = "passphrase-A-right";
    let wrong = "passphrase-B-wrong";
    {
        let store = open_file(dir.path(), Some(right)).store;
        store.set("obs.password", &secret("obs-value")).unwrap();
        store
            .set("kick.client_secret", &secret("kick-value"))
            .unwrap();
        store
            .set("oauth.twitch.12345", &secret("twitch-value"))
            .unwrap();
    }
    let before = vault_bytes(dir.path());

    // Opening succeeds (the header is fine); every operation then fails.
    let store = open_file(dir.path(), Some(wrong)).store;
    let get = store.get("obs.password").unwrap_err();
    assert!(
        matches!(get, KeystoreError::WrongPassphrase { .. }),
        "{get:?}"
    );
    let message = get.to_string();
    assert!(message.contains("wrong passphrase"), "{message}");
    assert!(message.contains(PASSPHRASE_ENV), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");
    assert!(!message.contains(right) && !message.contains(wrong));

    let set = store
        .set("obs.password", &secret("overwritten"))
        .unwrap_err();
    assert!(
        matches!(set, KeystoreError::WrongPassphrase { .. }),
        "{set:?}"
    );
    let set_new = store.set("new.key", &secret("x")).unwrap_err();
    assert!(matches!(set_new, KeystoreError::WrongPassphrase { .. }));
    let delete = store.delete("obs.password").unwrap_err();
    assert!(matches!(delete, KeystoreError::WrongPassphrase { .. }));
    assert_eq!(vault_bytes(dir.path()), before, "vault must be untouched");

    // The right passphrase still reads everything.
    let store = open_file(dir.path(), Some(right)).store;
    assert_eq!(
        get_str(store.as_ref(), "obs.password").as_deref(),
        Some("obs-value")
    );
    assert_eq!(
        get_str(store.as_ref(), "kick.client_secret").as_deref(),
        Some("kick-value")
    );
    assert_eq!(
        get_str(store.as_ref(), "oauth.twitch.12345").as_deref(),
        Some("twitch-value")
    );
    assert_eq!(get_str(store.as_ref(), "new.key"), None);
}

#[test]
fn passphrase_vault_without_passphrase_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    open_file(dir.path(), Some("pw"))
        .store
        .set("obs.password", &secret("v"))
        .unwrap();
    let before = vault_bytes(dir.path());
    let err = try_open_file(dir.path(), None).unwrap_err();
    assert!(
        matches!(err, KeystoreError::PassphraseRequired { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(PASSPHRASE_ENV), "{err}");
    assert!(!dir.path().join(KEY_FILE).exists());
    assert_eq!(vault_bytes(dir.path()), before);
}

#[test]
fn key_file_vault_with_a_passphrase_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    open_file(dir.path(), None)
        .store
        .set("obs.password", &secret("v"))
        .unwrap();
    let err = try_open_file(dir.path(), Some("pw")).unwrap_err();
    assert!(
        matches!(err, KeystoreError::PassphraseNotUsed { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(PASSPHRASE_ENV), "{err}");
    // Still readable the way it was made.
    assert_eq!(
        get_str(open_file(dir.path(), None).store.as_ref(), "obs.password").as_deref(),
        Some("v")
    );
}

#[test]
fn store_opened_before_a_mode_switch_does_not_clobber_the_new_vault() {
    // Store A (key file) is open; meanwhile the vault is replaced by a passphrase vault.
    let dir = tempfile::tempdir().unwrap();
    let keyfile_store = open_file(dir.path(), None).store;
    keyfile_store.set("obs.password", &secret("v")).unwrap();
    std::fs::remove_file(dir.path().join("keystore.vault")).unwrap();
    open_file(dir.path(), Some("pw"))
        .store
        .set("obs.password", &secret("p"))
        .unwrap();
    let before = vault_bytes(dir.path());
    let err = keyfile_store
        .set("obs.password", &secret("clobber"))
        .unwrap_err();
    assert!(
        matches!(err, KeystoreError::PassphraseRequired { .. }),
        "{err:?}"
    );
    assert_eq!(vault_bytes(dir.path()), before);
}

/// Uses the real `open` (production Argon2id cost) and reports how long it takes.
#[test]
fn production_argon2_parameters_are_recorded_and_timed() {
    let dir = tempfile::tempdir().unwrap();
    let options = KeystoreOptions {
        choice: BackendChoice::File,
        data_dir: dir.path().to_path_buf(),
        passphrase: Some(Secret::new("production-cost")),
        namespace: "roadie-test-unused".to_owned(),
    };
    let opened = roadie_keystore::open(options.clone()).unwrap();
    let started = Instant::now();
    opened.store.set("obs.password", &secret("v")).unwrap();
    let first_write = started.elapsed();
    let started = Instant::now();
    opened.store.set("obs.password", &secret("w")).unwrap();
    assert_eq!(
        get_str(opened.store.as_ref(), "obs.password").as_deref(),
        Some("w")
    );
    let cached = started.elapsed();

    let json = vault_json(dir.path());
    assert_eq!(json["kdf"], "argon2id");
    assert_eq!(json["argon2"]["m_cost"], 19456);
    assert_eq!(json["argon2"]["t_cost"], 2);
    assert_eq!(json["argon2"]["p_cost"], 1);
    assert_eq!(
        <base64ct::Base64 as base64ct::Encoding>::decode_vec(json["salt"].as_str().unwrap())
            .unwrap()
            .len(),
        16
    );

    let reopened = roadie_keystore::open(options).unwrap();
    let started = Instant::now();
    assert_eq!(
        get_str(reopened.store.as_ref(), "obs.password").as_deref(),
        Some("w")
    );
    let fresh_read = started.elapsed();
    let kdf = testing::time_production_kdf().unwrap();
    println!(
        "argon2id m=19456 t=2 p=1: derivation {kdf:?}; first write (derive+encrypt+fsync) {first_write:?}; \
         cached write+read {cached:?}; fresh open read {fresh_read:?}"
    );
}
