//! File and directory replay: the k8saudit plugin's plain-path mode (JSON lines, each an
//! `Event`, an `EventList` or an array of them; gzip accepted) and the legacy `-e` mode.

use crate::detector::{Detector, Evaluator, Numbering};
use falco_rs_k8saudit::{
    parse_payload_into, AuditEvent, ParseOptions, PayloadError, PayloadOutcome,
};
use flate2::read::MultiGzDecoder;
use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Counters of a replay.
#[derive(Debug, Default, Clone)]
pub struct ReplayStats {
    /// Lines (payloads) read.
    pub lines: u64,
    /// Events delivered.
    pub events: u64,
    /// Payloads or items rejected (each reported on stderr).
    pub malformed: u64,
}

/// The files a path stands for: a file, or the regular files of a directory in
/// ascending modification-time order (ties by name), as the k8saudit plugin reads them.
pub fn replay_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(path)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            let t = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (t, p)
        })
        .collect();
    files.sort();
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

/// Reads a file, transparently decompressing gzip.
pub fn read_maybe_gzip(path: &Path) -> std::io::Result<Vec<u8>> {
    let raw = std::fs::read(path)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        MultiGzDecoder::new(&raw[..]).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Opens a file for reading line by line, transparently decompressing gzip (streamed: the
/// file is never held in memory as a whole).
pub fn open_maybe_gzip(path: &Path) -> std::io::Result<Box<dyn BufRead + Send>> {
    reader_maybe_gzip(std::fs::File::open(path)?)
}

/// [`open_maybe_gzip`] on an open file (read from its current position).
fn reader_maybe_gzip(file: std::fs::File) -> std::io::Result<Box<dyn BufRead + Send>> {
    let mut reader = BufReader::with_capacity(1 << 18, file);
    if reader.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            1 << 18,
            MultiGzDecoder::new(reader),
        )))
    } else {
        Ok(Box::new(reader))
    }
}

