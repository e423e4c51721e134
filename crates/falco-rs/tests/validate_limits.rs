//! Limits of rules loading, through the real binary: a 10,000-macro chain, macro
//! cycles, deep condition nesting, deep YAML nesting and oversized files each end in a
//! clear error (or load), never in a crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_falco-rs");

struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, content: &str) -> Self {
        let p = std::env::temp_dir().join(format!("falco-rs-limits-{}-{name}", std::process::id()));
        std::fs::write(&p, content).unwrap();
        TempFile(p)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `-V file -o json_output=true` and returns (exit code, first error message).
fn validate(f: &TempFile) -> (i32, String) {
    let out = Command::new(BIN)
        .args(["-V", f.0.to_str().unwrap(), "-o", "json_output=true"])
        .output()
        .unwrap();
    let code = out.status.code().expect("exited normally, not by a signal");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let msg = v["falco_load_results"][0]["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (code, msg)
}

const RULE: &str =
    "- rule: r\n  desc: d\n  condition: COND\n  output: o\n  priority: INFO\n  source: k8s_audit\n";

/// Macros see the macros defined before them, already expanded, so a long chain is
/// resolved one level at a time: 10,000 links load without deep recursion.
#[test]
fn ten_thousand_macro_chain_loads() {
    let mut y = String::from("- macro: m0\n  condition: ka.verb=get\n");
    for i in 1..10_000 {
        y.push_str(&format!("- macro: m{i}\n  condition: m{}\n", i - 1));
    }
    y.push_str(&RULE.replace("COND", "m9999"));
    let f = TempFile::new("chain.yaml", &y);
    assert_eq!(validate(&f), (0, String::new()));
}

#[test]
fn macro_chain_within_the_limit_loads() {
    let mut y = String::from("- macro: m0\n  condition: ka.verb=get\n");
    for i in 1..500 {
        y.push_str(&format!("- macro: m{i}\n  condition: m{}\n", i - 1));
    }
    y.push_str(&RULE.replace("COND", "m499"));
    let f = TempFile::new("chain_ok.yaml", &y);
    assert_eq!(validate(&f), (0, String::new()));
}

#[test]
fn macro_cycle_is_reported() {
    // Redefining `a` in terms of `b`, which uses `a`, closes a loop.
    let y = "- macro: a\n  condition: ka.verb=get\n- macro: b\n  condition: a\n- macro: a\n  condition: b\n"
        .to_string()
        + &RULE.replace("COND", "a");
    let f = TempFile::new("cycle.yaml", &y);
    let (code, msg) = validate(&f);
    assert_eq!(code, 1);
    assert!(msg.starts_with("reference loop in macro"), "{msg}");
}

#[test]
fn deep_condition_nesting_is_a_parse_error() {
    let cond = format!("{}ka.verb=get{}", "(".repeat(5000), ")".repeat(5000));
    let f = TempFile::new("nest.yaml", &RULE.replace("COND", &cond));
    let (code, msg) = validate(&f);
    assert_eq!(code, 1);
    assert!(msg.contains("exceeded max depth limit of 1000"), "{msg}");
}

#[test]
fn deep_yaml_nesting_is_a_parse_error() {
    let y = format!("- rule: {}x{}\n", "[".repeat(2000), "]".repeat(2000));
    let f = TempFile::new("yamlnest.yaml", &y);
    let (code, msg) = validate(&f);
    assert_eq!(code, 1);
    assert!(msg.contains("YAML nesting deeper than 512 levels"), "{msg}");
}

#[test]
fn oversized_rules_file_is_refused() {
    let p = std::env::temp_dir().join(format!("falco-rs-limits-{}-big.yaml", std::process::id()));
    {
        let mut f = std::fs::File::create(&p).unwrap();
        f.write_all(b"# big\n").unwrap();
        // A sparse file: no need to write 64 MiB.
        f.set_len(64 * 1024 * 1024 + 1).unwrap();
    }
    let out = Command::new(BIN)
        .args(["-V", p.to_str().unwrap()])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&p);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "is 67108865 bytes; falco-rs reads rules files of at most 67108864 bytes (64 MiB)"
        ),
        "{err}"
    );
}
