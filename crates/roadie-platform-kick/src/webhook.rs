//! Kick's signed webhooks, for streamers who expose the daemon through a tunnel.
//!
//! A delivery is accepted only when:
//! - its signature verifies: RSASSA-PKCS1-v1_5 with SHA-256 over the bytes
//!   `"{Kick-Event-Message-Id}.{Kick-Event-Message-Timestamp}.{raw body}"`, against
//!   Kick's public key (fetched from `GET {api_url}/public-key` and cached, or injected);
//! - its timestamp is within five minutes of now (either way), so an old capture cannot
//!   be replayed later;
//! - its message id was not accepted before (Kick's idempotency key), within a bounded
//!   window.
//!
//! The body is then normalised like the Pusher feed's events and goes through the same
//! de-duplication window, so an event heard on both routes is emitted once (the keys
//! are described in [`crate::normalise`]: chat by message id, which both routes share;
//! the rest by derived keys within two minutes, or the redemption id).

use std::time::{Duration, SystemTime};

use base64ct::{Base64, Encoding};
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::sha2::Sha256;
use rsa::signature::Verifier;

use crate::normalise::{Normalised, parse_time, unix_ms, webhook_event};
use roadie_platform::DedupWindow;

/// How far a delivery's timestamp may be from now, either way.
pub const TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(300);

/// The `Kick-Event-*` headers of one delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookHeaders {
    /// `Kick-Event-Message-Id` (a ULID; the idempotency key).
    pub message_id: String,
    /// `Kick-Event-Subscription-Id`.
    pub subscription_id: String,
    /// `Kick-Event-Signature` (base64).
    pub signature: String,
    /// `Kick-Event-Message-Timestamp` (RFC 3339).
    pub timestamp: String,
    /// `Kick-Event-Type` (`chat.message.sent`...).
    pub event_type: String,
    /// `Kick-Event-Version` (`1`).
    pub event_version: String,
}

impl WebhookHeaders {
    /// The header names, lower-cased as HTTP/2 and most frameworks give them.
    pub const MESSAGE_ID: &'static str = "kick-event-message-id";
    /// `Kick-Event-Subscription-Id`.
    pub const SUBSCRIPTION_ID: &'static str = "kick-event-subscription-id";
    /// `Kick-Event-Signature`.
    pub const SIGNATURE: &'static str = "kick-event-signature";
    /// `Kick-Event-Message-Timestamp`.
    pub const TIMESTAMP: &'static str = "kick-event-message-timestamp";
    /// `Kick-Event-Type`.
    pub const EVENT_TYPE: &'static str = "kick-event-type";
    /// `Kick-Event-Version`.
    pub const EVENT_VERSION: &'static str = "kick-event-version";

    /// Reads the headers through `lookup` (given a lower-case name; absent headers
    /// read as empty).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> WebhookHeaders {
        let get = |name: &str| lookup(name).unwrap_or_default().trim().to_owned();
        WebhookHeaders {
            message_id: get(Self::MESSAGE_ID),
            subscription_id: get(Self::SUBSCRIPTION_ID),
            signature: get(Self::SIGNATURE),
            timestamp: get(Self::TIMESTAMP),
            event_type: get(Self::EVENT_TYPE),
            event_version: get(Self::EVENT_VERSION),
        }
    }
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// A required `Kick-Event-*` header is absent or empty.
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// The signature does not verify (or is not base64).
    #[error("the webhook signature does not verify")]
    BadSignature,
    /// The timestamp is not RFC 3339.
    #[error("the webhook timestamp {0:?} is not an RFC 3339 time")]
    BadTimestamp(String),
    /// The timestamp is more than five minutes from now.
    #[error("the webhook timestamp {timestamp} is {off_by_s} s from now (at most 300 s allowed)")]
    Stale {
        /// The delivery's timestamp.
        timestamp: String,
        /// How far from now, in seconds.
        off_by_s: u64,
    },
    /// This message id was accepted before.
    #[error("the webhook message {0} was already received")]
    Replayed(String),
    /// The body is not JSON, or lacks what its event type needs.
    #[error("the webhook body cannot be read: {0}")]
    Malformed(String),
    /// Kick's public key is not available (fetch failed, or not a PEM RSA key).
    #[error("Kick's webhook public key is not available: {0}")]
    PublicKey(String),
    /// The adapter is not running, so there is no one to hand events to.
    #[error("the Kick adapter is not running")]
    NotRunning,
}

/// Reads Kick's public key (PEM, `-----BEGIN PUBLIC KEY-----`).
pub fn parse_public_key(pem: &str) -> Result<RsaPublicKey, WebhookError> {
    RsaPublicKey::from_public_key_pem(pem.trim())
        .map_err(|error| WebhookError::PublicKey(format!("not a PEM RSA public key: {error}")))
}

