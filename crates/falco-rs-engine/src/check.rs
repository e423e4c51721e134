//! Compiled checks: a left-hand value expression, an operator and a precompiled
//! right-hand side, plus the naive semantics the reference evaluator uses.

use crate::bytes::same_bytes;
use crate::cache::FieldCache;
use crate::field::{EventView, FieldType};
use crate::glob::fnmatch;
use crate::pmatch::PathPrefixSet;
use crate::regex_dialect::compile_full_match;
use crate::value::{ValueExpr, ValueType};
use falco_rs_syntax::{Modifier, Op, Span};
use memchr::memmem;
use regex::Regex;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;

/// Sets larger than this use a hash set instead of a linear scan.
const SMALL_SET: usize = 8;

/// One compiled check.
#[derive(Debug)]
pub(crate) struct CheckCode {
    pub lhs: ValueExpr,
    pub lhs_type: ValueType,
    pub op: Op,
    pub rhs: RhsCode,
    /// The right-hand side as written, for the reference evaluator and explain output.
    pub raw: RawRhs,
    pub span: Span,
}

/// Precompiled right-hand side.
#[derive(Debug)]
pub(crate) enum RhsCode {
    /// `exists`.
    None,
    /// One value, one operator.
    Scalar(Matcher),
    /// `in` / `intersects` against constants.
    Set(ValueSet),
    /// `pmatch` against constants.
    PMatch(PathPrefixSet),
    /// `op oneof|anyof|allof (...)`.
    Modified(Modifier, Vec<Matcher>),
    /// A field (or transformer) on the right.
    Field(ValueExpr),
}

/// The right-hand side as written.
#[derive(Debug, Clone)]
pub(crate) enum RawRhs {
    None,
    Values(Vec<String>),
    Modified(Modifier, Vec<String>),
    Field,
}

/// A precompiled single-value comparison.
#[derive(Debug)]
pub(crate) enum Matcher {
    StrEq(Box<str>),
    StrNe(Box<str>),
    StrCmp(Op, Box<str>),
    NumCmp(Op, u64),
    Contains(Box<memmem::Finder<'static>>),
    IContains(Box<[u8]>),
    StartsWith(Box<str>),
    EndsWith(Box<str>),
    Glob(Box<[u8]>, bool),
    Regex(Box<Regex>),
}

/// A constant set for `in` / `intersects`.
#[derive(Debug)]
pub(crate) enum ValueSet {
    Small(Vec<Box<str>>),
    Hashed(HashSet<Box<str>>),
    Num(Vec<u64>),
}

impl Matcher {
    /// Builds a matcher for `op value` on a left-hand side of type `ty`. Errors are the
    /// full libsinsp messages (`abc is not a valid number`, `invalid regex pattern: ...`).
    pub fn new(op: Op, ty: FieldType, value: &str) -> Result<Matcher, String> {
        if ty.is_numeric() {
            let n = parse_number(value)?;
            return match op {
                Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => Ok(Matcher::NumCmp(op, n)),
                _ => Err(format!(
                    "filter error: '{}' operator not supported for numeric filters",
                    op.as_str()
                )),
            };
        }
        Ok(match op {
            Op::Eq => Matcher::StrEq(value.into()),
            Op::Ne => Matcher::StrNe(value.into()),
            Op::Lt | Op::Le | Op::Gt | Op::Ge => Matcher::StrCmp(op, value.into()),
            Op::Contains => {
                Matcher::Contains(Box::new(memmem::Finder::new(value.as_bytes()).into_owned()))
            }
            Op::IContains => Matcher::IContains(value.to_ascii_lowercase().into_bytes().into()),
            Op::StartsWith => Matcher::StartsWith(value.into()),
            Op::EndsWith => Matcher::EndsWith(value.into()),
            Op::Glob => Matcher::Glob(value.as_bytes().into(), false),
            Op::IGlob => Matcher::Glob(value.as_bytes().into(), true),
            Op::Regex => Matcher::Regex(Box::new(
                compile_full_match(value).map_err(|e| format!("invalid regex pattern: {e}"))?,
            )),
            other => {
                return Err(format!(
                    "filter error: '{}' operator not supported for string filters",
                    other.as_str()
                ))
            }
        })
    }

