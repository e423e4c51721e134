//! Prometheus metrics of a falco-rs process, rendered for the webserver's `/metrics`.

use falco_rs_output::ChannelStats;
use falco_rs_sources::cloudwatch::EksStats;
use falco_rs_sources::webhook::{WebhookStats, LATENCY_BUCKETS};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Process-wide counters; sources and outputs register their own stats.
#[derive(Default)]
pub struct Metrics {
    /// Events evaluated by the engine.
    pub events_evaluated: AtomicU64,
    /// Events skipped as duplicates before evaluation.
    pub events_duplicate: AtomicU64,
    /// Alerts withheld by suppression (also counted in `alerts`).
    pub alerts_suppressed: AtomicU64,
    /// Alerts per (rule, priority).
    pub alerts: Mutex<BTreeMap<(String, &'static str), u64>>,
    /// Rules currently loaded.
    pub rules_loaded: AtomicU64,
    /// Duration of the last successful rules load, in microseconds.
    pub rules_load_micros: AtomicU64,
    /// Reloads attempted.
    pub reloads: AtomicU64,
    /// 1 when the last reload succeeded, 0 when it failed, -1 before any reload.
    pub last_reload_success: AtomicI64,
    /// Webhook counters, when the webhook runs.
    pub webhook: Mutex<Option<Arc<WebhookStats>>>,
    /// EKS counters, when the EKS source runs.
    pub eks: Mutex<Option<Arc<EksStats>>>,
    /// Output channel counters.
    pub outputs: Mutex<Vec<(&'static str, Arc<ChannelStats>)>>,
    /// Events waiting in the engine queue.
    pub queue_depth: Mutex<Option<Box<dyn Fn() -> usize + Send>>>,
}

/// Picks one counter of an output channel.
type ChannelCounter = fn(&ChannelStats) -> &AtomicU64;

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

impl Metrics {
    /// A fresh registry.
    pub fn new() -> Arc<Metrics> {
        let m = Metrics::default();
        m.last_reload_success.store(-1, Ordering::Relaxed);
        Arc::new(m)
    }

    /// Counts one alert.
    pub fn alert(&self, rule: &str, priority: &'static str) {
        if let Ok(mut a) = self.alerts.lock() {
            *a.entry((rule.to_string(), priority)).or_insert(0) += 1;
        }
    }

    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let ld = |a: &AtomicU64| a.load(Ordering::Relaxed);
        header(
            &mut o,
            "falco_rs_events_evaluated_total",
            "counter",
            "Audit events evaluated against the rules.",
        );
        let _ = writeln!(
            o,
            "falco_rs_events_evaluated_total{{source=\"k8s_audit\"}} {}",
            ld(&self.events_evaluated)
        );
        header(
            &mut o,
            "falco_rs_events_duplicate_total",
            "counter",
            "Re-delivered events skipped before evaluation.",
        );
        let _ = writeln!(
            o,
            "falco_rs_events_duplicate_total{{source=\"k8s_audit\"}} {}",
            ld(&self.events_duplicate)
        );
        header(
            &mut o,
            "falco_rs_alerts_total",
            "counter",
            "Alerts by rule and priority.",
        );
        if let Ok(a) = self.alerts.lock() {
            for ((rule, prio), n) in a.iter() {
                let _ = writeln!(
                    o,
                    "falco_rs_alerts_total{{rule=\"{}\",priority=\"{prio}\"}} {n}",
                    escape(rule)
                );
            }
        }
        header(
            &mut o,
            "falco_rs_rules_loaded",
            "gauge",
            "Rules compiled in the active ruleset.",
        );
        let _ = writeln!(o, "falco_rs_rules_loaded {}", ld(&self.rules_loaded));
        header(
            &mut o,
            "falco_rs_rules_load_seconds",
            "gauge",
            "Duration of the last successful rules load.",
        );
        let _ = writeln!(
            o,
            "falco_rs_rules_load_seconds {:.6}",
            ld(&self.rules_load_micros) as f64 / 1e6
        );
        header(
            &mut o,
            "falco_rs_rules_reloads_total",
            "counter",
            "Rules reloads attempted.",
        );
        let _ = writeln!(o, "falco_rs_rules_reloads_total {}", ld(&self.reloads));
        header(
            &mut o,
            "falco_rs_rules_last_reload_success",
            "gauge",
            "1 if the last reload succeeded, 0 if it failed, -1 before any reload.",
        );
        let _ = writeln!(
            o,
            "falco_rs_rules_last_reload_success {}",
            self.last_reload_success.load(Ordering::Relaxed)
        );
        if let Some(depth) = self
            .queue_depth
            .lock()
            .ok()
            .and_then(|q| q.as_ref().map(|f| f()))
        {
            header(
                &mut o,
                "falco_rs_queue_events",
                "gauge",
                "Events waiting for the engine.",
            );
            let _ = writeln!(o, "falco_rs_queue_events {depth}");
        }
        if let Some(w) = self.webhook.lock().ok().and_then(|w| w.clone()) {
            header(
                &mut o,
                "falco_rs_webhook_requests_total",
                "counter",
                "Requests on the audit webhook path.",
            );
            let _ = writeln!(o, "falco_rs_webhook_requests_total {}", ld(&w.requests));
            header(
                &mut o,
                "falco_rs_events_received_total",
                "counter",
                "Audit events accepted from a source.",
            );
            let _ = writeln!(
                o,
                "falco_rs_events_received_total{{source=\"webhook\"}} {}",
                ld(&w.accepted_events)
            );
            header(
                &mut o,
                "falco_rs_events_malformed_total",
                "counter",
                "Rejected items (not events, bad timestamps, too large).",
            );
            let _ = writeln!(
                o,
                "falco_rs_events_malformed_total{{source=\"webhook\"}} {}",
                ld(&w.rejected_items)
            );
            header(
                &mut o,
                "falco_rs_webhook_client_errors_total",
                "counter",
                "Requests answered 4xx.",
            );
            let _ = writeln!(
                o,
                "falco_rs_webhook_client_errors_total {}",
                ld(&w.client_errors)
            );
            header(
                &mut o,
                "falco_rs_webhook_overload_total",
                "counter",
                "Requests answered 503 because the queue was full.",
            );
            let _ = writeln!(o, "falco_rs_webhook_overload_total {}", ld(&w.overloaded));
            header(
                &mut o,
                "falco_rs_webhook_request_duration_seconds",
                "histogram",
                "Audit webhook request latency.",
            );
            let mut cum = 0;
            for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
                cum += ld(&w.latency.buckets[i]);
                let _ = writeln!(
                    o,
                    "falco_rs_webhook_request_duration_seconds_bucket{{le=\"{b}\"}} {cum}"
                );
            }
            cum += ld(&w.latency.buckets[LATENCY_BUCKETS.len()]);
            let _ = writeln!(
                o,
                "falco_rs_webhook_request_duration_seconds_bucket{{le=\"+Inf\"}} {cum}"
            );
            let _ = writeln!(
                o,
                "falco_rs_webhook_request_duration_seconds_sum {:.6}",
                ld(&w.latency.sum_micros) as f64 / 1e6
            );
            let _ = writeln!(
                o,
                "falco_rs_webhook_request_duration_seconds_count {}",
                ld(&w.latency.count)
            );
        }
        if let Some(e) = self.eks.lock().ok().and_then(|e| e.clone()) {
            header(
                &mut o,
                "falco_rs_events_received_total",
                "counter",
                "Audit events accepted from a source.",
            );
            let _ = writeln!(
                o,
                "falco_rs_events_received_total{{source=\"eks\"}} {}",
                ld(&e.events)
            );
            header(
                &mut o,
                "falco_rs_events_malformed_total",
                "counter",
                "Rejected items (not events, bad timestamps, too large).",
            );
            let _ = writeln!(
                o,
                "falco_rs_events_malformed_total{{source=\"eks\"}} {}",
                ld(&e.malformed)
            );
            header(
                &mut o,
                "falco_rs_eks_truncated_total",
                "counter",
                "CloudWatch messages truncated before evaluation.",
            );
            let _ = writeln!(o, "falco_rs_eks_truncated_total {}", ld(&e.truncated));
            header(
                &mut o,
                "falco_rs_eks_duplicates_total",
                "counter",
                "CloudWatch events skipped as already evaluated.",
            );
            let _ = writeln!(o, "falco_rs_eks_duplicates_total {}", ld(&e.duplicates));
            header(
                &mut o,
                "falco_rs_eks_polls_total",
                "counter",
                "Completed polls.",
            );
            let _ = writeln!(o, "falco_rs_eks_polls_total {}", ld(&e.polls));
            header(
                &mut o,
                "falco_rs_eks_errors_total",
                "counter",
                "AWS errors (each retried).",
            );
            let _ = writeln!(o, "falco_rs_eks_errors_total {}", ld(&e.errors));
            header(
                &mut o,
                "falco_rs_eks_cursor_lag_seconds",
                "gauge",
                "Seconds between now and the oldest cluster cursor.",
            );
            let _ = writeln!(
                o,
                "falco_rs_eks_cursor_lag_seconds {}",
                e.lag_seconds.load(Ordering::Relaxed)
            );
        }
        if let Ok(outs) = self.outputs.lock() {
            if !outs.is_empty() {
                let per_channel: [(&str, &str, ChannelCounter); 3] = [
                    (
                        "falco_rs_output_alerts_total",
                        "Alerts written per output channel.",
                        |s| &s.written,
                    ),
                    (
                        "falco_rs_output_dropped_total",
                        "Alerts dropped because the channel queue was full.",
                        |s| &s.dropped,
                    ),
                    (
                        "falco_rs_output_errors_total",
                        "Alerts that failed to be written.",
                        |s| &s.errors,
                    ),
                ];
                for (metric, help, counter) in per_channel {
                    header(&mut o, metric, "counter", help);
                    for (name, s) in outs.iter() {
                        let _ = writeln!(o, "{metric}{{output=\"{name}\"}} {}", ld(counter(s)));
                    }
                }
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_format() {
        let m = Metrics::new();
        m.events_evaluated.store(3, Ordering::Relaxed);
        m.alert("Rule \"A\"", "Warning");
        m.alert("Rule \"A\"", "Warning");
        let text = m.render();
        assert!(text.contains("falco_rs_events_evaluated_total{source=\"k8s_audit\"} 3\n"));
        assert!(text
            .contains("falco_rs_alerts_total{rule=\"Rule \\\"A\\\"\",priority=\"Warning\"} 2\n"));
        assert!(text.contains("falco_rs_rules_last_reload_success -1\n"));
        for line in text.lines() {
            assert!(
                line.starts_with('#') || line.split(' ').count() == 2 || line.contains("rule=\""),
                "{line}"
            );
        }
    }
}