/// Replays `path`, calling `on_event` for each event in order. Malformed lines are
/// reported on stderr with file and line number and counted; processing continues.
/// In `legacy` mode (Falco ≤ 0.31 `-e`), an unrecognised line stops the replay with
/// Falco's legacy message.
pub fn replay(
    path: &Path,
    opts: &ParseOptions,
    legacy: bool,
    stats: &mut ReplayStats,
    mut on_event: impl FnMut(AuditEvent) -> ControlFlow<()>,
) -> std::io::Result<()> {
    for file in replay_files(path)? {
        let mut reader = open_maybe_gzip(&file)?;
        let mut buf = Vec::new();
        // Reused for every line (no allocation per event).
        let mut outcome = PayloadOutcome::default();
        for i in 0usize.. {
            // A line inside the reader's buffer is parsed in place; one that crosses the
            // end of the buffer (or the last one, without newline) is copied first.
            let avail = reader.fill_buf()?;
            if avail.is_empty() {
                break;
            }
            let newline = memchr::memchr(b'\n', avail);
            let (line, consumed) = match newline {
                Some(nl) => (reader.fill_buf()?.get(..nl).unwrap_or_default(), nl + 1),
                None => {
                    buf.clear();
                    reader.read_until(b'\n', &mut buf)?;
                    (&buf[..], 0)
                }
            };
            let trimmed = trim_ascii(line);
            if trimmed.is_empty() {
                reader.consume(consumed);
                continue;
            }
            stats.lines += 1;
            parse_payload_into(trimmed, opts, &mut outcome);
            for err in outcome.errors.drain(..) {
                stats.malformed += 1;
                if legacy {
                    log::error!(
                        "Could not read k8s audit event line #{}, \"{}\": {}, stopping",
                        i + 1,
                        String::from_utf8_lossy(trimmed),
                        legacy_message(&err)
                    );
                    return Ok(());
                }
                log::warn!("{}:{}: {err}", file.display(), i + 1);
            }
            reader.consume(consumed);
            for ev in outcome.events.drain(..) {
                stats.events += 1;
                if on_event(ev).is_break() {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Bytes per chunk of a parallel replay (a unit of work for one thread; whole lines,
/// so a chunk holding a longer line is longer).
const CHUNK_BYTES: usize = 128 << 10;

/// The number of threads `-j 0` stands for: the available parallelism.
pub fn effective_jobs(jobs: usize) -> usize {
    if jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        jobs
    }
}

/// A chunk of consecutive whole lines of one file, as read (empty ones included).
struct Chunk {
    seq: usize,
    file: std::sync::Arc<PathBuf>,
    /// The chunk starts its file (line numbers restart).
    first_in_file: bool,
    /// The buffer the lines were read into (recycled through a [`BufferPool`]).
    block: Vec<u8>,
    /// Where in `block` the chunk's whole lines are.
    lines: std::ops::Range<usize>,
}

impl Chunk {
    /// The chunk's whole lines, as read (empty ones included).
    fn text(&self) -> &[u8] {
        self.block.get(self.lines.clone()).unwrap_or(&[])
    }
}

/// Read buffers handed back by the workers once a chunk is parsed: reusing them spares
/// an allocation of a chunk-sized buffer (fresh pages from the kernel) per chunk.
struct BufferPool {
    free: std::sync::Mutex<Vec<Vec<u8>>>,
    /// Most buffers kept.
    keep: usize,
}

impl BufferPool {
    fn new(keep: usize) -> Self {
        BufferPool {
            free: std::sync::Mutex::new(Vec::new()),
            keep,
        }
    }

    /// A buffer to read into: a recycled one (its old bytes still there, to be
    /// overwritten) or a new empty one.
    fn take(&self) -> Vec<u8> {
        self.free
            .lock()
            .ok()
            .and_then(|mut f| f.pop())
            .unwrap_or_default()
    }

    fn put(&self, buf: Vec<u8>) {
        if let Ok(mut f) = self.free.lock() {
            if f.len() < self.keep {
                f.push(buf);
            }
        }
    }
}

/// What a worker made of a chunk, emitted in chunk order.
#[derive(Default)]
struct ChunkResult {
    seq: usize,
    file: std::sync::Arc<PathBuf>,
    first_in_file: bool,
    /// Lines of the chunk, empty ones included (for line numbers).
    line_count: usize,
    /// Lines processed (up to the one where the replay stops).
    lines: u64,
    /// Problems, by line index in the chunk (with the line for legacy mode's message).
    errors: Vec<(usize, PayloadError, Option<String>)>,
    /// Events numbered (the one that reaches `-M` included).
    events: u64,
    /// Time of the chunk's first event.
    first_ts: Option<u64>,
    /// Alerts, in event and evaluation order.
    alerts: Vec<(usize, String)>,
    /// The replay stops in this chunk (`-M`, or a malformed line in legacy mode).
    stop: bool,
}

/// Hands out event numbers chunk by chunk, in chunk order: a worker that has parsed
/// chunk `seq` waits until every earlier chunk is numbered. It also holds back a worker
/// whose chunk is [`LEAD_CHUNKS_PER_JOB`] chunks per worker ahead of the emitter, so
/// that results waiting for an earlier, slower chunk stay bounded.
struct Ledger {
    state: std::sync::Mutex<LedgerState>,
    turn: std::sync::Condvar,
}

/// The numbers a chunk's events got.
struct Numbered {
    /// Events numbered before the chunk (its first event is `base + 1`).
    base: u64,
    /// Events of the chunk numbered.
    count: usize,
    /// Time of the first event of the replay.
    first_ts: Option<u64>,
    /// The replay stops in this chunk.
    stop: bool,
}

struct LedgerState {
    /// The chunk to number next.
    next: usize,
    numbering: Numbering,
    /// The replay has stopped: later chunks number nothing.
    stopped: bool,
    /// A worker died: nobody waits any more.
    aborted: bool,
    /// Chunks emitted so far (the emitter's next chunk).
    emitted: usize,
    /// Workers held back by the lead limit.
    held: usize,
}

/// How many chunks per worker a chunk being processed may be ahead of the emitter
/// (results of later chunks wait for the earlier ones; a long chunk must not let the
/// other workers pile up the rest of the file's results).
const LEAD_CHUNKS_PER_JOB: usize = 4;

impl Ledger {
    /// A ledger before the first chunk, numbering from `numbering`.
    fn new(numbering: Numbering) -> Ledger {
        Ledger {
            state: std::sync::Mutex::new(LedgerState {
                next: 0,
                numbering,
                stopped: false,
                aborted: false,
                emitted: 0,
                held: 0,
            }),
            turn: std::sync::Condvar::new(),
        }
    }

    /// Numbers the events of chunk `seq`, given their times: returns how many are
    /// numbered (those after the one reaching `-M` are not), the time of the first event
    /// of the replay, and whether the replay stops here. `None` after an abort.
    fn number(&self, seq: usize, times: &[u64], stop_after: Option<usize>) -> Option<Numbered> {
        let mut st = self.state.lock().ok()?;
        while st.next != seq {
            if st.aborted {
                return None;
            }
            st = self.turn.wait(st).ok()?;
        }
        let base = st.numbering.count();
        let mut count = 0usize;
        let mut stop = st.stopped;
        if !stop {
            let limit = stop_after.unwrap_or(times.len());
            for &ts in &times[..limit.min(times.len())] {
                count += 1;
                if st.numbering.next(ts).1.is_break() {
                    stop = true;
                    break;
                }
            }
            stop |= stop_after.is_some();
            st.stopped = stop;
        }
        st.next += 1;
        let first = st.numbering.first_ts();
        drop(st);
        self.turn.notify_all();
        Some(Numbered {
            base,
            count,
            first_ts: first,
            stop,
        })
    }

    /// Waits while chunk `seq` is `lead` or more chunks ahead of the emitter. The chunk
    /// the emitter waits for is never held back, so this cannot deadlock. `None` after
    /// an abort.
    fn within_lead(&self, seq: usize, lead: usize) -> Option<()> {
        let mut st = self.state.lock().ok()?;
        while seq >= st.emitted.saturating_add(lead) {
            if st.aborted {
                return None;
            }
            st.held += 1;
            st = self.turn.wait(st).ok()?;
            st.held -= 1;
        }
        Some(())
    }

    /// Records that every chunk before `next` is emitted, waking held-back workers.
    fn emitted(&self, next: usize) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        st.emitted = next;
        if st.held > 0 {
            drop(st);
            self.turn.notify_all();
        }
    }

    fn abort(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.aborted = true;
        }
        self.turn.notify_all();
    }
}

/// Marks the ledger aborted when a worker unwinds, so that no other worker waits for
/// its chunk forever.
struct AbortOnPanic<'l>(&'l Ledger);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.abort();
        }
    }
}

