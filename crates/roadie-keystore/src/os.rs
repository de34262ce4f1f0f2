//! The OS secret store backend: Secret Service (Linux), Keychain (macOS), Credential
//! Manager (Windows), through `keyring` v3 with each platform store built explicitly.
//!
//! Entries are constructed with the platform credential type rather than
//! `keyring::Entry::new`, so a build without the platform feature fails to compile
//! instead of silently using keyring's in-memory mock store.

use std::sync::mpsc;
use std::time::Duration;

use crate::key::{validate_key, validate_namespace};
use crate::{BackendKind, KeystoreError, Secret, SecretStore};

/// Human name of this platform's OS store, used in reasons and logs.
#[cfg(target_os = "linux")]
pub(crate) const STORE_NAME: &str = "Secret Service";
/// Human name of this platform's OS store, used in reasons and logs.
#[cfg(target_os = "macos")]
pub(crate) const STORE_NAME: &str = "macOS Keychain";
/// Human name of this platform's OS store, used in reasons and logs.
#[cfg(target_os = "windows")]
pub(crate) const STORE_NAME: &str = "Windows Credential Manager";
/// Human name of this platform's OS store, used in reasons and logs.
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
pub(crate) const STORE_NAME: &str = "OS secret store";

/// Entry read by the availability probe. It starts with `_`, so it can never collide
/// with a valid key, and it is never written.
#[cfg_attr(
    not(any(target_os = "linux", target_os = "macos", target_os = "windows")),
    allow(dead_code)
)]
const PROBE_ENTRY: &str = "__roadie_probe__";

/// How long the probe waits for the OS store before declaring it unavailable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest platform-error summary kept in an error or a reason.
const MAX_SUMMARY_CHARS: usize = 300;

/// Secrets in the OS secret store, one entry per key, under service `namespace`.
#[derive(Debug)]
pub struct OsStore {
    namespace: String,
}

impl OsStore {
    /// Opens the OS store for `namespace` after checking that it answers (a read of a
    /// sentinel entry, bounded by a timeout). Fails with
    /// [`KeystoreError::OsUnavailable`] if it does not.
    pub fn open(namespace: &str) -> Result<Self, KeystoreError> {
        validate_namespace(namespace)?;
        probe(namespace)?;
        Ok(OsStore {
            namespace: namespace.to_owned(),
        })
    }

    /// The keychain service name this store uses.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }
}

impl SecretStore for OsStore {
    fn kind(&self) -> BackendKind {
        BackendKind::Os
    }

    fn get(&self, key: &str) -> Result<Option<Secret>, KeystoreError> {
        validate_key(key)?;
        platform::get(&self.namespace, key)
    }

    fn set(&self, key: &str, value: &Secret) -> Result<(), KeystoreError> {
        validate_key(key)?;
        platform::set(&self.namespace, key, value)
    }

    fn delete(&self, key: &str) -> Result<bool, KeystoreError> {
        validate_key(key)?;
        platform::delete(&self.namespace, key)
    }
}

/// Runs the platform probe on a helper thread so a wedged store cannot hang `open`.
fn probe(namespace: &str) -> Result<(), KeystoreError> {
    let (tx, rx) = mpsc::channel();
    let ns = namespace.to_owned();
    let spawned = std::thread::Builder::new()
        .name("roadie-keystore-probe".into())
        .spawn(move || {
            // The receiver may have given up already; nothing to do then.
            let _ = tx.send(platform::probe(&ns));
        });
    if let Err(err) = spawned {
        return Err(KeystoreError::OsUnavailable {
            summary: format!("cannot start the probe thread: {err}"),
        });
    }
    match rx.recv_timeout(PROBE_TIMEOUT) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(summary)) => Err(KeystoreError::OsUnavailable { summary }),
        Err(_) => Err(KeystoreError::OsUnavailable {
            summary: format!(
                "{STORE_NAME} did not answer within {} s",
                PROBE_TIMEOUT.as_secs()
            ),
        }),
    }
}

