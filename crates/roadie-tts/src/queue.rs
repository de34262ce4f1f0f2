//! The TTS queue as a pure state machine: filters and limits on the way in, one item
//! playing at a time, skip, pause, resume and clear.
//!
//! No I/O, no clock: "now" is each request's `requested_at`, and every transition
//! returns the [`TtsEvent`]s to emit as data. The daemon drives it: after `enqueue`,
//! `finished`, `skip`, `resume` or `clear` it calls [`TtsQueue::next`], synthesises
//! and plays what `Started` names, then reports [`TtsQueue::finished`]. A `finished`
//! for an item that is no longer current (it was skipped meanwhile) changes nothing.

use crate::filter::{self, BannedWords};
use roadie_core::{Platform, Timestamp};
use std::collections::{HashMap, VecDeque};
use std::fmt;

/// A queue item's id, unique within one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(pub u64);

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Who asked for speech.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Speaker {
    /// Where they are (`Roadie` for the streamer through the CLI or an action).
    pub platform: Platform,
    /// The platform's stable user id (the rate limit counts by it).
    pub id: String,
    /// The login (per-user voices are configured by it).
    pub login: String,
}

/// A request to speak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Who asks.
    pub user: Speaker,
    /// The raw text.
    pub text: String,
    /// An explicit voice; wins over per-user and default voices.
    pub voice: Option<String>,
    /// When it was asked: the queue's only notion of time.
    pub requested_at: Timestamp,
}

/// An accepted request: filtered text, resolved voice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its id.
    pub id: ItemId,
    /// Who asked.
    pub user: Speaker,
    /// The text after filtering.
    pub text: String,
    /// The voice to use (`None`: the engine's default).
    pub voice: Option<String>,
    /// When it was asked.
    pub requested_at: Timestamp,
}

/// What to do with text over the length limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OverLength {
    /// Cut it at the limit.
    #[default]
    Truncate,
    /// Refuse it.
    Refuse,
}

/// What to do with a banned word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BannedAction {
    /// Refuse the whole message.
    #[default]
    Refuse,
    /// Replace the word with [`QueueConfig::mask_with`].
    Mask,
}

/// At most `max` accepted requests per user within `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window (0 refuses everything).
    pub max: u32,
    /// The sliding window, in milliseconds.
    pub window_ms: u64,
}

/// The queue's policy. Limits of 0 mean "no limit".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// Longest text in characters, after tidying whitespace (0: no limit). Default 300.
    pub max_chars: usize,
    /// Truncate or refuse longer text. Default truncate.
    pub over_length: OverLength,
    /// Remove links. Default true.
    pub remove_links: bool,
    /// Longest run of one character kept (0: off). Default 3.
    pub max_repeat: usize,
    /// Banned words or phrases: whole words, case-insensitive.
    pub banned_words: Vec<String>,
    /// Refuse or mask banned words. Default refuse.
    pub banned_action: BannedAction,
    /// What a masked word becomes. Default `bleep`.
    pub mask_with: String,
    /// Per-user rate limit (the streamer, platform `Roadie`, is exempt). Default 3
    /// per minute.
    pub rate_limit: Option<RateLimit>,
    /// Items waiting, not counting the one playing (0: no limit). Default 50.
    pub max_pending: usize,
    /// The voice when neither the request nor the user's entry names one.
    pub default_voice: Option<String>,
    /// Per-user voices by platform and login (case-insensitive).
    pub user_voices: HashMap<(Platform, String), String>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            max_chars: 300,
            over_length: OverLength::Truncate,
            remove_links: true,
            max_repeat: 3,
            banned_words: Vec::new(),
            banned_action: BannedAction::Refuse,
            mask_with: "bleep".to_owned(),
            rate_limit: Some(RateLimit {
                max: 3,
                window_ms: 60_000,
            }),
            max_pending: 50,
            default_voice: None,
            user_voices: HashMap::new(),
        }
    }
}

/// What a filter changed in an accepted text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterChange {
    /// Cut from `from` to `to` characters.
    Truncated {
        /// Characters before.
        from: usize,
        /// Characters after.
        to: usize,
    },
    /// Links removed.
    LinksRemoved {
        /// How many.
        count: usize,
    },
    /// Runs of one character shortened.
    RunsCollapsed {
        /// How many runs.
        count: usize,
    },
    /// Banned words masked.
    WordsMasked {
        /// How many.
        count: usize,
    },
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Over the length limit (with [`OverLength::Refuse`]).
    TooLong {
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// It holds a banned word (with [`BannedAction::Refuse`]).
    BannedWord,
    /// Nothing left to say after filtering.
    Empty,
    /// The user is over the rate limit.
    RateLimited {
        /// When another request would be accepted, in milliseconds from now.
        retry_after_ms: u64,
    },
    /// Too many items are waiting.
    QueueFull {
        /// The limit.
        max: usize,
    },
}

