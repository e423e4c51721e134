//! The nesting limit: depth 1000 parses, deeper input is an error, never a stack
//! overflow. Deep cases run on a 2 MiB thread stack (the default for spawned threads)
//! to show that the parser, the printer and drop fit in it.

use falco_rs_syntax::{parse_condition, parse_operand, Expr, Operand, MAX_DEPTH};

const DEPTH_ERROR: &str = "exceeded max depth limit of 1000";

/// Runs `test` on a thread with a 2 MiB stack.
fn on_small_stack(test: impl FnOnce() + Send + 'static) {
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(test)
        .expect("spawn test thread");
    if let Err(panic) = handle.join() {
        std::panic::resume_unwind(panic);
    }
}

fn nested_groups(levels: usize, opener: &str) -> String {
    format!("{}ka.verb = a{}", opener.repeat(levels), ")".repeat(levels))
}

fn nested_transformers(levels: usize) -> String {
    format!("{}ka.verb{}", "tolower(".repeat(levels), ")".repeat(levels))
}

fn assert_depth_error(input: &str, index: usize) {
    let error = parse_condition(input).expect_err("too deep");
    assert_eq!(error.message, DEPTH_ERROR);
    assert_eq!(error.pos.index, index);
}

fn not_chain_length(mut node: &Expr) -> usize {
    let mut length = 0;
    while let Expr::Not(child, _) = node {
        length += 1;
        node = child;
    }
    length
}

#[test]
fn max_depth_is_1000() {
    assert_eq!(MAX_DEPTH, 1000);
}

#[test]
fn groups_at_the_limit_parse() {
    on_small_stack(|| {
        let expr = parse_condition(&nested_groups(MAX_DEPTH, "(")).expect("depth 1000");
        assert_eq!(expr.to_string(), "ka.verb = a");
        let expr = parse_condition(&nested_groups(MAX_DEPTH, "a and (")).expect("depth 1000");
        assert!(expr.to_string().starts_with("(a and (a and "));
        let expr = parse_condition(&nested_groups(MAX_DEPTH, "a or(")).expect("depth 1000");
        assert!(expr.to_string().starts_with("(a or (a or "));
    });
}

#[test]
fn groups_beyond_the_limit_fail() {
    on_small_stack(|| {
        assert_depth_error(&nested_groups(MAX_DEPTH + 1, "("), MAX_DEPTH + 1);
        assert_depth_error(&nested_groups(100_000, "("), MAX_DEPTH + 1);
        assert_depth_error(&nested_groups(100_000, "not ("), 5 * (MAX_DEPTH + 1));
        assert_depth_error(&nested_groups(100_000, "not("), 4 * (MAX_DEPTH + 1));
        assert_depth_error(&nested_groups(100_000, "a and("), 6 * (MAX_DEPTH + 1));
        // Unbalanced: only openers.
        assert_depth_error(&"(".repeat(100_000), MAX_DEPTH + 1);
    });
}

#[test]
fn negations_at_the_limit_parse_print_and_drop() {
    on_small_stack(|| {
        let expr = parse_condition(&nested_groups(MAX_DEPTH, "not (")).expect("depth 1000");
        assert_eq!(not_chain_length(&expr), MAX_DEPTH);
        let printed = expr.to_string();
        assert!(printed.starts_with("not (not (not ("));
        let reparsed = parse_condition(&printed).expect("printed form parses");
        assert_eq!(reparsed.to_string(), printed);
        drop(expr);
        drop(reparsed);
    });
}

#[test]
fn long_not_sequences_are_not_recursive() {
    on_small_stack(|| {
        let even = format!("{}ka.verb = a", "not ".repeat(100_000));
        assert_eq!(
            parse_condition(&even).expect("parses").to_string(),
            "ka.verb = a"
        );
        let odd = format!("{}ka.verb = a", "not ".repeat(100_001));
        assert_eq!(
            parse_condition(&odd).expect("parses").to_string(),
            "not ka.verb = a"
        );
    });
}

#[test]
fn transformers_count_towards_the_limit() {
    on_small_stack(|| {
        let input = format!("{} exists", nested_transformers(MAX_DEPTH));
        let expr = parse_condition(&input).expect("depth 1000");
        assert_eq!(expr.to_string(), input);

        let input = format!("ka.x = {}", nested_transformers(MAX_DEPTH));
        parse_condition(&input).expect("depth 1000 on the right-hand side");

        let too_deep = format!("{} exists", nested_transformers(MAX_DEPTH + 1));
        assert_depth_error(&too_deep, 8 * (MAX_DEPTH + 1));
        let too_deep = format!("{} exists", nested_transformers(100_000));
        assert_depth_error(&too_deep, 8 * (MAX_DEPTH + 1));
    });
}

#[test]
fn groups_and_transformers_share_the_limit() {
    on_small_stack(|| {
        let half = MAX_DEPTH / 2;
        let at_limit = format!(
            "{}{} exists{}",
            "(".repeat(half),
            nested_transformers(half),
            ")".repeat(half)
        );
        parse_condition(&at_limit).expect("depth 1000");
        let beyond = format!(
            "{}{} exists{}",
            "(".repeat(half + 1),
            nested_transformers(half),
            ")".repeat(half + 1)
        );
        assert_eq!(
            parse_condition(&beyond).expect_err("too deep").message,
            DEPTH_ERROR
        );
    });
}

#[test]
fn transformer_lists_count_towards_the_limit() {
    on_small_stack(|| {
        // Each level is a `join(` call and a list: two levels.
        let levels = MAX_DEPTH / 2;
        let input = format!(
            "{}ka.x{} exists",
            "join(\",\", (".repeat(levels),
            "))".repeat(levels)
        );
        let expr = parse_condition(&input).expect("depth 1000");
        drop(expr);
        let input = format!(
            "{}ka.x{} exists",
            "join(\",\", (".repeat(levels + 1),
            "))".repeat(levels + 1)
        );
        assert_eq!(
            parse_condition(&input).expect_err("too deep").message,
            DEPTH_ERROR
        );
    });
}

#[test]
fn operand_parser_has_the_same_limit() {
    on_small_stack(|| {
        let (operand, consumed) =
            parse_operand(&nested_transformers(MAX_DEPTH)).expect("depth 1000");
        assert!(matches!(operand, Operand::Transform { .. }));
        assert_eq!(consumed, 8 * MAX_DEPTH + 7 + MAX_DEPTH);
        let error = parse_operand(&nested_transformers(100_000)).expect_err("too deep");
        assert_eq!(error.message, DEPTH_ERROR);
    });
}
