//! The compile pass Falco runs after every rules file: list compilation and textual
//! substitution, macro parsing and resolution, exception rewriting, output and
//! condition compilation into an engine [`Program`].

use crate::loader::{Collector, LoaderEnv};
use crate::model::{ExceptionInfo, Priority, RuleInfo};
use crate::result::{take_in_file_order, Context, ErrorCode, LoadResult, WarningCode};
use falco_rs_engine::{FieldCatalog, FilterId, OutputId, Program, ProgramBuilder};
use falco_rs_syntax::{parse_condition, Check, Expr, Op, Operand, ParseError, Rhs, Span};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Name-keyed maps and sets of the compile, with foldhash (see [`crate::loader::ItemMap`]).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// Extra output appended to matching rules (`append_output` in falco.yaml).
#[derive(Debug, Clone, Default)]
pub struct AppendOutput {
    /// Only rules of this source (empty: any).
    pub source: String,
    /// Only rules having all these tags.
    pub tags: BTreeSet<String>,
    /// Only the rule with this name (empty: any).
    pub rule: String,
    /// Text appended with one space.
    pub extra_output: String,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// Name.
    pub name: String,
    /// Description.
    pub desc: String,
    /// Priority.
    pub priority: Priority,
    /// Source.
    pub source: String,
    /// Tags, sorted.
    pub tags: BTreeSet<String>,
    /// `enabled` flag after all files.
    pub enabled: bool,
    /// Compiled condition.
    pub filter: FilterId,
    /// Compiled output.
    pub output: OutputId,
    /// Final output text.
    pub output_text: String,
    /// Final condition text (exceptions appended).
    pub condition: String,
    /// Exception field names.
    pub exception_fields: BTreeSet<String>,
}

/// Everything compiled from the collector.
#[derive(Debug)]
pub struct CompiledRules {
    /// The program shared by all rules.
    pub program: Program,
    /// Rules in definition order.
    pub rules: Vec<CompiledRule>,
    /// Resolved macros (name → expanded AST), for `-L` and explain.
    pub macros: Vec<(String, Expr)>,
    /// Compiled lists (name → items).
    pub lists: Vec<(String, Vec<String>)>,
}

/// Options of the compile pass.
pub struct CompileOptions<'a> {
    /// Field catalog of the `k8s_audit` source.
    pub catalog: &'a dyn FieldCatalog,
    /// `append_output` entries.
    pub append_output: &'a [AppendOutput],
    /// Sources that are valid in Falco but not served here (their rules only mark the
    /// macros and lists they use).
    pub source_not_served: &'a (dyn Fn(&str) -> bool + Sync),
    /// Conditions parsed by the earlier compiles of the same load.
    pub parsed: &'a ParseMemo,
}

/// Conditions already parsed, by the exact text the parser saw. Falco compiles
/// everything read so far after each rules file, so the compile after the second file
/// parses the first file's macros and rules again; parsing is a pure function of the
/// text, so the second parse is a lookup. Only successful parses are kept. Shared by
/// the threads of a parallel load.
#[derive(Debug, Default)]
pub struct ParseMemo(Mutex<HashMap<String, Arc<Expr>>>);

impl ParseMemo {
    /// `parse_condition(text)`, from the memo when an earlier compile parsed `text`.
    pub fn parse(&self, text: &str) -> Result<Arc<Expr>, ParseError> {
        if let Some(ast) = self.memo().get(text) {
            return Ok(ast.clone());
        }
        let ast = Arc::new(parse_condition(text)?);
        self.memo().insert(text.to_owned(), ast.clone());
        Ok(ast)
    }

    fn memo(&self) -> MutexGuard<'_, HashMap<String, Arc<Expr>>> {
        // A panic while holding the lock cannot leave a half-inserted entry.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Fail {
    code: ErrorCode,
    msg: String,
    ctx: Context,
}

