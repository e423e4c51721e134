//! Token recognisers (nom) for the condition language.
//!
//! Each recogniser is anchored at the start of its input and returns the matched slice.
//! They reproduce libsinsp's RE2 (POSIX, leftmost-longest) token regexes; for these
//! regexes greedy matching finds the same longest match.

use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1, one_of};
use nom::combinator::{opt, recognize};
use nom::multi::many1_count;
use nom::sequence::preceded;
use nom::{IResult, Parser};

use crate::ast::{Modifier, Op, Transformer};

/// Result of a token recogniser: `(rest, token)`. Errors carry no data.
pub(crate) type LexResult<'a> = IResult<&'a str, &'a str, ()>;

/// Blanks skipped between tokens: space, `\t`, `\b`, `\r`, `\n` (not `\f` or `\v`).
pub(crate) fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{8}' | '\r' | '\n')
}

/// POSIX `[:space:]`: space, `\t`, `\n`, `\v`, `\f`, `\r`.
pub(crate) fn is_posix_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

fn is_identifier_tail(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Zero or more blanks.
pub(crate) fn blanks(input: &str) -> LexResult<'_> {
    take_while(is_blank)(input)
}

/// `[a-zA-Z]+[a-zA-Z0-9_]*`
pub(crate) fn identifier(input: &str) -> LexResult<'_> {
    recognize((
        take_while1(|c: char| c.is_ascii_alphabetic()),
        take_while(is_identifier_tail),
    ))
    .parse(input)
}

/// `identifier(\.identifier)+`: a field name has at least one dot.
pub(crate) fn field_name(input: &str) -> LexResult<'_> {
    recognize((identifier, many1_count(preceded(char('.'), identifier)))).parse(input)
}

/// `[^][\"'[:space:]]+`: a field argument written without quotes.
pub(crate) fn field_arg_bare(input: &str) -> LexResult<'_> {
    take_while1(|c: char| !matches!(c, '[' | ']' | '"' | '\'') && !is_posix_space(c))(input)
}

/// `0[xX][0-9a-fA-F]+`
pub(crate) fn hex_number(input: &str) -> LexResult<'_> {
    recognize((
        char('0'),
        one_of("xX"),
        take_while1(|c: char| c.is_ascii_hexdigit()),
    ))
    .parse(input)
}

/// `[+-]?[0-9]+\.?[0-9]*([eE][+-][0-9]+)?`: the exponent requires a sign.
pub(crate) fn number(input: &str) -> LexResult<'_> {
    recognize((
        opt(one_of("+-")),
        digit1,
        opt(char('.')),
        // Not `digit0`: in nom 8.0.0 it returns a wrong remainder at the end of input,
        // which breaks `recognize`.
        take_while(|c: char| c.is_ascii_digit()),
        opt((one_of("eE"), one_of("+-"), digit1)),
    ))
    .parse(input)
}

/// A hexadecimal or decimal number (hexadecimal is tried first).
pub(crate) fn any_number(input: &str) -> LexResult<'_> {
    hex_number(input).or_else(|_| number(input))
}

/// `[^()\"'[:space:]=,]+`: an unquoted string value.
pub(crate) fn bare_string(input: &str) -> LexResult<'_> {
    take_while1(|c: char| !matches!(c, '(' | ')' | '"' | '\'' | '=' | ',') && !is_posix_space(c))(
        input,
    )
}

/// `not[[:space:]]+`: a `not` keyword with its trailing whitespace (`\f` and `\v` too).
pub(crate) fn not_prefix(input: &str) -> LexResult<'_> {
    recognize((tag("not"), take_while1(is_posix_space))).parse(input)
}

