//! Output channels with Falco's config keys: stdout, file, program, syslog and http.
//! Each channel runs on its own thread behind a bounded queue ([`OutputHub`]), so a
//! slow or failing channel never blocks the others or the engine; every dropped or
//! failed alert is counted and reported, never silent.
//!
//! The engine hands alerts over in batches ([`Outputs`] collects up to
//! [`SUBMIT_BATCH`] alerts, or the alerts of one source batch): one queue operation and at
//! most one thread wake-up per batch instead of one per alert.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

/// One alert as written to channels.
#[derive(Debug, Clone)]
pub struct OutputLine {
    /// The rendered alert (text line or JSON object), without newline. Moved from the
    /// renderer to the channel (a copy only for each channel but the last).
    pub text: String,
    /// syslog severity (0..7).
    pub severity: u8,
}

/// A destination for alerts.
pub trait Channel: Send {
    /// Name for logs and metrics (`stdout`, `file`, ...).
    fn name(&self) -> &'static str;
    /// Writes one alert. An error is counted and logged by the hub.
    fn write(&mut self, line: &OutputLine) -> Result<(), String>;
    /// Starts a batch of alerts handed over together: a channel may defer per-alert
    /// flushing, opening and closing to [`Channel::end_batch`].
    fn begin_batch(&mut self) {}
    /// Ends a batch: flushes (and closes) what the writes of the batch deferred.
    fn end_batch(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// Flushes buffered data.
    fn flush(&mut self) {}
    /// Reopens files/programs (SIGUSR1).
    fn reopen(&mut self) {}
}

/// `stdout_output`.
pub struct StdoutChannel {
    out: BufWriter<io::Stdout>,
    buffered: bool,
    in_batch: bool,
}

impl StdoutChannel {
    /// Stdout; unbuffered means flushed after every alert.
    pub fn new(buffered: bool) -> Self {
        StdoutChannel {
            out: BufWriter::with_capacity(64 * 1024, io::stdout()),
            buffered,
            in_batch: false,
        }
    }
}

impl Channel for StdoutChannel {
    fn name(&self) -> &'static str {
        "stdout"
    }

    fn write(&mut self, line: &OutputLine) -> Result<(), String> {
        let r = self
            .out
            .write_all(line.text.as_bytes())
            .and_then(|_| self.out.write_all(b"\n"))
            .and_then(|_| {
                if self.buffered || self.in_batch {
                    Ok(())
                } else {
                    self.out.flush()
                }
            });
        match r {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.to_string()),
            _ => Ok(()),
        }
    }

    fn begin_batch(&mut self) {
        self.in_batch = true;
    }

    /// Unbuffered stdout is flushed once per batch: the alerts of a batch were
    /// handed over at the same time.
    fn end_batch(&mut self) -> Result<(), String> {
        self.in_batch = false;
        if self.buffered {
            return Ok(());
        }
        match self.out.flush() {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.to_string()),
            _ => Ok(()),
        }
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

/// Bytes of alerts a file channel collects before writing them when every batch ends
/// with a flush: large writes cost the kernel fewer calls and less zeroing of partly
/// written pages (alert-heavy replay: 7,760 writes -> 392).
const FILE_BUFFER: usize = 256 * 1024;

/// What a file that stays open and is flushed only when full (`buffered_outputs` with
/// `keep_alive`) collects: the size of the C++ stream buffer behind Falco's file output,
/// so that alerts wait no longer than they would in Falco.
const FILE_STREAM_BUFFER: usize = 8 * 1024;

/// `file_output`: appends one line per alert; without `keep_alive` the file is opened
/// and closed for every alert (for every batch of a source that batches).
pub struct FileChannel {
    path: PathBuf,
    keep_alive: bool,
    buffered: bool,
    in_batch: bool,
    file: Option<File>,
    /// Lines not written yet (kept allocated across batches).
    pending: Vec<u8>,
}

impl FileChannel {
    /// A file channel.
    pub fn new(path: PathBuf, keep_alive: bool, buffered: bool) -> Self {
        FileChannel {
            path,
            keep_alive,
            buffered,
            in_batch: false,
            file: None,
            pending: Vec::new(),
        }
    }

