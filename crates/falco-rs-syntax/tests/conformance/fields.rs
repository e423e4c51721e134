//! §2.4 field names and field arguments.

use falco_rs_syntax::{Expr, FieldRef, Operand, Span};

use crate::{assert_error, assert_error_at, parse, printed};

fn lhs_field(input: &str) -> FieldRef {
    match parse(input) {
        Expr::Check(check) => match std::sync::Arc::unwrap_or_clone(check).lhs {
            Operand::Field(field) => field,
            other => panic!("{input:?}: lhs is {other:?}"),
        },
        other => panic!("{input:?} is not a check: {other:?}"),
    }
}

#[test]
fn field_names() {
    assert_eq!(lhs_field("a.b_c.d1 exists").name, "a.b_c.d1");
    assert_eq!(
        lhs_field("ka.req.pod.containers.image exists").name,
        "ka.req.pod.containers.image"
    );
    assert_error("a.1b exists", "unexpected token after 'a'");
    assert_error("ka._x exists", "unexpected token after 'ka'");
    assert_error_at("ka.verb. exists", "expected a valid check operator", 7);
}

#[test]
fn bare_arguments() {
    let field = lhs_field("evt.arg[0] = value");
    assert_eq!(field.arg.as_deref(), Some("0"));
    assert_eq!(field.span, Span::new(0, 10));
    assert_eq!(lhs_field("evt.arg[key] = v").arg.as_deref(), Some("key"));
    assert_eq!(
        lhs_field("ka.x[+0.25e+10] = a").arg.as_deref(),
        Some("+0.25e+10")
    );
    assert_eq!(
        lhs_field(r"ka.x[0a!@#456:/\.;!$%^&*(){}|] = v")
            .arg
            .as_deref(),
        Some(r"0a!@#456:/\.;!$%^&*(){}|")
    );
    assert_eq!(printed("evt.arg[0] = value"), "evt.arg[0] = value");
}

#[test]
fn quoted_arguments_are_unescaped() {
    assert_eq!(
        lhs_field(r#"evt.arg["key with space"] = v"#).arg.as_deref(),
        Some("key with space")
    );
    assert_eq!(lhs_field("ka.x['a aa'] = a").arg.as_deref(), Some("a aa"));
    assert_eq!(
        lhs_field(r#"ka.x["test \"with\"escaping"] = a"#)
            .arg
            .as_deref(),
        Some(r#"test "with"escaping"#)
    );
    assert_eq!(lhs_field(r#"ka.x["a]b"] = a"#).arg.as_deref(), Some("a]b"));
    assert_eq!(
        printed(r#"evt.arg["key with space"] = v"#),
        r#"evt.arg["key with space"] = v"#
    );
    assert_eq!(printed(r#"evt.arg["key"] = v"#), "evt.arg[key] = v");
    assert_error_at(
        r#"ka.x["\."] = v"#,
        r"unsupported string escape sequence: \.",
        9,
    );
}

#[test]
fn empty_quoted_argument_differs_from_no_argument() {
    let empty = lhs_field(r#"ka.x[""] = v"#);
    assert_eq!(empty.arg.as_deref(), Some(""));
    assert_eq!(lhs_field("ka.x = v").arg, None);
    assert_eq!(printed(r#"ka.x[""] = v"#), r#"ka.x[""] = v"#);
}

#[test]
fn invalid_arguments() {
    let arg_error = "expected a valid field argument: a quoted string or a bare string";
    assert_error_at("ka.x[] = v", arg_error, 5);
    assert_error_at("ka.x[ 0] = v", arg_error, 5);
    assert_error_at("ka.x[   test   ] = v", arg_error, 5);
    assert_error_at("ka.x[[] = v", arg_error, 5);
    assert_error_at("ka.x[]] = v", arg_error, 5);
    assert_error_at("ka.x[ = v", arg_error, 5);
    assert_error_at("ka.x[", arg_error, 5);
    let close_error = "expected a ']' token";
    assert_error_at("ka.x[0 ] = v", close_error, 6);
    assert_error_at(r#"ka.x["x" = v"#, close_error, 8);
    assert_error_at("ka.x['''] = v", close_error, 7);
    assert_error_at(r#"ka.x[aaa"] = v"#, close_error, 8);
    assert_error_at(r"ka.x[0a!@#456:/\.;!$%^&*[]{}] = v", close_error, 24);
    assert_error_at("ka.x[0", close_error, 6);
}

#[test]
fn blank_before_argument_is_not_an_argument() {
    assert_error_at("ka.x [0] = y", "expected a valid check operator", 5);
    assert_error_at("ka.x] = v", "expected a valid check operator", 4);
}
