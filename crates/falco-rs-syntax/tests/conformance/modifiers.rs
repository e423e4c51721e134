//! `oneof` / `anyof` / `allof` modifiers after string operators.

use falco_rs_syntax::{Expr, Modifier, Op, Rhs, Span};

use crate::{assert_error, assert_error_at, parse, printed};

fn check_of(input: &str) -> falco_rs_syntax::Check {
    match parse(input) {
        Expr::Check(check) => std::sync::Arc::unwrap_or_clone(check),
        other => panic!("{input:?} is not a check: {other:?}"),
    }
}

#[test]
fn every_modifier_with_every_string_operator() {
    let operators = [
        ("==", Op::Eq),
        ("=", Op::Eq),
        ("!=", Op::Ne),
        ("glob", Op::Glob),
        ("iglob", Op::IGlob),
        ("contains", Op::Contains),
        ("icontains", Op::IContains),
        ("bcontains", Op::BContains),
        ("startswith", Op::StartsWith),
        ("bstartswith", Op::BStartsWith),
        ("endswith", Op::EndsWith),
        ("regex", Op::Regex),
    ];
    let modifiers = [
        ("oneof", Modifier::OneOf),
        ("anyof", Modifier::AnyOf),
        ("allof", Modifier::AllOf),
    ];
    for (op_text, op) in operators {
        for (modifier_text, modifier) in modifiers {
            let input = format!("proc.name {op_text} {modifier_text} (cat, 'ng inx')");
            let check = check_of(&input);
            assert_eq!(check.op, op, "{input}");
            assert_eq!(
                check.rhs,
                Rhs::Modified(
                    modifier,
                    vec!["cat".into(), "ng inx".into()],
                    Span::new(input.len() - 15, input.len())
                ),
                "{input}"
            );
            assert_eq!(
                printed(&input),
                format!("proc.name {op} {modifier_text} (cat, \"ng inx\")")
            );
        }
    }
}

#[test]
fn modifier_lists() {
    assert!(matches!(
        check_of("proc.name == oneof ()").rhs,
        Rhs::Modified(Modifier::OneOf, values, _) if values.is_empty()
    ));
    assert!(matches!(
        check_of("proc.name != allof my_list").rhs,
        Rhs::Modified(Modifier::AllOf, values, span)
            if values == ["my_list"] && span == Span::new(19, 26)
    ));
    assert!(matches!(
        check_of("proc.name == oneof oneof").rhs,
        Rhs::Modified(Modifier::OneOf, values, _) if values == ["oneof"]
    ));
    // `andx` is an identifier, not the keyword `and`.
    assert!(matches!(
        check_of("proc.name == oneof andx").rhs,
        Rhs::Modified(Modifier::OneOf, values, _) if values == ["andx"]
    ));
    assert!(matches!(
        check_of(r#"b64(proc.cmdline) == allof ("dGVzdA==")"#).rhs,
        Rhs::Modified(Modifier::AllOf, values, _) if values == ["dGVzdA=="]
    ));
    assert_eq!(
        printed("proc.name == oneof allowed"),
        "proc.name = oneof allowed"
    );
    assert_eq!(
        printed("proc.name == oneof (allowed)"),
        "proc.name = oneof (allowed)"
    );
    assert_eq!(
        printed("not proc.name == oneof (cat) and fd.name exists"),
        "(not proc.name = oneof (cat) and fd.name exists)"
    );
}

#[test]
fn modifier_keywords_as_plain_strings() {
    for input in [
        "proc.name == oneof",
        "(proc.name == anyof)",
        "proc.name == 'oneof'",
        "proc.name == oneof_something",
        "proc.name ==oneof",
    ] {
        let expr = parse(input);
        let Expr::Check(check) = expr else {
            panic!("{input}: {expr:?}")
        };
        assert!(matches!(check.rhs, Rhs::Value(..)), "{input}");
    }
    assert_eq!(
        printed("proc.name == anyof and fd.name exists"),
        "(proc.name = anyof and fd.name exists)"
    );
    assert_eq!(
        printed("proc.name == oneof or fd.name exists"),
        "(proc.name = oneof or fd.name exists)"
    );
    assert_eq!(
        printed("proc.name == oneof and proc.name == anyof (cat)"),
        "(proc.name = oneof and proc.name = anyof (cat))"
    );
}

#[test]
fn malformed_modifiers() {
    assert_error("proc.name == oneof (cat,)", "expected a string value");
    assert_error("proc.name == oneof (cat,,nginx)", "expected a string value");
    assert_error("proc.name == oneof (,cat)", "expected a ')' token");
    assert_error("proc.name == oneof (cat, nginx", "expected a ')' token");
    // No blank between the operator and the modifier, or between the modifier and the
    // list: the keyword is a plain string and the list is left over.
    assert_error_at(
        "proc.name ==oneof (cat)",
        "unexpected token after 'oneof'",
        18,
    );
    assert_error_at(
        "proc.name == oneof(cat)",
        "unexpected token after 'oneof'",
        18,
    );
    assert_error(
        "proc.name contains oneof(cat)",
        "unexpected token after 'oneof'",
    );
    assert_error("proc.name == ONEOF (cat)", "unexpected token after 'ONEOF'");
    assert_error(
        "proc.name == oneof_x (cat)",
        "unexpected token after 'oneof_x'",
    );
    // A keyword after the modifier: `not_x` starts with `not` followed by a
    // non-alphanumeric character, so libsinsp treats it as the keyword.
    assert_error_at(
        "ka.verb = oneof not_x",
        "unexpected token after 'oneof'",
        16,
    );
    // Modifiers only follow string operators.
    assert_error("proc.num > oneof (1, 2)", "expected a number value");
    assert_error("proc.num <= anyof (1, 2)", "expected a number value");
    assert_error("proc.name in oneof (cat)", "unexpected token after 'oneof'");
    assert_error(
        "proc.name intersects anyof (cat)",
        "unexpected token after 'anyof'",
    );
    assert_error(
        "proc.name pmatch allof (cat)",
        "unexpected token after 'allof'",
    );
}
