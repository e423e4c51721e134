//! §2.4 transformers: left and right-hand side, nesting, lists, `val()`.

use falco_rs_syntax::{Expr, FieldRef, Op, Operand, Rhs, Span, Transformer};

use crate::{assert_error, assert_error_at, parse, printed};

fn check_of(input: &str) -> falco_rs_syntax::Check {
    match parse(input) {
        Expr::Check(check) => std::sync::Arc::unwrap_or_clone(check),
        other => panic!("{input:?} is not a check: {other:?}"),
    }
}

fn field(name: &str, start: usize) -> Operand {
    Operand::Field(FieldRef {
        name: name.to_string(),
        arg: None,
        span: Span::new(start, start + name.len()),
    })
}

#[test]
fn every_transformer_on_the_left() {
    for kind in Transformer::ALL {
        let input = format!("{}(ka.x) exists", kind.name());
        let check = check_of(&input);
        let Operand::Transform {
            kind: parsed,
            args,
            arg,
            span,
        } = &check.lhs
        else {
            panic!("{input}: lhs is {:?}", check.lhs);
        };
        assert_eq!(*parsed, kind);
        assert_eq!(args, &[field("ka.x", kind.name().len() + 1)]);
        assert_eq!(*arg, None);
        assert_eq!(*span, Span::new(0, kind.name().len() + 6));
        assert_eq!(check.op, Op::Exists);
        assert_eq!(printed(&input), input);
    }
}

#[test]
fn nested_transformers_and_blanks() {
    let check = check_of("b64( toupper( ka.x ) ) = v");
    let Operand::Transform { kind, args, .. } = &check.lhs else {
        panic!("lhs is {:?}", check.lhs);
    };
    assert_eq!(*kind, Transformer::B64);
    assert!(matches!(
        &args[..],
        [Operand::Transform { kind: Transformer::ToUpper, args, .. }] if args == &[field("ka.x", 14)]
    ));
    assert_eq!(
        check.lhs.base_field().map(|f| f.name.as_str()),
        Some("ka.x")
    );
    assert_eq!(
        printed("b64( toupper( ka.x ) ) = v"),
        "b64(toupper(ka.x)) = v"
    );
    assert_eq!(printed("b64(b64(ka.x))  exists"), "b64(b64(ka.x)) exists");
}

