//! The condition analyses a rule index relies on: the values a field must equal
//! ([`Program::required_values`]) and the prefixes that make a condition false
//! ([`Program::excluded_prefixes`]). Both must stay conservative: an answer the
//! condition does not imply would drop alerts.
#![allow(clippy::unwrap_used)]

mod common;

use common::{compile, eval, event};
use std::collections::BTreeSet;

fn excluded(cond: &str, field: &str) -> Vec<String> {
    let c = compile(cond).unwrap();
    c.program
        .excluded_prefixes(c.filter, field)
        .into_iter()
        .collect()
}

fn required(cond: &str, field: &str) -> Option<Vec<String>> {
    let c = compile(cond).unwrap();
    c.program
        .required_values(c.filter, field)
        .map(|s: BTreeSet<String>| s.into_iter().collect())
}

const USER: &str = "ka.user.name";

#[test]
fn negated_startswith_excludes_its_prefix() {
    assert_eq!(
        excluded(r#"not ka.user.name startswith "system:""#, USER),
        ["system:"]
    );
    assert_eq!(
        excluded(
            r#"ka.verb=get and not ka.user.name startswith "system:""#,
            USER
        ),
        ["system:"]
    );
    assert_eq!(
        excluded(
            r#"not ka.user.name startswith "system:" and not ka.user.name startswith eks:"#,
            USER
        ),
        ["eks:", "system:"]
    );
    // Every branch of an `or` must exclude the prefix.
    assert_eq!(
        excluded(
            r#"(ka.verb=get and not ka.user.name startswith a) or not ka.user.name startswith a"#,
            USER
        ),
        ["a"]
    );
}

#[test]
fn anything_else_excludes_nothing() {
    let none: [&str; 0] = [];
    for cond in [
        r#"ka.user.name startswith "system:""#,
        r#"not (ka.user.name startswith "system:" and ka.verb=get)"#,
        r#"not ka.user.name startswith a or not ka.user.name startswith b"#,
        r#"not ka.user.name startswith a or ka.verb=get"#,
        r#"not ka.user.name contains "system:""#,
        r#"not ka.user.name endswith "system:""#,
        r#"not ka.user.name = "system:""#,
        r#"not not ka.user.name startswith "system:""#,
    ] {
        assert_eq!(excluded(cond, USER), none, "{cond}");
    }
    // Another field, a field with an argument, a list field.
    assert_eq!(excluded(r#"not ka.verb startswith g"#, USER), none);
    assert_eq!(
        excluded(r#"not jevt.value[/verb] startswith g"#, "jevt.value"),
        none
    );
    assert_eq!(
        excluded(
            r#"not ka.req.pod.containers.image startswith nginx"#,
            "ka.req.pod.containers.image"
        ),
        none
    );
}

#[test]
fn the_excluded_prefix_makes_the_condition_false() {
    let cond = r#"ka.verb=get and not ka.user.name startswith "system:""#;
    let with = |user: &str| {
        event(&format!(
            r#"{{"kind":"Event","auditID":"a","verb":"get","user":{{"username":"{user}"}},"stageTimestamp":"2024-05-01T10:00:00Z"}}"#
        ))
    };
    assert!(!eval(cond, &with("system:kube-scheduler")));
    assert!(!eval(cond, &with("system:")));
    assert!(eval(cond, &with("system")));
    assert!(eval(cond, &with("alice")));
    // No user name: the negated check is true, so a missing value must exclude nothing.
    let anonymous = event(
        r#"{"kind":"Event","auditID":"a","verb":"get","stageTimestamp":"2024-05-01T10:00:00Z"}"#,
    );
    assert!(eval(cond, &anonymous));
}

#[test]
fn rawtime_equality_is_a_required_value() {
    // The official rules' `k8s_audit_never_true`.
    assert_eq!(
        required("jevt.rawtime=0", "jevt.rawtime"),
        Some(vec!["0".to_string()])
    );
    assert_eq!(
        required("json.rawtime in (0, 1)", "json.rawtime"),
        Some(vec!["0".into(), "1".into()])
    );
    assert_eq!(required("jevt.rawtime=0", "json.rawtime"), None);
    assert_eq!(required("not jevt.rawtime=0", "jevt.rawtime"), None);
    // `evt.rawtime` is numeric: compared as a number, so not indexed by its text.
    assert_eq!(required("evt.rawtime=0", "evt.rawtime"), None);
}
