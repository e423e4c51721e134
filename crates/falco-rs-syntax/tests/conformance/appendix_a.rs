//! Every vector of Appendix A (input ⇒ printed AST, or ⇒ error).
//!
//! Appendix A was produced with the libs master parser; where 0.25.4 differs (`\xHH`),
//! the 0.25.4 behaviour is asserted.

use falco_rs_syntax::{Expr, Op, Rhs};

use crate::{assert_error_at, parse, printed};

fn check(expr: &Expr) -> &falco_rs_syntax::Check {
    match expr {
        Expr::Check(check) => check,
        other => panic!("not a check: {other:?}"),
    }
}

#[test]
fn symbol_operator_needs_no_blanks() {
    assert_eq!(printed("ka.verb=get"), "ka.verb = get");
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(printed("a and b or c and d"), "((a and b) or (c and d))");
    assert_eq!(printed("a or b and c"), "(a or (b and c))");
}

#[test]
fn double_negation_creates_no_node() {
    assert_eq!(printed("not not ka.verb = a"), "ka.verb = a");
    assert_eq!(printed("x and not not not y"), "(x and not y)");
}

#[test]
fn lone_not_is_an_identifier() {
    assert!(matches!(parse("not"), Expr::Macro(name, _) if name == "not"));
    assert_eq!(printed("not"), "not");
}

#[test]
fn not_glued_to_a_field_is_part_of_the_field_name() {
    assert_eq!(printed("notka.verb = a"), "notka.verb = a");
}

#[test]
fn and_may_be_followed_by_a_parenthesis() {
    assert_eq!(
        printed("my_macro and(ka.verb = a)"),
        "(my_macro and ka.verb = a)"
    );
}

#[test]
fn and_glued_to_a_word_is_an_error() {
    assert_error_at(
        "my_macro andka.verb = a",
        "expected blank or '(' after 'and'",
        12,
    );
    assert_error_at("x andy", "expected blank or '(' after 'and'", 5);
}

#[test]
fn field_without_operator_is_an_error() {
    assert_error_at(
        "ka.verb",
        "expected a valid check operator: one of 'exists', '<=', '<', '>=', '>', '==', '=', \
         '!=', 'glob', 'iglob', 'contains', 'icontains', 'bcontains', 'startswith', \
         'bstartswith', 'endswith', 'regex', 'intersects', 'in', 'pmatch'",
        7,
    );
}

#[test]
fn dash_is_not_part_of_an_identifier() {
    assert_error_at(
        "my-macro",
        "unexpected token after 'my', expecting 'or', 'and'",
        2,
    );
}

#[test]
fn list_operator_needs_no_blanks() {
    assert_eq!(printed("ka.verb in(get,list)"), "ka.verb in (get, list)");
}

#[test]
fn empty_lists() {
    assert_eq!(printed("ka.verb in ()"), "ka.verb in ()");
    assert_eq!(printed("ka.verb in ( )"), "ka.verb in ()");
}

#[test]
fn trailing_comma_in_list_is_an_error() {
    assert_error_at("ka.verb in (get, )", "expected a string value", 17);
}

#[test]
fn list_items_need_commas() {
    assert_error_at("ka.verb in (get list)", "expected a ')' token", 16);
}

#[test]
fn identifier_after_list_operator_is_a_one_element_list() {
    assert_eq!(printed("ka.verb in mylist"), "ka.verb in mylist");
    assert_eq!(
        check(&parse("ka.verb in mylist")).rhs,
        Rhs::List(vec!["mylist".into()], falco_rs_syntax::Span::new(11, 17))
    );
}

#[test]
fn list_operator_glued_to_an_identifier() {
    assert_eq!(printed("ka.verb inx"), "ka.verb in x");
}

#[test]
fn word_operator_needs_a_trailing_blank() {
    assert_error_at(
        "ka.verb startswith\"a\"",
        "expected a valid check operator",
        8,
    );
}

#[test]
fn bare_strings_stop_at_equals_comma_and_blank() {
    let message = "unexpected token after 'a', expecting 'or', 'and'";
    assert_error_at("ka.verb = a=b", message, 11);
    assert_error_at("ka.verb = a,b", message, 11);
    assert_error_at("ka.verb = a b", message, 12);
    assert_error_at("a b", message, 2);
}

#[test]
fn parenthesised_value_is_not_a_string() {
    assert_error_at(
        "ka.verb = (a)",
        "expected a string value or a field with a valid transformer: 'val', 'tolower', \
         'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'",
        10,
    );
}

#[test]
fn bare_strings_accept_brackets_and_symbols() {
    assert_eq!(printed("ka.verb = [a]"), "ka.verb = [a]");
    assert_eq!(printed("ka.verb = a!b"), "ka.verb = a!b");
    assert_eq!(printed("ka.verb = a<b>"), "ka.verb = a<b>");
}

