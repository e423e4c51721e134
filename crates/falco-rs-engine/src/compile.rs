//! Lowering of a (macro-resolved) condition AST to checks and bytecode.

use crate::check::{CheckCode, Matcher, RawRhs, RhsCode, ValueSet};
use crate::field::{FieldCatalog, FieldMeta, FieldType};
use crate::format::{OutputFormat, Segment};
use crate::pmatch::PathPrefixSet;
use crate::program::{Filter, FilterId, Insn, Ir, OutputId, Program};
use crate::value::{ValueExpr, ValueType};
use falco_rs_syntax::{parse_operand, Check, Expr, Op, Operand, Rhs, Span, Transformer};
use std::collections::HashMap;

/// A compile error with the position of the offending node in the condition text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// libsinsp-style message, e.g. `filter_check called with nonexistent field ka.nope`.
    pub message: String,
    /// Span of the node the error refers to.
    pub span: Span,
}

/// A compiler hint (Falco's `LOAD_COMPILE_CONDITION` warnings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileWarning {
    /// The message.
    pub message: String,
    /// Span of the value the warning refers to.
    pub span: Span,
}

/// Incrementally builds a [`Program`] from rule conditions and output formats.
pub struct ProgramBuilder<'c> {
    catalog: &'c dyn FieldCatalog,
    fields: Vec<FieldMeta>,
    slots: HashMap<(String, Option<String>), u32>,
    checks: Vec<CheckCode>,
    filters: Vec<Filter>,
    outputs: Vec<OutputFormat>,
}