/// Falco `resolve_list`: substitutes one list into condition text. Returns whether the
/// list was used.
pub fn resolve_list(cnd: &mut String, name: &str, items: &[String]) -> bool {
    const BLANKS: &[u8] = b" \t\n\r";
    if name.is_empty() {
        return false;
    }
    let mut used = false;
    let mut start_opt = cnd.find(name);
    while let Some(found) = start_opt {
        let mut start = found;
        let mut end = start + name.len();
        let b = cnd.as_bytes();
        let left_ok = start == 0 || is_list_delim(b[start - 1]);
        let right_ok = end >= b.len() || is_list_delim(b[end]);
        let mut next_from = found + 1;
        if left_ok && right_ok {
            while start > 0 && BLANKS.contains(&b[start - 1]) {
                start -= 1;
            }
            while end < b.len() && BLANKS.contains(&b[end]) {
                end += 1;
            }
            let sub = items
                .iter()
                .map(|v| quote_item(v))
                .collect::<Vec<_>>()
                .join(", ");
            if sub.is_empty() {
                if start > 0 && b[start - 1] == b',' {
                    start -= 1;
                } else if end < b.len() && b[end] == b',' {
                    end += 1;
                }
            }
            let mut new_cnd = String::with_capacity(cnd.len() + sub.len() + 2);
            if start > 0 {
                new_cnd.push_str(&cnd[..start]);
                new_cnd.push(' ');
            }
            new_cnd.push_str(&sub);
            new_cnd.push(' ');
            if end <= cnd.len() {
                new_cnd.push_str(&cnd[end..]);
            }
            *cnd = new_cnd;
            start += sub.len() + 1;
            next_from = start + 1;
            used = true;
        }
        start_opt = cnd
            .get(next_from.min(cnd.len())..)
            .and_then(|rest| rest.find(name))
            .map(|i| i + next_from.min(cnd.len()));
        if next_from > cnd.len() {
            break;
        }
    }
    used
}

/// The delimiters around a list name that [`resolve_list`] replaces.
fn is_list_delim(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b',' | b'=')
}

/// The tokens of a condition text between [`is_list_delim`] delimiters.
fn list_tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_ascii() && is_list_delim(c as u8))
        .filter(|t| !t.is_empty())
}

/// Wraps a value in double quotes when it has a space and is not already quoted.
fn quote_item(v: &str) -> String {
    if v.contains(' ') && !v.starts_with('"') && !v.starts_with('\'') {
        format!("\"{v}\"")
    } else {
        v.to_string()
    }
}

fn paren_item(v: &str) -> String {
    if v.starts_with('(') {
        v.to_string()
    } else {
        format!("({v})")
    }
}

fn is_operator_for_list(op: &str) -> bool {
    matches!(op, "in" | "intersects" | "pmatch") || crate::loader::is_str_operator_with_modifier(op)
}

