//! Validation and introspection: `-V` (Falco's verbose text, Falco's JSON, or human
//! diagnostics), `-L`/`-l` (rule descriptions) and `--list` (the field table).

use crate::cli::Cli;
use crate::config::Config;
use crate::ruleset::{
    append_outputs, load_file_skipping, load_rules, Loaded, RulesSource, ENGINE_VERSION, SOURCE,
};
use anyhow::{anyhow, bail, Result};
use falco_rs_engine::FieldType;
use falco_rs_k8saudit::K8sAuditCatalog;
use falco_rs_rules::diagnostics::{self, HintData};
use falco_rs_syntax::{parse_condition, Expr, Operand, Rhs};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::process::ExitCode;

/// Largest rules file falco-rs reads; bigger files are refused with a clear error.
pub const MAX_RULES_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a rules file, refusing files over [`MAX_RULES_FILE_BYTES`].
pub fn read_rules_file(path: &str) -> Result<String> {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_file() && meta.len() > MAX_RULES_FILE_BYTES {
            bail!(
                "Rules file {path} is {} bytes; falco-rs reads rules files of at most {} bytes (64 MiB)",
                meta.len(),
                MAX_RULES_FILE_BYTES
            );
        }
    }
    std::fs::read_to_string(path).map_err(|_| anyhow!("Could not open file {path} for reading"))
}

/// Output format of `-V`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValidateFormat {
    /// Falco's verbose text (the default).
    Falco,
    /// Falco's `falco_load_results` JSON.
    Json,
    /// Human diagnostics.
    Human,
}

/// `-V`: validates each file like Falco (one collector, going on after a failed file).
pub fn validate(cli: &Cli, config: &Config) -> Result<ExitCode> {
    let format = match cli.format.as_deref() {
        None if config.bool_or("json_output", false) => ValidateFormat::Json,
        None | Some("falco") => ValidateFormat::Falco,
        Some("json") => ValidateFormat::Json,
        Some("human") => ValidateFormat::Human,
        Some(other) => bail!("Unknown -V format '{other}': use falco, json or human"),
    };
    let mut sources = Vec::new();
    for f in &cli.validate {
        sources.push(RulesSource {
            name: f.clone(),
            content: read_rules_file(f)?,
        });
    }
    let appends = append_outputs(config);
    let (_, results) = load_rules(&sources, &appends, true, |_| {});
    let all_ok = results.iter().all(|r| r.successful());
    match format {
        ValidateFormat::Json => {
            let v = json!({
                "falco_load_results": results.iter().map(|r| r.to_json()).collect::<Vec<_>>()
            });
            println!("{v}");
        }
        ValidateFormat::Falco => {
            let blocks: Vec<String> = results
                .iter()
                .map(|r| {
                    if r.successful() && !r.warnings.is_empty() {
                        eprintln!("{}", r.verbose());
                        r.summary()
                    } else {
                        r.verbose()
                    }
                })
                .collect();
            println!("{}", blocks.join("\n"));
        }
        ValidateFormat::Human => {
            let data = hint_data();
            let mut out = String::new();
            for (i, res) in results.iter().enumerate() {
                let prior = &sources[..i];
                let diags = diagnostics::recover(res, |skip| {
                    load_file_skipping(prior, &sources[i], &appends, skip)
                });
                if i > 0 {
                    out.push('\n');
                }
                out.push_str(&diagnostics::render(&res.name, &res.content, &diags, &data));
            }
            print!("{out}");
            return Ok(if all_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
    }
    if all_ok {
        Ok(ExitCode::SUCCESS)
    } else {
        let summary: Vec<String> = results.iter().map(|r| r.summary()).collect();
        eprintln!("Error: {}", summary.join("\n"));
        Ok(ExitCode::FAILURE)
    }
}

/// The names the human diagnostics' hints draw on.
pub fn hint_data() -> HintData {
    HintData {
        fields: K8sAuditCatalog::field_docs()
            .iter()
            .map(|d| d.name.to_string())
            .collect(),
        engine_version: ENGINE_VERSION.to_string(),
    }
}

fn type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::String => "string",
        FieldType::U64 => "uint64",
        FieldType::AbsTime => "abstime",
        FieldType::RelTime => "reltime",
        FieldType::Bool => "bool",
    }
}

/// `--list[=SOURCE]` with `-N` and `--format text|markdown|json`.
pub fn list_fields(cli: &Cli, src: &str) -> Result<ExitCode> {
    if !src.is_empty() && src != SOURCE {
        bail!("Event source '{src}' is not available: falco-rs only serves k8s_audit");
    }
    print!("{}", render_fields(cli.format.as_deref(), cli.names_only)?);
    Ok(ExitCode::SUCCESS)
}

