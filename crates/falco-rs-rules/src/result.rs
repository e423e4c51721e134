//! Falco load results: error and warning codes, location chains, and the verbose text
//! and JSON renderings `falco -V` prints.

use crate::yaml::Mark;
use serde_json::json;
use std::fmt::Write as _;
use std::sync::Arc;

/// Error codes (`falco::load_result::error_code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Cannot read a file.
    FileRead,
    /// Invalid YAML.
    YamlParse,
    /// Wrong YAML structure.
    YamlValidate,
    /// A condition cannot be parsed or compiled.
    CompileCondition,
    /// An output cannot be compiled.
    CompileOutput,
    /// A semantic error on an item.
    Validate,
    /// An extension item error.
    Extension,
}

impl ErrorCode {
    /// The code token, e.g. `LOAD_ERR_YAML_PARSE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::FileRead => "LOAD_ERR_FILE_READ",
            ErrorCode::YamlParse => "LOAD_ERR_YAML_PARSE",
            ErrorCode::YamlValidate => "LOAD_ERR_YAML_VALIDATE",
            ErrorCode::CompileCondition => "LOAD_ERR_COMPILE_CONDITION",
            ErrorCode::CompileOutput => "LOAD_ERR_COMPILE_OUTPUT",
            ErrorCode::Validate => "LOAD_ERR_VALIDATE",
            ErrorCode::Extension => "LOAD_ERR_EXTENSION",
        }
    }

    /// The short description Falco prints next to the code.
    pub fn short(self) -> &'static str {
        match self {
            ErrorCode::FileRead => "Could not read file",
            ErrorCode::YamlParse => "Invalid yaml",
            ErrorCode::YamlValidate => "Error validating internal structure of YAML file",
            ErrorCode::CompileCondition => "Error compiling condition",
            ErrorCode::CompileOutput => "Error compiling output",
            ErrorCode::Validate => "Error validating rule/macro/list/exception objects",
            ErrorCode::Extension => "Error in extension item",
        }
    }
}

/// Warning codes (`falco::load_result::warning_code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WarningCode {
    /// Rule source not available; the rule is skipped.
    UnknownSource,
    /// A `ka.*`/`jevt.*` field compared with the literal `<NA>`.
    UnsafeNaCheck,
    /// Syscall only.
    NoEvttype,
    /// Downgraded unknown-field error (`skip-if-unknown-filter`).
    UnknownFilter,
    /// Unused macro.
    UnusedMacro,
    /// Unused list.
    UnusedList,
    /// Unknown top-level item.
    UnknownItem,
    /// Deprecated construct.
    DeprecatedItem,
    /// Extension warning.
    WarningExtension,
    /// Appended exception without values.
    AppendNoValues,
    /// Duplicate exception name.
    ExceptionNameNotUnique,
    /// Invalid macro name.
    InvalidMacroName,
    /// Invalid list name.
    InvalidListName,
    /// Compiler hint.
    CompileCondition,
    /// Unknown key in an item.
    UnknownKey,
}

