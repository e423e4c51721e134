//! Conformance runner: every entry of `../shared/corpus/expectations.yaml`, read in
//! place, run through the built `falco-rs` binary.
//!
//! * Detection entries replay the events with the listed rules files the way the
//!   original harness did (python suites: alert counts from the end-of-run summary;
//!   Go suite: JSON alerts on stdout) and compare counts, priorities, stderr and exit
//!   status.
//! * Validation entries run `-V` with JSON output and compare codes, item types, item
//!   names and messages.
//!
//! Entries that do not pass yet are listed in `conformance_known_failures.txt` with a
//! reason; that list may only shrink: an entry in it that passes fails the run.
//! `FALCO_RS_TEST=<substring>` filters entries; `FALCO_RS_CORPUS` overrides the corpus
//! directory. Failures leave a repro under `target/conformance/failures/`.

use falco_rs_rules::yaml;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

fn corpus_dir() -> PathBuf {
    if let Ok(d) = std::env::var("FALCO_RS_CORPUS") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

struct Outcome {
    id: String,
    suite: String,
    problems: Vec<String>,
    command: String,
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default()
}

fn shell_quote(a: &str) -> String {
    if a.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=[]:".contains(c))
    {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', "'\\''"))
    }
}

/// Alert counts of one run: total, per priority (upper case), per rule.
#[derive(Default, Debug)]
struct Counts {
    total: u64,
    by_priority: HashMap<String, u64>,
    by_rule: HashMap<String, u64>,
}

fn priority_key(p: &str) -> String {
    match p.to_ascii_uppercase().as_str() {
        "INFORMATIONAL" => "INFO".into(),
        other => other.to_string(),
    }
}

/// Parses Falco's end-of-run summary.
fn counts_from_summary(stdout: &str) -> Option<Counts> {
    let mut c = Counts::default();
    let mut section = 0;
    let mut seen = false;
    for line in stdout.lines() {
        if let Some(n) = line.strip_prefix("Events detected: ") {
            c.total = n.trim().parse().ok()?;
            seen = true;
        } else if line == "Rule counts by severity:" {
            section = 1;
        } else if line == "Triggered rules by rule name:" {
            section = 2;
        } else if let Some(rest) = line.strip_prefix("   ") {
            let (k, n) = rest.rsplit_once(": ")?;
            let n: u64 = n.trim().parse().ok()?;
            match section {
                1 => {
                    c.by_priority.insert(priority_key(k), n);
                }
                2 => {
                    c.by_rule.insert(k.to_string(), n);
                }
                _ => {}
            }
        }
    }
    seen.then_some(c)
}

/// Counts JSON alert lines on stdout.
fn counts_from_json(stdout: &str) -> Counts {
    let mut c = Counts::default();
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            c.total += 1;
            *c.by_priority
                .entry(priority_key(v["priority"].as_str().unwrap_or("")))
                .or_default() += 1;
            *c.by_rule
                .entry(v["rule"].as_str().unwrap_or("").to_string())
                .or_default() += 1;
        }
    }
    c
}

