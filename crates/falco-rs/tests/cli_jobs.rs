//! `-j N` replays produce exactly the output of the single-threaded replay: alerts in
//! input order, the same summary, the same error reports, the same `-M` and legacy `-e`
//! stops.
#![allow(clippy::unwrap_used)]

mod cli_support;

use cli_support::{event, replay, run, Scratch};
use std::path::{Path, PathBuf};

/// stderr without the wall-clock prefix of log lines (`Tue Nov 24 03:47:36 2026: `).
fn log_text(stderr: &str) -> String {
    let re = regex::Regex::new(r"(?m)^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: ").unwrap();
    re.replace_all(stderr, "").into_owned()
}

fn official() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/rules/k8s_audit_rules.v0.18.0.yaml")
}

/// About 5,000 lines (several parallel batches) with malformed lines and an `EventList`.
fn events() -> String {
    let verbs = [
        "get", "create", "delete", "update", "patch", "list", "watch",
    ];
    let users = [
        "alice",
        "system:anonymous",
        "system:kube-scheduler",
        "bob",
        "admin",
    ];
    let mut lines = Vec::new();
    for i in 0..5000u32 {
        let verb = verbs[(i % 7) as usize];
        let user = users[(i / 7 % 5) as usize];
        let sec = i / 100;
        match i % 997 {
            13 => lines.push("{not json".to_string()),
            14 => lines.push(r#"{"kind":"Event","verb":"get"}"#.to_string()),
            15 => lines.push(format!(
                r#"{{"kind":"EventList","items":[{},{}]}}"#,
                event("create", "carol", sec),
                event("delete", "dave", sec)
            )),
            _ => lines.push(event(verb, user, sec)),
        }
    }
    lines.join("\n") + "\n"
}

#[test]
fn jobs_give_identical_output() {
    let dir = Scratch::new("jobs");
    let events = dir.write("audit.json", events());
    let rules = official();
    let one = replay(&rules, &events, &["-j", "1"]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(one.alerts().len() > 100, "{} alerts", one.alerts().len());
    for jobs in ["2", "3", "0"] {
        let many = replay(&rules, &events, &["-j", jobs]);
        assert_eq!(many.code, one.code);
        assert!(many.stdout == one.stdout, "-j {jobs}: stdout differs");
        assert!(
            log_text(&many.stderr) == log_text(&one.stderr),
            "-j {jobs}: stderr differs"
        );
    }
    // rule_matching: all, JSON output
    let extra = ["-o", "rule_matching=all", "-o", "json_output=true"];
    let one = replay(&rules, &events, &[&extra[..], &["-j", "1"]].concat());
    let two = replay(&rules, &events, &[&extra[..], &["-j", "2"]].concat());
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(two.stdout == one.stdout, "json, all: stdout differs");
    // -M stops at the same event
    let one = replay(&rules, &events, &["-M", "20", "-j", "1"]);
    let two = replay(&rules, &events, &["-M", "20", "-j", "2"]);
    assert!(one.alerts().len() < 5000);
    assert!(two.stdout == one.stdout, "-M: stdout differs");
}

#[test]
fn jobs_keep_the_legacy_stop() {
    let dir = Scratch::new("jobs-legacy");
    let events = dir.write("audit.json", events());
    let rules = official();
    let args = |j: &str| {
        vec![
            "-r".to_string(),
            rules.display().to_string(),
            "-e".to_string(),
            events.display().to_string(),
            "-j".to_string(),
            j.to_string(),
        ]
    };
    let one = run(args("1"));
    let two = run(args("2"));
    assert!(one.stderr.contains("stopping"), "{}", one.stderr);
    assert!(two.stdout == one.stdout, "legacy: stdout differs");
    assert_eq!(log_text(&two.stderr), log_text(&one.stderr));
    assert_eq!(two.code, one.code);
}

/// A rule whose output shows `evt.num`, so that the numbering across chunks, threads and
/// files is visible in every alert.
const NUMBERED_RULE: &str = r#"
- rule: Numbered create
  desc: every create, with its event number
  condition: ka.verb=create
  output: n=%evt.num user=%ka.user.name
  priority: WARNING
  source: k8s_audit
"#;

#[test]
fn jobs_number_events_like_one_thread_across_chunks_and_files() {
    let dir = Scratch::new("jobs-numbered");
    let rules = dir.write("rules.yaml", NUMBERED_RULE);
    // Three files (replayed in modification-time order, then by name): a plain one, one
    // with blank lines (counted in line numbers, not replayed) and no final newline, and
    // a gzip one (read as a stream; plain files are read by byte ranges).
    dir.write("logs/a.json", events());
    let b = events()
        .replace(
            "\n{\"kind\":\"EventList\"",
            "\n\n   \n{\"kind\":\"EventList\"",
        )
        .trim_end()
        .to_string();
    dir.write("logs/b.json", b);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, events().as_bytes()).unwrap();
    dir.write("logs/c.json.gz", gz.finish().unwrap());
    let logs = dir.path("logs");
    let one = replay(&rules, &logs, &["-j", "1"]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    let nums: Vec<u64> = one
        .alerts()
        .iter()
        .map(|a| {
            let n = a.split("n=").nth(1).unwrap().split(' ').next().unwrap();
            n.parse().unwrap()
        })
        .collect();
    // 714 creates per file (every 7th line) plus one from each EventList.
    assert!(nums.len() > 2100, "{} alerts", nums.len());
    assert!(nums.windows(2).all(|w| w[0] < w[1]), "numbers increase");
    // The last create is near the end of the third file: numbers run across files.
    assert!(
        *nums.last().unwrap() > 14900,
        "last number {}",
        nums.last().unwrap()
    );
    for jobs in ["2", "3"] {
        let many = replay(&rules, &logs, &["-j", jobs]);
        assert!(many.stdout == one.stdout, "-j {jobs}: stdout differs");
        assert_eq!(log_text(&many.stderr), log_text(&one.stderr));
    }
    // -M stops at the same event, inside the first file.
    let one = replay(&rules, &logs, &["-M", "20", "-j", "1"]);
    let two = replay(&rules, &logs, &["-M", "20", "-j", "2"]);
    assert!(one.alerts().len() < 400, "{} alerts", one.alerts().len());
    assert!(two.stdout == one.stdout, "-M: stdout differs");
}