/// Falco `build_rule_exception_infos`: appends `and not (...)` clauses.
fn build_exceptions(
    exceptions: &[ExceptionInfo],
    fields: &mut BTreeSet<String>,
    cond: &mut String,
) -> Result<(), Fail> {
    *cond = format!("({cond})");
    for ex in exceptions {
        let mut icond = String::new();
        if !ex.fields.is_list {
            for val in &ex.values {
                if val.is_list {
                    return Err(Fail {
                        code: ErrorCode::Validate,
                        msg: "Expected values array to contain a list of strings".into(),
                        ctx: ex.ctx.clone(),
                    });
                }
                if icond.is_empty() {
                    // Exceptions given under `override: replace` skip validation, so
                    // `comps` may be missing: use the §3.2 default (`in`), as the
                    // multi-field branch below defaults to `=` (Falco would emit
                    // `(f  (v))`, which fails to parse).
                    let comp = if ex.comps.item.is_empty() {
                        "in"
                    } else {
                        ex.comps.item.as_str()
                    };
                    icond = format!("({} {} (", ex.fields.item, comp);
                } else {
                    icond.push_str(", ");
                }
                fields.insert(ex.fields.item.clone());
                icond.push_str(&quote_item(&val.item));
            }
            if !icond.is_empty() {
                icond.push_str("))");
            }
        } else {
            icond.push('(');
            for values in &ex.values {
                if ex.fields.items.len() != values.items.len() {
                    return Err(Fail {
                        code: ErrorCode::Validate,
                        msg: "Fields and values lists must have equal length".into(),
                        ctx: ex.ctx.clone(),
                    });
                }
                if icond != "(" {
                    icond.push_str(" or ");
                }
                icond.push('(');
                for (k, field) in ex.fields.items.iter().enumerate() {
                    if k != 0 {
                        icond.push_str(" and ");
                    }
                    let comp = ex
                        .comps
                        .items
                        .get(k)
                        .map(|c| c.item.as_str())
                        .unwrap_or("=");
                    let v = &values.items[k];
                    let istr = if v.is_list {
                        format!(
                            "({})",
                            v.items
                                .iter()
                                .map(|i| quote_item(&i.item))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    } else if is_operator_for_list(comp) {
                        paren_item(&v.item)
                    } else {
                        quote_item(&v.item)
                    };
                    icond.push_str(&format!(" {} {} {}", field.item, comp, istr));
                    fields.insert(field.item.clone());
                }
                icond.push(')');
            }
            icond.push(')');
            if icond == "()" {
                icond.clear();
            }
        }
        if !icond.is_empty() {
            cond.push_str(" and not ");
            cond.push_str(&icond);
        }
    }
    Ok(())
}

/// Replaces macro references, with loop detection. `visible` gives the macros visible
/// from the expression being resolved.
fn resolve_macros<'m>(
    expr: &'m Expr,
    visible: &dyn Fn(&str) -> Option<&'m Expr>,
    path: &mut Vec<&'m str>,
    used: &mut HashSet<String>,
    depth: usize,
) -> Result<Expr, (String, Span)> {
    if depth > 1000 {
        return Err(("exceeded macro expansion depth of 1000".into(), expr.span()));
    }
    Ok(match expr {
        Expr::And(c, s) => Expr::And(
            c.iter()
                .map(|x| resolve_macros(x, visible, path, used, depth + 1))
                .collect::<Result<_, _>>()?,
            *s,
        ),
        Expr::Or(c, s) => Expr::Or(
            c.iter()
                .map(|x| resolve_macros(x, visible, path, used, depth + 1))
                .collect::<Result<_, _>>()?,
            *s,
        ),
        Expr::Not(c, s) => Expr::Not(
            Box::new(resolve_macros(c, visible, path, used, depth + 1)?),
            *s,
        ),
        Expr::Check(c) => Expr::Check(c.clone()),
        Expr::Macro(name, span) => {
            let Some(body) = visible(name) else {
                return Err((format!("Undefined macro '{name}' used in filter."), *span));
            };
            if path.contains(&name.as_str()) {
                return Err((format!("reference loop in macro '{name}'"), *span));
            }
            if !used.contains(name) {
                used.insert(name.clone());
            }
            path.push(name);
            let r = resolve_macros(body, visible, path, used, depth + 1);
            path.pop();
            r?
        }
    })
}

/// Falco `filter_warning_resolver`: `<NA>` comparisons on plugin fields.
fn has_unsafe_na_check(expr: &Expr) -> Option<Span> {
    match expr {
        Expr::And(c, _) | Expr::Or(c, _) => c.iter().find_map(has_unsafe_na_check),
        Expr::Not(c, _) => has_unsafe_na_check(c),
        Expr::Macro(..) => None,
        Expr::Check(check) => {
            let Check { lhs, op, rhs, span } = &**check;
            let field = lhs.base_field()?;
            if !(field.name.starts_with("ka.") || field.name.starts_with("jevt.")) {
                return None;
            }
            if !matches!(op, Op::Eq | Op::Ne | Op::In | Op::Intersects | Op::PMatch) {
                return None;
            }
            let na = match rhs {
                Rhs::Value(v, _) => v == "<NA>",
                Rhs::List(vs, _) => vs.iter().any(|v| v == "<NA>"),
                _ => false,
            };
            na.then_some(*span)
        }
    }
}

