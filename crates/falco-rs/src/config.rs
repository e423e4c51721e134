//! falco.yaml: loading, `${VAR}` expansion, `-o key=value` overrides, typed accessors.

use anyhow::{anyhow, bail, Context as _, Result};
use falco_rs_rules::yaml;
use serde_json::{Map, Value};

/// The configuration used when `-c` is not given.
pub const EMBEDDED_CONFIG: &str = include_str!("default_falco.yaml");

/// A loaded configuration tree.
#[derive(Debug, Clone)]
pub struct Config {
    /// The tree (scalars typed like YAML plain scalars).
    pub root: Value,
    /// Where it came from (`<embedded>` for the built-in default).
    pub origin: String,
}

impl Config {
    /// Parses configuration text.
    pub fn parse(text: &str, origin: &str) -> Result<Config> {
        let docs = yaml::load_all(text).map_err(|e| {
            anyhow!(
                "{origin}: invalid YAML at line {} column {}: {}",
                e.mark.line + 1,
                e.mark.column + 1,
                e.detail
            )
        })?;
        let mut root = match docs.first() {
            Some(d) if !d.is_null() => d.to_json(),
            _ => Value::Object(Map::new()),
        };
        if !root.is_object() {
            bail!("{origin}: the configuration must be a YAML mapping");
        }
        expand_env(&mut root);
        Ok(Config {
            root,
            origin: origin.to_string(),
        })
    }

    /// Loads `-c <path>` or the embedded default.
    pub fn load(path: Option<&str>) -> Result<Config> {
        match path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|_| anyhow!("Could not find configuration file at {p}"))?;
                Config::parse(&text, p)
            }
            None => Config::parse(EMBEDDED_CONFIG, "<embedded>"),
        }
    }

    /// Applies one `-o key=value` override.
    pub fn apply_override(&mut self, spec: &str) -> Result<()> {
        let (key, value) = spec
            .split_once('=')
            .ok_or_else(|| anyhow!("error parsing config option '{spec}': expected key=value"))?;
        let value = parse_override_value(value)
            .with_context(|| format!("error parsing config option '{spec}'"))?;
        let path =
            parse_key_path(key).with_context(|| format!("error parsing config key '{key}'"))?;
        set_path(&mut self.root, &path, value)
    }

    /// The value at a dotted path (`a.b`), if any.
    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut cur = &self.root;
        for part in path.split('.') {
            cur = cur.get(part)?;
        }
        Some(cur)
    }

    /// A boolean key (YAML spellings accepted), or the default.
    pub fn bool_or(&self, path: &str, default: bool) -> bool {
        match self.get(path) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => match s.as_str() {
                "true" | "True" | "TRUE" | "yes" | "on" | "y" => true,
                "false" | "False" | "FALSE" | "no" | "off" | "n" => false,
                _ => default,
            },
            _ => default,
        }
    }

    /// A string key, or `None`.
    pub fn str(&self, path: &str) -> Option<String> {
        match self.get(path)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    Append,
}

/// Parses `a.b[2].c`, `list[]`, with `\.`, `\[`, `\]`, `\\` escapes.
fn parse_key_path(key: &str) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    let mut cur = String::new();
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ ('.' | '[' | ']' | '\\')) => cur.push(n),
                Some(n) => {
                    cur.push('\\');
                    cur.push(n)
                }
                None => cur.push('\\'),
            },
            '.' => {
                if !cur.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut cur)));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut cur)));
                }
                let mut idx = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(d) => idx.push(d),
                        None => bail!("missing ']'"),
                    }
                }
                if idx.is_empty() {
                    steps.push(Step::Append);
                } else {
                    steps.push(Step::Index(
                        idx.trim()
                            .parse()
                            .map_err(|_| anyhow!("invalid index '{idx}'"))?,
                    ));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        steps.push(Step::Key(cur));
    }
    if steps.is_empty() {
        bail!("empty key");
    }
    Ok(steps)
}