/// The field table of `--list` in a format (`text` when `None`).
pub fn render_fields(format: Option<&str>, names_only: bool) -> Result<String> {
    let docs = K8sAuditCatalog::field_docs();
    let mut s = String::new();
    match format.unwrap_or("text") {
        "text" => {
            for d in docs {
                if names_only {
                    s.push_str(d.name);
                    s.push('\n');
                } else {
                    s.push_str(&format!(
                        "{:<60} {}\n",
                        format!("{}{}", d.name, d.arg),
                        d.desc
                    ));
                }
            }
        }
        "markdown" => {
            if names_only {
                for d in docs {
                    s.push_str(&format!("- `{}`\n", d.name));
                }
            } else {
                s.push_str("| Field | Type | List | Argument | Description |\n");
                s.push_str("|---|---|---|---|---|\n");
                for d in docs {
                    let arg = match d.arg {
                        "[i]" => "optional index",
                        "[k]" => "required key",
                        _ => "",
                    };
                    s.push_str(&format!(
                        "| `{}` | {} | {} | {} | {} |\n",
                        d.name,
                        type_name(d.ty),
                        if d.is_list { "yes" } else { "no" },
                        arg,
                        d.desc.replace('|', "\\|")
                    ));
                }
            }
        }
        "json" => {
            let v: Vec<Value> = docs
                .iter()
                .map(|d| {
                    if names_only {
                        json!(d.name)
                    } else {
                        json!({
                            "name": d.name,
                            "type": type_name(d.ty),
                            "is_list": d.is_list,
                            "arg": match d.arg { "[i]" => "index", "[k]" => "key", _ => "none" },
                            "desc": d.desc,
                        })
                    }
                })
                .collect();
            s.push_str(&json!({ "source": SOURCE, "fields": v }).to_string());
            s.push('\n');
        }
        other => bail!("Unknown --list format '{other}': use text, markdown or json"),
    }
    Ok(s)
}

/// Falco's `wrap_text`: words joined by single spaces (each followed by one), a new
/// line indented to `indent` columns when a line would exceed `line_len - indent`.
fn wrap_text(text: &str, indent: usize, line_len: usize) -> String {
    let mut out = String::new();
    let mut len = 0usize;
    for word in text.split_whitespace() {
        if len + word.len() < line_len - indent {
            len += word.len() + 1;
        } else {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            len = word.len() + 1;
        }
        out.push_str(word);
        out.push(' ');
    }
    out
}

fn two_columns(out: &mut String, l: &str, r: &str) {
    out.push_str(&format!("{l:<50} {r}\n"));
}

/// `-L`/`-l RULE`: Falco's text table, or with `json_output=true` Falco's JSON
/// description of rules, macros and lists.
pub fn describe_rules(cli: &Cli, config: &Config, loaded: &Loaded) -> Result<ExitCode> {
    let json_out = config.bool_or("json_output", false);
    let v = describe(loaded, cli.describe_rule.as_deref())?;
    if json_out {
        println!("{v}");
    } else {
        print!("{}", described_rules_as_text(&v));
    }
    Ok(ExitCode::SUCCESS)
}

/// Falco's `format_described_rules_as_text`.
pub fn described_rules_as_text(v: &Value) -> String {
    let mut out = String::new();
    two_columns(&mut out, "Rule", "Description");
    two_columns(&mut out, "----", "-----------");
    for r in v["rules"].as_array().into_iter().flatten() {
        let desc = r["info"]["description"].as_str().unwrap_or_default();
        let name = r["info"]["name"].as_str().unwrap_or_default();
        two_columns(&mut out, name, &(wrap_text(desc, 51, 110) + "\n"));
    }
    out
}

#[derive(Default)]
struct Details {
    macros: BTreeSet<String>,
    lists: BTreeSet<String>,
    operators: BTreeSet<String>,
    fields: BTreeSet<String>,
}

fn operand_fields(o: &Operand, d: &mut Details) {
    match o {
        Operand::Field(f) => {
            d.fields.insert(f.to_string());
        }
        Operand::Transform { args, .. } | Operand::List(args, _) => {
            for a in args {
                operand_fields(a, d);
            }
        }
        Operand::Literal(..) => {}
    }
}

fn walk(e: &Expr, known_lists: &BTreeSet<&str>, d: &mut Details) {
    match e {
        Expr::And(v, _) | Expr::Or(v, _) => v.iter().for_each(|x| walk(x, known_lists, d)),
        Expr::Not(x, _) => walk(x, known_lists, d),
        Expr::Macro(name, _) => {
            d.macros.insert(name.clone());
        }
        Expr::Check(c) => {
            operand_fields(&c.lhs, d);
            d.operators.insert(c.op.as_str().to_string());
            match &c.rhs {
                Rhs::List(items, _) | Rhs::Modified(_, items, _) => {
                    for i in items {
                        if known_lists.contains(i.as_str()) {
                            d.lists.insert(i.clone());
                        }
                    }
                }
                Rhs::Field(o) => operand_fields(o, d),
                Rhs::None | Rhs::Value(..) => {}
            }
        }
    }
}