/// Parses, numbers and evaluates one chunk on a worker thread (`None` after an abort).
/// With `in_order`, the events are numbered by the ledger (in chunk order) before they
/// are evaluated; otherwise the numbers are left to the emitter.
#[allow(clippy::too_many_arguments)]
fn work_chunk(
    chunk: Chunk,
    pool: &BufferPool,
    opts: &ParseOptions,
    legacy: bool,
    ledger: &Ledger,
    in_order: bool,
    evaluator: &mut Evaluator<'_>,
) -> Option<ChunkResult> {
    let mut res = ChunkResult {
        seq: chunk.seq,
        file: chunk.file.clone(),
        first_in_file: chunk.first_in_file,
        ..ChunkResult::default()
    };
    // Lines as the sequential replay reads them (a final piece after the last newline is
    // a line only when not empty), numbered within the chunk; blank ones are not replayed.
    let block = chunk.text();
    let mut lines: Vec<(usize, &[u8])> = Vec::with_capacity(block.len() / 512 + 1);
    let mut add = |piece: std::ops::Range<usize>| {
        let line = trim_ascii(&block[piece]);
        if !line.is_empty() {
            lines.push((res.line_count, line));
        }
        res.line_count += 1;
    };
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', block) {
        add(start..nl);
        start = nl + 1;
    }
    if start < block.len() {
        add(start..block.len());
    }
    let mut parsed = PayloadOutcome {
        events: Vec::with_capacity(lines.len()),
        errors: Vec::new(),
    };
    // Events before each line (to count lines up to a stop).
    let mut events_before_line: Vec<usize> = Vec::with_capacity(lines.len());
    // Legacy mode stops at a malformed line: only the events before it are numbered.
    let mut stop_after: Option<usize> = None;
    for &(i, line) in &lines {
        let before = parsed.events.len();
        events_before_line.push(before);
        parse_payload_into(line, opts, &mut parsed);
        if legacy {
            if let Some(err) = parsed.errors.drain(..).next() {
                // The line's events are not delivered either.
                parsed.events.truncate(before);
                let text = String::from_utf8_lossy(line).into_owned();
                res.errors.push((i, err, Some(text)));
                stop_after = Some(before);
                break;
            }
        } else {
            res.errors
                .extend(parsed.errors.drain(..).map(|e| (i, e, None)));
        }
    }
    let mut events = parsed.events;
    // Events own their text: the read buffer can serve the next chunk.
    let line_total = lines.len() as u64;
    drop(lines);
    pool.put(chunk.block);
    let numbered = if in_order {
        let times: Vec<u64> = events.iter().map(AuditEvent::time_ns).collect();
        ledger.number(chunk.seq, &times, stop_after)?
    } else {
        // Nothing evaluated reads the numbers: no wait for the earlier chunks, whose
        // events the emitter counts in order. (In legacy mode `events` already ends
        // before the malformed line.)
        Numbered {
            base: 0,
            count: events.len(),
            first_ts: events.first().map(AuditEvent::time_ns),
            stop: stop_after.is_some(),
        }
    };
    res.events = numbered.count as u64;
    res.first_ts = numbered.first_ts;
    res.stop = numbered.stop;
    res.lines = match (numbered.stop, stop_after) {
        (false, _) => line_total,
        (true, Some(_)) => events_before_line.len() as u64,
        // -M: up to the line holding the last numbered event.
        (true, None) => events_before_line
            .iter()
            .rposition(|&before| before < numbered.count)
            .map_or(0, |l| l as u64 + 1),
    };
    // The event that reaches -M is numbered but not evaluated.
    let evaluate = if numbered.stop && stop_after.is_none() {
        numbered.count.saturating_sub(1)
    } else {
        numbered.count
    };
    for (k, ev) in events.iter_mut().take(evaluate).enumerate() {
        if in_order {
            ev.set_num(numbered.base + k as u64 + 1);
        }
        evaluator.evaluate(ev, |ri, line| res.alerts.push((ri, line)));
    }
    Some(res)
}

