//! The `keystore.vault` format and its cryptography: JSON header, AES-256-GCM with a
//! fresh 96-bit nonce per write, the header bound in as associated data, and the key
//! from Argon2id over a passphrase or from a random key file.
//!
//! ```json
//! {"format":"roadie-vault","version":1,"kdf":"argon2id",
//!  "salt":"<base64>","argon2":{"m_cost":19456,"t_cost":2,"p_cost":1},
//!  "nonce":"<base64>","ciphertext":"<base64>"}
//! ```
//! The plaintext is a JSON object mapping key → value. In key-file mode (`"kdf":"keyfile"`)
//! there is no `argon2` member and the salt is only a random vault id bound into the
//! associated data.

use std::collections::BTreeMap;
use std::path::Path;

use aes_gcm::{AeadInPlace, Aes256Gcm, KeyInit, Nonce};
use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{KeystoreError, Secret};

/// `format` member of every vault.
pub(crate) const FORMAT: &str = "roadie-vault";
/// The only format version this build reads and writes.
pub(crate) const VERSION: u32 = 1;
/// Salt length for new vaults, in bytes.
pub(crate) const SALT_LEN: usize = 16;
/// AES-GCM nonce length, in bytes.
pub(crate) const NONCE_LEN: usize = 12;
/// AES-256 key length, in bytes.
pub(crate) const KEY_LEN: usize = 32;
/// AES-GCM tag length, in bytes.
const TAG_LEN: usize = 16;

/// A 256-bit key, wiped on drop.
pub(crate) type Key = Zeroizing<[u8; KEY_LEN]>;

/// Argon2id cost: memory in KiB, iterations, lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KdfParams {
    pub(crate) m_cost: u32,
    pub(crate) t_cost: u32,
    pub(crate) p_cost: u32,
}

impl KdfParams {
    /// The `argon2` crate's defaults (OWASP's minimum): 19 MiB, 2 passes, 1 lane.
    pub(crate) fn production() -> Self {
        KdfParams {
            m_cost: argon2::Params::DEFAULT_M_COST,
            t_cost: argon2::Params::DEFAULT_T_COST,
            p_cost: argon2::Params::DEFAULT_P_COST,
        }
    }

    /// Upper bounds so a crafted header cannot make us allocate gigabytes or spin.
    fn within_limits(self) -> bool {
        (1..=16).contains(&self.p_cost)
            && (1..=64).contains(&self.t_cost)
            && self.m_cost >= 8 * self.p_cost
            && self.m_cost <= 2 * 1024 * 1024
    }

    fn to_argon2(self) -> Result<argon2::Params, KeystoreError> {
        argon2::Params::new(self.m_cost, self.t_cost, self.p_cost, Some(KEY_LEN)).map_err(|e| {
            KeystoreError::Crypto {
                detail: format!("invalid Argon2id parameters: {e}"),
            }
        })
    }
}

/// How the vault key is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kdf {
    /// Argon2id over the passphrase with the header salt.
    Argon2id(KdfParams),
    /// The random key in `keystore.key`.
    KeyFile,
}

impl Kdf {
    fn name(self) -> &'static str {
        match self {
            Kdf::Argon2id(_) => "argon2id",
            Kdf::KeyFile => "keyfile",
        }
    }
}

/// Everything in the vault except nonce and ciphertext. All of it is authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) kdf: Kdf,
    pub(crate) salt: Vec<u8>,
}

impl Header {
    /// A header for a new vault with a fresh random salt.
    pub(crate) fn new(kdf: Kdf) -> Result<Self, KeystoreError> {
        Ok(Header {
            kdf,
            salt: random_bytes::<SALT_LEN>()?.to_vec(),
        })
    }

    /// Associated data: a canonical rendering of the header, so changing the format,
    /// version, KDF, salt or cost makes decryption fail.
    fn aad(&self) -> Vec<u8> {
        let cost = match self.kdf {
            Kdf::Argon2id(p) => format!("m={},t={},p={}", p.m_cost, p.t_cost, p.p_cost),
            Kdf::KeyFile => "-".to_owned(),
        };
        format!(
            "{FORMAT}\nversion={VERSION}\nkdf={}\nsalt={}\nargon2={cost}\n",
            self.kdf.name(),
            Base64::encode_string(&self.salt)
        )
        .into_bytes()
    }
}

