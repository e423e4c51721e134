//! `Display`: libsinsp's AST format, and reading the output back.

use falco_rs_syntax::{Check, Expr, FieldRef, Modifier, Op, Operand, Rhs, Span, Transformer};

use crate::printed;

fn field(name: &str) -> FieldRef {
    FieldRef {
        name: name.into(),
        arg: None,
        span: Span::default(),
    }
}

fn check(lhs: Operand, op: Op, rhs: Rhs) -> Expr {
    Expr::Check(
        Check {
            lhs,
            op,
            rhs,
            span: Span::default(),
        }
        .into(),
    )
}

#[test]
fn libsinsp_format() {
    let cases = [
        (
            "evt.name exists and evt.type in (a, b) or proc.name=cat",
            "((evt.name exists and evt.type in (a, b)) or proc.name = cat)",
        ),
        (
            "b64(evt.name) exists and tolower(toupper(evt.type)) in val(some.field) or \
             proc.name=b64(tolower(some.field))",
            "((b64(evt.name) exists and tolower(toupper(evt.type)) in val(some.field)) or \
             proc.name = b64(tolower(some.field)))",
        ),
        ("((macro) and (not_macro))", "(macro and not_macro)"),
        ("a and (b and c)", "(a and (b and c))"),
        ("not (a or b)", "not (a or b)"),
        ("ka.x == \"\"", "ka.x = \"\""),
        ("ka.x = 'it\\'s'", "ka.x = \"it's\""),
    ];
    for (input, expected) in cases {
        assert_eq!(printed(input), expected, "{input}");
    }
}

#[test]
fn values_are_quoted_when_needed() {
    let value = |v: &str| {
        check(
            Operand::Field(field("ka.x")),
            Op::Eq,
            Rhs::Value(v.into(), Span::default()),
        )
    };
    assert_eq!(value("get").to_string(), "ka.x = get");
    assert_eq!(value("").to_string(), r#"ka.x = """#);
    assert_eq!(value("a b").to_string(), r#"ka.x = "a b""#);
    assert_eq!(
        value(r#"say "hi"\"#).to_string(),
        r#"ka.x = "say \"hi\"\\""#
    );
    assert_eq!(value("a=b").to_string(), r#"ka.x = "a=b""#);
    assert_eq!(value("it's").to_string(), r#"ka.x = "it's""#);
    assert_eq!(value("line\nbreak").to_string(), r#"ka.x = "line\nbreak""#);
    assert_eq!(value(r"^a\.b$").to_string(), r"ka.x = ^a\.b$");
    let list = check(
        Operand::Field(field("ka.x")),
        Op::In,
        Rhs::List(
            vec!["a".into(), "b c".into(), "d,e".into()],
            Span::default(),
        ),
    );
    assert_eq!(list.to_string(), r#"ka.x in (a, "b c", "d,e")"#);
}

#[test]
fn built_asts_print() {
    let not_not = Expr::Not(
        Box::new(Expr::Not(
            Box::new(Expr::Macro("m".into(), Span::default())),
            Span::default(),
        )),
        Span::default(),
    );
    assert_eq!(not_not.to_string(), "not (not m)");

    let single = check(
        Operand::Field(field("ka.x")),
        Op::In,
        Rhs::List(vec!["only".into()], Span::default()),
    );
    assert_eq!(single.to_string(), "ka.x in (only)");

    let modified = check(
        Operand::Field(field("ka.x")),
        Op::StartsWith,
        Rhs::Modified(
            Modifier::AnyOf,
            vec!["/a".into(), "/b".into()],
            Span::default(),
        ),
    );
    assert_eq!(modified.to_string(), "ka.x startswith anyof (/a, /b)");

    let transform = Operand::Transform {
        kind: Transformer::Concat,
        args: vec![
            Operand::Field(FieldRef {
                arg: Some("a b".into()),
                ..field("ka.x")
            }),
            Operand::Literal("-".into(), Span::default()),
            Operand::Literal("12".into(), Span::default()),
            Operand::List(vec![], Span::default()),
        ],
        arg: Some("".into()),
        span: Span::default(),
    };
    assert_eq!(
        transform.to_string(),
        r#"concat(ka.x["a b"],"-",12,())[""]"#
    );
    let val = check(
        Operand::Field(field("ka.x")),
        Op::Ne,
        Rhs::Field(Operand::Field(field("ka.y"))),
    );
    assert_eq!(val.to_string(), "ka.x != val(ka.y)");
    assert_eq!(Rhs::None.to_string(), "");
    assert_eq!(Transformer::Basename.to_string(), "basename");
    assert_eq!(Modifier::AllOf.to_string(), "allof");
}

#[test]
fn printed_conditions_read_back() {
    let inputs = [
        "a and b or not c and (d or e)",
        r#"ka.x = "a b" and ka.y in ("", 'x,y', z) or ka.z != "q\"uote\\ x""#,
        "not not not (not x)",
        r#"jevt.value["/a b"] exists and json.value[/a/b] = "tab\t""#,
        r#"getopt(ka.args, "nt:")[t] = v and join(",", (ka.a, tolower(ka.b), "x y", 0x1)) = 'z'"#,
        "ka.verb startswith oneof x and ka.verb = anyof (a, 'b c') or ka.verb in mylist",
        "ka.x in ( single ) and ka.y intersects val(ka.z) and ka.w > -1.5e+3",
    ];
    for input in inputs {
        let first = printed(input);
        let second = printed(&first);
        assert_eq!(first, second, "{input}");
    }
}
