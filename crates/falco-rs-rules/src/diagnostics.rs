//! Human diagnostics for rules files: every problem with its file position, item,
//! the offending YAML line, a caret under the exact token of a condition, and a hint
//! on what to do.
//!
//! Falco's own load result stops at the first error of a file; [`recover`] finds the
//! problems after it by loading the file again without the items that failed. Those
//! extra problems are marked as additional: Falco would report them only after the
//! first one is fixed.

use crate::loader::{is_str_operator_with_modifier, SUPPORTED_OPERATORS};
use crate::result::{Context, ErrorCode, ItemType, LoadResult, WarningCode};
use crate::yaml::{self, Node};
use std::fmt::Write as _;

/// Most reload rounds of [`recover`] per file.
pub const MAX_RECOVERY_ROUNDS: usize = 100;

/// Severity of a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Makes the file invalid.
    Error,
    /// Reported, the file still loads.
    Warning,
}

/// One problem, ready to be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The Falco code (`LOAD_ERR_*` or `LOAD_*`).
    pub code: &'static str,
    /// The short description of the code (shown when the message is empty).
    pub codedesc: &'static str,
    /// The Falco message.
    pub message: String,
    /// Where.
    pub context: Context,
    /// Found by the recovery pass (Falco reports only the first error of a file).
    pub additional: bool,
}

impl Diagnostic {
    fn error(code: ErrorCode, message: &str, context: &Context, additional: bool) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: code.as_str(),
            codedesc: code.short(),
            message: message.to_string(),
            context: context.clone(),
            additional,
        }
    }

    fn warning(code: WarningCode, message: &str, context: &Context, additional: bool) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            code: code.as_str(),
            codedesc: code.short(),
            message: message.to_string(),
            context: context.clone(),
            additional,
        }
    }

    fn same_problem(&self, other: &Diagnostic) -> bool {
        self.code == other.code && self.message == other.message && self.context == other.context
    }
}

/// The offset of the top-level item a context points into, if any.
fn item_offset(ctx: &Context) -> Option<usize> {
    ctx.locs.get(1).map(|l| l.mark.offset)
}

/// Collects every problem of a file: the problems of `first` (Falco's result), then,
/// while the latest load failed on a top-level item, the problems of `reload`ing the
/// file without the items that failed so far (`reload` gets their offsets).
///
/// Errors that only follow from a left-out item (an undefined macro whose definition
/// failed, an append to a rule that failed) are dropped. Unused list/macro warnings of
/// reloads are dropped too: a left-out rule may have been their user.
pub fn recover(
    first: &LoadResult,
    mut reload: impl FnMut(&[usize]) -> LoadResult,
) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = first
        .errors
        .iter()
        .map(|e| Diagnostic::error(e.code, &e.message, &e.context, false))
        .chain(
            first
                .warnings
                .iter()
                .map(|w| Diagnostic::warning(w.code, &w.message, &w.context, false)),
        )
        .collect();
    let Some(err) = first.errors.first() else {
        return out;
    };
    if err.code == ErrorCode::YamlParse {
        return out;
    }
    let Some(mut offset) = item_offset(&err.context) else {
        return out;
    };
    let mut skip: Vec<usize> = Vec::new();
    let mut skipped_names: Vec<String> = Vec::new();
    let mut last: Option<LoadResult> = None;
    let mut failed = err.context.clone();
    for _ in 0..MAX_RECOVERY_ROUNDS {
        skip.push(offset);
        if let Some(n) = err_item_name(&failed) {
            skipped_names.push(n);
        }
        let res = reload(&skip);
        let next = res
            .errors
            .first()
            .map(|e| (e.code, item_offset(&e.context)));
        if let Some(e) = res.errors.first() {
            let cascade = skipped_names.iter().any(|n| {
                e.message.contains(&format!("'{n}'"))
                    || (e.context.locs.get(1).is_some_and(|l| *l.item_name == **n)
                        && e.message.contains("already exists"))
            });
            let d = Diagnostic::error(e.code, &e.message, &e.context, true);
            if !cascade && !out.iter().any(|o| o.same_problem(&d)) {
                out.push(d);
            }
            failed = e.context.clone();
        }
        last = Some(res);
        match next {
            Some((code, Some(o))) if code != ErrorCode::YamlParse && !skip.contains(&o) => {
                offset = o;
            }
            _ => break,
        }
    }
    if let Some(res) = last {
        for w in &res.warnings {
            if matches!(w.code, WarningCode::UnusedMacro | WarningCode::UnusedList) {
                continue;
            }
            let d = Diagnostic::warning(w.code, &w.message, &w.context, true);
            if !out.iter().any(|o| o.same_problem(&d)) {
                out.push(d);
            }
        }
    }
    for d in lint_exceptions(first) {
        if !out.iter().any(|o| o.same_problem(&d)) {
            out.push(d);
        }
    }
    // Errors first, each group in file order (the first error stays first).
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut warnings: Vec<Diagnostic> = Vec::new();
    for d in out {
        match d.severity {
            Severity::Error => errors.push(d),
            Severity::Warning => warnings.push(d),
        }
    }
    if errors.len() > 1 {
        errors[1..].sort_by_key(|d| position(&d.context));
    }
    warnings.sort_by_key(|d| (d.additional, position(&d.context)));
    errors.extend(warnings);
    errors
}

