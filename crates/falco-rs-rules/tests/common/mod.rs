//! Helpers shared by the rules-crate integration tests: loading rules files the way the
//! `falco-rs` binary does (`compile::load_in_order`, as `crates/falco-rs/src/ruleset.rs`
//! `load_rules` does: one collector across files, a full compile after each file, stop at
//! the first failing file), with the k8s_audit catalog and Falco 0.44.1's engine version.
#![allow(dead_code, clippy::unwrap_used)]

use falco_rs_engine::ProgramBuilder;
use falco_rs_k8saudit::{parse_payload, AuditEvent, K8sAuditCatalog, ParseOptions};
use falco_rs_rules::compile::{
    load_in_order, AppendOutput, CompileOptions, CompiledRules, ParseMemo,
};
use falco_rs_rules::loader::{Collector, LoaderEnv};
use falco_rs_rules::model::Version;
use falco_rs_rules::result::LoadResult;
use falco_rs_syntax::{parse_condition, Expr};

/// Falco 0.44.1's engine version.
pub const ENGINE_VERSION: Version = Version {
    major: 0,
    minor: 62,
    patch: 0,
};

/// The outcome of loading files in order.
pub struct Loaded {
    /// One result per file that was read (loading stops after the first failure).
    pub results: Vec<LoadResult>,
    /// The compile of the last successful file, if every file loaded.
    pub compiled: Option<CompiledRules>,
    /// The collector after the last file read.
    pub collector: Collector,
}

fn lhs_field_valid(catalog: &K8sAuditCatalog, field: &str) -> bool {
    let text = format!("{field} exists");
    let Ok(Expr::Check(check)) = parse_condition(&text) else {
        return false;
    };
    ProgramBuilder::new(catalog).is_valid_lhs_operand(&check.lhs)
}

/// Loads `(name, content)` files in order, like `falco -r a -r b`.
pub fn load_files(files: &[(&str, &str)]) -> Loaded {
    load_files_with(files, &[], false)
}

/// Like [`load_files`], with `append_output` entries and `-V`-style keep-going.
pub fn load_files_with(
    files: &[(&str, &str)],
    append_output: &[AppendOutput],
    keep_going: bool,
) -> Loaded {
    let catalog = K8sAuditCatalog::new();
    let source_known = |s: &str| s == "k8s_audit";
    let source_not_served = |s: &str| s == "syscall";
    let lhs_valid = |src: &str, f: &str| src == "k8s_audit" && lhs_field_valid(&catalog, f);
    let env = LoaderEnv {
        engine_version: ENGINE_VERSION,
        source_known: &source_known,
        source_not_served: &source_not_served,
        lhs_field_valid: &lhs_valid,
    };
    let parsed = ParseMemo::default();
    let opts = CompileOptions {
        catalog: &catalog,
        append_output,
        source_not_served: &source_not_served,
        parsed: &parsed,
    };
    let (results, compiled, collector) =
        load_in_order(files.iter().copied(), &env, &opts, keep_going, |_| {});
    Loaded {
        results,
        compiled,
        collector,
    }
}

/// Loads one file.
pub fn load(content: &str) -> Loaded {
    load_files(&[("rules.yaml", content)])
}

/// A problem (error or warning) flattened for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `LOAD_*` code.
    pub code: String,
    /// The message.
    pub message: String,
    /// Item type of the innermost location naming an item (e.g. `rule`).
    pub item_type: String,
    /// Its item name.
    pub item_name: String,
}

fn problems(v: &serde_json::Value, key: &str) -> Vec<Problem> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    let locs = e["context"]["locations"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    // The item is the second location (after `rules content`), as in
                    // Falco's JSON consumers.
                    let item = locs.get(1).cloned().unwrap_or_default();
                    Problem {
                        code: e["code"].as_str().unwrap_or("").to_string(),
                        message: e["message"].as_str().unwrap_or("").to_string(),
                        item_type: item["item_type"].as_str().unwrap_or("").to_string(),
                        item_name: item["item_name"].as_str().unwrap_or("").to_string(),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Errors of a result.
pub fn errors(res: &LoadResult) -> Vec<Problem> {
    problems(&res.to_json(), "errors")
}

/// Warnings of a result.
pub fn warnings(res: &LoadResult) -> Vec<Problem> {
    problems(&res.to_json(), "warnings")
}

/// `(code, message)` of every warning.
pub fn warning_codes(res: &LoadResult) -> Vec<(String, String)> {
    warnings(res)
        .into_iter()
        .map(|p| (p.code, p.message))
        .collect()
}

/// The single error of the last result, as `(code, message)`.
pub fn the_error(l: &Loaded) -> (String, String) {
    let res = l.results.last().unwrap();
    let errs = errors(res);
    assert_eq!(
        errs.len(),
        1,
        "one error expected, got {errs:?}\n{}",
        res.verbose()
    );
    (errs[0].code.clone(), errs[0].message.clone())
}

/// The compiled rules of a load that must succeed.
pub fn compiled(l: &Loaded) -> &CompiledRules {
    match &l.compiled {
        Some(c) => c,
        None => panic!(
            "load failed:\n{}",
            l.results
                .iter()
                .map(|r| r.verbose())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// The final condition text of a compiled rule.
pub fn condition<'a>(l: &'a Loaded, rule: &str) -> &'a str {
    compiled(l)
        .rules
        .iter()
        .find(|r| r.name == rule)
        .map(|r| r.condition.as_str())
        .unwrap_or_else(|| panic!("rule {rule} not compiled"))
}

/// Parses one event.
pub fn event(json: &str) -> AuditEvent {
    let mut out = parse_payload(json.as_bytes(), &ParseOptions::default());
    assert!(out.errors.is_empty(), "errors: {:?}", out.errors);
    assert_eq!(out.events.len(), 1);
    out.events.remove(0)
}

/// Names of the compiled rules matching `ev`, in definition order (VM and reference
/// evaluator must agree).
pub fn matching(l: &Loaded, ev: &AuditEvent) -> Vec<String> {
    let c = compiled(l);
    let mut out = Vec::new();
    for r in &c.rules {
        let mut cache = c.program.new_cache();
        let vm = c.program.eval(r.filter, &mut cache, ev);
        let mut cache = c.program.new_cache();
        let reference = c.program.eval_reference(r.filter, &mut cache, ev);
        assert_eq!(vm, reference, "evaluators disagree on rule {}", r.name);
        if vm {
            out.push(r.name.clone());
        }
    }
    out
}