impl WarningCode {
    /// The code token.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningCode::UnknownSource => "LOAD_UNKNOWN_SOURCE",
            WarningCode::UnsafeNaCheck => "LOAD_UNSAFE_NA_CHECK",
            WarningCode::NoEvttype => "LOAD_NO_EVTTYPE",
            WarningCode::UnknownFilter => "LOAD_UNKNOWN_FILTER",
            WarningCode::UnusedMacro => "LOAD_UNUSED_MACRO",
            WarningCode::UnusedList => "LOAD_UNUSED_LIST",
            WarningCode::UnknownItem => "LOAD_UNKNOWN_ITEM",
            WarningCode::DeprecatedItem => "LOAD_DEPRECATED_ITEM",
            WarningCode::WarningExtension => "LOAD_WARNING_EXTENSION",
            WarningCode::AppendNoValues => "LOAD_APPEND_NO_VALUES",
            WarningCode::ExceptionNameNotUnique => "LOAD_EXCEPTION_NAME_NOT_UNIQUE",
            WarningCode::InvalidMacroName => "LOAD_INVALID_MACRO_NAME",
            WarningCode::InvalidListName => "LOAD_INVALID_LIST_NAME",
            WarningCode::CompileCondition => "LOAD_COMPILE_CONDITION",
            WarningCode::UnknownKey => "LOAD_UNKNOWN_KEY",
        }
    }

    /// Short description.
    pub fn short(self) -> &'static str {
        match self {
            WarningCode::UnknownSource => "Unknown event source",
            WarningCode::UnsafeNaCheck => "Unsafe <NA> comparison in condition",
            WarningCode::NoEvttype => "Condition has no event-type restriction",
            WarningCode::UnknownFilter => "Unknown field or event-type in condition or output",
            WarningCode::UnusedMacro => "Unused macro",
            WarningCode::UnusedList => "Unused list",
            WarningCode::UnknownItem => "Unknown rules file item",
            WarningCode::DeprecatedItem => "Used deprecated item",
            WarningCode::WarningExtension => "Extension item has a warning",
            WarningCode::AppendNoValues => "Overriding/appending with no values",
            WarningCode::ExceptionNameNotUnique => "Multiple exceptions defined with the same name",
            WarningCode::InvalidMacroName => "Invalid macro name",
            WarningCode::InvalidListName => "Invalid list name",
            WarningCode::CompileCondition => "Warning in rule condition",
            WarningCode::UnknownKey => "Unknown key in item",
        }
    }

    /// Long description (used as `codedesc` of warnings in JSON).
    pub fn description(self) -> &'static str {
        match self {
            WarningCode::UnknownSource => "A rule has an unknown event source. This can occur when reading rules content without having a corresponding plugin loaded, etc. The rule will be silently ignored.",
            WarningCode::UnsafeNaCheck => "Comparing a field value with <NA> is unsafe and can lead to unpredictable behavior of the rule condition. If you need to check for the existence of a field, consider using the 'exists' operator instead.",
            WarningCode::NoEvttype => "A rule condition contains no restrictions on the event type (e.g. evt.type in (execve, open)). This can result in a rule matching every single event and can cause serious performance degradation.",
            WarningCode::UnknownFilter => "A rule condition or output refers to a field or evt.type that does not exist. This is normally an error, but if a rule has a skip-if-unknown-filter property, the error is downgraded to a warning.",
            WarningCode::UnusedMacro => "A macro is defined in the rules content but is not used by any other macro or rule.",
            WarningCode::UnusedList => "A list is defined in the rules content but is not used by any other list, macro, or rule.",
            WarningCode::UnknownItem => "An unknown top-level object is in the rules content. It will be ignored.",
            WarningCode::DeprecatedItem => "A deprecated item is employed by lists, macros, or rules.",
            WarningCode::WarningExtension => "An extension item has a warning",
            WarningCode::AppendNoValues => "An override/append includes no values.",
            WarningCode::ExceptionNameNotUnique => "A rule is defining multiple exceptions with the same name",
            WarningCode::InvalidMacroName => "A macro is defined with an invalid name",
            WarningCode::InvalidListName => "A list is defined with an invalid name",
            WarningCode::CompileCondition => "The condition of a rule contains a potential issue that may cause issues",
            WarningCode::UnknownKey => "An unknown key is defined in an item",
        }
    }
}

/// The kind of a location in a context chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ItemType {
    ValueFor,
    Exceptions,
    Exception,
    ExceptionValues,
    ExceptionValue,
    RulesContent,
    RulesContentItem,
    RequiredEngineVersion,
    RequiredPluginVersions,
    RequiredPluginVersionsEntry,
    RequiredPluginVersionsAlternative,
    List,
    ListItem,
    Macro,
    MacroCondition,
    Rule,
    RuleCondition,
    ConditionExpression,
    RuleOutput,
    RuleOutputExpression,
    RulePriority,
    Overrides,
    ExtensionItem,
}