impl Refusal {
    /// A short machine-readable name (`too_long`, `banned_word`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            Refusal::TooLong { .. } => "too_long",
            Refusal::BannedWord => "banned_word",
            Refusal::Empty => "empty",
            Refusal::RateLimited { .. } => "rate_limited",
            Refusal::QueueFull { .. } => "queue_full",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::TooLong { chars, max } => {
                write!(f, "the text is {chars} characters, over the limit of {max}")
            }
            Refusal::BannedWord => f.write_str("the text contains a banned word"),
            Refusal::Empty => f.write_str("nothing left to say after filtering"),
            Refusal::RateLimited { retry_after_ms } => write!(
                f,
                "too many requests; try again in {} s",
                retry_after_ms.div_ceil(1000)
            ),
            Refusal::QueueFull { max } => write!(f, "the queue is full ({max} waiting)"),
        }
    }
}

/// Why an item was dropped before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// `skip`: the playing item was skipped.
    Requested,
    /// `remove`: that item was taken out of the queue.
    Removed,
    /// `clear`: everything was dropped.
    Cleared,
}

impl SkipReason {
    /// `requested`, `removed` or `cleared`.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Requested => "requested",
            SkipReason::Removed => "removed",
            SkipReason::Cleared => "cleared",
        }
    }
}

/// What happened, for the daemon to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TtsEvent {
    /// Accepted and waiting.
    Queued {
        /// Its id.
        id: ItemId,
        /// Who asked.
        user: Speaker,
        /// The filtered text.
        text: String,
        /// The resolved voice.
        voice: Option<String>,
        /// Items ahead of it, the playing one included.
        ahead: usize,
        /// What the filters changed.
        changes: Vec<FilterChange>,
    },
    /// Now playing: synthesise and play this.
    Started {
        /// Its id.
        id: ItemId,
        /// Who asked.
        user: Speaker,
        /// The text to speak.
        text: String,
        /// The voice to use.
        voice: Option<String>,
    },
    /// Playback ended.
    Finished {
        /// Its id.
        id: ItemId,
        /// Whether it was actually heard (false when synthesis or playback failed).
        heard: bool,
    },
    /// Dropped before finishing.
    Skipped {
        /// Its id.
        id: ItemId,
        /// Why.
        reason: SkipReason,
    },
    /// Not accepted.
    Refused {
        /// Who asked.
        user: Speaker,
        /// Why.
        reason: Refusal,
    },
    /// The queue stopped starting items (the playing one carries on).
    Paused,
    /// The queue starts items again.
    Resumed,
}

impl TtsEvent {
    /// The event type the daemon publishes (`tts.queued`, ...).
    pub fn event_type(&self) -> &'static str {
        match self {
            TtsEvent::Queued { .. } => "tts.queued",
            TtsEvent::Started { .. } => "tts.started",
            TtsEvent::Finished { .. } => "tts.finished",
            TtsEvent::Skipped { .. } => "tts.skipped",
            TtsEvent::Refused { .. } => "tts.refused",
            TtsEvent::Paused => "tts.paused",
            TtsEvent::Resumed => "tts.resumed",
        }
    }
}

/// Rate-limit histories are swept when this many users have one.
const SWEEP_AT: usize = 1024;

/// The TTS queue.
#[derive(Debug, Clone)]
pub struct TtsQueue {
    config: QueueConfig,
    banned: BannedWords,
    pending: VecDeque<Item>,
    current: Option<Item>,
    paused: bool,
    next_id: u64,
    /// Accepted request times per (platform, user id), oldest first.
    recent: HashMap<(Platform, String), VecDeque<Timestamp>>,
}

fn normalise(mut config: QueueConfig) -> QueueConfig {
    config.user_voices = config
        .user_voices
        .into_iter()
        .map(|((platform, login), voice)| ((platform, login.to_lowercase()), voice))
        .collect();
    config
}

impl TtsQueue {
    /// An empty, running queue.
    pub fn new(config: QueueConfig) -> TtsQueue {
        let config = normalise(config);
        TtsQueue {
            banned: BannedWords::new(&config.banned_words),
            config,
            pending: VecDeque::new(),
            current: None,
            paused: false,
            next_id: 1,
            recent: HashMap::new(),
        }
    }

    /// The policy in force.
    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// Replaces the policy (a config reload); queued items and histories stay.
    pub fn set_config(&mut self, config: QueueConfig) {
        let config = normalise(config);
        self.banned = BannedWords::new(&config.banned_words);
        self.config = config;
    }

    /// The item playing, if any.
    pub fn current(&self) -> Option<&Item> {
        self.current.as_ref()
    }

    /// The items waiting, next first.
    pub fn pending(&self) -> impl ExactSizeIterator<Item = &Item> {
        self.pending.iter()
    }

