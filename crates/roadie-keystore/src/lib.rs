//! Roadie's secret store: the OS keychain, or an AES-256-GCM encrypted file.
//!
//! The API is blocking; the daemon calls it from `spawn_blocking`.
//!
//! * [`open`] picks a backend from [`KeystoreOptions::choice`]: `Auto` probes the OS
//!   secret store (Secret Service on Linux, Keychain on macOS, Credential Manager on
//!   Windows) and falls back to the encrypted file; `Os` and `File` force one.
//! * The file backend keeps `keystore.vault` (AES-256-GCM, key from Argon2id over
//!   the passphrase, or from `keystore.key`) in the data directory, writes it
//!   atomically and serialises writers across threads and processes with
//!   `keystore.lock`.
//! * No secret value ever appears in an error, a log line or `Debug` output.

mod error;
mod file;
mod fsutil;
mod key;
mod os;
mod vault;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

pub use error::KeystoreError;
pub use file::{FileStore, KEY_FILE, LOCK_FILE, VAULT_FILE};
pub use key::validate_key;
pub use os::OsStore;
pub use roadie_core::Secret;

/// Environment variable the daemon reads the file-backend passphrase from.
pub const PASSPHRASE_ENV: &str = "ROADIE_KEYSTORE_PASSPHRASE";

/// Which backend the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    /// The OS secret store if it answers, else the encrypted file.
    Auto,
    /// The OS secret store; opening fails if it does not answer.
    Os,
    /// The encrypted file.
    File,
}

impl BackendChoice {
    /// `"auto"`, `"os"` or `"file"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Os => "os",
            BackendChoice::File => "file",
        }
    }
}

impl FromStr for BackendChoice {
    type Err = KeystoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(BackendChoice::Auto),
            "os" => Ok(BackendChoice::Os),
            "file" => Ok(BackendChoice::File),
            other => Err(KeystoreError::UnknownBackend {
                given: other.chars().take(32).collect(),
            }),
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which backend is actually in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// The OS secret store.
    Os,
    /// The encrypted file.
    File,
}

