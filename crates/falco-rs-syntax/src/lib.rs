//! Parser for the Falco condition language (libsinsp filter grammar).
//!
//! [`parse_condition`] turns condition text into an [`Expr`] tree with byte spans.
//! The grammar, tokens, escapes and error messages follow libsinsp's
//! `userspace/libsinsp/filter/parser.cpp`. Input safety: nesting deeper than
//! [`MAX_DEPTH`] is a parse error, never a stack overflow.

pub mod ast;
mod parser;
mod printer;

pub use ast::*;
pub use parser::{parse_condition, parse_operand};

/// Maximum nesting depth of parentheses / `not` / transformers, as libsinsp.
pub const MAX_DEPTH: usize = 1000;

/// Position of a parse error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Byte offset in the condition text.
    pub index: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A condition parse error with libsinsp's message text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The message, e.g. `expected a valid check operator: one of ...`.
    pub message: String,
    /// Where the parser stopped.
    pub pos: Position,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ParseError {}