/// [`replay`] with `jobs` worker threads. Each worker takes the next chunk of lines from
/// the shared reader (so the text is hot in its cache when parsed), parses it, takes its
/// event numbers from a ledger in chunk order when the rules read `evt.num` or `-M` is
/// set (otherwise without waiting for earlier chunks) and evaluates it; then it reports errors,
/// counts and emits alerts of every chunk ready in input order (so no thread is woken to
/// emit). The output is identical to the single-threaded replay's.
pub fn replay_parallel(
    path: &Path,
    opts: &ParseOptions,
    legacy: bool,
    stats: &mut ReplayStats,
    jobs: usize,
    detector: &mut Detector<'_>,
) -> std::io::Result<()> {
    let jobs = effective_jobs(jobs).max(1);
    let in_order = detector.numbers_before_evaluation();
    let ledger = Ledger::new(detector.numbering());
    let lead = jobs.saturating_mul(LEAD_CHUNKS_PER_JOB);
    let reader = std::sync::Mutex::new(ChunkReader::new(replay_files(path)?));
    // Enough buffers for every chunk in flight: being read or parsed by each worker.
    let pool = BufferPool::new(jobs * 2);
    let mut evaluators: Vec<Evaluator<'_>> = (0..jobs).map(|_| detector.evaluator()).collect();
    // The worker that finishes a chunk emits every result ready in chunk order itself:
    // no thread waits for results, so a chunk costs no wake-up of another thread.
    let emit = std::sync::Mutex::new(Emitting {
        emitter: Emitter {
            next: 0,
            line_base: 0,
            pending: std::collections::BTreeMap::new(),
            stopped: false,
        },
        stats,
        detector,
        result: Ok(()),
    });
    std::thread::scope(|scope| {
        for evaluator in &mut evaluators {
            let (reader, ledger, pool, emit) = (&reader, &ledger, &pool, &emit);
            scope.spawn(move || {
                let _guard = AbortOnPanic(ledger);
                loop {
                    let work = match reader.lock() {
                        Ok(mut r) => r.next_work(),
                        Err(_) => return,
                    };
                    if let Ok(Some(w)) = &work {
                        if ledger.within_lead(w.seq(), lead).is_none() {
                            return;
                        }
                    }
                    // A byte range of a plain file is read here, outside the lock.
                    let next = work.and_then(|w| w.map(|w| w.into_chunk(pool)).transpose());
                    let res = match next {
                        Ok(Some(chunk)) => {
                            match work_chunk(chunk, pool, opts, legacy, ledger, in_order, evaluator)
                            {
                                Some(res) => Ok(res),
                                None => return,
                            }
                        }
                        Ok(None) => return,
                        Err(e) => Err(e),
                    };
                    let Ok(mut guard) = emit.lock() else {
                        ledger.abort();
                        return;
                    };
                    let st = &mut *guard;
                    match res {
                        Ok(res) => {
                            st.emitter.accept(res, st.stats, st.detector);
                            ledger.emitted(st.emitter.next);
                        }
                        Err(e) => {
                            if st.result.is_ok() {
                                st.result = Err(e);
                            }
                            st.emitter.stopped = true;
                        }
                    }
                    if st.emitter.stopped {
                        // Later chunks are not needed: stop the workers (they drop their work).
                        ledger.abort();
                        if let Ok(mut r) = reader.lock() {
                            r.files.clear();
                            r.current = None;
                        }
                        return;
                    }
                }
            });
        }
    });
    emit.into_inner()
        .map_err(|_| std::io::Error::other("a replay worker panicked"))?
        .result
}