/// Compiles everything collected so far. Errors and warnings go to `res`.
pub fn compile(
    collector: &Collector,
    opts: &CompileOptions<'_>,
    res: &mut LoadResult,
) -> Option<CompiledRules> {
    match compile_inner(collector, opts, res) {
        Ok(c) => Some(c),
        Err(f) => {
            res.error(f.code, f.msg, f.ctx);
            None
        }
    }
}

/// Loads rules files (`(name, content)`) in order as Falco does: each file is read into
/// one collector, then everything read so far is compiled, to report that file's
/// problems. Files are taken one at a time (see [`take_in_file_order`]): the load stops
/// after the first failing file unless `keep_going`, and `on_file` sees each file's
/// result. Returns every file's result, the last compile when every file loaded, and
/// the collector.
pub fn load_in_order<'f>(
    files: impl IntoIterator<Item = (&'f str, &'f str)>,
    env: &LoaderEnv<'_>,
    opts: &CompileOptions<'_>,
    keep_going: bool,
    on_file: impl FnMut(&LoadResult),
) -> (Vec<LoadResult>, Option<CompiledRules>, Collector) {
    let mut collector = Collector::default();
    let outcomes = files.into_iter().map(|(name, content)| {
        let mut res = LoadResult::new(name, content);
        let compiled = if collector.read(env, &mut res) {
            compile(&collector, opts, &mut res)
        } else {
            None
        };
        (res, compiled)
    });
    let (results, compiled) = take_in_file_order(outcomes, keep_going, on_file);
    (results, compiled, collector)
}

