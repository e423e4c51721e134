//! `falco-rs test`: rule tests next to the rules.
//!
//! A test file (YAML) names the rules files it loads (relative to the test file; the
//! embedded default ruleset when absent), optional config overrides, and cases. A case
//! gives events (inline objects and/or a JSON-lines file) and the alerts it must
//! produce: each expected alert names a `rule`, optionally an exact `count` (default:
//! at least one), a `priority` and an `output_contains` substring. `expect: []` means
//! no alert at all. Alerts of rules not listed fail the case unless
//! `allow_other_alerts: true`.

use crate::config::Config;
use crate::detector::Detector;
use crate::replay::{replay, ReplayStats};
use crate::ruleset::{append_outputs, load_rules, selections, ActiveRules, RulesSource};
use anyhow::{anyhow, bail, Result};
use falco_rs_k8saudit::{parse_payload, AuditEvent, ParseOptions};
use falco_rs_output::{AlertFormat, Channel, OutputLine, Outputs};
use falco_rs_rules::model::Priority;
use falco_rs_rules::yaml;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// Options of `falco-rs test`.
#[derive(Debug, Clone, clap::Args)]
pub struct TestArgs {
    /// Test files or directories of `*.yaml` test files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also write a JUnit XML report to this file.
    #[arg(long = "junit", value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Print the report as JSON instead of text.
    #[arg(long = "json")]
    pub json: bool,
}

/// One expected alert.
#[derive(Debug, Clone)]
struct Expectation {
    rule: String,
    count: Option<u64>,
    priority: Option<Priority>,
    output_contains: Option<String>,
}

/// A parsed case.
#[derive(Debug, Clone)]
struct Case {
    name: String,
    events: Vec<String>,
    events_file: Option<PathBuf>,
    expect: Vec<Expectation>,
    allow_other_alerts: bool,
}

/// A captured alert.
#[derive(Debug, Clone)]
struct Captured {
    rule: String,
    priority: String,
    output: String,
}

/// Result of one case.
#[derive(Debug, Clone)]
struct CaseResult {
    name: String,
    failures: Vec<String>,
    alerts: Vec<Captured>,
}

/// Result of one test file.
#[derive(Debug, Clone)]
struct FileResult {
    file: String,
    /// An error that prevented running the file (malformed test file, rules errors).
    error: Option<String>,
    cases: Vec<CaseResult>,
}

/// A channel that keeps alert lines in memory.
struct Capture(Arc<Mutex<Vec<String>>>);

impl Channel for Capture {
    fn name(&self) -> &'static str {
        "capture"
    }

    fn write(&mut self, line: &OutputLine) -> Result<(), String> {
        self.0
            .lock()
            .map_err(|_| "capture poisoned".to_string())?
            .push(line.text.to_string());
        Ok(())
    }
}