    fn open(&self) -> io::Result<File> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
    }

    /// Writes the pending lines to the open file (dropped with the error if that fails,
    /// which the caller reports).
    fn write_pending(&mut self) -> io::Result<()> {
        let r = match self.file.as_mut() {
            Some(f) if !self.pending.is_empty() => f.write_all(&self.pending),
            _ => Ok(()),
        };
        self.pending.clear();
        r
    }

    fn error(&self, e: io::Error) -> String {
        format!("{}: {e}", self.path.display())
    }
}

/// Lines still pending are written when the channel goes (as a `BufWriter` would).
impl Drop for FileChannel {
    fn drop(&mut self) {
        let _ = self.write_pending();
    }
}

impl Channel for FileChannel {
    fn name(&self) -> &'static str {
        "file"
    }

    fn write(&mut self, line: &OutputLine) -> Result<(), String> {
        if self.file.is_none() {
            self.file = Some(self.open().map_err(|e| self.error(e))?);
        }
        self.pending.extend_from_slice(line.text.as_bytes());
        self.pending.push(b'\n');
        // A buffered file kept open collects like Falco's stream; a batch collects until
        // its end; anything else takes each alert at once.
        let limit = if self.buffered && self.keep_alive {
            FILE_STREAM_BUFFER
        } else if self.in_batch {
            FILE_BUFFER
        } else {
            0
        };
        let r = if self.pending.len() > limit {
            self.write_pending()
        } else {
            Ok(())
        };
        if !self.keep_alive && !self.in_batch {
            self.file = None;
        }
        r.map_err(|e| self.error(e))
    }

    fn begin_batch(&mut self) {
        self.in_batch = true;
    }

    /// A batch is written through one open file and flushed once; without
    /// `keep_alive` the file is closed after the batch (reopened for the next one).
    fn end_batch(&mut self) -> Result<(), String> {
        self.in_batch = false;
        let r = if !self.buffered || !self.keep_alive {
            self.write_pending()
        } else {
            Ok(())
        };
        if !self.keep_alive {
            self.file = None;
        }
        r.map_err(|e| self.error(e))
    }

    fn flush(&mut self) {
        let _ = self.write_pending();
    }

    fn reopen(&mut self) {
        let _ = self.write_pending();
        self.file = None;
    }
}

/// `program_output`: pipes alerts to `sh -c <program>`; with `keep_alive` one process
/// receives every alert, otherwise a process per alert.
pub struct ProgramChannel {
    program: String,
    keep_alive: bool,
    buffered: bool,
    child: Option<(Child, BufWriter<ChildStdin>)>,
}

impl ProgramChannel {
    /// A program channel.
    pub fn new(program: String, keep_alive: bool, buffered: bool) -> Self {
        ProgramChannel {
            program,
            keep_alive,
            buffered,
            child: None,
        }
    }

    fn spawn(&self) -> Result<(Child, BufWriter<ChildStdin>), String> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.program)
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start '{}': {e}", self.program))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| format!("no stdin for '{}'", self.program))?;
        Ok((child, BufWriter::new(stdin)))
    }

    fn close(&mut self) {
        if let Some((mut child, mut stdin)) = self.child.take() {
            let _ = stdin.flush();
            drop(stdin);
            let _ = child.wait();
        }
    }
}

impl Channel for ProgramChannel {
    fn name(&self) -> &'static str {
        "program"
    }

    fn write(&mut self, line: &OutputLine) -> Result<(), String> {
        if self.child.is_none() {
            self.child = Some(self.spawn()?);
        }
        let buffered = self.buffered && self.keep_alive;
        let result = match self.child.as_mut() {
            Some((_, stdin)) => stdin
                .write_all(line.text.as_bytes())
                .and_then(|_| stdin.write_all(b"\n"))
                .and_then(|_| if buffered { Ok(()) } else { stdin.flush() })
                .map_err(|e| format!("'{}': {e}", self.program)),
            None => Ok(()),
        };
        if result.is_err() || !self.keep_alive {
            self.close();
        }
        result
    }

    fn flush(&mut self) {
        if let Some((_, stdin)) = self.child.as_mut() {
            let _ = stdin.flush();
        }
    }

    fn reopen(&mut self) {
        self.close();
    }
}

impl Drop for ProgramChannel {
    fn drop(&mut self) {
        self.close();
    }
}

/// `syslog_output`: datagrams to the local syslog socket, facility LOG_USER, severity
/// from the rule priority (as Falco's `syslog(priority, msg)`).
pub struct SyslogChannel {
    #[cfg(unix)]
    socket: Option<std::os::unix::net::UnixDatagram>,
    path: PathBuf,
}