impl ItemType {
    /// Falco's name for the item type.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::ValueFor => "value for",
            ItemType::Exceptions => "exceptions",
            ItemType::Exception => "exception",
            ItemType::ExceptionValues => "exception values",
            ItemType::ExceptionValue => "exception value",
            ItemType::RulesContent => "rules content",
            ItemType::RulesContentItem => "rules content item",
            ItemType::RequiredEngineVersion => "required_engine_version",
            ItemType::RequiredPluginVersions => "required plugin versions",
            ItemType::RequiredPluginVersionsEntry => "required plugin versions entry",
            ItemType::RequiredPluginVersionsAlternative => "required plugin versions alternative",
            ItemType::List => "list",
            ItemType::ListItem => "list item",
            ItemType::Macro => "macro",
            ItemType::MacroCondition => "macro condition",
            ItemType::Rule => "rule",
            ItemType::RuleCondition => "rule condition",
            ItemType::ConditionExpression => "condition expression",
            ItemType::RuleOutput => "rule output",
            ItemType::RuleOutputExpression => "rule output expression",
            ItemType::RulePriority => "rule priority",
            ItemType::Overrides => "overrides",
            ItemType::ExtensionItem => "extension item",
        }
    }
}

/// One location of a context chain. The names are shared (`Arc<str>`): every item of
/// a rules file carries contexts that repeat the file name and the item's name, and
/// the loader makes thousands of them, so copying a chain copies no text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// File name, or the quoted condition prefix for condition expressions.
    pub name: Arc<str>,
    /// Position (0-based line/column for YAML marks).
    pub mark: Mark,
    /// Item type.
    pub item_type: ItemType,
    /// Item name (may be empty).
    pub item_name: Arc<str>,
}

/// A chain of locations from the file down to the offending item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The locations, outermost first.
    pub locs: Vec<Location>,
    /// Text the last location's position refers to when it is not the file
    /// (the condition, for condition expressions).
    pub alt_content: Option<String>,
}

impl Context {
    /// The root context of a file.
    pub fn file(name: &str) -> Self {
        Context {
            locs: vec![Location {
                name: name.into(),
                mark: Mark::default(),
                item_type: ItemType::RulesContent,
                item_name: "".into(),
            }],
            alt_content: None,
        }
    }

    /// A child context at a YAML position.
    pub fn child(&self, mark: Mark, item_type: ItemType, item_name: &str) -> Self {
        // A child usually names the item its parent names (a rule's condition, output).
        let item_name = match self.locs.last() {
            Some(last) if *last.item_name == *item_name => last.item_name.clone(),
            _ => item_name.into(),
        };
        Context {
            locs: self.chain_with(Location {
                name: self
                    .locs
                    .first()
                    .map_or_else(|| "".into(), |l| l.name.clone()),
                mark,
                item_type,
                item_name,
            }),
            alt_content: None,
        }
    }

    /// A child context for a position inside a condition string (1-based parser
    /// line/column added to the parent's 0-based position, as Falco does).
    pub fn condition(&self, condition: &str, index: usize, line: usize, column: usize) -> Self {
        let mut name: String = if condition.len() > 20 {
            let mut cut = 17;
            while !condition.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("\"{}...\"", &condition[..cut])
        } else {
            format!("\"{condition}\"")
        };
        name = name.replace(['\n', '\r'], " ");
        let last = self.locs.last().map(|l| l.mark).unwrap_or_default();
        let locs = self.chain_with(Location {
            name: name.into(),
            mark: Mark {
                offset: index + last.offset,
                line: line + last.line,
                column: column + last.column,
            },
            item_type: ItemType::ConditionExpression,
            item_name: "".into(),
        });
        Context {
            locs,
            alt_content: Some(condition.to_string()),
        }
    }

    /// This chain's locations followed by `loc` (the names are shared, not copied).
    fn chain_with(&self, loc: Location) -> Vec<Location> {
        let mut locs = Vec::with_capacity(self.locs.len() + 1);
        locs.extend_from_slice(&self.locs);
        locs.push(loc);
        locs
    }

