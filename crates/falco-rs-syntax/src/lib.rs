//! Parser for the Falco condition language (libsinsp filter grammar).
//!
//! [`parse_condition`] turns condition text into an [`Expr`] tree with byte spans;
//! [`parse_operand`] reads the field or transformer after a `%` in an output template.
//! `Display` on the AST prints libsinsp's AST format (`((a and b) or not c)`).
//!
//! The grammar, tokens, escapes and error messages follow libsinsp 0.25.4
//! (`userspace/libsinsp/filter/parser.cpp`, `escaping.cpp`); see
//! `falco-rules-language.md` §2.1–2.4. Notable choices:
//!
//! * `\xHH` escapes are rejected, as in libs 0.25.4.
//! * `val(f)[arg]` is a parse error here (libsinsp rejects it when compiling).
//!
//! # Input safety
//!
//! Parsing never panics and its recursion is bounded: nesting of parenthesised groups,
//! transformer calls and transformer argument lists deeper than [`MAX_DEPTH`] levels is
//! the error `exceeded max depth limit of 1000`, reported before recursing further.
//! At the limit the parser fits in a 2 MiB thread stack (tested in debug builds).
//! A sequence of `not` keywords is handled iteratively. The ASTs it returns are
//! therefore at most about `2 * MAX_DEPTH` nodes deep.

pub mod ast;
mod escape;
mod lexer;
mod parser;
mod printer;

pub use ast::*;
pub use parser::{parse_condition, parse_operand};

/// Maximum nesting depth of parenthesised groups, transformer calls and transformer
/// argument lists. libsinsp (master) guards its recursion at 1000 as well; 0.25.4 has
/// no working guard.
pub const MAX_DEPTH: usize = 1000;

/// Position of a parse error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Byte offset in the condition text.
    pub index: usize,
    /// 1-based line (`\r` and `\n` each start a line, as in libsinsp).
    pub line: usize,
    /// 1-based column, counted in bytes.
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