/// A quoted string, delimiters included, not yet un-escaped.
///
/// It ends at the first delimiter not immediately preceded by a backslash, so `"a\\"`
/// does not end at its last quote. A NUL character ends the scan (libsinsp scans a C
/// string), which leaves the string unterminated.
pub(crate) fn quoted_string(input: &str) -> LexResult<'_> {
    let mut chars = input.char_indices();
    let delimiter = match chars.next() {
        Some((_, c @ ('"' | '\''))) => c,
        _ => return Err(nom::Err::Error(())),
    };
    let mut previous = delimiter;
    for (index, c) in chars {
        if c == '\0' {
            break;
        }
        if c == delimiter && previous != '\\' {
            let end = index + c.len_utf8();
            return Ok((
                input.get(end..).unwrap_or(""),
                input.get(..end).unwrap_or(""),
            ));
        }
        previous = c;
    }
    Err(nom::Err::Error(()))
}

/// A check operator as written, and whether it must be followed by a blank.
pub(crate) struct OperatorToken {
    pub text: &'static str,
    pub op: Op,
    pub needs_blank: bool,
}

const fn operator(text: &'static str, op: Op, needs_blank: bool) -> OperatorToken {
    OperatorToken {
        text,
        op,
        needs_blank,
    }
}

/// `exists`, matched as a raw prefix.
pub(crate) const UNARY_OPERATORS: &[OperatorToken] = &[operator("exists", Op::Exists, false)];

/// Numeric comparison operators; longer ones first so `<=` wins over `<`.
pub(crate) const NUMERIC_OPERATORS: &[OperatorToken] = &[
    operator("<=", Op::Le, false),
    operator("<", Op::Lt, false),
    operator(">=", Op::Ge, false),
    operator(">", Op::Gt, false),
];

/// String operators; the word operators must be followed by a blank.
pub(crate) const STRING_OPERATORS: &[OperatorToken] = &[
    operator("==", Op::Eq, false),
    operator("=", Op::Eq, false),
    operator("!=", Op::Ne, false),
    operator("glob", Op::Glob, true),
    operator("iglob", Op::IGlob, true),
    operator("contains", Op::Contains, true),
    operator("icontains", Op::IContains, true),
    operator("bcontains", Op::BContains, true),
    operator("startswith", Op::StartsWith, true),
    operator("bstartswith", Op::BStartsWith, true),
    operator("endswith", Op::EndsWith, true),
    operator("regex", Op::Regex, true),
];

/// List operators, matched as raw prefixes (`intersects` before `in`).
pub(crate) const LIST_OPERATORS: &[OperatorToken] = &[
    operator("intersects", Op::Intersects, false),
    operator("in", Op::In, false),
    operator("pmatch", Op::PMatch, false),
];

/// String-operator modifiers; each must be followed by a blank.
pub(crate) const MODIFIERS: &[(&str, Modifier)] = &[
    ("oneof", Modifier::OneOf),
    ("anyof", Modifier::AnyOf),
    ("allof", Modifier::AllOf),
];

