//! Evaluating the official rulesets on events that match no rule allocates nothing once
//! the evaluator's buffers have grown (counting global allocator, per thread).
//!
//! Needs `../shared/corpus` beside the checkout (the official rulesets are read in place).
#![allow(clippy::unwrap_used)]

use falco_rs::detector::Evaluator;
use falco_rs::ruleset::{load_rules, ActiveRules, RulesSource};
use falco_rs_k8saudit::{parse_payload, ParseOptions};
use falco_rs_output::AlertFormat;
use falco_rs_rules::model::Priority;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// const-initialised thread-local `Cell`, whose access never allocates nor re-enters the
// allocator.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

fn corpus(rel: &str) -> RulesSource {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(rel);
    RulesSource {
        name: rel.to_string(),
        content: std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("test needs {}: {e}", path.display())),
    }
}

/// Everyday traffic of a busy cluster that the official rules do not alert on.
const QUIET: &[&str] = &[
    r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/kube-system/pods?limit=500","verb":"list","user":{"username":"system:kube-controller-manager","groups":["system:authenticated"]},"sourceIPs":["10.0.1.17"],"userAgent":"kube-controller-manager/v1.29.0","objectRef":{"resource":"pods","namespace":"kube-system","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2024-05-01T10:00:00.000000Z","stageTimestamp":"2024-05-01T10:00:00.002000Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}"#,
    r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a2","stage":"ResponseComplete","requestURI":"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler","verb":"update","user":{"username":"system:kube-scheduler","groups":["system:authenticated"]},"sourceIPs":["10.0.1.17"],"userAgent":"kube-scheduler/v1.29.0","objectRef":{"resource":"leases","namespace":"kube-system","name":"kube-scheduler","apiGroup":"coordination.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2024-05-01T10:00:01.000000Z","stageTimestamp":"2024-05-01T10:00:01.002000Z"}"#,
    r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a3","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/web/configmaps?watch=true","verb":"watch","user":{"username":"system:serviceaccount:monitoring:prometheus","groups":["system:serviceaccounts"]},"sourceIPs":["10.0.2.41"],"userAgent":"prometheus/2.45","objectRef":{"resource":"configmaps","namespace":"web","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2024-05-01T10:00:02.000000Z","stageTimestamp":"2024-05-01T10:00:02.002000Z"}"#,
];

fn check(files: &[&str]) {
    let sources: Vec<RulesSource> = files.iter().map(|f| corpus(f)).collect();
    let (loaded, results) = load_rules(&sources, &[], false, |_| {});
    let loaded = loaded.unwrap_or_else(|| {
        panic!(
            "{}",
            results
                .iter()
                .map(|r| r.verbose())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    let active = ActiveRules::build(&loaded.compiled, Priority::Debug, &[]);
    assert!(!active.order.is_empty());
    let c = &loaded.compiled;
    let fmt = AlertFormat::default();
    for (indexed, mut ev) in [true, false].into_iter().flat_map(|indexed| {
        QUIET.iter().map(move |line| {
            let mut out = parse_payload(line.as_bytes(), &ParseOptions::default());
            assert!(out.errors.is_empty(), "{:?}", out.errors);
            (indexed, out.events.remove(0))
        })
    }) {
        ev.set_num(1);
        let mut evaluator = if indexed {
            Evaluator::new(&c.rules, &c.program, &active.order, fmt.clone(), true)
        } else {
            Evaluator::with_index(
                &c.rules,
                &c.program,
                &active.order,
                std::sync::Arc::new(falco_rs::rule_index::RuleIndex::disabled(
                    active.order.len(),
                )),
                fmt.clone(),
                true,
            )
        };
        let mut matches = 0;
        for _ in 0..2 {
            evaluator.evaluate(&ev, |_, _| matches += 1);
        }
        assert_eq!(
            matches,
            0,
            "{files:?}: the quiet event matched: {}",
            ev.payload()
        );
        let before = allocs();
        for _ in 0..10 {
            evaluator.evaluate(&ev, |_, _| matches += 1);
        }
        let n = allocs() - before;
        assert_eq!(
            n,
            0,
            "{files:?} (index {indexed}): {n} allocations for 10 evaluations of {}",
            ev.payload()
        );
    }
}

#[test]
fn official_rulesets_evaluate_quiet_events_without_allocating() {
    check(&["rules/k8s_audit_rules.v0.18.0.yaml"]);
    check(&[
        "rules/syscall/falco_rules.falco-0.31.1.yaml",
        "rules/k8s_audit_rules.falco-0.31.1.yaml",
    ]);
}
