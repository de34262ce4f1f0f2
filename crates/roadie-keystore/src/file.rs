//! The encrypted-file backend: `keystore.vault` in the data directory, keyed by
//! Argon2id over a passphrase or by a random key in `keystore.key`, with every
//! read-modify-write done under an exclusive lock on `keystore.lock`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

use crate::fsutil;
use crate::key::validate_key;
use crate::vault::{self, Entries, Header, Kdf, KdfParams, Key, Sealed};
use crate::{BackendKind, KeystoreError, Secret, SecretStore};

/// The encrypted vault.
pub const VAULT_FILE: &str = "keystore.vault";
/// The random key, in key-file mode.
pub const KEY_FILE: &str = "keystore.key";
/// The lock file serialising writers across processes.
pub const LOCK_FILE: &str = "keystore.lock";

/// Secrets in an AES-256-GCM encrypted file.
///
/// Every `set`/`delete` takes an exclusive lock on `keystore.lock`, re-reads and
/// decrypts the vault, changes it and replaces it atomically; `get` takes a shared
/// lock. A vault that cannot be decrypted is never overwritten.
pub struct FileStore {
    vault_path: PathBuf,
    key_path: PathBuf,
    lock_path: PathBuf,
    passphrase: Option<Secret>,
    /// Argon2id cost for a vault created by this store.
    new_vault_kdf: KdfParams,
    /// Serialises this store's operations and caches the derived key.
    cache: Mutex<KeyCache>,
}

/// The last Argon2id result, reused while the vault keeps the same salt and cost.
#[derive(Default)]
struct KeyCache {
    derived: Option<Derived>,
    /// How many Argon2id derivations this store has run (for tests and logs).
    derivations: u64,
}

struct Derived {
    salt: Vec<u8>,
    params: KdfParams,
    key: Key,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("vault", &self.vault_path)
            .field("protection", &self.protection())
            .finish_non_exhaustive()
    }
}

impl FileStore {
    /// Opens (without yet decrypting) the vault in `data_dir`, creating the directory
    /// if needed. With a passphrase a new vault is keyed by Argon2id; without one, by
    /// `keystore.key` (created on first write).
    ///
    /// Fails early if an existing vault needs what was not given: a passphrase
    /// ([`KeystoreError::PassphraseRequired`]), no passphrase
    /// ([`KeystoreError::PassphraseNotUsed`]) or its key file
    /// ([`KeystoreError::KeyFileMissing`]). A wrong passphrase is reported by the
    /// first operation ([`KeystoreError::WrongPassphrase`]).
    pub fn open(
        data_dir: impl Into<PathBuf>,
        passphrase: Option<Secret>,
    ) -> Result<Self, KeystoreError> {
        Self::open_with_params(data_dir.into(), passphrase, KdfParams::production())
    }

    pub(crate) fn open_with_params(
        data_dir: PathBuf,
        passphrase: Option<Secret>,
        new_vault_kdf: KdfParams,
    ) -> Result<Self, KeystoreError> {
        if passphrase
            .as_ref()
            .is_some_and(|p| p.expose_secret().is_empty())
        {
            return Err(KeystoreError::EmptyPassphrase);
        }
        fsutil::create_private_dir(&data_dir)?;
        let store = FileStore {
            vault_path: data_dir.join(VAULT_FILE),
            key_path: data_dir.join(KEY_FILE),
            lock_path: data_dir.join(LOCK_FILE),
            passphrase,
            new_vault_kdf,
            cache: Mutex::new(KeyCache::default()),
        };
        {
            let _lock = fsutil::lock(&store.lock_path, false)?;
            if let Some(bytes) = fsutil::read_if_exists(&store.vault_path)? {
                let sealed = Sealed::parse(&bytes, &store.vault_path)?;
                store.check_mode(&sealed.header)?;
            }
        }
        if store.passphrase.is_none() && fsutil::exists(&store.key_path)? {
            fsutil::warn_if_not_private(&store.key_path);
        }
        Ok(store)
    }

    /// Path of `keystore.vault`.
    pub fn vault_path(&self) -> &Path {
        &self.vault_path
    }

    /// Path of `keystore.key` (used only without a passphrase).
    pub fn key_file_path(&self) -> &Path {
        &self.key_path
    }

    /// Whether this store was opened with a passphrase.
    pub fn has_passphrase(&self) -> bool {
        self.passphrase.is_some()
    }

    fn protection(&self) -> String {
        if self.passphrase.is_some() {
            "passphrase (Argon2id)".to_owned()
        } else {
            format!("key file {}", self.key_path.display())
        }
    }