fn parse_override_value(v: &str) -> Result<Value> {
    let t = v.trim();
    if (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']')) {
        let docs = yaml::load_all(t).map_err(|e| anyhow!("invalid YAML value: {}", e.detail))?;
        return Ok(docs.first().map(|d| d.to_json()).unwrap_or(Value::Null));
    }
    // A plain scalar, typed the way YAML would type it.
    let node = yaml::Node {
        kind: yaml::NodeKind::Scalar {
            value: v.to_string(),
            plain: true,
        },
        mark: Default::default(),
    };
    Ok(node.to_json())
}

fn set_path(root: &mut Value, path: &[Step], value: Value) -> Result<()> {
    let Some((first, rest)) = path.split_first() else {
        *root = value;
        return Ok(());
    };
    let slot: &mut Value = match first {
        Step::Key(k) => {
            if !root.is_object() {
                *root = Value::Object(Map::new());
            }
            let Some(obj) = root.as_object_mut() else {
                bail!("not a mapping");
            };
            obj.entry(k.clone()).or_insert(Value::Null)
        }
        Step::Index(i) => {
            if !root.is_array() {
                *root = Value::Array(Vec::new());
            }
            let Some(arr) = root.as_array_mut() else {
                bail!("not a sequence");
            };
            while arr.len() <= *i {
                arr.push(Value::Null);
            }
            &mut arr[*i]
        }
        Step::Append => {
            if !root.is_array() {
                *root = Value::Array(Vec::new());
            }
            let Some(arr) = root.as_array_mut() else {
                bail!("not a sequence");
            };
            arr.push(Value::Null);
            let n = arr.len() - 1;
            &mut arr[n]
        }
    };
    set_path(slot, rest, value)
}

/// Replaces `${VAR}` in every string with the environment value (unset: empty);
/// `$${x}` stays as the literal `${x}`.
fn expand_env(v: &mut Value) {
    match v {
        Value::String(s) if s.contains("${") => *s = expand_str(s),
        Value::Array(a) => a.iter_mut().for_each(expand_env),
        Value::Object(o) => o.values_mut().for_each(expand_env),
        _ => {}
    }
}

fn expand_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(t) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = t;
        } else if let Some(t) = tail.strip_prefix("${") {
            match t.find('}') {
                Some(end) => {
                    out.push_str(&std::env::var(&t[..end]).unwrap_or_default());
                    rest = &t[end + 1..];
                }
                None => {
                    out.push_str(tail);
                    rest = "";
                }
            }
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_with_paths_and_indexes() {
        let mut c =
            Config::parse("plugins:\n  - name: k8saudit\n    open_params: ''\n", "t").expect("cfg");
        c.apply_override("plugins[0].open_params=/tmp/x.json")
            .expect("ok");
        c.apply_override("json_output=true").expect("ok");
        c.apply_override("rules[].disable.rule=Foo*").expect("ok");
        c.apply_override(
            "append_output[]={\"match\": {\"source\": \"k8s_audit\"}, \"extra_output\": \"x\"}",
        )
        .expect("ok");
        assert_eq!(c.str("plugins").map(|_| ()), Some(()));
        assert_eq!(c.root["plugins"][0]["open_params"], "/tmp/x.json");
        assert!(c.bool_or("json_output", false));
        assert_eq!(c.root["rules"][0]["disable"]["rule"], "Foo*");
        assert_eq!(c.root["append_output"][0]["extra_output"], "x");
    }

    #[test]
    fn env_expansion() {
        std::env::set_var("FALCO_RS_TEST_VAR", "v");
        assert_eq!(expand_str("a${FALCO_RS_TEST_VAR}b"), "avb");
        assert_eq!(expand_str("$${x}"), "${x}");
        assert_eq!(expand_str("${FALCO_RS_UNSET_VAR_XYZ}"), "");
        assert_eq!(expand_str("cost $5"), "cost $5");
    }

    #[test]
    fn key_path_escapes() {
        assert_eq!(
            parse_key_path("a\\.b.c[1]").expect("path"),
            vec![
                Step::Key("a.b".into()),
                Step::Key("c".into()),
                Step::Index(1)
            ]
        );
    }
}
