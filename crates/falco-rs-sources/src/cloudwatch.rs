//! EKS audit logs from CloudWatch Logs (the `k8saudit-eks` plugin), done so that
//! nothing is missed and nothing is evaluated twice.
//!
//! For each cluster the poller queries `FilterLogEvents` on `/aws/eks/<cluster>/cluster`
//! (streams `kube-apiserver-audit*`, also checked client-side) from `cursor - lookback`,
//! follows `nextToken` until it is absent (empty pages included), skips CloudWatch
//! `eventId`s already processed within the lookback window, hands each page's new
//! events to the engine and waits until they are evaluated, then advances the cursor
//! and writes the checkpoint (cursor + de-duplication window, write + rename). Late
//! events (older than the cursor but within the lookback) and events sharing a
//! millisecond are therefore evaluated exactly once, across restarts too. AWS errors
//! (throttling, unreachable endpoint, expired credentials) are logged and retried
//! with exponential backoff and jitter; the source never exits on them.

use crate::queue::EventQueue;
use aws_config::BehaviorVersion;
use aws_sdk_cloudwatchlogs::Client;
use falco_rs_k8saudit::{parse_payload, ParseOptions};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Settings of the EKS source (`k8saudit-eks` plugin entry).
#[derive(Debug, Clone)]
pub struct EksConfig {
    /// Cluster names (`open_params`, comma-separated for several clusters).
    pub clusters: Vec<String>,
    /// AWS region (else the SDK's resolution: `AWS_REGION`, profile...).
    pub region: Option<String>,
    /// Shared-config profile.
    pub profile: Option<String>,
    /// Without a checkpoint, start this many seconds before now (`shift`, in seconds as
    /// documented upstream).
    pub shift: Duration,
    /// Pause between polls (`polling_interval`, seconds).
    pub polling_interval: Duration,
    /// How far behind the cursor each query starts, to catch late-ingested events.
    pub lookback: Duration,
    /// Where to persist the cursor and the de-duplication window.
    pub checkpoint_file: Option<PathBuf>,
    /// `max_event_size`.
    pub max_event_size: usize,
    /// Log stream name prefix.
    pub stream_prefix: String,
    /// `FilterLogEvents` page size (`None`: the service default).
    pub page_size: Option<i32>,
    /// Stop on SIGTERM/SIGINT.
    pub handle_signals: bool,
}

impl EksConfig {
    /// Defaults for `clusters`.
    pub fn new(clusters: Vec<String>) -> Self {
        EksConfig {
            clusters,
            region: None,
            profile: None,
            shift: Duration::from_secs(1),
            polling_interval: Duration::from_secs(5),
            lookback: Duration::from_secs(300),
            checkpoint_file: None,
            max_event_size: ParseOptions::default().max_event_size,
            stream_prefix: "kube-apiserver-audit".into(),
            page_size: None,
            handle_signals: true,
        }
    }
}

/// Counters of the EKS source.
#[derive(Debug, Default)]
pub struct EksStats {
    /// Completed polls (all clusters).
    pub polls: AtomicU64,
    /// Pages read.
    pub pages: AtomicU64,
    /// Audit events handed to the engine.
    pub events: AtomicU64,
    /// CloudWatch events skipped as already processed.
    pub duplicates: AtomicU64,
    /// `[Truncated...]` messages.
    pub truncated: AtomicU64,
    /// Messages that are not audit events.
    pub malformed: AtomicU64,
    /// AWS errors (each retried).
    pub errors: AtomicU64,
    /// Seconds between now and the oldest cluster cursor.
    pub lag_seconds: AtomicI64,
}

/// Position of one log group.
#[derive(Debug, Clone, Default, PartialEq)]
struct GroupState {
    /// Highest CloudWatch timestamp (ms) processed.
    cursor_ms: i64,
    /// Queries never start before this (the configured start).
    floor_ms: i64,
    /// eventId -> timestamp of events processed within the lookback window.
    seen: BTreeMap<String, i64>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn log_group(cluster: &str) -> String {
    format!("/aws/eks/{cluster}/cluster")
}

/// Loads the checkpoint: log group -> state.
fn load_checkpoint(path: &PathBuf) -> Result<BTreeMap<String, GroupState>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("cannot read checkpoint {}: {e}", path.display())),
    };
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| format!("checkpoint {} is not valid JSON: {e}", path.display()))?;
    let mut out = BTreeMap::new();
    if let Some(groups) = v.get("groups").and_then(Value::as_object) {
        for (name, g) in groups {
            let seen = g
                .get("seen")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, t)| t.as_i64().map(|t| (k.clone(), t)))
                        .collect()
                })
                .unwrap_or_default();
            out.insert(
                name.clone(),
                GroupState {
                    cursor_ms: g.get("cursor_ms").and_then(Value::as_i64).unwrap_or(0),
                    floor_ms: g.get("floor_ms").and_then(Value::as_i64).unwrap_or(0),
                    seen,
                },
            );
        }
    }
    Ok(out)
}