    /// E.g. `encrypted file /x/keystore.vault (passphrase (Argon2id))`.
    pub(crate) fn describe(&self) -> String {
        format!(
            "encrypted file {} ({})",
            self.vault_path.display(),
            self.protection()
        )
    }

    /// Rejects a vault whose protection does not match what we were given.
    fn check_mode(&self, header: &Header) -> Result<(), KeystoreError> {
        match (header.kdf, &self.passphrase) {
            (Kdf::Argon2id(_), None) => Err(KeystoreError::PassphraseRequired {
                vault: self.vault_path.clone(),
            }),
            (Kdf::KeyFile, Some(_)) => Err(KeystoreError::PassphraseNotUsed {
                vault: self.vault_path.clone(),
                key_file: self.key_path.clone(),
            }),
            (Kdf::KeyFile, None) if !fsutil::exists(&self.key_path)? => {
                Err(KeystoreError::KeyFileMissing {
                    vault: self.vault_path.clone(),
                    key_file: self.key_path.clone(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The key for a vault with `header`, deriving (and caching) it or reading the key file.
    fn key_for(&self, header: &Header, cache: &mut KeyCache) -> Result<Key, KeystoreError> {
        self.check_mode(header)?;
        match header.kdf {
            Kdf::Argon2id(params) => {
                let Some(passphrase) = &self.passphrase else {
                    return Err(KeystoreError::PassphraseRequired {
                        vault: self.vault_path.clone(),
                    });
                };
                if let Some(d) = &cache.derived
                    && d.salt == header.salt
                    && d.params == params
                {
                    return Ok(d.key.clone());
                }
                let started = Instant::now();
                let key = vault::derive_key(passphrase, &header.salt, params)?;
                tracing::debug!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    m_cost = params.m_cost,
                    t_cost = params.t_cost,
                    p_cost = params.p_cost,
                    "derived the keystore key with Argon2id"
                );
                cache.derivations += 1;
                cache.derived = Some(Derived {
                    salt: header.salt.clone(),
                    params,
                    key: key.clone(),
                });
                Ok(key)
            }
            Kdf::KeyFile => self
                .read_key_file()?
                .ok_or_else(|| KeystoreError::KeyFileMissing {
                    vault: self.vault_path.clone(),
                    key_file: self.key_path.clone(),
                }),
        }
    }

    fn read_key_file(&self) -> Result<Option<Key>, KeystoreError> {
        let Some(bytes) = fsutil::read_if_exists(&self.key_path)? else {
            return Ok(None);
        };
        let bytes = Zeroizing::new(bytes);
        let invalid = |detail| KeystoreError::KeyFileInvalid {
            key_file: self.key_path.clone(),
            detail,
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| invalid("not text"))?;
        let mut key: Key = Zeroizing::new([0u8; vault::KEY_LEN]);
        // Decode into a larger scratch buffer so a too-long file is reported, not truncated.
        let mut scratch = Zeroizing::new([0u8; vault::KEY_LEN + 3]);
        let decoded = Base64::decode(text.trim(), &mut scratch[..])
            .map_err(|_| invalid("expected 32 bytes in base64"))?;
        if decoded.len() != vault::KEY_LEN {
            return Err(invalid("expected 32 bytes in base64"));
        }
        key.copy_from_slice(decoded);
        Ok(Some(key))
    }

    /// Reads the key file, creating it with a fresh random key if absent. Called only
    /// under the exclusive lock.
    fn key_file_or_create(&self) -> Result<Key, KeystoreError> {
        if let Some(key) = self.read_key_file()? {
            return Ok(key);
        }
        let key = vault::random_key()?;
        let mut text = Zeroizing::new(Base64::encode_string(&key[..]));
        text.push('\n');
        fsutil::write_atomic(&self.key_path, text.as_bytes())?;
        tracing::info!(path = %self.key_path.display(), "created keystore key file");
        Ok(key)
    }

    /// Reads and decrypts the vault; `None` if there is none yet. Fails (and the
    /// caller writes nothing) if it cannot be decrypted.
    fn load(&self, cache: &mut KeyCache) -> Result<Option<(Header, Key, Entries)>, KeystoreError> {
        let Some(bytes) = fsutil::read_if_exists(&self.vault_path)? else {
            return Ok(None);
        };
        let sealed = Sealed::parse(&bytes, &self.vault_path)?;
        let key = self.key_for(&sealed.header, cache)?;
        let Some(plaintext) = sealed.open(&key)? else {
            return Err(match sealed.header.kdf {
                Kdf::Argon2id(_) => KeystoreError::WrongPassphrase {
                    vault: self.vault_path.clone(),
                },
                Kdf::KeyFile => KeystoreError::KeyFileMismatch {
                    vault: self.vault_path.clone(),
                    key_file: self.key_path.clone(),
                },
            });
        };
        let entries = vault::decode_entries(&plaintext, &self.vault_path)?;
        Ok(Some((sealed.header, key, entries)))
    }

    /// Header and key for a vault that does not exist yet.
    fn new_vault(&self, cache: &mut KeyCache) -> Result<(Header, Key), KeystoreError> {
        if self.passphrase.is_some() {
            let header = Header::new(Kdf::Argon2id(self.new_vault_kdf))?;
            let key = self.key_for(&header, cache)?;
            Ok((header, key))
        } else {
            let key = self.key_file_or_create()?;
            Ok((Header::new(Kdf::KeyFile)?, key))
        }
    }

    /// Encrypts `entries` with a fresh nonce and replaces the vault atomically.
    fn save(&self, header: Header, key: &Key, entries: &Entries) -> Result<(), KeystoreError> {
        let sealed = Sealed::seal(header, key, vault::encode_entries(entries)?)?;
        fsutil::write_atomic(&self.vault_path, &sealed.to_bytes()?)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, KeyCache> {
        // The cache holds no invariant a panic could break; keep going.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SecretStore for FileStore {
    fn kind(&self) -> BackendKind {
        BackendKind::File
    }

    fn get(&self, key: &str) -> Result<Option<Secret>, KeystoreError> {
        validate_key(key)?;
        let mut cache = self.lock_cache();
        let _lock = fsutil::lock(&self.lock_path, false)?;
        Ok(self
            .load(&mut cache)?
            .and_then(|(_, _, mut entries)| entries.remove(key)))
    }

    fn set(&self, key: &str, value: &Secret) -> Result<(), KeystoreError> {
        validate_key(key)?;
        let mut cache = self.lock_cache();
        let _lock = fsutil::lock(&self.lock_path, true)?;
        let (header, vault_key, mut entries) = match self.load(&mut cache)? {
            Some(loaded) => loaded,
            None => {
                let (header, vault_key) = self.new_vault(&mut cache)?;
                (header, vault_key, Entries::new())
            }
        };
        entries.insert(key.to_owned(), value.clone());
        self.save(header, &vault_key, &entries)
    }

    fn delete(&self, key: &str) -> Result<bool, KeystoreError> {
        validate_key(key)?;
        let mut cache = self.lock_cache();
        let _lock = fsutil::lock(&self.lock_path, true)?;
        let Some((header, vault_key, mut entries)) = self.load(&mut cache)? else {
            return Ok(false);
        };
        if entries.remove(key).is_none() {
            return Ok(false);
        }
        self.save(header, &vault_key, &entries)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> KdfParams {
        KdfParams {
            m_cost: 64,
            t_cost: 1,
            p_cost: 1,
        }
    }

    #[test]
    fn argon2_runs_once_per_store_while_the_salt_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let pw = Some(Secret::new("pw"));
        let store = FileStore::open_with_params(dir.path().into(), pw.clone(), cheap()).unwrap();
        assert_eq!(store.lock_cache().derivations, 0, "open does not derive");
        store.set("a", &Secret::new("1")).unwrap();
        store.set("b", &Secret::new("2")).unwrap();
        assert_eq!(store.get("a").unwrap().unwrap().expose_secret(), "1");
        assert!(store.delete("a").unwrap());
        assert_eq!(store.lock_cache().derivations, 1);

        // The vault is recreated elsewhere with a new salt: derive again, once.
        std::fs::remove_file(store.vault_path()).unwrap();
        let other = FileStore::open_with_params(dir.path().into(), pw, cheap()).unwrap();
        other.set("c", &Secret::new("3")).unwrap();
        assert_eq!(store.get("c").unwrap().unwrap().expose_secret(), "3");
        assert_eq!(store.get("b").unwrap(), None);
        assert_eq!(store.lock_cache().derivations, 2);
    }

    #[test]
    fn debug_shows_protection_not_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            FileStore::open_with_params(dir.path().into(), Some(Secret::new("hunter2")), cheap())
                .unwrap();
        let text = format!("{store:?}");
        assert!(text.contains("passphrase (Argon2id)"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
