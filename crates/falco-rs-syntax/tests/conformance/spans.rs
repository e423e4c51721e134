//! Byte spans of AST nodes.

use falco_rs_syntax::{Expr, Operand, Rhs, Span};

use crate::parse;

fn check_of(expr: &Expr) -> &falco_rs_syntax::Check {
    match expr {
        Expr::Check(check) => check,
        other => panic!("not a check: {other:?}"),
    }
}

fn children(expr: &Expr) -> &[Expr] {
    match expr {
        Expr::And(children, _) | Expr::Or(children, _) => children,
        other => panic!("not and/or: {other:?}"),
    }
}

#[test]
fn check_spans() {
    let expr = parse("proc.name=nginx");
    let check = check_of(&expr);
    assert_eq!(check.span, Span::new(0, 15));
    assert_eq!(check.lhs.span(), Span::new(0, 9));
    assert_eq!(check.rhs, Rhs::Value("nginx".into(), Span::new(10, 15)));

    let expr = parse("  proc.aname[3] = 'a b' ");
    let check = check_of(&expr);
    assert_eq!(check.span, Span::new(2, 23));
    assert_eq!(check.lhs.span(), Span::new(2, 15));
    assert_eq!(check.rhs, Rhs::Value("a b".into(), Span::new(18, 23)));

    let expr = parse("ka.x exists");
    assert_eq!(expr.span(), Span::new(0, 11));
}

#[test]
fn list_spans() {
    let expr = parse("proc.name in ( nginx, apache)");
    assert_eq!(
        check_of(&expr).rhs,
        Rhs::List(vec!["nginx".into(), "apache".into()], Span::new(13, 29))
    );
    let expr = parse("proc.name in mylist");
    assert_eq!(
        check_of(&expr).rhs,
        Rhs::List(vec!["mylist".into()], Span::new(13, 19))
    );
}

#[test]
fn logical_spans() {
    let expr = parse("a and b or c");
    assert_eq!(expr.span(), Span::new(0, 12));
    assert_eq!(children(&expr)[0].span(), Span::new(0, 7));
    assert_eq!(
        children(&expr)[1],
        Expr::Macro("c".into(), Span::new(11, 12))
    );

    // Parentheses of the first and last operands belong to the chain.
    let expr = parse(" (a) and (b) ");
    assert_eq!(expr.span(), Span::new(1, 12));
    assert_eq!(children(&expr)[0].span(), Span::new(2, 3));

    let expr = parse("(proc.name=nginx or proc.name=apache)");
    assert_eq!(expr.span(), Span::new(1, 36));
    assert_eq!(children(&expr)[1].span(), Span::new(20, 36));
}

#[test]
fn not_spans() {
    let expr = parse("not proc.name=nginx");
    assert_eq!(expr.span(), Span::new(0, 19));
    let Expr::Not(child, _) = &expr else {
        panic!("not a negation")
    };
    assert_eq!(child.span(), Span::new(4, 19));

    let expr = parse("x and not (y)");
    assert_eq!(children(&expr)[1].span(), Span::new(6, 13));
    // `not not y` is just `y`.
    let expr = parse("x and not not y");
    assert_eq!(children(&expr)[1].span(), Span::new(14, 15));
}

#[test]
fn transformer_spans() {
    let expr = parse("b64(evt.name) exists and tolower(toupper(evt.type)) in val(some.field)");
    let and = children(&expr);
    assert_eq!(check_of(&and[0]).lhs.span(), Span::new(0, 13));
    let second = check_of(&and[1]);
    assert_eq!(second.span, Span::new(25, 70));
    let Operand::Transform { args, .. } = &second.lhs else {
        panic!("not a transformer")
    };
    assert_eq!(second.lhs.span(), Span::new(25, 51));
    assert_eq!(args[0].span(), Span::new(33, 50));
    // `val(f)` keeps the span of `f`.
    let Rhs::Field(rhs) = &second.rhs else {
        panic!("not a field")
    };
    assert_eq!(rhs.span(), Span::new(59, 69));
}

#[test]
fn multiline_spans() {
    let text = "\n(proc.aname[2]=nginx\n     and evt.type in (connect,accept))";
    let expr = parse(text);
    let and = children(&expr);
    assert_eq!(and[0].span(), Span::new(2, 21));
    assert_eq!(
        check_of(&and[1]).rhs,
        Rhs::List(vec!["connect".into(), "accept".into()], Span::new(43, 59))
    );
}