fn compile_inner(
    collector: &Collector,
    opts: &CompileOptions<'_>,
    res: &mut LoadResult,
) -> Result<CompiledRules, Fail> {
    // Step A: lists, one level of expansion.
    let mut used_lists: HashSet<String> = HashSet::default();
    let mut lists: Vec<(String, Vec<String>)> = Vec::with_capacity(collector.lists.len());
    for list in collector.lists.values() {
        let mut items = Vec::new();
        for item in &list.items {
            match collector.lists.get(item) {
                Some(r) if r.index < list.visibility => {
                    used_lists.insert(r.name.clone());
                    items.extend(r.items.iter().cloned());
                }
                _ => items.push(item.clone()),
            }
        }
        lists.push((list.name.clone(), items));
    }
    // resolve_list only replaces a name standing between delimiters, i.e. a whole token:
    // the lists are applied in order, but only those whose name is a token of the text
    // as it is at that point (found by looking the text's tokens up), plus the rare lists
    // whose name holds a delimiter, without a substring search per list.
    let list_index: HashMap<&str, usize> = lists
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (name.as_str(), i))
        .collect();
    let odd_lists: Vec<usize> = (0..lists.len())
        .filter(|&i| lists[i].0.bytes().any(is_list_delim))
        .collect();
    // Applying a list only replaces its name, between blanks, by its items: the text's
    // other tokens stay, and the new ones are those of the items. So the lists to apply
    // after list i are found from the text's tokens once plus the tokens each applied
    // list brings, instead of re-reading the whole (growing) text after each list.
    let item_refs: Vec<Vec<usize>> = lists
        .iter()
        .map(|(_, items)| {
            let text = items.iter().map(|v| quote_item(v)).collect::<Vec<_>>();
            let text = text.join(", ");
            list_tokens(&text)
                .filter_map(|t| list_index.get(t).copied())
                .collect()
        })
        .collect();
    let substitute = |text: &str, used: &mut HashSet<String>| -> String {
        let mut s = text.to_string();
        let mut pending: BTreeSet<usize> = list_tokens(&s)
            .filter_map(|t| list_index.get(t).copied())
            .chain(odd_lists.iter().copied())
            .collect();
        while let Some(i) = pending.pop_first() {
            let (name, items) = &lists[i];
            if resolve_list(&mut s, name, items) {
                used.insert(name.clone());
                pending.extend(item_refs[i].iter().copied().filter(|&j| j > i));
            }
        }
        s
    };

    // Macros: parse all, then resolve in order with visibility.
    let mut parsed_macros: HashMap<String, Arc<Expr>> = HashMap::default();
    let mut macro_asts: HashMap<String, Expr> = HashMap::default();
    let mut macro_texts: HashMap<String, String> = HashMap::default();
    for m in collector.macros.values() {
        let text = substitute(&m.cond, &mut used_lists);
        let ast = opts.parsed.parse(&text).map_err(|e| Fail {
            code: ErrorCode::CompileCondition,
            msg: e.message.clone(),
            ctx: m
                .cond_ctx
                .condition(&text, e.pos.index, e.pos.line, e.pos.column),
        })?;
        parsed_macros.insert(m.name.clone(), ast);
        macro_texts.insert(m.name.clone(), text);
    }
    let mut used_macros: HashSet<String> = HashSet::default();
    for m in collector.macros.values() {
        let visibility = m.visibility;
        let resolved = {
            // Macro bodies are borrowed while resolving, not copied per reference: the
            // resolved body of a macro resolved before this one, else its parsed body.
            let Some(ast) = parsed_macros.get(&m.name) else {
                continue;
            };
            let visible = |name: &str| -> Option<&Expr> {
                collector
                    .macros
                    .get(name)
                    .filter(|other| other.index < visibility)
                    .and_then(|other| {
                        macro_asts
                            .get(&other.name)
                            .or_else(|| parsed_macros.get(&other.name).map(|a| &**a))
                    })
            };
            let mut path = vec![m.name.as_str()];
            resolve_macros(ast, &visible, &mut path, &mut used_macros, 0)
        };
        match resolved {
            Ok(r) => {
                macro_asts.insert(m.name.clone(), r);
            }
            Err((msg, span)) => {
                let text = macro_texts.get(&m.name).cloned().unwrap_or_default();
                let (line, col) = line_col(&text, span.start as usize);
                return Err(Fail {
                    code: ErrorCode::Validate,
                    msg,
                    ctx: m.ctx.condition(&text, span.start as usize, line, col),
                });
            }
        }
    }

    // Rules.
    let scope = RuleScope {
        parsed: opts.parsed,
        substitute: &substitute,
        macro_asts: &macro_asts,
        collector,
    };
    let mut builder = ProgramBuilder::new(opts.catalog);
    let mut rules = Vec::new();
    for r in collector.rules.values() {
        if r.unknown_source {
            if (opts.source_not_served)(&r.source) {
                check_not_served_rule(&scope, r, &mut used_lists, &mut used_macros, res)?;
            }
            continue;
        }
        if let Some(rule) = compile_rule(
            r,
            opts,
            &mut builder,
            &scope,
            &mut used_lists,
            &mut used_macros,
            res,
        )? {
            rules.push(rule);
        }
    }

    for m in collector.macros.values() {
        if !used_macros.contains(&m.name) {
            res.warn(
                WarningCode::UnusedMacro,
                "Macro not referred to by any other rule/macro",
                m.ctx.clone(),
            );
        }
    }
    for l in collector.lists.values() {
        if !used_lists.contains(&l.name) {
            res.warn(
                WarningCode::UnusedList,
                "List not referred to by any other rule/macro",
                l.ctx.clone(),
            );
        }
    }
    let macros = collector
        .macros
        .values()
        .filter_map(|m| macro_asts.remove(&m.name).map(|a| (m.name.clone(), a)))
        .collect();
    Ok(CompiledRules {
        program: builder.finish(),
        rules,
        macros,
        lists,
    })
}

