//! VM against reference evaluator on the conformance corpus: every rules-file list used
//! by a detection entry of `../shared/corpus/expectations.yaml`, loaded the way the
//! binary loads it, × every event under `../shared/corpus/events/` (read in place): for
//! every compiled rule, `Program::eval` must equal `Program::eval_reference`.
#![allow(clippy::unwrap_used)]

mod common;

use falco_rs_k8saudit::{parse_payload, AuditEvent, ParseOptions};
use falco_rs_rules::yaml;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    if let Ok(d) = std::env::var("FALCO_RS_CORPUS") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn all_events(dir: &Path) -> Vec<(String, AuditEvent)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut events = Vec::new();
    for f in files {
        let data = std::fs::read(&f).unwrap_or_else(|e| panic!("read {}: {e}", f.display()));
        for (i, line) in data.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let mut outcome = parse_payload(line, &ParseOptions::default());
            if outcome.events.is_empty() {
                // The audit2rbac recordings predate `stageTimestamp`; borrow `timestamp`.
                let text = String::from_utf8_lossy(line).replacen(
                    "\"timestamp\":",
                    "\"stageTimestamp\":",
                    1,
                );
                outcome = parse_payload(text.as_bytes(), &ParseOptions::default());
            }
            for ev in outcome.events {
                events.push((format!("{}:{}", f.display(), i + 1), ev));
            }
        }
    }
    events
}

#[test]
fn vm_agrees_with_reference_on_corpus_rules_and_events() {
    let corpus = corpus_dir();
    let text = std::fs::read_to_string(corpus.join("expectations.yaml")).expect("expectations");
    let doc = yaml::load_all(&text).expect("yaml").remove(0).to_json();
    let entries = doc["entries"].as_array().expect("entries");
    let mut rule_sets: BTreeSet<Vec<String>> = BTreeSet::new();
    for e in entries {
        if e["kind"] != "detection" {
            continue;
        }
        let files: Vec<String> = e["rules_files"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if !files.is_empty() {
            rule_sets.insert(files);
        }
    }
    assert!(rule_sets.len() >= 20, "only {} rule sets", rule_sets.len());

    let events = all_events(&corpus.join("events"));
    assert!(events.len() > 800, "only {} events", events.len());

    let (mut loaded_sets, mut evaluations, mut matches) = (0usize, 0u64, 0u64);
    let mut rules_seen = BTreeSet::new();
    let mut failures = Vec::new();
    for files in &rule_sets {
        let contents: Vec<(String, String)> = files
            .iter()
            .map(|f| {
                let p = corpus.join(f);
                let c = std::fs::read_to_string(&p)
                    .unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
                (f.clone(), c)
            })
            .collect();
        let refs: Vec<(&str, &str)> = contents
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_str()))
            .collect();
        let loaded = common::load_files(&refs);
        let Some(compiled) = &loaded.compiled else {
            // Entries that expect a load failure (exit status 1).
            continue;
        };
        loaded_sets += 1;
        for r in &compiled.rules {
            rules_seen.insert(r.name.clone());
        }
        for (name, ev) in &events {
            let mut vm_cache = compiled.program.new_cache();
            let mut ref_cache = compiled.program.new_cache();
            for r in &compiled.rules {
                let vm = compiled.program.eval(r.filter, &mut vm_cache, ev);
                let reference = compiled
                    .program
                    .eval_reference(r.filter, &mut ref_cache, ev);
                evaluations += 1;
                matches += u64::from(vm);
                if vm != reference && failures.len() < 20 {
                    failures.push(format!(
                        "{files:?} rule {:?} on {name}: VM {vm}, reference {reference}\n  condition: {}",
                        r.name, r.condition
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(loaded_sets >= 20, "only {loaded_sets} rule sets loaded");
    assert!(
        rules_seen.len() >= 50,
        "only {} distinct rules",
        rules_seen.len()
    );
    assert!(
        matches > 100,
        "only {matches} matches in {evaluations} evaluations"
    );
    eprintln!(
        "{loaded_sets} rule sets, {} distinct rules, {} events: {evaluations} evaluations, {matches} matches",
        rules_seen.len(),
        events.len()
    );
}
