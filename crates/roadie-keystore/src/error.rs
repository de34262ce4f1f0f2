//! The keystore's typed error. No variant ever carries a secret value or a passphrase.

use std::path::PathBuf;

use crate::PASSPHRASE_ENV;

/// Everything that can go wrong in the keystore.
///
/// Messages name files, backends and operations, never secret values: OS-store
/// failures are kept only as a one-line summary of the platform error, and errors
/// from parsing decrypted data keep only a position.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// A key name does not follow the key rules (see [`crate::validate_key`]).
    #[error(
        "invalid keystore key ({len} characters): {reason}; keys are 1..=128 characters of [a-z0-9._-] and start with [a-z0-9]"
    )]
    InvalidKey {
        /// Length of the rejected key in characters.
        len: usize,
        /// What rule it broke.
        reason: &'static str,
    },

    /// The namespace (OS keychain service name) is unusable.
    #[error("invalid keystore namespace: {reason}")]
    InvalidNamespace {
        /// What rule it broke.
        reason: &'static str,
    },

    /// A backend choice string was not `auto`, `os` or `file`.
    #[error("unknown keystore backend {given:?}: expected \"auto\", \"os\" or \"file\"")]
    UnknownBackend {
        /// The string that was given.
        given: String,
    },

    /// The OS secret store did not answer (not installed, locked, no session bus, ...).
    #[error("the OS secret store is not available: {summary}")]
    OsUnavailable {
        /// One line describing the platform error.
        summary: String,
    },

    /// An operation on the OS secret store failed.
    #[error("OS secret store {op} failed: {summary}")]
    Os {
        /// `get`, `set` or `delete`.
        op: &'static str,
        /// One line describing the platform error.
        summary: String,
    },

    /// The passphrase given was empty.
    #[error(
        "the keystore passphrase is empty; set {PASSPHRASE_ENV} to a non-empty value or unset it"
    )]
    EmptyPassphrase,

    /// The vault is passphrase-protected but no passphrase was given.
    #[error("the keystore vault {vault} is protected by a passphrase; set {PASSPHRASE_ENV}")]
    PassphraseRequired {
        /// The vault file.
        vault: PathBuf,
    },

    /// A passphrase was given but the vault is protected by a key file.
    #[error(
        "the keystore vault {vault} is protected by the key file {key_file}, not by a passphrase; unset {PASSPHRASE_ENV} to use it"
    )]
    PassphraseNotUsed {
        /// The vault file.
        vault: PathBuf,
        /// The key file the vault expects.
        key_file: PathBuf,
    },

    /// The vault needs its key file and the key file is gone.
    #[error(
        "the keystore vault {vault} is protected by the key file {key_file}, which is missing; restore it (a new vault is never created over an existing one)"
    )]
    KeyFileMissing {
        /// The vault file.
        vault: PathBuf,
        /// The missing key file.
        key_file: PathBuf,
    },

    /// The key file exists but is not a valid key.
    #[error("the keystore key file {key_file} is malformed: {detail}")]
    KeyFileInvalid {
        /// The key file.
        key_file: PathBuf,
        /// What is wrong with it.
        detail: &'static str,
    },

    /// Decryption with the derived key failed: wrong passphrase (or a tampered vault).
    #[error(
        "wrong passphrase for the keystore vault {vault} (or the vault was modified); nothing was changed. Check {PASSPHRASE_ENV}"
    )]
    WrongPassphrase {
        /// The vault file.
        vault: PathBuf,
    },

    /// Decryption with the key file failed: the key file does not belong to this vault,
    /// or the vault was modified.
    #[error(
        "the keystore vault {vault} cannot be decrypted with the key file {key_file} (wrong key file, or the vault was modified); nothing was changed"
    )]
    KeyFileMismatch {
        /// The vault file.
        vault: PathBuf,
        /// The key file used.
        key_file: PathBuf,
    },

    /// The vault file is not a valid Roadie vault.
    #[error("the keystore vault {vault} is corrupt: {detail}")]
    CorruptVault {
        /// The vault file.
        vault: PathBuf,
        /// What is wrong (never contains decrypted data).
        detail: String,
    },

    /// The vault was written by a newer (or unknown) format version.
    #[error(
        "the keystore vault {vault} has unsupported format version {version} (this build reads version 1)"
    )]
    UnsupportedVersion {
        /// The vault file.
        vault: PathBuf,
        /// The version found in the header.
        version: u32,
    },

    /// A file-system operation failed.
    #[error("keystore {op} {path}: {source}")]
    Io {
        /// What was being done, e.g. `cannot read`.
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// A cryptographic primitive failed (random source, KDF parameters, encryption).
    #[error("keystore crypto failure: {detail}")]
    Crypto {
        /// What failed.
        detail: String,
    },
}

impl KeystoreError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        KeystoreError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
