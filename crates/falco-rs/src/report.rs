//! The noise report (`--report`): alerts per rule, the top (user, verb, resource,
//! namespace) tuples per rule, and for each noisy rule a ready-to-paste Falco exception
//! (appended with `override`) that would silence its top tuple, with how many alerts it
//! would have removed.

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// Who did what to which object, as read from the audit event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tuple {
    /// `ka.user.name`.
    pub user: Option<String>,
    /// `ka.verb`.
    pub verb: Option<String>,
    /// `ka.target.resource`.
    pub resource: Option<String>,
    /// `ka.target.namespace` (absent for cluster-scoped objects).
    pub namespace: Option<String>,
}

#[derive(Debug, Default)]
struct RuleNoise {
    alerts: u64,
    priority: String,
    tuples: HashMap<Tuple, u64>,
}

/// Accumulates alerts during a replay.
#[derive(Debug, Default)]
pub struct NoiseReport {
    rules: BTreeMap<String, RuleNoise>,
    order: Vec<String>,
}

/// How many tuples each rule lists.
const TOP: usize = 5;

fn yaml_scalar(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@".contains(c))
        && !v.starts_with(['-', '.', '@']);
    if plain {
        v.to_string()
    } else {
        format!("{v:?}")
    }
}

fn slug(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    s.trim_matches('_').to_string()
}

impl NoiseReport {
    /// Counts one alert of `rule` for `tuple`.
    pub fn record(&mut self, rule: &str, priority: &str, tuple: Tuple) {
        if !self.rules.contains_key(rule) {
            self.order.push(rule.to_string());
        }
        let r = self.rules.entry(rule.to_string()).or_default();
        r.alerts += 1;
        r.priority = priority.to_string();
        *r.tuples.entry(tuple).or_insert(0) += 1;
    }

    /// Rules by alert count (descending, then name).
    fn ranked(&self) -> Vec<(&String, &RuleNoise)> {
        let mut v: Vec<_> = self.rules.iter().collect();
        v.sort_by(|a, b| b.1.alerts.cmp(&a.1.alerts).then(a.0.cmp(b.0)));
        v
    }

    fn top_tuples(r: &RuleNoise) -> Vec<(&Tuple, u64)> {
        let mut t: Vec<_> = r.tuples.iter().map(|(k, v)| (k, *v)).collect();
        t.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        t.truncate(TOP);
        t
    }

    /// A Falco exception appending the tuple to `rule` (fields that are absent on the
    /// events are left out, since a comparison with an absent field is always false).
    pub fn exception_snippet(rule: &str, t: &Tuple) -> String {
        let pairs: Vec<(&str, &String)> = [
            ("ka.user.name", &t.user),
            ("ka.verb", &t.verb),
            ("ka.target.resource", &t.resource),
            ("ka.target.namespace", &t.namespace),
        ]
        .into_iter()
        .filter_map(|(f, v)| v.as_ref().map(|v| (f, v)))
        .collect();
        let fields = pairs.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ");
        let comps = pairs.iter().map(|_| "=").collect::<Vec<_>>().join(", ");
        let values = pairs
            .iter()
            .map(|(_, v)| yaml_scalar(v))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "- rule: {}\n  exceptions:\n    - name: noise_{}\n      fields: [{fields}]\n      comps: [{comps}]\n      values:\n        - [{values}]\n  override:\n    exceptions: append\n",
            yaml_scalar(rule),
            slug(rule)
        )
    }

    /// Human-readable report.
    pub fn render_text(&self) -> String {
        let mut o = String::from("Noise report\n");
        if self.rules.is_empty() {
            o.push_str("  no alerts\n");
            return o;
        }
        for (rule, r) in self.ranked() {
            let _ = writeln!(o, "\n{rule} ({}): {} alerts", r.priority, r.alerts);
            for (t, n) in Self::top_tuples(r) {
                let _ = writeln!(
                    o,
                    "  {n:>7}  user={} verb={} resource={} namespace={}",
                    t.user.as_deref().unwrap_or("<NA>"),
                    t.verb.as_deref().unwrap_or("<NA>"),
                    t.resource.as_deref().unwrap_or("<NA>"),
                    t.namespace.as_deref().unwrap_or("<NA>")
                );
            }
            if let Some((t, n)) = Self::top_tuples(r).first() {
                let _ = writeln!(
                    o,
                    "  silence the top tuple ({n} of {} alerts) with:",
                    r.alerts
                );
                for line in Self::exception_snippet(rule, t).lines() {
                    let _ = writeln!(o, "    {line}");
                }
            }
        }
        o
    }

    /// JSON report.
    pub fn render_json(&self) -> Value {
        json!({
            "rules": self.ranked().iter().map(|(rule, r)| {
                let top = Self::top_tuples(r);
                json!({
                    "rule": rule,
                    "priority": r.priority,
                    "alerts": r.alerts,
                    "top": top.iter().map(|(t, n)| json!({
                        "user": t.user, "verb": t.verb, "resource": t.resource, "namespace": t.namespace, "alerts": n,
                    })).collect::<Vec<_>>(),
                    "suggested_exception": top.first().map(|(t, n)| json!({
                        "yaml": Self::exception_snippet(rule, t),
                        "alerts_removed": n,
                    })),
                })
            }).collect::<Vec<_>>()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(user: &str, verb: &str, res: &str, ns: Option<&str>) -> Tuple {
        Tuple {
            user: Some(user.into()),
            verb: Some(verb.into()),
            resource: Some(res.into()),
            namespace: ns.map(Into::into),
        }
    }

    #[test]
    fn ranks_rules_and_tuples_and_suggests_an_exception() {
        let mut r = NoiseReport::default();
        for _ in 0..3 {
            r.record(
                "K8s Secret Get",
                "Warning",
                t(
                    "system:serviceaccount:eso:external-secrets",
                    "get",
                    "secrets",
                    Some("prod"),
                ),
            );
        }
        r.record(
            "K8s Secret Get",
            "Warning",
            t("alice", "get", "secrets", Some("dev")),
        );
        r.record(
            "Namespace Created",
            "Informational",
            t("bob", "create", "namespaces", None),
        );
        let text = r.render_text();
        assert!(
            text.starts_with("Noise report\n\nK8s Secret Get (Warning): 4 alerts\n"),
            "{text}"
        );
        assert!(text.contains("        3  user=system:serviceaccount:eso:external-secrets verb=get resource=secrets namespace=prod\n"), "{text}");
        assert!(
            text.contains("  silence the top tuple (3 of 4 alerts) with:\n"),
            "{text}"
        );
        let snippet = NoiseReport::exception_snippet(
            "Namespace Created",
            &t("bob", "create", "namespaces", None),
        );
        assert_eq!(
            snippet,
            "- rule: \"Namespace Created\"\n  exceptions:\n    - name: noise_namespace_created\n      fields: [ka.user.name, ka.verb, ka.target.resource]\n      comps: [=, =, =]\n      values:\n        - [bob, create, namespaces]\n  override:\n    exceptions: append\n"
        );
        let j = r.render_json();
        assert_eq!(j["rules"][0]["alerts"], 4);
        assert_eq!(j["rules"][0]["suggested_exception"]["alerts_removed"], 3);
    }
}