    /// Whether the (non-list) value `v` satisfies the comparison.
    #[inline]
    pub fn matches(&self, v: &str) -> bool {
        match self {
            Matcher::StrEq(s) => v == &**s,
            Matcher::StrNe(s) => v != &**s,
            Matcher::StrCmp(op, s) => ordering_holds(*op, v.as_bytes().cmp(s.as_bytes())),
            Matcher::NumCmp(op, n) => match v.parse::<u64>() {
                Ok(x) => match op {
                    Op::Eq => x == *n,
                    Op::Ne => x != *n,
                    _ => ordering_holds(*op, x.cmp(n)),
                },
                Err(_) => false,
            },
            Matcher::Contains(f) => f.find(v.as_bytes()).is_some(),
            Matcher::IContains(needle) => icontains(v.as_bytes(), needle),
            Matcher::StartsWith(s) => v.starts_with(&**s),
            Matcher::EndsWith(s) => v.ends_with(&**s),
            Matcher::Glob(p, fold) => fnmatch(p, v.as_bytes(), *fold),
            Matcher::Regex(r) => r.is_match(v),
        }
    }
}

impl ValueSet {
    /// Builds a set of constants for a left-hand side of type `ty`.
    pub fn new(values: &[String], ty: FieldType) -> Result<ValueSet, String> {
        if ty.is_numeric() {
            return values
                .iter()
                .map(|v| parse_number(v))
                .collect::<Result<Vec<_>, _>>()
                .map(ValueSet::Num);
        }
        if values.len() <= SMALL_SET {
            Ok(ValueSet::Small(
                values.iter().map(|v| v.as_str().into()).collect(),
            ))
        } else {
            Ok(ValueSet::Hashed(
                values.iter().map(|v| v.as_str().into()).collect(),
            ))
        }
    }

