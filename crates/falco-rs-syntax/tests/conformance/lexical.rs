//! §2.1 lexical rules: blanks, keywords, operator matching order, numbers.

use falco_rs_syntax::{parse_condition, Expr, Op, Rhs};

use crate::{assert_error, assert_error_at, error, parse, printed};

fn op_of(input: &str) -> Op {
    match parse(input) {
        Expr::Check(check) => check.op,
        other => panic!("{input:?} is not a check: {other:?}"),
    }
}

fn rhs_of(input: &str) -> Rhs {
    match parse(input) {
        Expr::Check(check) => std::sync::Arc::unwrap_or_clone(check).rhs,
        other => panic!("{input:?} is not a check: {other:?}"),
    }
}

#[test]
fn blanks_are_space_tab_backspace_cr_lf() {
    assert_eq!(
        printed(" \t\u{8}\r\nka.verb\t=\u{8}get\r\nand\nx\t"),
        "(ka.verb = get and x)"
    );
}

#[test]
fn form_feed_and_vertical_tab_are_not_blanks() {
    assert_error_at(
        "\u{c}a",
        "expected a '(' token, a field check, or an identifier",
        0,
    );
    assert_error_at("a\u{b}", "unexpected token after 'a'", 1);
    assert_error_at("a and\u{c}b", "expected blank or '(' after 'and'", 5);
    assert_error_at(
        "ka.verb =\u{c}get",
        "expected a string value or a field with a valid transformer",
        9,
    );
}

#[test]
fn form_feed_and_vertical_tab_count_after_not() {
    assert_eq!(printed("not\u{c}x"), "not x");
    assert_eq!(printed("not\u{b}\u{c} (x)"), "not x");
}

#[test]
fn empty_and_blank_input() {
    let e = error("");
    assert_eq!(e.message, "filter input string is empty");
    assert_eq!((e.pos.index, e.pos.line, e.pos.column), (0, 1, 1));
    assert_error_at(
        "  \n ",
        "expected a '(' token, a field check, or an identifier",
        4,
    );
}

#[test]
fn connectives_accept_a_parenthesis_instead_of_a_blank() {
    assert_eq!(printed("a and(b)"), "(a and b)");
    assert_eq!(printed("a or(b)"), "(a or b)");
    assert_eq!(printed("(a)and(b)and(c)"), "(a and b and c)");
    assert_eq!(printed("(a)or(b)or(c)"), "(a or b or c)");
    assert_eq!(printed("not(a)and(not(b))"), "(not a and not b)");
}

#[test]
fn or_parenthesis_skips_the_and_level() {
    // After `or(`, libsinsp parses the group directly as an `or` operand, so a
    // following `and` is left over.
    assert_error_at(
        "a or(b) and c",
        "unexpected token after ')', expecting 'or', 'and'",
        8,
    );
    assert_eq!(printed("a or (b) and c"), "(a or (b and c))");
    assert_eq!(printed("a and(b) or c"), "((a and b) or c)");
}

#[test]
fn connectives_glued_to_words_are_errors() {
    assert_error_at("a orb", "expected blank or '(' after 'or'", 4);
    assert_error_at("a or", "expected blank or '(' after 'or'", 4);
    assert_error_at("a and", "expected blank or '(' after 'and'", 5);
    assert_error_at("a andnot b", "expected blank or '(' after 'and'", 5);
    assert_error_at(
        "a and ",
        "expected a '(' token, a field check, or an identifier",
        6,
    );
    assert_error("aand b", "unexpected token after 'aand'");
    assert_error("a not b", "unexpected token after 'a'");
    assert_error("a and or b", "unexpected token after 'or'");
}

#[test]
fn identifiers_starting_with_keywords_are_macros() {
    assert_eq!(printed("macro and and_macro"), "(macro and and_macro)");
    assert_eq!(printed("macro or or_macro"), "(macro or or_macro)");
    assert_eq!(printed("notz and a"), "(notz and a)");
    assert_eq!(
        printed("macro and not not_macro"),
        "(macro and not not_macro)"
    );
    assert_eq!(printed("order"), "order");
}

