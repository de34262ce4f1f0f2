//! Points accrual rules: watch time (one credit per viewer per minute, from the
//! chatters lists platforms provide) and chat activity (per message, capped per
//! minute). Both yield ledger entries with a source key, so replays credit nothing
//! twice once the ledger has them.

use super::ledger::{AccountKey, Entry};
use roadie_core::{Platform, Timestamp};
use std::collections::{HashMap, HashSet};

/// The reason written on watch-time entries.
pub const WATCH_REASON: &str = "watch time";
/// The reason written on chat-activity entries.
pub const MESSAGE_REASON: &str = "chat message";

const MINUTE_MS: i64 = 60_000;

/// The minute index (minutes since the Unix epoch) of `at`.
pub fn minute_of(at: Timestamp) -> i64 {
    at.unix_ms().div_euclid(MINUTE_MS)
}

/// How many points viewers earn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccrualPolicy {
    /// Points per minute a viewer is in the chatters list while live.
    pub per_minute_watched: i64,
    /// Points per chat message.
    pub per_message: i64,
    /// How many messages per viewer per minute earn points; the rest earn none.
    pub message_cap_per_minute: i64,
}

impl Default for AccrualPolicy {
    /// 10 per minute watched; 1 per message, for at most 5 messages a minute.
    fn default() -> Self {
        AccrualPolicy {
            per_minute_watched: 10,
            per_message: 1,
            message_cap_per_minute: 5,
        }
    }
}

/// A policy value out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("points policy {field} is {value}; expected 0 or more")]
pub struct PolicyError {
    /// The field's name.
    pub field: &'static str,
    /// Its value.
    pub value: i64,
}

impl AccrualPolicy {
    /// Refuses negative values (accrual only ever adds; zero switches a rule off).
    pub fn validate(&self) -> Result<(), PolicyError> {
        let fields = [
            ("per_minute_watched", self.per_minute_watched),
            ("per_message", self.per_message),
            ("message_cap_per_minute", self.message_cap_per_minute),
        ];
        match fields.into_iter().find(|(_, value)| *value < 0) {
            Some((field, value)) => Err(PolicyError { field, value }),
            None => Ok(()),
        }
    }
}

/// Watch-time accrual. Remembers, per platform, the latest minute seen and who was
/// credited in it, so a viewer is credited once per minute even when the chatters
/// list arrives in pages or twice; a minute older than the latest is ignored. Memory
/// is one minute's viewers per platform.
#[derive(Debug, Clone, Default)]
pub struct WatchAccrual {
    policy: AccrualPolicy,
    credited: HashMap<Platform, (i64, HashSet<String>)>,
}

impl WatchAccrual {
    /// Accrual under `policy`.
    pub fn new(policy: AccrualPolicy) -> WatchAccrual {
        WatchAccrual {
            policy,
            credited: HashMap::new(),
        }
    }

    /// Credits for the viewers (platform user ids) in `chatters` during `minute` on
    /// `platform`: one entry each not yet credited for that minute. The daemon calls
    /// it only while the stream is live.
    pub fn credit<'a>(
        &mut self,
        platform: Platform,
        minute: i64,
        chatters: impl IntoIterator<Item = &'a str>,
    ) -> Vec<Entry> {
        if self.policy.per_minute_watched <= 0 {
            return Vec::new();
        }
        let (latest, seen) = self
            .credited
            .entry(platform)
            .or_insert_with(|| (minute, HashSet::new()));
        if minute < *latest {
            return Vec::new();
        }
        if minute > *latest {
            *latest = minute;
            seen.clear();
        }
        let at = Timestamp(minute.saturating_mul(MINUTE_MS));
        let mut entries = Vec::new();
        for user_id in chatters {
            if user_id.is_empty() || !seen.insert(user_id.to_owned()) {
                continue;
            }
            entries.push(Entry {
                account: AccountKey::new(platform, user_id),
                delta: self.policy.per_minute_watched,
                reason: WATCH_REASON.to_owned(),
                at,
                source_event: Some(format!("watch:{platform}:{minute}:{user_id}")),
            });
        }
        entries
    }
}

/// Chat-activity accrual: `per_message` points for each of a viewer's first
/// `message_cap_per_minute` messages in a minute. Only the latest minute is tracked
/// (memory is one minute's chatters); a message from an earlier minute, arriving
/// late, earns nothing.
#[derive(Debug, Clone, Default)]
pub struct MessageAccrual {
    policy: AccrualPolicy,
    minute: Option<i64>,
    counts: HashMap<(Platform, String), i64>,
}

impl MessageAccrual {
    /// Accrual under `policy`.
    pub fn new(policy: AccrualPolicy) -> MessageAccrual {
        MessageAccrual {
            policy,
            minute: None,
            counts: HashMap::new(),
        }
    }

    /// The credit for chat message `message_id` from `user_id` on `platform` at `at`,
    /// if it earns one. The source key is the message id, so a redelivered message is
    /// refused by the ledger (though it still counts towards this minute's cap).
    pub fn credit(
        &mut self,
        platform: Platform,
        user_id: &str,
        message_id: &str,
        at: Timestamp,
    ) -> Option<Entry> {
        if self.policy.per_message <= 0 || user_id.is_empty() {
            return None;
        }
        let minute = minute_of(at);
        match self.minute {
            Some(current) if minute < current => return None,
            Some(current) if minute == current => {}
            _ => {
                self.minute = Some(minute);
                self.counts.clear();
            }
        }
        let count = self
            .counts
            .entry((platform, user_id.to_owned()))
            .or_insert(0);
        if *count >= self.policy.message_cap_per_minute {
            return None;
        }
        *count += 1;
        Some(Entry {
            account: AccountKey::new(platform, user_id),
            delta: self.policy.per_message,
            reason: MESSAGE_REASON.to_owned(),
            at,
            source_event: Some(format!("chat:{platform}:{message_id}")),
        })
    }
}