impl SyslogChannel {
    /// A syslog channel writing to `path` (normally `/dev/log`).
    pub fn new(path: PathBuf) -> Self {
        SyslogChannel {
            #[cfg(unix)]
            socket: None,
            path,
        }
    }
}

impl Channel for SyslogChannel {
    fn name(&self) -> &'static str {
        "syslog"
    }

    #[cfg(unix)]
    fn write(&mut self, line: &OutputLine) -> Result<(), String> {
        use std::os::unix::net::UnixDatagram;
        if self.socket.is_none() {
            let s = UnixDatagram::unbound().map_err(|e| e.to_string())?;
            s.connect(&self.path)
                .map_err(|e| format!("{}: {e}", self.path.display()))?;
            self.socket = Some(s);
        }
        let pri = 8 + u32::from(line.severity.min(7));
        let msg = format!("<{pri}>falco: {}", line.text);
        let sent = self.socket.as_ref().map(|s| s.send(msg.as_bytes()));
        match sent {
            Some(Ok(_)) | None => Ok(()),
            Some(Err(e)) => {
                self.socket = None;
                Err(format!("{}: {e}", self.path.display()))
            }
        }
    }

    #[cfg(not(unix))]
    fn write(&mut self, _line: &OutputLine) -> Result<(), String> {
        Err("syslog output needs a Unix socket".into())
    }
}

/// `http_output` settings.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    /// Target URL (surrounding quotes removed).
    pub url: String,
    /// User-Agent (default `falcosecurity/falco`).
    pub user_agent: String,
    /// Skip TLS verification.
    pub insecure: bool,
    /// CA certificate/bundle files to trust instead of the built-in roots.
    pub ca_files: Vec<PathBuf>,
    /// Client certificate and key for mTLS.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// gzip request bodies.
    pub compress: bool,
    /// Print response bodies to stdout.
    pub echo: bool,
    /// `Content-Type` (JSON when `json_output`).
    pub content_type: String,
    /// Attempts per alert before it is counted as dropped.
    pub max_attempts: u32,
}

/// `http_output`: one POST per alert, retried with backoff.
pub struct HttpChannel {
    settings: HttpSettings,
    agent: ureq::Agent,
}

impl HttpChannel {
    /// Builds the client (TLS roots, mTLS, timeouts).
    pub fn new(settings: HttpSettings) -> Result<Self, String> {
        use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
        let mut tls = TlsConfig::builder().disable_verification(settings.insecure);
        if !settings.ca_files.is_empty() {
            let mut certs = Vec::new();
            for f in &settings.ca_files {
                let pem = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
                for item in ureq::tls::parse_pem(&pem) {
                    if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
                        certs.push(c);
                    }
                }
            }
            if certs.is_empty() {
                return Err(
                    "http_output: no CA certificate found in ca_cert/ca_bundle/ca_path".into(),
                );
            }
            tls = tls.root_certs(RootCerts::from(certs.into_iter().map(|c| c.to_owned())));
        }
        if let Some((cert, key)) = &settings.client_cert {
            let cpem = std::fs::read(cert).map_err(|e| format!("{}: {e}", cert.display()))?;
            let kpem = std::fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?;
            let chain: Vec<Certificate<'static>> = ureq::tls::parse_pem(&cpem)
                .filter_map(|i| match i {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c.to_owned()),
                    _ => None,
                })
                .collect();
            let key = PrivateKey::from_pem(&kpem)
                .map_err(|e| format!("{}: {e}", key.display()))?
                .to_owned();
            tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .user_agent(settings.user_agent.as_str())
            .build()
            .into();
        Ok(HttpChannel { settings, agent })
    }

    fn post(&self, body: &[u8]) -> Result<(), String> {
        let mut req = self
            .agent
            .post(&self.settings.url)
            .header("Content-Type", &self.settings.content_type);
        let payload: Vec<u8> = if self.settings.compress {
            req = req.header("Content-Encoding", "gzip");
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(body).map_err(|e| e.to_string())?;
            enc.finish().map_err(|e| e.to_string())?
        } else {
            body.to_vec()
        };
        let mut resp = req.send(&payload[..]).map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        if self.settings.echo {
            if let Ok(text) = resp.body_mut().read_to_string() {
                println!("{text}");
            }
        }
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("{} answered {status}", self.settings.url))
        }
    }
}