/// What the workers share to emit results: the in-order emitter and the replay's
/// counters and detector.
struct Emitting<'s, 'd, 'r> {
    emitter: Emitter,
    stats: &'s mut ReplayStats,
    detector: &'d mut Detector<'r>,
    /// The first read error.
    result: std::io::Result<()>,
}

/// Emits chunk results in chunk order (results arrive in any order).
struct Emitter {
    next: usize,
    /// Lines of the current file before the next chunk.
    line_base: usize,
    pending: std::collections::BTreeMap<usize, ChunkResult>,
    stopped: bool,
}

impl Emitter {
    fn accept(&mut self, res: ChunkResult, stats: &mut ReplayStats, detector: &mut Detector<'_>) {
        self.pending.insert(res.seq, res);
        while let Some(res) = self.pending.remove(&self.next) {
            self.next += 1;
            if self.stopped {
                continue;
            }
            if res.first_in_file {
                self.line_base = 0;
            }
            let base = self.line_base;
            self.line_base += res.line_count;
            stats.lines += res.lines;
            for (i, err, line) in &res.errors {
                stats.malformed += 1;
                match line {
                    Some(text) => log::error!(
                        "Could not read k8s audit event line #{}, \"{}\": {}, stopping",
                        base + i + 1,
                        text,
                        legacy_message(err)
                    ),
                    None => log::warn!("{}:{}: {err}", res.file.display(), base + i + 1),
                }
            }
            stats.events += res.events;
            detector.advance(res.events, res.first_ts);
            for (ri, line) in res.alerts {
                detector.emit(ri, line);
            }
            self.stopped = res.stop;
        }
    }
}

/// What a worker takes from the [`ChunkReader`]: a chunk read under its lock (compressed
/// files), or a byte range of a plain file that the worker reads itself with positioned
/// reads, so that the kernel's copies of the file run in parallel too.
enum Work {
    Ready(Chunk),
    Range(RangeClaim),
}

impl Work {
    /// The chunk's place in the replay.
    fn seq(&self) -> usize {
        match self {
            Work::Ready(chunk) => chunk.seq,
            Work::Range(claim) => claim.seq,
        }
    }

    fn into_chunk(self, pool: &BufferPool) -> std::io::Result<Chunk> {
        match self {
            Work::Ready(chunk) => Ok(chunk),
            Work::Range(claim) => claim.read(pool.take()),
        }
    }
}

/// Bytes `start..end` of a plain file: the chunk holds the lines that *start* in it
/// (the last one may end after `end`; one that started before `start` belongs to an
/// earlier chunk).
struct RangeClaim {
    seq: usize,
    file: std::sync::Arc<PathBuf>,
    handle: std::sync::Arc<std::fs::File>,
    start: u64,
    end: u64,
    size: u64,
}

