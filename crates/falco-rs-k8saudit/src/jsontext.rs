//! JSON helpers that reproduce how the Go plugins (fastjson, `encoding/json`) look values up
//! and turn them into text.

use std::borrow::Cow;

use serde_json::Value;

/// "JSON text" of a value (`JT(v)` in the reference notes): the decoded contents of a JSON
/// string, otherwise the compact serialisation (`true`, `null`, `201`, `{"a":1}`).
///
/// Strings, booleans and `null` are returned without allocating.
pub(crate) fn jt(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s.as_str()),
        Value::Bool(true) => Cow::Borrowed("true"),
        Value::Bool(false) => Cow::Borrowed("false"),
        Value::Null => Cow::Borrowed("null"),
        other => Cow::Owned(other.to_string()),
    }
}

/// One step of fastjson's `Value.Get`: an object key (first match), or, on an array, a
/// decimal index as Go's `strconv.Atoi` reads it; anything else is missing.
pub(crate) fn get1<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => {
            let n = go_atoi(key)?;
            let n = usize::try_from(n).ok()?;
            a.get(n)
        }
        _ => None,
    }
}

/// fastjson's `Value.Get(keys...)`: [`get1`] applied key by key.
pub(crate) fn get_path<'v>(v: &'v Value, keys: &[&str]) -> Option<&'v Value> {
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
pub(crate) fn pointer<'v>(root: &'v Value, ptr: &str) -> Option<&'v Value> {
    let ptr = ptr.strip_prefix('/').unwrap_or(ptr);
    let mut cur = root;
    for token in ptr.split('/') {
        cur = if token.contains('~') {
            get1(cur, &token.replace("~1", "/").replace("~0", "~"))?
        } else {
            get1(cur, token)?
        };
    }
    Some(cur)
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
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jt_renders_like_the_plugin() {
        assert_eq!(jt(&json!("a\"b")), "a\"b");
        assert_eq!(jt(&json!(true)), "true");
        assert_eq!(jt(&json!(false)), "false");
        assert_eq!(jt(&json!(null)), "null");
        assert_eq!(jt(&json!(201)), "201");
        assert_eq!(jt(&json!(-3)), "-3");
        assert_eq!(jt(&json!(150.0)), "150.0");
        assert_eq!(
            jt(&json!({"a": 1, "b": [1, "x"]})),
            r#"{"a":1,"b":[1,"x"]}"#
        );
        assert_eq!(jt(&json!([])), "[]");
        assert!(matches!(jt(&json!("s")), Cow::Borrowed(_)));
    }

    #[test]
    fn get1_follows_fastjson() {
        let v = json!({"a": [10, 20, {"b": 1}], "a2": 1, "7": "seven"});
        assert_eq!(get_path(&v, &["a", "1"]), Some(&json!(20)));
        assert_eq!(get_path(&v, &["a", "+1"]), Some(&json!(20)));
        assert_eq!(get_path(&v, &["a", "-0"]), Some(&json!(10)));
        assert_eq!(get_path(&v, &["a", "01"]), Some(&json!(20)));
        assert_eq!(get_path(&v, &["a", "-1"]), None);
        assert_eq!(get_path(&v, &["a", "3"]), None);
        assert_eq!(get_path(&v, &["a", "x"]), None);
        assert_eq!(get_path(&v, &["a", ""]), None);
        assert_eq!(get_path(&v, &["a", "99999999999999999999"]), None);
        assert_eq!(get_path(&v, &["a", "2", "b"]), Some(&json!(1)));
        assert_eq!(get_path(&v, &["7"]), Some(&json!("seven")));
        assert_eq!(get_path(&v, &["a2", "x"]), None);
        assert_eq!(get_path(&v, &[]), Some(&v));
    }

    #[test]
    fn json_pointer() {
        let v = json!({"stage": "X", "a/b": {"c~d": 1}, "l": [1, {"k": true}], "": {"": 5}});
        assert_eq!(pointer(&v, "/stage"), Some(&json!("X")));
        assert_eq!(pointer(&v, "stage"), Some(&json!("X")));
        assert_eq!(pointer(&v, "/a~1b/c~0d"), Some(&json!(1)));
        assert_eq!(pointer(&v, "/l/1/k"), Some(&json!(true)));
        assert_eq!(pointer(&v, "/l/-"), None);
        assert_eq!(pointer(&v, "/l/2"), None);
        assert_eq!(pointer(&v, "/"), Some(&json!({"": 5})));
        assert_eq!(pointer(&v, "//"), Some(&json!(5)));
        assert_eq!(pointer(&v, "/nope"), None);
        assert_eq!(pointer(&v, "//stage"), None);
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
