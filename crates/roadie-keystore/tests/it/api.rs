//! Public API surface: key rules, backend names, and redaction in Debug output.

use roadie_keystore::{
    BackendChoice, BackendKind, KeystoreError, KeystoreOptions, PASSPHRASE_ENV, Secret, VAULT_FILE,
    validate_key,
};

use crate::common::{open_file, secret, try_open_file};

#[test]
fn validate_key_table() {
    let good = [
        "obs.password",
        "kick.client_secret",
        "oauth.twitch.12345",
        "a",
        "0",
        "9lives",
        "a-b_c.d",
        "x.",
        "trailing-",
        &"k".repeat(128),
    ];
    for key in good {
        assert!(validate_key(key).is_ok(), "should accept {key:?}");
    }
    let long = "k".repeat(129);
    let bad = [
        "",
        ".hidden",
        "_private",
        "-dash",
        "Obs.password",
        "obs password",
        "obs/password",
        "obs:password",
        "obs\npassword",
        "obs\0",
        "ключ",
        "café",
        "obs.PASSWORD",
        long.as_str(),
    ];
    for key in bad {
        assert!(
            matches!(validate_key(key), Err(KeystoreError::InvalidKey { .. })),
            "should reject {key:?}"
        );
    }
}

#[test]
fn every_store_method_validates_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_file(dir.path(), None).store;
    for key in ["", "Bad", "../escape", "a b"] {
        assert!(matches!(
            store.get(key),
            Err(KeystoreError::InvalidKey { .. })
        ));
        assert!(matches!(
            store.set(key, &secret("v")),
            Err(KeystoreError::InvalidKey { .. })
        ));
        assert!(matches!(
            store.delete(key),
            Err(KeystoreError::InvalidKey { .. })
        ));
    }
    assert!(
        !dir.path().join(VAULT_FILE).exists(),
        "rejected keys must not create a vault"
    );
}

#[test]
fn backend_names_parse_and_display() {
    for (text, choice) in [
        ("auto", BackendChoice::Auto),
        ("os", BackendChoice::Os),
        ("file", BackendChoice::File),
    ] {
        assert_eq!(text.parse::<BackendChoice>().unwrap(), choice);
        assert_eq!(choice.to_string(), text);
    }
    for bad in ["", "Auto", "keychain", "file "] {
        let err = bad.parse::<BackendChoice>().unwrap_err();
        assert!(
            matches!(err, KeystoreError::UnknownBackend { .. }),
            "{bad:?}"
        );
        assert!(err.to_string().contains("\"auto\""), "{err}");
    }
    assert_eq!(BackendKind::Os.to_string(), "os");
    assert_eq!(BackendKind::File.to_string(), "file");
    assert_eq!(BackendKind::Os.as_str(), "os");
    assert_eq!(BackendKind::File.as_str(), "file");
    assert_eq!(PASSPHRASE_ENV, "ROADIE_KEYSTORE_PASSPHRASE");
}

#[test]
fn debug_output_never_shows_the_passphrase_or_values() {
    let passphrase = "pp-Hunter2-Passphrase-5561";
    let value = "val-Sup3rSecret-Token-9917";
    let dir = tempfile::tempdir().unwrap();

    let options = KeystoreOptions {
        choice: BackendChoice::File,
        data_dir: dir.path().to_path_buf(),
        passphrase: Some(Secret::new(passphrase)),
        namespace: "roadie".to_owned(),
    };
    let options_debug = format!("{options:?} {options:#?}");
    assert!(options_debug.contains("redacted"), "{options_debug}");

    let opened = open_file(dir.path(), Some(passphrase));
    opened.store.set("obs.password", &secret(value)).unwrap();
    let got = opened.store.get("obs.password").unwrap();
    let wrong = try_open_file(dir.path(), Some("some-other-passphrase"))
        .unwrap()
        .store
        .get("obs.password")
        .unwrap_err();
    let required = try_open_file(dir.path(), None).unwrap_err();

    let everything = format!(
        "{options_debug}\n{opened:?}\n{opened:#?}\n{:?}\n{got:?}\n{wrong}\n{wrong:?}\n{required}\n{required:?}",
        opened.store
    );
    for needle in [passphrase, value, "some-other-passphrase"] {
        assert!(
            !everything.contains(needle),
            "{needle:?} leaked into:\n{everything}"
        );
    }
    // Sanity: the Debug output does describe the store.
    assert!(everything.contains("FileStore"), "{everything}");
    assert!(everything.contains("passphrase (Argon2id)"), "{everything}");
}

#[test]
fn empty_passphrase_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let err = try_open_file(dir.path(), Some("")).unwrap_err();
    assert!(matches!(err, KeystoreError::EmptyPassphrase), "{err:?}");
    assert!(err.to_string().contains(PASSPHRASE_ENV), "{err}");
}
