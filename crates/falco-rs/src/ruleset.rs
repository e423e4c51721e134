//! Loading rules files the way Falco's daemon does, and the active ruleset: priority
//! filter, `enabled`, `rules:` selection, evaluation order.

use crate::config::Config;
use anyhow::{anyhow, bail, Result};
use falco_rs_engine::ProgramBuilder;
use falco_rs_k8saudit::K8sAuditCatalog;
use falco_rs_rules::compile::{
    compile, load_in_order, AppendOutput, CompileOptions, CompiledRules, ParseMemo,
};
use falco_rs_rules::loader::{Collector, LoaderEnv};
use falco_rs_rules::model::{Priority, Version};
use falco_rs_rules::result::LoadResult;
use falco_rs_syntax::{parse_condition, Expr};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The engine version falco-rs implements (Falco 0.44.1's engine).
pub const ENGINE_VERSION: Version = Version {
    major: 0,
    minor: 62,
    patch: 0,
};

/// The only event source falco-rs serves.
pub const SOURCE: &str = "k8s_audit";

/// Plugins built into falco-rs and the versions they claim.
pub const BUILTIN_PLUGINS: [(&str, &str); 3] = [
    ("k8saudit", falco_rs_k8saudit::K8SAUDIT_PLUGIN_VERSION),
    ("k8saudit-eks", "0.12.0"),
    ("json", falco_rs_k8saudit::JSON_PLUGIN_VERSION),
];

/// `falco::utils::matches_wildcard`: only `*` is special, no backtracking.
pub fn matches_wildcard(pattern: &str, name: &str) -> bool {
    match pattern.find('*') {
        None => pattern == name,
        Some(0) => {
            let p = pattern.trim_start_matches('*');
            if p.is_empty() {
                return true;
            }
            let lit_end = p.find('*').unwrap_or(p.len());
            let lit = &p[..lit_end];
            match name.find(lit) {
                Some(i) => matches_wildcard(&p[lit_end..], &name[i + lit.len()..]),
                None => false,
            }
        }
        Some(star) => {
            let prefix = &pattern[..star];
            name.starts_with(prefix) && matches_wildcard(&pattern[star..], &name[prefix.len()..])
        }
    }
}

fn is_rules_file_name(path: &str) -> bool {
    matches_wildcard("*.yaml", path) || matches_wildcard("*.yml", path)
}

/// Expands configured rules paths: directories to their sorted `*.yaml`/`*.yml` files.
pub fn expand_rules_paths(paths: &[String], from_config: bool) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for p in paths {
        let path = Path::new(p);
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                    .map_err(|e| anyhow!("Could not read rules directory {p}: {e}"))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| f.is_file())
                    .collect();
                files.sort();
                out.extend(
                    files
                        .into_iter()
                        .map(|f| f.to_string_lossy().into_owned())
                        .filter(|f| is_rules_file_name(f)),
                );
            }
            Ok(_) => {
                if is_rules_file_name(p) {
                    out.push(p.clone());
                }
            }
            Err(_) if from_config => {}
            Err(_) => {
                if is_rules_file_name(p) {
                    out.push(p.clone());
                }
            }
        }
    }
    Ok(out)
}

/// A rules file to load: its name and content.
pub struct RulesSource {
    /// Name as given (used in messages).
    pub name: String,
    /// Text.
    pub content: String,
}

/// Result of loading all rules files.
pub struct Loaded {
    /// The final compile.
    pub compiled: CompiledRules,
    /// Collector (for `-L` and plugin requirements).
    pub collector: Collector,
}

/// Whether `field` compiles as a left-hand side on the k8s_audit source.
fn lhs_field_valid(catalog: &K8sAuditCatalog, field: &str) -> bool {
    let text = format!("{field} exists");
    let Ok(Expr::Check(check)) = parse_condition(&text) else {
        return false;
    };
    let mut b = ProgramBuilder::new(catalog);
    b.is_valid_lhs_operand(&check.lhs)
}

