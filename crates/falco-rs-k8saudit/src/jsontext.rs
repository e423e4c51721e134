//! JSON helpers that reproduce how the Go plugins (fastjson, `encoding/json`) look values up
//! and turn them into text.

use std::borrow::Cow;

use crate::tape::{Kind, V};

/// "JSON text" of a value (`JT(v)` in the reference notes): the decoded contents of a JSON
/// string, otherwise the compact serialisation (`true`, `null`, `201`, `{"a":1}`).
///
/// Borrowed from the event, except for strings holding characters JSON must escape.
pub(crate) fn jt(v: V<'_>) -> Cow<'_, str> {
    match v.as_str() {
        Some(s) => s,
        None => Cow::Borrowed(v.raw()),
    }
}

/// One step of fastjson's `Value.Get`: an object key (first match), or, on an array, a
/// decimal index as Go's `strconv.Atoi` reads it; anything else is missing.
pub(crate) fn get1<'v>(v: V<'v>, key: &str) -> Option<V<'v>> {
    match v.kind() {
        Kind::Obj => v.get(key),
        Kind::Arr => {
            let n = go_atoi(key)?;
            let n = usize::try_from(n).ok()?;
            v.elements().nth(n)
        }
        _ => None,
    }
}

/// fastjson's `Value.Get(keys...)`: [`get1`] applied key by key.
pub(crate) fn get_path<'v>(v: V<'v>, keys: &[&str]) -> Option<V<'v>> {
    keys.iter().try_fold(v, |cur, k| get1(cur, k))
}

/// Go's `strconv.Atoi` for base 10: an optional sign, then at least one ASCII digit, no
/// overflow of a 64-bit integer.
fn go_atoi(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: i64 = 0;
    for b in digits.bytes() {
        let d = i64::from(b - b'0');
        n = n.checked_mul(10)?;
        n = if neg {
            n.checked_sub(d)?
        } else {
            n.checked_add(d)?
        };
    }
    Some(n)
}

/// Walks `root` along a JSON pointer as the json plugin does: one optional leading `/` is
/// dropped, the rest is split on `/`, every token is unescaped (`~1` → `/`, then `~0` → `~`)
/// and looked up with [`get1`]. The empty pointer is handled by the caller.
pub(crate) fn pointer<'v>(root: V<'v>, ptr: &str) -> Option<V<'v>> {
    let mut rest = ptr.strip_prefix('/').unwrap_or(ptr);
    let mut cur = root;
    // Split by hand, as `split('/')` would: `str::split` and `str::contains` each call
    // memchr, which costs more than these short pointers (`/stage`, `/metadata/name`)
    // and was read for every event through the rules' `kevt` macro.
    loop {
        let end = rest.bytes().position(|b| b == b'/').unwrap_or(rest.len());
        let token = rest.get(..end)?;
        cur = if token.bytes().any(|b| b == b'~') {
            get1(cur, &token.replace("~1", "/").replace("~0", "~"))?
        } else {
            get1(cur, token)?
        };
        rest = match rest.get(end + 1..) {
            Some(r) => r,
            None => return Some(cur),
        };
    }
}

