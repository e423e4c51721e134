//! Explanations: a condition evaluated as a tree, with every sub-expression's result and
//! the field values each check read, so one can see why a rule fired or did not.
//! Every branch is evaluated (no short-circuit) with the reference semantics.

use crate::cache::FieldCache;
use crate::check::{CheckCode, RawRhs};
use crate::field::{EventView, FieldMeta};
use crate::program::{FilterId, Ir, Program};
use crate::value::ValueExpr;
use std::fmt::Write as _;

/// One node of an explanation tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainNode {
    /// What the node is.
    pub kind: ExplainKind,
    /// Its boolean value on the event.
    pub result: bool,
    /// Sub-expressions.
    pub children: Vec<ExplainNode>,
}

/// Node kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExplainKind {
    /// `a and b ...`
    And,
    /// `a or b ...`
    Or,
    /// `not a`
    Not,
    /// A check with its text and the values of the field it read (`None`: not
    /// extracted, so the check is false).
    Check {
        /// The check as text, e.g. `ka.verb in (create, update)`.
        text: String,
        /// The field (or transformer expression) read.
        field: String,
        /// The extracted values.
        values: Option<Vec<String>>,
    },
}

fn value_text(expr: &ValueExpr, fields: &[FieldMeta]) -> String {
    match expr {
        ValueExpr::Field(slot) => fields
            .get(*slot as usize)
            .map_or_else(|| format!("#{slot}"), FieldMeta::display_name),
        ValueExpr::Literal(s) => format!("{s:?}"),
        ValueExpr::Unary(t, inner) => format!("{}({})", t.name(), value_text(inner, fields)),
        ValueExpr::Len { inner, .. } => format!("len({})", value_text(inner, fields)),
        ValueExpr::Join(sep, inner) => format!("join({sep:?}, {})", value_text(inner, fields)),
        ValueExpr::Concat(parts) => format!(
            "concat({})",
            parts
                .iter()
                .map(|p| value_text(p, fields))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn quote(v: &str) -> String {
    if v.is_empty()
        || v.chars()
            .any(|c| c.is_whitespace() || "(),=\"'".contains(c))
    {
        format!("{v:?}")
    } else {
        v.to_string()
    }
}

fn check_text(c: &CheckCode, fields: &[FieldMeta]) -> String {
    let lhs = value_text(&c.lhs, fields);
    match &c.raw {
        RawRhs::None => format!("{lhs} {}", c.op),
        RawRhs::Values(v) if c.op.is_list_op() => format!(
            "{lhs} {} ({})",
            c.op,
            v.iter().map(|x| quote(x)).collect::<Vec<_>>().join(", ")
        ),
        RawRhs::Values(v) => format!(
            "{lhs} {} {}",
            c.op,
            v.first().map_or(String::new(), |x| quote(x))
        ),
        RawRhs::Modified(m, v) => format!(
            "{lhs} {} {} ({})",
            c.op,
            m.as_str(),
            v.iter().map(|x| quote(x)).collect::<Vec<_>>().join(", ")
        ),
        RawRhs::Field => match &c.rhs {
            crate::check::RhsCode::Field(r) => {
                format!("{lhs} {} val({})", c.op, value_text(r, fields))
            }
            _ => format!("{lhs} {} <field>", c.op),
        },
    }
}

impl Program {
    /// Evaluates a condition as an explanation tree.
    pub fn explain<'e, E: EventView + ?Sized>(
        &'e self,
        filter: FilterId,
        cache: &mut FieldCache<'e>,
        event: &'e E,
    ) -> Option<ExplainNode> {
        let f = self.filters.get(filter.0 as usize)?;
        Some(self.explain_ir(&f.ir, cache, event))
    }

    fn explain_ir<'e, E: EventView + ?Sized>(
        &'e self,
        ir: &Ir,
        cache: &mut FieldCache<'e>,
        event: &'e E,
    ) -> ExplainNode {
        match ir {
            Ir::And(c) | Ir::Or(c) => {
                let children: Vec<ExplainNode> =
                    c.iter().map(|x| self.explain_ir(x, cache, event)).collect();
                let is_and = matches!(ir, Ir::And(_));
                let result = if is_and {
                    children.iter().all(|n| n.result)
                } else {
                    children.iter().any(|n| n.result)
                };
                ExplainNode {
                    kind: if is_and {
                        ExplainKind::And
                    } else {
                        ExplainKind::Or
                    },
                    result,
                    children,
                }
            }
            Ir::Not(c) => {
                let child = self.explain_ir(c, cache, event);
                ExplainNode {
                    kind: ExplainKind::Not,
                    result: !child.result,
                    children: vec![child],
                }
            }
            Ir::Check(i) => {
                let c = &self.checks[*i as usize];
                let values = c
                    .lhs
                    .eval(cache, event)
                    .filter(|v| !v.is_empty())
                    .map(|v| v.iter().map(|s| s.to_string()).collect());
                ExplainNode {
                    kind: ExplainKind::Check {
                        text: check_text(c, &self.fields),
                        field: value_text(&c.lhs, &self.fields),
                        values,
                    },
                    result: c.eval_naive(cache, event),
                    children: Vec::new(),
                }
            }
        }
    }
}

impl ExplainNode {
    /// Indented text rendering, one node per line.
    pub fn render(&self, indent: usize, out: &mut String) {
        let pad = "  ".repeat(indent);
        let mark = if self.result { "true " } else { "false" };
        match &self.kind {
            ExplainKind::And => {
                let _ = writeln!(out, "{pad}{mark} and");
            }
            ExplainKind::Or => {
                let _ = writeln!(out, "{pad}{mark} or");
            }
            ExplainKind::Not => {
                let _ = writeln!(out, "{pad}{mark} not");
            }
            ExplainKind::Check {
                text,
                field,
                values,
            } => {
                let vals = match values {
                    None => "<not extracted>".to_string(),
                    Some(v) if v.len() == 1 => quote(&v[0]),
                    Some(v) => format!(
                        "({})",
                        v.iter().map(|x| quote(x)).collect::<Vec<_>>().join(", ")
                    ),
                };
                let _ = writeln!(out, "{pad}{mark} {text}    [{field} = {vals}]");
            }
        }
        for c in &self.children {
            c.render(indent + 1, out);
        }
    }
}