/// The first unknown syscall field or event type of a resolved condition, in
/// evaluation order, with Falco's message.
fn syscall_unknown(expr: &Expr) -> Option<(String, Span)> {
    fn operand(o: &Operand) -> Option<(String, Span)> {
        match o {
            Operand::Field(f) if !crate::syscall::is_field(&f.name) => Some((
                format!("filter_check called with nonexistent field {}", f.name),
                f.span,
            )),
            Operand::Field(_) | Operand::Literal(..) => None,
            Operand::Transform { args, .. } | Operand::List(args, _) => {
                args.iter().find_map(operand)
            }
        }
    }
    match expr {
        Expr::And(c, _) | Expr::Or(c, _) => c.iter().find_map(syscall_unknown),
        Expr::Not(c, _) => syscall_unknown(c),
        Expr::Macro(..) => None,
        Expr::Check(c) => {
            if let Some(u) = operand(&c.lhs) {
                return Some(u);
            }
            let is_evt_type = matches!(&c.lhs, Operand::Field(f) if f.name == "evt.type");
            match &c.rhs {
                Rhs::Field(o) => operand(o),
                Rhs::Value(v, span) if is_evt_type && !crate::syscall::is_event_type(v) => {
                    Some((format!("unknown event type {v}"), *span))
                }
                Rhs::List(vs, span) | Rhs::Modified(_, vs, span) if is_evt_type => vs
                    .iter()
                    .find(|v| !crate::syscall::is_event_type(v))
                    .map(|v| (format!("unknown event type {v}"), *span)),
                _ => None,
            }
        }
    }
}

/// The first `%field` of an output format that is not a syscall field (Falco's
/// `invalid formatting token`). Transformer tokens (`%tolower(...)`) are not checked.
fn syscall_output_unknown(output: &str) -> Option<String> {
    let b = output.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'.' || b[j] == b'_') {
            j += 1;
        }
        let name = output.get(start..j).unwrap_or("");
        let transformer = b.get(j) == Some(&b'(');
        if !name.is_empty() && !transformer && !crate::syscall::is_field(name) {
            return Some(format!("invalid formatting token {name}"));
        }
        i = j.max(i + 1);
    }
    None
}

/// Checks a rule of a not-served source as far as possible without its field table:
/// exception rewrite, list substitution, parsing and macro resolution (marking the
/// macros and lists it uses, as Falco's compile of that rule would).
fn check_not_served_rule(
    scope: &RuleScope<'_>,
    r: &RuleInfo,
    used_lists: &mut HashSet<String>,
    used_macros: &mut HashSet<String>,
    res: &mut LoadResult,
) -> Result<(), Fail> {
    if r.source == "syscall" {
        if let Some(msg) = syscall_output_unknown(&r.output) {
            if r.skip_if_unknown_filter {
                res.warn(WarningCode::UnknownFilter, msg, r.output_ctx.clone());
                return Ok(());
            }
            return Err(Fail {
                code: ErrorCode::CompileOutput,
                msg,
                ctx: r.output_ctx.clone(),
            });
        }
    }
    let mut condition = r.cond.clone();
    if !r.exceptions.is_empty() {
        build_exceptions(&r.exceptions, &mut BTreeSet::new(), &mut condition)?;
    }
    let (text, resolved) = parse_and_resolve(scope, r, &condition, used_lists, used_macros)?;
    if r.source == "syscall" {
        if let Some((msg, span)) = syscall_unknown(&resolved) {
            let (line, col) = line_col(&text, span.start as usize);
            let ctx = r.cond_ctx.condition(&text, span.start as usize, line, col);
            if r.skip_if_unknown_filter {
                res.warn(WarningCode::UnknownFilter, msg, ctx);
                return Ok(());
            }
            return Err(Fail {
                code: ErrorCode::CompileCondition,
                msg,
                ctx,
            });
        }
        // An empty set means the condition can never hold, not that it is too broad.
        if r.warn_evttypes
            && crate::syscall::event_type_count(&resolved) > crate::syscall::NO_EVTTYPE_THRESHOLD
        {
            res.warn(
                WarningCode::NoEvttype,
                "Rule matches too many evt.type values. This has a significant performance penalty.",
                r.ctx.clone(),
            );
        }
    }
    Ok(())
}

