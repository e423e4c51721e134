//! The compiled program: field table, checks, per-rule bytecode, output formats; the VM
//! and the tree-walking reference evaluator.

use crate::cache::{CacheBuffers, FieldCache};
use crate::check::CheckCode;
use crate::check::{Matcher, RawRhs, RhsCode};
use crate::field::{EventView, FieldMeta};
use crate::format::{OutputFormat, OutputValue};
use falco_rs_syntax::Op;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Index of a compiled condition in a [`Program`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FilterId(pub u32);

/// Index of a compiled output format in a [`Program`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutputId(pub u32);

/// Bytecode instructions. The VM keeps one boolean accumulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Insn {
    /// Evaluate check `n` into the accumulator.
    Check(u32),
    /// Negate the accumulator.
    Not,
    /// Jump when the accumulator is false (AND short-circuit).
    JumpIfFalse(u32),
    /// Jump when the accumulator is true (OR short-circuit).
    JumpIfTrue(u32),
    /// Return the accumulator.
    Ret,
}

/// Boolean structure of a condition, evaluated by the reference evaluator.
#[derive(Debug, Clone)]
pub(crate) enum Ir {
    And(Vec<Ir>),
    Or(Vec<Ir>),
    Not(Box<Ir>),
    Check(u32),
}

#[derive(Debug)]
pub(crate) struct Filter {
    pub code: Vec<Insn>,
    pub ir: Ir,
}

/// An immutable compiled program, shareable across threads.
#[derive(Debug)]
pub struct Program {
    pub(crate) fields: Vec<FieldMeta>,
    pub(crate) checks: Vec<CheckCode>,
    pub(crate) filters: Vec<Filter>,
    pub(crate) outputs: Vec<OutputFormat>,
}

impl Program {
    /// Fields used by the program, by slot.
    pub fn fields(&self) -> &[FieldMeta] {
        &self.fields
    }

