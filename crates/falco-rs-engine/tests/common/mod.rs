//! Helpers shared by the engine integration tests: real k8s audit events (parsed by
//! `falco-rs-k8saudit`) and one-condition programs evaluated by both evaluators.
#![allow(dead_code, clippy::unwrap_used)]

use falco_rs_engine::{FilterId, Program, ProgramBuilder};
use falco_rs_k8saudit::{parse_payload, AuditEvent, K8sAuditCatalog, ParseOptions};
use falco_rs_syntax::parse_condition;

/// Parses a payload that must yield exactly one event.
pub fn event(json: &str) -> AuditEvent {
    let mut out = parse_payload(json.as_bytes(), &ParseOptions::default());
    assert!(out.errors.is_empty(), "errors: {:?}", out.errors);
    assert_eq!(out.events.len(), 1, "one event expected");
    out.events.remove(0)
}

/// A compiled one-condition program.
pub struct Compiled {
    pub program: Program,
    pub filter: FilterId,
    pub warnings: Vec<String>,
}

/// Parses and compiles `cond` for the k8s_audit source. Parse errors are returned as
/// `parse: <message>`, compile errors as the bare compiler message.
pub fn compile(cond: &str) -> Result<Compiled, String> {
    let expr = parse_condition(cond).map_err(|e| format!("parse: {}", e.message))?;
    let catalog = K8sAuditCatalog::new();
    let mut b = ProgramBuilder::new(&catalog);
    let (filter, warnings) = b.add_filter(&expr).map_err(|e| e.message)?;
    Ok(Compiled {
        program: b.finish(),
        filter,
        warnings: warnings.into_iter().map(|w| w.message).collect(),
    })
}

impl Compiled {
    /// Evaluates on `ev` with the VM and the reference evaluator; they must agree.
    pub fn eval(&self, ev: &AuditEvent, cond: &str) -> bool {
        let mut cache = self.program.new_cache();
        let vm = self.program.eval(self.filter, &mut cache, ev);
        let mut cache = self.program.new_cache();
        let reference = self.program.eval_reference(self.filter, &mut cache, ev);
        assert_eq!(vm, reference, "VM and reference disagree on `{cond}`");
        vm
    }
}

/// Compiles `cond` (which must compile) and evaluates it on `ev`.
pub fn eval(cond: &str, ev: &AuditEvent) -> bool {
    match compile(cond) {
        Ok(c) => c.eval(ev, cond),
        Err(e) => panic!("`{cond}` should compile, got: {e}"),
    }
}

/// The compile (or parse) error of `cond`, which must fail.
pub fn compile_error(cond: &str) -> String {
    match compile(cond) {
        Ok(_) => panic!("`{cond}` should not compile"),
        Err(e) => e,
    }
}

/// The compiler warnings of `cond`, which must compile.
pub fn warnings(cond: &str) -> Vec<String> {
    match compile(cond) {
        Ok(c) => c.warnings,
        Err(e) => panic!("`{cond}` should compile, got: {e}"),
    }
}

/// Checks a table of `(condition, expected)` on one event, reporting every mismatch.
pub fn check_table(ev: &AuditEvent, table: &[(&str, bool)]) {
    let mut failures = Vec::new();
    for (cond, want) in table {
        match compile(cond) {
            Ok(c) => {
                let got = c.eval(ev, cond);
                if got != *want {
                    failures.push(format!("`{cond}`: got {got}, want {want}"));
                }
            }
            Err(e) => failures.push(format!("`{cond}`: compile error {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} checks failed:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
}
