//! A bounded de-duplication window: remembers the last N keys and reports repeats.

use std::collections::{HashSet, VecDeque};

/// Remembers the most recent `capacity` keys.
#[derive(Debug)]
pub struct DedupWindow {
    set: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
    /// Repeats seen so far.
    pub duplicates: u64,
}

impl DedupWindow {
    /// A window of `capacity` keys (0 disables de-duplication).
    pub fn new(capacity: usize) -> Self {
        DedupWindow {
            set: HashSet::with_capacity(capacity.min(1 << 16)),
            order: VecDeque::with_capacity(capacity.min(1 << 16)),
            capacity,
            duplicates: 0,
        }
    }

    /// Returns `true` the first time a key is seen (within the window), `false` on repeats.
    pub fn first_time(&mut self, key: &str) -> bool {
        if self.capacity == 0 {
            return true;
        }
        if self.set.contains(key) {
            self.duplicates += 1;
            return false;
        }
        if self.order.len() == self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        self.set.insert(key.to_string());
        self.order.push_back(key.to_string());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::DedupWindow;

    #[test]
    fn window_forgets_oldest() {
        let mut w = DedupWindow::new(2);
        assert!(w.first_time("a"));
        assert!(!w.first_time("a"));
        assert!(w.first_time("b"));
        assert!(w.first_time("c"));
        assert!(w.first_time("a"));
        assert_eq!(w.duplicates, 1);
        let mut off = DedupWindow::new(0);
        assert!(off.first_time("x") && off.first_time("x"));
    }
}