    /// A fresh per-event field cache.
    pub fn new_cache(&self) -> FieldCache<'_> {
        FieldCache::new(&self.fields)
    }

    /// A per-event field cache reusing the allocations of an earlier one
    /// (see [`FieldCache::into_buffers`]).
    pub fn cache_with(&self, buffers: CacheBuffers) -> FieldCache<'_> {
        FieldCache::from_buffers(&self.fields, buffers)
    }

    /// The values a plain, single-valued field `name` (no argument, no transformer) must
    /// equal for `filter` to be true, when the condition requires it: `Some(set)` means
    /// "true only if the field is extracted with one value in `set`". `None` when the
    /// condition does not constrain the field (or the analysis cannot tell). Conservative:
    /// only `=` and `in` against constants, combined through `and` (intersection) and `or`
    /// (union, when every branch is constrained); `not` forgets everything.
    pub fn required_values(&self, filter: FilterId, name: &str) -> Option<BTreeSet<String>> {
        let f = self.filters.get(filter.0 as usize)?;
        self.ir_required(&f.ir, name)
    }

    fn ir_required(&self, ir: &Ir, name: &str) -> Option<BTreeSet<String>> {
        match ir {
            Ir::Check(i) => self.check_required(*i, name),
            Ir::Not(_) => None,
            Ir::And(children) => {
                let mut acc: Option<BTreeSet<String>> = None;
                for c in children {
                    if let Some(s) = self.ir_required(c, name) {
                        acc = Some(match acc {
                            None => s,
                            Some(a) => a.intersection(&s).cloned().collect(),
                        });
                    }
                }
                acc
            }
            Ir::Or(children) => {
                let mut acc = BTreeSet::new();
                for c in children {
                    acc.extend(self.ir_required(c, name)?);
                }
                Some(acc)
            }
        }
    }

    /// Prefixes `p` such that `filter` is false for every event whose plain, single-valued
    /// field `name` is extracted as a string starting with `p` (Falco's
    /// `not ka.user.name startswith "system:"`). Conservative: only `not (name startswith
    /// p)`, combined through `and` (union: one false conjunct suffices) and `or`
    /// (intersection: every branch must be false). A field that is not extracted excludes
    /// nothing: `startswith` is then false and its negation true.
    pub fn excluded_prefixes(&self, filter: FilterId, name: &str) -> BTreeSet<String> {
        self.filters
            .get(filter.0 as usize)
            .map(|f| self.ir_excluded(&f.ir, name))
            .unwrap_or_default()
    }

    fn ir_excluded(&self, ir: &Ir, name: &str) -> BTreeSet<String> {
        match ir {
            Ir::Check(_) => BTreeSet::new(),
            Ir::Not(child) => match **child {
                Ir::Check(i) => self.check_prefix(i, name).into_iter().collect(),
                _ => BTreeSet::new(),
            },
            Ir::And(children) => children
                .iter()
                .flat_map(|c| self.ir_excluded(c, name))
                .collect(),
            Ir::Or(children) => {
                let mut branches = children.iter().map(|c| self.ir_excluded(c, name));
                let first = branches.next().unwrap_or_default();
                branches.fold(first, |acc, b| acc.intersection(&b).cloned().collect())
            }
        }
    }

    /// `p` when check `i` is `name startswith p` on the plain string field `name`.
    fn check_prefix(&self, i: u32, name: &str) -> Option<String> {
        let c = self.plain_check(i, name)?;
        match (&c.op, &c.rhs) {
            (Op::StartsWith, RhsCode::Scalar(Matcher::StartsWith(p))) => Some(p.to_string()),
            _ => None,
        }
    }

    /// Check `i` when its left-hand side is the plain (no argument, single-valued,
    /// not numeric) field `name`.
    fn plain_check(&self, i: u32, name: &str) -> Option<&CheckCode> {
        let c = self.checks.get(i as usize)?;
        let slot = c.lhs.as_slot()?;
        let meta = self.fields.get(slot as usize)?;
        if meta.name != name || meta.arg.is_some() || meta.is_list || c.lhs_type.is_list {
            return None;
        }
        if meta.ty.is_numeric() {
            return None;
        }
        Some(c)
    }

    fn check_required(&self, i: u32, name: &str) -> Option<BTreeSet<String>> {
        let c = self.plain_check(i, name)?;
        match (&c.op, &c.rhs, &c.raw) {
            (Op::Eq, RhsCode::Scalar(Matcher::StrEq(v)), _) => {
                Some(std::iter::once(v.to_string()).collect())
            }
            (Op::In, RhsCode::Set(_), RawRhs::Values(vals)) => Some(vals.iter().cloned().collect()),
            _ => None,
        }
    }

    /// Evaluates a condition with the bytecode VM.
    pub fn eval<'e, E: EventView + ?Sized>(
        &'e self,
        filter: FilterId,
        cache: &mut FieldCache<'e>,
        event: &'e E,
    ) -> bool {
        let Some(f) = self.filters.get(filter.0 as usize) else {
            return false;
        };
        let code = &f.code;
        let mut acc = false;
        let mut pc = 0usize;
        while let Some(insn) = code.get(pc) {
            pc += 1;
            match *insn {
                Insn::Check(i) => acc = self.checks[i as usize].eval(cache, event),
                Insn::Not => acc = !acc,
                Insn::JumpIfFalse(t) => {
                    if !acc {
                        pc = t as usize;
                    }
                }
                Insn::JumpIfTrue(t) => {
                    if acc {
                        pc = t as usize;
                    }
                }
                Insn::Ret => return acc,
            }
        }
        acc
    }

    /// Evaluates a condition with the tree-walking reference evaluator and naive check
    /// semantics. Must always agree with [`Program::eval`].
    pub fn eval_reference<'e, E: EventView + ?Sized>(
        &'e self,
        filter: FilterId,
        cache: &mut FieldCache<'e>,
        event: &'e E,
    ) -> bool {
        match self.filters.get(filter.0 as usize) {
            Some(f) => self.eval_ir(&f.ir, cache, event),
            None => false,
        }
    }

    fn eval_ir<'e, E: EventView + ?Sized>(
        &'e self,
        ir: &Ir,
        cache: &mut FieldCache<'e>,
        event: &'e E,
    ) -> bool {
        match ir {
            Ir::And(c) => c.iter().all(|x| self.eval_ir(x, cache, event)),
            Ir::Or(c) => c.iter().any(|x| self.eval_ir(x, cache, event)),
            Ir::Not(c) => !self.eval_ir(c, cache, event),
            Ir::Check(i) => self.checks[*i as usize].eval_naive(cache, event),
        }
    }

    /// Renders an output format as Falco's text formatter does (`<NA>` for missing
    /// values, lists as `(a,b)`), appending to `out`.
    pub fn render_output<'e, E: EventView + ?Sized>(
        &'e self,
        output: OutputId,
        cache: &mut FieldCache<'e>,
        event: &'e E,
        out: &mut String,
    ) {
        if let Some(f) = self.outputs.get(output.0 as usize) {
            f.render(cache, event, out);
        }
    }

    /// The `output_fields` of an output format: field display name → value, in the order
    /// the tokens appear (the caller sorts for JSON).
    pub fn output_fields<'e, E: EventView + ?Sized>(
        &'e self,
        output: OutputId,
        cache: &mut FieldCache<'e>,
        event: &'e E,
    ) -> Vec<(String, OutputValue)> {
        match self.outputs.get(output.0 as usize) {
            Some(f) => f.fields(&self.fields, cache, event),
            None => Vec::new(),
        }
    }

    /// Human-readable bytecode of one condition (for `--explain` and tests).
    pub fn disassemble(&self, filter: FilterId) -> String {
        let mut s = String::new();
        if let Some(f) = self.filters.get(filter.0 as usize) {
            for (pc, insn) in f.code.iter().enumerate() {
                let _ = match insn {
                    Insn::Check(i) => {
                        let c = &self.checks[*i as usize];
                        writeln!(
                            s,
                            "{pc:04} check #{i} {} ({}..{})",
                            c.op, c.span.start, c.span.end
                        )
                    }
                    Insn::Not => writeln!(s, "{pc:04} not"),
                    Insn::JumpIfFalse(t) => writeln!(s, "{pc:04} jump_if_false {t:04}"),
                    Insn::JumpIfTrue(t) => writeln!(s, "{pc:04} jump_if_true {t:04}"),
                    Insn::Ret => writeln!(s, "{pc:04} ret"),
                };
            }
        }
        s
    }

    /// Number of compiled conditions.
    pub fn filter_count(&self) -> usize {
        self.filters.len()
    }
}