    /// The file name of the chain.
    pub fn name(&self) -> &str {
        self.locs.first().map_or("", |l| &*l.name)
    }

    /// Falco's `as_string()` rendering.
    pub fn as_text(&self) -> String {
        let mut s = String::new();
        for (i, loc) in self.locs.iter().enumerate() {
            s.push_str(if i == 0 { "In " } else { "    " });
            s.push_str(loc.item_type.as_str());
            if !loc.item_name.is_empty() {
                let _ = write!(s, " '{}'", loc.item_name);
            }
            let _ = writeln!(s, ": ({}:{}:{})", loc.name, loc.mark.line, loc.mark.column);
        }
        s
    }

    /// JSON `context` object.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "locations": self.locs.iter().map(|l| json!({
                "item_type": l.item_type.as_str(),
                "item_name": &*l.item_name,
                "position": {"name": &*l.name, "line": l.mark.line, "column": l.mark.column, "offset": l.mark.offset},
            })).collect::<Vec<_>>()
        })
    }

    /// The snippet Falco prints: the line around the last position and a caret.
    pub fn snippet(&self, file_content: &str) -> String {
        const WIDTH: usize = 160;
        let Some(loc) = self.locs.last() else {
            return String::new();
        };
        let content = self
            .alt_content
            .as_deref()
            .unwrap_or(file_content)
            .as_bytes();
        if content.is_empty() {
            return "<No context available>\n".into();
        }
        let mut pos = loc.mark.offset;
        while pos > 0 && (pos >= content.len() || content[pos] == b'\n') {
            pos -= 1;
        }
        let mut from = pos;
        while from > 0 && content[from] != b'\n' && (pos - from) < WIDTH / 2 {
            from -= 1;
        }
        let mut to = pos;
        while to < content.len() - 1 && content[to] != b'\n' && (to - pos) < WIDTH / 2 {
            to += 1;
        }
        if from < content.len() && content[from] == b'\n' {
            from += 1;
        }
        if to < content.len() && content[to] == b'\n' && to > 0 {
            to -= 1;
        }
        if to < from {
            return "<No context available>\n".into();
        }
        let mut ret = String::from_utf8_lossy(&content[from..=to]).into_owned();
        if ret.is_empty() {
            return "<No context available>\n".into();
        }
        if pos - from >= WIDTH / 2 && ret.len() >= 3 {
            ret.replace_range(0..3, "...");
        }
        if to - pos >= WIDTH / 2 && ret.len() >= 3 {
            let n = ret.len();
            ret.replace_range(n - 3..n, "...");
        }
        ret.push('\n');
        if pos >= from && pos - from < ret.len() {
            ret.push_str(&" ".repeat(pos - from));
            ret.push_str("^\n");
        }
        ret
    }
}

/// An error or a warning with its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem<C> {
    /// The code.
    pub code: C,
    /// The message.
    pub message: String,
    /// Where.
    pub context: Context,
}

/// The result of loading one rules file.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    /// The file name as given.
    pub name: String,
    /// The file content (for snippets).
    pub content: String,
    /// Errors (loading stops at the first one).
    pub errors: Vec<Problem<ErrorCode>>,
    /// Warnings.
    pub warnings: Vec<Problem<WarningCode>>,
}

impl LoadResult {
    /// A fresh, successful result.
    pub fn new(name: &str, content: &str) -> Self {
        LoadResult {
            name: name.to_string(),
            content: content.to_string(),
            ..Default::default()
        }
    }

    /// Whether the file loaded without errors.
    pub fn successful(&self) -> bool {
        self.errors.is_empty()
    }

    /// Adds an error.
    pub fn error(&mut self, code: ErrorCode, message: impl Into<String>, context: Context) {
        self.errors.push(Problem {
            code,
            message: message.into(),
            context,
        });
    }

