//! `Display` for the AST, in libsinsp's AST printer format (`ast::as_string`):
//! logical nodes in parentheses (`((a and b) or c)`), `not x`, `field op value`,
//! lists as `(a, b)`, transformers as `name(arg,arg)`.
//!
//! A one-element list written as a bare identifier (`in mylist`, `oneof mylist`) prints
//! bare again, as in libsinsp; this is recognised from its span (exactly the identifier).
//!
//! Differences from libsinsp, chosen so the output parses back to the same tree (spans
//! aside): `=` and `==` both print as `=`; values are quoted when a bare string could
//! not hold them; non-numeric literals inside transformer arguments are always quoted;
//! a negation of a negation prints as `not (not x)`. One case does not read back: a
//! macro named `not` followed by `and`/`or`.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::{Check, Expr, FieldRef, Modifier, Operand, Rhs, Span, Transformer};
use crate::escape::{print_field_arg, print_value, quote};
use crate::lexer;

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(children, _) => write_logical(f, "and", children),
            Expr::Or(children, _) => write_logical(f, "or", children),
            // `not not x` would read back as `x`, so a nested negation keeps its group.
            Expr::Not(child, _) if matches!(**child, Expr::Not(..)) => write!(f, "not ({child})"),
            Expr::Not(child, _) => write!(f, "not {child}"),
            Expr::Macro(name, _) => f.write_str(name),
            Expr::Check(check) => check.fmt(f),
        }
    }
}

fn write_logical(f: &mut Formatter<'_>, keyword: &str, children: &[Expr]) -> fmt::Result {
    f.write_char('(')?;
    for (index, child) in children.iter().enumerate() {
        if index > 0 {
            write!(f, " {keyword} ")?;
        }
        child.fmt(f)?;
    }
    f.write_char(')')
}

impl Display for Check {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.lhs, self.op)?;
        if self.rhs != Rhs::None {
            write!(f, " {}", self.rhs)?;
        }
        Ok(())
    }
}

impl Display for Rhs {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Rhs::None => Ok(()),
            Rhs::Value(value, _) => f.write_str(&print_value(value)),
            Rhs::List(values, span) => write_list_value(f, values, *span),
            // `val(f)` is the only way a plain field reaches the right-hand side.
            Rhs::Field(Operand::Field(field)) => write!(f, "val({field})"),
            Rhs::Field(operand) => operand.fmt(f),
            Rhs::Modified(modifier, values, span) => {
                write!(f, "{modifier} ")?;
                write_list_value(f, values, *span)
            }
        }
    }
}

/// A list value as `(a, b)`, or as the bare identifier it was written as
/// (`in mylist`), which libsinsp keeps as a single value and prints unparenthesised.
fn write_list_value(f: &mut Formatter<'_>, values: &[String], span: Span) -> fmt::Result {
    if let [single] = values {
        if written_as_identifier(single, span) {
            return f.write_str(single);
        }
    }
    f.write_char('(')?;
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            f.write_str(", ")?;
        }
        f.write_str(&print_value(value))?;
    }
    f.write_char(')')
}

/// A one-element list whose span is exactly the identifier: written without parentheses.
fn written_as_identifier(value: &str, span: Span) -> bool {
    let span_len = span.end.saturating_sub(span.start) as usize;
    span_len == value.len() && lexer::identifier(value).is_ok_and(|(rest, _)| rest.is_empty())
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Field(field) => field.fmt(f),
            Operand::Transform {
                kind, args, arg, ..
            } => {
                write!(f, "{kind}(")?;
                write_operands(f, args)?;
                f.write_char(')')?;
                write_field_arg(f, arg.as_deref())
            }
            Operand::Literal(value, _) => write_literal(f, value),
            Operand::List(items, _) => {
                f.write_char('(')?;
                write_operands(f, items)?;
                f.write_char(')')
            }
        }
    }
}

fn write_operands(f: &mut Formatter<'_>, operands: &[Operand]) -> fmt::Result {
    for (index, operand) in operands.iter().enumerate() {
        if index > 0 {
            f.write_char(',')?;
        }
        operand.fmt(f)?;
    }
    Ok(())
}

/// Transformer literals: numbers bare, anything else quoted (only quoted strings and
/// numbers are literals in transformer arguments).
fn write_literal(f: &mut Formatter<'_>, value: &str) -> fmt::Result {
    let is_number = lexer::any_number(value).is_ok_and(|(rest, _)| rest.is_empty());
    if is_number {
        f.write_str(value)
    } else {
        f.write_str(&quote(value))
    }
}

fn write_field_arg(f: &mut Formatter<'_>, arg: Option<&str>) -> fmt::Result {
    match arg {
        Some(arg) => write!(f, "[{}]", print_field_arg(arg)),
        None => Ok(()),
    }
}

impl Display for FieldRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        write_field_arg(f, self.arg.as_deref())
    }
}

impl Display for Transformer {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Display for Modifier {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