#[test]
fn keywords_are_lowercase_only() {
    assert_error("a AND b", "unexpected token after 'a'");
    assert_error("ka.verb EXISTS", "expected a valid check operator");
    assert_error("ka.verb IN (a)", "expected a valid check operator");
    assert_eq!(printed("NOT"), "NOT");
}

#[test]
fn lone_not() {
    assert!(matches!(parse("not"), Expr::Macro(name, _) if name == "not"));
    assert_eq!(printed("(not)"), "not");
    assert_error_at(
        "not ",
        "expected a '(' token, a field check, or an identifier",
        4,
    );
    assert_eq!(printed("not not"), "not not");
    assert_eq!(printed("ka.verb = not"), "ka.verb = not");
}

#[test]
fn field_glued_to_not() {
    assert_eq!(printed("notka.verb = a"), "notka.verb = a");
    assert_eq!(printed("not ka.verb = a"), "not ka.verb = a");
    assert_eq!(printed("not(ka.verb = a)"), "not ka.verb = a");
}

#[test]
fn negations_toggle() {
    assert_eq!(
        printed("not not not not not(not not(not x))"),
        "not (not x)"
    );
    assert_eq!(printed("not (not (x))"), "not (not x)");
    assert_eq!(printed("not not(x)"), "x");
    assert_eq!(printed("(not not x)"), "x");
}

#[test]
fn symbol_operators_need_no_blanks() {
    for (input, op) in [
        ("ka.x=1", Op::Eq),
        ("ka.x==1", Op::Eq),
        ("ka.x!=1", Op::Ne),
        ("ka.x<1", Op::Lt),
        ("ka.x<=1", Op::Le),
        ("ka.x>1", Op::Gt),
        ("ka.x>=1", Op::Ge),
    ] {
        assert_eq!(op_of(input), op, "{input}");
    }
}

#[test]
fn longer_operators_win() {
    assert_eq!(op_of("ka.x <= 1"), Op::Le);
    assert_eq!(op_of("ka.x >= 1"), Op::Ge);
    assert_eq!(op_of("ka.x == a"), Op::Eq);
    assert_eq!(op_of("ka.x intersects (a)"), Op::Intersects);
    assert_eq!(op_of("ka.x in (a)"), Op::In);
    assert_eq!(op_of("ka.x icontains a"), Op::IContains);
    assert_eq!(op_of("ka.x bstartswith 00"), Op::BStartsWith);
    assert_eq!(op_of("ka.x iglob a*"), Op::IGlob);
    // `<` then `=`: the value `=1` is not a number.
    assert_error("ka.x < =1", "expected a number value");
    // `==` then `= a`: `=` cannot start a bare string.
    assert_error("ka.x === a", "expected a string value");
}

#[test]
fn every_word_operator() {
    for (word, op) in [
        ("glob", Op::Glob),
        ("iglob", Op::IGlob),
        ("contains", Op::Contains),
        ("icontains", Op::IContains),
        ("bcontains", Op::BContains),
        ("startswith", Op::StartsWith),
        ("bstartswith", Op::BStartsWith),
        ("endswith", Op::EndsWith),
        ("regex", Op::Regex),
    ] {
        let input = format!("ka.x {word} v");
        assert_eq!(op_of(&input), op);
        assert_eq!(printed(&input), input);
        assert_error(&format!("ka.x {word}v"), "expected a valid check operator");
        assert_error(
            &format!("ka.x {word}\"v\""),
            "expected a valid check operator",
        );
    }
    assert_eq!(op_of("ka.x contains\tv"), Op::Contains);
    assert_eq!(op_of("ka.x contains\nv"), Op::Contains);
}

