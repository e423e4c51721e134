//! Throughput of parsing and evaluating generated audit logs against the official
//! rulesets, with a parse-only baseline on the same data.
//!
//! Needs `../shared/corpus` beside the checkout (the official rulesets are read in place).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use falco_rs::detector::Evaluator;
use falco_rs::rule_index::RuleIndex;
use falco_rs::ruleset::{load_rules, ActiveRules, RulesSource};
use falco_rs_benches::{generate, Mix};
use falco_rs_k8saudit::AuditEvent;
use falco_rs_k8saudit::{parse_payload, ParseOptions};
use falco_rs_output::AlertFormat;
use falco_rs_rules::compile::CompiledRules;
use falco_rs_rules::model::Priority;
use falco_rs_rules::yaml;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

const EVENTS: usize = 20_000;

fn corpus(rel: &str) -> RulesSource {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus")
        .join(rel);
    let content = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("bench needs {}: {e}", path.display()));
    RulesSource {
        name: rel.to_string(),
        content,
    }
}

fn load(files: &[&str]) -> (CompiledRules, Vec<usize>) {
    let sources: Vec<RulesSource> = files.iter().map(|f| corpus(f)).collect();
    let (loaded, results) = load_rules(&sources, &[], false, |_| {});
    let Some(loaded) = loaded else {
        let msgs: Vec<String> = results.iter().map(|r| r.verbose()).collect();
        panic!("rules failed to load: {}", msgs.join("\n"));
    };
    let active = ActiveRules::build(&loaded.compiled, Priority::Debug, &[]);
    (loaded.compiled, active.order)
}

/// An evaluator as the binary builds it (rule index, recycled field cache, text alerts,
/// `rule_matching: first`); `indexed: false` evaluates every rule on every event.
fn evaluator<'a>(compiled: &'a CompiledRules, order: &'a [usize], indexed: bool) -> Evaluator<'a> {
    let fmt = AlertFormat::default();
    let (rules, program) = (&compiled.rules, &compiled.program);
    if indexed {
        Evaluator::new(rules, program, order, fmt, false)
    } else {
        let index = Arc::new(RuleIndex::disabled(order.len()));
        Evaluator::with_index(rules, program, order, index, fmt, false)
    }
}

/// Parses and evaluates every event; renders each alert. Returns matches.
fn evaluate(lines: &[String], compiled: &CompiledRules, order: &[usize]) -> usize {
    let opts = ParseOptions::default();
    let mut ev = evaluator(compiled, order, true);
    let mut matches = 0;
    for line in lines {
        for e in parse_payload(line.as_bytes(), &opts).events {
            ev.evaluate(&e, |_, alert| {
                matches += 1;
                black_box(alert);
            });
        }
    }
    matches
}

/// Evaluates already parsed events. Returns matches.
fn evaluate_only(events: &[AuditEvent], ev: &mut Evaluator<'_>) -> usize {
    let mut matches = 0;
    for e in events {
        ev.evaluate(e, |_, alert| {
            matches += 1;
            black_box(alert);
        });
    }
    matches
}

fn bench(c: &mut Criterion) {
    let rules_018 = load(&["rules/k8s_audit_rules.v0.18.0.yaml"]);
    let rules_031 = load(&[
        "rules/syscall/falco_rules.falco-0.31.1.yaml",
        "rules/k8s_audit_rules.falco-0.31.1.yaml",
    ]);
    for (mix, name) in [
        (Mix::Realistic, "realistic"),
        (Mix::AlertHeavy, "alert_heavy"),
    ] {
        let lines = generate(mix, EVENTS, 42);
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(EVENTS as u64));
        g.sample_size(10);
        g.bench_function("parse_only_serde_json_value", |b| {
            b.iter(|| {
                for l in &lines {
                    black_box(serde_json::from_slice::<serde_json::Value>(l.as_bytes()).ok());
                }
            })
        });
        g.bench_function("parse_payload", |b| {
            let opts = ParseOptions::default();
            b.iter(|| {
                for l in &lines {
                    black_box(parse_payload(l.as_bytes(), &opts));
                }
            })
        });
        g.bench_function("parse_eval_v0.18.0", |b| {
            b.iter(|| black_box(evaluate(&lines, &rules_018.0, &rules_018.1)))
        });
        g.bench_function("parse_eval_falco-0.31.1", |b| {
            b.iter(|| black_box(evaluate(&lines, &rules_031.0, &rules_031.1)))
        });
        let events: Vec<AuditEvent> = lines
            .iter()
            .flat_map(|l| parse_payload(l.as_bytes(), &ParseOptions::default()).events)
            .collect();
        for indexed in [true, false] {
            let name = if indexed {
                "eval_only_falco-0.31.1"
            } else {
                "eval_only_falco-0.31.1_no_index"
            };
            let mut ev = evaluator(&rules_031.0, &rules_031.1, indexed);
            g.bench_function(name, |b| {
                b.iter(|| black_box(evaluate_only(&events, &mut ev)))
            });
        }
        g.finish();
        eprintln!(
            "{name}: {EVENTS} events, {bytes} bytes, {} matches (v0.18.0)",
            evaluate(&lines, &rules_018.0, &rules_018.1)
        );
    }
    // The YAML scan, about half of the rule load: Falco 0.31.1's syscall rules (130 KiB),
    // which its default configuration loads before the k8s_audit ones.
    let syscall = corpus("rules/syscall/falco_rules.falco-0.31.1.yaml").content;
    c.bench_function("yaml_falco_rules_0.31.1", |b| {
        b.iter(|| black_box(yaml::load_all(&syscall).is_ok()))
    });
    let src = corpus("rules/k8s_audit_rules.v0.18.0.yaml");
    c.bench_function("load_official_ruleset_v0.18.0", |b| {
        b.iter(|| {
            let (loaded, _) = load_rules(std::slice::from_ref(&src), &[], false, |_| {});
            black_box(loaded.is_some())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
