//! The encrypted file backend: round trips, persistence, ciphertext hygiene, nonces,
//! key-file handling and file permissions.

use base64ct::{Base64, Encoding};
use roadie_keystore::{BackendKind, KEY_FILE, KeystoreError, LOCK_FILE, SecretStore, VAULT_FILE};

use crate::common::{get_str, open_file, secret, try_open_file, vault_bytes, vault_json};

fn round_trip(store: &dyn SecretStore) {
    assert_eq!(get_str(store, "obs.password"), None);
    store.set("obs.password", &secret("first")).unwrap();
    assert_eq!(get_str(store, "obs.password").as_deref(), Some("first"));
    store.set("obs.password", &secret("second")).unwrap();
    assert_eq!(get_str(store, "obs.password").as_deref(), Some("second"));
    assert!(store.delete("obs.password").unwrap());
    assert_eq!(get_str(store, "obs.password"), None);
    assert!(!store.delete("obs.password").unwrap());
}

#[test]
fn round_trip_and_persistence_with_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let opened = open_file(dir.path(), None);
    assert_eq!(opened.kind, BackendKind::File);
    assert_eq!(opened.store.kind(), BackendKind::File);
    assert!(
        opened.reason.contains("keystore.vault"),
        "{}",
        opened.reason
    );
    round_trip(opened.store.as_ref());

    opened
        .store
        .set("kick.client_secret", &secret("kick-123"))
        .unwrap();
    opened.store.set("oauth.twitch.12345", &secret("")).unwrap();
    opened
        .store
        .set("obs.password", &secret("quote\" backslash\\ nl\n é ✓"))
        .unwrap();
    drop(opened);

    let reopened = open_file(dir.path(), None);
    let store = reopened.store.as_ref();
    assert_eq!(
        get_str(store, "kick.client_secret").as_deref(),
        Some("kick-123")
    );
    assert_eq!(get_str(store, "oauth.twitch.12345").as_deref(), Some(""));
    assert_eq!(
        get_str(store, "obs.password").as_deref(),
        Some("quote\" backslash\\ nl\n é ✓")
    );
    assert!(reopened.store.delete("kick.client_secret").unwrap());
    drop(reopened);
    let third = open_file(dir.path(), None);
    assert_eq!(get_str(third.store.as_ref(), "kick.client_secret"), None);
    assert_eq!(
        get_str(third.store.as_ref(), "oauth.twitch.12345").as_deref(),
        Some("")
    );
}

#[test]
fn round_trip_and_persistence_with_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let opened = open_file(dir.path(), Some("correct horse"));
    assert!(
        opened.reason.contains("passphrase (Argon2id)"),
        "{}",
        opened.reason
    );
    round_trip(opened.store.as_ref());
    opened.store.set("obs.password", &secret("kept")).unwrap();
    drop(opened);
    let reopened = open_file(dir.path(), Some("correct horse"));
    assert_eq!(
        get_str(reopened.store.as_ref(), "obs.password").as_deref(),
        Some("kept")
    );
    assert!(
        !dir.path().join(KEY_FILE).exists(),
        "passphrase mode must not create a key file"
    );
}

#[test]
fn get_and_delete_on_a_missing_vault_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_file(dir.path(), None).store;
    assert_eq!(get_str(store.as_ref(), "obs.password"), None);
    assert!(!store.delete("obs.password").unwrap());
    assert!(!dir.path().join(VAULT_FILE).exists());
    assert!(
        !dir.path().join(KEY_FILE).exists(),
        "key file is created on first write"
    );
}