impl<'c> ProgramBuilder<'c> {
    /// A builder resolving fields with `catalog`.
    pub fn new(catalog: &'c dyn FieldCatalog) -> Self {
        ProgramBuilder {
            catalog,
            fields: Vec::new(),
            slots: HashMap::new(),
            checks: Vec::new(),
            filters: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// Compiles one condition. Macro references must already be expanded.
    pub fn add_filter(
        &mut self,
        expr: &Expr,
    ) -> Result<(FilterId, Vec<CompileWarning>), CompileError> {
        let mut warnings = Vec::new();
        let ir = self.lower(expr, &mut warnings)?;
        let mut code = Vec::new();
        emit(&ir, &mut code);
        code.push(Insn::Ret);
        self.filters.push(Filter { code, ir });
        Ok((FilterId(self.filters.len() as u32 - 1), warnings))
    }

    /// Compiles an output format string (`%field` tokens, Falco formatter rules).
    pub fn add_output(&mut self, format: &str) -> Result<OutputId, String> {
        let fmt = self.compile_output(format)?;
        self.outputs.push(fmt);
        Ok(OutputId(self.outputs.len() as u32 - 1))
    }

    /// Checks that `text` would compile as a condition field (used for exception fields).
    pub fn is_valid_lhs_operand(&mut self, operand: &Operand) -> bool {
        self.value_expr(operand).is_ok()
    }

    /// Finishes the program.
    pub fn finish(self) -> Program {
        Program {
            fields: self.fields,
            checks: self.checks,
            filters: self.filters,
            outputs: self.outputs,
        }
    }

    fn slot(
        &mut self,
        name: &str,
        arg: Option<&str>,
        span: Span,
    ) -> Result<(u32, FieldMeta), CompileError> {
        let key = (name.to_string(), arg.map(str::to_string));
        if let Some(&s) = self.slots.get(&key) {
            return Ok((s, self.fields[s as usize].clone()));
        }
        let meta = self
            .catalog
            .resolve(name, arg)
            .map_err(|message| CompileError { message, span })?;
        let s = self.fields.len() as u32;
        self.fields.push(meta.clone());
        self.slots.insert(key, s);
        Ok((s, meta))
    }

    fn lower(
        &mut self,
        expr: &Expr,
        warnings: &mut Vec<CompileWarning>,
    ) -> Result<Ir, CompileError> {
        Ok(match expr {
            Expr::And(children, _) => Ir::And(
                children
                    .iter()
                    .map(|c| self.lower(c, warnings))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(children, _) => Ir::Or(
                children
                    .iter()
                    .map(|c| self.lower(c, warnings))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(child, _) => Ir::Not(Box::new(self.lower(child, warnings)?)),
            Expr::Macro(name, span) => {
                return Err(CompileError {
                    message: format!("filter error: unexpected identifier '{name}'"),
                    span: *span,
                })
            }
            Expr::Check(check) => {
                let code = self.compile_check(check, warnings)?;
                self.checks.push(code);
                Ir::Check(self.checks.len() as u32 - 1)
            }
        })
    }

    fn value_expr(&mut self, operand: &Operand) -> Result<(ValueExpr, ValueType), CompileError> {
        match operand {
            Operand::Field(f) => {
                let (slot, meta) = self.slot(&f.name, f.arg.as_deref(), f.span)?;
                Ok((
                    ValueExpr::Field(slot),
                    ValueType {
                        ty: meta.ty,
                        is_list: meta.is_list,
                    },
                ))
            }
            Operand::Literal(s, _) => Ok((
                ValueExpr::Literal(s.clone()),
                ValueType {
                    ty: FieldType::String,
                    is_list: false,
                },
            )),
            Operand::List(_, span) => Err(CompileError {
                message: "filter error: unexpected list in field expression".into(),
                span: *span,
            }),
            Operand::Transform {
                kind,
                args,
                arg,
                span,
            } => {
                let err = |message: String| CompileError {
                    message,
                    span: *span,
                };
                if arg.is_some() {
                    return Err(err(format!(
                        "filter error: transformer '{}' does not support arguments",
                        kind.name()
                    )));
                }
                match kind {
                    Transformer::ToLower
                    | Transformer::ToUpper
                    | Transformer::B64
                    | Transformer::Basename
                    | Transformer::Len => {
                        let [inner] = args.as_slice() else {
                            return Err(err(format!(
                                "filter error: transformer '{}' expects one argument",
                                kind.name()
                            )));
                        };
                        let (inner_expr, inner_ty) = self.value_expr(inner)?;
                        if inner_ty.ty != FieldType::String && !(inner_ty.is_list && *kind == Transformer::Len) {
                            return Err(err(format!(
                                "can't add field transformer: type '{}' is not supported by '{}' transformer applied on {}field '{}'",
                                type_name(ValueType { is_list: false, ..inner_ty }),
                                kind.name(),
                                if inner_ty.is_list { "list " } else { "" },
                                operand_field_name(inner),
                            )));
                        }
                        if *kind == Transformer::Len {
                            Ok((
                                ValueExpr::Len {
                                    inner: Box::new(inner_expr),
                                    list: inner_ty.is_list,
                                },
                                ValueType {
                                    ty: FieldType::U64,
                                    is_list: false,
                                },
                            ))
                        } else {
                            Ok((ValueExpr::Unary(*kind, Box::new(inner_expr)), inner_ty))
                        }
                    }
                    Transformer::Join => {
                        let [sep, list] = args.as_slice() else {
                            return Err(err("filter error: transformer 'join' expects two arguments".into()));
                        };
                        let Operand::Literal(sep, _) = sep else {
                            return Err(err("filter error: transformer 'join' expects a constant separator".into()));
                        };
                        let (inner, _) = self.value_expr(list)?;
                        Ok((
                            ValueExpr::Join(sep.clone(), Box::new(inner)),
                            ValueType {
                                ty: FieldType::String,
                                is_list: false,
                            },
                        ))
                    }
                    Transformer::Concat => {
                        if args.len() < 2 {
                            return Err(err("filter error: transformer 'concat' expects at least two arguments".into()));
                        }
                        let mut parts = Vec::new();
                        for a in args {
                            let (e, t) = self.value_expr(a)?;
                            if t.is_list {
                                return Err(err("filter error: transformer 'concat' does not accept list arguments".into()));
                            }
                            parts.push(e);
                        }
                        Ok((
                            ValueExpr::Concat(parts),
                            ValueType {
                                ty: FieldType::String,
                                is_list: false,
                            },
                        ))
                    }
                    Transformer::Getopt => Err(err(
                        "filter error: transformer 'getopt' is not supported on the k8s_audit source".into(),
                    )),
                }
            }
        }
    }

    fn compile_check(
        &mut self,
        check: &Check,
        warnings: &mut Vec<CompileWarning>,
    ) -> Result<CheckCode, CompileError> {
        let span = check.span;
        let err = |message: String| CompileError { message, span };
        let (lhs, lhs_type) = self.value_expr(&check.lhs)?;
        let op = check.op;
        let legacy_list_op = lhs_type.is_list
            && !matches!(op, Op::Exists | Op::In | Op::Intersects)
            && matches!(check.rhs, Rhs::Value(..) | Rhs::List(..));
        if legacy_list_op {
            // Falco <= 0.34 accepted scalar operators on list fields and matched when any
            // element matched; current libsinsp rejects them. Keep old rulesets loading.
            check_comparable(
                op,
                ValueType {
                    is_list: false,
                    ..lhs_type
                },
            )
            .map_err(|e| err(format!("filter error: {e}")))?;
            warnings.push(CompileWarning {
                message: format!(
                    "'{}' on a list field is rejected by current Falco ('{}' operator not supported list filters); falco-rs matches when any element matches, as Falco <= 0.34 did. Use 'intersects' or a per-element field instead",
                    op.as_str(),
                    op.as_str()
                ),
                span,
            });
        } else {
            check_comparable(op, lhs_type).map_err(|e| err(format!("filter error: {e}")))?;
        }
        let (rhs, raw) = match &check.rhs {
            Rhs::None => (RhsCode::None, RawRhs::None),
            Rhs::Value(v, vspan) => {
                self.value_warnings(op, v, *vspan, warnings);
                if op.is_list_op() {
                    (
                        self.constant_set(op, lhs_type, std::slice::from_ref(v))
                            .map_err(err)?,
                        RawRhs::Values(vec![v.clone()]),
                    )
                } else {
                    (
                        RhsCode::Scalar(Matcher::new(op, lhs_type.ty, v).map_err(err)?),
                        RawRhs::Values(vec![v.clone()]),
                    )
                }
            }
            Rhs::List(values, vspan) => {
                for v in values {
                    self.value_warnings(op, v, *vspan, warnings);
                }
                (
                    self.constant_set(op, lhs_type, values).map_err(err)?,
                    RawRhs::Values(values.clone()),
                )
            }
            Rhs::Modified(m, values, _) => {
                if lhs_type.is_list {
                    return Err(err(format!(
                        "filter error: '{} {}' operator not supported list filters",
                        op.as_str(),
                        m.as_str()
                    )));
                }
                let matchers = values
                    .iter()
                    .map(|v| Matcher::new(op, lhs_type.ty, v))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(err)?;
                (
                    RhsCode::Modified(*m, matchers),
                    RawRhs::Modified(*m, values.clone()),
                )
            }
            Rhs::Field(operand) => {
                if matches!(op, Op::PMatch | Op::Regex) {
                    // `std::to_string(cmpop)` in libsinsp's message.
                    return Err(err(format!(
                        "operator '{}' doesn't support right-hand side fields",
                        op.as_str().to_ascii_uppercase()
                    )));
                }
                let (rexpr, rtype) = self.value_expr(operand)?;
                if rtype.ty != lhs_type.ty || rtype.is_list != lhs_type.is_list {
                    return Err(err(format!(
                        "field '{}' has type '{}' while the right-hand side field '{}' has incompatible type '{}'",
                        operand_field_name(&check.lhs),
                        type_name(lhs_type),
                        operand_field_name(operand),
                        type_name(rtype),
                    )));
                }
                (RhsCode::Field(rexpr), RawRhs::Field)
            }
        };
        Ok(CheckCode {
            lhs,
            lhs_type,
            op,
            rhs,
            raw,
            span,
        })
    }

    fn constant_set(&self, op: Op, ty: ValueType, values: &[String]) -> Result<RhsCode, String> {
        match op {
            Op::PMatch => Ok(RhsCode::PMatch(PathPrefixSet::new(
                values.iter().map(String::as_str),
            ))),
            Op::In | Op::Intersects => ValueSet::new(values, ty.ty).map(RhsCode::Set),
            _ => Err(format!(
                "filter error: '{}' operator does not accept a list of values",
                op.as_str()
            )),
        }
    }

    fn value_warnings(&self, op: Op, v: &str, span: Span, warnings: &mut Vec<CompileWarning>) {
        let nospaces: String = v.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if op == Op::Regex {
            if let Some(m) = regex_simplification_hint(v) {
                warnings.push(CompileWarning { message: m, span });
            }
        }
        if nospaces.contains('.') && self.catalog.has_field(field_name_part(&nospaces)) {
            warnings.push(CompileWarning {
                message: format!("'{v}' may be a valid field misused as a const string value"),
                span,
            });
        }
        for t in Transformer::ALL.iter().map(|t| t.name()).chain(["val"]) {
            if nospaces.len() >= t.len() + 2
                && nospaces.starts_with(t)
                && nospaces.as_bytes()[t.len()] == b'('
                && nospaces.ends_with(')')
            {
                warnings.push(CompileWarning {
                    message: format!(
                        "'{v}' may be a valid field transformer misused as a const string value"
                    ),
                    span,
                });
            }
        }
    }

    fn compile_output(&mut self, format: &str) -> Result<OutputFormat, String> {
        // Error texts are libsinsp's (`sinsp_evt_formatter::set_format`).
        if format.is_empty() {
            return Err("empty formatting token".into());
        }
        let mut segments = Vec::new();
        let mut text = String::new();
        let bytes = format.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'%' {
                let next = format[i..].find('%').map_or(bytes.len(), |n| i + n);
                text.push_str(&format[i..next]);
                i = next;
                continue;
            }
            let mut j = i + 1;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            // A width of 0 means no width, as in libsinsp.
            let width = format[i + 1..j].parse::<usize>().ok().filter(|w| *w > 0);
            if j >= bytes.len() {
                return Err(if j == i + 1 {
                    "invalid formatting syntax: formatting cannot end with a %".into()
                } else {
                    "invalid formatting syntax: formatting cannot end with a number".into()
                });
            }
            let rest = &format[j..];
            // libsinsp backs off to a one-character token, which never parses, and
            // reports that last parser error.
            let (expr, key, consumed) = self
                .longest_output_token(rest)
                .ok_or_else(|| "unknown filter: unexpected token after '".to_string())?;
            if !text.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut text)));
            }
            segments.push(Segment::Value { expr, width, key });
            i = j + consumed;
        }
        if !text.is_empty() {
            segments.push(Segment::Text(text));
        }
        Ok(OutputFormat { segments })
    }

    /// Parses the longest operand at the start of `rest` whose fields all resolve,
    /// backing off one byte at a time like libsinsp's formatter.
    fn longest_output_token(&mut self, rest: &str) -> Option<OutputToken> {
        let mut end = rest.len();
        while end > 0 {
            if !rest.is_char_boundary(end) {
                end -= 1;
                continue;
            }
            if let Ok((operand, consumed)) = parse_operand(&rest[..end]) {
                if let Ok((expr, _)) = self.value_expr(&operand) {
                    let key = operand.base_field().and_then(|f| {
                        self.slot(&f.name, f.arg.as_deref(), f.span)
                            .ok()
                            .map(|(s, meta)| (meta.display_name(), s))
                    });
                    return Some((expr, key, consumed));
                }
                end = consumed.min(end) - 1;
                continue;
            }
            end -= 1;
        }
        None
    }
}

