//! Reading rules files into the collector (Falco `rule_loader::reader` and
//! `rule_loader::collector`): item kinds, key decoding, `append`, `override`,
//! `enabled`, exceptions, engine and plugin requirements.

use crate::model::{
    ExceptionEntry, ExceptionInfo, ListInfo, MacroInfo, Priority, RuleInfo, Version,
};
use crate::result::{Context, ErrorCode, ItemType, LoadResult, WarningCode};
use crate::yaml::{self, Node, NodeKind};
use indexmap::IndexMap;
use std::collections::BTreeSet;

const WARNING_APPEND: &str = "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const WARNING_ENABLED: &str = "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').";
const ERROR_OVERRIDE_APPEND: &str = "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const ERROR_NO_PREVIOUS_MACRO: &str =
    "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists";
const ERROR_NO_PREVIOUS_LIST: &str =
    "List uses 'append' or 'override.items: append' but no list by that name already exists";
const ERROR_NO_PREVIOUS_RULE_APPEND: &str =
    "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists";
const ERROR_NO_PREVIOUS_RULE_REPLACE: &str =
    "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists";

/// Comparison operators accepted in exception `comps` (libsinsp `supported_operators`).
pub const SUPPORTED_OPERATORS: [&str; 20] = [
    "exists",
    "<=",
    "<",
    ">=",
    ">",
    "==",
    "=",
    "!=",
    "glob",
    "iglob",
    "contains",
    "icontains",
    "bcontains",
    "startswith",
    "bstartswith",
    "endswith",
    "regex",
    "intersects",
    "in",
    "pmatch",
];

/// Operators that accept a modifier (`<op> oneof|anyof|allof`).
const MODIFIABLE_OPERATORS: [&str; 12] = [
    "=",
    "==",
    "!=",
    "contains",
    "icontains",
    "bcontains",
    "startswith",
    "bstartswith",
    "endswith",
    "glob",
    "iglob",
    "regex",
];

/// Whether `op` is `<string operator> oneof|anyof|allof`.
pub fn is_str_operator_with_modifier(op: &str) -> bool {
    let mut parts = op.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(base), Some(m), None) => {
            MODIFIABLE_OPERATORS.contains(&base) && matches!(m, "oneof" | "anyof" | "allof")
        }
        _ => false,
    }
}

/// Environment of the loader: which sources exist and how fields are validated.
pub struct LoaderEnv<'a> {
    /// The engine version rules are checked against.
    pub engine_version: Version,
    /// Whether `source` is a known event source.
    pub source_known: &'a dyn Fn(&str) -> bool,
    /// Sources Falco always has (e.g. `syscall`) that falco-rs does not serve: their
    /// rules are kept uncompiled without an "unknown source" warning, and their
    /// conditions still mark the macros and lists they use.
    pub source_not_served: &'a dyn Fn(&str) -> bool,
    /// Whether `field` is a valid left-hand field expression of `source`.
    pub lhs_field_valid: &'a dyn Fn(&str, &str) -> bool,
}

/// One alternative of a plugin requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRequirement {
    /// Plugin name.
    pub name: String,
    /// Minimum version (semver text).
    pub version: String,
}

/// The collector's item maps: by name, in first-definition order. Keyed with foldhash:
/// the rule load looks names up thousands of times, and SipHash's flooding resistance
/// buys nothing against the operator's own rules files.
pub type ItemMap<T> = IndexMap<String, T, foldhash::fast::RandomState>;

/// Everything read so far from all files (Falco keeps one collector across files).
#[derive(Debug, Default, Clone)]
pub struct Collector {
    /// Lists by name, in first-definition order.
    pub lists: ItemMap<ListInfo>,
    /// Macros by name, in first-definition order.
    pub macros: ItemMap<MacroInfo>,
    /// Rules by name, in first-definition order.
    pub rules: ItemMap<RuleInfo>,
    /// Highest `required_engine_version` seen.
    pub required_engine_version: Option<Version>,
    /// Plugin requirement groups, `[main, alternatives...]`.
    pub required_plugin_versions: Vec<Vec<PluginRequirement>>,
    cur_index: u32,
    /// Offsets inside top-level items that [`Collector::read_skipping`] leaves out.
    skip: Vec<usize>,
}

struct Fail {
    code: ErrorCode,
    msg: String,
    ctx: Context,
}

type R<T> = Result<T, Fail>;

fn fail<T>(code: ErrorCode, msg: impl Into<String>, ctx: &Context) -> R<T> {
    Err(Fail {
        code,
        msg: msg.into(),
        ctx: ctx.clone(),
    })
}

fn yaml_err<T>(msg: impl Into<String>, ctx: &Context) -> R<T> {
    fail(ErrorCode::YamlValidate, msg, ctx)
}

fn validate_err<T>(msg: impl Into<String>, ctx: &Context) -> R<T> {
    fail(ErrorCode::Validate, msg, ctx)
}

/// Decodes a required non-empty scalar.
fn decode_str(item: &Node, key: &str, ctx: &Context) -> R<String> {
    match decode_opt_str(item, key, ctx)? {
        Some(s) => Ok(s),
        None => yaml_err(format!("Item has no mapping for key '{key}'"), ctx),
    }
}