fn run_detection(bin: &Path, corpus: &Path, e: &Value) -> Outcome {
    let id = s(&e["id"]);
    let suite = s(&e["suite"]);
    let events = corpus.join(s(&e["events"]));
    let events = events.to_string_lossy().into_owned();
    let mut args: Vec<String> = Vec::new();
    for r in strs(e.get("rules_files")) {
        args.push("-r".into());
        args.push(corpus.join(r).to_string_lossy().into_owned());
    }
    let json_mode = suite == "testing-k8saudit";
    match suite.as_str() {
        "falco-0.34.1" => {
            if let Some(cfg) = e.get("falco_config").and_then(|v| v.as_str()) {
                args.push("-c".into());
                args.push(corpus.join(cfg).to_string_lossy().into_owned());
            }
            args.extend(["-o".into(), format!("plugins[0].open_params={events}")]);
            args.extend([
                "-o".into(),
                "json_output=false".into(),
                "-o".into(),
                "priority=debug".into(),
            ]);
        }
        "falco-0.31.1" => {
            args.extend(["-e".into(), events.clone()]);
            args.extend([
                "-o".into(),
                "json_output=false".into(),
                "-o".into(),
                "priority=debug".into(),
            ]);
        }
        _ => {
            args.extend(["-o".into(), format!("plugins[0].open_params={events}")]);
            args.extend(["-o".into(), "json_output=true".into()]);
        }
    }
    for src in strs(e.get("enabled_sources")) {
        args.push(format!("--enable-source={src}"));
    }
    let command = format!(
        "TZ=UTC {} {}",
        bin.display(),
        args.iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut problems = Vec::new();
    let out = match Command::new(bin).args(&args).env("TZ", "UTC").output() {
        Ok(o) => o,
        Err(err) => {
            problems.push(format!("could not run the binary: {err}"));
            return Outcome {
                id,
                suite,
                problems,
                command,
            };
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    let want_code = e["exit_status"].as_i64().unwrap_or(0);
    if i64::from(code) != want_code {
        problems.push(format!(
            "exit status {code}, expected {want_code}; stderr: {}",
            stderr.trim()
        ));
    }
    let summary = counts_from_summary(&stdout);
    let counts = if json_mode {
        let c = counts_from_json(&stdout);
        if let Some(sum) = &summary {
            if sum.total != c.total {
                problems.push(format!(
                    "summary says {} alerts but {} JSON alerts were printed",
                    sum.total, c.total
                ));
            }
        }
        c
    } else {
        match summary {
            Some(c) => c,
            None => {
                if want_code == 0 {
                    problems.push("no end-of-run summary on stdout".into());
                }
                Counts::default()
            }
        }
    };
    match e.get("detect") {
        Some(Value::Bool(true)) if counts.total == 0 => {
            problems.push("expected at least one alert, got none".into())
        }
        Some(Value::Bool(false)) if counts.total != 0 => problems.push(format!(
            "expected no alert, got {} ({:?})",
            counts.total, counts.by_rule
        )),
        _ => {}
    }
    if e.get("detect") == Some(&Value::Bool(true)) {
        for lvl in strs(e.get("detect_level")) {
            if counts
                .by_priority
                .get(&priority_key(&lvl))
                .copied()
                .unwrap_or(0)
                == 0
            {
                problems.push(format!(
                    "expected an alert of priority {lvl}, got {:?}",
                    counts.by_priority
                ));
            }
        }
    }
    if let Some(Value::Object(dc)) = e.get("detect_counts") {
        for (rule, n) in dc {
            let want = n.as_u64().unwrap_or(0);
            let got = counts.by_rule.get(rule).copied().unwrap_or(0);
            if got != want {
                problems.push(format!("rule '{rule}': {got} alerts, expected {want}"));
            }
        }
    }
    for lvl in strs(e.get("zero_alerts_of_priority")) {
        let got = counts
            .by_priority
            .get(&priority_key(&lvl))
            .copied()
            .unwrap_or(0);
        if got != 0 {
            problems.push(format!("expected no alert of priority {lvl}, got {got}"));
        }
    }
    for pat in strs(e.get("stderr_contains")) {
        if !stderr.contains(&pat) {
            problems.push(format!(
                "stderr does not contain {pat:?}; stderr: {}",
                stderr.trim()
            ));
        }
    }
    for pat in strs(e.get("stderr_matches_regex")) {
        match regex::Regex::new(&pat) {
            Ok(re) if re.is_match(&stderr) => {}
            _ => problems.push(format!(
                "stderr does not match /{pat}/; stderr: {}",
                stderr.trim()
            )),
        }
    }
    Outcome {
        id,
        suite,
        problems,
        command,
    }
}

/// Whether a reported problem matches an expected `{code, item_type, item_name, message}`.
fn problem_matches(p: &Value, want: &Value, case_insensitive: bool) -> bool {
    let eq = |a: &str, b: &str| {
        if case_insensitive {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    if let Some(code) = want.get("code").and_then(|v| v.as_str()) {
        if !eq(p["code"].as_str().unwrap_or(""), code) {
            return false;
        }
    }
    let msg = p["message"].as_str().unwrap_or("");
    if let Some(m) = want.get("message").and_then(|v| v.as_str()) {
        if msg != m {
            return false;
        }
    }
    if let Some(m) = want.get("message_contains").and_then(|v| v.as_str()) {
        if !msg.contains(m) {
            return false;
        }
    }
    let locs = p["context"]["locations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let item_type = want.get("item_type").and_then(|v| v.as_str());
    let item_name = want.get("item_name").and_then(|v| v.as_str());
    if item_type.is_none() && item_name.is_none() {
        return true;
    }
    locs.iter().any(|l| {
        item_type.is_none_or(|t| eq(l["item_type"].as_str().unwrap_or(""), t))
            && item_name.is_none_or(|n| l["item_name"].as_str().unwrap_or("") == n)
    })
}

fn run_validation(bin: &Path, corpus: &Path, e: &Value) -> Outcome {
    let id = s(&e["id"]);
    let suite = s(&e["suite"]);
    let mut args: Vec<String> = Vec::new();
    for f in strs(e.get("validate_rules_files")) {
        args.push("-V".into());
        args.push(corpus.join(f).to_string_lossy().into_owned());
    }
    args.extend(["-o".into(), "json_output=true".into()]);
    let command = format!(
        "{} {}",
        bin.display(),
        args.iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut problems = Vec::new();
    let out = match Command::new(bin).args(&args).output() {
        Ok(o) => o,
        Err(err) => {
            problems.push(format!("could not run the binary: {err}"));
            return Outcome {
                id,
                suite,
                problems,
                command,
            };
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let code = out.status.code().unwrap_or(-1);
    let want_code = e["exit_status"].as_i64().unwrap_or(0);
    if i64::from(code) != want_code {
        problems.push(format!("exit status {code}, expected {want_code}"));
    }
    let Some(json) = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
    else {
        problems.push(format!(
            "no validation JSON on stdout; stderr: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
        return Outcome {
            id,
            suite,
            problems,
            command,
        };
    };
    let results = json["falco_load_results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let errors: Vec<Value> = results
        .iter()
        .flat_map(|r| r["errors"].as_array().cloned().unwrap_or_default())
        .collect();
    let warnings: Vec<Value> = results
        .iter()
        .flat_map(|r| r["warnings"].as_array().cloned().unwrap_or_default())
        .collect();
    let ci = suite == "testing-validation";
    for ok in strs(e.get("validate_ok")) {
        let good = results.iter().any(|r| {
            r["name"].as_str().is_some_and(|n| n.ends_with(&ok))
                && r["successful"] == Value::Bool(true)
        });
        if !good {
            problems.push(format!("{ok} should load successfully"));
        }
    }
    for (key, have) in [
        ("expected_errors", &errors),
        ("expected_warnings", &warnings),
    ] {
        if let Some(list) = e.get(key).and_then(|v| v.as_array()) {
            for want in list {
                if !have.iter().any(|p| problem_matches(p, want, ci)) {
                    problems.push(format!(
                        "missing {} {}; got {}",
                        if key == "expected_errors" {
                            "error"
                        } else {
                            "warning"
                        },
                        want,
                        serde_json::to_string(
                            &have
                                .iter()
                                .map(|p| (p["code"].clone(), p["message"].clone()))
                                .collect::<Vec<_>>()
                        )
                        .unwrap_or_default()
                    ));
                }
            }
        }
    }
    if let Some(n) = e.get("expected_error_count").and_then(|v| v.as_u64()) {
        if errors.len() as u64 != n {
            problems.push(format!("{} errors, expected {n}", errors.len()));
        }
    }
    if let Some(n) = e.get("expected_warning_count").and_then(|v| v.as_u64()) {
        if warnings.len() as u64 != n {
            problems.push(format!("{} warnings, expected {n}", warnings.len()));
        }
    }
    Outcome {
        id,
        suite,
        problems,
        command,
    }
}

fn known_failures() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance_known_failures.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, reason) = l.split_once('|').unwrap_or((l, ""));
            (id.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

fn main() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_falco-rs"));
    let corpus = corpus_dir();
    let text = match std::fs::read_to_string(corpus.join("expectations.yaml")) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "conformance: cannot read {}/expectations.yaml: {e}",
                corpus.display()
            );
            std::process::exit(1);
        }
    };
    let docs = match yaml::load_all(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("conformance: expectations.yaml: {}", e.message);
            std::process::exit(1);
        }
    };
    let root = docs.first().map(|d| d.to_json()).unwrap_or(Value::Null);
    let filter = std::env::var("FALCO_RS_TEST").unwrap_or_default();
    let entries: Vec<Value> = root["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| s(&e["id"]).contains(&filter))
        .collect();
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(e) = entries.get(i) else { break };
                let o = if e["kind"] == "validation" {
                    run_validation(&bin, &corpus, e)
                } else {
                    run_detection(&bin, &corpus, e)
                };
                if let Ok(mut v) = outcomes.lock() {
                    v.push(o);
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap_or_default();
    outcomes.sort_by(|a, b| a.id.cmp(&b.id));
    let known = known_failures();
    let fail_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/conformance/failures");
    let _ = std::fs::remove_dir_all(&fail_dir);
    let mut table: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut now_passing = Vec::new();
    for o in &outcomes {
        let row = table.entry(o.suite.clone()).or_default();
        let passed = o.problems.is_empty();
        let listed = known.contains_key(&o.id);
        if passed {
            row.0 += 1;
            if listed {
                now_passing.push(o.id.clone());
            }
        } else if listed {
            row.2 += 1;
        } else {
            row.1 += 1;
            unexpected.push(o);
            let _ = std::fs::create_dir_all(&fail_dir);
            let file = fail_dir.join(format!("{}.txt", o.id.replace('/', "__")));
            let _ = std::fs::write(
                &file,
                format!("{}\n\n{}\n", o.command, o.problems.join("\n")),
            );
        }
    }
    println!(
        "\nconformance ({} entries from {})",
        outcomes.len(),
        corpus.display()
    );
    println!("{:<28} {:>7} {:>7} {:>7}", "suite", "pass", "fail", "known");
    for (suite, (p, f, k)) in &table {
        println!("{suite:<28} {p:>7} {f:>7} {k:>7}");
    }
    for o in &unexpected {
        println!("\nFAIL {}\n  repro: {}", o.id, o.command);
        for p in &o.problems {
            println!("  - {p}");
        }
    }
    for id in &now_passing {
        println!("\nNOW PASSING (remove it from conformance_known_failures.txt): {id}");
    }
    let passed: u32 = table.values().map(|r| r.0).sum();
    let failed = unexpected.len() + now_passing.len();
    println!("\n{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