/// A vault as stored: header, nonce, ciphertext (with tag).
#[derive(Debug, Clone)]
pub(crate) struct Sealed {
    pub(crate) header: Header,
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) ciphertext: Vec<u8>,
}

/// The JSON shape of `keystore.vault`.
#[derive(Serialize, Deserialize)]
struct VaultJson {
    format: String,
    version: u32,
    kdf: String,
    salt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    argon2: Option<KdfParams>,
    nonce: String,
    ciphertext: String,
}

/// Only the members needed to reject unknown formats and versions clearly.
#[derive(Deserialize)]
struct VersionProbe {
    format: Option<String>,
    version: Option<u32>,
}

impl Sealed {
    /// Parses the vault file's bytes.
    pub(crate) fn parse(bytes: &[u8], vault: &Path) -> Result<Self, KeystoreError> {
        let corrupt = |detail: String| KeystoreError::CorruptVault {
            vault: vault.to_path_buf(),
            detail,
        };
        // The vault holds only ciphertext and public header fields, so serde's messages
        // cannot leak a secret here.
        let probe: VersionProbe =
            serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not vault JSON: {e}")))?;
        if probe.format.as_deref() != Some(FORMAT) {
            return Err(corrupt(format!("not a {FORMAT} file")));
        }
        match probe.version {
            Some(VERSION) => {}
            Some(version) => {
                return Err(KeystoreError::UnsupportedVersion {
                    vault: vault.to_path_buf(),
                    version,
                });
            }
            None => return Err(corrupt("no version".to_owned())),
        }
        let json: VaultJson =
            serde_json::from_slice(bytes).map_err(|e| corrupt(format!("bad header: {e}")))?;
        let kdf = match (json.kdf.as_str(), json.argon2) {
            ("argon2id", Some(params)) if params.within_limits() => Kdf::Argon2id(params),
            ("argon2id", Some(_)) => return Err(corrupt("Argon2id cost out of range".to_owned())),
            ("argon2id", None) => return Err(corrupt("argon2id without parameters".to_owned())),
            ("keyfile", _) => Kdf::KeyFile,
            _ => return Err(corrupt("unknown kdf".to_owned())),
        };
        let decode = |field: &str, text: &str| {
            Base64::decode_vec(text).map_err(|_| corrupt(format!("{field} is not base64")))
        };
        let salt = decode("salt", &json.salt)?;
        if !(8..=64).contains(&salt.len()) {
            return Err(corrupt("salt length out of range".to_owned()));
        }
        let nonce: [u8; NONCE_LEN] = decode("nonce", &json.nonce)?
            .try_into()
            .map_err(|_| corrupt("nonce is not 12 bytes".to_owned()))?;
        let ciphertext = decode("ciphertext", &json.ciphertext)?;
        if ciphertext.len() < TAG_LEN {
            return Err(corrupt("ciphertext too short".to_owned()));
        }
        Ok(Sealed {
            header: Header { kdf, salt },
            nonce,
            ciphertext,
        })
    }