#[test]
fn list_operators_need_no_blank() {
    assert_eq!(printed("ka.verb in(get)"), "ka.verb in (get)");
    assert_eq!(printed("ka.verb pmatch(/a)"), "ka.verb pmatch (/a)");
    assert_eq!(printed("ka.verb intersects()"), "ka.verb intersects ()");
    assert_eq!(printed("ka.verb inx"), "ka.verb in x");
    assert_eq!(printed("ka.verb intersectsx"), "ka.verb intersects x");
    assert_eq!(printed("ka.verb pmatchx"), "ka.verb pmatch x");
    assert_error("ka.verb in", "expected a list, an identifier, or a field");
    assert_error(
        "ka.verb in /path",
        "expected a list, an identifier, or a field",
    );
    assert_error("ka.verb in x.y", "unexpected token after 'x'");
}

#[test]
fn exists_is_a_raw_prefix() {
    assert_eq!(op_of("ka.x exists"), Op::Exists);
    assert_eq!(rhs_of("ka.x exists"), Rhs::None);
    assert_eq!(printed("ka.x existsand y"), "(ka.x exists and y)");
    assert_error("ka.x exists y", "unexpected token after 'exists'");
    assert_error("ka.x ExIsTs", "expected a valid check operator");
}

#[test]
fn operators_without_values_are_errors() {
    for op in [">", "<", ">=", "<="] {
        assert_error(&format!("ka.x {op}"), "expected a number value");
    }
    for op in ["=", "==", "!="] {
        assert_error(&format!("ka.x {op}"), "expected a string value");
    }
    for op in ["in", "intersects", "pmatch"] {
        assert_error(&format!("ka.x {op}"), "expected a list, an identifier");
    }
    // Word operators at the end of input have no trailing blank.
    assert_error("ka.x contains", "expected a valid check operator");
    assert_error("ka.x contains ", "expected a string value");
}

#[test]
fn numbers() {
    for number in [
        "1000",
        "+1",
        "-1",
        "0x12345",
        "0XaB00AB",
        "1.2",
        "-1.2",
        "-0.1222e+10",
        "7.",
        "1E-3",
    ] {
        let input = format!("ka.x > {number}");
        assert!(
            matches!(rhs_of(&input), Rhs::Value(v, _) if v == number),
            "{input}"
        );
    }
    assert_error("ka.x > 5e3", "unexpected token after '5'");
    assert_error("ka.x < 0xAAA.1", "unexpected token after '0xAAA'");
    assert_error("ka.x >= 0aaaaa", "unexpected token after '0'");
    assert_error("ka.x > !1", "expected a number value");
    assert_error("ka.x > .5", "expected a number value");
    assert_error("ka.x > \"5\"", "expected a number value");
    // With string operators, number-like text is just a bare string.
    for value in ["5e3", "0xAAA.1", "0aaaaa", "!0.1222e+10", "+5"] {
        let input = format!("ka.x = {value}");
        assert!(
            matches!(rhs_of(&input), Rhs::Value(v, _) if v == value),
            "{input}"
        );
    }
}

#[test]
fn macro_cannot_take_an_operator() {
    assert_error("macro > 12", "unexpected token after 'macro'");
    assert_error("a.b = b = 1", "unexpected token after 'b'");
    assert_error("(a.b = 1", "expected a ')' token");
    assert_error("a.b = 1)", "unexpected token after '1'");
    // `in` is a raw prefix, so this is `a.a in validoperator` followed by `xxx`.
    assert_error(
        "a.a invalidoperator xxx",
        "unexpected token after 'validoperator'",
    );
    assert_error(
        "#a and b",
        "expected a '(' token, a field check, or an identifier",
    );
}

#[test]
fn error_positions_have_lines_and_columns() {
    let e = error("a and\n\n  b c");
    assert_eq!(
        e.message,
        "unexpected token after 'b', expecting 'or', 'and'"
    );
    assert_eq!((e.pos.index, e.pos.line, e.pos.column), (11, 3, 5));
    let e = error("ka.verb = a\r\n  and x y");
    assert_eq!((e.pos.index, e.pos.line, e.pos.column), (21, 3, 9));
}

#[test]
fn positions_after_blanks_follow_libsinsp() {
    // libsinsp's own position tests: the parser ends after trailing blanks.
    for input in ["a and b", "a and b    ", "not b", "a    ", "a \n and \n  b"] {
        parse_condition(input).expect("parses");
    }
}
