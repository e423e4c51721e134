//! Escape sequences of quoted strings (libsinsp 0.25.4 rules), and the reverse quoting
//! used by the printer.

/// Un-escapes a quoted string token, delimiters included.
///
/// Supported: `\b \f \n \r \t \\ \/`, `\"` only in `"…"`, `\'` only in `'…'`, and the
/// legacy `\ ` (backslash + space) which yields a single backslash. Everything else,
/// `\xHH` included (libs 0.25.4), is an error.
pub(crate) fn unescape_quoted(token: &str) -> Result<String, String> {
    let mut chars = token.chars();
    let delimiter = chars.next().unwrap_or('"');
    // Drop the closing delimiter.
    chars.next_back();

    let mut value = String::with_capacity(token.len());
    let mut escaped = false;
    for c in chars {
        if !escaped {
            if c == '\\' {
                escaped = true;
            } else {
                value.push(c);
            }
            continue;
        }
        escaped = false;
        value.push(match c {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            ' ' | '\\' => '\\',
            '/' => '/',
            '"' if delimiter == '"' => '"',
            '"' => return Err("invalid \\\" escape in '-quoted string".to_string()),
            '\'' if delimiter == '\'' => '\'',
            '\'' => return Err("invalid \\' escape in \"-quoted string".to_string()),
            other => return Err(format!("unsupported string escape sequence: \\{other}")),
        });
    }
    Ok(value)
}

/// Whether a value must be quoted to be read back as the same single string.
fn value_needs_quotes(value: &str) -> bool {
    value.is_empty()
        || value.chars().any(|c| {
            c.is_ascii_whitespace()
                || matches!(c, '\u{8}' | '\u{b}' | '(' | ')' | ',' | '=' | '"' | '\'')
        })
}

/// Whether a field argument must be quoted to be read back as the same argument.
fn field_arg_needs_quotes(arg: &str) -> bool {
    arg.is_empty()
        || arg.chars().any(|c| {
            c.is_ascii_whitespace() || matches!(c, '\u{8}' | '\u{b}' | '[' | ']' | '"' | '\'')
        })
}

/// Double-quotes `value`, escaping `"`, `\` and the control characters that have an
/// escape sequence.
pub(crate) fn quote(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\u{8}' => quoted.push_str("\\b"),
            '\u{c}' => quoted.push_str("\\f"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

/// A string value as the printer writes it: bare when it reads back unchanged as a bare
/// string, quoted otherwise.
pub(crate) fn print_value(value: &str) -> std::borrow::Cow<'_, str> {
    if value_needs_quotes(value) {
        quote(value).into()
    } else {
        value.into()
    }
}

/// A field argument as the printer writes it between brackets.
pub(crate) fn print_field_arg(arg: &str) -> std::borrow::Cow<'_, str> {
    if field_arg_needs_quotes(arg) {
        quote(arg).into()
    } else {
        arg.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_table() {
        let ok = [
            (r#""\b""#, "\u{8}"),
            (r#""\f""#, "\u{c}"),
            (r#""\n""#, "\n"),
            (r#""\r""#, "\r"),
            (r#""\t""#, "\t"),
            (r#""\\""#, "\\"),
            (r#""\/""#, "/"),
            (r#""a\"b""#, "a\"b"),
            (r#"'a\'b'"#, "a'b"),
            (r#""a\ b""#, "a\\b"),
            (r#""""#, ""),
            (r#""it's""#, "it's"),
            (r#"'say "hi"'"#, "say \"hi\""),
            (r#""é\tü""#, "é\tü"),
        ];
        for (token, expected) in ok {
            assert_eq!(unescape_quoted(token).as_deref(), Ok(expected), "{token}");
        }
    }

    #[test]
    fn escape_errors() {
        let err = [
            (r#"'a\"b'"#, "invalid \\\" escape in '-quoted string"),
            (r#""a\'b""#, "invalid \\' escape in \"-quoted string"),
            (r#""^a\.b$""#, "unsupported string escape sequence: \\."),
            (r#""\d""#, "unsupported string escape sequence: \\d"),
            (r#""\(""#, "unsupported string escape sequence: \\("),
            (r#""a\x41b""#, "unsupported string escape sequence: \\x"),
            (r#""\é""#, "unsupported string escape sequence: \\é"),
        ];
        for (token, expected) in err {
            assert_eq!(unescape_quoted(token), Err(expected.to_string()), "{token}");
        }
    }

    #[test]
    fn printing_quotes_only_when_needed() {
        assert_eq!(print_value("get"), "get");
        assert_eq!(print_value("^a\\.b$"), "^a\\.b$");
        assert_eq!(print_value(""), "\"\"");
        assert_eq!(print_value("a b"), "\"a b\"");
        assert_eq!(print_value("a=b"), "\"a=b\"");
        assert_eq!(print_value("a,b"), "\"a,b\"");
        assert_eq!(print_value("f(x)"), "\"f(x)\"");
        assert_eq!(print_value("it's"), "\"it's\"");
        assert_eq!(print_value("a \"q\" \\"), r#""a \"q\" \\""#);
        assert_eq!(print_value("a\tb\n"), r#""a\tb\n""#);
        assert_eq!(print_field_arg("/a/b"), "/a/b");
        assert_eq!(print_field_arg("a b"), "\"a b\"");
        assert_eq!(print_field_arg("a]"), "\"a]\"");
        assert_eq!(print_field_arg(""), "\"\"");
    }

    #[test]
    fn quoting_round_trips_through_unescape() {
        for value in [
            "",
            "a b",
            "x\"y",
            "back\\slash",
            "\u{8}\u{c}\n\r\t",
            "it's (1, 2)",
        ] {
            assert_eq!(unescape_quoted(&quote(value)).as_deref(), Ok(value));
        }
    }
}
