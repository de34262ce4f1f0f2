//! Errors of Kick's HTTP endpoints (sign-in helpers and the public API). None of them
//! carries token material: bodies are read for Kick's `message` only.

/// What can go wrong talking to Kick over HTTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KickError {
    /// Kick could not be reached (network, timeout, TLS).
    #[error("cannot reach Kick: {0}")]
    Transport(String),
    /// The token is refused and could not be refreshed: `roadie auth login kick`.
    #[error("Kick needs a new sign-in: {0}")]
    AuthRequired(String),
    /// Kick answered with an error status, and its `message` when it gave one.
    #[error("Kick answered HTTP {status}: {message}")]
    Http {
        /// The HTTP status.
        status: u16,
        /// Kick's `message`, or the status text.
        message: String,
    },
    /// The answer lacked what Roadie needs from it.
    #[error("Kick's answer is not usable: {0}")]
    Malformed(String),
    /// Kick accepted the request but did not do it (a redemption it would not finish,
    /// an unknown channel...), with its reason.
    #[error("Kick refused: {0}")]
    Refused(String),
}
