//! Loading rules files with the per-file compiles on helper threads (`-j N`) gives the
//! sequential load's results: the same per-file results in the same order (also to the
//! `on_file` callback), the same stop at the first failing file, the same rules.
#![allow(clippy::unwrap_used)]

use falco_rs::ruleset::{load_rules_with, RulesSource};
use std::path::{Path, PathBuf};

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/rules")
}

fn file(rel: &str) -> RulesSource {
    let path = rules_dir().join(rel);
    RulesSource {
        name: path.display().to_string(),
        content: std::fs::read_to_string(&path).unwrap(),
    }
}

fn text(name: &str, content: &str) -> RulesSource {
    RulesSource {
        name: name.to_string(),
        content: content.to_string(),
    }
}

/// What a load shows: each file's verbose result as `on_file` saw it and as returned,
/// and the loaded rules' names.
fn load(
    sources: &[RulesSource],
    keep_going: bool,
    parallel: bool,
) -> (Vec<String>, Vec<String>, Option<Vec<String>>) {
    let mut seen = Vec::new();
    let (loaded, results) = load_rules_with(sources, &[], keep_going, parallel, |r| {
        seen.push(r.verbose())
    });
    let returned = results.iter().map(|r| r.verbose()).collect();
    let rules = loaded.map(|l| l.compiled.rules.iter().map(|r| r.name.clone()).collect());
    (seen, returned, rules)
}

#[test]
fn parallel_load_matches_sequential() {
    let syscall = || file("syscall/falco_rules.falco-0.31.1.yaml");
    let k8s = || file("k8s_audit_rules.falco-0.31.1.yaml");
    // Compiles only with the macro of a later file: fails where Falco fails, at file 1.
    let early = || {
        text(
            "early.yaml",
            "- rule: Early\n  desc: d\n  condition: later_macro\n  output: o\n  priority: INFO\n  source: k8s_audit\n",
        )
    };
    let late_macro = || {
        text(
            "late.yaml",
            "- macro: later_macro\n  condition: ka.verb=get\n",
        )
    };
    let broken = || text("broken.yaml", "- rule: [unterminated\n");
    let cases: Vec<(&str, Vec<RulesSource>, bool)> = vec![
        ("0.31.1 pair", vec![syscall(), k8s()], false),
        ("three files", vec![k8s(), syscall(), late_macro()], false),
        (
            "compile error in file 1",
            vec![early(), late_macro(), k8s()],
            false,
        ),
        (
            "compile error, keep going",
            vec![early(), late_macro(), k8s()],
            true,
        ),
        (
            "syntax error in file 2",
            vec![syscall(), broken(), k8s()],
            false,
        ),
        (
            "syntax error, keep going",
            vec![syscall(), broken(), k8s()],
            true,
        ),
    ];
    for (name, sources, keep_going) in cases {
        let sequential = load(&sources, keep_going, false);
        let parallel = load(&sources, keep_going, true);
        assert_eq!(parallel, sequential, "{name}");
        let (seen, returned, rules) = sequential;
        assert_eq!(seen, returned, "{name}");
        match name {
            "0.31.1 pair" | "three files" => assert!(rules.is_some_and(|r| r.len() > 30), "{name}"),
            "compile error in file 1" => {
                assert_eq!(returned.len(), 1, "{name}");
                assert!(rules.is_none(), "{name}");
            }
            "syntax error in file 2" => assert_eq!(returned.len(), 2, "{name}"),
            _ => assert_eq!(returned.len(), 3, "{name}"),
        }
    }
}