/// Code of the falco-rs lint for exception values that do not fit their comparison.
pub const EXCEPTION_VALUE_SHAPE: &str = "FALCO_RS_EXCEPTION_VALUE_SHAPE";

/// Exception values whose shape does not fit the comparison (a list compared with
/// `=`, `startswith`, ...): Falco turns them into conditions that fail to parse or never
/// match. Reported by falco-rs only (as additional warnings).
fn lint_exceptions(res: &LoadResult) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Ok(docs) = yaml::load_all(&res.content) else {
        return out;
    };
    let root = Context::file(&res.name);
    for item in docs.iter().filter_map(Node::as_seq).flatten() {
        let Some(rule) = item.get("rule").and_then(Node::as_str) else {
            continue;
        };
        let rctx = root.child(item.mark, ItemType::Rule, rule);
        for ex in item
            .get("exceptions")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            let name = ex.get("name").and_then(Node::as_str).unwrap_or_default();
            let (Some(fields), Some(values)) = (
                ex.get("fields").and_then(Node::as_seq),
                ex.get("values").and_then(Node::as_seq),
            ) else {
                continue;
            };
            let comps: Vec<&str> = match ex.get("comps").and_then(Node::as_seq) {
                Some(c) => c.iter().map(|n| n.as_str().unwrap_or("=")).collect(),
                None => fields.iter().map(|_| "=").collect(),
            };
            for tuple in values.iter().filter_map(Node::as_seq) {
                for ((value, field), comp) in tuple.iter().zip(fields).zip(&comps) {
                    let comp = comp.trim();
                    let list_op = matches!(comp, "in" | "intersects" | "pmatch")
                        || is_str_operator_with_modifier(comp);
                    if value.as_seq().is_some() && !list_op {
                        let field = field.as_str().unwrap_or_default();
                        out.push(Diagnostic {
                            severity: Severity::Warning,
                            code: EXCEPTION_VALUE_SHAPE,
                            codedesc: "Exception value does not fit its comparison",
                            message: format!(
                                "exception '{name}': the value for {field} is a list, but comp '{comp}' compares with one value"
                            ),
                            context: rctx.child(value.mark, ItemType::ExceptionValue, name),
                            additional: true,
                        });
                    }
                }
            }
        }
    }
    out
}

fn err_item_name(ctx: &Context) -> Option<String> {
    ctx.locs
        .get(1)
        .map(|l| l.item_name.to_string())
        .filter(|n| !n.is_empty())
}

fn position(ctx: &Context) -> usize {
    file_loc(ctx).map_or(0, |(_, m)| m.offset)
}

/// The deepest location of a chain that is a position in the file itself.
fn file_loc(ctx: &Context) -> Option<(usize, crate::yaml::Mark)> {
    let n = ctx.locs.len();
    ctx.locs
        .iter()
        .enumerate()
        .rev()
        .find(|(i, l)| !(l.item_type == ItemType::ConditionExpression && i + 1 == n))
        .map(|(i, l)| (i, l.mark))
}