/// Every base64 rendering of `value` at any alignment contains one of these.
fn base64_needles(value: &[u8]) -> Vec<String> {
    (0..3)
        .map(|skip| {
            let encoded = Base64::encode_string(&value[skip..]);
            encoded[..encoded.len() - 4].to_owned()
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn assert_no_plaintext(raw: &[u8], needles: &[&str]) {
    let text = String::from_utf8_lossy(raw);
    for needle in needles {
        assert!(
            !raw.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "vault contains {needle:?} in clear"
        );
        for b64 in base64_needles(needle.as_bytes()) {
            assert!(!text.contains(&b64), "vault contains base64 of {needle:?}");
        }
        assert!(
            !text.to_lowercase().contains(&hex(needle.as_bytes())),
            "vault contains hex of {needle:?}"
        );
    }
}

#[test]
fn vault_contains_no_plaintext() {
    let key = "distinctive.key-name.4242";
    let value = "Zq8-DISTINCTIVE-secret-VALUE-7731-xyzzy";
    for passphrase in [None, Some("pass-phrase-for-plaintext-test")] {
        let dir = tempfile::tempdir().unwrap();
        let store = open_file(dir.path(), passphrase).store;
        store.set(key, &secret(value)).unwrap();
        store.set("obs.password", &secret(value)).unwrap();
        let raw = vault_bytes(dir.path());
        let mut needles = vec![key, value];
        if let Some(p) = passphrase {
            needles.push(p);
        }
        assert_no_plaintext(&raw, &needles);
        // The header is what the format says.
        let json = vault_json(dir.path());
        assert_eq!(json["format"], "roadie-vault");
        assert_eq!(json["version"], 1);
        assert_eq!(
            json["kdf"],
            if passphrase.is_some() {
                "argon2id"
            } else {
                "keyfile"
            }
        );
        assert_eq!(json.get("argon2").is_some(), passphrase.is_some());
        // And the value still reads back.
        assert_eq!(get_str(store.as_ref(), key).as_deref(), Some(value));
    }
}

#[test]
fn every_write_uses_a_fresh_nonce_and_keeps_the_salt() {
    for passphrase in [None, Some("nonce-test")] {
        let dir = tempfile::tempdir().unwrap();
        let store = open_file(dir.path(), passphrase).store;
        store.set("obs.password", &secret("same")).unwrap();
        let first = vault_json(dir.path());
        store.set("obs.password", &secret("same")).unwrap();
        let second = vault_json(dir.path());
        // A fresh store (other process) writing the same content.
        open_file(dir.path(), passphrase)
            .store
            .set("obs.password", &secret("same"))
            .unwrap();
        let third = vault_json(dir.path());

        let nonce = |v: &serde_json::Value| v["nonce"].as_str().unwrap().to_owned();
        let nonce_bytes = Base64::decode_vec(&nonce(&first)).unwrap();
        assert_eq!(nonce_bytes.len(), 12, "96-bit nonce");
        assert_ne!(nonce(&first), nonce(&second));
        assert_ne!(nonce(&second), nonce(&third));
        assert_ne!(nonce(&first), nonce(&third));
        assert_ne!(first["ciphertext"], second["ciphertext"]);
        assert_eq!(first["salt"], second["salt"], "salt survives rewrites");
        assert_eq!(first["salt"], third["salt"]);
        assert_eq!(first["argon2"], third["argon2"]);
    }
}

#[test]
fn key_file_missing_is_an_error_and_nothing_is_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_file(dir.path(), None).store;
    store.set("obs.password", &secret("v")).unwrap();
    let before = vault_bytes(dir.path());
    std::fs::remove_file(dir.path().join(KEY_FILE)).unwrap();

    // Opening again fails clearly.
    let err = try_open_file(dir.path(), None).unwrap_err();
    assert!(
        matches!(err, KeystoreError::KeyFileMissing { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("keystore.key"), "{err}");

    // The already-open store fails too and never writes a new key or vault.
    for result in [
        store.get("obs.password").map(|_| ()),
        store.set("obs.password", &secret("new")),
        store.delete("obs.password").map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(KeystoreError::KeyFileMissing { .. })),
            "{result:?}"
        );
    }
    assert!(!dir.path().join(KEY_FILE).exists());
    assert_eq!(vault_bytes(dir.path()), before);
}

#[test]
fn foreign_or_malformed_key_file_is_an_error_and_nothing_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_file(dir.path(), None).store;
    store.set("obs.password", &secret("v")).unwrap();
    let before = vault_bytes(dir.path());
    let key_path = dir.path().join(KEY_FILE);

    // Another valid key: decryption fails.
    let other = Base64::encode_string(&[9u8; 32]) + "\n";
    std::fs::write(&key_path, other).unwrap();
    assert!(matches!(
        store.get("obs.password"),
        Err(KeystoreError::KeyFileMismatch { .. })
    ));
    assert!(matches!(
        store.set("obs.password", &secret("x")),
        Err(KeystoreError::KeyFileMismatch { .. })
    ));
    assert!(matches!(
        store.delete("obs.password"),
        Err(KeystoreError::KeyFileMismatch { .. })
    ));

    // Garbage: reported as malformed.
    for garbage in [&b"not base64 !!"[..], &[0xff, 0xfe][..], b"AAAA\n"] {
        std::fs::write(&key_path, garbage).unwrap();
        assert!(
            matches!(
                store.get("obs.password"),
                Err(KeystoreError::KeyFileInvalid { .. })
            ),
            "{garbage:?}"
        );
    }
    assert_eq!(vault_bytes(dir.path()), before);
}

#[test]
fn corrupt_vault_is_reported_and_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_file(dir.path(), None).store;
    store.set("obs.password", &secret("v")).unwrap();
    let vault = dir.path().join(VAULT_FILE);

    // Flip one ciphertext character: authentication fails.
    let mut json = vault_json(dir.path());
    let ct = json["ciphertext"].as_str().unwrap().to_owned();
    let flipped = if ct.starts_with('A') { "B" } else { "A" }.to_owned() + &ct[1..];
    json["ciphertext"] = serde_json::Value::String(flipped);
    let tampered = serde_json::to_vec(&json).unwrap();
    std::fs::write(&vault, &tampered).unwrap();
    assert!(matches!(
        store.set("obs.password", &secret("x")),
        Err(KeystoreError::KeyFileMismatch { .. })
    ));
    assert_eq!(std::fs::read(&vault).unwrap(), tampered);

    // Not JSON at all.
    std::fs::write(&vault, b"garbage").unwrap();
    let err = store.set("obs.password", &secret("x")).unwrap_err();
    assert!(matches!(err, KeystoreError::CorruptVault { .. }), "{err:?}");
    assert_eq!(std::fs::read(&vault).unwrap(), b"garbage");

    // A future version.
    std::fs::write(&vault, br#"{"format":"roadie-vault","version":2}"#).unwrap();
    let err = try_open_file(dir.path(), None).unwrap_err();
    assert!(
        matches!(err, KeystoreError::UnsupportedVersion { version: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn no_temp_files_are_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_file(dir.path(), None).store;
    for i in 0..5 {
        store
            .set("obs.password", &secret(&format!("v{i}")))
            .unwrap();
    }
    store.delete("obs.password").unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [KEY_FILE, LOCK_FILE, VAULT_FILE]);
}

#[cfg(unix)]
#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;

    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("nested").join("data");
    let store = open_file(&dir, None).store;
    store.set("obs.password", &secret("v")).unwrap();
    store.set("obs.password", &secret("w")).unwrap();
    assert_eq!(mode(&dir.join(VAULT_FILE)), 0o600, "vault");
    assert_eq!(mode(&dir.join(KEY_FILE)), 0o600, "key file");
    assert_eq!(mode(&dir.join(LOCK_FILE)), 0o600, "lock file");
    assert_eq!(mode(&dir), 0o700, "created data dir");

    let dir2 = root.path().join("pass");
    let store = open_file(&dir2, Some("pw")).store;
    store.set("obs.password", &secret("v")).unwrap();
    assert_eq!(mode(&dir2.join(VAULT_FILE)), 0o600, "passphrase vault");
}