    /// Whether the queue is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Filters `text` as `enqueue` would, without queueing or counting anything.
    pub fn filter(&self, text: &str) -> Result<(String, Vec<FilterChange>), Refusal> {
        let config = &self.config;
        let mut changes = Vec::new();
        let cleaned: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut text = filter::tidy_whitespace(&cleaned);

        // The length limit comes first: it bounds the work of every later filter.
        let chars = text.chars().count();
        if config.max_chars > 0 && chars > config.max_chars {
            match config.over_length {
                OverLength::Refuse => {
                    return Err(Refusal::TooLong {
                        chars,
                        max: config.max_chars,
                    });
                }
                OverLength::Truncate => {
                    let mut kept: String = text.chars().take(config.max_chars).collect();
                    // Cut at the last word boundary rather than mid-word, when there is one.
                    let mid_word = text
                        .get(kept.len()..)
                        .and_then(|rest| rest.chars().next())
                        .is_some_and(|c| !c.is_whitespace());
                    if mid_word && let Some(space) = kept.rfind(char::is_whitespace) {
                        kept.truncate(space);
                    }
                    kept.truncate(kept.trim_end().len());
                    text = kept;
                    changes.push(FilterChange::Truncated {
                        from: chars,
                        to: text.chars().count(),
                    });
                }
            }
        }
        if config.remove_links {
            let (without, count) = filter::remove_links(&text);
            if count > 0 {
                text = without;
                changes.push(FilterChange::LinksRemoved { count });
            }
        }
        if config.max_repeat > 0 {
            let (collapsed, count) = filter::collapse_runs(&text, config.max_repeat);
            if count > 0 {
                text = collapsed;
                changes.push(FilterChange::RunsCollapsed { count });
            }
        }
        match config.banned_action {
            BannedAction::Refuse if self.banned.contains(&text) => {
                return Err(Refusal::BannedWord);
            }
            BannedAction::Refuse => {}
            BannedAction::Mask => {
                let (masked, count) = self.banned.mask(&text, &config.mask_with);
                if count > 0 {
                    text = masked;
                    changes.push(FilterChange::WordsMasked { count });
                }
            }
        }
        let text = filter::tidy_whitespace(&text);
        if text.is_empty() {
            return Err(Refusal::Empty);
        }
        Ok((text, changes))
    }

    /// The voice for a request: its own, else the user's, else the default.
    pub fn voice_for(&self, user: &Speaker, requested: Option<&str>) -> Option<String> {
        requested
            .map(str::to_owned)
            .or_else(|| {
                self.config
                    .user_voices
                    .get(&(user.platform, user.login.to_lowercase()))
                    .cloned()
            })
            .or_else(|| self.config.default_voice.clone())
    }

    /// Filters, checks the limits and queues. Emits `Queued` or `Refused`.
    pub fn enqueue(&mut self, request: Request) -> Vec<TtsEvent> {
        match self.admit(&request) {
            Ok((text, changes)) => {
                let id = ItemId(self.next_id);
                self.next_id = self.next_id.wrapping_add(1);
                let voice = self.voice_for(&request.user, request.voice.as_deref());
                let ahead = self.pending.len() + usize::from(self.current.is_some());
                let item = Item {
                    id,
                    user: request.user,
                    text,
                    voice,
                    requested_at: request.requested_at,
                };
                let event = TtsEvent::Queued {
                    id,
                    user: item.user.clone(),
                    text: item.text.clone(),
                    voice: item.voice.clone(),
                    ahead,
                    changes,
                };
                self.pending.push_back(item);
                vec![event]
            }
            Err(reason) => vec![TtsEvent::Refused {
                user: request.user,
                reason,
            }],
        }
    }

    fn admit(&mut self, request: &Request) -> Result<(String, Vec<FilterChange>), Refusal> {
        let filtered = self.filter(&request.text)?;
        let now = request.requested_at;
        let limited = match self.config.rate_limit {
            Some(limit) if request.user.platform != Platform::Roadie => Some(limit),
            _ => None,
        };
        if let Some(limit) = limited {
            if self.recent.len() >= SWEEP_AT {
                self.sweep(now, limit.window_ms);
            }
            let key = (request.user.platform, request.user.id.clone());
            let times = self.recent.entry(key).or_default();
            prune(times, now, limit.window_ms);
            if times.len() >= limit.max as usize {
                let retry_after_ms = times
                    .front()
                    .map(|oldest| limit.window_ms.saturating_sub(now.millis_since(*oldest)))
                    .unwrap_or(limit.window_ms);
                return Err(Refusal::RateLimited { retry_after_ms });
            }
        }
        if self.config.max_pending > 0 && self.pending.len() >= self.config.max_pending {
            return Err(Refusal::QueueFull {
                max: self.config.max_pending,
            });
        }
        if limited.is_some() {
            let key = (request.user.platform, request.user.id.clone());
            self.recent.entry(key).or_default().push_back(now);
        }
        Ok(filtered)
    }