/// What the rules of a compile read: the parse memo, the list substitution and the
/// resolved macros of everything collected.
struct RuleScope<'s> {
    parsed: &'s ParseMemo,
    substitute: &'s dyn Fn(&str, &mut HashSet<String>) -> String,
    macro_asts: &'s HashMap<String, Expr>,
    collector: &'s Collector,
}

/// List substitution, parsing and macro resolution of a rule condition, with Falco's
/// error codes and contexts. Returns the text the parser saw and the resolved AST.
fn parse_and_resolve(
    scope: &RuleScope<'_>,
    r: &RuleInfo,
    condition: &str,
    used_lists: &mut HashSet<String>,
    used_macros: &mut HashSet<String>,
) -> Result<(String, Expr), Fail> {
    let RuleScope {
        parsed,
        substitute,
        macro_asts,
        collector,
    } = scope;
    let text = substitute(condition, used_lists);
    let ast = parsed.parse(&text).map_err(|e| Fail {
        code: ErrorCode::CompileCondition,
        msg: e.message.clone(),
        ctx: r
            .cond_ctx
            .condition(&text, e.pos.index, e.pos.line, e.pos.column),
    })?;
    let visible = |name: &str| -> Option<&Expr> {
        collector
            .macros
            .get(name)
            .and_then(|m| macro_asts.get(&m.name))
    };
    let resolved = resolve_macros(&ast, &visible, &mut Vec::new(), used_macros, 0).map_err(
        |(msg, span)| {
            let (line, col) = line_col(&text, span.start as usize);
            Fail {
                code: ErrorCode::Validate,
                msg,
                ctx: r.ctx.condition(&text, span.start as usize, line, col),
            }
        },
    )?;
    Ok((text, resolved))
}