/// A parsed output token: its expression, its `output_fields` key and slot, and the
/// number of bytes it consumed.
type OutputToken = (ValueExpr, Option<(String, u32)>, usize);

/// libsinsp `param_type_to_string` of a value type, with ` (list)` for lists (as in the
/// right-hand-side type mismatch message).
fn type_name(t: ValueType) -> String {
    let name = match t.ty {
        FieldType::String => "CHARBUF",
        FieldType::U64 => "UINT64",
        FieldType::AbsTime => "ABSTIME",
        FieldType::RelTime => "RELTIME",
        FieldType::Bool => "BOOL",
    };
    if t.is_list {
        format!("{name} (list)")
    } else {
        name.to_string()
    }
}

/// The field name libsinsp reports for an operand: its innermost field (transformers
/// keep the name of the field they wrap).
fn operand_field_name(operand: &Operand) -> String {
    match operand.base_field() {
        Some(f) => f.name.clone(),
        None => operand.to_string(),
    }
}

/// The part of a dotted value before any `[`, for the field-misuse hint.
fn field_name_part(v: &str) -> &str {
    v.split('[').next().unwrap_or(v)
}

/// libsinsp's hint for regexes that a simpler operator could replace.
fn regex_simplification_hint(v: &str) -> Option<String> {
    const SPECIAL: &[u8] = b".+*?^$()[]{}|\\";
    const OCCURRENCE: &[u8] = b"+*?";
    let b = v.as_bytes();
    let len = b.len();
    let mut i = 0;
    while i < len {
        if (i == 0 && b[i] == b'^') || (i == len - 1 && b[i] == b'$') {
            i += 1;
            continue;
        }
        if ((i == 0 && len > 1) || (len >= 2 && i == len - 2))
            && b[i] == b'.'
            && b.get(i + 1).is_some_and(|c| OCCURRENCE.contains(c))
        {
            i += 2;
            continue;
        }
        if SPECIAL.contains(&b[i]) {
            return None;
        }
        i += 1;
    }
    Some(format!(
        "regex check with '{v}' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'"
    ))
}