    fn sweep(&mut self, now: Timestamp, window_ms: u64) {
        self.recent.retain(|_, times| {
            prune(times, now, window_ms);
            !times.is_empty()
        });
    }

    /// Starts the next item when not paused and nothing is playing. Emits `Started`.
    #[allow(
        clippy::should_implement_trait,
        reason = "a state transition returning events, not an iterator"
    )]
    pub fn next(&mut self) -> Vec<TtsEvent> {
        if self.paused || self.current.is_some() {
            return Vec::new();
        }
        let Some(item) = self.pending.pop_front() else {
            return Vec::new();
        };
        let event = TtsEvent::Started {
            id: item.id,
            user: item.user.clone(),
            text: item.text.clone(),
            voice: item.voice.clone(),
        };
        self.current = Some(item);
        vec![event]
    }

    /// The playing item ended (`heard` false when synthesis or playback failed).
    /// Emits `Finished`; nothing when `id` is not the playing item.
    pub fn finished(&mut self, id: ItemId, heard: bool) -> Vec<TtsEvent> {
        match &self.current {
            Some(item) if item.id == id => {
                self.current = None;
                vec![TtsEvent::Finished { id, heard }]
            }
            _ => Vec::new(),
        }
    }

    /// Skips the playing item. Emits `Skipped`; nothing when nothing plays.
    pub fn skip(&mut self) -> Vec<TtsEvent> {
        match self.current.take() {
            Some(item) => vec![TtsEvent::Skipped {
                id: item.id,
                reason: SkipReason::Requested,
            }],
            None => Vec::new(),
        }
    }

    /// Takes one item out, playing or waiting. Emits `Skipped`; nothing when unknown.
    pub fn remove(&mut self, id: ItemId) -> Vec<TtsEvent> {
        if self.current.as_ref().is_some_and(|item| item.id == id) {
            self.current = None;
        } else if let Some(at) = self.pending.iter().position(|item| item.id == id) {
            self.pending.remove(at);
        } else {
            return Vec::new();
        }
        vec![TtsEvent::Skipped {
            id,
            reason: SkipReason::Removed,
        }]
    }

    /// Stops starting items; the playing one carries on. Emits `Paused` once.
    pub fn pause(&mut self) -> Vec<TtsEvent> {
        if self.paused {
            return Vec::new();
        }
        self.paused = true;
        vec![TtsEvent::Paused]
    }

    /// Starts items again. Emits `Resumed` once.
    pub fn resume(&mut self) -> Vec<TtsEvent> {
        if !self.paused {
            return Vec::new();
        }
        self.paused = false;
        vec![TtsEvent::Resumed]
    }

    /// Drops the playing item and everything waiting. Emits one `Skipped` each.
    pub fn clear(&mut self) -> Vec<TtsEvent> {
        self.current
            .take()
            .into_iter()
            .chain(self.pending.drain(..))
            .map(|item| TtsEvent::Skipped {
                id: item.id,
                reason: SkipReason::Cleared,
            })
            .collect()
    }
}

