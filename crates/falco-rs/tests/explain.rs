//! `--explain` golden test: a rule with macros, a list and a two-tuple exception.

use std::path::Path;
use std::process::Command;

#[test]
fn explain_shows_every_sub_expression_and_the_values_read() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/explain");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_falco-rs"))
            .args(["-r", &dir.join("rules.yaml").to_string_lossy()])
            .args([
                "-o",
                &format!(
                    "plugins[0].open_params={}",
                    dir.join("events.jsonl").display()
                ),
            ])
            .arg("--explain")
            .args(extra)
            .env("TZ", "UTC")
            .output()
            .expect("run falco-rs")
    };
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = std::fs::read_to_string(dir.join("expected.txt")).expect("golden file");
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    // The second event matches the exception tuple (argocd, prod): no match.
    assert!(expected.contains("  rule \"Sensitive Write\": no match\n"));

    let one = run(&["--explain-event", "2", "--explain-rule", "Sensitive Write"]);
    let text = String::from_utf8_lossy(&one.stdout);
    assert!(
        text.starts_with("event #2 auditID=e2 verb=update resource=configmaps\n"),
        "{text}"
    );
    assert!(!text.contains("event #1"), "{text}");

    let bad = run(&["--explain-rule", "Nope"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no active rule named 'Nope'"));
}