/// libsinsp `flt_is_comparable` for the types that exist on plugin sources.
fn check_comparable(op: Op, t: ValueType) -> Result<(), String> {
    if op == Op::Exists {
        return Ok(());
    }
    if t.is_list {
        return match op {
            Op::In | Op::Intersects => Ok(()),
            _ => Err(format!(
                "'{}' operator not supported list filters",
                op.as_str()
            )),
        };
    }
    let ok = match t.ty {
        FieldType::String => !matches!(op, Op::BContains | Op::BStartsWith),
        FieldType::U64 | FieldType::AbsTime | FieldType::RelTime => matches!(
            op,
            Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::In | Op::Intersects
        ),
        FieldType::Bool => matches!(op, Op::Eq | Op::Ne | Op::In | Op::Intersects),
    };
    if ok {
        Ok(())
    } else {
        let kind = match t.ty {
            FieldType::String => "string",
            FieldType::Bool => "boolean",
            _ => "numeric",
        };
        Err(format!(
            "'{}' operator not supported for {kind} filters",
            op.as_str()
        ))
    }
}

/// Emits bytecode with short-circuit jumps. The accumulator holds the last result.
fn emit(ir: &Ir, code: &mut Vec<Insn>) {
    match ir {
        Ir::Check(i) => code.push(Insn::Check(*i)),
        Ir::Not(child) => {
            emit(child, code);
            code.push(Insn::Not);
        }
        Ir::And(children) | Ir::Or(children) => {
            let is_and = matches!(ir, Ir::And(_));
            let mut patches = Vec::new();
            for (k, child) in children.iter().enumerate() {
                emit(child, code);
                if k + 1 < children.len() {
                    patches.push(code.len());
                    code.push(if is_and {
                        Insn::JumpIfFalse(0)
                    } else {
                        Insn::JumpIfTrue(0)
                    });
                }
            }
            let end = code.len() as u32;
            for p in patches {
                code[p] = if is_and {
                    Insn::JumpIfFalse(end)
                } else {
                    Insn::JumpIfTrue(end)
                };
            }
        }
    }
}