/// Names the hints draw on.
#[derive(Debug, Clone, Default)]
pub struct HintData {
    /// Field names of the source (e.g. every `ka.*`, `jevt.*`, `json.*`, `evt.*`).
    pub fields: Vec<String>,
    /// The engine version, for version mismatches.
    pub engine_version: String,
}

/// Names defined by a file: (macros, lists, rules), in file order.
fn defined_names(content: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut macros = Vec::new();
    let mut lists = Vec::new();
    let mut rules = Vec::new();
    let docs: Vec<Node> = yaml::load_all(content).unwrap_or_default();
    for item in docs.iter().filter_map(Node::as_seq).flatten() {
        for (key, out) in [
            ("macro", &mut macros),
            ("list", &mut lists),
            ("rule", &mut rules),
        ] {
            if let Some(n) = item.get(key).and_then(Node::as_str) {
                if !n.is_empty() && !out.iter().any(|o| o == n) {
                    out.push(n.to_string());
                }
            }
        }
    }
    (macros, lists, rules)
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// The text between the first pair of single quotes after `prefix`.
fn quoted_after<'a>(msg: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &msg[msg.find(prefix)? + prefix.len()..];
    let start = rest.find('\'')? + 1;
    let len = rest[start..].find('\'')?;
    Some(&rest[start..start + len])
}

fn name_list(names: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut s = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        let _ = write!(s, " and {} more", names.len() - SHOWN);
    }
    s
}

