//! Conformance tests for the condition parser, printer and operand parser.
//!
//! Vectors come from `falco-rules-language.md` (§2.1–2.4, Appendix A) and from the
//! behaviour of libsinsp 0.25.4's parser.

mod appendix_a;
mod depth;
mod fields;
mod lexical;
mod modifiers;
mod operand;
mod printer;
mod robustness;
mod spans;
mod strings;
mod transformers;

use falco_rs_syntax::{parse_condition, Expr, ParseError};

/// Parses `input`, panicking with the error if it fails.
pub fn parse(input: &str) -> Expr {
    match parse_condition(input) {
        Ok(expr) => expr,
        Err(e) => panic!("{input:?} failed at {:?}: {}", e.pos, e.message),
    }
}

/// Parses and prints `input` in libsinsp's AST format.
pub fn printed(input: &str) -> String {
    parse(input).to_string()
}

/// The parse error of `input`, panicking if it parses.
pub fn error(input: &str) -> ParseError {
    match parse_condition(input) {
        Ok(expr) => panic!("{input:?} parsed as {expr}"),
        Err(e) => e,
    }
}

/// Asserts that `input` fails with a message starting with `prefix`.
#[track_caller]
pub fn assert_error(input: &str, prefix: &str) {
    let e = error(input);
    assert!(
        e.message.starts_with(prefix),
        "{input:?}: message {:?} does not start with {prefix:?}",
        e.message
    );
}

/// Asserts that `input` fails with `prefix` at byte `index`.
#[track_caller]
pub fn assert_error_at(input: &str, prefix: &str, index: usize) {
    let e = error(input);
    assert!(
        e.message.starts_with(prefix),
        "{input:?}: message {:?} does not start with {prefix:?}",
        e.message
    );
    assert_eq!(e.pos.index, index, "{input:?}: error position");
}