/// Extra bytes read past a range to find the end of its last line (more are read, this
/// many at a time, while no newline is found): a few audit events.
const RANGE_SLACK: u64 = 8 << 10;

impl RangeClaim {
    /// Reads the claim's whole lines into `buf` (a recycled buffer's old bytes are
    /// overwritten, not cleared first).
    fn read(self, mut buf: Vec<u8>) -> std::io::Result<Chunk> {
        use std::os::unix::fs::FileExt;
        let from = self.start.saturating_sub(1);
        // Bytes of `buf` read from the file (from `from` on).
        let mut len = 0usize;
        // Reads the file's bytes up to `to` (absolute) into `buf` after `len`.
        let fill = |buf: &mut Vec<u8>, len: &mut usize, to: u64| -> std::io::Result<()> {
            let at = from + *len as u64;
            let n = usize::try_from(to.saturating_sub(at)).unwrap_or(0);
            let need = *len + n;
            if buf.len() < need {
                buf.resize(need, 0);
            }
            self.handle.read_exact_at(&mut buf[*len..need], at)?;
            *len = need;
            Ok(())
        };
        // Reads more after `len`, as much again as was read (at least the slack), so that
        // a line of any length takes a logarithmic number of reads.
        let grow = |buf: &mut Vec<u8>, len: &mut usize| -> std::io::Result<bool> {
            let at = from + *len as u64;
            if at >= self.size {
                return Ok(false);
            }
            let more = (*len as u64).max(RANGE_SLACK);
            fill(buf, len, at.saturating_add(more).min(self.size))?;
            Ok(true)
        };
        fill(&mut buf, &mut len, (self.end + RANGE_SLACK).min(self.size))?;
        let chunk = |block: Vec<u8>, lines: std::ops::Range<usize>| Chunk {
            seq: self.seq,
            file: self.file.clone(),
            first_in_file: self.start == 0,
            block,
            lines,
        };
        // The first owned line starts after the first newline at or after start - 1. With
        // none before `end` no line starts in the range (it lies inside a line begun
        // earlier): nothing past the range is read to find out.
        let begin = if self.start == 0 {
            0
        } else {
            let own = usize::try_from(self.end - from)
                .unwrap_or(usize::MAX)
                .min(len);
            match memchr::memchr(b'\n', &buf[..own]) {
                Some(p) => p + 1,
                None => return Ok(chunk(buf, 0..0)),
            }
        };
        if from + begin as u64 >= self.end {
            return Ok(chunk(buf, 0..0));
        }
        // The last owned line ends at the first newline at or after end - 1; each read
        // after the first is searched once.
        let mut search = usize::try_from(self.end - 1 - from).unwrap_or(usize::MAX);
        let stop = loop {
            if let Some(p) = buf.get(search..len).and_then(|b| memchr::memchr(b'\n', b)) {
                break search + p + 1;
            }
            search = search.max(len);
            if !grow(&mut buf, &mut len)? {
                break len;
            }
        };
        Ok(chunk(buf, begin..stop))
    }
}

/// Hands out the files of a replay in chunks of about [`CHUNK_BYTES`] of whole lines:
/// byte ranges of plain files (read by the workers), or raw reads of compressed files
/// straight into the chunk (the lines are split by the worker); either way the part of a
/// parallel replay done under the reader's lock is small.
struct ChunkReader {
    /// Files still to open, in reverse order.
    files: Vec<PathBuf>,
    current: Option<Current>,
    /// The partial last line of the previous read of a stream, which starts its next chunk.
    carry: Vec<u8>,
    seq: usize,
}

/// The file being handed out.
enum Current {
    /// A compressed file: its stream, path and whether a chunk of it was handed out.
    Stream(Box<dyn BufRead + Send>, std::sync::Arc<PathBuf>, bool),
    /// A plain file: its handle, path, size (at opening) and the next offset to hand out.
    Plain(
        std::sync::Arc<std::fs::File>,
        std::sync::Arc<PathBuf>,
        u64,
        u64,
    ),
}