/// Decodes an optional non-empty scalar.
fn decode_opt_str(item: &Node, key: &str, ctx: &Context) -> R<Option<String>> {
    let Some(val) = item.get(key) else {
        return Ok(None);
    };
    if val.is_null() {
        return yaml_err(format!("Mapping for key '{key}' is empty"), ctx);
    }
    let valctx = ctx.child(val.mark, ItemType::ValueFor, key);
    match val.as_str() {
        None => yaml_err("Value is not a scalar value", &valctx),
        Some("") => yaml_err("Value must be non-empty", &valctx),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// Decodes an optional scalar that may be null or empty (`source` in update paths).
fn decode_opt_empty_str(item: &Node, key: &str, ctx: &Context) -> R<String> {
    let Some(val) = item.get(key) else {
        return Ok(String::new());
    };
    if val.is_null() {
        return Ok(String::new());
    }
    let valctx = ctx.child(val.mark, ItemType::ValueFor, key);
    match val.as_str() {
        None => yaml_err("Value is not a scalar value", &valctx),
        Some(s) => Ok(s.to_string()),
    }
}

fn decode_opt_bool(item: &Node, key: &str, ctx: &Context) -> R<Option<bool>> {
    let Some(s) = decode_opt_str(item, key, ctx)? else {
        return Ok(None);
    };
    let _ = s;
    match item.get(key).and_then(Node::as_bool) {
        Some(b) => Ok(Some(b)),
        None => {
            let valctx = ctx.child(
                item.get(key).map(|v| v.mark).unwrap_or_default(),
                ItemType::ValueFor,
                key,
            );
            yaml_err("Can't decode YAML scalar value", &valctx)
        }
    }
}

fn decode_bool(item: &Node, key: &str, ctx: &Context) -> R<bool> {
    match decode_opt_bool(item, key, ctx)? {
        Some(b) => Ok(b),
        None => yaml_err(format!("Item has no mapping for key '{key}'"), ctx),
    }
}

fn decode_opt_u64(item: &Node, key: &str, ctx: &Context) -> R<Option<u64>> {
    if decode_opt_str(item, key, ctx)?.is_none() {
        return Ok(None);
    }
    match item.get(key).and_then(Node::as_u64) {
        Some(n) => Ok(Some(n)),
        None => {
            let valctx = ctx.child(
                item.get(key).map(|v| v.mark).unwrap_or_default(),
                ItemType::ValueFor,
                key,
            );
            yaml_err("Can't decode YAML scalar value", &valctx)
        }
    }
}

/// Decodes a sequence of scalars (`items`, `tags`).
fn decode_seq(item: &Node, key: &str, ctx: &Context, optional: bool) -> R<Option<Vec<String>>> {
    let Some(val) = item.get(key) else {
        if optional {
            return Ok(None);
        }
        return yaml_err(format!("Item has no mapping for key '{key}'"), ctx);
    };
    let valctx = ctx.child(val.mark, ItemType::ValueFor, key);
    let Some(seq) = val.as_seq() else {
        return yaml_err("Value is not a sequence", &valctx);
    };
    let mut out = Vec::with_capacity(seq.len());
    for v in seq {
        let ictx = valctx.child(v.mark, ItemType::ListItem, "");
        match v.as_str() {
            Some(s) => out.push(s.to_string()),
            None => return yaml_err("sequence value is not scalar", &ictx),
        }
    }
    Ok(Some(out))
}

/// The keys listed under `override`, split by operation.
#[derive(Default)]
struct Overrides {
    append: BTreeSet<String>,
    replace: BTreeSet<String>,
}

fn decode_overrides(
    item: &Node,
    can_append: &[&str],
    can_replace: &[&str],
    ctx: &Context,
) -> R<Overrides> {
    let mut out = Overrides::default();
    let Some(val) = item.get("override") else {
        return Ok(out);
    };
    let overridectx = ctx.child(item.mark, ItemType::Overrides, "");
    let Some(entries) = val.as_map() else {
        return Ok(out);
    };
    for (k, v) in entries {
        let key = k.as_str().unwrap_or_default().to_string();
        let Some(operation) = v.as_str() else {
            return validate_err("bad conversion", &overridectx);
        };
        let appendable = can_append.contains(&key.as_str());
        let replaceable = can_replace.contains(&key.as_str());
        let keyctx = overridectx.child(k.mark, ItemType::Overrides, &key);
        match operation {
            "append" => {
                if !appendable {
                    return yaml_err(
                        format!("Key '{key}' cannot be appended to, use 'replace' instead"),
                        &keyctx,
                    );
                }
                out.append.insert(key);
            }
            "replace" => {
                if !replaceable {
                    return yaml_err(format!("Key '{key}' cannot be replaced"), &keyctx);
                }
                out.replace.insert(key);
            }
            other => {
                let opctx = overridectx.child(v.mark, ItemType::ValueFor, &key);
                let mut msg = format!(
                    "Invalid override operation for key '{key}': '{other}'. Allowed values are: "
                );
                if appendable {
                    msg.push_str("append ");
                }
                if replaceable {
                    msg.push_str("replace ");
                }
                return yaml_err(msg, &opctx);
            }
        }
    }
    Ok(out)
}

fn decode_exception_entry(val: &Node, key: &str, ctx: &Context) -> R<ExceptionEntry> {
    let valctx = ctx.child(val.mark, ItemType::ValueFor, key);
    let mut out = ExceptionEntry {
        defined: true,
        ..Default::default()
    };
    match &val.kind {
        NodeKind::Scalar { value, .. } => {
            if value.is_empty() {
                return yaml_err("Value must be non-empty", &valctx);
            }
            out.item = value.clone();
        }
        NodeKind::Seq(items) => {
            out.is_list = true;
            for v in items {
                let lctx = valctx.child(v.mark, ItemType::Exception, "");
                out.items.push(decode_exception_entry(v, "", &lctx)?);
            }
        }
        // yaml-cpp leaves nulls and maps as an undecoded, empty entry.
        _ => {}
    }
    Ok(out)
}

fn read_exceptions(
    item: &Node,
    parent: &Context,
    append: bool,
    res: &mut LoadResult,
) -> R<Option<Vec<ExceptionInfo>>> {
    let Some(exs) = item.get("exceptions") else {
        return Ok(None);
    };
    if exs.is_null() {
        return Ok(Some(Vec::new()));
    }
    let exes_ctx = parent.child(exs.mark, ItemType::Exceptions, "");
    let Some(seq) = exs.as_seq() else {
        return yaml_err("Rule exceptions must be a sequence", &exes_ctx);
    };
    let mut out: Vec<ExceptionInfo> = Vec::new();
    for ex in seq {
        let tmp = exes_ctx.child(ex.mark, ItemType::Exception, "");
        if !ex.is_map() {
            return yaml_err("Rule exception must be a mapping", &tmp);
        }
        let name = decode_str(ex, "name", &tmp)?;
        let ex_ctx = parent.child(ex.mark, ItemType::Exception, &name);
        if out.iter().any(|e| e.name == name) {
            res.warn(
                WarningCode::ExceptionNameNotUnique,
                format!("Multiple definitions of exception '{name}' in the same rule"),
                ex_ctx.clone(),
            );
        }
        let fields = match ex.get("fields") {
            Some(f) => decode_exception_entry(f, "fields", &ex_ctx)?,
            None if append => ExceptionEntry::default(),
            None => return yaml_err("Item has no mapping for key 'fields'", &ex_ctx),
        };
        let comps = match ex.get("comps") {
            Some(c) => decode_exception_entry(c, "comps", &ex_ctx)?,
            None => ExceptionEntry::default(),
        };
        let mut values = Vec::new();
        match ex.get("values") {
            Some(vals) => {
                let vals_ctx = ex_ctx.child(vals.mark, ItemType::ExceptionValues, "");
                let Some(vseq) = vals.as_seq() else {
                    return yaml_err("Rule exception values must be a sequence", &vals_ctx);
                };
                for v in vseq {
                    let vctx = vals_ctx.child(v.mark, ItemType::ExceptionValue, "");
                    values.push(decode_exception_entry(v, "", &vctx)?);
                }
            }
            None if append => res.warn(
                WarningCode::AppendNoValues,
                "Overriding/appending exception with no values",
                ex_ctx.clone(),
            ),
            None => {}
        }
        out.push(ExceptionInfo {
            name,
            fields,
            comps,
            values,
            ctx: ex_ctx,
        });
    }
    Ok(Some(out))
}

fn warn_unknown_keys(item: &Node, expected: &[&str], ctx: &Context, res: &mut LoadResult) {
    if let Some(entries) = item.as_map() {
        for (k, _) in entries {
            let key = k.as_str().unwrap_or_default();
            if !expected.contains(&key) {
                res.warn(
                    WarningCode::UnknownKey,
                    format!("Unknown key '{key}'. The key will be ignored."),
                    ctx.clone(),
                );
            }
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

fn is_bare_string(s: &str) -> bool {
    !s.is_empty()
        && !s.bytes().any(|c| {
            matches!(c, b'(' | b')' | b'"' | b'\'' | b'=' | b',') || c.is_ascii_whitespace()
        })
}

/// An update of an existing rule (append or selective replace).
#[derive(Default)]
struct RuleUpdate {
    name: String,
    source: String,
    cond: Option<String>,
    output: Option<String>,
    desc: Option<String>,
    tags: Option<BTreeSet<String>>,
    exceptions: Option<Vec<ExceptionInfo>>,
    priority: Option<Priority>,
    capture: Option<bool>,
    capture_duration: Option<u64>,
    enabled: Option<bool>,
    warn_evttypes: Option<bool>,
    skip_if_unknown_filter: Option<bool>,
    ctx: Option<Context>,
    cond_ctx: Option<Context>,
}

impl RuleUpdate {
    fn has_any_value(&self) -> bool {
        self.cond.as_ref().is_some_and(|c| !c.is_empty())
            || self.exceptions.is_some()
            || self.output.is_some()
            || self.desc.is_some()
            || self.tags.is_some()
            || self.priority.is_some()
            || self.capture.is_some()
            || self.capture_duration.is_some()
            || self.enabled.is_some()
            || self.warn_evttypes.is_some()
            || self.skip_if_unknown_filter.is_some()
    }
}

const RULE_APPENDABLE: [&str; 5] = ["condition", "output", "desc", "tags", "exceptions"];
const RULE_REPLACEABLE: [&str; 11] = [
    "condition",
    "output",
    "desc",
    "priority",
    "capture",
    "capture_duration",
    "tags",
    "exceptions",
    "enabled",
    "warn_evttypes",
    "skip-if-unknown-filter",
];

impl Collector {
    /// Reads one rules file into the collector, recording problems in `res`
    /// (whose `content` is the file text). Stops at the first error, as Falco does.
    pub fn read(&mut self, env: &LoaderEnv<'_>, res: &mut LoadResult) -> bool {
        self.read_skipping(env, res, &[])
    }

    /// Like [`Collector::read`], but leaves out every top-level item whose text
    /// contains one of the byte offsets in `skip` (the diagnostics' recovery pass uses
    /// it to look past an item that failed).
    pub fn read_skipping(
        &mut self,
        env: &LoaderEnv<'_>,
        res: &mut LoadResult,
        skip: &[usize],
    ) -> bool {
        self.skip = skip.to_vec();
        let ok = self.read_docs(env, res);
        self.skip.clear();
        ok
    }

    fn read_docs(&mut self, env: &LoaderEnv<'_>, res: &mut LoadResult) -> bool {
        let root = Context::file(&res.name);
        let content = res.content.clone();
        let docs = match yaml::load_all(&content) {
            Ok(d) => d,
            Err(e) => {
                let ctx = root.child(e.mark, ItemType::ValueFor, "");
                res.error(ErrorCode::YamlParse, e.message, ctx);
                return false;
            }
        };
        // Start offsets of every top-level item, for `skip`.
        let starts: Vec<usize> = docs
            .iter()
            .filter_map(|d| d.as_seq())
            .flatten()
            .map(|i| i.mark.offset)
            .collect();
        let skipped = |offset: usize| -> bool {
            let pos = starts.iter().position(|&s| s == offset);
            let end = pos
                .and_then(|p| starts.get(p + 1))
                .copied()
                .unwrap_or(usize::MAX);
            self.skip.iter().any(|&o| o >= offset && o < end)
        };
        let skipped: Vec<bool> = starts.iter().map(|&o| skipped(o)).collect();
        let mut item_no = 0usize;
        for doc in &docs {
            if doc.is_null() {
                continue;
            }
            let outcome = (|| -> R<()> {
                let Some(items) = doc.as_seq() else {
                    if doc.is_map() {
                        return yaml_err("Rules content is not yaml array of objects", &root);
                    }
                    return yaml_err("Rules content is not yaml", &root);
                };
                for item in items {
                    let skip = skipped.get(item_no).copied().unwrap_or(false);
                    item_no += 1;
                    if !item.is_null() && !skip {
                        self.read_item(env, item, &root, res)?;
                    }
                }
                Ok(())
            })();
            if let Err(f) = outcome {
                res.error(f.code, f.msg, f.ctx);
                return false;
            }
        }
        true
    }

    fn next_index(&mut self) -> u32 {
        let i = self.cur_index;
        self.cur_index += 1;
        i
    }

    fn read_item(
        &mut self,
        env: &LoaderEnv<'_>,
        item: &Node,
        parent: &Context,
        res: &mut LoadResult,
    ) -> R<()> {
        let itemctx = parent.child(item.mark, ItemType::RulesContentItem, "");
        if !item.is_map() {
            return yaml_err(
                "Unexpected element type. Each element should be a yaml associative array.",
                &itemctx,
            );
        }
        if item.get("required_engine_version").is_some() {
            self.read_engine_version(env, item, parent, res)
        } else if let Some(reqs) = item.get("required_plugin_versions") {
            self.read_plugin_versions(item, reqs, parent, res)
        } else if item.get("list").is_some() {
            self.read_list(item, parent, res)
        } else if item.get("macro").is_some() {
            self.read_macro(item, parent, res)
        } else if item.get("rule").is_some() {
            self.read_rule(env, item, parent, res)
        } else {
            res.warn(WarningCode::UnknownItem, "Unknown top level item", itemctx);
            Ok(())
        }
    }

    fn read_engine_version(
        &mut self,
        env: &LoaderEnv<'_>,
        item: &Node,
        parent: &Context,
        res: &mut LoadResult,
    ) -> R<()> {
        let ctx = parent.child(item.mark, ItemType::RequiredEngineVersion, "");
        let text = decode_str(item, "required_engine_version", &ctx)?;
        let version = match item.get("required_engine_version").and_then(Node::as_u64) {
            Some(n) if n <= u64::from(u32::MAX) => Version {
                major: 0,
                minor: n,
                patch: 0,
            },
            _ => match Version::parse(&text) {
                Some(v) => v,
                None => {
                    return yaml_err(
                        format!("Unable to parse engine version '{text}' as a semver string. Expected \"x.y.z\" semver format."),
                        &ctx,
                    )
                }
            },
        };
        if !env.engine_version.compatible_with(&version) {
            return validate_err(
                format!(
                    "Rules require engine version {version}, but engine version is {}",
                    env.engine_version
                ),
                &ctx,
            );
        }
        if self.required_engine_version.is_none_or(|v| v < version) {
            self.required_engine_version = Some(version);
        }
        warn_unknown_keys(item, &["required_engine_version"], &ctx, res);
        Ok(())
    }

    fn read_plugin_versions(
        &mut self,
        item: &Node,
        reqs: &Node,
        parent: &Context,
        res: &mut LoadResult,
    ) -> R<()> {
        let ctx = parent.child(reqs.mark, ItemType::RequiredPluginVersions, "");
        let Some(seq) = reqs.as_seq() else {
            return yaml_err("Value of required_plugin_versions must be a sequence", &ctx);
        };
        for plugin in seq {
            let tmp = ctx.child(plugin.mark, ItemType::RequiredPluginVersionsEntry, "");
            if !plugin.is_map() {
                return yaml_err("Plugin version must be a mapping", &tmp);
            }
            let name = decode_str(plugin, "name", &tmp)?;
            let pctx = ctx.child(plugin.mark, ItemType::RequiredPluginVersionsEntry, &name);
            let version = decode_str(plugin, "version", &pctx)?;
            let mut group = vec![PluginRequirement { name, version }];
            if let Some(alts) = plugin.get("alternatives") {
                let Some(alts) = alts.as_seq() else {
                    return yaml_err(
                        "Value of plugin version alternatives must be a sequence",
                        &pctx,
                    );
                };
                for alt in alts {
                    let tmp = pctx.child(alt.mark, ItemType::RequiredPluginVersionsAlternative, "");
                    if !alt.is_map() {
                        return yaml_err("Plugin version alternative must be a mapping", &tmp);
                    }
                    let name = decode_str(alt, "name", &tmp)?;
                    let actx =
                        pctx.child(alt.mark, ItemType::RequiredPluginVersionsAlternative, &name);
                    let version = decode_str(alt, "version", &actx)?;
                    group.push(PluginRequirement { name, version });
                }
            }
            let mut seen = BTreeSet::new();
            for r in &group {
                if Version::parse(&r.version).is_none() {
                    return validate_err(
                        format!(
                            "Invalid required version '{}' for plugin '{}'",
                            r.version, r.name
                        ),
                        &pctx,
                    );
                }
                if !seen.insert(r.name.clone()) {
                    return validate_err(
                        format!(
                            "Defined multiple alternative version requirements for plugin '{}'",
                            r.name
                        ),
                        &pctx,
                    );
                }
            }
            self.required_plugin_versions.push(group);
        }
        let rctx = parent.child(item.mark, ItemType::RequiredPluginVersions, "");
        warn_unknown_keys(item, &["required_plugin_versions"], &rctx, res);
        Ok(())
    }

    fn read_list(&mut self, item: &Node, parent: &Context, res: &mut LoadResult) -> R<()> {
        let tmp = parent.child(item.mark, ItemType::List, "");
        let name = decode_str(item, "list", &tmp)?;
        let ctx = parent.child(item.mark, ItemType::List, &name);
        if !is_bare_string(&name) {
            res.warn(
                WarningCode::InvalidListName,
                "List has an invalid name. List names should match a regular expression: ([^()\"'[:space:]=,]+)",
                ctx.clone(),
            );
        }
        let items = decode_seq(item, "items", &ctx, false)?.unwrap_or_default();
        let mut append = decode_opt_bool(item, "append", &ctx)?.unwrap_or(false);
        if append {
            res.warn(WarningCode::DeprecatedItem, WARNING_APPEND, ctx.clone());
        }
        let ov = decode_overrides(item, &["items"], &["items"], &ctx)?;
        if append && (!ov.append.is_empty() || !ov.replace.is_empty()) {
            return yaml_err(ERROR_OVERRIDE_APPEND, &ctx);
        }
        append |= ov.append.contains("items");
        if append {
            let idx = self.next_index();
            let Some(prev) = self.lists.get_mut(&name) else {
                return validate_err(ERROR_NO_PREVIOUS_LIST, &ctx);
            };
            prev.items.extend(items);
            prev.visibility = idx;
        } else {
            let idx = self.next_index();
            let info = ListInfo {
                name: name.clone(),
                items,
                ctx: ctx.clone(),
                index: idx,
                visibility: idx,
            };
            define(
                &mut self.lists,
                info,
                idx,
                |l| &mut l.index,
                |l| &mut l.visibility,
            );
        }
        warn_unknown_keys(item, &["list", "items", "append", "override"], &ctx, res);
        Ok(())
    }

    fn read_macro(&mut self, item: &Node, parent: &Context, res: &mut LoadResult) -> R<()> {
        let tmp = parent.child(item.mark, ItemType::Macro, "");
        let name = decode_str(item, "macro", &tmp)?;
        let ctx = parent.child(item.mark, ItemType::Macro, &name);
        if !is_identifier(&name) {
            res.warn(
                WarningCode::InvalidMacroName,
                "Macro has an invalid name. Macro names should match a regular expression: ([a-zA-Z]+[a-zA-Z0-9_]*)",
                ctx.clone(),
            );
        }
        let cond = decode_str(item, "condition", &ctx)?;
        let cond_mark = item.get("condition").map(|c| c.mark).unwrap_or_default();
        let cond_ctx = ctx.child(cond_mark, ItemType::MacroCondition, "");
        let mut append = decode_opt_bool(item, "append", &ctx)?.unwrap_or(false);
        if append {
            res.warn(WarningCode::DeprecatedItem, WARNING_APPEND, ctx.clone());
        }
        let ov = decode_overrides(item, &["condition"], &["condition"], &ctx)?;
        if append && (!ov.append.is_empty() || !ov.replace.is_empty()) {
            return yaml_err(ERROR_OVERRIDE_APPEND, &ctx);
        }
        append |= ov.append.contains("condition");
        let idx = self.next_index();
        if append {
            let Some(prev) = self.macros.get_mut(&name) else {
                return validate_err(ERROR_NO_PREVIOUS_MACRO, &ctx);
            };
            prev.cond.push(' ');
            prev.cond.push_str(&cond);
            prev.visibility = idx;
        } else {
            let info = MacroInfo {
                name: name.clone(),
                cond,
                ctx: ctx.clone(),
                cond_ctx,
                index: idx,
                visibility: idx,
            };
            define(
                &mut self.macros,
                info,
                idx,
                |m| &mut m.index,
                |m| &mut m.visibility,
            );
        }
        warn_unknown_keys(
            item,
            &["macro", "condition", "append", "override"],
            &ctx,
            res,
        );
        Ok(())
    }

    fn read_rule(
        &mut self,
        env: &LoaderEnv<'_>,
        item: &Node,
        parent: &Context,
        res: &mut LoadResult,
    ) -> R<()> {
        let tmp = parent.child(item.mark, ItemType::Rule, "");
        let name = decode_str(item, "rule", &tmp)?;
        let ctx = parent.child(item.mark, ItemType::Rule, &name);
        let source = decode_opt_empty_str(item, "source", &ctx)?;
        let has_append_flag = decode_opt_bool(item, "append", &ctx)?.unwrap_or(false);
        if has_append_flag {
            res.warn(WarningCode::DeprecatedItem, WARNING_APPEND, ctx.clone());
        }
        let ov = decode_overrides(item, &RULE_APPENDABLE, &RULE_REPLACEABLE, &ctx)?;
        let has_overrides = !ov.append.is_empty() || !ov.replace.is_empty();
        if has_append_flag && has_overrides {
            return yaml_err(ERROR_OVERRIDE_APPEND, &ctx);
        }
        if has_overrides {
            let mut expected: BTreeSet<String> = RULE_APPENDABLE
                .iter()
                .chain(RULE_REPLACEABLE.iter())
                .filter(|k| item.get(k).is_some())
                .map(|k| k.to_string())
                .collect();
            let mut take = |set: &BTreeSet<String>, kind: &str, key: &str| -> R<bool> {
                if !set.contains(key) {
                    return Ok(false);
                }
                if !expected.remove(key) {
                    return yaml_err(
                        format!("An {kind} override for '{key}' was specified but '{key}' is not defined"),
                        &ctx,
                    );
                }
                Ok(true)
            };
            if !ov.append.is_empty() {
                let mut u = RuleUpdate {
                    name: name.clone(),
                    ctx: Some(ctx.clone()),
                    ..Default::default()
                };
                if take(&ov.append, "append", "condition")? {
                    u.source = source.clone();
                    u.cond = Some(decode_str(item, "condition", &ctx)?);
                }
                if take(&ov.append, "append", "exceptions")? {
                    u.exceptions = read_exceptions(item, &ctx, true, res)?;
                }
                if take(&ov.append, "append", "output")? {
                    u.output = Some(decode_str(item, "output", &ctx)?);
                }
                if take(&ov.append, "append", "desc")? {
                    u.desc = Some(decode_str(item, "desc", &ctx)?);
                }
                if take(&ov.append, "append", "tags")? {
                    u.tags = decode_seq(item, "tags", &ctx, true)?.map(|t| t.into_iter().collect());
                }
                self.append_rule(env, u)?;
            }
            if !ov.replace.is_empty() {
                let mut u = RuleUpdate {
                    name: name.clone(),
                    ctx: Some(ctx.clone()),
                    ..Default::default()
                };
                if take(&ov.replace, "replace", "condition")? {
                    u.source = source.clone();
                    u.cond = Some(decode_str(item, "condition", &ctx)?);
                    u.cond_ctx = item
                        .get("condition")
                        .map(|c| ctx.child(c.mark, ItemType::RuleCondition, ""));
                }
                if take(&ov.replace, "replace", "exceptions")? {
                    u.exceptions = read_exceptions(item, &ctx, false, res)?;
                }
                if take(&ov.replace, "replace", "output")? {
                    u.output = Some(decode_str(item, "output", &ctx)?);
                }
                if take(&ov.replace, "replace", "desc")? {
                    u.desc = Some(decode_str(item, "desc", &ctx)?);
                }
                if take(&ov.replace, "replace", "tags")? {
                    u.tags = decode_seq(item, "tags", &ctx, true)?.map(|t| t.into_iter().collect());
                }
                if take(&ov.replace, "replace", "priority")? {
                    let p = decode_str(item, "priority", &ctx)?;
                    let prictx = ctx.child(
                        item.get("priority").map(|n| n.mark).unwrap_or_default(),
                        ItemType::RulePriority,
                        "",
                    );
                    u.priority = Some(match Priority::parse(&p) {
                        Some(p) => p,
                        None => return yaml_err("Invalid priority", &prictx),
                    });
                }
                if take(&ov.replace, "replace", "capture")? {
                    u.capture = Some(decode_bool(item, "capture", &ctx)?);
                }
                if take(&ov.replace, "replace", "capture_duration")? {
                    u.capture_duration = decode_opt_u64(item, "capture_duration", &ctx)?;
                }
                if take(&ov.replace, "replace", "enabled")? {
                    u.enabled = Some(decode_bool(item, "enabled", &ctx)?);
                }
                if take(&ov.replace, "replace", "warn_evttypes")? {
                    u.warn_evttypes = Some(decode_bool(item, "warn_evttypes", &ctx)?);
                }
                if take(&ov.replace, "replace", "skip-if-unknown-filter")? {
                    u.skip_if_unknown_filter =
                        Some(decode_bool(item, "skip-if-unknown-filter", &ctx)?);
                }
                self.replace_rule(u)?;
            }
            if let Some(key) = expected.iter().next() {
                let keyctx = ctx.child(
                    item.get(key).map(|n| n.mark).unwrap_or_default(),
                    ItemType::Overrides,
                    key,
                );
                return yaml_err(
                    format!("Unexpected key '{key}': no corresponding entry under 'override' is defined."),
                    &keyctx,
                );
            }
        } else if has_append_flag {
            let mut u = RuleUpdate {
                name: name.clone(),
                source: source.clone(),
                ctx: Some(ctx.clone()),
                ..Default::default()
            };
            if let Some(c) = item.get("condition") {
                u.cond_ctx = Some(ctx.child(c.mark, ItemType::RuleCondition, ""));
                u.cond = Some(decode_str(item, "condition", &ctx)?);
            }
            if item.get("exceptions").is_some() {
                u.exceptions = read_exceptions(item, &ctx, true, res)?;
            }
            self.append_rule(env, u)?;
        } else if item.get("condition").is_none()
            && item.get("output").is_none()
            && item.get("desc").is_none()
            && item.get("priority").is_none()
        {
            let enabled = decode_bool(item, "enabled", &ctx)?;
            res.warn(WarningCode::DeprecatedItem, WARNING_ENABLED, ctx.clone());
            let Some(prev) = self.rules.get_mut(&name) else {
                return validate_err(
                    "Rule has 'enabled' key but no rule by that name already exists",
                    &ctx,
                );
            };
            prev.enabled = enabled;
        } else {
            let cond = decode_str(item, "condition", &ctx)?;
            let cond_ctx = ctx.child(
                item.get("condition").map(|n| n.mark).unwrap_or_default(),
                ItemType::RuleCondition,
                "",
            );
            let output = decode_str(item, "output", &ctx)?;
            let output_ctx = ctx.child(
                item.get("output").map(|n| n.mark).unwrap_or_default(),
                ItemType::RuleOutput,
                "",
            );
            let desc = decode_str(item, "desc", &ctx)?;
            let priority_text = decode_str(item, "priority", &ctx)?;
            let prictx = ctx.child(
                item.get("priority").map(|n| n.mark).unwrap_or_default(),
                ItemType::RulePriority,
                "",
            );
            let Some(priority) = Priority::parse(&priority_text) else {
                return yaml_err("Invalid priority", &prictx);
            };
            let source =
                decode_opt_str(item, "source", &ctx)?.unwrap_or_else(|| "syscall".to_string());
            let enabled = decode_opt_bool(item, "enabled", &ctx)?.unwrap_or(true);
            let capture = decode_opt_bool(item, "capture", &ctx)?.unwrap_or(false);
            let capture_duration = decode_opt_u64(item, "capture_duration", &ctx)?.unwrap_or(0);
            let warn_evttypes = decode_opt_bool(item, "warn_evttypes", &ctx)?.unwrap_or(true);
            let skip_if_unknown_filter =
                decode_opt_bool(item, "skip-if-unknown-filter", &ctx)?.unwrap_or(false);
            let tags = decode_seq(item, "tags", &ctx, true)?
                .unwrap_or_default()
                .into_iter()
                .collect();
            let exceptions = read_exceptions(item, &ctx, false, res)?.unwrap_or_default();
            let info = RuleInfo {
                name: name.clone(),
                cond,
                output: output.trim().to_string(),
                desc,
                priority,
                source,
                enabled,
                tags,
                exceptions,
                warn_evttypes,
                skip_if_unknown_filter,
                capture,
                capture_duration,
                unknown_source: false,
                ctx: ctx.clone(),
                cond_ctx,
                output_ctx,
                index: 0,
                visibility: 0,
            };
            self.define_rule(env, info, res)?;
        }
        warn_unknown_keys(
            item,
            &[
                "rule",
                "condition",
                "output",
                "desc",
                "priority",
                "source",
                "enabled",
                "capture",
                "capture_duration",
                "warn_evttypes",
                "skip-if-unknown-filter",
                "tags",
                "exceptions",
                "override",
                "append",
            ],
            &ctx,
            res,
        );
        Ok(())
    }

    fn check_prev_source(&self, name: &str, source: &str, ctx: &Context) -> R<()> {
        if let Some(prev) = self.rules.get(name) {
            if !prev.source.is_empty() && !source.is_empty() && prev.source != source {
                return validate_err("Rule has been re-defined with a different source", ctx);
            }
        }
        Ok(())
    }

    fn define_rule(
        &mut self,
        env: &LoaderEnv<'_>,
        mut info: RuleInfo,
        res: &mut LoadResult,
    ) -> R<()> {
        self.check_prev_source(&info.name, &info.source, &info.ctx)?;
        let known = (env.source_known)(&info.source);
        if !known {
            info.unknown_source = true;
        }
        if !known && !(env.source_not_served)(&info.source) {
            res.warn(
                WarningCode::UnknownSource,
                format!("Unknown source {}, skipping", info.source),
                info.ctx.clone(),
            );
        }
        // Exception fields are checked for the sources falco-rs serves and for the
        // ones it only checks (syscall), against their field tables.
        let source = (known || (env.source_not_served)(&info.source)).then(|| info.source.clone());
        for ex in &mut info.exceptions {
            if !ex.fields.defined {
                return validate_err(
                    "Rule exception item must have fields property with a list of fields",
                    &ex.ctx,
                );
            }
            validate_exception(env, source.as_deref(), ex)?;
        }
        let idx = self.next_index();
        define(
            &mut self.rules,
            info,
            idx,
            |r| &mut r.index,
            |r| &mut r.visibility,
        );
        Ok(())
    }

    /// The checks Falco runs before any rule update (source, existence, something to
    /// update), then the update's index and the rule to update.
    fn update_target(
        &mut self,
        u: &RuleUpdate,
        no_previous: &str,
        nothing_to_update: &str,
    ) -> R<(u32, &mut RuleInfo)> {
        let ctx = u.ctx.clone().unwrap_or_else(|| Context::file(""));
        self.check_prev_source(&u.name, &u.source, &ctx)?;
        if !self.rules.contains_key(&u.name) {
            return validate_err(no_previous, &ctx);
        }
        if !u.has_any_value() {
            return validate_err(nothing_to_update, &ctx);
        }
        let idx = self.next_index();
        match self.rules.get_mut(&u.name) {
            Some(prev) => Ok((idx, prev)),
            None => validate_err(no_previous, &ctx),
        }
    }

    fn append_rule(&mut self, env: &LoaderEnv<'_>, u: RuleUpdate) -> R<()> {
        let (idx, prev) = self.update_target(
            &u,
            ERROR_NO_PREVIOUS_RULE_APPEND,
            "Appended rule must have exceptions or condition property",
        )?;
        let source = (!prev.unknown_source || (env.source_not_served)(&prev.source))
            .then(|| prev.source.clone());
        if let Some(c) = u.cond.filter(|c| !c.is_empty()) {
            prev.cond.push(' ');
            prev.cond.push_str(&c);
        }
        if let Some(o) = u.output.filter(|o| !o.is_empty()) {
            prev.output.push(' ');
            prev.output.push_str(&o);
        }
        if let Some(d) = u.desc.filter(|d| !d.is_empty()) {
            prev.desc.push(' ');
            prev.desc.push_str(&d);
        }
        if let Some(tags) = u.tags {
            prev.tags.extend(tags);
        }
        if let Some(exs) = u.exceptions {
            for mut ex in exs {
                match prev.exceptions.iter_mut().find(|e| e.name == ex.name) {
                    None => {
                        if !ex.fields.defined {
                            return validate_err(
                                "Rule exception must have fields property with a list of fields",
                                &ex.ctx,
                            );
                        }
                        if ex.values.is_empty() {
                            return validate_err(
                                "Rule exception must have values property with a list of values",
                                &ex.ctx,
                            );
                        }
                        validate_exception(env, source.as_deref(), &mut ex)?;
                        prev.exceptions.push(ex);
                    }
                    Some(existing) => {
                        if ex.fields.defined {
                            return validate_err("Can not append exception fields to existing exception, only values", &ex.ctx);
                        }
                        if ex.comps.defined {
                            return validate_err(
                                "Can not append exception comps to existing exception, only values",
                                &ex.ctx,
                            );
                        }
                        existing.values.extend(ex.values);
                    }
                }
            }
        }
        prev.visibility = idx;
        Ok(())
    }

    fn replace_rule(&mut self, u: RuleUpdate) -> R<()> {
        let (idx, prev) = self.update_target(
            &u,
            ERROR_NO_PREVIOUS_RULE_REPLACE,
            "The rule must have at least one field that can be replaced",
        )?;
        if let Some(c) = u.cond {
            prev.cond = c;
            if let Some(cc) = u.cond_ctx {
                prev.cond_ctx = cc;
            }
        }
        if let Some(o) = u.output {
            prev.output = o;
        }
        if let Some(d) = u.desc {
            prev.desc = d;
        }
        if let Some(t) = u.tags {
            prev.tags = t;
        }
        if let Some(e) = u.exceptions {
            prev.exceptions = e;
        }
        if let Some(p) = u.priority {
            prev.priority = p;
        }
        if let Some(c) = u.capture {
            prev.capture = c;
        }
        if let Some(c) = u.capture_duration {
            prev.capture_duration = c;
        }
        if let Some(e) = u.enabled {
            prev.enabled = e;
        }
        if let Some(w) = u.warn_evttypes {
            prev.warn_evttypes = w;
        }
        if let Some(s) = u.skip_if_unknown_filter {
            prev.skip_if_unknown_filter = s;
        }
        prev.visibility = idx;
        Ok(())
    }
}

/// Inserts or redefines an item, keeping the original index (position) on redefinition.
fn define<T>(
    map: &mut ItemMap<T>,
    mut info: T,
    id: u32,
    index: impl Fn(&mut T) -> &mut u32,
    visibility: impl Fn(&mut T) -> &mut u32,
) where
    T: HasName,
{
    let name = info.name().to_string();
    match map.get_mut(&name) {
        Some(prev) => {
            *index(&mut info) = *index(prev);
            *visibility(&mut info) = id;
            *prev = info;
        }
        None => {
            *index(&mut info) = id;
            *visibility(&mut info) = id;
            map.insert(name, info);
        }
    }
}

/// Items with a name.
trait HasName {
    fn name(&self) -> &str;
}

impl HasName for ListInfo {
    fn name(&self) -> &str {
        &self.name
    }
}
impl HasName for MacroInfo {
    fn name(&self) -> &str {
        &self.name
    }
}
impl HasName for RuleInfo {
    fn name(&self) -> &str {
        &self.name
    }
}

fn normalize_comp(s: &mut String) {
    let t = s.trim_matches([' ', '\t', '\r', '\n']).to_string();
    *s = t;
}

/// Falco `validate_exception_info`: defaults, operator and field checks.
fn validate_exception(env: &LoaderEnv<'_>, source: Option<&str>, ex: &mut ExceptionInfo) -> R<()> {
    if ex.fields.is_list {
        if !ex.comps.defined {
            ex.comps.defined = true;
            ex.comps.is_list = true;
            ex.comps.items = ex
                .fields
                .items
                .iter()
                .map(|_| ExceptionEntry {
                    defined: true,
                    item: "=".into(),
                    ..Default::default()
                })
                .collect();
        }
        if ex.fields.items.len() != ex.comps.items.len() {
            return validate_err("Fields and comps lists must have equal length", &ex.ctx);
        }
        for c in &mut ex.comps.items {
            normalize_comp(&mut c.item);
            if !SUPPORTED_OPERATORS.contains(&c.item.as_str())
                && !is_str_operator_with_modifier(&c.item)
            {
                return validate_err(
                    format!("'{}' is not a supported comparison operator", c.item),
                    &ex.ctx,
                );
            }
        }
        if let Some(src) = source {
            for f in &ex.fields.items {
                if !(env.lhs_field_valid)(src, &f.item) {
                    return validate_err(
                        format!("'{}' is not a supported filter field", f.item),
                        &ex.ctx,
                    );
                }
            }
        }
    } else {
        if !ex.comps.defined {
            ex.comps.defined = true;
            ex.comps.is_list = false;
            ex.comps.item = "in".into();
        }
        if ex.comps.is_list {
            return validate_err("Fields and comps must both be strings", &ex.ctx);
        }
        normalize_comp(&mut ex.comps.item);
        let c = ex.comps.item.as_str();
        if c != "in" && c != "pmatch" && c != "intersects" && !is_str_operator_with_modifier(c) {
            return validate_err(
                "When fields is a single value, comps must be one of (in, pmatch, intersects) or a modifier operator (e.g. startswith oneof)",
                &ex.ctx,
            );
        }
        if let Some(src) = source {
            if !(env.lhs_field_valid)(src, &ex.fields.item) {
                return validate_err(
                    format!("'{}' is not a supported filter field", ex.fields.item),
                    &ex.ctx,
                );
            }
        }
    }
    Ok(())
}
