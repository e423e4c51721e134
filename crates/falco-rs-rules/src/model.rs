//! Items collected from rules files.

use crate::result::Context;
use std::collections::BTreeSet;

/// Rule priority, most severe first (`falco_common::priority_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// 0
    Emergency,
    /// 1
    Alert,
    /// 2
    Critical,
    /// 3
    Error,
    /// 4
    Warning,
    /// 5
    Notice,
    /// 6
    Informational,
    /// 7
    Debug,
}

impl Priority {
    /// All priorities, most severe first.
    pub const ALL: [Priority; 8] = [
        Priority::Emergency,
        Priority::Alert,
        Priority::Critical,
        Priority::Error,
        Priority::Warning,
        Priority::Notice,
        Priority::Informational,
        Priority::Debug,
    ];

    /// Case-insensitive parse, accepting `info` as an alias.
    pub fn parse(s: &str) -> Option<Priority> {
        if s.eq_ignore_ascii_case("info") {
            return Some(Priority::Informational);
        }
        Priority::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
    }

    /// Long name (`Warning`, `Informational`).
    pub fn name(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }

    /// Short name used by the end-of-run summary (`Info` for informational).
    pub fn short_name(self) -> &'static str {
        match self {
            Priority::Informational => "Info",
            p => p.name(),
        }
    }

    /// syslog severity number (0..7).
    pub fn number(self) -> u8 {
        self as u8
    }
}

/// A semantic version `x.y.z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
}

impl Version {
    /// Parses `x.y.z` like `sscanf("%u.%u.%u")`: trailing text after the patch is ignored.
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = s.splitn(3, '.');
        let major = all_digits(parts.next()?)?;
        let minor = all_digits(parts.next()?)?;
        let patch = leading_u64(parts.next()?)?;
        Some(Version {
            major,
            minor,
            patch,
        })
    }

    /// Same major and `self >= required`.
    pub fn compatible_with(&self, required: &Version) -> bool {
        self.major == required.major && self >= required
    }
}

fn all_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The leading decimal digits of `s` (trailing text is ignored, as with `sscanf`).
fn leading_u64(s: &str) -> Option<u64> {
    let n = s.bytes().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    s[..n].parse().ok()
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A `list` item.
#[derive(Debug, Clone)]
pub struct ListInfo {
    /// Name.
    pub name: String,
    /// Raw items.
    pub items: Vec<String>,
    /// Where it was (last) defined.
    pub ctx: Context,
    /// First-definition order.
    pub index: u32,
    /// Last define/append order.
    pub visibility: u32,
}

/// A `macro` item.
#[derive(Debug, Clone)]
pub struct MacroInfo {
    /// Name.
    pub name: String,
    /// Condition text (appends concatenated with one space).
    pub cond: String,
    /// Where it was defined.
    pub ctx: Context,
    /// Context of the `condition` value.
    pub cond_ctx: Context,
    /// First-definition order.
    pub index: u32,
    /// Last define/append order.
    pub visibility: u32,
}

/// A scalar-or-sequence entry of an exception (`fields`, `comps`, or a value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExceptionEntry {
    /// Whether the entry was given at all.
    pub defined: bool,
    /// Whether it is a sequence.
    pub is_list: bool,
    /// Scalar text.
    pub item: String,
    /// Sequence items.
    pub items: Vec<ExceptionEntry>,
}

/// One exception of a rule.
#[derive(Debug, Clone)]
pub struct ExceptionInfo {
    /// Name.
    pub name: String,
    /// `fields`.
    pub fields: ExceptionEntry,
    /// `comps`.
    pub comps: ExceptionEntry,
    /// `values`.
    pub values: Vec<ExceptionEntry>,
    /// Where.
    pub ctx: Context,
}

/// A `rule` item after all appends/overrides.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// Name.
    pub name: String,
    /// Condition text.
    pub cond: String,
    /// Output format (trimmed).
    pub output: String,
    /// Description.
    pub desc: String,
    /// Priority.
    pub priority: Priority,
    /// Event source (`syscall` by default).
    pub source: String,
    /// Enabled flag.
    pub enabled: bool,
    /// Tags (a sorted set).
    pub tags: BTreeSet<String>,
    /// Exceptions.
    pub exceptions: Vec<ExceptionInfo>,
    /// `warn_evttypes`.
    pub warn_evttypes: bool,
    /// `skip-if-unknown-filter`.
    pub skip_if_unknown_filter: bool,
    /// `capture`.
    pub capture: bool,
    /// `capture_duration`.
    pub capture_duration: u64,
    /// The source is not known: the rule is stored but never compiled.
    pub unknown_source: bool,
    /// Where.
    pub ctx: Context,
    /// Context of the condition value.
    pub cond_ctx: Context,
    /// Context of the output value.
    pub output_ctx: Context,
    /// First-definition order.
    pub index: u32,
    /// Last update order.
    pub visibility: u32,
}
