//! Output channels: stdout and file, buffered or not, as Falco's `stdout_output` and
//! `file_output`.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

/// `stdout_output`.
pub struct StdoutOutput {
    out: BufWriter<io::Stdout>,
    buffered: bool,
}

impl StdoutOutput {
    /// Stdout; unbuffered means flushed after every alert.
    pub fn new(buffered: bool) -> Self {
        StdoutOutput {
            out: BufWriter::with_capacity(64 * 1024, io::stdout()),
            buffered,
        }
    }

    fn write(&mut self, line: &str) -> io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        if !self.buffered {
            self.out.flush()?;
        }
        Ok(())
    }
}

/// `file_output`: appends one line per alert; without `keep_alive` the file is opened
/// and closed for every alert.
pub struct FileOutput {
    path: PathBuf,
    keep_alive: bool,
    buffered: bool,
    file: Option<BufWriter<File>>,
}

impl FileOutput {
    /// A file channel.
    pub fn new(path: PathBuf, keep_alive: bool, buffered: bool) -> Self {
        FileOutput {
            path,
            keep_alive,
            buffered,
            file: None,
        }
    }

    fn open(&self) -> io::Result<BufWriter<File>> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map(BufWriter::new)
    }

    fn write(&mut self, line: &str) -> io::Result<()> {
        if self.keep_alive {
            if self.file.is_none() {
                self.file = Some(self.open()?);
            }
            if let Some(f) = self.file.as_mut() {
                f.write_all(line.as_bytes())?;
                f.write_all(b"\n")?;
                if !self.buffered {
                    f.flush()?;
                }
            }
            Ok(())
        } else {
            let mut f = self.open()?;
            f.write_all(line.as_bytes())?;
            f.write_all(b"\n")?;
            f.flush()
        }
    }

    /// Closes and reopens the file (SIGUSR1 in Falco).
    pub fn reopen(&mut self) -> io::Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush()?;
        }
        Ok(())
    }
}

/// All enabled channels, written in Falco's order (file, then stdout).
#[derive(Default)]
pub struct Outputs {
    /// `file_output`.
    pub file: Option<FileOutput>,
    /// `stdout_output`.
    pub stdout: Option<StdoutOutput>,
    /// Write errors so far (each is also reported on stderr once).
    pub errors: u64,
}

impl Outputs {
    /// Whether at least one channel is enabled.
    pub fn any_enabled(&self) -> bool {
        self.file.is_some() || self.stdout.is_some()
    }

    /// Writes one rendered alert to every channel. Errors are counted and reported,
    /// never silently dropped.
    pub fn emit(&mut self, line: &str) {
        if let Some(f) = self.file.as_mut() {
            if let Err(e) = f.write(line) {
                self.errors += 1;
                eprintln!("Error writing to file output {}: {e}", f.path.display());
            }
        }
        if let Some(s) = self.stdout.as_mut() {
            if let Err(e) = s.write(line) {
                if e.kind() != io::ErrorKind::BrokenPipe {
                    self.errors += 1;
                    eprintln!("Error writing to stdout: {e}");
                }
            }
        }
    }

    /// Flushes buffered channels.
    pub fn flush(&mut self) {
        if let Some(f) = self.file.as_mut().and_then(|f| f.file.as_mut()) {
            let _ = f.flush();
        }
        if let Some(s) = self.stdout.as_mut() {
            let _ = s.out.flush();
        }
    }
}