    /// Adds a warning.
    pub fn warn(&mut self, code: WarningCode, message: impl Into<String>, context: Context) {
        self.warnings.push(Problem {
            code,
            message: message.into(),
            context,
        });
    }

    /// Falco's summary text: `<file>: Ok|Invalid[, with warnings]`.
    pub fn summary(&self) -> String {
        let status = if self.successful() {
            if self.warnings.is_empty() {
                "Ok"
            } else {
                "Ok, with warnings"
            }
        } else {
            "Invalid"
        };
        format!("{}: {status}", self.name)
    }

    /// Falco's verbose text (used for load failures, warnings, and `-V`).
    pub fn verbose(&self) -> String {
        let mut s = self.summary();
        s.push('\n');
        let mut first_block = true;
        let mut block =
            |s: &mut String, title: String, items: Vec<(String, String, String, String)>| {
                if !first_block {
                    s.push('\n');
                }
                first_block = false;
                s.push_str(&title);
                for (ctx, snippet, code, msg) in items {
                    s.push_str(&ctx);
                    s.push_str("------\n");
                    s.push_str(&snippet);
                    s.push_str("------\n");
                    let _ = writeln!(s, "{code}: {msg}");
                }
            };
        if !self.errors.is_empty() {
            let items = self
                .errors
                .iter()
                .map(|e| {
                    (
                        e.context.as_text(),
                        e.context.snippet(&self.content),
                        format!("{} ({})", e.code.as_str(), e.code.short()),
                        e.message.clone(),
                    )
                })
                .collect();
            block(&mut s, format!("{} Errors:\n", self.errors.len()), items);
        }
        if !self.warnings.is_empty() {
            let items = self
                .warnings
                .iter()
                .map(|w| {
                    (
                        w.context.as_text(),
                        w.context.snippet(&self.content),
                        format!("{} ({})", w.code.as_str(), w.code.short()),
                        w.message.clone(),
                    )
                })
                .collect();
            block(
                &mut s,
                format!("{} Warnings:\n", self.warnings.len()),
                items,
            );
        }
        if self.errors.is_empty() && self.warnings.is_empty() {
            s.pop();
        }
        s
    }

    /// The per-file JSON object of `falco_load_results`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "successful": self.successful(),
            "errors": self.errors.iter().map(|e| json!({
                "context": merge_snippet(e.context.to_json(), e.context.snippet(&self.content)),
                "code": e.code.as_str(),
                "codedesc": e.code.short(),
                "message": e.message,
            })).collect::<Vec<_>>(),
            "warnings": self.warnings.iter().map(|w| json!({
                "context": merge_snippet(w.context.to_json(), w.context.snippet(&self.content)),
                "code": w.code.as_str(),
                "codedesc": w.code.description(),
                "message": w.message,
            })).collect::<Vec<_>>(),
        })
    }
}

fn merge_snippet(mut ctx: serde_json::Value, snippet: String) -> serde_json::Value {
    if let Some(obj) = ctx.as_object_mut() {
        obj.insert("snippet".into(), serde_json::Value::String(snippet));
    }
    ctx
}

/// Takes the per-file outcomes of a rules load (each file's result and what the compile
/// after it produced), in file order, as Falco does: every file's result is kept and
/// shown to `on_file`; the load stops at the first failing file unless `keep_going`; the
/// compiled rules are the last successful file's, and none when any file failed. The
/// outcomes are pulled one at a time, so nothing after a stop is computed.
pub fn take_in_file_order<T>(
    outcomes: impl IntoIterator<Item = (LoadResult, Option<T>)>,
    keep_going: bool,
    mut on_file: impl FnMut(&LoadResult),
) -> (Vec<LoadResult>, Option<T>) {
    let mut results = Vec::new();
    let mut last = None;
    let mut failed = false;
    for (res, compiled) in outcomes {
        on_file(&res);
        let ok = res.successful();
        results.push(res);
        if ok {
            last = compiled;
        } else {
            failed = true;
            if !keep_going {
                break;
            }
        }
    }
    (results, if failed { None } else { last })
}
