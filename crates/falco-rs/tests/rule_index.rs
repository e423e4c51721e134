//! The rule index changes nothing: every ruleset of the corpus, evaluated with and without
//! the index on every corpus event (`rule_matching: all` and `first`), yields the same
//! alerts in the same order. And it rules out what it should: the candidates of typical
//! events are pinned.
#![allow(clippy::unwrap_used)]

use falco_rs::detector::Evaluator;
use falco_rs::rule_index::RuleIndex;
use falco_rs::ruleset::{load_rules, ActiveRules, RulesSource};
use falco_rs_k8saudit::{parse_payload, AuditEvent, ParseOptions};
use falco_rs_output::AlertFormat;
use falco_rs_rules::compile::CompiledRules;
use falco_rs_rules::model::Priority;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The compiled rules of corpus rules files, loaded in order.
fn compiled(files: &[&str]) -> CompiledRules {
    let sources: Vec<RulesSource> = files
        .iter()
        .map(|f| RulesSource {
            name: f.to_string(),
            content: std::fs::read_to_string(corpus().join(f)).unwrap(),
        })
        .collect();
    let (loaded, _) = load_rules(&sources, &[], false, |_| {});
    loaded.unwrap().compiled
}

fn events() -> Vec<AuditEvent> {
    let mut paths = Vec::new();
    files(&corpus().join("events"), &mut paths);
    let mut out = Vec::new();
    for p in paths {
        let data = std::fs::read(&p).unwrap();
        for line in data.split(|&b| b == b'\n') {
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
            out.extend(outcome.events);
        }
    }
    // Variants of every event over the indexed keys, to exercise every index bucket.
    let verbs = [
        "create", "update", "patch", "delete", "get", "list", "watch", "connect",
    ];
    let resources = [
        "pods",
        "secrets",
        "configmaps",
        "clusterrolebindings",
        "clusterroles",
        "deployments",
        "namespaces",
        "serviceaccounts",
        "services",
    ];
    let subresources = [None, Some("exec"), Some("attach"), Some("status")];
    let users = [
        serde_json::json!("system:anonymous"),
        serde_json::json!("admin"),
        serde_json::json!("kubernetes-admin"),
        serde_json::json!("minikube-user"),
        serde_json::json!("alice"),
        serde_json::json!("system:serviceaccount:kube-system:default"),
        serde_json::json!("ad\"min"),
        serde_json::json!(7),
        serde_json::json!("system:"),
        serde_json::json!("system"),
        serde_json::json!("System:admin"),
    ];
    // Event times whose `jevt.rawtime` is `0` (the official rules' `k8s_audit_never_true`),
    // `1`, `10` and a current one.
    let times = [
        "1970-01-01T00:00:00Z",
        "1970-01-01T00:00:00.000000001Z",
        "1970-01-01T00:00:00.00000001Z",
        "2024-05-01T10:00:00.000000Z",
    ];
    let base: Vec<serde_json::Value> = out
        .iter()
        .map(|e| serde_json::from_str(e.payload()).unwrap())
        .collect();
    let push = |v: &serde_json::Value, out: &mut Vec<AuditEvent>| {
        let text = v.to_string();
        out.extend(parse_payload(text.as_bytes(), &ParseOptions::default()).events);
    };
    for b in &base {
        for verb in verbs {
            let mut v = b.clone();
            v["verb"] = verb.into();
            push(&v, &mut out);
        }
        for user in &users {
            let mut v = b.clone();
            if !v["user"].is_object() {
                v["user"] = serde_json::json!({});
            }
            v["user"]["username"] = user.clone();
            push(&v, &mut out);
        }
        let mut v = b.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("user");
        }
        push(&v, &mut out);
        for time in times {
            for user in ["alice", "system:kube-scheduler"] {
                let mut v = b.clone();
                v["stageTimestamp"] = time.into();
                if !v["user"].is_object() {
                    v["user"] = serde_json::json!({});
                }
                v["user"]["username"] = user.into();
                push(&v, &mut out);
            }
        }
        for resource in resources {
            for sub in subresources {
                let mut v = b.clone();
                v["verb"] = "create".into();
                if !v["objectRef"].is_object() {
                    v["objectRef"] = serde_json::json!({});
                }
                v["objectRef"]["resource"] = resource.into();
                match sub {
                    Some(s) => v["objectRef"]["subresource"] = s.into(),
                    None => {
                        if let Some(o) = v["objectRef"].as_object_mut() {
                            o.remove("subresource");
                        }
                    }
                }
                push(&v, &mut out);
            }
        }
    }
    for (i, ev) in out.iter_mut().enumerate() {
        ev.set_num(i as u64 + 1);
    }
    out
}