/// What to do about a problem, if there is something specific to say.
fn hint(d: &Diagnostic, content: &str, data: &HintData) -> Option<String> {
    let msg = d.message.as_str();
    let (macros, lists, rules) = defined_names(content);
    if let Some(pos) = msg.find("nonexistent field ") {
        let field = msg[pos + "nonexistent field ".len()..].trim();
        let base = field.split('[').next().unwrap_or(field);
        return Some(field_hint(base, data));
    }
    if let Some(pos) = msg.find("invalid formatting token ") {
        let field = msg[pos + "invalid formatting token ".len()..].trim();
        let base = field.split('[').next().unwrap_or(field);
        return Some(field_hint(base, data));
    }
    if msg.ends_with("is not a supported filter field") {
        if let Some(f) = quoted_after(msg, "") {
            return Some(field_hint(f.split('[').next().unwrap_or(f), data));
        }
    }
    if let Some(pos) = msg.find("unknown event type ") {
        let name = msg[pos + "unknown event type ".len()..].trim();
        if lists.iter().any(|l| l == name) {
            return Some(format!("`{name}` is a list that was left unexpanded: a list is substituted only into items defined after it, and a list that refers to itself in a loop is never expanded"));
        }
        let names = crate::syscall::EVENT_NAMES
            .iter()
            .chain(crate::syscall::SYSCALL_NAMES.iter())
            .copied();
        return Some(match closest(name, names) {
            Some(c) => format!("did you mean `{c}`?"),
            None => "`evt.type` takes event or syscall names such as `open` or `execve`; a list name in the values means the list was not defined before this item".into(),
        });
    }
    if let Some(name) = quoted_after(msg, "Undefined macro ") {
        let own = d.context.locs.get(1).map_or("", |l| &*l.item_name);
        let macros: Vec<String> = macros.into_iter().filter(|m| m != own).collect();
        let mut s = String::new();
        if let Some(c) = closest(name, macros.iter().chain(&lists).map(String::as_str)) {
            let _ = write!(s, "did you mean `{c}`? ");
        }
        if macros.is_empty() {
            s.push_str("no other macro is defined in this file; define the macro before the item that uses it");
        } else {
            let _ = write!(
                s,
                "other macros defined in this file: {}",
                name_list(&macros)
            );
        }
        return Some(s);
    }
    if let Some(key) = quoted_after(msg, "Item has no mapping for key ") {
        return Some(format!("add the key `{key}:` to this item"));
    }
    if let Some(key) = quoted_after(msg, "Mapping for key ") {
        return Some(format!("give `{key}:` a non-empty value"));
    }
    if msg.starts_with("Unexpected element type") {
        return Some("each top-level entry must be a mapping such as `- rule: ...`, `- macro: ...` or `- list: ...`".into());
    }
    if msg.starts_with("Rules content is not yaml") {
        return Some("a rules file is a YAML sequence of items: start each item with `- `".into());
    }
    if msg.starts_with("reference loop in macro") {
        return Some(
            "a macro cannot use itself, directly or through other macros; break the cycle".into(),
        );
    }
    for (kind, names) in [("Macro", &macros), ("List", &lists), ("Rule", &rules)] {
        if msg.starts_with(&format!("{kind} uses 'append'"))
            || msg.starts_with(&format!("{kind} has 'append' key"))
            || (msg.contains("override") && msg.contains("no ") && msg.starts_with(kind))
        {
            let lower = kind.to_lowercase();
            let mut s = format!(
                "define the {lower} before appending to or overriding it (earlier in this file or in a file loaded before this one)"
            );
            let item = d.context.locs.get(1).map_or("", |l| &*l.item_name);
            if let Some(c) = closest(item, names.iter().map(String::as_str)) {
                let _ = write!(s, "; did you mean `{c}`?");
            }
            return Some(s);
        }
    }
    if msg.contains("An 'override.<key>: replace' to a rule was requested") {
        return Some("define the rule before overriding it".into());
    }
    if msg.starts_with("Rules require engine version") {
        return Some(format!(
            "this file needs a newer engine; falco-rs implements engine version {}",
            data.engine_version
        ));
    }
    if msg.starts_with("Unable to parse engine version") {
        return Some("write the version as `x.y.z`, e.g. `required_engine_version: 0.31.0`".into());
    }
    if let Some(op) = quoted_after(msg, "") {
        if msg.ends_with("is not a supported comparison operator")
            && !SUPPORTED_OPERATORS.contains(&op)
            && !is_str_operator_with_modifier(op)
        {
            let ops: Vec<String> = SUPPORTED_OPERATORS.iter().map(|s| s.to_string()).collect();
            return Some(match closest(op, SUPPORTED_OPERATORS) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("supported comps: {}", ops.join(", ")),
            });
        }
    }
    if msg == "Fields and values lists must have equal length" {
        return Some("each entry of `values` needs exactly one value per entry of `fields`".into());
    }
    if msg == "Fields and comps lists must have equal length" {
        return Some("`comps` needs one operator per entry of `fields`".into());
    }
    if msg.starts_with("Rule exception must have fields property") {
        return Some("give the exception a `fields:` list; to add values to an exception of an existing rule, use the exception's exact name".into());
    }
    if msg.starts_with("unexpected token") || msg.starts_with("expected ") {
        return Some("the condition does not parse at the caret".into());
    }
    if d.code == ErrorCode::YamlParse.as_str() {
        if let Err(e) = yaml::load_all(content) {
            return Some(format!("the YAML parser says: {}", e.detail));
        }
    }
    if d.code == WarningCode::NoEvttype.as_str() {
        return Some("restrict the condition with `evt.type = x` or `evt.type in (x, y)` outside any `not`, or set `warn_evttypes: false` on the rule".into());
    }
    if d.code == EXCEPTION_VALUE_SHAPE {
        return Some(
            "use comp `in` (or `intersects`, `pmatch`) for a list of values, or give one value"
                .into(),
        );
    }
    if d.code == WarningCode::UnusedMacro.as_str() || d.code == WarningCode::UnusedList.as_str() {
        return Some("remove it, or use it in a rule".into());
    }
    if d.code == WarningCode::UnknownSource.as_str() {
        return Some(
            "falco-rs serves the k8s_audit source only; rules of other sources are skipped".into(),
        );
    }
    if d.code == WarningCode::UnsafeNaCheck.as_str() {
        return Some(
            "test for a missing value with `exists` (e.g. `not ka.user.name exists`)".into(),
        );
    }
    if d.code == WarningCode::UnknownItem.as_str() {
        return Some("top-level items are `rule`, `macro`, `list`, `required_engine_version` and `required_plugin_versions`".into());
    }
    None
}

/// Where to point in the file: a byte offset, the caret length, and, when the
/// condition token could not be found in the file text, the condition and the
/// token's index in it (shown separately).
#[derive(Debug, Clone, Copy)]
struct Spot<'a> {
    offset: usize,
    len: usize,
    condition: Option<(&'a str, usize)>,
}