/// Keeps the times within `(now - window, now]`; times after `now` (the clock went
/// back) are dropped too, so a clock jump cannot block a user.
fn prune(times: &mut VecDeque<Timestamp>, now: Timestamp, window_ms: u64) {
    times.retain(|t| *t <= now && now.millis_since(*t) < window_ms);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn user(login: &str) -> Speaker {
        Speaker {
            platform: Platform::Twitch,
            id: format!("id-{login}"),
            login: login.to_owned(),
        }
    }

    fn say(login: &str, text: &str, at: i64) -> Request {
        Request {
            user: user(login),
            text: text.to_owned(),
            voice: None,
            requested_at: Timestamp(at),
        }
    }

    fn open() -> QueueConfig {
        QueueConfig {
            rate_limit: None,
            ..QueueConfig::default()
        }
    }

    fn queued_id(events: &[TtsEvent]) -> ItemId {
        match events {
            [TtsEvent::Queued { id, .. }] => *id,
            other => panic!("expected one Queued, got {other:?}"),
        }
    }

    fn refusal(events: &[TtsEvent]) -> Option<Refusal> {
        match events {
            [TtsEvent::Refused { reason, .. }] => Some(*reason),
            _ => None,
        }
    }

    #[test]
    fn filters() {
        let banned = vec!["darn".to_owned(), "bad word".to_owned()];
        let truncate10 = QueueConfig {
            max_chars: 10,
            ..open()
        };
        let refuse10 = QueueConfig {
            max_chars: 10,
            over_length: OverLength::Refuse,
            ..open()
        };
        let refuse_banned = QueueConfig {
            banned_words: banned.clone(),
            ..open()
        };
        let mask_banned = QueueConfig {
            banned_words: banned,
            banned_action: BannedAction::Mask,
            ..open()
        };
        let no_filters = QueueConfig {
            remove_links: false,
            max_repeat: 0,
            max_chars: 0,
            ..open()
        };
        let open = open();
        let mask40 = QueueConfig {
            max_chars: 40,
            ..mask_banned.clone()
        };
        use FilterChange::*;
        type Expected = Result<(&'static str, Vec<FilterChange>), Refusal>;
        let cases: Vec<(&str, &QueueConfig, &str, Expected)> = vec![
            ("plain", &open, "hello chat", Ok(("hello chat", vec![]))),
            (
                "whitespace and controls",
                &open,
                "  hi\n\tthere\u{7} ",
                Ok(("hi there", vec![])),
            ),
            (
                "truncate",
                &truncate10,
                "one two three four",
                Ok(("one two", vec![Truncated { from: 18, to: 7 }])),
            ),
            (
                "truncate counts chars",
                &truncate10,
                "éaéaé éaéaé",
                Ok(("éaéaé", vec![Truncated { from: 11, to: 5 }])),
            ),
            (
                "at the limit",
                &refuse10,
                "0123456789",
                Ok(("0123456789", vec![])),
            ),
            (
                "one long word is cut hard",
                &truncate10,
                "abcdefghijklmnop",
                Ok(("abcdefghij", vec![Truncated { from: 16, to: 10 }])),
            ),
            (
                "refuse long",
                &refuse10,
                "0123456789x",
                Err(Refusal::TooLong { chars: 11, max: 10 }),
            ),
            (
                "links",
                &open,
                "go to https://evil.example/x now",
                Ok(("go to now", vec![LinksRemoved { count: 1 }])),
            ),
            (
                "bare domain",
                &open,
                "visit example.com/path and www.x.org",
                Ok(("visit and", vec![LinksRemoved { count: 2 }])),
            ),
            (
                "only a link",
                &open,
                "https://example.com",
                Err(Refusal::Empty),
            ),
            (
                "runs",
                &open,
                "wooooooow!!!!!!",
                Ok(("wooow!!!", vec![RunsCollapsed { count: 2 }])),
            ),
            (
                "filters off",
                &no_filters,
                "wooooow example.com",
                Ok(("wooooow example.com", vec![])),
            ),
            (
                "banned refused",
                &refuse_banned,
                "oh DARN it",
                Err(Refusal::BannedWord),
            ),
            (
                "banned whole word only",
                &refuse_banned,
                "darned",
                Ok(("darned", vec![])),
            ),
            (
                "banned phrase",
                &refuse_banned,
                "a Bad  Word",
                Err(Refusal::BannedWord),
            ),
            (
                "banned masked",
                &mask_banned,
                "oh darn, a bad word!",
                Ok(("oh bleep, a bleep!", vec![WordsMasked { count: 2 }])),
            ),
            ("empty", &open, "   ", Err(Refusal::Empty)),
            ("control only", &open, "\u{0}\u{1b}", Err(Refusal::Empty)),
            (
                "order: truncate, links, runs, mask",
                &mask40,
                "darn!!!!!! see https://a.example.com/x and more words here",
                Ok((
                    "bleep!!! see",
                    vec![
                        Truncated { from: 58, to: 38 },
                        LinksRemoved { count: 1 },
                        RunsCollapsed { count: 1 },
                        WordsMasked { count: 1 },
                    ],
                )),
            ),
        ];
        for (name, config, input, expected) in cases {
            let mut queue = TtsQueue::new(config.clone());
            let got = queue.filter(input);
            let expected = expected.map(|(text, changes)| (text.to_owned(), changes));
            assert_eq!(got, expected, "{name}");
            // enqueue agrees with filter.
            let events = queue.enqueue(say("a", input, 0));
            match (&got, events.as_slice()) {
                (
                    Ok((text, changes)),
                    [
                        TtsEvent::Queued {
                            text: t,
                            changes: c,
                            ..
                        },
                    ],
                ) => {
                    assert_eq!((text, changes), (t, c), "{name}");
                }
                (Err(reason), [TtsEvent::Refused { reason: r, .. }]) => {
                    assert_eq!(reason, r, "{name}")
                }
                (_, events) => panic!("{name}: {events:?}"),
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Say(&'static str),
        Next,
        Finish(u64, bool),
        Skip,
        Remove(u64),
        Pause,
        Resume,
        Clear,
    }

    fn apply(queue: &mut TtsQueue, op: &Op) -> Vec<TtsEvent> {
        match op {
            Op::Say(text) => queue.enqueue(say("viewer", text, 0)),
            Op::Next => queue.next(),
            Op::Finish(id, heard) => queue.finished(ItemId(*id), *heard),
            Op::Skip => queue.skip(),
            Op::Remove(id) => queue.remove(ItemId(*id)),
            Op::Pause => queue.pause(),
            Op::Resume => queue.resume(),
            Op::Clear => queue.clear(),
        }
    }

    /// Events in a compact form: `Q1` queued, `S1` started, `F1+`/`F1-` finished
    /// heard or not, `K1r`/`K1m`/`K1c` skipped (requested, removed, cleared),
    /// `P` paused, `R` resumed.
    fn short(events: &[TtsEvent]) -> String {
        events
            .iter()
            .map(|e| match e {
                TtsEvent::Queued { id, .. } => format!("Q{id}"),
                TtsEvent::Started { id, .. } => format!("S{id}"),
                TtsEvent::Finished { id, heard } => {
                    format!("F{id}{}", if *heard { '+' } else { '-' })
                }
                TtsEvent::Skipped { id, reason } => format!(
                    "K{id}{}",
                    match reason {
                        SkipReason::Requested => 'r',
                        SkipReason::Removed => 'm',
                        SkipReason::Cleared => 'c',
                    }
                ),
                TtsEvent::Refused { reason, .. } => format!("X:{}", reason.as_str()),
                TtsEvent::Paused => "P".to_owned(),
                TtsEvent::Resumed => "R".to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn transitions() {
        use Op::*;
        let scenarios: Vec<(&str, Vec<(Op, &str)>)> = vec![
            (
                "play one",
                vec![
                    (Say("a"), "Q1"),
                    (Next, "S1"),
                    (Next, ""),
                    (Finish(1, true), "F1+"),
                    (Next, ""),
                ],
            ),
            (
                "in order",
                vec![
                    (Say("a"), "Q1"),
                    (Say("b"), "Q2"),
                    (Next, "S1"),
                    (Finish(1, true), "F1+"),
                    (Next, "S2"),
                    (Finish(2, false), "F2-"),
                ],
            ),
            (
                "skip current",
                vec![
                    (Say("a"), "Q1"),
                    (Say("b"), "Q2"),
                    (Next, "S1"),
                    (Skip, "K1r"),
                    (Next, "S2"),
                ],
            ),
            (
                "skip with nothing playing",
                vec![(Skip, ""), (Say("a"), "Q1"), (Skip, ""), (Next, "S1")],
            ),
            (
                "late finish after skip is ignored",
                vec![
                    (Say("a"), "Q1"),
                    (Next, "S1"),
                    (Skip, "K1r"),
                    (Finish(1, true), ""),
                ],
            ),
            (
                "finish of a waiting item is ignored",
                vec![
                    (Say("a"), "Q1"),
                    (Say("b"), "Q2"),
                    (Next, "S1"),
                    (Finish(2, true), ""),
                    (Finish(1, true), "F1+"),
                ],
            ),
            (
                "pause holds the queue",
                vec![
                    (Pause, "P"),
                    (Say("a"), "Q1"),
                    (Next, ""),
                    (Pause, ""),
                    (Resume, "R"),
                    (Resume, ""),
                    (Next, "S1"),
                ],
            ),
            (
                "pause lets the current finish",
                vec![
                    (Say("a"), "Q1"),
                    (Say("b"), "Q2"),
                    (Next, "S1"),
                    (Pause, "P"),
                    (Finish(1, true), "F1+"),
                    (Next, ""),
                    (Resume, "R"),
                    (Next, "S2"),
                ],
            ),
            (
                "skip while paused",
                vec![
                    (Say("a"), "Q1"),
                    (Next, "S1"),
                    (Pause, "P"),
                    (Skip, "K1r"),
                    (Next, ""),
                ],
            ),
            (
                "clear",
                vec![
                    (Say("a"), "Q1"),
                    (Say("b"), "Q2"),
                    (Say("c"), "Q3"),
                    (Next, "S1"),
                    (Clear, "K1c K2c K3c"),
                    (Next, ""),
                    (Clear, ""),
                    (Say("d"), "Q4"),
                    (Next, "S4"),
                ],
            ),
            (
                "remove",
                vec![
                    (Say("a"), "Q1"),
                    (Say("b"), "Q2"),
                    (Say("c"), "Q3"),
                    (Remove(2), "K2m"),
                    (Remove(2), ""),
                    (Next, "S1"),
                    (Remove(1), "K1m"),
                    (Next, "S3"),
                ],
            ),
        ];
        for (name, steps) in scenarios {
            let mut queue = TtsQueue::new(open());
            for (i, (op, expected)) in steps.iter().enumerate() {
                let events = apply(&mut queue, op);
                assert_eq!(short(&events), *expected, "{name}, step {i} ({op:?})");
            }
        }
    }

    #[test]
    fn queued_reports_position() {
        let mut queue = TtsQueue::new(open());
        let ahead = |events: Vec<TtsEvent>| match events.as_slice() {
            [TtsEvent::Queued { ahead, .. }] => *ahead,
            other => panic!("{other:?}"),
        };
        assert_eq!(ahead(queue.enqueue(say("a", "one", 0))), 0);
        assert_eq!(ahead(queue.enqueue(say("a", "two", 0))), 1);
        queue.next();
        assert_eq!(ahead(queue.enqueue(say("a", "three", 0))), 2);
        assert_eq!(queue.pending().len(), 2);
        assert_eq!(queue.current().map(|i| i.text.as_str()), Some("one"));
    }

    #[test]
    fn rate_limits() {
        let limit = |max, window_ms| QueueConfig {
            rate_limit: Some(RateLimit { max, window_ms }),
            ..QueueConfig::default()
        };
        // (who, at ms, expected: None = accepted, Some(retry_after_ms) = refused)
        type Steps = Vec<(&'static str, i64, Option<u64>)>;
        let cases: Vec<(&str, QueueConfig, Steps)> = vec![
            (
                "two per second",
                limit(2, 1_000),
                vec![
                    ("a", 0, None),
                    ("a", 100, None),
                    ("a", 200, Some(800)),
                    ("b", 200, None),
                    ("a", 999, Some(1)),
                    ("a", 1_000, None),
                    ("a", 1_050, Some(50)),
                    ("a", 1_100, None),
                ],
            ),
            (
                "refusals do not count",
                limit(1, 1_000),
                vec![
                    ("a", 0, None),
                    ("a", 500, Some(500)),
                    ("a", 900, Some(100)),
                    ("a", 1_000, None),
                ],
            ),
            (
                "clock going back does not block",
                limit(1, 60_000),
                vec![
                    ("a", 100_000, None),
                    ("a", 50_000, None),
                    ("a", 50_001, Some(59_999)),
                ],
            ),
            (
                "zero allows nothing",
                limit(0, 1_000),
                vec![("a", 0, Some(1_000))],
            ),
            (
                "off",
                open(),
                vec![
                    ("a", 0, None),
                    ("a", 0, None),
                    ("a", 0, None),
                    ("a", 0, None),
                ],
            ),
        ];
        for (name, config, steps) in cases {
            let mut queue = TtsQueue::new(config);
            for (i, (who, at, expected)) in steps.into_iter().enumerate() {
                let events = queue.enqueue(say(who, "hello", at));
                let got = match refusal(&events) {
                    Some(Refusal::RateLimited { retry_after_ms }) => Some(retry_after_ms),
                    Some(other) => panic!("{name} step {i}: {other:?}"),
                    None => None,
                };
                assert_eq!(got, expected, "{name}, step {i}");
            }
        }
        // The streamer (platform Roadie) is never rate limited; the filters still apply.
        let mut queue = TtsQueue::new(limit(1, 60_000));
        let streamer = |text: &str| Request {
            user: Speaker {
                platform: Platform::Roadie,
                id: "cli".to_owned(),
                login: "streamer".to_owned(),
            },
            text: text.to_owned(),
            voice: None,
            requested_at: Timestamp(0),
        };
        for _ in 0..5 {
            queued_id(&queue.enqueue(streamer("hi")));
        }
        assert_eq!(refusal(&queue.enqueue(streamer(" "))), Some(Refusal::Empty));
    }

    #[test]
    fn rate_histories_are_swept() {
        let mut queue = TtsQueue::new(QueueConfig {
            max_pending: 0,
            ..QueueConfig::default()
        });
        for n in 0..3_000 {
            queued_id(&queue.enqueue(say(&format!("u{n}"), "hi", i64::from(n) * 100)));
        }
        assert!(
            queue.recent.len() <= SWEEP_AT + 600,
            "{}",
            queue.recent.len()
        );
    }

    #[test]
    fn queue_limit() {
        let mut queue = TtsQueue::new(QueueConfig {
            max_pending: 2,
            ..open()
        });
        queued_id(&queue.enqueue(say("a", "one", 0)));
        queued_id(&queue.enqueue(say("a", "two", 0)));
        assert_eq!(
            refusal(&queue.enqueue(say("a", "three", 0))),
            Some(Refusal::QueueFull { max: 2 })
        );
        queue.next(); // the playing item does not count
        queued_id(&queue.enqueue(say("a", "three", 0)));
        // A full queue does not use up the user's rate allowance.
        let mut queue = TtsQueue::new(QueueConfig {
            max_pending: 1,
            rate_limit: Some(RateLimit {
                max: 1,
                window_ms: 1_000,
            }),
            ..QueueConfig::default()
        });
        queued_id(&queue.enqueue(say("a", "one", 0)));
        assert!(matches!(
            refusal(&queue.enqueue(say("b", "x", 0))),
            Some(Refusal::QueueFull { .. })
        ));
        queue.next();
        queued_id(&queue.enqueue(say("b", "x", 1)));
    }

    #[test]
    fn voices() {
        let mut user_voices = HashMap::new();
        user_voices.insert((Platform::Twitch, "Alice".to_owned()), "en-gb".to_owned());
        user_voices.insert((Platform::Kick, "bob".to_owned()), "de".to_owned());
        let with_default = QueueConfig {
            default_voice: Some("en-us".to_owned()),
            user_voices: user_voices.clone(),
            ..open()
        };
        let without_default = QueueConfig {
            user_voices,
            ..open()
        };
        let kick_bob = Speaker {
            platform: Platform::Kick,
            id: "9".to_owned(),
            login: "bob".to_owned(),
        };
        // (config, user, requested voice, expected)
        let cases: Vec<(&QueueConfig, Speaker, Option<&str>, Option<&str>)> = vec![
            (&with_default, user("alice"), None, Some("en-gb")),
            (&with_default, user("ALICE"), None, Some("en-gb")),
            (&with_default, user("bob"), None, Some("en-us")), // bob on Twitch has no entry
            (&with_default, kick_bob.clone(), None, Some("de")),
            (&with_default, user("alice"), Some("fr"), Some("fr")),
            (&without_default, user("carol"), None, None),
            (&without_default, kick_bob, None, Some("de")),
        ];
        for (i, (config, who, requested, expected)) in cases.into_iter().enumerate() {
            let mut queue = TtsQueue::new(config.clone());
            let events = queue.enqueue(Request {
                user: who,
                text: "hi".to_owned(),
                voice: requested.map(str::to_owned),
                requested_at: Timestamp(0),
            });
            let voice = match events.as_slice() {
                [TtsEvent::Queued { voice, .. }] => voice.clone(),
                other => panic!("{other:?}"),
            };
            assert_eq!(voice.as_deref(), expected, "case {i}");
            match queue.next().as_slice() {
                [TtsEvent::Started { voice: started, .. }] => assert_eq!(started, &voice),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn reload_keeps_the_queue() {
        let mut queue = TtsQueue::new(open());
        queued_id(&queue.enqueue(say("a", "darn", 0)));
        queue.set_config(QueueConfig {
            banned_words: vec!["darn".to_owned()],
            ..open()
        });
        assert_eq!(queue.pending().len(), 1);
        assert_eq!(
            refusal(&queue.enqueue(say("a", "darn", 0))),
            Some(Refusal::BannedWord)
        );
    }

    #[test]
    fn event_types() {
        let names: Vec<&str> = [
            TtsEvent::Paused,
            TtsEvent::Resumed,
            TtsEvent::Finished {
                id: ItemId(1),
                heard: true,
            },
            TtsEvent::Skipped {
                id: ItemId(1),
                reason: SkipReason::Requested,
            },
            TtsEvent::Refused {
                user: user("a"),
                reason: Refusal::Empty,
            },
        ]
        .iter()
        .map(TtsEvent::event_type)
        .collect();
        assert_eq!(
            names,
            [
                "tts.paused",
                "tts.resumed",
                "tts.finished",
                "tts.skipped",
                "tts.refused"
            ]
        );
        assert_eq!(
            Refusal::RateLimited {
                retry_after_ms: 1_001
            }
            .to_string(),
            "too many requests; try again in 2 s"
        );
    }

    fn op_strategy() -> impl Strategy<Value = (u8, u64, bool, String, i64)> {
        (0u8..8, 0u64..6, any::<bool>(), "\\PC{0,40}", 0i64..10_000)
    }

    proptest! {
        #[test]
        fn any_sequence_keeps_the_invariants(ops in proptest::collection::vec(op_strategy(), 0..60)) {
            let mut queue = TtsQueue::new(QueueConfig {
                max_chars: 20,
                max_pending: 4,
                banned_words: vec!["x".to_owned()],
                rate_limit: Some(RateLimit { max: 3, window_ms: 1_000 }),
                ..QueueConfig::default()
            });
            for (kind, id, flag, text, at) in ops {
                let was_paused = queue.is_paused();
                let events = match kind {
                    0 | 1 => queue.enqueue(Request {
                        user: user(if flag { "a" } else { "b" }),
                        text,
                        voice: None,
                        requested_at: Timestamp(at),
                    }),
                    2 => queue.next(),
                    3 => queue.finished(ItemId(id), flag),
                    4 => queue.skip(),
                    5 => queue.remove(ItemId(id)),
                    6 => if flag { queue.pause() } else { queue.resume() },
                    _ => queue.clear(),
                };
                for event in &events {
                    if let TtsEvent::Started { .. } = event {
                        prop_assert!(!was_paused);
                    }
                    if let TtsEvent::Queued { text, .. } = event {
                        prop_assert!(!text.is_empty() && text.chars().count() <= 20);
                    }
                }
                prop_assert!(queue.pending().len() <= 4);
                let mut ids: Vec<ItemId> = queue.pending().map(|i| i.id).collect();
                ids.extend(queue.current().map(|i| i.id));
                let count = ids.len();
                ids.sort();
                ids.dedup();
                prop_assert_eq!(ids.len(), count);
            }
        }
    }
}
