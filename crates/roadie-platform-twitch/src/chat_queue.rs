//! The outbound chat queue: messages over 500 characters are split at word
//! boundaries (or refused with a reason), and sending holds Twitch's limits: 20
//! messages per 30 s, 100 when the sender is the broadcaster or a moderator.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::eventsub::session::BoxFuture;
use crate::helix::{HelixError, SentMessage};

/// Twitch's longest chat message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;
/// Twitch's window for chat limits.
pub const LIMIT_WINDOW: Duration = Duration::from_secs(30);
/// Messages per window for an ordinary sender.
pub const LIMIT_REGULAR: usize = 20;
/// Messages per window when the sender is the broadcaster or a moderator.
pub const LIMIT_PRIVILEGED: usize = 100;

/// Splits `text` into messages of at most `max_chars` characters at spaces.
/// A single word longer than that is refused with the reason.
pub fn split_message(text: &str, max_chars: usize) -> Result<Vec<String>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the message is empty".into());
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_chars = 0usize;
    for word in text.split_whitespace() {
        let word_chars = word.chars().count();
        if word_chars > max_chars {
            return Err(format!(
                "a word of {word_chars} characters cannot fit in a chat message (at most {max_chars})"
            ));
        }
        let needed = if current.is_empty() {
            word_chars
        } else {
            current_chars + 1 + word_chars
        };
        if needed > max_chars {
            parts.push(std::mem::take(&mut current));
            current_chars = 0;
        }
        if !current.is_empty() {
            current.push(' ');
            current_chars += 1;
        }
        current.push_str(word);
        current_chars += word_chars;
    }
    if !current.is_empty() {
        parts.push(current);
    }
    Ok(parts)
}

/// A sliding window of send times.
#[derive(Debug)]
pub struct RateWindow {
    limit: usize,
    window: Duration,
    sent: VecDeque<Instant>,
}

impl RateWindow {
    /// At most `limit` sends per `window`.
    pub fn new(limit: usize, window: Duration) -> RateWindow {
        RateWindow {
            limit: limit.max(1),
            window,
            sent: VecDeque::new(),
        }
    }

    /// How long to wait from `now` until one more send is allowed.
    pub fn wait_time(&mut self, now: Instant) -> Duration {
        while self
            .sent
            .front()
            .is_some_and(|oldest| now.duration_since(*oldest) >= self.window)
        {
            self.sent.pop_front();
        }
        if self.sent.len() < self.limit {
            return Duration::ZERO;
        }
        self.sent
            .front()
            .map(|oldest| self.window.saturating_sub(now.duration_since(*oldest)))
            .unwrap_or_default()
    }

    /// Records a send at `now`.
    pub fn record(&mut self, now: Instant) {
        self.sent.push_back(now);
    }
}

/// Sends one chat message (Helix in production).
pub trait ChatSender: Send + Sync {
    /// Sends `text`.
    fn send(&self, text: &str) -> BoxFuture<'_, Result<SentMessage, HelixError>>;
}

type Job = (String, oneshot::Sender<Result<SentMessage, HelixError>>);

/// Queues chat messages and sends them within the rate limit.
#[derive(Debug, Clone)]
pub struct OutboundQueue {
    jobs: mpsc::Sender<Job>,
}

/// Why a message was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// The text cannot be sent as chat.
    #[error("{0}")]
    Refused(String),
    /// Too many messages are waiting already.
    #[error("the chat queue is full ({0} messages waiting); try again shortly")]
    Full(usize),
    /// The sender stopped.
    #[error("the chat sender has stopped")]
    Stopped,
    /// Twitch refused or dropped a part.
    #[error("{0}")]
    Twitch(HelixError),
}

impl OutboundQueue {
    /// Starts the sending task; `limit` is [`LIMIT_REGULAR`] or [`LIMIT_PRIVILEGED`].
    pub fn start(
        sender: Arc<dyn ChatSender>,
        limit: usize,
        capacity: usize,
    ) -> (OutboundQueue, tokio::task::JoinHandle<()>) {
        let (jobs, mut inbox) = mpsc::channel::<Job>(capacity.max(1));
        let task = tokio::spawn(async move {
            let mut window = RateWindow::new(limit, LIMIT_WINDOW);
            while let Some((text, reply)) = inbox.recv().await {
                let wait = window.wait_time(Instant::now());
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                window.record(Instant::now());
                let _ = reply.send(sender.send(&text).await);
            }
        });
        (OutboundQueue { jobs }, task)
    }

    /// Splits and queues `text`, then waits until every part is sent.
    pub async fn send(&self, text: &str) -> Result<Vec<SentMessage>, QueueError> {
        let parts = split_message(text, MAX_MESSAGE_CHARS).map_err(QueueError::Refused)?;
        let mut answers = Vec::with_capacity(parts.len());
        for part in parts {
            let (reply, answer) = oneshot::channel();
            self.jobs
                .try_send((part, reply))
                .map_err(|error| match error {
                    mpsc::error::TrySendError::Full(_) => {
                        QueueError::Full(self.jobs.max_capacity())
                    }
                    mpsc::error::TrySendError::Closed(_) => QueueError::Stopped,
                })?;
            answers.push(answer);
        }
        let mut sent = Vec::with_capacity(answers.len());
        for answer in answers {
            sent.push(
                answer
                    .await
                    .map_err(|_| QueueError::Stopped)?
                    .map_err(QueueError::Twitch)?,
            );
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splitting() {
        assert_eq!(
            split_message("hello world", 500).unwrap(),
            vec!["hello world"]
        );
        assert_eq!(
            split_message("aaa bbb ccc", 7).unwrap(),
            vec!["aaa bbb", "ccc"]
        );
        assert!(split_message("   ", 10).is_err());
        let error = split_message(&"x".repeat(501), 500).unwrap_err();
        assert!(error.contains("501"), "{error}");
        // Characters, not bytes: 500 emoji fit.
        assert_eq!(split_message(&"é".repeat(500), 500).unwrap().len(), 1);
    }

    proptest! {
        #[test]
        fn parts_fit_and_keep_every_word(words in proptest::collection::vec("[a-zé]{1,12}", 1..200), max in 12usize..60) {
            let text = words.join(" ");
            let parts = split_message(&text, max).unwrap();
            prop_assert!(parts.iter().all(|part| part.chars().count() <= max && !part.is_empty()));
            prop_assert_eq!(parts.join(" "), text);
        }
    }

    #[test]
    fn the_window_slides() {
        let start = Instant::now();
        let mut window = RateWindow::new(2, Duration::from_secs(30));
        assert_eq!(window.wait_time(start), Duration::ZERO);
        window.record(start);
        window.record(start + Duration::from_secs(10));
        assert_eq!(
            window.wait_time(start + Duration::from_secs(10)),
            Duration::from_secs(20)
        );
        assert_eq!(
            window.wait_time(start + Duration::from_secs(30)),
            Duration::ZERO
        );
    }
}
