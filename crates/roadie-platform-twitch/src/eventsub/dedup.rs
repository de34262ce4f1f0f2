//! A bounded window of recently seen message ids. EventSub delivers at least once and
//! redelivers with the same `message_id`; reconnect hand-overs can overlap.

use std::collections::{HashSet, VecDeque};

/// Remembers the last `capacity` ids.
#[derive(Debug)]
pub struct DedupWindow {
    capacity: usize,
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl DedupWindow {
    /// A window holding up to `capacity` ids (at least 1).
    pub fn new(capacity: usize) -> DedupWindow {
        let capacity = capacity.max(1);
        DedupWindow {
            capacity,
            seen: HashSet::with_capacity(capacity),
            order: VecDeque::with_capacity(capacity),
        }
    }

    /// True the first time an id is offered (within the window); false for a repeat.
    pub fn first_seen(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(id.to_owned());
        self.order.push_back(id.to_owned());
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
