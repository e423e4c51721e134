//! `parse_operand`: the field or transformer after `%` in output templates.

use falco_rs_syntax::{parse_operand, Operand, Span, Transformer};

fn parsed(text: &str) -> (Operand, usize) {
    match parse_operand(text) {
        Ok(result) => result,
        Err(e) => panic!("{text:?} failed at {:?}: {}", e.pos, e.message),
    }
}

fn field_name(operand: &Operand) -> &str {
    match operand {
        Operand::Field(field) => &field.name,
        other => panic!("not a field: {other:?}"),
    }
}

#[test]
fn longest_field_at_the_start() {
    let (operand, consumed) = parsed("ka.verb.");
    assert_eq!((field_name(&operand), consumed), ("ka.verb", 7));
    let (operand, consumed) = parsed("ka.verbose rest");
    assert_eq!((field_name(&operand), consumed), ("ka.verbose", 10));
    let (operand, consumed) = parsed("ka.user.name, ka.verb");
    assert_eq!((field_name(&operand), consumed), ("ka.user.name", 12));
    let (operand, consumed) = parsed("ka.verb");
    assert_eq!((field_name(&operand), consumed), ("ka.verb", 7));
}

#[test]
fn field_arguments_are_included() {
    let (operand, consumed) = parsed("ka.uri.param[command])");
    assert_eq!(consumed, 21);
    let Operand::Field(field) = operand else {
        panic!("not a field")
    };
    assert_eq!(field.arg.as_deref(), Some("command"));
    assert_eq!(field.span, Span::new(0, 21));
    let (_, consumed) = parsed(r#"jevt.value["/a b"] x"#);
    assert_eq!(consumed, 18);
    // A blank ends the field: the argument is not part of it.
    let (_, consumed) = parsed("ka.x [0]");
    assert_eq!(consumed, 4);
}

#[test]
fn transformers() {
    let (operand, consumed) = parsed("tolower(ka.user.name) x");
    assert_eq!(consumed, 21);
    assert!(matches!(
        &operand,
        Operand::Transform { kind: Transformer::ToLower, args, .. } if field_name(&args[0]) == "ka.user.name"
    ));
    assert_eq!(operand.to_string(), "tolower(ka.user.name)");
    let (operand, consumed) = parsed("len( ka.user.groups )!");
    assert_eq!(consumed, 21);
    assert_eq!(operand.to_string(), "len(ka.user.groups)");
    let (operand, consumed) = parsed("toupper(b64(ka.x))]");
    assert_eq!(consumed, 18);
    assert_eq!(operand.span(), Span::new(0, 18));
    let (_, consumed) = parsed(r#"getopt(ka.args, "a:")[a]rest"#);
    assert_eq!(consumed, 24);
}

#[test]
fn text_not_starting_with_a_field_or_transformer() {
    for text in [
        "(ka.verb)",
        "",
        " ka.verb",
        "100% sure",
        "ka",
        "val(ka.verb)",
        "%ka.verb",
    ] {
        let error = parse_operand(text).expect_err(text);
        // (sic) libsinsp's message has no closing quote.
        assert_eq!(error.message, "unexpected token after '", "{text:?}");
        assert_eq!(error.pos.index, 0, "{text:?}");
    }
}

#[test]
fn errors_inside_the_operand() {
    let error = parse_operand("ka.x[").expect_err("unclosed argument");
    assert_eq!(
        error.message,
        "expected a valid field argument: a quoted string or a bare string"
    );
    let error = parse_operand("ka.x[abc").expect_err("unclosed argument");
    assert_eq!(error.message, "expected a ']' token");
    assert_eq!(error.pos.index, 8);
    let error = parse_operand("tolower(ka.x").expect_err("unclosed transformer");
    assert_eq!(
        error.message,
        "expected a ')' token closing the transformer"
    );
    let error = parse_operand("tolower(val(ka.x))").expect_err("val");
    assert!(error
        .message
        .starts_with("expected field transformer argument"));
}