/// The end of the top-level item starting at `start` (the next line that starts a
/// new sequence entry or document at column 0), or the end of the text.
fn item_end(content: &str, start: usize) -> usize {
    let mut pos = content[start..]
        .find('\n')
        .map_or(content.len(), |p| start + p + 1);
    while pos < content.len() {
        let rest = &content[pos..];
        if rest.starts_with("- ") || rest.starts_with("---") || rest.starts_with("...") {
            return pos;
        }
        pos = rest.find('\n').map_or(content.len(), |p| pos + p + 1);
    }
    content.len()
}

/// Finds the text of a problem in the file: the exact condition token when the
/// condition line appears verbatim in the item, a quoted token of the message inside
/// the item, or the position the context chain gives.
fn locate<'a>(d: &'a Diagnostic, content: &str) -> Option<Spot<'a>> {
    if content.is_empty() {
        return None;
    }
    let (_, mark) = file_loc(&d.context)?;
    let base = mark.offset.min(content.len());
    let item_start = item_offset(&d.context).unwrap_or(base).min(content.len());
    let end = item_end(content, item_start);
    let region = &content[item_start..end];
    let n = d.context.locs.len();
    if let (Some(cond), true) = (
        d.context.alt_content.as_deref(),
        n >= 2 && d.context.locs[n - 1].item_type == ItemType::ConditionExpression,
    ) {
        let index = d.context.locs[n - 1]
            .mark
            .offset
            .saturating_sub(d.context.locs[n - 2].mark.offset)
            .min(cond.len());
        let index = settle(cond, index);
        let (line, c, _) = line_at(cond, index);
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        if !trimmed.is_empty() && c >= lead {
            // The condition line must appear once, as the rest of a file line.
            let hits: Vec<usize> = region
                .match_indices(trimmed)
                .map(|(p, _)| p)
                .filter(|&p| {
                    let after = &region[p + trimmed.len()..];
                    after.is_empty() || after.starts_with('\n') || after.starts_with('\r')
                })
                .collect();
            if let [p] = hits[..] {
                return Some(Spot {
                    offset: item_start + p + (c - lead),
                    len: token_len(line, c),
                    condition: None,
                });
            }
        }
        // Lists substituted or appends joined: look for the token itself.
        let tok = line.get(c..c + token_len(line, c)).unwrap_or("");
        if tok.chars().count() > 1 {
            let hits: Vec<usize> = region.match_indices(tok).map(|(p, _)| p).collect();
            if let [p] = hits[..] {
                return Some(Spot {
                    offset: item_start + p,
                    len: tok.len(),
                    condition: None,
                });
            }
        }
        return Some(Spot {
            offset: base,
            len: 1,
            condition: Some((cond, index)),
        });
    }
    let msg = d.message.as_str();
    let formatting = msg
        .find("invalid formatting token ")
        .map(|p| format!("%{}", msg[p + "invalid formatting token ".len()..].trim()));
    let token = if msg.ends_with("is not a supported comparison operator")
        || msg.ends_with("is not a supported filter field")
        || msg.starts_with("Unknown key ")
    {
        quoted_after(msg, "")
    } else {
        formatting.as_deref()
    };
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        let from = base.saturating_sub(item_start);
        if let Some(p) = region.get(from..).and_then(|r| r.find(t)) {
            return Some(Spot {
                offset: item_start + from + p,
                len: t.len(),
                condition: None,
            });
        }
    }
    Some(Spot {
        offset: base,
        len: 1,
        condition: None,
    })
}

/// Moves an index that points into trailing whitespace of a condition back to just
/// after its last non-blank character (parse errors at the end of the text).
fn settle(cond: &str, index: usize) -> usize {
    let index = floor(cond, index);
    if cond[index..].trim().is_empty() {
        cond[..index].trim_end().len()
    } else {
        index
    }
}

/// "did you mean" over the k8s_audit catalog and the syscall field names.
fn field_hint(name: &str, data: &HintData) -> String {
    let names = data
        .fields
        .iter()
        .map(String::as_str)
        .chain(crate::syscall::FIELDS.iter().copied());
    match closest(name, names) {
        Some(c) => format!("did you mean `{c}`?"),
        None => "no field has a similar name; `falco-rs --list` shows the k8s_audit fields".into(),
    }
}

