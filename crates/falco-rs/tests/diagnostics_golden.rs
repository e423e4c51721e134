//! Golden tests of the human diagnostics (`falco-rs -V FILE --format human`): one
//! golden file per rules file of the shared corpus (`rules/validation/**`) and per
//! input under `tests/golden/inputs/`. Each golden file holds the exact stdout and the
//! exit status.
//!
//! A missing or different golden file fails the test. To rewrite them after an
//! intended change, run with `FALCO_RS_UPDATE_GOLDEN=1` and review the diff; CI never
//! sets it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_falco-rs");

fn corpus_dir() -> PathBuf {
    if let Ok(d) = std::env::var("FALCO_RS_CORPUS") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

/// Runs `-V rel --format human` in `cwd` and returns stdout plus the exit status.
fn human(cwd: &Path, rel: &str) -> String {
    let out = Command::new(BIN)
        .current_dir(cwd)
        .args(["-V", rel, "--format", "human"])
        .output()
        .expect("run falco-rs");
    format!(
        "{}exit: {}\n",
        String::from_utf8_lossy(&out.stdout),
        out.status.code().unwrap_or(-1)
    )
}

/// Compares every file of `root` with its golden file under `golden/<name>/`;
/// returns the mismatches.
fn check_tree(root: &Path, name: &str) -> (usize, Vec<String>) {
    let update = std::env::var("FALCO_RS_UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let mut files = Vec::new();
    yaml_files(root, &mut files);
    let mut failures = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let actual = human(root, &rel);
        let golden = golden_dir().join(name).join(format!("{rel}.txt"));
        if update {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &actual).unwrap();
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{rel}: output differs from {}\n--- expected\n{expected}--- actual\n{actual}",
                golden.display()
            )),
            Err(_) => failures.push(format!(
                "{rel}: golden file {} is missing (FALCO_RS_UPDATE_GOLDEN=1 writes it)",
                golden.display()
            )),
        }
    }
    (files.len(), failures)
}

#[test]
fn corpus_validation_inputs() {
    let root = corpus_dir().join("rules/validation");
    if !root.is_dir() {
        eprintln!("corpus not found at {}; skipping", root.display());
        return;
    }
    let (n, failures) = check_tree(&root, "validation");
    assert!(n >= 80, "only {n} corpus files found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn own_inputs() {
    let (n, failures) = check_tree(&golden_dir().join("inputs"), "own");
    assert!(n >= 5);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_error_of_a_file_is_reported() {
    let out = human(&golden_dir().join("inputs"), "multiple_problems.yaml");
    assert_eq!(out.matches("error[").count(), 3, "{out}");
    assert_eq!(out.matches("(additional)").count(), 3, "{out}");
    assert!(out.contains("= help: did you mean `ka.verb`?"), "{out}");
    assert!(out.contains("= help: did you mean `is_create`?"), "{out}");
}