impl ChunkReader {
    fn new(mut files: Vec<PathBuf>) -> Self {
        files.reverse();
        ChunkReader {
            files,
            current: None,
            carry: Vec::new(),
            seq: 0,
        }
    }

    fn open(path: PathBuf) -> std::io::Result<Current> {
        use std::os::unix::fs::FileExt;
        let file = std::fs::File::open(&path)?;
        let mut magic = [0u8; 2];
        let n = file.read_at(&mut magic, 0)?;
        if n == 2 && magic == [0x1f, 0x8b] {
            // read_at left the file position at the start.
            let reader = reader_maybe_gzip(file)?;
            return Ok(Current::Stream(reader, std::sync::Arc::new(path), false));
        }
        let size = file.metadata()?.len();
        Ok(Current::Plain(
            std::sync::Arc::new(file),
            std::sync::Arc::new(path),
            size,
            0,
        ))
    }

    /// The next piece of work; `None` at the end of the last file.
    fn next_work(&mut self) -> std::io::Result<Option<Work>> {
        loop {
            let current = match &mut self.current {
                Some(c) => c,
                None => {
                    let Some(path) = self.files.pop() else {
                        return Ok(None);
                    };
                    self.carry.clear();
                    self.current.insert(Self::open(path)?)
                }
            };
            let (reader, file, started) = match current {
                Current::Plain(handle, file, size, next) => {
                    if *next >= *size {
                        self.current = None;
                        continue;
                    }
                    let start = *next;
                    let end = (start + CHUNK_BYTES as u64).min(*size);
                    *next = end;
                    let claim = RangeClaim {
                        seq: self.seq,
                        file: file.clone(),
                        handle: handle.clone(),
                        start,
                        end,
                        size: *size,
                    };
                    self.seq += 1;
                    return Ok(Some(Work::Range(claim)));
                }
                Current::Stream(reader, file, started) => (reader, file, started),
            };
            let mut block = Vec::with_capacity(CHUNK_BYTES + self.carry.len() + 4096);
            block.append(&mut self.carry);
            let mut eof = false;
            // Read until the block holds a newline past the chunk size (a longer line
            // makes a longer chunk) or the file ends.
            loop {
                let want = (CHUNK_BYTES + 4096)
                    .saturating_sub(block.len())
                    .max(1 << 16);
                let before = block.len();
                let n = reader.by_ref().take(want as u64).read_to_end(&mut block)?;
                if n == 0 {
                    eof = true;
                    break;
                }
                if block.len() >= CHUNK_BYTES && memchr::memchr(b'\n', &block[before..]).is_some() {
                    break;
                }
            }
            if !eof {
                if let Some(last) = memchr::memrchr(b'\n', &block) {
                    self.carry.extend_from_slice(&block[last + 1..]);
                    block.truncate(last + 1);
                }
            }
            let first_in_file = !*started;
            *started = true;
            let file = file.clone();
            if eof {
                self.current = None;
            }
            if block.is_empty() {
                continue;
            }
            let chunk = Chunk {
                seq: self.seq,
                file,
                first_in_file,
                lines: 0..block.len(),
                block,
            };
            self.seq += 1;
            return Ok(Some(Work::Ready(chunk)));
        }
    }
}