/// Runs `load` with the loader environment and compile options of falco-rs: the
/// k8s_audit source served with its field catalog, the syscall source known but not
/// served (its fields checked by name), and one parse memo for every compile of the
/// load (so that the compile after a later file finds the earlier files' conditions
/// parsed).
fn with_loader<T>(
    append_output: &[AppendOutput],
    load: impl FnOnce(&LoaderEnv<'_>, &CompileOptions<'_>) -> T,
) -> T {
    let catalog = K8sAuditCatalog::new();
    let source_known = |s: &str| s == SOURCE;
    let source_not_served = |s: &str| s == "syscall";
    let lhs_valid = |src: &str, f: &str| match src {
        SOURCE => lhs_field_valid(&catalog, f),
        "syscall" => falco_rs_rules::syscall::is_field(f.split('[').next().unwrap_or(f)),
        _ => false,
    };
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
    load(&env, &opts)
}

/// Loads files in order like `falco -r` ([`load_in_order`]): stops at the first failing
/// file unless `keep_going`; `on_file` sees each file's result (to print warnings or
/// errors).
pub fn load_rules(
    sources: &[RulesSource],
    append_output: &[AppendOutput],
    keep_going: bool,
    on_file: impl FnMut(&LoadResult),
) -> (Option<Loaded>, Vec<LoadResult>) {
    with_loader(append_output, |env, opts| {
        let files = sources
            .iter()
            .map(|s| (s.name.as_str(), s.content.as_str()));
        let (results, last, collector) = load_in_order(files, env, opts, keep_going, on_file);
        let loaded = last.map(|compiled| Loaded {
            compiled,
            collector,
        });
        (loaded, results)
    })
}

/// Loads `prior` files (ignoring their problems) and then `src`, leaving out the
/// top-level items of `src` that contain one of the `skip` offsets; returns the result
/// of `src`. The human diagnostics use it to find the problems after the first one.
pub fn load_file_skipping(
    prior: &[RulesSource],
    src: &RulesSource,
    append_output: &[AppendOutput],
    skip: &[usize],
) -> LoadResult {
    with_loader(append_output, |env, opts| {
        let mut collector = Collector::default();
        for p in prior {
            let mut res = LoadResult::new(&p.name, &p.content);
            collector.read(env, &mut res);
        }
        let mut res = LoadResult::new(&src.name, &src.content);
        if collector.read_skipping(env, &mut res, skip) {
            let _ = compile(&collector, opts, &mut res);
        }
        res
    })
}

/// Checks `required_plugin_versions` against the plugins in use.
pub fn check_plugin_requirements(collector: &Collector, loaded_plugins: &[String]) -> Result<()> {
    for group in &collector.required_plugin_versions {
        let mut decided = false;
        'group: for req in group {
            for name in loaded_plugins {
                if &req.name == name {
                    let have = BUILTIN_PLUGINS
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| *v)
                        .unwrap_or("0.0.0");
                    let (Some(hv), Some(rv)) = (Version::parse(have), Version::parse(&req.version))
                    else {
                        bail!("Plugin '{name}' has invalid version string '{have}'");
                    };
                    if !hv.compatible_with(&rv) {
                        bail!(
                            "Plugin '{name}' version '{have}' is not compatible with required plugin version '{}'",
                            req.version
                        );
                    }
                    decided = true;
                    break 'group;
                }
            }
        }
        if !decided {
            let list = group
                .iter()
                .map(|r| format!("{} (>= {})", r.name, r.version))
                .collect::<Vec<_>>()
                .join(", ");
            bail!("Plugin requirement not satisfied, must load one of: {list}");
        }
    }
    Ok(())
}

/// A `rules:` selection entry of falco.yaml.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Enable (true) or disable.
    pub enable: bool,
    /// Rule name wildcard.
    pub rule: Option<String>,
    /// Exact tag.
    pub tag: Option<String>,
}