impl Channel for HttpChannel {
    fn name(&self) -> &'static str {
        "http"
    }

    fn write(&mut self, line: &OutputLine) -> Result<(), String> {
        let mut delay = Duration::from_millis(100);
        let attempts = self.settings.max_attempts.max(1);
        let mut last = String::new();
        for attempt in 1..=attempts {
            match self.post(line.text.as_bytes()) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
            if attempt < attempts {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
        Err(format!("gave up after {attempts} attempts: {last}"))
    }
}

/// Counters of one channel.
#[derive(Debug, Default)]
pub struct ChannelStats {
    /// Alerts written.
    pub written: AtomicU64,
    /// Alerts dropped because the channel's queue was full.
    pub dropped: AtomicU64,
    /// Alerts that failed to write (after retries for http).
    pub errors: AtomicU64,
}

enum Msg {
    Lines(Vec<OutputLine>),
    Flush(mpsc::Sender<()>),
    Reopen,
}

struct Worker {
    name: &'static str,
    tx: Sender<Msg>,
    /// Alerts queued and not yet written (bounded by the hub's capacity).
    queued: Arc<AtomicUsize>,
    stats: Arc<ChannelStats>,
    handle: std::thread::JoinHandle<()>,
}

/// Every enabled channel, each behind its own bounded queue and thread.
pub struct OutputHub {
    workers: Vec<Worker>,
    capacity: usize,
}

impl OutputHub {
    /// Starts one worker per channel; each queue holds `capacity` alerts.
    pub fn new(channels: Vec<Box<dyn Channel>>, capacity: usize) -> Self {
        let workers = channels
            .into_iter()
            .map(|mut ch| {
                let (tx, rx): (Sender<Msg>, Receiver<Msg>) = mpsc::channel();
                let stats = Arc::new(ChannelStats::default());
                let queued = Arc::new(AtomicUsize::new(0));
                let (s2, q2) = (stats.clone(), queued.clone());
                let name = ch.name();
                let handle = std::thread::Builder::new()
                    .name(format!("falco-rs-output-{name}"))
                    .spawn(move || {
                        for msg in rx {
                            match msg {
                                Msg::Lines(lines) => {
                                    ch.begin_batch();
                                    for line in &lines {
                                        write_one(ch.as_mut(), line, &s2);
                                        q2.fetch_sub(1, Ordering::Relaxed);
                                    }
                                    if let Err(e) = ch.end_batch() {
                                        record_error(name, &s2, &e);
                                    }
                                }
                                Msg::Flush(ack) => {
                                    ch.flush();
                                    let _ = ack.send(());
                                }
                                Msg::Reopen => ch.reopen(),
                            }
                        }
                        ch.flush();
                    })
                    .unwrap_or_else(|e| panic!("cannot start the {name} output thread: {e}"));
                Worker {
                    name,
                    tx,
                    queued,
                    stats,
                    handle,
                }
            })
            .collect();
        OutputHub {
            workers,
            capacity: capacity.max(1),
        }
    }

    /// Whether any channel is enabled.
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// Queues alerts, in order, for every channel. A channel whose queue cannot take them
    /// all takes what fits and drops the rest, counted and reported.
    pub fn emit_batch(&self, lines: Vec<OutputLine>) {
        if lines.is_empty() {
            return;
        }
        let last = self.workers.len().saturating_sub(1);
        let mut lines = lines;
        for (k, w) in self.workers.iter().enumerate() {
            // The last channel takes the batch itself, the others a copy.
            let mut mine = if k == last {
                std::mem::take(&mut lines)
            } else {
                lines.clone()
            };
            let room = self
                .capacity
                .saturating_sub(w.queued.load(Ordering::Relaxed));
            let dropped = mine.len().saturating_sub(room);
            mine.truncate(mine.len() - dropped);
            let taken = mine.len();
            if taken > 0 {
                w.queued.fetch_add(taken, Ordering::Relaxed);
                if w.tx.send(Msg::Lines(mine)).is_err() {
                    w.queued.fetch_sub(taken, Ordering::Relaxed);
                    self.count_dropped(w, taken);
                }
            }
            if dropped > 0 {
                self.count_dropped(w, dropped);
            }
        }
    }

    fn count_dropped(&self, w: &Worker, count: usize) {
        let before = w.stats.dropped.fetch_add(count as u64, Ordering::Relaxed);
        let after = before + count as u64;
        // Report the first ten drops, then at every power of two.
        let crossed_power = (before + 1..=after).any(u64::is_power_of_two);
        if before < 10 || crossed_power {
            log::error!(
                "{} output queue full, {count} alert(s) dropped (#{after} dropped)",
                w.name
            );
        }
    }

    /// Waits until every channel has written what was queued so far and flushed.
    pub fn flush(&self) {
        let acks: Vec<_> = self
            .workers
            .iter()
            .filter_map(|w| {
                let (tx, rx) = mpsc::channel();
                w.tx.send(Msg::Flush(tx)).ok().map(|_| rx)
            })
            .collect();
        for rx in acks {
            let _ = rx.recv();
        }
    }

    /// Asks file and program channels to reopen (SIGUSR1).
    pub fn reopen(&self) {
        for w in &self.workers {
            let _ = w.tx.send(Msg::Reopen);
        }
    }

    /// Per-channel counters.
    pub fn stats(&self) -> Vec<(&'static str, Arc<ChannelStats>)> {
        self.workers
            .iter()
            .map(|w| (w.name, w.stats.clone()))
            .collect()
    }

    /// Drains every queue and stops the workers. Returns alerts dropped or failed.
    pub fn shutdown(mut self) -> u64 {
        self.drain()
    }

    fn drain(&mut self) -> u64 {
        let mut lost = 0;
        for w in self.workers.drain(..) {
            drop(w.tx);
            let _ = w.handle.join();
            lost +=
                w.stats.dropped.load(Ordering::Relaxed) + w.stats.errors.load(Ordering::Relaxed);
        }
        lost
    }
}

/// Writes one alert on a worker thread, counting the result.
fn write_one(ch: &mut dyn Channel, line: &OutputLine, stats: &ChannelStats) {
    match ch.write(line) {
        Ok(()) => {
            stats.written.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => record_error(ch.name(), stats, &e),
    }
}

/// Counts a write or flush error of channel `name`; logs the first ten, then every
/// power of two.
fn record_error(name: &str, stats: &ChannelStats, e: &str) {
    let n = stats.errors.fetch_add(1, Ordering::Relaxed);
    if n < 10 || n.is_power_of_two() {
        log::error!("{name} output error (#{}): {e}", n + 1);
    }
}

impl Drop for OutputHub {
    /// Writes everything still queued before the channels go away.
    fn drop(&mut self) {
        self.drain();
    }
}

/// Alerts [`Outputs`] collects before handing them to the channels in one batch.
pub const SUBMIT_BATCH: usize = 256;

/// The engine's handle on the output channels: queues alerts to the [`OutputHub`] and
/// tracks alerts that could not be delivered.
pub struct Outputs {
    hub: OutputHub,
    /// Alerts not yet handed to the channels (see [`Outputs::submit`]).
    pending: Vec<OutputLine>,
    /// Alerts dropped or failed so far (updated by [`Outputs::flush`]).
    pub errors: u64,
}

impl Default for Outputs {
    fn default() -> Self {
        Outputs::new(Vec::new(), 1)
    }
}

impl Outputs {
    /// Starts the channels, each with a queue of `capacity` alerts.
    pub fn new(channels: Vec<Box<dyn Channel>>, capacity: usize) -> Self {
        Outputs {
            hub: OutputHub::new(channels, capacity),
            pending: Vec::new(),
            errors: 0,
        }
    }

    /// Whether at least one channel is enabled.
    pub fn any_enabled(&self) -> bool {
        !self.hub.is_empty()
    }

    /// Queues one alert with syslog severity Notice.
    pub fn emit(&mut self, line: String) {
        self.emit_alert(line, 5);
    }

    /// Queues one alert with its syslog severity (the rule priority number). It reaches
    /// the channels with the next [`Outputs::submit`], at the latest after
    /// [`SUBMIT_BATCH`] alerts.
    pub fn emit_alert(&mut self, line: String, severity: u8) {
        if self.hub.is_empty() {
            return;
        }
        self.pending.push(OutputLine {
            text: line,
            severity,
        });
        if self.pending.len() >= SUBMIT_BATCH {
            self.submit();
        }
    }

    /// Hands the collected alerts to the channels without waiting for them to be
    /// written (called after each source batch, so live alerts are not held back).
    pub fn submit(&mut self) {
        if !self.pending.is_empty() {
            let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(16));
            self.hub.emit_batch(batch);
        }
    }

    /// Waits until every queued alert is written and flushed; updates `errors`.
    pub fn flush(&mut self) {
        self.submit();
        self.hub.flush();
        self.errors = self
            .hub
            .stats()
            .iter()
            .map(|(_, s)| s.dropped.load(Ordering::Relaxed) + s.errors.load(Ordering::Relaxed))
            .sum();
    }

    /// Reopens file and program channels (after handing over the collected alerts).
    pub fn reopen(&mut self) {
        self.submit();
        self.hub.reopen();
    }

    /// Per-channel counters.
    pub fn stats(&self) -> Vec<(&'static str, Arc<ChannelStats>)> {
        self.hub.stats()
    }
}

impl Drop for Outputs {
    /// Hands collected alerts over before the hub drains its queues.
    fn drop(&mut self) {
        self.submit();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test files are scratch files
mod batch_tests {
    use super::*;

    fn line(text: &str) -> OutputLine {
        OutputLine {
            text: text.to_string(),
            severity: 4,
        }
    }

    /// A batch is complete on disk at its end; without keep_alive the file is closed
    /// after each batch, so a file moved away (log rotation) is recreated by the next.
    #[test]
    fn file_batches_are_flushed_and_reopened() {
        let dir = std::env::temp_dir().join(format!("falco-rs-batch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("alerts.txt");
        for keep_alive in [false, true] {
            let _ = std::fs::remove_file(&path);
            let mut ch = FileChannel::new(path.clone(), keep_alive, false);
            ch.begin_batch();
            for t in ["a", "b", "c"] {
                ch.write(&line(t)).unwrap();
            }
            ch.end_batch().unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\nb\nc\n");
            std::fs::rename(&path, dir.join("rotated.txt")).unwrap();
            ch.begin_batch();
            ch.write(&line("d")).unwrap();
            ch.end_batch().unwrap();
            if keep_alive {
                // The open file followed the rename.
                assert!(!path.exists());
                assert_eq!(
                    std::fs::read_to_string(dir.join("rotated.txt")).unwrap(),
                    "a\nb\nc\nd\n"
                );
            } else {
                assert_eq!(std::fs::read_to_string(&path).unwrap(), "d\n");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// When each alert reaches the file: at once unless buffered and kept open; with
    /// `buffered_outputs` + `keep_alive` once 8 KiB wait (whole lines), on `flush` or when
    /// the channel goes; in a batch before 256 KiB wait and at its end.
    #[test]
    fn file_writes_keep_alerts_waiting_no_longer_than_falco() {
        let dir = std::env::temp_dir().join(format!("falco-rs-filebuf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("alerts.txt");
        let on_disk = || std::fs::read_to_string(&path).unwrap_or_default();
        let alert = "x".repeat(999);
        // Unbuffered, or closed after each alert (without keep_alive) even if buffered.
        for (keep_alive, buffered) in [(false, false), (true, false), (false, true)] {
            let _ = std::fs::remove_file(&path);
            let mut ch = FileChannel::new(path.clone(), keep_alive, buffered);
            ch.write(&line("a")).unwrap();
            assert_eq!(
                on_disk(),
                "a\n",
                "keep_alive {keep_alive} buffered {buffered}"
            );
        }

        let _ = std::fs::remove_file(&path);
        let mut ch = FileChannel::new(path.clone(), true, true);
        for i in 1..=8 {
            ch.write(&line(&alert)).unwrap();
            assert_eq!(on_disk().len(), 0, "buffered: {i} KB wait");
        }
        ch.write(&line(&alert)).unwrap();
        assert_eq!(on_disk().len(), 9000, "buffered: past 8 KiB, whole lines");
        ch.write(&line("b")).unwrap();
        ch.flush();
        assert_eq!(on_disk().len(), 9002);
        ch.write(&line("c")).unwrap();
        drop(ch);
        assert!(on_disk().ends_with("\nb\nc\n"));

        for keep_alive in [false, true] {
            let _ = std::fs::remove_file(&path);
            let mut ch = FileChannel::new(path.clone(), keep_alive, false);
            ch.begin_batch();
            for _ in 0..262 {
                ch.write(&line(&alert)).unwrap();
            }
            assert_eq!(on_disk().len(), 0, "a batch of 262,000 bytes waits");
            ch.write(&line(&alert)).unwrap();
            assert_eq!(on_disk().len(), 263_000, "past 256 KiB");
            ch.write(&line("d")).unwrap();
            ch.end_batch().unwrap();
            assert_eq!(on_disk().len(), 263_002);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