/// Length of the token starting at `i` (at least 1).
fn token_len(text: &str, i: usize) -> usize {
    let rest = text.get(i..).unwrap_or("");
    let n = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']' | '/'))
        .map(char::len_utf8)
        .sum::<usize>();
    if n > 0 {
        return n;
    }
    rest.chars().next().map_or(1, char::len_utf8)
}

/// `i` moved down to a character boundary of `text` (and at most its length).
fn floor(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The line of `text` containing byte `offset`, and the offset's column in it (bytes).
fn line_at(text: &str, offset: usize) -> (&str, usize, usize) {
    let offset = floor(text, offset);
    let start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |p| offset + p);
    let line_no = text[..start].matches('\n').count();
    (
        text[start..end].trim_end_matches('\r'),
        offset - start,
        line_no,
    )
}

fn caret_line(line: &str, col: usize, len: usize) -> String {
    let pad: String = line
        .get(..col.min(line.len()))
        .unwrap_or("")
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!("{pad}{}", "^".repeat(len.max(1)))
}

/// Renders the diagnostics of one file as human text.
pub fn render(file: &str, content: &str, diags: &[Diagnostic], data: &HintData) -> String {
    let mut s = String::new();
    for d in diags {
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let extra = if d.additional { " (additional)" } else { "" };
        let message = match d.message.trim_end() {
            "" => d.codedesc,
            m => m,
        };
        let _ = writeln!(s, "{kind}[{}]{extra}: {message}", d.code);
        let items: Vec<String> = d
            .context
            .locs
            .iter()
            .skip(1)
            .filter(|l| l.item_type != ItemType::ConditionExpression)
            .map(|l| {
                if l.item_name.is_empty() {
                    l.item_type.as_str().to_string()
                } else {
                    format!("{} '{}'", l.item_type.as_str(), l.item_name)
                }
            })
            .collect();
        let spot = locate(d, content);
        let (line_no, col) = match spot {
            Some(sp) => {
                let (line, c, n) = line_at(content, sp.offset);
                (n, line.get(..c).map_or(c, |p| p.chars().count()))
            }
            None => file_loc(&d.context).map_or((0, 0), |(_, m)| (m.line, m.column)),
        };
        let num = (line_no + 1).to_string();
        let gutter = " ".repeat(num.len());
        let _ = write!(s, "{gutter}--> {file}:{}:{}", line_no + 1, col + 1);
        if !items.is_empty() {
            let _ = write!(s, " ({})", items.join(" > "));
        }
        s.push('\n');
        if let Some(sp) = spot {
            let (line, c, _) = line_at(content, sp.offset);
            let _ = writeln!(s, "{gutter} |");
            let _ = writeln!(s, "{num} | {line}");
            let _ = writeln!(s, "{gutter} | {}", caret_line(line, c, sp.len));
            if let Some((cond, index)) = sp.condition {
                let (line, c, _) = line_at(cond, index);
                let _ = writeln!(s, "{gutter} = condition: {line}");
                let _ = writeln!(
                    s,
                    "{gutter}   {}{}",
                    " ".repeat("condition: ".len()),
                    caret_line(line, c, token_len(line, c))
                );
            }
        }
        if let Some(h) = hint(d, content, data) {
            let _ = writeln!(s, "{gutter} = help: {h}");
        }
        s.push('\n');
    }
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let additional = diags
        .iter()
        .filter(|d| d.severity == Severity::Error && d.additional)
        .count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let status = if errors == 0 { "valid" } else { "invalid" };
    let _ = write!(
        s,
        "{file}: {status}, {}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    if additional > 0 {
        let _ = write!(
            s,
            " (Falco reports the first error only; {} found by skipping the items that failed)",
            plural(additional, "additional error")
        );
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_and_closest() {
        assert_eq!(edit_distance("ka.verbb", "ka.verb"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(closest("ka.vreb", ["ka.verb", "ka.uri"]), Some("ka.verb"));
        assert_eq!(closest("zzz", ["ka.verb"]), None);
    }

    #[test]
    fn quoted() {
        assert_eq!(
            quoted_after("Undefined macro 'gak' used in filter.", "Undefined macro "),
            Some("gak")
        );
    }
}
