//! A bounded window of recently seen ids, for the redeliveries every platform has:
//! EventSub delivers at least once and redelivers with the same `message_id`, Kick's
//! Pusher channels and webhooks repeat events, YouTube's chat pages overlap, and
//! reconnect hand-overs can overlap on all of them.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

/// Ids a window allocates room for up front.
const PREALLOCATE: usize = 1024;

/// Remembers the last `capacity` ids.
///
/// Ids are kept as 128-bit keyed fingerprints rather than strings: no allocation per
/// message, and two different ids share one with odds of about 2^-128 per pair. The
/// keys are random per window, so nobody can craft ids that collide.
#[derive(Debug)]
pub struct DedupWindow {
    capacity: usize,
    keys: (RandomState, RandomState),
    seen: HashSet<u128, BuildHasherDefault<FingerprintHasher>>,
    order: VecDeque<u128>,
}

impl DedupWindow {
    /// A window holding up to `capacity` ids (at least 1).
    pub fn new(capacity: usize) -> DedupWindow {
        let capacity = capacity.max(1);
        DedupWindow {
            capacity,
            keys: (RandomState::new(), RandomState::new()),
            // Grown as ids come: a big window costs memory only once it fills.
            seen: HashSet::with_capacity_and_hasher(
                capacity.min(PREALLOCATE),
                BuildHasherDefault::default(),
            ),
            order: VecDeque::with_capacity(capacity.min(PREALLOCATE)),
        }
    }

    fn fingerprint(&self, id: &str) -> u128 {
        let high = self.keys.0.hash_one(id);
        let low = self.keys.1.hash_one(id);
        (u128::from(high) << 64) | u128::from(low)
    }

    /// True when `id` is remembered (without recording it).
    pub fn contains(&self, id: &str) -> bool {
        self.seen.contains(&self.fingerprint(id))
    }

    /// True the first time an id is offered (within the window); false for a repeat.
    pub fn first_seen(&mut self, id: &str) -> bool {
        let fingerprint = self.fingerprint(id);
        if self.seen.contains(&fingerprint) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(fingerprint);
        self.order.push_back(fingerprint);
        true
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// Hashes a fingerprint by taking its low half: it is already a keyed hash, uniform
/// over its bits, so hashing it again would only cost time.
#[derive(Debug, Default, Clone, Copy)]
struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u128 keys reach this set; this keeps any other input well mixed anyway.
        for byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u128(&mut self, value: u128) {
        // The low 64 bits of the fingerprint, on purpose.
        self.0 = value as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repeats_are_dropped_and_old_ids_age_out() {
        let mut window = DedupWindow::new(2);
        assert!(window.first_seen("a"));
        assert!(!window.first_seen("a"));
        assert!(window.first_seen("b"));
        assert!(window.first_seen("c"));
        assert_eq!(window.len(), 2);
        assert!(window.first_seen("a"), "a aged out of a window of 2");
    }

    #[test]
    fn contains_looks_without_recording() {
        let mut window = DedupWindow::new(4);
        assert!(!window.contains("a"));
        assert!(window.is_empty(), "looking records nothing");
        assert!(window.first_seen("a"));
        assert!(window.contains("a"));
        assert!(!window.contains("b"));
    }

    proptest! {
        #[test]
        fn within_the_window_each_id_passes_once(ids in proptest::collection::vec(0u8..50, 0..400)) {
            let mut window = DedupWindow::new(64);
            let mut passed = std::collections::HashSet::new();
            for id in ids {
                let key = id.to_string();
                // With 50 distinct ids and a window of 64, nothing ever ages out.
                prop_assert_eq!(window.first_seen(&key), passed.insert(key));
            }
            prop_assert!(window.len() <= 64);
        }
    }
}