/// Transformer openers (`name(`), in libsinsp's matching order. `val(` is separate
/// because it is only valid on the right-hand side.
pub(crate) const TRANSFORMER_OPENERS: &[(&str, Transformer)] = &[
    ("tolower(", Transformer::ToLower),
    ("toupper(", Transformer::ToUpper),
    ("b64(", Transformer::B64),
    ("basename(", Transformer::Basename),
    ("len(", Transformer::Len),
    ("join(", Transformer::Join),
    ("concat(", Transformer::Concat),
    ("getopt(", Transformer::Getopt),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn token(lexer: fn(&str) -> LexResult<'_>, input: &str) -> Option<String> {
        lexer(input).ok().map(|(_, t)| t.to_string())
    }

    #[test]
    fn identifiers_start_with_a_letter() {
        assert_eq!(token(identifier, "abc_1.x").as_deref(), Some("abc_1"));
        assert_eq!(token(identifier, "_a"), None);
        assert_eq!(token(identifier, "1a"), None);
        assert_eq!(token(identifier, "é"), None);
        // Tokens that run to the end of the input.
        assert_eq!(token(identifier, "ab1").as_deref(), Some("ab1"));
        assert_eq!(token(field_name, "ka.ab1").as_deref(), Some("ka.ab1"));
        assert_eq!(token(not_prefix, "not  ").as_deref(), Some("not  "));
    }

    #[test]
    fn field_names_need_a_dot_and_letter_segments() {
        assert_eq!(token(field_name, "ka.verb.").as_deref(), Some("ka.verb"));
        assert_eq!(token(field_name, "a.b_1.c2 x").as_deref(), Some("a.b_1.c2"));
        assert_eq!(token(field_name, "ka"), None);
        assert_eq!(token(field_name, "ka.1"), None);
        assert_eq!(token(field_name, "ka._x"), None);
    }

    #[test]
    fn numbers_follow_the_regex() {
        assert_eq!(token(number, "5e3").as_deref(), Some("5"));
        assert_eq!(token(number, "5e+3").as_deref(), Some("5e+3"));
        assert_eq!(token(number, "-3.5E-2x").as_deref(), Some("-3.5E-2"));
        assert_eq!(token(number, "1.2.3").as_deref(), Some("1.2"));
        assert_eq!(token(number, "7.").as_deref(), Some("7."));
        assert_eq!(token(number, "1.2").as_deref(), Some("1.2"));
        assert_eq!(token(number, "12").as_deref(), Some("12"));
        assert_eq!(token(number, "1e+5").as_deref(), Some("1e+5"));
        assert_eq!(token(number, "-0.25").as_deref(), Some("-0.25"));
        assert_eq!(token(number, "+"), None);
        assert_eq!(token(number, ".5"), None);
        assert_eq!(token(hex_number, "0X1fz").as_deref(), Some("0X1f"));
        assert_eq!(token(hex_number, "0x"), None);
        assert_eq!(token(any_number, "0x").as_deref(), Some("0"));
    }

    #[test]
    fn bare_strings_stop_at_forbidden_characters() {
        assert_eq!(
            token(bare_string, "a<b>![]/*:\\;é,x").as_deref(),
            Some("a<b>![]/*:\\;é")
        );
        for stop in [
            "(", ")", "\"", "'", " ", "\t", "\n", "\u{b}", "\u{c}", "\r", "=", ",",
        ] {
            assert_eq!(
                token(bare_string, &format!("ab{stop}c")).as_deref(),
                Some("ab")
            );
        }
        // `\b` is not POSIX space, so it belongs to a bare string.
        assert_eq!(token(bare_string, "a\u{8}b").as_deref(), Some("a\u{8}b"));
    }

    #[test]
    fn field_arguments_exclude_brackets_quotes_and_space() {
        assert_eq!(token(field_arg_bare, "/a/b]").as_deref(), Some("/a/b"));
        assert_eq!(
            token(field_arg_bare, "a(b),c=d]").as_deref(),
            Some("a(b),c=d")
        );
        assert_eq!(token(field_arg_bare, "]"), None);
        assert_eq!(token(field_arg_bare, " 0]"), None);
    }

    #[test]
    fn not_prefix_needs_posix_space() {
        assert_eq!(token(not_prefix, "not \t x").as_deref(), Some("not \t "));
        assert_eq!(token(not_prefix, "not\u{c}x").as_deref(), Some("not\u{c}"));
        assert_eq!(token(not_prefix, "notx"), None);
        assert_eq!(token(not_prefix, "not"), None);
        assert_eq!(token(not_prefix, "not("), None);
    }

    #[test]
    fn quoted_strings_end_at_an_unescaped_delimiter() {
        assert_eq!(
            token(quoted_string, r#""a b" c"#).as_deref(),
            Some(r#""a b""#)
        );
        assert_eq!(
            token(quoted_string, r#"'a"b'"#).as_deref(),
            Some(r#"'a"b'"#)
        );
        assert_eq!(
            token(quoted_string, r#""a\"b""#).as_deref(),
            Some(r#""a\"b""#)
        );
        assert_eq!(token(quoted_string, r#""""#).as_deref(), Some(r#""""#));
        assert_eq!(token(quoted_string, r#""a\\""#), None);
        assert_eq!(
            token(quoted_string, r#""a\\" x""#).as_deref(),
            Some(r#""a\\" x""#)
        );
        assert_eq!(token(quoted_string, "\"a\0\""), None);
        assert_eq!(token(quoted_string, "\"abc"), None);
        assert_eq!(token(quoted_string, "abc"), None);
    }
}