/// The signed bytes: `{message_id}.{timestamp}.{raw body}`.
pub fn signed_bytes(message_id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut signed = Vec::with_capacity(message_id.len() + timestamp.len() + body.len() + 2);
    signed.extend_from_slice(message_id.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(body);
    signed
}

/// Checks the signature of a delivery (nothing else).
pub fn verify_signature(
    key: &RsaPublicKey,
    headers: &WebhookHeaders,
    body: &[u8],
) -> Result<(), WebhookError> {
    require_headers(headers)?;
    let raw =
        Base64::decode_vec(headers.signature.trim()).map_err(|_| WebhookError::BadSignature)?;
    let signature = Signature::try_from(raw.as_slice()).map_err(|_| WebhookError::BadSignature)?;
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(
            &signed_bytes(&headers.message_id, &headers.timestamp, body),
            &signature,
        )
        .map_err(|_| WebhookError::BadSignature)
}

fn require_headers(headers: &WebhookHeaders) -> Result<(), WebhookError> {
    for (value, name) in [
        (&headers.message_id, "Kick-Event-Message-Id"),
        (&headers.timestamp, "Kick-Event-Message-Timestamp"),
        (&headers.signature, "Kick-Event-Signature"),
        (&headers.event_type, "Kick-Event-Type"),
    ] {
        if value.trim().is_empty() {
            return Err(WebhookError::MissingHeader(name));
        }
    }
    Ok(())
}

/// Checks that `timestamp` is within `tolerance` of `now`, either way.
pub fn check_timestamp(
    timestamp: &str,
    now: SystemTime,
    tolerance: Duration,
) -> Result<(), WebhookError> {
    let at = parse_time(timestamp.trim())
        .ok_or_else(|| WebhookError::BadTimestamp(timestamp.to_owned()))?;
    let off_by_ms = unix_ms(now).abs_diff(at.unix_ms());
    if u128::from(off_by_ms) > tolerance.as_millis() {
        return Err(WebhookError::Stale {
            timestamp: timestamp.to_owned(),
            off_by_s: off_by_ms / 1000,
        });
    }
    Ok(())
}

/// Reads a verified body of type `event_type` into normalised events.
pub fn parse_body(event_type: &str, body: &[u8]) -> Result<Vec<Normalised>, WebhookError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| WebhookError::Malformed("the body is not JSON".into()))?;
    webhook_event(event_type, &value).map_err(|error| WebhookError::Malformed(error.to_string()))
}

/// The checks that need memory: the replay window.
#[derive(Debug)]
pub struct WebhookGuard {
    accepted: DedupWindow,
    tolerance: Duration,
}

impl WebhookGuard {
    /// Remembers the last `capacity` message ids; timestamps may be `tolerance` off.
    pub fn new(capacity: usize, tolerance: Duration) -> WebhookGuard {
        WebhookGuard {
            accepted: DedupWindow::new(capacity),
            tolerance,
        }
    }

    /// Verifies a delivery: headers, timestamp, signature, then the replay window (a
    /// message id is remembered only once everything else passed, so a forgery cannot
    /// block the real delivery).
    pub fn check(
        &mut self,
        key: &RsaPublicKey,
        headers: &WebhookHeaders,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), WebhookError> {
        require_headers(headers)?;
        check_timestamp(&headers.timestamp, now, self.tolerance)?;
        verify_signature(key, headers, body)?;
        if !self.accepted.first_seen(headers.message_id.trim()) {
            return Err(WebhookError::Replayed(headers.message_id.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn headers_are_read_by_their_lower_case_names() {
        let headers = WebhookHeaders::from_lookup(|name| match name {
            "kick-event-message-id" => Some(" 01J ".into()),
            "kick-event-type" => Some("channel.followed".into()),
            _ => None,
        });
        assert_eq!(headers.message_id, "01J");
        assert_eq!(headers.event_type, "channel.followed");
        assert_eq!(headers.signature, "");
    }

    #[test]
    fn timestamps_are_checked_both_ways() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_743_494_179);
        let stamp = "2025-04-01T07:56:19Z";
        assert!(check_timestamp(stamp, at, TIMESTAMP_TOLERANCE).is_ok());
        assert!(check_timestamp(stamp, at + Duration::from_secs(300), TIMESTAMP_TOLERANCE).is_ok());
        assert!(matches!(
            check_timestamp(stamp, at + Duration::from_secs(301), TIMESTAMP_TOLERANCE),
            Err(WebhookError::Stale { off_by_s: 301, .. })
        ));
        assert!(matches!(
            check_timestamp(stamp, at - Duration::from_secs(301), TIMESTAMP_TOLERANCE),
            Err(WebhookError::Stale { .. })
        ));
        assert!(matches!(
            check_timestamp("yesterday", at, TIMESTAMP_TOLERANCE),
            Err(WebhookError::BadTimestamp(_))
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            for kind in ["chat.message.sent", "channel.followed", "channel.subscription.gifts",
                         "channel.reward.redemption.updated", "livestream.status.updated",
                         "livestream.metadata.updated", "moderation.banned", "kicks.gifted",
                         "channel.subscription.new", "unknown"] {
                let _ = parse_body(kind, &body);
            }
        }

        #[test]
        fn arbitrary_headers_never_panic(id in ".{0,40}", stamp in ".{0,40}", signature in ".{0,80}", body in proptest::collection::vec(any::<u8>(), 0..100)) {
            let key = parse_public_key(include_str!("../tests/data/kick_webhook_public_key.pem")).unwrap();
            let headers = WebhookHeaders { message_id: id, timestamp: stamp, signature, event_type: "x".into(), ..WebhookHeaders::default() };
            let mut guard = WebhookGuard::new(8, TIMESTAMP_TOLERANCE);
            let _ = guard.check(&key, &headers, &body, SystemTime::now());
            let _ = verify_signature(&key, &headers, &body);
        }
    }
}
