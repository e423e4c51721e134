//! Logging settings: log_level, log_stderr, log_format=json, ISO timestamps.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    let dir = std::env::temp_dir().join(format!("falco-rs-logging-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"kind\":\"Event\",\"auditID\":\"a\",\"verb\":\"get\",\"stageTimestamp\":\"2024-05-01T10:00:00Z\"}\nnot json\n",
    )
    .expect("events");
    Command::new(env!("CARGO_BIN_EXE_falco-rs"))
        .arg("-o")
        .arg(format!("plugins[0].open_params={}", events.display()))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .expect("run")
}

#[test]
fn text_json_iso_and_levels() {
    let text = String::from_utf8_lossy(&run(&[]).stderr).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains("events.jsonl:2:"))
        .expect("malformed line reported");
    // Falco's text prefix: "Www Mmm DD HH:MM:SS YYYY: ".
    let (stamp, msg) = line.split_once(": ").expect("prefix");
    assert_eq!(stamp.split_whitespace().count(), 5, "{line}");
    assert!(
        msg.ends_with("events.jsonl:2: cannot parse JSON: expected ident at line 1 column 2"),
        "{line}"
    );

    let iso =
        String::from_utf8_lossy(&run(&["-o", "time_format_iso_8601=true"]).stderr).into_owned();
    let line = iso
        .lines()
        .find(|l| l.contains("events.jsonl:2:"))
        .expect("reported");
    assert!(
        line.as_bytes()[4] == b'-' && line.contains("+0000: "),
        "{line}"
    );

    let json = String::from_utf8_lossy(&run(&["-o", "log_format=json"]).stderr).into_owned();
    let line = json
        .lines()
        .find(|l| l.contains("events.jsonl:2:"))
        .expect("reported");
    let v: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
    assert_eq!(v["level"], "warning");
    assert!(v["msg"]
        .as_str()
        .unwrap_or("")
        .contains("cannot parse JSON"));

    let quiet = run(&["-o", "log_level=error"]);
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("events.jsonl:2:"));
    let off = run(&["-o", "log_stderr=false"]);
    assert!(String::from_utf8_lossy(&off.stderr).is_empty());
    assert!(String::from_utf8_lossy(&off.stdout).contains("Events detected: "));

    let bad = run(&["-o", "log_level=verbose"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Error: Unknown log level: verbose"));
}
