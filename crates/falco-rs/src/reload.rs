//! What triggers a hot reload: SIGHUP, and with `watch_config_files` a change of the
//! configuration or rules files (polled by modification time and size, no inotify).
//! SIGUSR1 asks the outputs to reopen their files, as in Falco.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A request to the engine loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Reload the configuration and rules.
    Reload,
    /// Reopen file and program outputs.
    ReopenOutputs,
}

/// Forwards SIGHUP (reload) and SIGUSR1 (reopen outputs) to `tx` until `stop` is set.
#[cfg(unix)]
pub fn spawn_signal_listener(tx: Sender<Control>, stop: Arc<AtomicBool>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGUSR1};
    use signal_hook::iterator::Signals;
    let mut signals = Signals::new([SIGHUP, SIGUSR1])?;
    let handle = signals.handle();
    std::thread::Builder::new()
        .name("falco-rs-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let msg = if sig == SIGHUP {
                    log::info!("SIGHUP received, reloading the configuration and rules");
                    Control::Reload
                } else {
                    log::info!("SIGUSR1 received, reopening outputs");
                    Control::ReopenOutputs
                };
                if tx.send(msg).is_err() {
                    break;
                }
            }
            handle.close();
        })?;
    Ok(())
}

/// Without Unix signals nothing is forwarded.
#[cfg(not(unix))]
pub fn spawn_signal_listener(_tx: Sender<Control>, _stop: Arc<AtomicBool>) -> std::io::Result<()> {
    Ok(())
}

/// Modification time and size of a file, or of every entry of a directory.
fn fingerprint(paths: &[PathBuf]) -> Vec<(PathBuf, Option<(SystemTime, u64)>)> {
    let mut out = Vec::new();
    for p in paths {
        let meta = |q: &PathBuf| {
            std::fs::metadata(q)
                .ok()
                .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
        };
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            entries.sort();
            out.push((p.clone(), meta(p)));
            for e in entries {
                let m = meta(&e);
                out.push((e, m));
            }
        } else {
            out.push((p.clone(), meta(p)));
        }
    }
    out
}

/// Polls `paths` every `interval` and sends [`Control::Reload`] when any changes.
pub fn spawn_file_watcher(
    paths: Vec<PathBuf>,
    interval: Duration,
    tx: Sender<Control>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("falco-rs-watch".into())
        .spawn(move || {
            let mut last = fingerprint(&paths);
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(interval);
                let now = fingerprint(&paths);
                if now != last {
                    last = now;
                    log::info!("configuration or rules files changed, reloading");
                    if tx.send(Control::Reload).is_err() {
                        break;
                    }
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watcher_notices_changes() {
        let dir = std::env::temp_dir().join(format!("falco-rs-watch-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let f = dir.join("rules.yaml");
        std::fs::write(&f, "- list: a\n  items: []\n").expect("write");
        let (tx, rx) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        spawn_file_watcher(
            vec![dir.clone()],
            Duration::from_millis(20),
            tx,
            stop.clone(),
        )
        .expect("watch");
        std::thread::sleep(Duration::from_millis(60));
        assert!(rx.try_recv().is_err(), "no change yet");
        std::fs::write(&f, "- list: a\n  items: [b, c]\n").expect("write");
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(Control::Reload));
        stop.store(true, Ordering::SeqCst);
    }
}
