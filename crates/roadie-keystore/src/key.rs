//! Key-name rules shared by every backend, and the namespace check for the OS store.

use crate::KeystoreError;

/// Longest key accepted, in characters.
pub const MAX_KEY_LEN: usize = 128;

/// Checks a key name such as `obs.password`, `kick.client_secret` or
/// `oauth.twitch.12345`: 1..=128 characters of `[a-z0-9._-]`, starting with `[a-z0-9]`.
///
/// The error never repeats the key (a caller might have passed a secret by mistake).
pub fn validate_key(key: &str) -> Result<(), KeystoreError> {
    let len = key.chars().count();
    let fail = |reason| Err(KeystoreError::InvalidKey { len, reason });
    let Some(first) = key.bytes().next() else {
        return fail("key is empty");
    };
    if len > MAX_KEY_LEN {
        return fail("key is longer than 128 characters");
    }
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return fail("key must start with a lowercase letter or a digit");
    }
    let allowed =
        |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-');
    if !key.bytes().all(allowed) {
        return fail("key contains a character outside [a-z0-9._-]");
    }
    Ok(())
}

/// Checks the OS keychain service name: 1..=128 characters, no control characters.
pub(crate) fn validate_namespace(namespace: &str) -> Result<(), KeystoreError> {
    if namespace.is_empty() {
        return Err(KeystoreError::InvalidNamespace {
            reason: "namespace is empty",
        });
    }
    if namespace.chars().count() > MAX_KEY_LEN {
        return Err(KeystoreError::InvalidNamespace {
            reason: "namespace is longer than 128 characters",
        });
    }
    if namespace.chars().any(char::is_control) {
        return Err(KeystoreError::InvalidNamespace {
            reason: "namespace contains a control character",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_rules() {
        assert!(validate_namespace("roadie").is_ok());
        assert!(validate_namespace("roadie-test-12-34").is_ok());
        assert!(validate_namespace("").is_err());
        assert!(validate_namespace("a\nb").is_err());
        assert!(validate_namespace(&"n".repeat(129)).is_err());
    }

    #[test]
    fn invalid_key_error_does_not_repeat_the_key() {
        let err = validate_key("Hunter2-Secret").unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("Hunter2"), "{text}");
        assert!(text.contains("14 characters"), "{text}");
    }
}
