//! File and directory replay: the k8saudit plugin's plain-path mode (JSON lines, each an
//! `Event`, an `EventList` or an array of them; gzip accepted) and the legacy `-e` mode.

use crate::detector::{Detector, Evaluator};
use falco_rs_k8saudit::{parse_payload, AuditEvent, ParseOptions, PayloadError, PayloadOutcome};
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
pub fn open_maybe_gzip(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    let mut reader = BufReader::with_capacity(1 << 18, std::fs::File::open(path)?);
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
            let outcome = parse_payload(trimmed, opts);
            for err in &outcome.errors {
                stats.malformed += 1;
                if legacy {
                    log::error!(
                        "Could not read k8s audit event line #{}, \"{}\": {}, stopping",
                        i + 1,
                        String::from_utf8_lossy(trimmed),
                        legacy_message(err)
                    );
                    return Ok(());
                }
                log::warn!("{}:{}: {err}", file.display(), i + 1);
            }
            reader.consume(consumed);
            for ev in outcome.events {
                stats.events += 1;
                if on_event(ev).is_break() {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Lines each thread parses per batch of a parallel replay (bounds the events held in
/// memory to about `jobs × LINES_PER_JOB`).
const LINES_PER_JOB: usize = 1024;

/// The number of threads `-j 0` stands for: the available parallelism.
pub fn effective_jobs(jobs: usize) -> usize {
    if jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        jobs
    }
}

/// Runs `f` on every element of `items` on its own scoped thread and returns the results
/// in order. A panic in a worker is propagated.
fn parallel<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items.into_iter().map(|t| s.spawn(move || f(t))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// [`replay`] with `jobs` threads: lines are parsed and events evaluated in parallel
/// batches, while numbering, `-M`, error reports, statistics and alert output stay
/// sequential and in input order, so the output is identical to the single-threaded
/// replay's.
pub fn replay_parallel(
    path: &Path,
    opts: &ParseOptions,
    legacy: bool,
    stats: &mut ReplayStats,
    jobs: usize,
    detector: &mut Detector<'_>,
) -> std::io::Result<()> {
    let jobs = effective_jobs(jobs).max(1);
    let mut evaluators: Vec<Evaluator<'_>> = (0..jobs).map(|_| detector.evaluator()).collect();
    for file in replay_files(path)? {
        let mut reader = open_maybe_gzip(&file)?;
        let mut block: Vec<u8> = Vec::new();
        let mut ranges: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
        let mut next_line = 0usize;
        loop {
            // Read the next batch of non-empty lines into one block.
            block.clear();
            ranges.clear();
            let mut eof = false;
            while ranges.len() < LINES_PER_JOB * jobs {
                let start = block.len();
                if reader.read_until(b'\n', &mut block)? == 0 {
                    eof = true;
                    break;
                }
                let i = next_line;
                next_line += 1;
                let line = trim_ascii(&block[start..]);
                if line.is_empty() {
                    block.truncate(start);
                    continue;
                }
                let off = line.as_ptr() as usize - block[start..].as_ptr() as usize;
                ranges.push((i, start + off..start + off + line.len()));
            }
            if ranges.is_empty() {
                break;
            }
            let batch: Vec<(usize, &[u8])> = ranges
                .iter()
                .map(|(i, r)| (*i, &block[r.clone()]))
                .collect();
            let batch = &batch[..];
            // 1. Parse in parallel.
            let chunks: Vec<&[(usize, &[u8])]> = batch.chunks(batch.len().div_ceil(jobs)).collect();
            let parsed: Vec<Vec<PayloadOutcome>> = parallel(chunks, |chunk| {
                chunk.iter().map(|(_, l)| parse_payload(l, opts)).collect()
            });
            // 2. Report errors, number the events, apply -M: sequentially, in order.
            let mut events: Vec<AuditEvent> = Vec::new();
            let mut stop = false;
            'lines: for (&(i, line), outcome) in batch.iter().zip(parsed.into_iter().flatten()) {
                stats.lines += 1;
                for err in &outcome.errors {
                    stats.malformed += 1;
                    if legacy {
                        log::error!(
                            "Could not read k8s audit event line #{}, \"{}\": {}, stopping",
                            i + 1,
                            String::from_utf8_lossy(line),
                            legacy_message(err)
                        );
                        stop = true;
                        break 'lines;
                    }
                    log::warn!("{}:{}: {err}", file.display(), i + 1);
                }
                for mut ev in outcome.events {
                    stats.events += 1;
                    if detector.number(&mut ev).is_break() {
                        stop = true;
                        break 'lines;
                    }
                    events.push(ev);
                }
            }
            // 3. Evaluate in parallel; 4. emit in input order.
            if !events.is_empty() {
                let per = events.len().div_ceil(jobs);
                let work: Vec<_> = evaluators.iter_mut().zip(events.chunks(per)).collect();
                let alerts: Vec<Vec<(usize, String)>> = parallel(work, |(evaluator, chunk)| {
                    let mut out = Vec::new();
                    for ev in chunk {
                        evaluator.evaluate(ev, |ri, line| out.push((ri, line)));
                    }
                    out
                });
                for (ri, line) in alerts.into_iter().flatten() {
                    detector.emit(ri, &line);
                }
            }
            if stop {
                return Ok(());
            }
            if eof {
                break;
            }
        }
    }
    Ok(())
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
