//! Falco's end-of-run summary ("Events detected", counts by severity and rule).

use falco_rs_rules::model::Priority;
use std::fmt::Write as _;

/// Match counters, indexed by rule id.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Total matches.
    pub total: u64,
    /// Matches per priority (index = priority number).
    pub by_priority: [u64; 8],
    /// Matches per rule id.
    pub by_rule: Vec<u64>,
}

impl Stats {
    /// Counters for `n_rules` rules.
    pub fn new(n_rules: usize) -> Self {
        Stats {
            total: 0,
            by_priority: [0; 8],
            by_rule: vec![0; n_rules],
        }
    }

    /// Counts one match.
    pub fn count(&mut self, rule_id: usize, priority: Priority) {
        self.total += 1;
        self.by_priority[priority.number() as usize] += 1;
        if let Some(c) = self.by_rule.get_mut(rule_id) {
            *c += 1;
        }
    }

    /// The summary text Falco prints to stdout at teardown.
    pub fn summary(&self, rule_names: &[&str]) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Events detected: {}", self.total);
        s.push_str("Rule counts by severity:\n");
        for p in Priority::ALL {
            let n = self.by_priority[p.number() as usize];
            if n > 0 {
                let _ = writeln!(s, "   {}: {n}", p.short_name().to_uppercase());
            }
        }
        s.push_str("Triggered rules by rule name:\n");
        for (i, n) in self.by_rule.iter().enumerate() {
            if *n > 0 {
                let _ = writeln!(s, "   {}: {n}", rule_names.get(i).copied().unwrap_or(""));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_format() {
        let mut st = Stats::new(3);
        st.count(2, Priority::Warning);
        st.count(2, Priority::Warning);
        st.count(0, Priority::Informational);
        assert_eq!(
            st.summary(&["A", "B", "C"]),
            "Events detected: 3\nRule counts by severity:\n   WARNING: 2\n   INFO: 1\nTriggered rules by rule name:\n   A: 1\n   C: 2\n"
        );
    }
}
