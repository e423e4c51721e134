//! `-L`, `-l RULE`, `--list` and `-V --format`, through the real binary, with exact
//! output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_falco-rs");

fn rules() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/describe_small.yaml")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn list_rules_text_is_falcos_table() {
    let r = rules();
    let (code, out, _) = run(&["-r", r.to_str().unwrap(), "-L"]);
    assert_eq!(code, 0);
    let pad = " ".repeat(51);
    let expected = format!(
        "{:<50} Description\n{:<50} -----------\n{:<50} Detect any write to a secret. This description is \n{pad}deliberately long so that Falco's text wrapping at 110 \n{pad}columns kicks in. \n\n",
        "Rule", "----", "Write to secrets"
    );
    assert_eq!(out, expected);
}

#[test]
fn list_rules_json_describes_rules_macros_lists() {
    let r = rules();
    let (code, out, _) = run(&["-r", r.to_str().unwrap(), "-L", "-o", "json_output=true"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["required_engine_version"], "0.31.0");
    assert_eq!(v["required_plugin_versions"], serde_json::json!([]));
    let rule = &v["rules"][0];
    assert_eq!(rule["info"]["name"], "Write to secrets");
    assert_eq!(rule["info"]["priority"], "Warning");
    assert_eq!(rule["info"]["tags"], serde_json::json!(["k8s", "secrets"]));
    let d = &rule["details"];
    assert_eq!(d["macros"], serde_json::json!(["is_write"]));
    assert_eq!(d["condition_operators"], serde_json::json!(["=", "in"]));
    assert_eq!(
        d["condition_fields"],
        serde_json::json!(["ka.target.resource", "ka.user.name", "ka.verb"])
    );
    assert_eq!(
        d["output_fields"],
        serde_json::json!(["ka.user.name", "ka.verb", "ka.target.namespace"])
    );
    assert_eq!(d["exception_names"], serde_json::json!(["admins"]));
    assert_eq!(d["exception_operators"], serde_json::json!(["in"]));
    assert_eq!(
        d["condition_compiled"],
        "((ka.verb in (create, update) and ka.target.resource = secrets) and not ka.user.name in (admin))"
    );
    assert_eq!(d["plugins"], serde_json::json!(["k8saudit"]));
    let m = &v["macros"][0];
    assert_eq!(m["info"]["name"], "is_write");
    assert_eq!(m["details"]["used"], true);
    assert_eq!(
        m["details"]["lists"],
        serde_json::json!(["sensitive_verbs"])
    );
    assert_eq!(
        m["details"]["condition_compiled"],
        "ka.verb in (create, update)"
    );
    let l = &v["lists"][1];
    assert_eq!(l["info"]["name"], "all_verbs");
    assert_eq!(l["info"]["items"], serde_json::json!(["get"]));
    assert_eq!(
        l["details"]["lists"],
        serde_json::json!(["sensitive_verbs"])
    );
    assert_eq!(
        l["details"]["items_compiled"],
        serde_json::json!(["create", "update", "get"])
    );
    assert_eq!(l["details"]["used"], false);
}

#[test]
fn describe_one_rule() {
    let r = rules();
    let (code, out, _) = run(&[
        "-r",
        r.to_str().unwrap(),
        "-l",
        "Write to secrets",
        "-o",
        "json_output=true",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 1);
    assert_eq!(v["rules"][0]["info"]["name"], "Write to secrets");
    let (code, _, err) = run(&["-r", r.to_str().unwrap(), "-l", "nope"]);
    assert_eq!(code, 1);
    assert!(
        err.ends_with("Error: Rule \"nope\" is not loaded\n"),
        "{err}"
    );
}

#[test]
fn list_fields_formats() {
    let (code, out, _) = run(&["--list=k8s_audit", "-N"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().next(), Some("ka.auditid"));
    assert!(out.lines().any(|l| l == "jevt.value"));
    let (_, md, _) = run(&["--list", "--format", "markdown"]);
    let mut lines = md.lines();
    assert_eq!(
        lines.next(),
        Some("| Field | Type | List | Argument | Description |")
    );
    assert_eq!(lines.next(), Some("|---|---|---|---|---|"));
    assert_eq!(
        lines.next(),
        Some("| `ka.auditid` | string | no |  | The unique id of the audit event. |")
    );
    let (_, js, _) = run(&["--list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&js).unwrap();
    assert_eq!(v["source"], "k8s_audit");
    assert_eq!(
        v["fields"][0],
        serde_json::json!({"name": "ka.auditid", "type": "string", "is_list": false, "arg": "none", "desc": "The unique id of the audit event."})
    );
    let (code, _, err) = run(&["--list=syscall"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Event source 'syscall' is not available"),
        "{err}"
    );
    let (code, _, err) = run(&["--list", "--format", "yaml"]);
    assert_eq!(code, 1);
    assert!(err.contains("Unknown --list format 'yaml'"), "{err}");
}

#[test]
fn validate_format_json_equals_json_output() {
    let r = rules();
    let (c1, a, _) = run(&["-V", r.to_str().unwrap(), "--format", "json"]);
    let (c2, b, _) = run(&["-V", r.to_str().unwrap(), "-o", "json_output=true"]);
    assert_eq!((c1, c2), (0, 0));
    assert_eq!(a, b);
    let (code, _, err) = run(&["-V", r.to_str().unwrap(), "--format", "xml"]);
    assert_eq!(code, 1);
    assert!(err.contains("Unknown -V format 'xml'"), "{err}");
}

#[test]
fn dry_run_loads_and_exits() {
    let r = rules();
    let (code, out, _) = run(&["-r", r.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code, 0);
    assert_eq!(out, "");
}