impl BackendKind {
    /// `"os"` or `"file"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Os => "os",
            BackendKind::File => "file",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place to keep secrets by key. All methods block; every method validates the key.
pub trait SecretStore: Send + Sync + fmt::Debug {
    /// Which backend this is.
    fn kind(&self) -> BackendKind;
    /// The secret stored under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<Secret>, KeystoreError>;
    /// Stores `value` under `key`, replacing any previous value.
    fn set(&self, key: &str, value: &Secret) -> Result<(), KeystoreError>;
    /// Removes `key`; returns whether it existed.
    fn delete(&self, key: &str) -> Result<bool, KeystoreError>;
}

/// How to open the keystore. `Debug` redacts the passphrase.
#[derive(Debug, Clone)]
pub struct KeystoreOptions {
    /// Which backend to use.
    pub choice: BackendChoice,
    /// Directory for `keystore.vault`, `keystore.key` and `keystore.lock`
    /// (created with mode 0700 if missing).
    pub data_dir: PathBuf,
    /// Passphrase for the file backend. `Some` → Argon2id-derived key; `None` → key file.
    pub passphrase: Option<Secret>,
    /// The OS keychain "service" name (the daemon uses `"roadie"`).
    pub namespace: String,
}

impl KeystoreOptions {
    /// Options with the passphrase taken from [`PASSPHRASE_ENV`] (unset → `None`).
    pub fn from_env(
        choice: BackendChoice,
        data_dir: PathBuf,
        namespace: impl Into<String>,
    ) -> Self {
        KeystoreOptions {
            choice,
            data_dir,
            passphrase: passphrase_from_env(),
            namespace: namespace.into(),
        }
    }
}

/// The passphrase in [`PASSPHRASE_ENV`], if set (and valid Unicode).
pub fn passphrase_from_env() -> Option<Secret> {
    std::env::var(PASSPHRASE_ENV).ok().map(Secret::new)
}

/// An opened keystore and why its backend was chosen.
#[derive(Debug, Clone)]
pub struct OpenedKeystore {
    /// The store.
    pub store: Arc<dyn SecretStore>,
    /// Which backend it is (same as `store.kind()`).
    pub kind: BackendKind,
    /// Human-readable reason for the choice, e.g. `"Secret Service answered"`.
    pub reason: String,
}

/// Opens the keystore described by `options`.
///
/// `Auto` probes the OS store with a read of a sentinel entry and uses it if it
/// answers, otherwise the encrypted file. `Os` fails with
/// [`KeystoreError::OsUnavailable`] if the OS store does not answer. `File` opens
/// the encrypted file. The choice and its reason are logged at info level.
///
/// The probe is a read, so it cannot tell an *existing but locked* default collection
/// (e.g. gnome-keyring started without unlocking a `login.keyring` it already has):
/// that store answers the probe, reads then find nothing and writes fail with
/// [`KeystoreError::Os`]. A store with no usable collection at all, no session bus, or
/// no daemon fails the probe and `Auto` falls back to the file.
pub fn open(options: KeystoreOptions) -> Result<OpenedKeystore, KeystoreError> {
    open_inner(options, vault::KdfParams::production())
}

fn open_inner(
    options: KeystoreOptions,
    kdf: vault::KdfParams,
) -> Result<OpenedKeystore, KeystoreError> {
    let KeystoreOptions {
        choice,
        data_dir,
        passphrase,
        namespace,
    } = options;
    let opened = match choice {
        BackendChoice::Os => {
            let store = OsStore::open(&namespace)?;
            let reason = format!("{} answered", os::STORE_NAME);
            wrap(store, reason)
        }
        BackendChoice::File => {
            let store = FileStore::open_with_params(data_dir, passphrase, kdf)?;
            let reason = format!("file backend requested; using {}", store.describe());
            wrap(store, reason)
        }
        BackendChoice::Auto => match OsStore::open(&namespace) {
            Ok(store) => {
                let reason = format!("{} answered", os::STORE_NAME);
                wrap(store, reason)
            }
            Err(KeystoreError::OsUnavailable { summary }) => {
                let store = FileStore::open_with_params(data_dir, passphrase, kdf)?;
                let reason = format!("no OS secret store: {summary}; using {}", store.describe());
                wrap(store, reason)
            }
            Err(other) => return Err(other),
        },
    };
    tracing::info!(
        backend = %opened.kind,
        requested = %choice,
        reason = %opened.reason,
        "keystore opened"
    );
    Ok(opened)
}

fn wrap<S: SecretStore + 'static>(store: S, reason: String) -> OpenedKeystore {
    let kind = store.kind();
    OpenedKeystore {
        store: Arc::new(store),
        kind,
        reason,
    }
}

/// Test support. Not part of the stable API.
#[doc(hidden)]
pub mod testing {
    use super::{KeystoreError, KeystoreOptions, OpenedKeystore};

    /// Like [`crate::open`], but a vault created by this call uses the given Argon2id
    /// cost (memory in KiB, iterations, lanes) instead of the production defaults, so
    /// tests do not spend seconds per derivation. Existing vaults keep the cost stored
    /// in their header.
    pub fn open_with_argon2_cost(
        options: KeystoreOptions,
        m_cost: u32,
        t_cost: u32,
        p_cost: u32,
    ) -> Result<OpenedKeystore, KeystoreError> {
        super::open_inner(
            options,
            super::vault::KdfParams {
                m_cost,
                t_cost,
                p_cost,
            },
        )
    }

    /// Derives a key with the production Argon2id parameters and returns how long it took.
    pub fn time_production_kdf() -> Result<std::time::Duration, KeystoreError> {
        let started = std::time::Instant::now();
        let passphrase = roadie_core::Secret::new("timing-only");
        let salt = [7u8; super::vault::SALT_LEN];
        super::vault::derive_key(&passphrase, &salt, super::vault::KdfParams::production())?;
        Ok(started.elapsed())
    }
}
