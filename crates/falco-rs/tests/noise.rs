//! The noise report (`--report`) and alert suppression.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("falco-rs-noise-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn falco(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_falco-rs"))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .expect("run falco-rs")
}

fn total(out: &Output) -> u64 {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Events detected: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("summary")
}

#[test]
fn the_suggested_exception_removes_the_announced_alerts() {
    let rules = root()
        .join("rules/k8s_audit_rules.yaml")
        .to_string_lossy()
        .into_owned();
    let sample = root()
        .join("testdata/audit/sample.jsonl")
        .to_string_lossy()
        .into_owned();
    let open = format!("plugins[0].open_params={sample}");
    let base = [
        "-r",
        &rules,
        "-o",
        &open,
        "-o",
        "rule_matching=all",
        "-o",
        "stdout_output.enabled=true",
    ];
    let out = falco(&[&base[..], &["--report", "json"]].concat());
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json_line = stdout.lines().last().expect("report line");
    let report: serde_json::Value = serde_json::from_str(json_line).expect("json report");
    let top = &report["rules"][0];
    let removed = top["suggested_exception"]["alerts_removed"]
        .as_u64()
        .expect("count");
    assert!(removed > 0);
    let before = total(&out);
    assert_eq!(
        report["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| r["alerts"].as_u64().unwrap_or(0))
            .sum::<u64>(),
        before,
        "the report counts every alert"
    );

    let dir = tmpdir("exception");
    let snippet = dir.join("tuning.yaml");
    std::fs::write(
        &snippet,
        top["suggested_exception"]["yaml"].as_str().expect("yaml"),
    )
    .expect("write");
    let out = falco(&[&base[..], &["-r", &snippet.to_string_lossy()]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(total(&out), before - removed);

    let text = falco(&[&base[..], &["--report"]].concat());
    let t = String::from_utf8_lossy(&text.stdout);
    assert!(t.contains("\nNoise report\n"), "{t}");
    assert!(
        t.contains(&format!("  silence the top tuple ({removed} of ")),
        "{t}"
    );
}

const RULE: &str = "- rule: Secret Read\n  desc: secret reads\n  condition: ka.target.resource = secrets and ka.verb = get\n  output: secret %ka.target.name read by %ka.user.name\n  priority: NOTICE\n  source: k8s_audit\n";

fn read(i: usize, user: &str, secs: u32) -> String {
    format!(
        r#"{{"kind":"Event","auditID":"r{i}","stage":"ResponseComplete","verb":"get","user":{{"username":"{user}"}},"objectRef":{{"resource":"secrets","namespace":"prod","name":"db"}},"stageTimestamp":"2024-05-01T10:{:02}:{:02}Z"}}"#,
        secs / 60,
        secs % 60
    )
}

#[test]
fn suppression_emits_once_per_window_then_summarises() {
    let dir = tmpdir("suppress");
    let rules = dir.join("rules.yaml");
    std::fs::write(&rules, RULE).expect("rules");
    let lines = [
        read(1, "eso", 0),
        read(2, "eso", 10),
        read(3, "alice", 15),
        read(4, "eso", 20),
        read(5, "eso", 59),
        read(6, "eso", 70),
        read(7, "eso", 75),
    ];
    let events = dir.join("events.jsonl");
    std::fs::write(&events, lines.join("\n")).expect("events");
    let out = falco(&[
        "-r",
        &rules.to_string_lossy(),
        "-o",
        &format!("plugins[0].open_params={}", events.display()),
        "-o",
        "suppression.enabled=true",
        "-o",
        "suppression.window=60",
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let alerts: Vec<&str> = stdout.lines().filter(|l| l.contains(": Notice ")).collect();
    assert_eq!(
        alerts,
        [
            "10:00:00.000000000: Notice secret db read by eso",
            "10:00:15.000000000: Notice secret db read by alice",
            "10:01:10.000000000: Notice Suppressed 3 more alerts of rule Secret Read with ka.user.name=eso ka.verb=get ka.target.resource=secrets ka.target.namespace=prod ka.target.name=db since 2024-05-01T10:00:00.000000000Z",
            "10:01:10.000000000: Notice secret db read by eso",
            "10:01:10.000000000: Notice Suppressed 1 more alerts of rule Secret Read with ka.user.name=eso ka.verb=get ka.target.resource=secrets ka.target.namespace=prod ka.target.name=db since 2024-05-01T10:01:10.000000000Z",
        ],
        "{stdout}"
    );
    // Every match still counts in the summary.
    assert!(stdout.contains("Events detected: 7\n"), "{stdout}");
}
