//! Falco's logging settings: `log_level`, `log_stderr`, `log_syslog`, plus falco-rs'
//! `log_format: json` for one JSON object per line.
//!
//! Text lines look like Falco's: `Tue Nov 24 03:32:14 2026: message` (local time), or
//! `2026-11-24T03:32:14+0000: message` with `time_format_iso_8601`.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write as _;
use std::sync::Mutex;

/// Logging settings.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// Most verbose level written.
    pub level: LevelFilter,
    /// Write to stderr.
    pub stderr: bool,
    /// Write to the local syslog socket (`/dev/log`).
    pub syslog: bool,
    /// One JSON object per line instead of text.
    pub json: bool,
    /// ISO 8601 timestamps.
    pub iso8601: bool,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            level: LevelFilter::Info,
            stderr: true,
            syslog: false,
            json: false,
            iso8601: false,
        }
    }
}

/// Maps Falco's `log_level` names onto log levels.
pub fn parse_level(name: &str) -> Option<LevelFilter> {
    Some(match name {
        "emergency" | "alert" | "critical" | "error" => LevelFilter::Error,
        "warning" => LevelFilter::Warn,
        "notice" | "info" => LevelFilter::Info,
        "debug" => LevelFilter::Debug,
        _ => return None,
    })
}

struct Logger {
    settings: Mutex<LogSettings>,
    #[cfg(unix)]
    syslog: Mutex<Option<std::os::unix::net::UnixDatagram>>,
}

static LOGGER: Logger = Logger {
    settings: Mutex::new(LogSettings {
        level: LevelFilter::Info,
        stderr: true,
        syslog: false,
        json: false,
        iso8601: false,
    }),
    #[cfg(unix)]
    syslog: Mutex::new(None),
};

fn severity(level: Level) -> (u8, &'static str) {
    match level {
        Level::Error => (3, "error"),
        Level::Warn => (4, "warning"),
        Level::Info => (6, "info"),
        Level::Debug | Level::Trace => (7, "debug"),
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.settings
            .lock()
            .map(|s| metadata.level() <= s.level)
            .unwrap_or(true)
    }

    fn log(&self, record: &Record<'_>) {
        let Ok(s) = self.settings.lock().map(|s| s.clone()) else {
            return;
        };
        if record.level() > s.level {
            return;
        }
        let msg = record.args().to_string();
        let (sev, name) = severity(record.level());
        if s.stderr {
            let line = if s.json {
                serde_json::json!({
                    "time": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string(),
                    "level": name,
                    "target": record.target(),
                    "msg": msg,
                })
                .to_string()
            } else if s.iso8601 {
                format!(
                    "{}: {msg}",
                    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S+0000")
                )
            } else {
                format!(
                    "{}: {msg}",
                    chrono::Local::now().format("%a %b %e %H:%M:%S %Y")
                )
            };
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        }
        #[cfg(unix)]
        if s.syslog {
            if let Ok(mut sock) = self.syslog.lock() {
                if sock.is_none() {
                    *sock = std::os::unix::net::UnixDatagram::unbound()
                        .ok()
                        .filter(|u| u.connect("/dev/log").is_ok());
                }
                if let Some(u) = sock.as_ref() {
                    let _ = u.send(format!("<{}>falco-rs: {msg}", 8 + u32::from(sev)).as_bytes());
                }
            }
        }
        #[cfg(not(unix))]
        let _ = sev;
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// Installs the logger once (defaults), idempotently.
pub fn init() {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(LevelFilter::Trace);
}

/// Applies settings from the configuration.
pub fn configure(settings: LogSettings) {
    init();
    if let Ok(mut s) = LOGGER.settings.lock() {
        *s = settings;
    }
}

#[cfg(test)]
mod tests {
    use super::parse_level;
    use log::LevelFilter;

    #[test]
    fn falco_level_names() {
        assert_eq!(parse_level("warning"), Some(LevelFilter::Warn));
        assert_eq!(parse_level("notice"), Some(LevelFilter::Info));
        assert_eq!(parse_level("critical"), Some(LevelFilter::Error));
        assert_eq!(parse_level("Warning"), None);
    }
}
