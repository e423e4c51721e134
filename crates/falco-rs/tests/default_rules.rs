//! The embedded default ruleset (`rules/k8s_audit_rules.yaml`) against its test events.
//!
//! * Every rule declared in the ruleset must have a case file
//!   `testdata/default_rules/<slug>.jsonl` with at least one positive event (`auditID`
//!   starting with `pos-`) and one negative event (`neg-`); see
//!   `testdata/default_rules/README.md`. Replaying the positives gives exactly one alert
//!   of that rule per event, the negatives none, and no test event is rejected.
//! * The sample log `testdata/audit/sample.jsonl` gives exact per-rule counts, with both
//!   `rule_matching` modes, and its malformed line is reported with file and line.
//! * The ruleset validates without warnings, and the tuning examples of
//!   `rules/README.md` load on top of it and have the documented effect.
//!
//! Every run uses the embedded configuration and ruleset (no `-c`, no `-r`) unless a
//! test says otherwise, exactly as `falco-rs -o plugins[0].open_params=<file>` does.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_falco-rs");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn ruleset_path() -> PathBuf {
    repo().join("rules/k8s_audit_rules.yaml")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("default_rules");
    fs::create_dir_all(&dir).expect("create scratch dir");
    dir.join(name)
}

/// A rule as declared in the ruleset file.
#[derive(Debug)]
struct RuleDecl {
    name: String,
    enabled: bool,
}

/// Scans the ruleset for `- rule:` items (and `enabled: false` inside them). A plain
/// line scan on purpose: it must not depend on the loader under test.
fn declared_rules() -> Vec<RuleDecl> {
    let text = fs::read_to_string(ruleset_path()).expect("read ruleset");
    let mut rules: Vec<RuleDecl> = Vec::new();
    let mut in_rule = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("- rule:") {
            let name = rest.trim().trim_matches('"').trim_matches('\'').to_string();
            rules.push(RuleDecl {
                name,
                enabled: true,
            });
            in_rule = true;
        } else if line.starts_with("- ") {
            in_rule = false;
        } else if in_rule && line.trim_end() == "  enabled: false" {
            if let Some(last) = rules.last_mut() {
                last.enabled = false;
            }
        }
    }
    rules
}

/// File name stem of a rule's case file: lower case, runs of other characters as `_`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

fn case_path(rule: &str) -> PathBuf {
    repo()
        .join("testdata/default_rules")
        .join(format!("{}.jsonl", slug(rule)))
}

/// The positive and negative event lines of a rule's case file.
struct Case {
    positives: Vec<String>,
    negatives: Vec<String>,
}

fn load_case(rule: &str) -> Result<Case, String> {
    let path = case_path(rule);
    let text = fs::read_to_string(&path)
        .map_err(|e| format!("rule {rule:?} has no case file {}: {e}", path.display()))?;
    let mut case = Case {
        positives: Vec::new(),
        negatives: Vec::new(),
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| format!("{}:{}: not JSON: {e}", path.display(), i + 1))?;
        let id = v["auditID"].as_str().unwrap_or_default();
        if id.starts_with("pos-") {
            case.positives.push(line.to_string());
        } else if id.starts_with("neg-") {
            case.negatives.push(line.to_string());
        } else {
            return Err(format!(
                "{}:{}: auditID {id:?} starts with neither pos- nor neg-",
                path.display(),
                i + 1
            ));
        }
    }
    Ok(case)
}

/// Result of one replay.
struct Run {
    alerts: Vec<Value>,
    stdout: String,
    stderr: String,
    success: bool,
}

impl Run {
    fn count(&self, rule: &str) -> usize {
        self.alerts.iter().filter(|a| a["rule"] == rule).count()
    }
}