/// Re-indents valid compact JSON text the way Go's `json.Indent(dst, src, "", "  ")` does:
/// a newline and two spaces per level after `{`, `[` and `,`, `": "` after keys, empty
/// objects and arrays kept as `{}` and `[]`, strings and numbers copied unchanged.
pub(crate) fn go_indent(src: &str) -> String {
    let mut out = String::with_capacity(src.len() + src.len() / 2);
    let mut depth = 0usize;
    let mut need_indent = false;
    let mut in_string = false;
    let mut escaped = false;
    for c in src.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c.is_ascii_whitespace() {
            continue;
        }
        if need_indent && c != '}' && c != ']' {
            need_indent = false;
            depth += 1;
            newline(&mut out, depth);
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                need_indent = true;
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            '}' | ']' => {
                if need_indent {
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test inputs are literals
mod tests {
    use super::*;
    use crate::tape::Doc;
    use serde_json::json;

    fn doc(v: serde_json::Value) -> Doc {
        Doc::parse(v.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn jt_renders_like_the_plugin() {
        assert_eq!(jt(doc(json!("a\"b")).root()), "a\"b");
        assert_eq!(jt(doc(json!(true)).root()), "true");
        assert_eq!(jt(doc(json!(false)).root()), "false");
        assert_eq!(jt(doc(json!(null)).root()), "null");
        assert_eq!(jt(doc(json!(201)).root()), "201");
        assert_eq!(jt(doc(json!(-3)).root()), "-3");
        assert_eq!(jt(doc(json!(150.0)).root()), "150.0");
        assert_eq!(
            jt(doc(json!({"a": 1, "b": [1, "x"]})).root()),
            r#"{"a":1,"b":[1,"x"]}"#
        );
        assert_eq!(jt(doc(json!([])).root()), "[]");
        assert!(matches!(jt(doc(json!("s")).root()), Cow::Borrowed(_)));
    }

    #[test]
    fn get1_follows_fastjson() {
        let d = doc(json!({"a": [10, 20, {"b": 1}], "a2": 1, "7": "seven"}));
        let v = d.root();
        assert_eq!(
            get_path(v, &["a", "1"]).map(|x| x.raw().to_string()),
            Some(json!(20).to_string())
        );
        assert_eq!(
            get_path(v, &["a", "+1"]).map(|x| x.raw().to_string()),
            Some(json!(20).to_string())
        );
        assert_eq!(
            get_path(v, &["a", "-0"]).map(|x| x.raw().to_string()),
            Some(json!(10).to_string())
        );
        assert_eq!(
            get_path(v, &["a", "01"]).map(|x| x.raw().to_string()),
            Some(json!(20).to_string())
        );
        assert_eq!(get_path(v, &["a", "-1"]).map(|x| x.raw().to_string()), None);
        assert_eq!(get_path(v, &["a", "3"]).map(|x| x.raw().to_string()), None);
        assert_eq!(get_path(v, &["a", "x"]).map(|x| x.raw().to_string()), None);
        assert_eq!(get_path(v, &["a", ""]).map(|x| x.raw().to_string()), None);
        assert_eq!(
            get_path(v, &["a", "99999999999999999999"]).map(|x| x.raw().to_string()),
            None
        );
        assert_eq!(
            get_path(v, &["a", "2", "b"]).map(|x| x.raw().to_string()),
            Some(json!(1).to_string())
        );
        assert_eq!(
            get_path(v, &["7"]).map(|x| x.raw().to_string()),
            Some(json!("seven").to_string())
        );
        assert_eq!(get_path(v, &["a2", "x"]).map(|x| x.raw().to_string()), None);
        assert_eq!(
            get_path(v, &[]).map(|x| x.raw().to_string()),
            Some(v.raw().to_string())
        );
    }

    #[test]
    fn json_pointer() {
        let d = doc(json!({"stage": "X", "a/b": {"c~d": 1}, "l": [1, {"k": true}], "": {"": 5}}));
        let v = d.root();
        assert_eq!(
            pointer(v, "/stage").map(|x| x.raw().to_string()),
            Some(json!("X").to_string())
        );
        assert_eq!(
            pointer(v, "stage").map(|x| x.raw().to_string()),
            Some(json!("X").to_string())
        );
        assert_eq!(
            pointer(v, "/a~1b/c~0d").map(|x| x.raw().to_string()),
            Some(json!(1).to_string())
        );
        assert_eq!(
            pointer(v, "/l/1/k").map(|x| x.raw().to_string()),
            Some(json!(true).to_string())
        );
        assert_eq!(pointer(v, "/l/-").map(|x| x.raw().to_string()), None);
        assert_eq!(pointer(v, "/l/2").map(|x| x.raw().to_string()), None);
        assert_eq!(
            pointer(v, "/").map(|x| x.raw().to_string()),
            Some(json!({"": 5}).to_string())
        );
        assert_eq!(
            pointer(v, "//").map(|x| x.raw().to_string()),
            Some(json!(5).to_string())
        );
        assert_eq!(pointer(v, "/nope").map(|x| x.raw().to_string()), None);
        assert_eq!(pointer(v, "//stage").map(|x| x.raw().to_string()), None);
    }

    #[test]
    fn indent_matches_go() {
        let src = r#"{"a":1,"b":[],"c":{},"d":[1,{"e":"x,:{}[]\"y"}],"f":{"g":null}}"#;
        let want = "{\n  \"a\": 1,\n  \"b\": [],\n  \"c\": {},\n  \"d\": [\n    1,\n    {\n      \"e\": \"x,:{}[]\\\"y\"\n    }\n  ],\n  \"f\": {\n    \"g\": null\n  }\n}";
        assert_eq!(go_indent(src), want);
        assert_eq!(go_indent("{}"), "{}");
        assert_eq!(go_indent("[1]"), "[\n  1\n]");
        assert_eq!(go_indent(r#""a\\""#), r#""a\\""#);
    }
}
