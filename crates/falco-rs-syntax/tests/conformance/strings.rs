//! §2.3 strings and escapes, as seen through the parser.

use falco_rs_syntax::{Expr, Rhs};

use crate::{assert_error, assert_error_at, parse, printed};

fn value_of(input: &str) -> String {
    match parse(input) {
        Expr::Check(check) => match std::sync::Arc::unwrap_or_clone(check).rhs {
            Rhs::Value(value, _) => value,
            other => panic!("{input:?}: rhs is {other:?}"),
        },
        other => panic!("{input:?} is not a check: {other:?}"),
    }
}

fn list_of(input: &str) -> Vec<String> {
    match parse(input) {
        Expr::Check(check) => match std::sync::Arc::unwrap_or_clone(check).rhs {
            Rhs::List(values, _) => values,
            other => panic!("{input:?}: rhs is {other:?}"),
        },
        other => panic!("{input:?} is not a check: {other:?}"),
    }
}

#[test]
fn quoted_values() {
    let cases = [
        (r#"ka.x = """#, ""),
        ("ka.x = ''", ""),
        (r#"ka.x = "test value""#, "test value"),
        ("ka.x = 'test value'", "test value"),
        (
            r#"ka.x = "0a!@#456:/.; !$%^&*[]{}|""#,
            "0a!@#456:/.; !$%^&*[]{}|",
        ),
        (r#"ka.x = "a (b), c=d""#, "a (b), c=d"),
        (r#"ka.x = 'mixed "'"#, "mixed \""),
        (r#"ka.x = "mixed '""#, "mixed '"),
        (r#"ka.x = "escape \" quote""#, "escape \" quote"),
        (r"ka.x = 'escape \' quote'", "escape ' quote"),
        // The quote after `\\` does not close the string; the next one does.
        (r"ka.x = 'two \' \\''", "two ' \\'"),
        (r#"ka.x = "tab\there""#, "tab\there"),
        (r#"ka.x = "\b\f\n\r\t\\\/""#, "\u{8}\u{c}\n\r\t\\/"),
        (r#"ka.x = "bad escape \ " "#, "bad escape \\"),
        (r#"ka.x = "héllo wörld""#, "héllo wörld"),
    ];
    for (input, expected) in cases {
        assert_eq!(value_of(input), expected, "{input}");
    }
}

#[test]
fn bare_values_are_literal() {
    let cases = [
        ("ka.x = testval", "testval"),
        (
            r"ka.x = 0a!@#456:/\.;!$%^&*[]{}|",
            r"0a!@#456:/\.;!$%^&*[]{}|",
        ),
        (r"ka.x = C:\dir\n", r"C:\dir\n"),
        ("ka.x = héllo", "héllo"),
        ("ka.x = *.log", "*.log"),
    ];
    for (input, expected) in cases {
        assert_eq!(value_of(input), expected, "{input}");
    }
}

#[test]
fn invalid_bare_strings() {
    assert_error("ka.x = a,", "unexpected token after 'a'");
    assert_error("ka.x = a=", "unexpected token after 'a'");
    assert_error("ka.x = a('\")", "unexpected token after 'a'");
    assert_error(
        "fd.name=/var/lo);g/httpd.log",
        "unexpected token after '/var/lo'",
    );
}

#[test]
fn unterminated_strings() {
    let message = "expected a string value or a field with a valid transformer";
    assert_error_at("ka.x = '", message, 7);
    assert_error_at("ka.x = \"", message, 7);
    assert_error_at("ka.x = '\"", message, 7);
    assert_error_at("ka.x = 'missing end quote", message, 7);
    // A NUL character ends the scan, as in libsinsp's C-string lexer.
    assert_error_at("ka.x = \"a\0b\"", message, 7);
}

#[test]
fn a_string_cannot_end_with_an_escaped_backslash() {
    assert_error(r#"ka.x = "a\\""#, "expected a string value");
    // It ends at the next unescaped quote instead.
    assert_eq!(value_of(r#"ka.x = "a\\" b""#), r#"a\" b"#);
}

#[test]
fn broken_quotes() {
    assert_error(r#"ka.x = "broken""""#, "unexpected token after 'broken'");
    assert_error("ka.x = 'broken''", "unexpected token after 'broken'");
}

#[test]
fn escape_errors_are_reported_after_the_string() {
    assert_error_at(
        r#"ka.x = "a\'b""#,
        r#"invalid \' escape in "-quoted string"#,
        13,
    );
    assert_error_at(
        r#"ka.x = 'a\"b'"#,
        r#"invalid \" escape in '-quoted string"#,
        13,
    );
    assert_error_at(
        r#"ka.x = "\d+""#,
        r"unsupported string escape sequence: \d",
        12,
    );
    assert_error_at(
        r#"ka.x = "\x41""#,
        r"unsupported string escape sequence: \x",
        13,
    );
}

#[test]
fn list_values() {
    assert_eq!(
        list_of(r#"ka.x in (value, "value", 'value')"#),
        ["value", "value", "value"]
    );
    assert_eq!(
        list_of(r"ka.x in (0a!@#456:/\.;!$%^&*[]{}|, v)"),
        [r"0a!@#456:/\.;!$%^&*[]{}|", "v"]
    );
    assert_eq!(list_of(r#"ka.x in ("a b", 'c,d')"#), ["a b", "c,d"]);
    assert_eq!(list_of("ka.x in ( a , b )"), ["a", "b"]);
    assert_eq!(list_of("ka.x in (1, 'a', b.c)"), ["1", "a", "b.c"]);
    assert_eq!(
        printed(r#"ka.x in ("a b", 'c,d', e)"#),
        r#"ka.x in ("a b", "c,d", e)"#
    );
}

#[test]
fn invalid_lists() {
    assert_error("ka.x in (", "expected a ')' token");
    assert_error("ka.x in )", "expected a list, an identifier");
    assert_error("ka.x in (value,)", "expected a string value");
    assert_error("ka.x in (value,,)", "expected a string value");
    assert_error("ka.x in (,)", "expected a ')' token");
    assert_error("ka.x in (,   ,)", "expected a ')' token");
    assert_error("ka.x in ( 1 ,, , b)", "expected a string value");
    assert_error("ka.x in (a=b)", "expected a ')' token");
    assert_error("ka.x in (b64(ka.y))", "expected a ')' token");
    assert_error("ka.x in (a, b64(ka.y))", "expected a ')' token");
}

#[test]
fn bad_escape_in_first_list_value_reads_as_an_empty_list() {
    // Quirk kept from libsinsp: an error on the first list element is swallowed and the
    // list is taken as empty, from where the lexer stopped.
    assert!(list_of(r#"ka.x in ("a\.")"#).is_empty());
    assert_error_at(r#"ka.x in ("a\.", b)"#, "expected a ')' token", 14);
    // Later elements report the escape error.
    assert_error_at(
        r#"ka.x in (a, "b\.")"#,
        r"unsupported string escape sequence: \.",
        17,
    );
}

#[test]
fn non_list_operators_reject_lists() {
    for op in [
        "=",
        "!=",
        "startswith",
        "bstartswith",
        "contains",
        "icontains",
    ] {
        assert_error(&format!("ka.x {op} (value)"), "expected a string value");
    }
    for op in [">", "<"] {
        assert_error(&format!("ka.x {op} (value)"), "expected a number value");
    }
}
