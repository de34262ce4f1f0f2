//! What a YouTube call can end in. None of these carries token material: messages
//! come from Google's error bodies or from transport errors stripped of their URL.

/// A failed YouTube (Data API or Google OAuth) call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YoutubeError {
    /// YouTube could not be reached, or the connection broke mid-answer.
    #[error("cannot reach YouTube: {0}")]
    Transport(String),
    /// YouTube answered with a server error (5xx); trying later may work.
    #[error("YouTube is unavailable (HTTP {status}): {message}")]
    Unavailable {
        /// HTTP status.
        status: u16,
        /// Google's message, if any.
        message: String,
    },
    /// The token is refused and a refresh did not help: sign in again.
    #[error("YouTube needs a new sign-in: {0}")]
    AuthRequired(String),
    /// `quotaExceeded`: the project's daily quota is spent until midnight Pacific.
    #[error("the YouTube API quota is spent: {0}")]
    QuotaExceeded(String),
    /// `rateLimitExceeded`: too many requests in a short time; back off.
    #[error("YouTube rate limit: {0}")]
    RateLimited(String),
    /// `liveChatEnded`: the broadcast's chat is over.
    #[error("the live chat has ended")]
    ChatEnded,
    /// `liveChatDisabled`: the broadcast has no chat.
    #[error("live chat is disabled for this broadcast")]
    ChatDisabled,
    /// `liveChatNotFound`: the chat id is unknown (the broadcast is gone).
    #[error("the live chat was not found")]
    ChatNotFound,
    /// Any other refusal, with Google's reason and message.
    #[error("YouTube refused (HTTP {status}, {reason}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The first `errors[].reason`, or `unknown`.
        reason: String,
        /// Google's message.
        message: String,
    },
    /// The answer is not what the API documents.
    #[error("unexpected answer from YouTube: {0}")]
    Malformed(String),
    /// The signed-in Google account has no YouTube channel.
    #[error("this Google account has no YouTube channel; create one at youtube.com first")]
    NoChannel,
    /// A Google OAuth exchange failed.
    #[error("{0}")]
    OAuth(#[from] roadie_oauth::OAuthError),
}