fn expand(e: &Expr, macros: &HashMap<&str, &Expr>, depth: usize) -> Expr {
    if depth > 10_000 {
        return e.clone();
    }
    match e {
        Expr::And(v, s) => Expr::And(v.iter().map(|x| expand(x, macros, depth + 1)).collect(), *s),
        Expr::Or(v, s) => Expr::Or(v.iter().map(|x| expand(x, macros, depth + 1)).collect(), *s),
        Expr::Not(x, s) => Expr::Not(Box::new(expand(x, macros, depth + 1)), *s),
        Expr::Macro(n, _) => macros
            .get(n.as_str())
            .map_or_else(|| e.clone(), |m| (*m).clone()),
        Expr::Check(_) => e.clone(),
    }
}

fn set(v: &BTreeSet<String>) -> Value {
    json!(v.iter().collect::<Vec<_>>())
}

/// Output fields of an output template (`%field` and `%field[arg]` tokens).
fn output_fields(output: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = output.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let start = i + 1;
            let mut j = start;
            let mut depth = 0i32;
            while j < b.len() {
                let c = b[j];
                if c == b'[' || c == b'(' {
                    depth += 1;
                } else if (c == b']' || c == b')') && depth > 0 {
                    depth -= 1;
                    if depth == 0 {
                        j += 1;
                        if j < b.len() && b[j] == b'[' {
                            continue;
                        }
                        break;
                    }
                } else if depth == 0 && !(c.is_ascii_alphanumeric() || c == b'.' || c == b'_') {
                    break;
                }
                j += 1;
            }
            if j > start {
                if let Some(f) = output.get(start..j) {
                    out.push(f.to_string());
                }
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Falco's `describe_rule` JSON (all rules, macros and lists, or one rule).
pub fn describe(loaded: &Loaded, rule: Option<&str>) -> Result<Value> {
    let col = &loaded.collector;
    let known_lists: BTreeSet<&str> = col.lists.keys().map(String::as_str).collect();
    let macro_asts: HashMap<&str, &Expr> = loaded
        .compiled
        .macros
        .iter()
        .map(|(n, e)| (n.as_str(), e))
        .collect();
    let rule_json = |r: &falco_rs_rules::compile::CompiledRule| -> Value {
        let info = col.rules.get(&r.name);
        let cond = info.map_or("", |i| i.cond.as_str());
        let mut raw = Details::default();
        if let Ok(e) = parse_condition(cond) {
            walk(&e, &known_lists, &mut raw);
        }
        let mut compiled = Details::default();
        let compiled_text = match parse_condition(&r.condition) {
            Ok(e) => {
                let x = expand(&e, &macro_asts, 0);
                walk(&x, &known_lists, &mut compiled);
                x.to_string()
            }
            Err(_) => r.condition.clone(),
        };
        let mut exception_names = BTreeSet::new();
        let mut exception_ops = BTreeSet::new();
        for ex in info.map(|i| i.exceptions.as_slice()).unwrap_or_default() {
            exception_names.insert(ex.name.clone());
            if ex.comps.is_list {
                for c in &ex.comps.items {
                    if c.is_list {
                        exception_ops.extend(c.items.iter().map(|i| i.item.clone()));
                    } else {
                        exception_ops.insert(c.item.clone());
                    }
                }
            } else {
                exception_ops.insert(ex.comps.item.clone());
            }
        }
        let outs = output_fields(&r.output_text);
        let mut plugins = vec!["k8saudit"];
        if compiled
            .fields
            .iter()
            .chain(&outs)
            .any(|f| f.starts_with("json.") || f.starts_with("jevt."))
        {
            plugins.push("json");
        }
        json!({
            "info": {
                "name": r.name,
                "condition": cond,
                "priority": r.priority.name(),
                "output": info.map_or("", |i| i.output.as_str()),
                "description": r.desc,
                "enabled": r.enabled,
                "source": r.source,
                "capture": info.is_some_and(|i| i.capture),
                "capture_duration": info.map_or(0, |i| i.capture_duration),
                "tags": r.tags.iter().collect::<Vec<_>>(),
            },
            "details": {
                "macros": set(&raw.macros),
                "lists": set(&raw.lists),
                "condition_operators": set(&compiled.operators),
                "condition_fields": set(&compiled.fields),
                "output_fields": outs,
                "exception_fields": r.exception_fields.iter().collect::<Vec<_>>(),
                "exception_names": set(&exception_names),
                "exception_operators": set(&exception_ops),
                "events": ["asyncevent", "pluginevent"],
                "condition_compiled": compiled_text,
                "output_compiled": r.output_text,
                "plugins": plugins,
            }
        })
    };
    if let Some(name) = rule {
        let Some(r) = loaded.compiled.rules.iter().find(|r| r.name == name) else {
            bail!("Rule \"{name}\" is not loaded");
        };
        return Ok(json!({ "rules": [rule_json(r)] }));
    }
    let used_macros: BTreeSet<String> = loaded
        .compiled
        .rules
        .iter()
        .flat_map(|r| {
            let mut d = Details::default();
            if let Some(e) = col
                .rules
                .get(&r.name)
                .and_then(|i| parse_condition(&i.cond).ok())
            {
                walk(&e, &known_lists, &mut d);
            }
            d.macros
        })
        .collect();
    let macros: Vec<Value> = loaded
        .compiled
        .macros
        .iter()
        .map(|(name, ast)| {
            let cond = col.macros.get(name).map_or("", |m| m.cond.as_str());
            let mut raw = Details::default();
            if let Ok(e) = parse_condition(cond) {
                walk(&e, &known_lists, &mut raw);
            }
            let mut compiled = Details::default();
            walk(ast, &known_lists, &mut compiled);
            json!({
                "info": {"name": name, "condition": cond},
                "details": {
                    "used": used_macros.contains(name) || macro_used_by_macro(loaded, name, &known_lists),
                    "macros": set(&raw.macros),
                    "lists": set(&raw.lists),
                    "condition_operators": set(&compiled.operators),
                    "condition_fields": set(&compiled.fields),
                    "events": ["asyncevent", "pluginevent"],
                    "condition_compiled": ast.to_string(),
                    "plugins": [],
                }
            })
        })
        .collect();
    let lists: Vec<Value> = loaded
        .compiled
        .lists
        .iter()
        .map(|(name, compiled_items)| {
            let raw = col
                .lists
                .get(name)
                .map(|l| l.items.clone())
                .unwrap_or_default();
            let (refs, items): (Vec<String>, Vec<String>) =
                raw.into_iter().partition(|i| !compiled_items.contains(i));
            json!({
                "info": {"name": name, "items": items},
                "details": {
                    "used": list_used(loaded, name, &known_lists),
                    "lists": refs.into_iter().collect::<BTreeSet<_>>(),
                    "items_compiled": compiled_items,
                    "plugins": [],
                }
            })
        })
        .collect();
    let plugin_reqs: Vec<Value> = col
        .required_plugin_versions
        .iter()
        .filter_map(|g| {
            let (main, alts) = g.split_first()?;
            Some(json!({
                "name": main.name,
                "version": main.version,
                "alternatives": alts.iter().map(|a| json!({"name": a.name, "version": a.version})).collect::<Vec<_>>(),
            }))
        })
        .collect();
    Ok(json!({
        "required_engine_version": col.required_engine_version.as_ref().map_or_else(|| "0.0.0".to_string(), |v| v.to_string()),
        "required_plugin_versions": plugin_reqs,
        "rules": loaded.compiled.rules.iter().map(rule_json).collect::<Vec<_>>(),
        "macros": macros,
        "lists": lists,
    }))
}

fn macro_used_by_macro(loaded: &Loaded, name: &str, known_lists: &BTreeSet<&str>) -> bool {
    loaded.collector.macros.values().any(|m| {
        let mut d = Details::default();
        if let Ok(e) = parse_condition(&m.cond) {
            walk(&e, known_lists, &mut d);
        }
        m.name != name && d.macros.contains(name)
    })
}

fn list_used(loaded: &Loaded, name: &str, known_lists: &BTreeSet<&str>) -> bool {
    let conds = loaded
        .collector
        .macros
        .values()
        .map(|m| m.cond.as_str())
        .chain(loaded.collector.rules.values().map(|r| r.cond.as_str()));
    for c in conds {
        let mut d = Details::default();
        if let Ok(e) = parse_condition(c) {
            walk(&e, known_lists, &mut d);
        }
        if d.lists.contains(name) {
            return true;
        }
    }
    loaded
        .collector
        .lists
        .values()
        .any(|l| l.name != name && l.items.iter().any(|i| i == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_text_like_falco() {
        assert_eq!(wrap_text("a b", 51, 110), "a b ");
        let long = "word ".repeat(20);
        let w = wrap_text(&long, 51, 110);
        assert!(w.contains(&format!("\n{}word", " ".repeat(51))));
    }

    #[test]
    fn output_field_tokens() {
        assert_eq!(
            output_fields("user=%ka.user.name verb=%ka.verb x=%jevt.value[/a/b] 100%"),
            vec!["ka.user.name", "ka.verb", "jevt.value[/a/b]"]
        );
    }
}
