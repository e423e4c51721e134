//! Alert suppression (opt-in, beyond Falco): identical alerts — same rule and same
//! values of the chosen output fields — within a window of event time are emitted once;
//! when the window closes, one summary alert reports how many were suppressed.
//!
//! ```yaml
//! suppression:
//!   enabled: true
//!   window: 60                      # seconds of event time
//!   fields: [ka.user.name, ka.target.namespace]   # default: every output field
//! ```

use std::collections::HashMap;

/// Suppression settings.
#[derive(Debug, Clone)]
pub struct SuppressionConfig {
    /// Window length in nanoseconds of event time.
    pub window_ns: u64,
    /// Output fields compared; empty means all of the rule's output fields.
    pub fields: Vec<String>,
}

/// What to do with an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Emit it (first of its window).
    Emit,
    /// Drop it; it is counted for the window's summary.
    Suppress,
}

/// A closed window that suppressed alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The rule index.
    pub rule: usize,
    /// Values of the compared fields (`name=value`).
    pub key: String,
    /// Alerts suppressed in the window.
    pub suppressed: u64,
    /// When the window started (event time, ns).
    pub started_ns: u64,
}

#[derive(Debug)]
struct Window {
    started_ns: u64,
    suppressed: u64,
}

/// Tracks open windows.
#[derive(Debug)]
pub struct Suppressor {
    cfg: SuppressionConfig,
    open: HashMap<(usize, String), Window>,
    /// Alerts suppressed so far.
    pub total_suppressed: u64,
}

impl Suppressor {
    /// A suppressor with `cfg`.
    pub fn new(cfg: SuppressionConfig) -> Self {
        Suppressor {
            cfg,
            open: HashMap::new(),
            total_suppressed: 0,
        }
    }

    /// The key of an alert: the chosen fields' values.
    pub fn key(&self, fields: &[(String, String)]) -> String {
        fields
            .iter()
            .filter(|(n, _)| self.cfg.fields.is_empty() || self.cfg.fields.iter().any(|f| f == n))
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Decides on one alert at event time `now_ns`; returns windows of this key that
    /// closed (to be summarised) along with the verdict.
    pub fn check(&mut self, rule: usize, key: String, now_ns: u64) -> (Verdict, Option<Summary>) {
        let window = self.cfg.window_ns;
        let k = (rule, key);
        match self.open.get_mut(&k) {
            Some(w) if now_ns < w.started_ns.saturating_add(window) => {
                w.suppressed += 1;
                self.total_suppressed += 1;
                (Verdict::Suppress, None)
            }
            Some(w) => {
                let closed = (w.suppressed > 0).then(|| Summary {
                    rule: k.0,
                    key: k.1.clone(),
                    suppressed: w.suppressed,
                    started_ns: w.started_ns,
                });
                w.started_ns = now_ns;
                w.suppressed = 0;
                (Verdict::Emit, closed)
            }
            None => {
                self.open.insert(
                    k,
                    Window {
                        started_ns: now_ns,
                        suppressed: 0,
                    },
                );
                (Verdict::Emit, None)
            }
        }
    }

    /// Closes windows that ended before `now_ns` (all of them with `u64::MAX`), returning
    /// the summaries of those that suppressed something, oldest first.
    pub fn close_expired(&mut self, now_ns: u64) -> Vec<Summary> {
        let window = self.cfg.window_ns;
        let mut out = Vec::new();
        self.open.retain(|(rule, key), w| {
            if now_ns >= w.started_ns.saturating_add(window) {
                if w.suppressed > 0 {
                    out.push(Summary {
                        rule: *rule,
                        key: key.clone(),
                        suppressed: w.suppressed,
                        started_ns: w.started_ns,
                    });
                }
                false
            } else {
                true
            }
        });
        out.sort_by(|a, b| {
            a.started_ns
                .cmp(&b.started_ns)
                .then(a.rule.cmp(&b.rule))
                .then(a.key.cmp(&b.key))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_alert_per_window_then_a_summary() {
        let mut s = Suppressor::new(SuppressionConfig {
            window_ns: 60_000_000_000,
            fields: vec!["ka.user.name".into()],
        });
        let key = s.key(&[
            ("ka.user.name".into(), "eso".into()),
            ("ka.target.name".into(), "a".into()),
        ]);
        assert_eq!(key, "ka.user.name=eso");
        assert_eq!(s.check(0, key.clone(), 0).0, Verdict::Emit);
        assert_eq!(s.check(0, key.clone(), 1_000).0, Verdict::Suppress);
        assert_eq!(s.check(0, key.clone(), 59_000_000_000).0, Verdict::Suppress);
        assert_eq!(
            s.check(1, key.clone(), 59_000_000_000).0,
            Verdict::Emit,
            "other rule"
        );
        let (v, closed) = s.check(0, key.clone(), 61_000_000_000);
        assert_eq!(v, Verdict::Emit);
        assert_eq!(closed.map(|c| c.suppressed), Some(2));
        assert_eq!(s.check(0, key.clone(), 62_000_000_000).0, Verdict::Suppress);
        let rest = s.close_expired(u64::MAX);
        assert_eq!(rest.len(), 1);
        assert_eq!((rest[0].rule, rest[0].suppressed), (0, 1));
        assert_eq!(s.total_suppressed, 3);
    }
}
