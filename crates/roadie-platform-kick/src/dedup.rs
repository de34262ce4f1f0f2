//! De-duplication. Kick repeats itself: the same Pusher event can arrive on two
//! channel names (`chatrooms.N.v2` and `chatroom_N`, `channel.N` and `channel_N`),
//! reconnects can overlap, webhooks are retried, and an event can be heard both on the
//! Pusher feed and as a webhook. Each normalised event carries keys
//! ([`DedupKey`]); an event whose key was seen recently is dropped.
//!
//! Two kinds of key, because the two routes do not share ids for everything:
//! - [`DedupKey::Id`]: an id both routes carry (a chat message id) or one that names the
//!   occurrence on one route; remembered in a bounded window of the last N ids.
//! - [`DedupKey::Near`]: a derived key (`follow:<name>`, `ban:<user id>`...) that counts
//!   as the same occurrence when seen again within a time window (two minutes by
//!   default): the routes report the same thing seconds apart, with no shared id.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use roadie_platform::DedupWindow;

/// What identifies one occurrence of an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DedupKey {
    /// An id: the same id is the same occurrence, however late it comes again.
    Id(String),
    /// A derived key: the same key within the time window is the same occurrence.
    Near(String),
}

/// The window both routes share: ids by count, derived keys by time.
#[derive(Debug)]
pub struct EventDedup {
    ids: DedupWindow,
    /// Derived key -> when it was last recorded (ms since the epoch).
    near: HashMap<String, i64>,
    /// Recording order, to bound memory: (key, time recorded).
    near_order: VecDeque<(String, i64)>,
    capacity: usize,
    window_ms: i64,
}

impl EventDedup {
    /// Remembers up to `capacity` ids and derived keys; derived keys match within
    /// `window` of each other.
    pub fn new(capacity: usize, window: Duration) -> EventDedup {
        EventDedup {
            ids: DedupWindow::new(capacity),
            near: HashMap::new(),
            near_order: VecDeque::new(),
            capacity: capacity.max(1),
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// True when an event with `keys`, heard at `now_ms`, is new; it is then
    /// remembered. An event without keys is always new.
    pub fn admit(&mut self, keys: &[DedupKey], now_ms: i64) -> bool {
        self.forget_expired(now_ms);
        let seen = keys.iter().any(|key| match key {
            DedupKey::Id(id) => self.ids.contains(id),
            DedupKey::Near(key) => self
                .near
                .get(key)
                .is_some_and(|at| now_ms.abs_diff(*at) <= self.window_ms.unsigned_abs()),
        });
        if seen {
            return false;
        }
        for key in keys {
            match key {
                DedupKey::Id(id) => {
                    self.ids.first_seen(id);
                }
                DedupKey::Near(key) => {
                    self.near.insert(key.clone(), now_ms);
                    self.near_order.push_back((key.clone(), now_ms));
                    while self.near_order.len() > self.capacity {
                        self.pop_oldest();
                    }
                }
            }
        }
        true
    }

    fn pop_oldest(&mut self) {
        if let Some((key, at)) = self.near_order.pop_front()
            // Only the latest recording of a key owns its map entry.
            && self.near.get(&key) == Some(&at)
        {
            self.near.remove(&key);
        }
    }

    /// Derived keys older than the window can never match again.
    fn forget_expired(&mut self, now_ms: i64) {
        while self
            .near_order
            .front()
            .is_some_and(|(_, at)| now_ms.saturating_sub(*at) > self.window_ms)
        {
            self.pop_oldest();
        }
    }

    /// How many derived keys are remembered.
    pub fn near_len(&self) -> usize {
        self.near.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn derived_keys_match_only_within_the_time_window() {
        let mut dedup = EventDedup::new(100, Duration::from_secs(120));
        let follow = [DedupKey::Near("follow:alice".into())];
        assert!(dedup.admit(&follow, 1_000));
        assert!(
            !dedup.admit(&follow, 60_000),
            "the other route, a minute later"
        );
        assert!(
            dedup.admit(&follow, 1_000 + 121_000),
            "a new follow much later"
        );
        assert!(dedup.admit(&[DedupKey::Near("follow:bob".into())], 1_000));
        assert!(dedup.admit(&[], 1_000), "keyless events always pass");
        assert!(dedup.admit(&[], 1_000));
    }

    #[test]
    fn any_matching_key_makes_a_duplicate_and_all_keys_are_recorded() {
        let mut dedup = EventDedup::new(100, Duration::from_secs(120));
        assert!(dedup.admit(
            &[
                DedupKey::Id("redemption:r1:unfulfilled".into()),
                DedupKey::Near("redeem:7:hydrate".into())
            ],
            0
        ));
        assert!(!dedup.admit(&[DedupKey::Near("redeem:7:hydrate".into())], 10));
        assert!(!dedup.admit(&[DedupKey::Id("redemption:r1:unfulfilled".into())], 10));
        assert!(dedup.admit(&[DedupKey::Id("redemption:r1:fulfilled".into())], 10));
    }

    proptest! {
        #[test]
        fn within_the_window_each_id_passes_once(ids in proptest::collection::vec(0u8..50, 0..400)) {
            let mut dedup = EventDedup::new(64, Duration::from_secs(60));
            let mut passed = std::collections::HashSet::new();
            for (at, id) in ids.into_iter().enumerate() {
                let key = id.to_string();
                let keys = [DedupKey::Id(key.clone()), DedupKey::Near(key.clone())];
                prop_assert_eq!(dedup.admit(&keys, at as i64), passed.insert(key));
            }
            prop_assert!(dedup.near_len() <= 64);
        }
    }
}