fn test_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| anyhow!("cannot read {}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            out.extend(files);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            bail!("{}: no such file or directory", p.display());
        }
    }
    Ok(out)
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn parse_case(c: &Value, i: usize, dir: &Path) -> Result<Case, String> {
    let label = match str_field(c, "name") {
        Some(n) => format!("case #{} ('{n}')", i + 1),
        None => format!("case #{}", i + 1),
    };
    if !c.is_object() {
        return Err(format!(
            "{label}: a case must be a mapping with name, events and expect"
        ));
    }
    let name = str_field(c, "name").ok_or_else(|| format!("{label}: 'name' is missing"))?;
    let mut events = Vec::new();
    match c.get("events") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (k, e) in items.iter().enumerate() {
                if !e.is_object() {
                    return Err(format!(
                        "{label}: events[{k}] must be an audit event object"
                    ));
                }
                events.push(e.to_string());
            }
        }
        Some(_) => {
            return Err(format!(
                "{label}: 'events' must be a list of audit event objects"
            ))
        }
    }
    let events_file = str_field(c, "events_file").map(|f| dir.join(f));
    if events.is_empty() && events_file.is_none() {
        return Err(format!(
            "{label}: give 'events' (a list of objects) or 'events_file'"
        ));
    }
    let expect_v = c
        .get("expect")
        .ok_or_else(|| format!("{label}: 'expect' is missing; write 'expect: []' for no alert"))?;
    let Value::Array(items) = expect_v else {
        return Err(format!(
            "{label}: 'expect' must be a list of {{rule, count, priority, output_contains}}"
        ));
    };
    let mut expect = Vec::new();
    for (k, e) in items.iter().enumerate() {
        let rule =
            str_field(e, "rule").ok_or_else(|| format!("{label}: expect[{k}] needs a 'rule'"))?;
        let count = match e.get("count") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| {
                format!("{label}: expect[{k}].count must be a non-negative integer")
            })?),
        };
        let priority = match str_field(e, "priority") {
            None => None,
            Some(p) => Some(Priority::parse(&p).ok_or_else(|| {
                format!("{label}: expect[{k}].priority '{p}' is not a Falco priority")
            })?),
        };
        expect.push(Expectation {
            rule,
            count,
            priority,
            output_contains: str_field(e, "output_contains"),
        });
    }
    let allow_other_alerts = matches!(c.get("allow_other_alerts"), Some(Value::Bool(true)));
    Ok(Case {
        name,
        events,
        events_file,
        expect,
        allow_other_alerts,
    })
}

/// Loads one test file and runs its cases.
fn run_file(path: &Path) -> FileResult {
    let file = path.display().to_string();
    match run_file_inner(path) {
        Ok(cases) => FileResult {
            file,
            error: None,
            cases,
        },
        Err(e) => FileResult {
            file,
            error: Some(e),
            cases: Vec::new(),
        },
    }
}

