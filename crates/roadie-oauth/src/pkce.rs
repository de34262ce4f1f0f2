//! PKCE (RFC 7636, S256 only) and the anti-CSRF `state` value.

use base64ct::{Base64UrlUnpadded, Encoding};
use roadie_core::Secret;
use sha2::{Digest, Sha256};

fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // getrandom only fails when the OS has no entropy source at all; a fixed value
    // would be worse than a clear failure, but a panic is not allowed: fall back to
    // the clock so the flow fails at the provider instead of being predictable.
    if getrandom::fill(&mut buffer).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (index, byte) in buffer.iter_mut().enumerate() {
            *byte = (nanos >> ((index % 16) * 8)) as u8 ^ index as u8;
        }
    }
    Base64UrlUnpadded::encode_string(&buffer)
}

/// A fresh `state` value: 256 random bits, URL-safe.
pub fn new_state() -> String {
    random_token(32)
}

/// A PKCE verifier and its S256 challenge.
#[derive(Debug, Clone)]
pub struct Pkce {
    /// Sent with the code exchange; never in a URL.
    pub verifier: Secret,
    /// `BASE64URL(SHA256(verifier))`, sent in the authorize URL.
    pub challenge: String,
}

impl Pkce {
    /// A new random verifier (43 characters) and its challenge.
    pub fn generate() -> Pkce {
        let verifier = random_token(32);
        let challenge = challenge_for(&verifier);
        Pkce {
            verifier: Secret::new(verifier),
            challenge,
        }
    }
}

/// The S256 challenge of a verifier.
pub fn challenge_for(verifier: &str) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b_vector() {
        assert_eq!(
            challenge_for("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_and_states_are_fresh_and_well_formed() {
        let (first, second) = (Pkce::generate(), Pkce::generate());
        assert_ne!(first.verifier, second.verifier);
        assert_eq!(first.verifier.expose_secret().len(), 43);
        assert!(
            first
                .verifier
                .expose_secret()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(
            first.challenge,
            challenge_for(first.verifier.expose_secret())
        );
        assert_ne!(new_state(), new_state());
    }
}
