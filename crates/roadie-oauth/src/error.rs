//! OAuth errors. None of them carries token material.

/// What can go wrong in an OAuth exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The provider could not be reached or answered garbage.
    #[error("cannot reach the sign-in service: {0}")]
    Transport(String),
    /// The provider refused, with its error code (`invalid_grant`,
    /// `authorization_pending`, Twitch's `message`...).
    #[error("the sign-in service refused ({status}): {code}")]
    Provider {
        /// HTTP status.
        status: u16,
        /// The error code or message.
        code: String,
    },
    /// The answer lacked something OAuth requires.
    #[error("the sign-in service's answer is not usable: {0}")]
    Malformed(String),
    /// The browser came back without a `state`, or with a different one: possibly a
    /// forged request, so the code is not used.
    #[error("the sign-in answer's state does not match this sign-in ({0}); nothing was stored")]
    StateMismatch(String),
    /// The user declined.
    #[error("sign-in was declined: {0}")]
    Denied(String),
    /// The device code or the wait for the browser expired.
    #[error("sign-in timed out: {0}")]
    Expired(String),
    /// The local callback server could not start.
    #[error("cannot open the local sign-in page: {0}")]
    Callback(String),
}