fn run_file_inner(path: &Path) -> Result<Vec<CaseResult>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let docs = yaml::load_all(&text)
        .map_err(|e| format!("invalid YAML at line {}: {}", e.mark.line + 1, e.message))?;
    let root = docs.first().map(|d| d.to_json()).unwrap_or(Value::Null);
    if !root.is_object() {
        return Err("a test file is a mapping with 'rules', 'cases' and optional 'options'".into());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut config =
        Config::parse(crate::config::EMBEDDED_CONFIG, "<embedded>").map_err(|e| e.to_string())?;
    match root.get("options") {
        None | Some(Value::Null) => {}
        Some(Value::Array(opts)) => {
            for o in opts {
                let o = o
                    .as_str()
                    .ok_or("options must be a list of 'key=value' strings")?;
                config.apply_override(o).map_err(|e| e.to_string())?;
            }
        }
        Some(_) => return Err("options must be a list of 'key=value' strings".into()),
    }
    let sources: Vec<RulesSource> = match root.get("rules") {
        None | Some(Value::Null) => vec![RulesSource {
            name: crate::run::EMBEDDED_RULES_NAME.into(),
            content: crate::run::EMBEDDED_RULES.into(),
        }],
        Some(Value::Array(files)) => files
            .iter()
            .map(|f| {
                let rel = f.as_str().ok_or("rules must be a list of file paths")?;
                let p = dir.join(rel);
                let content = std::fs::read_to_string(&p)
                    .map_err(|e| format!("rules file {}: {e}", p.display()))?;
                Ok(RulesSource {
                    name: p.display().to_string(),
                    content,
                })
            })
            .collect::<Result<_, String>>()?,
        Some(_) => return Err("rules must be a list of file paths".into()),
    };
    let cases_v = root
        .get("cases")
        .and_then(|c| c.as_array())
        .ok_or("'cases' must be a list")?;
    let cases: Vec<Case> = cases_v
        .iter()
        .enumerate()
        .map(|(i, c)| parse_case(c, i, dir))
        .collect::<Result<_, _>>()?;

    let (loaded, results) = load_rules(&sources, &append_outputs(&config), false, |_| {});
    let Some(loaded) = loaded else {
        let msgs: Vec<String> = results
            .iter()
            .filter(|r| !r.successful())
            .map(|r| r.verbose())
            .collect();
        return Err(format!("rules failed to load:\n{}", msgs.join("\n")));
    };
    let min = config
        .str("priority")
        .and_then(|p| Priority::parse(&p))
        .unwrap_or(Priority::Debug);
    let sel = selections(&config).map_err(|e| e.to_string())?;
    let active = ActiveRules::build(&loaded.compiled, min, &sel);
    let match_all = config
        .str("rule_matching")
        .is_some_and(|m| m.eq_ignore_ascii_case("all"));
    let mut out = Vec::new();
    for case in cases {
        let capture = Arc::new(Mutex::new(Vec::new()));
        let fmt = AlertFormat {
            json: true,
            hostname: "falco-rs-test".into(),
            ..AlertFormat::default()
        };
        let outputs = Outputs::new(vec![Box::new(Capture(capture.clone()))], 1_000_000);
        let mut failures = Vec::new();
        {
            let mut detector = Detector::new(
                &loaded.compiled.rules,
                &loaded.compiled.program,
                &active.order,
                fmt,
                outputs,
                match_all,
                None,
            );
            let mut events: Vec<AuditEvent> = Vec::new();
            for (k, e) in case.events.iter().enumerate() {
                let parsed = parse_payload(e.as_bytes(), &ParseOptions::default());
                for err in parsed.errors {
                    failures.push(format!("events[{k}] is not a valid audit event: {err}"));
                }
                events.extend(parsed.events);
            }
            if let Some(f) = &case.events_file {
                let mut stats = ReplayStats::default();
                let r = replay(f, &ParseOptions::default(), false, &mut stats, |ev| {
                    events.push(ev);
                    ControlFlow::Continue(())
                });
                if let Err(e) = r {
                    failures.push(format!("events_file {}: {e}", f.display()));
                }
                if stats.malformed > 0 {
                    failures.push(format!(
                        "events_file {}: {} malformed lines (see the log)",
                        f.display(),
                        stats.malformed
                    ));
                }
            }
            for ev in events {
                let _ = detector.process(ev);
            }
            // Dropping the detector drains the output queues into the capture.
        }
        let alerts: Vec<Captured> = capture
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| Captured {
                rule: v["rule"].as_str().unwrap_or("").to_string(),
                priority: v["priority"].as_str().unwrap_or("").to_string(),
                output: v["output"].as_str().unwrap_or("").to_string(),
            })
            .collect();
        check(&case, &alerts, &mut failures);
        out.push(CaseResult {
            name: case.name,
            failures,
            alerts,
        });
    }
    Ok(out)
}