/// Writes the checkpoint atomically (temporary file, fsync, rename).
fn save_checkpoint(path: &PathBuf, groups: &BTreeMap<String, GroupState>) -> Result<(), String> {
    let body = json!({
        "version": 1,
        "groups": groups.iter().map(|(k, g)| (k.clone(), json!({
            "cursor_ms": g.cursor_ms,
            "floor_ms": g.floor_ms,
            "seen": g.seen,
        }))).collect::<serde_json::Map<_, _>>(),
    });
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(body.to_string().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| format!("cannot write checkpoint {}: {e}", path.display()))
}

/// A running EKS source.
pub struct EksSource {
    stop: Arc<AtomicBool>,
    stats: Arc<EksStats>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EksSource {
    /// The counters.
    pub fn stats(&self) -> Arc<EksStats> {
        self.stats.clone()
    }

    /// Asks the poller to stop after the current page.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Waits for the poller to finish.
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts polling in a background thread; events go to `queue`.
pub fn start(cfg: EksConfig, queue: EventQueue) -> Result<EksSource, String> {
    if cfg.clusters.is_empty() || cfg.clusters.iter().any(|c| c.trim().is_empty()) {
        return Err("cluster name can't be empty".into());
    }
    let mut groups = match &cfg.checkpoint_file {
        Some(p) => load_checkpoint(p)?,
        None => BTreeMap::new(),
    };
    let start = now_ms() - cfg.shift.as_millis() as i64;
    for c in &cfg.clusters {
        groups.entry(log_group(c)).or_insert_with(|| GroupState {
            cursor_ms: start,
            floor_ms: start,
            seen: BTreeMap::new(),
        });
    }
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(EksStats::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the EKS runtime: {e}"))?;
    let (stop2, stats2) = (stop.clone(), stats.clone());
    let thread = std::thread::Builder::new()
        .name("falco-rs-eks".into())
        .spawn(move || {
            runtime.block_on(async move {
                if cfg.handle_signals {
                    let s = stop2.clone();
                    tokio::spawn(async move {
                        wait_for_signal().await;
                        s.store(true, Ordering::SeqCst);
                    });
                }
                let client = make_client(&cfg).await;
                let mut poller = Poller {
                    cfg,
                    client,
                    queue,
                    groups,
                    stop: stop2,
                    stats: stats2,
                };
                poller.run().await;
            });
        })
        .map_err(|e| e.to_string())?;
    Ok(EksSource {
        stop,
        stats,
        thread: Some(thread),
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => log::info!("SIGTERM received, stopping the EKS source"),
                    _ = tokio::signal::ctrl_c() => log::info!("SIGINT received, stopping the EKS source"),
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn make_client(cfg: &EksConfig) -> Client {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(30))
                .connect_timeout(Duration::from_secs(5))
                .build(),
        );
    if let Some(r) = &cfg.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    if let Some(p) = &cfg.profile {
        loader = loader.profile_name(p);
    }
    Client::new(&loader.load().await)
}

struct Poller {
    cfg: EksConfig,
    client: Client,
    queue: EventQueue,
    groups: BTreeMap<String, GroupState>,
    stop: Arc<AtomicBool>,
    stats: Arc<EksStats>,
}

/// Jittered exponential backoff: 1 s doubling to 60 s.
fn backoff(attempt: u32) -> Duration {
    let base = 1000u64.saturating_mul(1 << attempt.min(6)).min(60_000);
    let jitter = (now_ms() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) % (base / 2 + 1);
    Duration::from_millis(base / 2 + jitter)
}

impl Poller {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps, waking early when asked to stop.
    async fn pause(&self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        while !self.stopping() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50).min(d)).await;
        }
    }

    async fn run(&mut self) {
        let mut attempt = 0u32;
        while !self.stopping() {
            let clusters = self.cfg.clusters.clone();
            let mut failed = false;
            for c in &clusters {
                if self.stopping() {
                    break;
                }
                if let Err(e) = self.poll_group(&log_group(c)).await {
                    self.stats.errors.fetch_add(1, Ordering::Relaxed);
                    log::warn!("k8saudit-eks: {}: {e}; retrying", log_group(c));
                    failed = true;
                }
            }
            self.stats.polls.fetch_add(1, Ordering::Relaxed);
            let oldest = self.groups.values().map(|g| g.cursor_ms).min().unwrap_or(0);
            self.stats
                .lag_seconds
                .store((now_ms() - oldest) / 1000, Ordering::Relaxed);
            if failed {
                self.pause(backoff(attempt)).await;
                attempt = attempt.saturating_add(1);
            } else {
                attempt = 0;
                self.pause(self.cfg.polling_interval).await;
            }
        }
    }

    /// One full pagination over `[cursor - lookback, now]` for a log group.
    async fn poll_group(&mut self, group: &str) -> Result<(), String> {
        let lookback = self.cfg.lookback.as_millis() as i64;
        let (start, _) = {
            let st = self.groups.get(group).cloned().unwrap_or_default();
            ((st.cursor_ms - lookback).max(st.floor_ms).max(0), st)
        };
        let mut token: Option<String> = None;
        loop {
            if self.stopping() {
                return Ok(());
            }
            let resp = self
                .client
                .filter_log_events()
                .log_group_name(group)
                .log_stream_name_prefix(&self.cfg.stream_prefix)
                .start_time(start)
                .set_limit(self.cfg.page_size)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    use aws_sdk_cloudwatchlogs::error::DisplayErrorContext;
                    format!("FilterLogEvents failed: {}", DisplayErrorContext(&e))
                })?;
            self.stats.pages.fetch_add(1, Ordering::Relaxed);
            self.process_page(group, resp.events()).await?;
            token = resp.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(());
            }
        }
    }

    async fn process_page(
        &mut self,
        group: &str,
        page: &[aws_sdk_cloudwatchlogs::types::FilteredLogEvent],
    ) -> Result<(), String> {
        let opts = ParseOptions {
            max_event_size: self.cfg.max_event_size,
            keep_valid_siblings: true,
        };
        let mut events = Vec::new();
        let mut new_ids: Vec<(String, i64)> = Vec::new();
        {
            let st = self.groups.entry(group.to_string()).or_default();
            for e in page {
                let (Some(id), Some(ts)) = (e.event_id(), e.timestamp()) else {
                    continue;
                };
                let stream = e.log_stream_name().unwrap_or("");
                if !stream.starts_with(&self.cfg.stream_prefix) {
                    continue;
                }
                if st.seen.contains_key(id) || new_ids.iter().any(|(n, _)| n == id) {
                    self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                new_ids.push((id.to_string(), ts));
                let msg = e.message().unwrap_or("");
                if msg.ends_with("[Truncated...]") {
                    self.stats.truncated.fetch_add(1, Ordering::Relaxed);
                    let audit_id = msg
                        .find("\"auditID\":\"")
                        .map(|i| &msg[i + 11..])
                        .and_then(|r| r.split('"').next())
                        .unwrap_or("?");
                    log::error!(
                        "ALERT k8saudit-eks: audit event auditID={audit_id} (stream {stream}, eventId {id}) was truncated by CloudWatch and cannot be evaluated"
                    );
                    continue;
                }
                let out = parse_payload(msg.as_bytes(), &opts);
                for err in &out.errors {
                    self.stats.malformed.fetch_add(1, Ordering::Relaxed);
                    log::warn!("k8saudit-eks: {stream} eventId {id}: {err}");
                }
                events.extend(out.events);
            }
        }
        if !events.is_empty() {
            let n = events.len() as u64;
            let stop = self.stop.clone();
            let ack = self
                .queue
                .push_and_track(events, &move || stop.load(Ordering::SeqCst));
            match ack {
                Some(rx) => {
                    // Wait (off the async thread) until the engine has evaluated the page.
                    let done = tokio::task::spawn_blocking(move || rx.recv().is_ok())
                        .await
                        .unwrap_or(false);
                    if !done {
                        return Err("the engine stopped before evaluating the page".into());
                    }
                }
                None => return Ok(()),
            }
            self.stats.events.fetch_add(n, Ordering::Relaxed);
        }
        let lookback = self.cfg.lookback.as_millis() as i64;
        let st = self.groups.entry(group.to_string()).or_default();
        for (id, ts) in new_ids {
            st.cursor_ms = st.cursor_ms.max(ts);
            st.seen.insert(id, ts);
        }
        let horizon = st.cursor_ms - lookback;
        st.seen.retain(|_, ts| *ts >= horizon);
        if let Some(path) = &self.cfg.checkpoint_file {
            save_checkpoint(path, &self.groups)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_round_trip_is_atomic_json() {
        let dir = std::env::temp_dir().join(format!("falco-rs-ckpt-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("eks.json");
        let mut groups = BTreeMap::new();
        let mut st = GroupState {
            cursor_ms: 1_700_000_000_123,
            floor_ms: 1_699_999_999_000,
            seen: BTreeMap::new(),
        };
        st.seen.insert("3723...".into(), 1_700_000_000_100);
        groups.insert("/aws/eks/c/cluster".to_string(), st);
        save_checkpoint(&path, &groups).expect("save");
        assert!(!path.with_extension("tmp").exists());
        assert_eq!(load_checkpoint(&path).expect("load"), groups);
        assert!(load_checkpoint(&dir.join("missing.json"))
            .expect("missing")
            .is_empty());
        std::fs::write(&path, "{oops").expect("write");
        assert!(load_checkpoint(&path).is_err());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(
            backoff(0) >= Duration::from_millis(500) && backoff(0) <= Duration::from_millis(1000)
        );
        assert!(backoff(20) <= Duration::from_secs(60));
        assert!(backoff(20) >= Duration::from_secs(30));
    }
}