    /// Membership test.
    #[inline]
    pub fn contains(&self, v: &str) -> bool {
        match self {
            ValueSet::Small(items) => items.iter().any(|i| same_bytes(i.as_bytes(), v.as_bytes())),
            ValueSet::Hashed(set) => set.contains(v),
            ValueSet::Num(nums) => v.parse::<u64>().is_ok_and(|x| nums.contains(&x)),
        }
    }
}

/// Parses a decimal unsigned integer as libsinsp's value parser does; the error is
/// `sinsp_numparser::parseu64`'s message.
///
/// That is `sscanf("%lu%c")` succeeding with one conversion: leading white space and one
/// sign are accepted, a `-` wraps around (`-1` is `u64::MAX`), an out-of-range value
/// saturates (glibc `strtoull`), and nothing may follow the digits.
pub(crate) fn parse_number(v: &str) -> Result<u64, String> {
    let err = || format!("{v} is not a valid number");
    let t = v.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let n = digits.parse::<u64>().unwrap_or(u64::MAX);
    Ok(if negative { n.wrapping_neg() } else { n })
}

fn ordering_holds(op: Op, ord: Ordering) -> bool {
    match op {
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        _ => false,
    }
}

fn icontains(hay: &[u8], needle_lower: &[u8]) -> bool {
    if needle_lower.is_empty() {
        return true;
    }
    hay.windows(needle_lower.len()).any(|w| {
        w.iter()
            .zip(needle_lower)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

/// Counts how many matchers accept `v` and applies the modifier.
fn modified_holds(m: Modifier, matchers: &[Matcher], v: &str) -> bool {
    if matchers.is_empty() {
        return false;
    }
    match m {
        Modifier::AnyOf => matchers.iter().any(|x| x.matches(v)),
        Modifier::AllOf => matchers.iter().all(|x| x.matches(v)),
        Modifier::OneOf => matchers.iter().filter(|x| x.matches(v)).count() == 1,
    }
}

impl CheckCode {
    /// Evaluates the check with the precompiled matchers (the VM path).
    pub fn eval<'e, E: EventView + ?Sized>(
        &self,
        cache: &mut FieldCache<'e>,
        event: &'e E,
    ) -> bool {
        if let RhsCode::Field(rhs) = &self.rhs {
            let Some(lhs) = self.lhs.eval(cache, event) else {
                return false;
            };
            let Some(rhs) = rhs.eval(cache, event) else {
                return false;
            };
            return self.eval_against_values(&lhs, &rhs);
        }
        match self.lhs.as_slot() {
            Some(slot) => match cache.get(slot, event) {
                Some(vals) => self.eval_constant(vals),
                None => false,
            },
            None => match self.lhs.eval(cache, event) {
                Some(vals) if !vals.is_empty() => self.eval_constant(&vals),
                _ => false,
            },
        }
    }

    fn eval_constant(&self, vals: &[Cow<'_, str>]) -> bool {
        let Some(first) = vals.first() else {
            return false;
        };
        match &self.rhs {
            RhsCode::None => true,
            RhsCode::Set(set) => {
                if self.lhs_type.is_list {
                    match self.op {
                        Op::In => vals.iter().all(|v| set.contains(v)),
                        _ => vals.iter().any(|v| set.contains(v)),
                    }
                } else {
                    set.contains(first)
                }
            }
            RhsCode::Scalar(m) if self.lhs_type.is_list => vals.iter().any(|v| m.matches(v)),
            RhsCode::Scalar(m) => m.matches(first),
            RhsCode::PMatch(p) if self.lhs_type.is_list => vals.iter().any(|v| p.matches(v)),
            RhsCode::PMatch(p) => p.matches(first),
            RhsCode::Modified(md, ms) => modified_holds(*md, ms, first),
            RhsCode::Field(_) => false,
        }
    }

    /// Compares against values extracted from a right-hand field.
    fn eval_against_values(&self, lhs: &[Cow<'_, str>], rhs: &[Cow<'_, str>]) -> bool {
        let (Some(l0), Some(r0)) = (lhs.first(), rhs.first()) else {
            return false;
        };
        match self.op {
            Op::In | Op::Intersects => {
                if self.lhs_type.is_list && self.op == Op::In {
                    lhs.iter().all(|l| rhs.iter().any(|r| r == l))
                } else {
                    lhs.iter().any(|l| rhs.iter().any(|r| r == l))
                }
            }
            op => naive_match(op, self.lhs_type.ty, l0, r0),
        }
    }

    /// Evaluates the check with naive, uncompiled semantics (the reference evaluator).
    pub fn eval_naive<'e, E: EventView + ?Sized>(
        &self,
        cache: &mut FieldCache<'e>,
        event: &'e E,
    ) -> bool {
        let Some(lhs) = self.lhs.eval(cache, event) else {
            return false;
        };
        if lhs.is_empty() {
            return false;
        }
        let values: Vec<Cow<'_, str>> = match &self.raw {
            RawRhs::None => return true,
            RawRhs::Field => match &self.rhs {
                RhsCode::Field(r) => match r.eval(cache, event) {
                    Some(v) => v,
                    None => return false,
                },
                _ => return false,
            },
            RawRhs::Values(v) => v.iter().map(|s| Cow::Borrowed(s.as_str())).collect(),
            RawRhs::Modified(m, v) => {
                let hits = v
                    .iter()
                    .filter(|r| naive_match(self.op, self.lhs_type.ty, &lhs[0], r))
                    .count();
                return match m {
                    Modifier::AnyOf => hits >= 1,
                    Modifier::OneOf => hits == 1,
                    Modifier::AllOf => !v.is_empty() && hits == v.len(),
                };
            }
        };
        match self.op {
            Op::In if self.lhs_type.is_list => lhs
                .iter()
                .all(|l| values.iter().any(|r| naive_eq(self.lhs_type.ty, l, r))),
            Op::In | Op::Intersects => lhs
                .iter()
                .any(|l| values.iter().any(|r| naive_eq(self.lhs_type.ty, l, r))),
            Op::PMatch => {
                let set = PathPrefixSet::new(values.iter().map(|v| &**v));
                lhs.iter().any(|l| set.matches(l))
            }
            op => values
                .first()
                .is_some_and(|r| lhs.iter().any(|l| naive_match(op, self.lhs_type.ty, l, r))),
        }
    }
}

fn naive_eq(ty: FieldType, l: &str, r: &str) -> bool {
    if ty.is_numeric() {
        matches!((l.parse::<u64>(), parse_number(r)), (Ok(a), Ok(b)) if a == b)
    } else {
        l == r
    }
}

/// Straightforward semantics of one operator on one value pair.
pub(crate) fn naive_match(op: Op, ty: FieldType, l: &str, r: &str) -> bool {
    if ty.is_numeric() {
        let (Ok(a), Ok(b)) = (l.parse::<u64>(), parse_number(r)) else {
            return false;
        };
        return match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            _ => ordering_holds(op, a.cmp(&b)),
        };
    }
    match op {
        Op::Exists => true,
        Op::Eq => l == r,
        Op::Ne => l != r,
        Op::Lt | Op::Le | Op::Gt | Op::Ge => ordering_holds(op, l.as_bytes().cmp(r.as_bytes())),
        Op::Contains | Op::BContains => l.contains(r),
        Op::IContains => l.to_ascii_lowercase().contains(&r.to_ascii_lowercase()),
        Op::StartsWith | Op::BStartsWith => l.starts_with(r),
        Op::EndsWith => l.ends_with(r),
        Op::Glob => fnmatch(r.as_bytes(), l.as_bytes(), false),
        Op::IGlob => fnmatch(r.as_bytes(), l.as_bytes(), true),
        Op::Regex => compile_full_match(r).is_ok_and(|re| re.is_match(l)),
        Op::In | Op::Intersects => l == r,
        Op::PMatch => PathPrefixSet::new([r]).matches(l),
    }
}