fn line_col(text: &str, index: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..index.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

fn unknown_field_error(msg: &str) -> bool {
    [
        "nonexistent field",
        "invalid formatting token",
        "unknown event type",
        "unknown filter:",
    ]
    .iter()
    .any(|p| msg.contains(p))
}

fn compile_rule(
    r: &RuleInfo,
    opts: &CompileOptions<'_>,
    builder: &mut ProgramBuilder<'_>,
    scope: &RuleScope<'_>,
    used_lists: &mut HashSet<String>,
    used_macros: &mut HashSet<String>,
    res: &mut LoadResult,
) -> Result<Option<CompiledRule>, Fail> {
    let mut condition = r.cond.clone();
    let mut exception_fields = BTreeSet::new();
    if !r.exceptions.is_empty() {
        build_exceptions(&r.exceptions, &mut exception_fields, &mut condition)?;
    }
    let mut output = r.output.clone();
    for extra in opts.append_output {
        if !extra.source.is_empty() && extra.source != r.source {
            continue;
        }
        if !extra.tags.is_subset(&r.tags) {
            continue;
        }
        if !extra.rule.is_empty() && extra.rule != r.name {
            continue;
        }
        output.push(' ');
        output.push_str(&extra.extra_output);
    }
    if output.contains("%container.info") {
        res.warn(
            WarningCode::DeprecatedItem,
            "%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. The container plugin will automatically add required fields to the output message.",
            r.ctx.clone(),
        );
        output = output.replace("%container.info", "");
    }
    let output_id = match builder.add_output(&output) {
        Ok(id) => id,
        Err(msg) => {
            if unknown_field_error(&msg) && r.skip_if_unknown_filter {
                res.warn(WarningCode::UnknownFilter, msg, r.output_ctx.clone());
                return Ok(None);
            }
            return Err(Fail {
                code: ErrorCode::CompileOutput,
                msg,
                ctx: r.output_ctx.clone(),
            });
        }
    };
    let (text, resolved) = parse_and_resolve(scope, r, &condition, used_lists, used_macros)?;
    if has_unsafe_na_check(&resolved).is_some() {
        res.warn(
            WarningCode::UnsafeNaCheck,
            "",
            r.cond_ctx.condition(&text, 0, 0, 0),
        );
    }
    let (filter, warnings) = match builder.add_filter(&resolved) {
        Ok(x) => x,
        Err(e) => {
            let (line, col) = line_col(&text, e.span.start as usize);
            let ctx = r
                .cond_ctx
                .condition(&text, e.span.start as usize, line, col);
            if unknown_field_error(&e.message) && r.skip_if_unknown_filter {
                res.warn(WarningCode::UnknownFilter, e.message, ctx);
                return Ok(None);
            }
            return Err(Fail {
                code: ErrorCode::CompileCondition,
                msg: e.message,
                ctx,
            });
        }
    };
    for w in warnings {
        let (line, col) = line_col(&text, w.span.start as usize);
        res.warn(
            WarningCode::CompileCondition,
            w.message,
            r.cond_ctx
                .condition(&text, w.span.start as usize, line, col),
        );
    }
    Ok(Some(CompiledRule {
        name: r.name.clone(),
        desc: r.desc.clone(),
        priority: r.priority,
        source: r.source.clone(),
        tags: r.tags.clone(),
        enabled: r.enabled,
        filter,
        output: output_id,
        output_text: output,
        condition,
        exception_fields,
    }))
}

#[cfg(test)]
mod tests {
    use super::{resolve_list, ParseMemo};
    use std::sync::Arc;

    #[test]
    fn parse_memo_returns_the_first_parse_of_a_text() {
        let memo = ParseMemo::default();
        let first = memo.parse("ka.verb = get").expect("parses");
        let again = memo.parse("ka.verb = get").expect("parses");
        assert!(Arc::ptr_eq(&first, &again));
        let other = memo.parse("ka.verb = list").expect("parses");
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(
            *first,
            falco_rs_syntax::parse_condition("ka.verb = get").expect("parses")
        );
        // Failures are not kept: each parse of a bad text reports its error.
        let bad = memo.parse("ka.verb =").expect_err("fails");
        assert_eq!(memo.parse("ka.verb =").expect_err("fails"), bad);
        assert_eq!(memo.memo().len(), 2);
    }

    fn sub(cond: &str, name: &str, items: &[&str]) -> String {
        let mut s = cond.to_string();
        let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        resolve_list(&mut s, name, &items);
        s
    }

    #[test]
    fn falco_resolve_list_vectors() {
        assert_eq!(sub("x in (C)", "C", &["A", "y", "z"]), "x in ( A, y, z )");
        assert_eq!(sub("x in (empty)", "empty", &[]), "x in (  )");
        assert_eq!(sub("x in (p, empty)", "empty", &[]), "x in (p  )");
        assert_eq!(sub("x in (p, empty, q)", "empty", &[]), "x in (p  , q)");
        assert_eq!(
            sub("ka.verb = \"hello B world\"", "B", &["x1"]),
            "ka.verb = \"hello x1 world\""
        );
        assert_eq!(sub("ka.verb = \"B\"", "B", &["x1"]), "ka.verb = \"B\"");
        assert_eq!(sub("ka.verb=B", "B", &["x1", "y"]), "ka.verb= x1, y ");
        assert_eq!(
            sub("x in (L)", "L", &["a b", "'c d'"]),
            "x in ( \"a b\", 'c d' )"
        );
        assert_eq!(sub("x in (LL, L)", "L", &["a"]), "x in (LL, a )");
    }
}