/// One line, bounded length.
#[cfg_attr(
    not(any(target_os = "linux", target_os = "macos", target_os = "windows")),
    allow(dead_code)
)]
fn one_line(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_SUMMARY_CHARS)
        .collect();
    if text.chars().count() > MAX_SUMMARY_CHARS {
        out.push('…');
    }
    out
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
mod platform {
    use keyring::{Entry, Error};

    use super::{PROBE_ENTRY, one_line};
    use crate::{KeystoreError, Secret};

    /// The keyring entry for `key`, built with this platform's credential type.
    fn entry(namespace: &str, key: &str) -> keyring::Result<Entry> {
        #[cfg(target_os = "linux")]
        let credential =
            keyring::secret_service::SsCredential::new_with_target(None, namespace, key)?;
        #[cfg(target_os = "macos")]
        let credential = keyring::macos::MacCredential::new_with_target(None, namespace, key)?;
        #[cfg(target_os = "windows")]
        let credential = keyring::windows::WinCredential::new_with_target(None, namespace, key)?;
        Ok(Entry::new_with_credential(Box::new(credential)))
    }

    /// A one-line description of a keyring error that never includes secret bytes.
    fn summarize(err: &Error) -> String {
        match err {
            // The payload is the stored bytes: never print them.
            Error::BadEncoding(_) => "the stored value is not valid UTF-8".to_owned(),
            Error::Ambiguous(items) => {
                format!("{} entries match this key in the OS store", items.len())
            }
            other => one_line(&other.to_string()),
        }
    }

    fn failure(op: &'static str, err: &Error) -> KeystoreError {
        KeystoreError::Os {
            op,
            summary: summarize(err),
        }
    }

    /// `Ok` if the store answered the sentinel read (found or not found).
    pub(super) fn probe(namespace: &str) -> Result<(), String> {
        let entry = entry(namespace, PROBE_ENTRY).map_err(|e| summarize(&e))?;
        match entry.get_password() {
            // Drop whatever is there unread; the sentinel is never written by us.
            Ok(_) | Err(Error::NoEntry) | Err(Error::Ambiguous(_)) | Err(Error::BadEncoding(_)) => {
                Ok(())
            }
            Err(other) => Err(summarize(&other)),
        }
    }

    pub(super) fn get(namespace: &str, key: &str) -> Result<Option<Secret>, KeystoreError> {
        let entry = entry(namespace, key).map_err(|e| failure("get", &e))?;
        match entry.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(Error::NoEntry) => Ok(None),
            Err(other) => Err(failure("get", &other)),
        }
    }

    pub(super) fn set(namespace: &str, key: &str, value: &Secret) -> Result<(), KeystoreError> {
        let entry = entry(namespace, key).map_err(|e| failure("set", &e))?;
        entry
            .set_password(value.expose_secret())
            .map_err(|e| failure("set", &e))
    }

    pub(super) fn delete(namespace: &str, key: &str) -> Result<bool, KeystoreError> {
        let entry = entry(namespace, key).map_err(|e| failure("delete", &e))?;
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(Error::NoEntry) => Ok(false),
            Err(other) => Err(failure("delete", &other)),
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
mod platform {
    use crate::{KeystoreError, Secret};

    fn unavailable() -> KeystoreError {
        KeystoreError::OsUnavailable {
            summary: "no OS secret store is supported on this platform".to_owned(),
        }
    }

    pub(super) fn probe(_namespace: &str) -> Result<(), String> {
        Err("no OS secret store is supported on this platform".to_owned())
    }

    pub(super) fn get(_namespace: &str, _key: &str) -> Result<Option<Secret>, KeystoreError> {
        Err(unavailable())
    }

    pub(super) fn set(_namespace: &str, _key: &str, _value: &Secret) -> Result<(), KeystoreError> {
        Err(unavailable())
    }

    pub(super) fn delete(_namespace: &str, _key: &str) -> Result<bool, KeystoreError> {
        Err(unavailable())
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn summaries_are_one_bounded_line() {
        assert_eq!(one_line("a\nb\tc"), "a b c");
        let long = "x".repeat(1000);
        let short = one_line(&long);
        assert_eq!(short.chars().count(), 301);
        assert!(short.ends_with('…'));
    }
}