    /// The vault file's bytes.
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>, KeystoreError> {
        let json = VaultJson {
            format: FORMAT.to_owned(),
            version: VERSION,
            kdf: self.header.kdf.name().to_owned(),
            salt: Base64::encode_string(&self.header.salt),
            argon2: match self.header.kdf {
                Kdf::Argon2id(params) => Some(params),
                Kdf::KeyFile => None,
            },
            nonce: Base64::encode_string(&self.nonce),
            ciphertext: Base64::encode_string(&self.ciphertext),
        };
        let mut bytes = serde_json::to_vec_pretty(&json).map_err(|e| KeystoreError::Crypto {
            detail: format!("cannot encode the vault header: {e}"),
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Encrypts `plaintext` (consumed and overwritten in place) under `key` with a
    /// fresh random nonce.
    pub(crate) fn seal(
        header: Header,
        key: &Key,
        mut plaintext: Zeroizing<Vec<u8>>,
    ) -> Result<Self, KeystoreError> {
        let nonce = random_bytes::<NONCE_LEN>()?;
        let cipher = cipher(key)?;
        cipher
            .encrypt_in_place(Nonce::from_slice(&nonce), &header.aad(), &mut *plaintext)
            .map_err(|_| KeystoreError::Crypto {
                detail: "AES-GCM encryption failed".to_owned(),
            })?;
        // `plaintext` now holds ciphertext + tag; copy it out and let the buffer be wiped.
        Ok(Sealed {
            header,
            nonce,
            ciphertext: plaintext.to_vec(),
        })
    }

    /// Decrypts and authenticates. `None` means the key is wrong or the vault was modified.
    pub(crate) fn open(&self, key: &Key) -> Result<Option<Zeroizing<Vec<u8>>>, KeystoreError> {
        let cipher = cipher(key)?;
        let mut buffer = Zeroizing::new(self.ciphertext.clone());
        match cipher.decrypt_in_place(
            Nonce::from_slice(&self.nonce),
            &self.header.aad(),
            &mut *buffer,
        ) {
            Ok(()) => Ok(Some(buffer)),
            Err(_) => Ok(None),
        }
    }
}

fn cipher(key: &Key) -> Result<Aes256Gcm, KeystoreError> {
    Aes256Gcm::new_from_slice(&key[..]).map_err(|_| KeystoreError::Crypto {
        detail: "bad AES-256 key length".to_owned(),
    })
}

/// Argon2id over `passphrase` with `salt`.
pub(crate) fn derive_key(
    passphrase: &Secret,
    salt: &[u8],
    params: KdfParams,
) -> Result<Key, KeystoreError> {
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params.to_argon2()?,
    );
    let mut key: Key = Zeroizing::new([0u8; KEY_LEN]);
    argon
        .hash_password_into(passphrase.expose_secret().as_bytes(), salt, &mut key[..])
        .map_err(|e| KeystoreError::Crypto {
            detail: format!("Argon2id derivation failed: {e}"),
        })?;
    Ok(key)
}

/// Fresh random bytes from the OS.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], KeystoreError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| KeystoreError::Crypto {
        detail: format!("OS random source failed: {e}"),
    })?;
    Ok(bytes)
}

/// A fresh random 256-bit key.
pub(crate) fn random_key() -> Result<Key, KeystoreError> {
    let mut key: Key = Zeroizing::new([0u8; KEY_LEN]);
    getrandom::fill(&mut key[..]).map_err(|e| KeystoreError::Crypto {
        detail: format!("OS random source failed: {e}"),
    })?;
    Ok(key)
}

/// The decrypted contents of a vault.
pub(crate) type Entries = BTreeMap<String, Secret>;

/// Serialises the entries as a JSON object into a buffer that is wiped on drop. The
/// buffer is sized up front (worst-case JSON escaping plus the GCM tag) so neither
/// serialisation nor in-place encryption reallocates and leaves copies behind.
pub(crate) fn encode_entries(entries: &Entries) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
    let worst_case: usize = entries
        .iter()
        .map(|(k, v)| 6 * (k.len() + v.expose_secret().len()) + 6)
        .sum::<usize>()
        + 2
        + TAG_LEN;
    let mut buffer = Zeroizing::new(Vec::with_capacity(worst_case));
    let view: BTreeMap<&str, &str> = entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose_secret()))
        .collect();
    serde_json::to_writer(&mut *buffer, &view).map_err(|e| KeystoreError::Crypto {
        // Writing into a Vec only fails on a serializer bug; the message has no data.
        detail: format!("cannot encode the vault contents: {}", e.classify_name()),
    })?;
    Ok(buffer)
}

/// Parses decrypted vault contents. The error keeps only a position, never data.
pub(crate) fn decode_entries(plaintext: &[u8], vault: &Path) -> Result<Entries, KeystoreError> {
    let map: BTreeMap<String, String> =
        serde_json::from_slice(plaintext).map_err(|e| KeystoreError::CorruptVault {
            vault: vault.to_path_buf(),
            detail: format!(
                "decrypted contents are not a JSON object of strings (line {}, column {})",
                e.line(),
                e.column()
            ),
        })?;
    Ok(map.into_iter().map(|(k, v)| (k, Secret::new(v))).collect())
}