/// Reads the `rules:` selection list.
pub fn selections(config: &Config) -> Result<Vec<Selection>> {
    let mut out = Vec::new();
    let Some(list) = config.get("rules").and_then(|v| v.as_array()) else {
        return Ok(out);
    };
    for entry in list {
        for (op, enable) in [("enable", true), ("disable", false)] {
            if let Some(sel) = entry.get(op) {
                let rule = sel.get("rule").and_then(|v| v.as_str()).map(str::to_string);
                let tag = sel.get("tag").and_then(|v| v.as_str()).map(str::to_string);
                if rule.is_none() && tag.is_none() {
                    bail!("Error reading config file: rules selection entries need a 'rule' or a 'tag'");
                }
                out.push(Selection { enable, rule, tag });
            }
        }
    }
    Ok(out)
}

/// The rules that run, in evaluation order.
pub struct ActiveRules {
    /// Indexes into `CompiledRules::rules`, in enable order.
    pub order: Vec<usize>,
}

impl ActiveRules {
    /// Builds the order: rules at or above `min_priority`, enabled ones in definition
    /// order, then the `rules:` selections applied one by one.
    pub fn build(
        compiled: &CompiledRules,
        min_priority: Priority,
        selections: &[Selection],
    ) -> ActiveRules {
        let eligible: Vec<bool> = compiled
            .rules
            .iter()
            .map(|r| r.source == SOURCE && r.priority <= min_priority)
            .collect();
        let mut order: Vec<usize> = (0..compiled.rules.len())
            .filter(|&i| eligible[i] && compiled.rules[i].enabled)
            .collect();
        let set_enabled = |i: usize, enable: bool, order: &mut Vec<usize>| {
            if !eligible[i] {
                return;
            }
            let pos = order.iter().position(|&x| x == i);
            match (enable, pos) {
                (true, None) => order.push(i),
                (false, Some(p)) => {
                    order.remove(p);
                }
                _ => {}
            }
        };
        for sel in selections {
            if let Some(pat) = &sel.rule {
                for i in 0..compiled.rules.len() {
                    if matches_wildcard(pat, &compiled.rules[i].name) {
                        set_enabled(i, sel.enable, &mut order);
                    }
                }
            }
            if let Some(tag) = &sel.tag {
                for i in 0..compiled.rules.len() {
                    if compiled.rules[i].tags.contains(tag) {
                        set_enabled(i, sel.enable, &mut order);
                    }
                }
            }
        }
        ActiveRules { order }
    }
}

/// `append_output` entries with `extra_output` from the config.
pub fn append_outputs(config: &Config) -> Vec<AppendOutput> {
    let mut out = Vec::new();
    if let Some(list) = config.get("append_output").and_then(|v| v.as_array()) {
        for e in list {
            let Some(extra) = e.get("extra_output").and_then(|v| v.as_str()) else {
                continue;
            };
            let m = e.get("match");
            let s = |k: &str| {
                m.and_then(|m| m.get(k))
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let tags: BTreeSet<String> = m
                .and_then(|m| m.get("tags"))
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            out.push(AppendOutput {
                source: s("source"),
                tags,
                rule: s("rule"),
                extra_output: extra.to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::matches_wildcard;

    #[test]
    fn wildcard_quirks() {
        assert!(matches_wildcard("*", "anything"));
        assert!(matches_wildcard("K8s*", "K8s Secret Get"));
        assert!(matches_wildcard("*Secret*", "K8s Secret Get"));
        assert!(!matches_wildcard("*ab", "abab"));
        assert!(!matches_wildcard("a*c", "abcbc"));
        assert!(!matches_wildcard("*.yaml", "/x/r.yaml.d/f.yaml"));
        assert!(matches_wildcard("exact", "exact"));
        assert!(!matches_wildcard("exact", "exactly"));
    }
}