/// Compares alerts with the case's expectations.
fn check(case: &Case, alerts: &[Captured], failures: &mut Vec<String>) {
    if case.expect.is_empty() {
        for a in alerts {
            failures.push(format!("expected no alert, got {}: {}", a.rule, a.output));
        }
        return;
    }
    for e in &case.expect {
        let of_rule: Vec<&Captured> = alerts.iter().filter(|a| a.rule == e.rule).collect();
        let matching: Vec<&&Captured> = of_rule
            .iter()
            .filter(|a| e.priority.is_none_or(|p| a.priority == p.name()))
            .filter(|a| {
                e.output_contains
                    .as_deref()
                    .is_none_or(|s| a.output.contains(s))
            })
            .collect();
        let want = match e.count {
            Some(n) => format!("exactly {n}"),
            None => "at least one".into(),
        };
        let ok = match e.count {
            Some(n) => matching.len() as u64 == n,
            None => !matching.is_empty(),
        };
        if !ok {
            let mut msg = format!("rule '{}': expected {want} alert(s)", e.rule);
            if let Some(p) = e.priority {
                let _ = write!(msg, " with priority {}", p.name());
            }
            if let Some(s) = &e.output_contains {
                let _ = write!(msg, " with output containing {s:?}");
            }
            let _ = write!(msg, ", got {}", matching.len());
            if of_rule.len() != matching.len() {
                let _ = write!(
                    msg,
                    " ({} of the rule's alerts did not match: ",
                    of_rule.len() - matching.len()
                );
                let outs: Vec<String> = of_rule
                    .iter()
                    .map(|a| format!("[{}] {}", a.priority, a.output))
                    .collect();
                let _ = write!(msg, "{})", outs.join("; "));
            }
            failures.push(msg);
        }
    }
    if !case.allow_other_alerts {
        for a in alerts {
            if !case.expect.iter().any(|e| e.rule == a.rule) {
                failures.push(format!(
                    "unexpected alert of rule '{}': {}",
                    a.rule, a.output
                ));
            }
        }
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn junit(results: &[FileResult]) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total: usize = results.iter().map(|f| f.cases.len().max(1)).sum();
    let failed: usize = results
        .iter()
        .map(|f| {
            if f.error.is_some() {
                1
            } else {
                f.cases.iter().filter(|c| !c.failures.is_empty()).count()
            }
        })
        .sum();
    let _ = writeln!(
        x,
        "<testsuites name=\"falco-rs test\" tests=\"{total}\" failures=\"{failed}\">"
    );
    for f in results {
        let name = xml_escape(&f.file);
        if let Some(err) = &f.error {
            let _ = writeln!(
                x,
                "  <testsuite name=\"{name}\" tests=\"1\" failures=\"1\">"
            );
            let _ = writeln!(
                x,
                "    <testcase classname=\"{name}\" name=\"load\"><failure message=\"{}\">{}</failure></testcase>",
                xml_escape(err.lines().next().unwrap_or("")),
                xml_escape(err)
            );
        } else {
            let nf = f.cases.iter().filter(|c| !c.failures.is_empty()).count();
            let _ = writeln!(
                x,
                "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{nf}\">",
                f.cases.len()
            );
            for c in &f.cases {
                let cname = xml_escape(&c.name);
                if c.failures.is_empty() {
                    let _ = writeln!(x, "    <testcase classname=\"{name}\" name=\"{cname}\"/>");
                } else {
                    let _ = writeln!(
                        x,
                        "    <testcase classname=\"{name}\" name=\"{cname}\"><failure message=\"{}\">{}</failure></testcase>",
                        xml_escape(&c.failures[0]),
                        xml_escape(&c.failures.join("\n"))
                    );
                }
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

fn json_report(results: &[FileResult], passed: usize, failed: usize) -> Value {
    json!({
        "passed": passed,
        "failed": failed,
        "files": results.iter().map(|f| json!({
            "file": f.file,
            "error": f.error,
            "cases": f.cases.iter().map(|c| json!({
                "name": c.name,
                "passed": c.failures.is_empty(),
                "failures": c.failures,
                "alerts": c.alerts.iter().map(|a| json!({"rule": a.rule, "priority": a.priority, "output": a.output})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Runs `falco-rs test`.
pub fn run_tests(args: &TestArgs) -> Result<ExitCode> {
    let files = test_files(&args.paths)?;
    if files.is_empty() {
        bail!("no test files (*.yaml) found in the given paths");
    }
    let results: Vec<FileResult> = files.iter().map(|f| run_file(f)).collect();
    let mut passed = 0;
    let mut failed = 0;
    let mut text = String::new();
    for f in &results {
        if let Some(err) = &f.error {
            failed += 1;
            let _ = writeln!(text, "ERROR {}: {err}", f.file);
            continue;
        }
        for c in &f.cases {
            if c.failures.is_empty() {
                passed += 1;
                let _ = writeln!(text, "PASS  {} :: {}", f.file, c.name);
            } else {
                failed += 1;
                let _ = writeln!(text, "FAIL  {} :: {}", f.file, c.name);
                for msg in &c.failures {
                    let _ = writeln!(text, "      - {msg}");
                }
                if !c.alerts.is_empty() {
                    let _ = writeln!(text, "      actual alerts:");
                    for a in &c.alerts {
                        let _ = writeln!(text, "        [{}] {}: {}", a.priority, a.rule, a.output);
                    }
                }
            }
        }
    }
    if args.json {
        println!("{}", json_report(&results, passed, failed));
    } else {
        print!("{text}");
        println!("\n{passed} passed, {failed} failed");
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, junit(&results))
            .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
