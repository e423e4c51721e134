//! Maps Falco's regex dialect (RE2 with the `POSIX` option set, full match) onto the
//! `regex` crate.
//!
//! RE2 in POSIX mode rejects Perl extensions: `\d \w \s \b`, `\pL`, `\A \z`,
//! non-capturing or flagged groups, inline flags and lazy repetition. We reject the same
//! so a rule that loads in falco-rs also loads in Falco. `^`/`$` match at line
//! boundaries (RE2 `one_line` is off in POSIX mode); the whole value must match.

use regex::Regex;
use regex_syntax::ast::{self, Ast, ClassSetItem};

/// Compiles `pattern` for a full match, or returns RE2-style error text.
pub fn compile_full_match(pattern: &str) -> Result<Regex, String> {
    let parsed = ast::parse::Parser::new()
        .parse(pattern)
        .map_err(|e| e.kind().to_string())?;
    check(&parsed)?;
    regex::RegexBuilder::new(&format!(r"\A(?:{pattern})\z"))
        .multi_line(true)
        .build()
        .map_err(|e| e.to_string())
}

fn check(node: &Ast) -> Result<(), String> {
    match node {
        Ast::Flags(_) => Err("missing argument to repetition operator: ?".into()),
        Ast::ClassUnicode(c) => Err(format!("invalid escape sequence: \\{}", class_letter(c))),
        Ast::ClassPerl(c) => Err(format!(
            "invalid escape sequence: \\{}",
            match (c.kind.clone(), c.negated) {
                (ast::ClassPerlKind::Digit, false) => 'd',
                (ast::ClassPerlKind::Digit, true) => 'D',
                (ast::ClassPerlKind::Space, false) => 's',
                (ast::ClassPerlKind::Space, true) => 'S',
                (ast::ClassPerlKind::Word, false) => 'w',
                (ast::ClassPerlKind::Word, true) => 'W',
            }
        )),
        Ast::Assertion(a) => match a.kind {
            ast::AssertionKind::StartLine | ast::AssertionKind::EndLine => Ok(()),
            _ => Err(format!("invalid escape sequence: {}", &a.span_text_hint())),
        },
        Ast::Repetition(r) => {
            if !r.greedy {
                return Err("bad repetition operator: lazy repetition".into());
            }
            check(&r.ast)
        }
        Ast::Group(g) => match &g.kind {
            ast::GroupKind::CaptureIndex(_) => check(&g.ast),
            _ => Err("missing argument to repetition operator: ?".into()),
        },
        Ast::Alternation(a) => a.asts.iter().try_for_each(check),
        Ast::Concat(c) => c.asts.iter().try_for_each(check),
        Ast::ClassBracketed(b) => check_class_set(&b.kind),
        Ast::Empty(_) | Ast::Literal(_) | Ast::Dot(_) => Ok(()),
    }
}

fn check_class_set(set: &ast::ClassSet) -> Result<(), String> {
    match set {
        ast::ClassSet::Item(item) => check_class_item(item),
        ast::ClassSet::BinaryOp(_) => Err("invalid character class".into()),
    }
}

fn check_class_item(item: &ClassSetItem) -> Result<(), String> {
    match item {
        ClassSetItem::Perl(_) | ClassSetItem::Unicode(_) => {
            Err("invalid escape sequence in character class".into())
        }
        ClassSetItem::Bracketed(b) => check_class_set(&b.kind),
        ClassSetItem::Union(u) => u.items.iter().try_for_each(check_class_item),
        _ => Ok(()),
    }
}

fn class_letter(c: &ast::ClassUnicode) -> char {
    if c.negated {
        'P'
    } else {
        'p'
    }
}

trait SpanHint {
    fn span_text_hint(&self) -> String;
}

impl SpanHint for ast::Assertion {
    fn span_text_hint(&self) -> String {
        match self.kind {
            ast::AssertionKind::StartText => "\\A".into(),
            ast::AssertionKind::EndText => "\\z".into(),
            ast::AssertionKind::WordBoundary => "\\b".into(),
            ast::AssertionKind::NotWordBoundary => "\\B".into(),
            _ => "\\?".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::compile_full_match;

    #[test]
    fn full_match_anchoring() {
        let r = compile_full_match("ab").expect("valid");
        assert!(r.is_match("ab"));
        assert!(!r.is_match("xaby"));
        let r = compile_full_match("^/api\\.x$").expect("valid");
        assert!(r.is_match("/api.x"));
        assert!(!r.is_match("/apiXx"));
    }

    #[test]
    fn posix_rejects_perl_extensions() {
        for bad in [
            "\\d+", "\\w", "\\s", "a\\b", "(?:a)", "(?i)a", "\\pL", "\\Aa", "a*?",
        ] {
            assert!(compile_full_match(bad).is_err(), "{bad} should be rejected");
        }
        for good in ["[[:alpha:]]+", "a{1,3}", "\\.", "\\x41", "(a|b)*", "[^a]"] {
            assert!(
                compile_full_match(good).is_ok(),
                "{good} should be accepted"
            );
        }
    }

    #[test]
    fn line_anchors_and_negated_classes() {
        let r = compile_full_match("a$\n^b").expect("valid");
        assert!(r.is_match("a\nb"));
        let r = compile_full_match("a[^x]b").expect("valid");
        assert!(r.is_match("a\nb"));
        let r = compile_full_match("a.b").expect("valid");
        assert!(!r.is_match("a\nb"));
    }
}
