//! Helpers for the `cli_*` tests: per-test scratch directories under the system temp
//! directory, audit events, and running the built binary with `TZ=UTC` and a fixed host
//! name.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const BIN: &str = env!("CARGO_BIN_EXE_falco-rs");

/// Host name every run reports (`FALCO_HOSTNAME`).
pub const HOST: &str = "testhost";

/// A fresh, unique scratch directory (removed when dropped).
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "falco-rs-cli-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Writes `content` to `name` inside the directory and returns its path.
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Output of one run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout lines before the end-of-run summary (the alerts).
    pub fn alerts(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .take_while(|l| !l.starts_with("Events detected: "))
            .collect()
    }

    /// The end-of-run summary (from `Events detected:` on).
    pub fn summary(&self) -> &str {
        match self.stdout.find("Events detected: ") {
            Some(i) => &self.stdout[i..],
            None => "",
        }
    }

    /// JSON alerts on stdout, parsed.
    pub fn json_alerts(&self) -> Vec<serde_json::Value> {
        self.alerts()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// Runs the binary with `args` (plus `TZ=UTC`, `FALCO_HOSTNAME=testhost`).
pub fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run_in_zone(args, "UTC")
}

/// [`run`] with the time zone `tz` (a `TZ` value).
pub fn run_in_zone<I, S>(args: I, tz: &str) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(BIN)
        .args(args)
        .env("TZ", tz)
        .env("FALCO_HOSTNAME", HOST)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `-r <rules> -o plugins[0].open_params=<events>` plus `extra`.
pub fn replay(rules: &Path, events: &Path, extra: &[&str]) -> Run {
    replay_in_zone(rules, events, extra, "UTC")
}

/// [`replay`] with the time zone `tz` (a `TZ` value).
pub fn replay_in_zone(rules: &Path, events: &Path, extra: &[&str], tz: &str) -> Run {
    let mut args: Vec<String> = vec![
        "-r".into(),
        rules.display().to_string(),
        "-o".into(),
        format!("plugins[0].open_params={}", events.display()),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run_in_zone(args, tz)
}

/// One audit event line: `verb` by `user` at `2024-05-01T16:07:<sec>.045023Z`.
pub fn event(verb: &str, user: &str, sec: u32) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"id-{verb}-{user}-{sec}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods?x=1","verb":"{verb}","user":{{"username":"{user}","groups":["g1","g2"]}},"objectRef":{{"resource":"pods","namespace":"default"}},"requestObject":{{"kind":"Pod","spec":{{"containers":[{{"name":"a","image":"nginx"}},{{"name":"b","image":"busybox:1.36"}}]}}}},"stageTimestamp":"2024-05-01T16:07:{sec:02}.045023Z"}}"#
    )
}

/// A `k8s_audit` rule.
pub fn rule(name: &str, cond: &str, output: &str, priority: &str, tags: &str) -> String {
    format!(
        "- rule: {name}\n  desc: {name} desc\n  condition: {cond}\n  output: \"{output}\"\n  priority: {priority}\n  source: k8s_audit\n  tags: {tags}\n"
    )
}

/// Asserts two texts are equal, printing both in full on failure.
#[track_caller]
pub fn assert_text(got: &str, want: &str) {
    if got != want {
        panic!("\n--- got ---\n{got}\n--- want ---\n{want}\n-----------");
    }
}
