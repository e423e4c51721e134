//! Abstract syntax tree of a Falco condition, as produced by [`crate::parse_condition`].
//!
//! The shapes mirror libsinsp's `libsinsp::filter::ast`: n-ary `and`/`or`, `not`, macro
//! references (identifiers), unary checks (`exists`), binary checks against a value,
//! a list of values, or a field/transformer on the right-hand side.

use std::fmt;
use std::sync::Arc;

/// Byte range `[start, end)` inside the parsed condition text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// Builds a span from byte offsets.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
}

/// A boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a and b and c` (flat, at least two children).
    And(Vec<Expr>, Span),
    /// `a or b or c` (flat, at least two children).
    Or(Vec<Expr>, Span),
    /// `not x` (an even number of `not`s produces no node).
    Not(Box<Expr>, Span),
    /// A bare identifier: a macro reference.
    Macro(String, Span),
    /// A comparison or existence check. Shared: macro expansion copies every check of
    /// a macro body into each condition that uses the macro, and sharing makes that
    /// copy a reference count.
    Check(Arc<Check>),
}

impl Expr {
    /// The span of this expression in the condition text.
    pub fn span(&self) -> Span {
        match self {
            Expr::And(_, s) | Expr::Or(_, s) | Expr::Not(_, s) | Expr::Macro(_, s) => *s,
            Expr::Check(c) => c.span,
        }
    }
}

/// A check: `lhs op [rhs]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The left-hand side: a field or a transformer applied to fields.
    pub lhs: Operand,
    /// The operator.
    pub op: Op,
    /// The right-hand side (`Rhs::None` for `exists`).
    pub rhs: Rhs,
    /// Span of the whole check.
    pub span: Span,
}

/// A field reference `name` or `name[arg]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldRef {
    /// Dotted field name, e.g. `ka.req.pod.containers.image`.
    pub name: String,
    /// Argument between brackets, already un-escaped when it was quoted.
    pub arg: Option<String>,
    /// Span of the field token (name plus argument).
    pub span: Span,
}

/// Transformer names of the condition language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transformer {
    /// `tolower(x)`
    ToLower,
    /// `toupper(x)`
    ToUpper,
    /// `b64(x)`: base64 decode.
    B64,
    /// `basename(x)`
    Basename,
    /// `len(x)`: byte length or list element count.
    Len,
    /// `join(sep, list)`
    Join,
    /// `concat(a, b, ...)`
    Concat,
    /// `getopt(list, optstring)`
    Getopt,
}

impl Transformer {
    /// The keyword as written in conditions.
    pub fn name(self) -> &'static str {
        match self {
            Transformer::ToLower => "tolower",
            Transformer::ToUpper => "toupper",
            Transformer::B64 => "b64",
            Transformer::Basename => "basename",
            Transformer::Len => "len",
            Transformer::Join => "join",
            Transformer::Concat => "concat",
            Transformer::Getopt => "getopt",
        }
    }

    /// All transformers, in the order the parser tries them.
    pub const ALL: [Transformer; 8] = [
        Transformer::ToLower,
        Transformer::ToUpper,
        Transformer::B64,
        Transformer::Basename,
        Transformer::Len,
        Transformer::Join,
        Transformer::Concat,
        Transformer::Getopt,
    ];
}

/// An operand: a field, a transformer application, or (only as a transformer argument)
/// a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A plain field.
    Field(FieldRef),
    /// `name(args...)[arg]`.
    Transform {
        /// Which transformer.
        kind: Transformer,
        /// Its arguments (single-argument transformers have exactly one).
        args: Vec<Operand>,
        /// Optional trailing `[arg]` (only valid on `getopt`).
        arg: Option<String>,
        /// Span of the whole transformer expression.
        span: Span,
    },
    /// A literal string or number, only inside transformer arguments.
    Literal(String, Span),
    /// A parenthesised list, only inside transformer arguments.
    List(Vec<Operand>, Span),
}

impl Operand {
    /// The span of this operand.
    pub fn span(&self) -> Span {
        match self {
            Operand::Field(f) => f.span,
            Operand::Transform { span, .. }
            | Operand::Literal(_, span)
            | Operand::List(_, span) => *span,
        }
    }

    /// The innermost field of a transformer chain (first argument recursively), if any.
    pub fn base_field(&self) -> Option<&FieldRef> {
        match self {
            Operand::Field(f) => Some(f),
            Operand::Transform { args, .. } => args.iter().find_map(|a| a.base_field()),
            _ => None,
        }
    }
}

/// Check operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `exists`
    Exists,
    /// `=` or `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `contains`
    Contains,
    /// `icontains`
    IContains,
    /// `bcontains`
    BContains,
    /// `startswith`
    StartsWith,
    /// `bstartswith`
    BStartsWith,
    /// `endswith`
    EndsWith,
    /// `glob`
    Glob,
    /// `iglob`
    IGlob,
    /// `regex`
    Regex,
    /// `in`
    In,
    /// `intersects`
    Intersects,
    /// `pmatch`
    PMatch,
}

impl Op {
    /// The operator as written (`=` for equality).
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Exists => "exists",
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
            Op::IContains => "icontains",
            Op::BContains => "bcontains",
            Op::StartsWith => "startswith",
            Op::BStartsWith => "bstartswith",
            Op::EndsWith => "endswith",
            Op::Glob => "glob",
            Op::IGlob => "iglob",
            Op::Regex => "regex",
            Op::In => "in",
            Op::Intersects => "intersects",
            Op::PMatch => "pmatch",
        }
    }

    /// Whether the operator takes a list on the right (`in`, `intersects`, `pmatch`).
    pub fn is_list_op(self) -> bool {
        matches!(self, Op::In | Op::Intersects | Op::PMatch)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `oneof` / `anyof` / `allof` list modifiers on string operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// Exactly one element matches.
    OneOf,
    /// At least one element matches.
    AnyOf,
    /// Every element matches (false for an empty list).
    AllOf,
}

impl Modifier {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Modifier::OneOf => "oneof",
            Modifier::AnyOf => "anyof",
            Modifier::AllOf => "allof",
        }
    }
}

/// The right-hand side of a check.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// No value (`exists`).
    None,
    /// One literal value (quoted strings already un-escaped, numbers as written); the
    /// span covers the token, quotes included.
    Value(String, Span),
    /// A list of literal values: `(a, b)` or a bare identifier (one element). The span
    /// covers the parentheses, or just the identifier.
    List(Vec<String>, Span),
    /// A field on the right: `val(f)` (as `Operand::Field(f)`) or a transformer
    /// expression.
    Field(Operand),
    /// `op oneof|anyof|allof (values)` or `op oneof ident`. The span covers the list
    /// value (parentheses or identifier), not the modifier keyword.
    Modified(Modifier, Vec<String>, Span),
}