#[test]
fn index_gives_identical_alerts_on_the_corpus() {
    let events = events();
    assert!(events.len() > 100, "{} corpus events", events.len());
    let rulesets: &[&[&str]] = &[
        &["rules/k8s_audit_rules.v0.18.0.yaml"],
        &["rules/k8s_audit_rules.v0.17.0.yaml"],
        &["rules/k8s_audit_rules.v0.5.0.yaml"],
        &[
            "rules/syscall/falco_rules.falco-0.31.1.yaml",
            "rules/k8s_audit_rules.falco-0.31.1.yaml",
        ],
    ];
    let mut constrained_total = 0;
    for files in rulesets {
        let c = &compiled(files);
        let active = ActiveRules::build(c, Priority::Debug, &[]);
        for (match_all, json) in [(true, false), (false, false), (true, true)] {
            {
                let fmt = AlertFormat {
                    json,
                    ..AlertFormat::default()
                };
                let mut with =
                    Evaluator::new(&c.rules, &c.program, &active.order, fmt.clone(), match_all);
                let mut without = Evaluator::with_index(
                    &c.rules,
                    &c.program,
                    &active.order,
                    Arc::new(RuleIndex::disabled(active.order.len())),
                    fmt,
                    match_all,
                );
                let (mut a, mut b) = (Vec::new(), Vec::new());
                for ev in &events {
                    with.evaluate(ev, |ri, line| a.push((ev.num(), ri, line)));
                    without.evaluate(ev, |ri, line| b.push((ev.num(), ri, line)));
                }
                assert!(!b.is_empty(), "{files:?}: no alert at all");
                assert_eq!(a, b, "{files:?} match_all={match_all} json={json}");
            }
        }
        let index = RuleIndex::build(&c.rules, &c.program, &active.order);
        eprintln!(
            "{files:?}: {} of {} active rules constrained by the index",
            index.constrained(),
            index.len()
        );
        constrained_total += index.constrained();
    }
    assert!(constrained_total > 0, "the index constrains no rule");
}

/// The index is precise on the traffic that dominates a cluster: a read by a system
/// account leaves no 0.31.1 rule to evaluate, and other events keep exactly the rules
/// their verb, resource, user and time allow.
#[test]
fn candidates_of_typical_events() {
    let c = compiled(&[
        "rules/syscall/falco_rules.falco-0.31.1.yaml",
        "rules/k8s_audit_rules.falco-0.31.1.yaml",
    ]);
    let active = ActiveRules::build(&c, Priority::Debug, &[]);
    let index = RuleIndex::build(&c.rules, &c.program, &active.order);
    let candidates = |verb: &str, resource: &str, user: &str, time: &str| {
        let text = serde_json::json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "a",
            "stage": "ResponseComplete", "verb": verb, "user": {"username": user},
            "objectRef": {"resource": resource, "namespace": "default"},
            "stageTimestamp": time,
        })
        .to_string();
        let ev = parse_payload(text.as_bytes(), &ParseOptions::default())
            .events
            .remove(0);
        let mut scratch = Vec::new();
        index.candidates(&ev, &mut scratch);
        falco_rs::rule_index::positions(&scratch)
            .map(|p| c.rules[active.order[p]].name.clone())
            .collect::<Vec<_>>()
    };
    let now = "2024-05-01T10:00:00.000000Z";
    let none: [&str; 0] = [];
    for verb in ["get", "list", "watch"] {
        assert_eq!(
            candidates(verb, "leases", "system:kube-scheduler", now),
            none
        );
    }
    assert_eq!(
        candidates("get", "leases", "alice", now),
        ["Disallowed K8s User"]
    );
    assert_eq!(
        candidates("get", "leases", "admin", now),
        ["Disallowed K8s User", "Full K8s Administrative Access"]
    );
    assert_eq!(
        candidates("get", "leases", "system:anonymous", now),
        ["Anonymous Request Allowed"]
    );
    assert_eq!(
        candidates(
            "get",
            "leases",
            "system:kube-scheduler",
            "1970-01-01T00:00:00Z"
        ),
        ["All K8s Audit Events"]
    );
    assert_eq!(
        candidates("create", "configmaps", "system:kube-scheduler", now),
        [
            "Create/Modify Configmap With Private Credentials",
            "K8s ConfigMap Created"
        ]
    );
}