/// Names serde_json's error categories without their (possibly data-bearing) message.
trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "data error",
            serde_json::error::Category::Eof => "unexpected end",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_params() -> KdfParams {
        KdfParams {
            m_cost: 64,
            t_cost: 1,
            p_cost: 1,
        }
    }

    fn entries(pairs: &[(&str, &str)]) -> Entries {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Secret::new(*v)))
            .collect()
    }

    #[test]
    fn seal_open_round_trip_with_keyfile_key() {
        let key = random_key().unwrap();
        let header = Header::new(Kdf::KeyFile).unwrap();
        let data = entries(&[("obs.password", "p\"w\n\u{1}é")]);
        let sealed = Sealed::seal(header, &key, encode_entries(&data).unwrap()).unwrap();
        let bytes = sealed.to_bytes().unwrap();
        let parsed = Sealed::parse(&bytes, Path::new("v")).unwrap();
        assert_eq!(parsed.header, sealed.header);
        let plain = parsed.open(&key).unwrap().unwrap();
        assert_eq!(decode_entries(&plain, Path::new("v")).unwrap(), data);
    }

    #[test]
    fn encode_does_not_reallocate_for_hostile_values() {
        let data = entries(&[("k", &"\u{1}".repeat(100))]);
        let buf = encode_entries(&data).unwrap();
        // Worst case was reserved up front, including room for the tag.
        assert!(buf.capacity() >= buf.len() + TAG_LEN);
    }

    #[test]
    fn header_is_authenticated() {
        let passphrase = Secret::new("pw");
        let header = Header::new(Kdf::Argon2id(test_params())).unwrap();
        let key = derive_key(&passphrase, &header.salt, test_params()).unwrap();
        let sealed = Sealed::seal(header, &key, encode_entries(&entries(&[])).unwrap()).unwrap();
        assert!(sealed.open(&key).unwrap().is_some());

        // Same key, header claims different cost: must not authenticate.
        let mut tampered = sealed.clone();
        tampered.header.kdf = Kdf::Argon2id(KdfParams {
            t_cost: 2,
            ..test_params()
        });
        assert!(tampered.open(&key).unwrap().is_none());

        // Same key, header claims a different KDF.
        let mut tampered = sealed.clone();
        tampered.header.kdf = Kdf::KeyFile;
        assert!(tampered.open(&key).unwrap().is_none());

        // Flipped ciphertext bit.
        let mut tampered = sealed;
        tampered.ciphertext[0] ^= 1;
        assert!(tampered.open(&key).unwrap().is_none());
    }

    #[test]
    fn derivation_is_deterministic_and_salted() {
        let pw = Secret::new("correct horse");
        let a = derive_key(&pw, &[1; 16], test_params()).unwrap();
        let b = derive_key(&pw, &[1; 16], test_params()).unwrap();
        let c = derive_key(&pw, &[2; 16], test_params()).unwrap();
        assert_eq!(*a, *b);
        assert_ne!(*a, *c);
    }

    #[test]
    fn parse_rejects_bad_headers() {
        let v = Path::new("keystore.vault");
        let cases: &[(&str, &str)] = &[
            ("not json", "not vault JSON"),
            (r#"{"format":"other","version":1}"#, "not a roadie-vault"),
            (r#"{"format":"roadie-vault"}"#, "no version"),
            (
                r#"{"format":"roadie-vault","version":1,"kdf":"rot13","salt":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"AAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}"#,
                "unknown kdf",
            ),
            (
                r#"{"format":"roadie-vault","version":1,"kdf":"argon2id","argon2":{"m_cost":4294967295,"t_cost":1,"p_cost":1},"salt":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"AAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}"#,
                "out of range",
            ),
            (
                r#"{"format":"roadie-vault","version":1,"kdf":"keyfile","salt":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"AAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}"#,
                "nonce is not 12 bytes",
            ),
        ];
        for (text, expected) in cases {
            let err = Sealed::parse(text.as_bytes(), v).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
        let err = Sealed::parse(br#"{"format":"roadie-vault","version":7}"#, v).unwrap_err();
        assert!(matches!(
            err,
            KeystoreError::UnsupportedVersion { version: 7, .. }
        ));
    }

    #[test]
    fn decode_error_does_not_echo_contents() {
        let err = decode_entries(br#"{"k": 12345678}"#, Path::new("v")).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("12345678"), "{text}");
    }
}