fn legacy_message(err: &PayloadError) -> String {
    let s = err.to_string();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // scratch files
mod range_tests {
    use super::*;

    /// Splitting a file into ranges of any size and reading each claim gives every line
    /// exactly once, in order: whatever byte a boundary falls on (inside a line, on a
    /// newline, right after one, inside a run of blank lines), with and without a final
    /// newline, with lines longer than the ranges and than the read slack, into fresh
    /// buffers and into recycled ones still holding old bytes.
    #[test]
    fn ranges_hand_out_each_line_once() {
        let dir = std::env::temp_dir().join(format!("falco-rs-ranges-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let long = "x".repeat(300);
        let slack = RANGE_SLACK as usize;
        let longer = "y".repeat(2 * slack + 5);
        let contents = [
            format!("a\nbb\n\n\nccc\r\n{long}\nd\n"),
            format!("a\nbb\n\n\nccc\r\n{long}\nd"),
            "\n\n\n".to_string(),
            "only".to_string(),
            format!("a\n{longer}\nb\n{longer}"),
        ];
        for content in contents {
            let path = dir.join("f.json");
            std::fs::write(&path, &content).unwrap();
            let handle = std::sync::Arc::new(std::fs::File::open(&path).unwrap());
            let size = content.len() as u64;
            let steps: Vec<u64> = if content.len() < 1000 {
                (1..=size + 1).collect()
            } else {
                let s = slack as u64;
                vec![
                    1,
                    3,
                    999,
                    s - 1,
                    s,
                    s + 1,
                    2 * s + 7,
                    size - 1,
                    size,
                    size + 1,
                ]
            };
            for step in steps {
                let mut joined = Vec::new();
                let mut start = 0;
                let mut seq = 0;
                while start < size {
                    let end = (start + step).min(size);
                    let claim = RangeClaim {
                        seq,
                        file: std::sync::Arc::new(path.clone()),
                        handle: handle.clone(),
                        start,
                        end,
                        size,
                    };
                    // Alternately a fresh buffer and one full of old bytes.
                    let buf = if seq % 2 == 0 {
                        Vec::new()
                    } else {
                        vec![b'\n'; 3 * slack]
                    };
                    let chunk = claim.read(buf).unwrap();
                    assert_eq!(chunk.seq, seq);
                    assert_eq!(chunk.first_in_file, start == 0);
                    // Whole lines: a block ends with a newline unless it ends the file.
                    let text = chunk.text();
                    let whole = text.last().is_none_or(|&b| b == b'\n')
                        || content.ends_with(std::str::from_utf8(text).unwrap());
                    assert!(whole, "step {step}");
                    joined.extend_from_slice(text);
                    start = end;
                    seq += 1;
                }
                assert_eq!(String::from_utf8(joined).unwrap(), content, "step {step}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A line hundreds of ranges long is read about once: the ranges inside it stop at
    /// their end, and the range where it starts reads on in growing steps. (Reading on
    /// to the line's end from every range made a 55 MB line take minutes with -j 2.)
    #[test]
    fn ranges_inside_a_long_line_read_little() {
        let dir = std::env::temp_dir().join(format!("falco-rs-longline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let slack = RANGE_SLACK as usize;
        let content = format!("a\n{}\nb\n", "y".repeat(300 * slack));
        let path = dir.join("f.json");
        std::fs::write(&path, &content).unwrap();
        let handle = std::sync::Arc::new(std::fs::File::open(&path).unwrap());
        let size = content.len() as u64;
        let step = RANGE_SLACK / 2;
        let (mut joined, mut read, mut claims) = (Vec::new(), 0usize, 0usize);
        let mut start = 0;
        while start < size {
            let end = (start + step).min(size);
            let claim = RangeClaim {
                seq: claims,
                file: std::sync::Arc::new(path.clone()),
                handle: handle.clone(),
                start,
                end,
                size,
            };
            // A fresh buffer holds exactly the bytes read.
            let chunk = claim.read(Vec::new()).unwrap();
            read += chunk.block.len();
            joined.extend_from_slice(chunk.text());
            claims += 1;
            start = end;
        }
        assert_eq!(String::from_utf8(joined).unwrap(), content);
        // Each range reads itself plus the slack; the line's owner at most twice the line.
        let bound = claims * (step as usize + slack + 1) + 2 * content.len();
        assert!(read <= bound, "{read} bytes read for {size}, bound {bound}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test channels
mod lead_tests {
    use super::*;
    use std::time::Duration;

    fn ledger() -> Ledger {
        Ledger::new(Numbering::default())
    }

    /// A chunk within the lead goes on at once; one as far ahead as the lead waits until
    /// the emitter catches up, and an abort releases a waiting worker.
    #[test]
    fn workers_wait_for_the_emitter_beyond_the_lead() {
        let ledger = &ledger();
        assert_eq!(ledger.within_lead(7, 8), Some(()));
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel();
            let far = tx.clone();
            scope.spawn(move || tx.send(ledger.within_lead(8, 8)).unwrap());
            assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "held");
            ledger.emitted(1);
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(Some(())));

            scope.spawn(move || far.send(ledger.within_lead(100, 8)).unwrap());
            assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "held");
            ledger.abort();
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(None));
        });
    }
}