/// Replays `events` with JSON output. `args` come after the common options.
fn replay(events: &Path, args: &[&str]) -> Run {
    let open = format!("plugins[0].open_params={}", events.display());
    let out = Command::new(BIN)
        .env("TZ", "UTC")
        .args([
            "-o",
            "json_output=true",
            "-o",
            "rule_matching=all",
            "-o",
            &open,
        ])
        .args(args)
        .output()
        .expect("run falco-rs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let alerts = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("alert line is JSON"))
        .collect();
    Run {
        alerts,
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        success: out.status.success(),
    }
}

fn write_events(name: &str, lines: &[String]) -> PathBuf {
    let path = scratch(name);
    fs::write(&path, lines.join("\n") + "\n").expect("write events");
    path
}

#[test]
fn every_rule_has_positive_and_negative_cases() {
    let rules = declared_rules();
    assert_eq!(rules.len(), 36, "rules declared in the ruleset: {rules:?}");
    let mut problems = Vec::new();
    for rule in &rules {
        match load_case(&rule.name) {
            Err(e) => problems.push(e),
            Ok(case) => {
                if case.positives.is_empty() {
                    problems.push(format!("rule {:?} has no positive event", rule.name));
                }
                if case.negatives.is_empty() {
                    problems.push(format!("rule {:?} has no negative event", rule.name));
                }
            }
        }
    }
    // No stale case files either.
    let slugs: Vec<String> = rules.iter().map(|r| slug(&r.name)).collect();
    for entry in fs::read_dir(repo().join("testdata/default_rules")).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            if !slugs.contains(&stem) {
                problems.push(format!("{} matches no rule", path.display()));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn opt_in_rules_are_the_documented_ones() {
    let disabled: Vec<String> = declared_rules()
        .into_iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name)
        .collect();
    assert_eq!(
        disabled,
        [
            "K8s User Not in Allow-List",
            "K8s Default Admin Credential Used",
            "K8s Pod Image Not Allowed",
            "K8s Audit Event",
        ]
    );
}

#[test]
fn each_rule_matches_its_positives_and_not_its_negatives() {
    let mut problems = Vec::new();
    for rule in declared_rules() {
        let name = rule.name.as_str();
        let case = match load_case(name) {
            Ok(c) => c,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        // Opt-in rules are enabled through falco.yaml's `rules:` selection; harmless
        // for the others.
        let enable = format!("rules[].enable.rule={name}");
        let stem = slug(name);

        let pos = write_events(&format!("{stem}.pos.jsonl"), &case.positives);
        let run = replay(&pos, &["-o", &enable]);
        // A rejected test event is reported as `<file>:<line>: ...`.
        if !run.success || run.stderr.contains(".jsonl:") {
            problems.push(format!(
                "{name}: positives: exit ok={} stderr:\n{}",
                run.success, run.stderr
            ));
        }
        if run.count(name) != case.positives.len() {
            problems.push(format!(
                "{name}: {} positive events gave {} alerts of the rule\n{}",
                case.positives.len(),
                run.count(name),
                run.stdout
            ));
        }
        for alert in &run.alerts {
            // Every output names the caller and the verb.
            let fields = &alert["output_fields"];
            if fields.get("ka.user.name").is_none() || fields.get("ka.verb").is_none() {
                problems.push(format!(
                    "{}: output lacks %ka.user.name or %ka.verb",
                    alert["rule"]
                ));
            }
            if alert["source"] != "k8s_audit" {
                problems.push(format!("{}: source {}", alert["rule"], alert["source"]));
            }
        }

        let neg = write_events(&format!("{stem}.neg.jsonl"), &case.negatives);
        let run = replay(&neg, &["-o", &enable]);
        // A rejected test event is reported as `<file>:<line>: ...`.
        if !run.success || run.stderr.contains(".jsonl:") {
            problems.push(format!(
                "{name}: negatives: exit ok={} stderr:\n{}",
                run.success, run.stderr
            ));
        }
        if run.count(name) != 0 {
            problems.push(format!(
                "{name}: negative events gave {} alerts of the rule\n{}",
                run.count(name),
                run.stdout
            ));
        }

        if !rule.enabled {
            let run = replay(&pos, &[]);
            if run.count(name) != 0 {
                problems.push(format!(
                    "{name}: disabled by default, yet {} alerts without enabling it",
                    run.count(name)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n----\n"));
}

/// The end-of-run summary printed on stdout.
#[derive(Debug, PartialEq)]
struct Summary {
    total: u64,
    by_severity: Vec<(String, u64)>,
    by_rule: Vec<(String, u64)>,
}

fn parse_summary(stdout: &str) -> Summary {
    let mut lines = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Events detected: "));
    let total = lines
        .next()
        .and_then(|l| l.strip_prefix("Events detected: "))
        .and_then(|n| n.parse().ok())
        .expect("Events detected line");
    let mut by_severity = Vec::new();
    let mut by_rule = Vec::new();
    let mut section = 0;
    for line in lines {
        match line {
            "Rule counts by severity:" => section = 1,
            "Triggered rules by rule name:" => section = 2,
            _ => {
                let Some(entry) = line.strip_prefix("   ") else {
                    continue;
                };
                let (name, n) = entry.rsplit_once(": ").expect("name: count");
                let item = (name.to_string(), n.parse().expect("count"));
                match section {
                    1 => by_severity.push(item),
                    2 => by_rule.push(item),
                    _ => {}
                }
            }
        }
    }
    Summary {
        total,
        by_severity,
        by_rule,
    }
}

fn summary(total: u64, by_severity: &[(&str, u64)], by_rule: &[(&str, u64)]) -> Summary {
    let own = |v: &[(&str, u64)]| v.iter().map(|(s, n)| (s.to_string(), *n)).collect();
    Summary {
        total,
        by_severity: own(by_severity),
        by_rule: own(by_rule),
    }
}

fn replay_sample(args: &[&str]) -> (Summary, String) {
    let sample = repo().join("testdata/audit/sample.jsonl");
    let open = format!("plugins[0].open_params={}", sample.display());
    let out = Command::new(BIN)
        .env("TZ", "UTC")
        .args(["-o", &open])
        .args(args)
        .output()
        .expect("run falco-rs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "exit {:?}\n{stderr}", out.status);
    // The one malformed (truncated) line is reported with file and line, once.
    assert!(
        stderr.contains("sample.jsonl:258: cannot parse JSON"),
        "stderr:\n{stderr}"
    );
    assert_eq!(
        stderr.matches("sample.jsonl:").count(),
        1,
        "stderr:\n{stderr}"
    );
    (parse_summary(&stdout), stdout)
}

#[test]
fn sample_log_with_rule_matching_all() {
    let (got, stdout) = replay_sample(&["-o", "rule_matching=all"]);
    let want = summary(
        35,
        &[("WARNING", 16), ("NOTICE", 10), ("INFO", 9)],
        &[
            ("K8s Anonymous Request Allowed", 1),
            ("K8s Request Forbidden", 1),
            ("K8s Privileged Container Created", 1),
            ("K8s Pod Using Host Network Created", 1),
            ("K8s Pod Using Host PID Created", 1),
            ("K8s Pod Mounting Sensitive Host Path Created", 1),
            ("K8s Pod Created in System Namespace", 1),
            ("K8s Pod Exec or Attach", 1),
            ("K8s Pod Port-Forward", 1),
            ("K8s Ephemeral Container Added", 1),
            ("K8s NodePort Service Created", 1),
            ("K8s Ingress Without TLS Created", 1),
            ("K8s ConfigMap With Credentials Written", 1),
            ("K8s Secret Accessed by Unexpected Identity", 1),
            ("K8s Secret Access Forbidden", 2),
            ("K8s Service Account Token Requested", 1),
            ("K8s Cluster-Admin Binding Created", 1),
            ("K8s Role With Wildcard Created", 1),
            ("K8s Role With Pod Exec Created", 1),
            ("K8s System RBAC Object Changed", 1),
            ("K8s Role With Secrets Access Created", 1),
            ("K8s Role With Write Verbs Created", 1),
            ("K8s Role Created or Deleted", 3),
            ("K8s Role Binding Created or Deleted", 1),
            ("K8s Service Account Created in System Namespace", 1),
            ("K8s Service Account Created or Deleted", 1),
            ("K8s Namespace Created", 1),
            ("K8s Namespace Deleted", 1),
            ("K8s Object Created or Deleted by User", 2),
            ("K8s Node Registered", 1),
            ("K8s Node Registration Failed", 1),
        ],
    );
    assert_eq!(got, want, "stdout:\n{stdout}");
}

#[test]
fn sample_log_with_default_config() {
    // rule_matching: first, as in the embedded falco.yaml.
    let (got, stdout) = replay_sample(&[]);
    let want = summary(
        23,
        &[("WARNING", 12), ("NOTICE", 10), ("INFO", 1)],
        &[
            ("K8s Anonymous Request Allowed", 1),
            ("K8s Request Forbidden", 1),
            ("K8s Privileged Container Created", 1),
            ("K8s Pod Exec or Attach", 1),
            ("K8s Pod Port-Forward", 1),
            ("K8s Ephemeral Container Added", 1),
            ("K8s NodePort Service Created", 1),
            ("K8s Ingress Without TLS Created", 1),
            ("K8s ConfigMap With Credentials Written", 1),
            ("K8s Secret Accessed by Unexpected Identity", 1),
            ("K8s Secret Access Forbidden", 2),
            ("K8s Service Account Token Requested", 1),
            ("K8s Cluster-Admin Binding Created", 1),
            ("K8s Role With Wildcard Created", 1),
            ("K8s Role With Pod Exec Created", 1),
            ("K8s System RBAC Object Changed", 1),
            ("K8s Role With Secrets Access Created", 1),
            ("K8s Service Account Created in System Namespace", 1),
            ("K8s Namespace Created", 1),
            ("K8s Namespace Deleted", 1),
            ("K8s Node Registered", 1),
            ("K8s Node Registration Failed", 1),
        ],
    );
    assert_eq!(got, want, "stdout:\n{stdout}");
}

#[test]
fn sample_log_can_drop_the_activity_rules_by_tag() {
    let (got, stdout) = replay_sample(&[
        "-o",
        "rule_matching=all",
        "-o",
        "rules[].disable.tag=k8s_activity",
    ]);
    assert_eq!(got.total, 26, "stdout:\n{stdout}");
    assert!(
        !got.by_rule
            .iter()
            .any(|(r, _)| r.contains("Created or Deleted")),
        "stdout:\n{stdout}"
    );
}

/// `-V` with JSON output: (successful, errors, warnings) per file.
fn validate(files: &[&Path]) -> Value {
    let mut cmd = Command::new(BIN);
    for f in files {
        cmd.arg("-V").arg(f);
    }
    let out = cmd
        .args(["-o", "json_output=true"])
        .output()
        .expect("run falco-rs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = stdout.lines().next().unwrap_or_default();
    serde_json::from_str(first).unwrap_or_else(|e| panic!("-V output is not JSON ({e}):\n{stdout}"))
}

#[test]
fn ruleset_validates_without_warnings() {
    let ruleset = ruleset_path();
    let v = validate(&[&ruleset]);
    let results = v["falco_load_results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{v}");
    assert_eq!(results[0]["successful"], true, "{v}");
    assert_eq!(results[0]["errors"], serde_json::json!([]), "{v}");
    assert_eq!(results[0]["warnings"], serde_json::json!([]), "{v}");
}

/// The ```yaml blocks of rules/README.md, joined into one tuning file.
fn readme_tuning_file() -> PathBuf {
    let readme = fs::read_to_string(repo().join("rules/README.md")).expect("read README");
    let mut blocks = Vec::new();
    let mut rest = readme.as_str();
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + "```yaml\n".len()..];
        let end = body.find("```").expect("closed yaml block");
        blocks.push(&body[..end]);
        rest = &body[end + 3..];
    }
    assert!(blocks.len() >= 5, "README yaml blocks: {}", blocks.len());
    let path = scratch("readme_tuning.yaml");
    fs::write(&path, blocks.join("\n")).expect("write tuning file");
    path
}

#[test]
fn readme_tuning_examples_load_and_work() {
    let ruleset = ruleset_path();
    let tuning = readme_tuning_file();
    let v = validate(&[&ruleset, &tuning]);
    for result in v["falco_load_results"].as_array().expect("results") {
        assert_eq!(result["successful"], true, "{v}");
        assert_eq!(result["errors"], serde_json::json!([]), "{v}");
        assert_eq!(result["warnings"], serde_json::json!([]), "{v}");
    }

    let rules_args = [
        "-r",
        ruleset.to_str().expect("utf-8 path"),
        "-r",
        tuning.to_str().expect("utf-8 path"),
    ];
    // (rule, positives still alerting with the README tuning)
    let expected = [
        // exception tuple [alice@example.com, payments] removes pos-1
        ("K8s Secret Accessed by Unexpected Identity", 2),
        // exception tuple [ci, [docker.io/library/docker]] removes pos-1
        ("K8s Pod Mounting Sensitive Host Path Created", 2),
        // argocd service accounts are platform now: pos-2 is gone
        ("K8s Namespace Created", 1),
        // enabled; alice is allowed, kubernetes-admin is not
        ("K8s User Not in Allow-List", 1),
        // disabled
        ("K8s Node Registered", 0),
        // untouched
        ("K8s Privileged Container Created", 4),
        ("K8s Pod Exec or Attach", 3),
    ];
    let mut problems = Vec::new();
    for (rule, want) in expected {
        let case = load_case(rule).expect("case file");
        let pos = write_events(&format!("{}.tuned.jsonl", slug(rule)), &case.positives);
        let run = replay(&pos, &rules_args);
        if !run.success || run.count(rule) != want {
            problems.push(format!(
                "{rule}: want {want} alerts, got {} (exit ok={})\n{}{}",
                run.count(rule),
                run.success,
                run.stdout,
                run.stderr
            ));
        }
    }
    // priority: replace
    let case = load_case("K8s Role With Write Verbs Created").expect("case file");
    let pos = write_events("write_verbs.tuned.jsonl", &case.positives);
    let run = replay(&pos, &rules_args);
    let priorities: Vec<&Value> = run
        .alerts
        .iter()
        .filter(|a| a["rule"] == "K8s Role With Write Verbs Created")
        .map(|a| &a["priority"])
        .collect();
    // pos-2 comes from argocd, which the tuning made a platform identity.
    if priorities.len() != 1 || priorities.iter().any(|p| *p != "Debug") {
        problems.push(format!("write verbs priorities: {priorities:?}"));
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n----\n"));
}
