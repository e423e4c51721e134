//! POSIX `fnmatch(3)` with flags 0 (or `FNM_CASEFOLD`), as used by `glob`/`iglob` and by
//! `pmatch` path components.
//!
//! Supported: `*`, `?`, bracket expressions `[...]`, `[!...]`/`[^...]`, ranges,
//! `[[:class:]]`, and backslash escaping. Without `FNM_PATHNAME`, `*` and `?` match `/`.
//! Matching is byte-wise; the case-folding variant folds ASCII only (C locale).

/// Returns whether `text` matches `pattern`.
pub fn fnmatch(pattern: &[u8], text: &[u8], casefold: bool) -> bool {
    // Iterative matcher with single-star backtracking (classic linear-space algorithm).
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    while p < pattern.len() && pattern[p] == b'*' {
                        p += 1;
                    }
                    star = Some((p, t));
                    continue;
                }
                b'?' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = match_bracket(pattern, p, text[t], casefold) {
                        if matched {
                            p = next;
                            t += 1;
                            continue;
                        }
                    } else if eq(b'[', text[t], casefold) {
                        // An unterminated bracket is a literal '['.
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pattern.len() => {
                    if eq(pattern[p + 1], text[t], casefold) {
                        p += 2;
                        t += 1;
                        continue;
                    }
                }
                c => {
                    if eq(c, text[t], casefold) {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

fn eq(a: u8, b: u8, casefold: bool) -> bool {
    if casefold {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// Matches one byte against the bracket expression starting at `pattern[start] == b'['`.
/// Returns `(matched, index after the closing bracket)`, or `None` if unterminated.
fn match_bracket(pattern: &[u8], start: usize, c: u8, casefold: bool) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(pattern.get(i), Some(b'!') | Some(b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let b = *pattern.get(i)?;
        if b == b']' && !first {
            i += 1;
            break;
        }
        first = false;
        if b == b'[' && pattern.get(i + 1) == Some(&b':') {
            if let Some(end) = find_class_end(pattern, i + 2) {
                let name = &pattern[i + 2..end];
                if class_matches(name, c, casefold) {
                    matched = true;
                }
                i = end + 2;
                continue;
            }
        }
        let (lo, next) = if b == b'\\' {
            (*pattern.get(i + 1)?, i + 2)
        } else {
            (b, i + 1)
        };
        if pattern.get(next) == Some(&b'-') && pattern.get(next + 1).is_some_and(|&x| x != b']') {
            let (hi, after) = if pattern[next + 1] == b'\\' {
                (*pattern.get(next + 2)?, next + 3)
            } else {
                (pattern[next + 1], next + 2)
            };
            if in_range(lo, hi, c, casefold) {
                matched = true;
            }
            i = after;
        } else {
            if eq(lo, c, casefold) {
                matched = true;
            }
            i = next;
        }
    }
    Some((matched != negate, i))
}

fn in_range(lo: u8, hi: u8, c: u8, casefold: bool) -> bool {
    if (lo..=hi).contains(&c) {
        return true;
    }
    casefold
        && ((lo..=hi).contains(&c.to_ascii_lowercase())
            || (lo..=hi).contains(&c.to_ascii_uppercase()))
}

fn find_class_end(pattern: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < pattern.len() {
        if pattern[i] == b':' && pattern[i + 1] == b']' {
            return Some(i);
        }
        if !pattern[i].is_ascii_alphabetic() {
            return None;
        }
        i += 1;
    }
    None
}

fn class_matches(name: &[u8], c: u8, casefold: bool) -> bool {
    match name {
        b"alpha" => c.is_ascii_alphabetic(),
        b"digit" => c.is_ascii_digit(),
        b"alnum" => c.is_ascii_alphanumeric(),
        b"upper" => c.is_ascii_uppercase() || (casefold && c.is_ascii_lowercase()),
        b"lower" => c.is_ascii_lowercase() || (casefold && c.is_ascii_uppercase()),
        b"space" => matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b"blank" => matches!(c, b' ' | b'\t'),
        b"punct" => c.is_ascii_punctuation(),
        b"print" => (0x20..0x7f).contains(&c),
        b"graph" => (0x21..0x7f).contains(&c),
        b"cntrl" => c < 0x20 || c == 0x7f,
        b"xdigit" => c.is_ascii_hexdigit(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    fn m(p: &str, t: &str) -> bool {
        fnmatch(p.as_bytes(), t.as_bytes(), false)
    }

    #[test]
    fn star_matches_slash_without_pathname() {
        assert!(m("/var/*", "/var/run/file.txt"));
        assert!(m("*", ""));
        assert!(m("a*c", "abcbc"));
        assert!(!m("a*d", "abcbc"));
        assert!(m("*.yaml", "/x/r.yaml.d/f.yaml"));
    }

    #[test]
    fn question_and_brackets() {
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("[abc]x", "bx"));
        assert!(!m("[!abc]x", "bx"));
        assert!(m("[^abc]x", "dx"));
        assert!(m("[a-c]", "b"));
        assert!(!m("[a-c]", "d"));
        assert!(m("[[:digit:]]*", "1abc"));
        assert!(!m("[[:digit:]]*", "abc"));
        assert!(m("[]]", "]"));
        assert!(m("[", "["));
    }

    #[test]
    fn escapes_and_case() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(fnmatch(b"ABC*", b"abcdef", true));
        assert!(!fnmatch(b"ABC*", b"abcdef", false));
        assert!(fnmatch(b"[A-C]x", b"bX", true));
    }

    #[test]
    fn leading_dot_not_special() {
        assert!(m("*", ".hidden"));
    }
}
