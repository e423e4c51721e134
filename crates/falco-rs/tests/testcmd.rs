//! `falco-rs test`: passing, failing and malformed test files, JUnit and JSON reports.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("falco-rs-testcmd-{name}-{}", std::process::id()));
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

const RULES: &str = r#"
- list: watched_verbs
  items: [create, delete]
- rule: Secret Changed
  desc: a secret was created or deleted
  condition: ka.target.resource = secrets and ka.verb in (watched_verbs)
  output: secret %ka.verb by %ka.user.name (name=%ka.target.name)
  priority: WARNING
  source: k8s_audit
"#;

fn event(verb: &str, user: &str, name: &str) -> String {
    format!(
        r#"{{"kind":"Event","auditID":"{name}-{verb}","stage":"ResponseComplete","verb":"{verb}","user":{{"username":"{user}"}},"objectRef":{{"resource":"secrets","namespace":"default","name":"{name}"}},"stageTimestamp":"2024-05-01T10:00:00Z"}}"#
    )
}

#[test]
fn the_default_ruleset_tests_pass() {
    let tests = root().join("rules/tests");
    let out = falco(&["test", &tests.to_string_lossy()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rules = std::fs::read_to_string(root().join("rules/k8s_audit_rules.yaml")).expect("rules");
    let n_rules = rules.lines().filter(|l| l.starts_with("- rule: ")).count();
    assert_eq!(
        n_rules,
        std::fs::read_dir(&tests).expect("dir").count(),
        "one test file per rule"
    );
    assert!(
        text.ends_with(&format!("\n{} passed, 0 failed\n", 2 * n_rules)),
        "{text}"
    );
}

#[test]
fn pass_fail_and_reports() {
    let dir = tmpdir("reports");
    std::fs::write(dir.join("rules.yaml"), RULES).expect("rules");
    std::fs::write(
        dir.join("events.jsonl"),
        format!(
            "{}\n{}\n",
            event("create", "alice", "db"),
            event("get", "bob", "db")
        ),
    )
    .expect("events");
    let test = format!(
        r#"rules: [rules.yaml]
cases:
  - name: create alerts
    events_file: events.jsonl
    expect:
      - rule: Secret Changed
        count: 1
        priority: Warning
        output_contains: "by alice"
  - name: reads are quiet
    events:
      - {}
    expect: []
  - name: wrong expectation
    events:
      - {}
      - {}
    expect:
      - rule: Secret Changed
        count: 1
"#,
        event("get", "carol", "x"),
        event("create", "dave", "a"),
        event("delete", "dave", "a")
    );
    std::fs::write(dir.join("secret_test.yaml"), test).expect("test file");
    let junit = dir.join("junit.xml");
    let out = falco(&[
        "test",
        &dir.join("secret_test.yaml").to_string_lossy(),
        "--junit",
        &junit.to_string_lossy(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("PASS  ") && text.contains(":: create alerts\n"),
        "{text}"
    );
    assert!(text.contains(":: reads are quiet\n"), "{text}");
    assert!(text.contains("FAIL  "), "{text}");
    assert!(
        text.contains("      - rule 'Secret Changed': expected exactly 1 alert(s), got 2\n"),
        "{text}"
    );
    assert!(text.contains("        [Warning] Secret Changed: 10:00:00.000000000: Warning secret delete by dave (name=a)\n"), "{text}");
    assert!(text.ends_with("\n2 passed, 1 failed\n"), "{text}");

    // JUnit XML: read back with junitparser (a JUnit reader used by CI tooling; .ci/run
    // installs it), then the structure CI systems read.
    let check = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, xml.etree.ElementTree as ET, junitparser\n\
             x = junitparser.JUnitXml.fromfile(sys.argv[1])\n\
             suites = list(x); assert len(suites) == 1\n\
             cases = list(suites[0]); assert len(cases) == 3\n\
             assert [c.is_passed for c in cases] == [True, True, False]\n\
             assert suites[0].tests == 3 and suites[0].failures == 1\n\
             r = ET.parse(sys.argv[1]).getroot()\n\
             assert r.tag == 'testsuites' and r.get('tests') == '3' and r.get('failures') == '1'\n\
             s = r.findall('testsuite'); assert len(s) == 1 and s[0].get('tests') == '3'\n\
             c = s[0].findall('testcase'); assert [x.get('name') for x in c] == ['create alerts', 'reads are quiet', 'wrong expectation']\n\
             assert all(x.get('classname') for x in c)\n\
             f = c[2].find('failure'); assert f is not None and 'expected exactly 1' in f.get('message')\n\
             assert c[0].find('failure') is None\n",
        )
        .arg(&junit)
        .output()
        .expect("python3");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let out = falco(&[
        "test",
        &dir.join("secret_test.yaml").to_string_lossy(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(
        (v["passed"].as_u64(), v["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        v["files"][0]["cases"][2]["alerts"].as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn malformed_test_files_name_the_file_and_case() {
    let dir = tmpdir("malformed");
    std::fs::create_dir_all(dir.join("rules")).expect("rules dir");
    std::fs::write(dir.join("rules/rules.yaml"), RULES).expect("rules");
    std::fs::write(
        dir.join("a_missing_expect.yaml"),
        format!(
            "rules: [rules/rules.yaml]\ncases:\n  - name: no expectation\n    events:\n      - {}\n",
            event("get", "x", "y")
        ),
    )
    .expect("write");
    std::fs::write(
        dir.join("b_bad_rules.yaml"),
        "rules: [nope.yaml]\ncases: []\n",
    )
    .expect("write");
    std::fs::write(dir.join("c_not_yaml.yaml"), "cases: [unclosed\n").expect("write");
    let out = falco(&["test", &dir.to_string_lossy()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let a = dir.join("a_missing_expect.yaml");
    assert!(
        text.contains(&format!("ERROR {}: case #1 ('no expectation'): 'expect' is missing; write 'expect: []' for no alert", a.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "ERROR {}: rules file {}",
            dir.join("b_bad_rules.yaml").display(),
            dir.join("nope.yaml").display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "ERROR {}: invalid YAML at line",
            dir.join("c_not_yaml.yaml").display()
        )),
        "{text}"
    );
    assert!(text.ends_with("\n0 passed, 3 failed\n"), "{text}");
}
