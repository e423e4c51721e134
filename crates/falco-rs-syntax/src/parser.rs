//! nom parser (to be implemented).
use crate::{Expr, Operand, ParseError};

/// Parses a whole condition.
pub fn parse_condition(_text: &str) -> Result<Expr, ParseError> {
    todo!()
}

/// Parses the longest field or transformer expression at the start of `text` (used by
/// output templates after `%`). Returns the operand and the number of bytes consumed.
pub fn parse_operand(_text: &str) -> Result<(Operand, usize), ParseError> {
    todo!()
}