#[test]
fn bare_regex_keeps_backslashes() {
    let expr = parse(r"ka.verb regex ^a\.b$");
    assert_eq!(check(&expr).op, Op::Regex);
    assert!(matches!(&check(&expr).rhs, Rhs::Value(v, _) if v == r"^a\.b$"));
    assert_eq!(expr.to_string(), r"ka.verb regex ^a\.b$");
}

#[test]
fn quoted_regex_with_backslash_is_an_error() {
    assert_error_at(
        r#"ka.verb regex "^a\.b$""#,
        r"unsupported string escape sequence: \.",
        22,
    );
}

#[test]
fn escaped_backslash_before_closing_quote_does_not_terminate() {
    assert_error_at(
        r#"ka.verb = "a\\""#,
        "expected a string value or a field with a valid transformer",
        10,
    );
}

#[test]
fn backslash_space_is_a_backslash() {
    let expr = parse(r#"ka.verb = "a\ b""#);
    assert!(matches!(&check(&expr).rhs, Rhs::Value(v, _) if v == r"a\b"));
}

#[test]
fn escaped_double_quote_in_single_quotes_is_an_error() {
    assert_error_at(
        r#"ka.verb = 'a\"b'"#,
        r#"invalid \" escape in '-quoted string"#,
        16,
    );
}

#[test]
fn hex_escape_is_rejected_on_libs_0_25_4() {
    assert_error_at(
        r#"ka.verb = "a\x41b""#,
        r"unsupported string escape sequence: \x",
        18,
    );
}

#[test]
fn numeric_operator_needs_a_number() {
    assert_error_at(
        "ka.response.code > abc",
        "expected a number value or a field with a valid transformer: 'val', 'tolower', \
         'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'",
        19,
    );
}

#[test]
fn exponent_needs_a_sign() {
    assert_error_at(
        "ka.response.code > 5e3",
        "unexpected token after '5', expecting 'or', 'and'",
        20,
    );
}

#[test]
fn number_forms() {
    for number in ["5e+3", "0X1f", "+5", "-3.5e+2"] {
        let input = format!("ka.response.code > {number}");
        let expr = parse(&input);
        assert!(
            matches!(&check(&expr).rhs, Rhs::Value(v, _) if v == number),
            "{input}"
        );
        assert_eq!(expr.to_string(), input);
    }
}

#[test]
fn blank_before_field_argument_is_an_error() {
    assert_error_at("ka.x [0] = y", "expected a valid check operator", 5);
}

#[test]
fn empty_field_argument_is_an_error() {
    assert_error_at(
        "ka.req.pod.containers.image[] = x",
        "expected a valid field argument: a quoted string or a bare string",
        28,
    );
}

#[test]
fn quoted_field_argument() {
    let expr = parse(r#"jevt.value["/a b"] = x"#);
    let falco_rs_syntax::Operand::Field(field) = &check(&expr).lhs else {
        panic!("lhs is not a field");
    };
    assert_eq!(field.arg.as_deref(), Some("/a b"));
    assert_eq!(expr.to_string(), r#"jevt.value["/a b"] = x"#);
}

#[test]
fn exists_glued_to_a_field_argument() {
    assert_eq!(printed("json.value[/a/b]exists"), "json.value[/a/b] exists");
}

#[test]
fn val_is_not_allowed_on_the_left() {
    assert_error_at(
        "val(ka.verb) = x",
        "unexpected token after 'val', expecting 'or', 'and'",
        3,
    );
}

#[test]
fn transformer_on_the_right_is_a_field() {
    let expr = parse("ka.verb = tolower(ka.uri)");
    assert!(matches!(
        &check(&expr).rhs,
        Rhs::Field(falco_rs_syntax::Operand::Transform { .. })
    ));
    assert_eq!(expr.to_string(), "ka.verb = tolower(ka.uri)");
}

#[test]
fn modifier_keyword_alone_is_a_string() {
    let expr = parse("ka.verb = oneof");
    assert!(matches!(&check(&expr).rhs, Rhs::Value(v, _) if v == "oneof"));
    assert_eq!(printed("ka.verb = oneof and x"), "(ka.verb = oneof and x)");
}

#[test]
fn modifier_with_an_identifier() {
    let expr = parse("ka.verb startswith oneof x");
    assert!(matches!(
        &check(&expr).rhs,
        Rhs::Modified(falco_rs_syntax::Modifier::OneOf, values, _) if values == &["x"]
    ));
    assert_eq!(expr.to_string(), "ka.verb startswith oneof x");
}

#[test]
fn modifier_after_list_operator_is_an_error() {
    assert_error_at(
        "ka.verb in oneof (a)",
        "unexpected token after 'oneof', expecting 'or', 'and'",
        17,
    );
}

#[test]
fn exists_takes_no_value() {
    let message = "unexpected token after 'exists', expecting 'or', 'and'";
    assert_error_at("ka.verb exists = a", message, 15);
    assert_error_at("ka.verb existsz", message, 14);
}