#[test]
fn multi_argument_transformers_and_lists() {
    let check = check_of(r#"join(",", (ka.a, tolower(ka.b), "lit", 12, 0x1F)) = x"#);
    let Operand::Transform { kind, args, .. } = &check.lhs else {
        panic!("lhs is {:?}", check.lhs);
    };
    assert_eq!(*kind, Transformer::Join);
    let [Operand::Literal(separator, separator_span), Operand::List(items, list_span)] = &args[..]
    else {
        panic!("args are {args:?}");
    };
    assert_eq!(separator, ",");
    assert_eq!(*separator_span, Span::new(5, 8));
    assert_eq!(*list_span, Span::new(10, 48));
    assert_eq!(items.len(), 5);
    assert_eq!(items[0], field("ka.a", 11));
    assert!(matches!(
        &items[1],
        Operand::Transform {
            kind: Transformer::ToLower,
            ..
        }
    ));
    assert!(matches!(&items[2], Operand::Literal(v, _) if v == "lit"));
    assert!(matches!(&items[3], Operand::Literal(v, _) if v == "12"));
    assert!(matches!(&items[4], Operand::Literal(v, _) if v == "0x1F"));
    assert_eq!(
        printed(r#"join(",", (ka.a, tolower(ka.b), "lit", 12, 0x1F)) = x"#),
        r#"join(",",(ka.a,tolower(ka.b),"lit",12,0x1F)) = x"#
    );
    assert_eq!(
        printed(r#"concat(ka.a, "-", ka.b) = x"#),
        r#"concat(ka.a,"-",ka.b) = x"#
    );
    assert_eq!(printed(r#"join("-", ()) = x"#), r#"join("-",()) = x"#);
    assert_eq!(
        printed(r#"join("-", ( ka.a , ka.b )) = x"#),
        r#"join("-",(ka.a,ka.b)) = x"#
    );
    assert_eq!(
        printed(r#"len(join("-", (ka.a, ka.b))) > 5"#),
        r#"len(join("-",(ka.a,ka.b))) > 5"#
    );
}

#[test]
fn getopt_takes_a_trailing_argument() {
    let check = check_of(r#"getopt(ka.args, "nt:")[t] = value"#);
    let Operand::Transform {
        kind, arg, span, ..
    } = &check.lhs
    else {
        panic!("lhs is {:?}", check.lhs);
    };
    assert_eq!(*kind, Transformer::Getopt);
    assert_eq!(arg.as_deref(), Some("t"));
    assert_eq!(*span, Span::new(0, 25));
    assert_eq!(
        printed(r#"getopt(ka.args, "nt:")["t"] = value"#),
        r#"getopt(ka.args,"nt:")[t] = value"#
    );
    let check = check_of(r#"getopt(ka.args, "nt:")[""] = value"#);
    assert!(matches!(&check.lhs, Operand::Transform { arg: Some(a), .. } if a.is_empty()));
    // Other transformers keep the argument too; the compiler rejects it.
    assert!(matches!(
        &check_of("tolower(ka.x)[0] = v").lhs,
        Operand::Transform { arg: Some(a), .. } if a == "0"
    ));
    assert_error(
        r#"getopt(ka.args, "nt:")[] = value"#,
        "expected a valid field argument",
    );
    assert_error(
        r#"getopt(ka.args, "nt:")["t" = value"#,
        "expected a ']' token",
    );
}

#[test]
fn transformers_on_the_right() {
    for op in [
        "=",
        "==",
        "!=",
        "glob",
        "contains",
        "startswith",
        "<",
        ">=",
        "in",
        "pmatch",
    ] {
        let input = format!("ka.a {op} b64(ka.b)");
        let check = check_of(&input);
        assert!(
            matches!(
                &check.rhs,
                Rhs::Field(Operand::Transform {
                    kind: Transformer::B64,
                    ..
                })
            ),
            "{input}"
        );
        let input = format!("ka.a {op} val(ka.b)");
        let check = check_of(&input);
        assert!(
            matches!(&check.rhs, Rhs::Field(Operand::Field(f)) if f.name == "ka.b"),
            "{input}"
        );
    }
    assert_eq!(printed("ka.a = val( ka.b )"), "ka.a = val(ka.b)");
    assert_eq!(printed("ka.a in val(ka.b[0])"), "ka.a in val(ka.b[0])");
    assert_eq!(
        printed("tolower(ka.a) = b64(ka.b) or tolower(ka.c) = tolower(ka.d)"),
        "(tolower(ka.a) = b64(ka.b) or tolower(ka.c) = tolower(ka.d))"
    );
    // A field name on the right without val() is a bare string.
    assert!(matches!(&check_of("ka.a = ka.b").rhs, Rhs::Value(v, _) if v == "ka.b"));
    // Quoted text shaped like a transformer is a string.
    assert!(matches!(
        &check_of("ka.a = 'tolower(ka.b)'").rhs,
        Rhs::Value(..)
    ));
}

#[test]
fn val_rules() {
    assert_error_at("val(ka.x) exists", "unexpected token after 'val'", 3);
    assert_error(
        "b64(val(ka.x)) exists",
        "expected field transformer argument",
    );
    assert_error_at(
        "ka.a = val(val(ka.b))",
        "expected a field within 'val' transformer",
        11,
    );
    assert_error(
        "ka.a = val(toupper(ka.b))",
        "expected a field within 'val' transformer",
    );
    assert_error(
        "ka.a = b64(val(ka.b))",
        "expected field transformer argument",
    );
    assert_error(
        "ka.a = val(ka.b [1])",
        "expected a ')' token closing the transformer",
    );
    assert_error(
        "ka.a = val(ka.b, ka.c)",
        "expected a ')' token closing the transformer",
    );
    assert_error_at(
        "ka.a = val(ka.b)[0]",
        "filter error: transformer 'val' does not support field arguments",
        19,
    );
}

#[test]
fn transformer_syntax_errors() {
    let arg_error = "expected field transformer argument: \
                     field, transformer, quoted string, number, or transformer list";
    assert_error_at("tolower() exists", arg_error, 8);
    assert_error_at("tolower(abc) exists", arg_error, 8);
    assert_error_at("b64(b64)) exists", arg_error, 4);
    assert_error_at("tolower(ka.x, ) exists", arg_error, 14);
    let close_error = "expected a ')' token closing the transformer";
    assert_error_at("b64(ka.x exists", close_error, 9);
    assert_error_at("b64(b64(ka.x) exists", close_error, 14);
    assert_error_at("ka.a = b64(ka.b", close_error, 15);
    assert_error("b64(ka.x)) exists", "expected a valid check operator");
    assert_error("b64 (ka.x) exists", "unexpected token after 'b64'");
    assert_error("b64\n(ka.x) exists", "unexpected token after 'b64'");
    assert_error("b64,(ka.x) exists", "unexpected token after 'b64'");
    assert_error("fake(ka.x) exists", "unexpected token after 'fake'");
    assert_error("some.fake(ka.x) exists", "expected a valid check operator");
    assert_error("ka.a = fake(ka.b)", "unexpected token after 'fake'");
    assert_error("ka.a = b64 (ka.b)", "unexpected token after 'b64'");
    assert_error("ka.a = (b64(ka.b))", "expected a string value");
    assert_error("ka.a = b64and(m)", "unexpected token after 'b64and'");
    assert_eq!(printed("ka.a = b64 and(m)"), "(ka.a = b64 and m)");
    assert_eq!(printed("ka.a = b64 or(m)"), "(ka.a = b64 or m)");
}

#[test]
fn transformer_list_errors() {
    let item_error =
        "expected transformer list argument: field, transformer, quoted string, or number";
    assert_error_at(r#"join("-", (,)) = x"#, item_error, 11);
    assert_error_at(r#"join("-", (ka.a,)) = x"#, item_error, 16);
    assert_error_at(r#"join("-", (ka.a,,ka.b)) = x"#, item_error, 16);
    assert_error_at(r#"join("-", ((ka.a))) = x"#, item_error, 11);
    assert_error_at(r#"join("-", (macro)) = x"#, item_error, 11);
    assert_error_at(r#"join("-", (ka.a ka.b)) = x"#, "expected ')'", 16);
    assert_error(
        r#"join("-", (ka.a, ka.b) = x"#,
        "expected a ')' token closing the transformer",
    );
    assert_error(
        r#"join("-", ka.a, ka.b)) = x"#,
        "expected a valid check operator",
    );
}
