//! Rendering one alert as Falco's text line or JSON object.

use falco_rs_engine::bytes::{json_escape, scan_plain};
use falco_rs_engine::evttime::{json_time, push_iso8601, push_json_time, push_local};
use falco_rs_engine::OutputValue;
use falco_rs_rules::model::Priority;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The JSON-related output settings of falco.yaml.
#[derive(Debug, Clone)]
pub struct AlertFormat {
    /// `json_output`.
    pub json: bool,
    /// `json_include_output_property` (default true).
    pub include_output: bool,
    /// `json_include_output_fields_property` (default true).
    pub include_output_fields: bool,
    /// `json_include_tags_property` (default true).
    pub include_tags: bool,
    /// `json_include_message_property` (default false).
    pub include_message: bool,
    /// `time_format_iso_8601`.
    pub iso8601: bool,
    /// Host name for the JSON `hostname` key.
    pub hostname: String,
}

impl Default for AlertFormat {
    fn default() -> Self {
        AlertFormat {
            json: false,
            include_output: true,
            include_output_fields: true,
            include_tags: true,
            include_message: false,
            iso8601: false,
            hostname: String::new(),
        }
    }
}

/// One rule match, ready to render.
#[derive(Debug, Clone)]
pub struct Alert<'a> {
    /// Event time in ns since the epoch.
    pub time_ns: u64,
    /// Rule name.
    pub rule: &'a str,
    /// Rule priority.
    pub priority: Priority,
    /// Rule source.
    pub source: &'a str,
    /// Rule tags.
    pub tags: &'a BTreeSet<String>,
    /// The rendered rule output (without the time/priority prefix).
    pub message: String,
    /// Fields used by the output.
    pub output_fields: Vec<(String, OutputValue)>,
}

impl AlertFormat {
    /// The text line: `<time>: <Priority> <message>`.
    pub fn text_line(&self, alert: &Alert<'_>) -> String {
        let mut out = String::with_capacity(48 + alert.message.len());
        self.push_time(&mut out, alert.time_ns);
        out.push_str(": ");
        out.push_str(alert.priority.name());
        out.push(' ');
        out.push_str(&alert.message);
        out
    }

    fn push_time(&self, out: &mut String, ns: u64) {
        if self.iso8601 {
            push_iso8601(out, ns);
        } else {
            push_local(out, ns, false, true);
        }
    }

    /// The alert as Falco prints it on an output channel (text or JSON, no newline).
    pub fn render(&self, alert: &Alert<'_>) -> String {
        if !self.json {
            return self.text_line(alert);
        }
        let mut out = String::with_capacity(384 + 3 * alert.message.len());
        self.write_json(alert, &mut out);
        out
    }

    /// Writes the JSON object of [`AlertFormat::json_value`] straight into `out`, as
    /// serde_json would print that value, without building it.
    fn write_json(&self, alert: &Alert<'_>, out: &mut String) {
        out.push_str("{\"hostname\":");
        push_json_str(out, &self.hostname);
        if self.include_message {
            out.push_str(",\"message\":");
            push_json_str(out, &alert.message);
        }
        if self.include_output {
            // Escaping the pieces one by one escapes their concatenation.
            out.push_str(",\"output\":\"");
            self.push_time(out, alert.time_ns);
            out.push_str(": ");
            push_escaped(out, alert.priority.name());
            out.push(' ');
            push_escaped(out, &alert.message);
            out.push('"');
        }
        if self.include_output_fields {
            let time_key = if self.iso8601 {
                "evt.time.iso8601"
            } else {
                "evt.time"
            };
            // Sorted by key; the first value of a repeated key wins (the time first).
            let mut fields: Vec<(&str, Option<&OutputValue>)> =
                Vec::with_capacity(alert.output_fields.len() + 1);
            fields.push((time_key, None));
            fields.extend(
                alert
                    .output_fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), Some(v))),
            );
            fields.sort_by(|a, b| a.0.cmp(b.0));
            fields.dedup_by(|later, first| later.0 == first.0);
            out.push_str(",\"output_fields\":{");
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_str(out, k);
                out.push(':');
                match v {
                    None => {
                        // Writing into a String cannot fail.
                        let _ = write!(out, "{}", alert.time_ns);
                    }
                    Some(OutputValue::Null) => out.push_str("null"),
                    Some(OutputValue::Str(s)) => push_json_str(out, s),
                    Some(OutputValue::List(l)) => push_json_str_array(out, l),
                    // Writing into a String cannot fail.
                    Some(OutputValue::Int(n)) => {
                        let _ = write!(out, "{n}");
                    }
                    Some(OutputValue::UInt(n)) => {
                        let _ = write!(out, "{n}");
                    }
                    Some(OutputValue::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
                }
            }
            out.push('}');
        }
        out.push_str(",\"priority\":");
        push_json_str(out, alert.priority.name());
        out.push_str(",\"rule\":");
        push_json_str(out, alert.rule);
        out.push_str(",\"source\":");
        push_json_str(out, alert.source);
        if self.include_tags {
            out.push_str(",\"tags\":");
            push_json_str_array(out, alert.tags);
        }
        out.push_str(",\"time\":\"");
        push_json_time(out, alert.time_ns);
        out.push_str("\"}");
    }

    /// The JSON object, keys sorted as nlohmann's `std::map` does.
    pub fn json_value(&self, alert: &Alert<'_>) -> Value {
        let mut top: BTreeMap<&str, Value> = BTreeMap::new();
        top.insert("hostname", Value::String(self.hostname.clone()));
        if self.include_message {
            top.insert("message", Value::String(alert.message.clone()));
        }
        if self.include_output {
            top.insert("output", Value::String(self.text_line(alert)));
        }
        if self.include_output_fields {
            let mut fields: BTreeMap<String, Value> = BTreeMap::new();
            let time_key = if self.iso8601 {
                "evt.time.iso8601"
            } else {
                "evt.time"
            };
            fields.insert(time_key.to_string(), Value::from(alert.time_ns));
            for (k, v) in &alert.output_fields {
                let jv = match v {
                    OutputValue::Null => Value::Null,
                    OutputValue::Str(s) => Value::String(s.clone()),
                    OutputValue::List(l) => l.iter().cloned().map(Value::String).collect(),
                    OutputValue::Int(n) => Value::from(*n),
                    OutputValue::UInt(n) => Value::from(*n),
                    OutputValue::Bool(b) => Value::Bool(*b),
                };
                fields.entry(k.clone()).or_insert(jv);
            }
            top.insert(
                "output_fields",
                Value::Object(fields.into_iter().collect::<Map<_, _>>()),
            );
        }
        top.insert("priority", Value::String(alert.priority.name().to_string()));
        top.insert("rule", Value::String(alert.rule.to_string()));
        top.insert("source", Value::String(alert.source.to_string()));
        if self.include_tags {
            top.insert(
                "tags",
                alert.tags.iter().cloned().map(Value::String).collect(),
            );
        }
        top.insert("time", Value::String(json_time(alert.time_ns)));
        Value::Object(
            top.into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Map<_, _>>(),
        )
    }
}

/// Appends `s` as a JSON string literal.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    push_escaped(out, s);
    out.push('"');
}

/// Appends a JSON array of string literals.
fn push_json_str_array<'s>(out: &mut String, items: impl IntoIterator<Item = &'s String>) {
    out.push('[');
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, s);
    }
    out.push(']');
}

/// Appends the contents of `s` escaped as serde_json escapes strings: `"`, `\\` and
/// control characters (`\\b \\f \\n \\r \\t`, others as `\\u00xx`); plain runs in one copy.
fn push_escaped(out: &mut String, s: &str) {
    let b = s.as_bytes();
    let mut plain = 0;
    loop {
        let i = scan_plain(b, plain);
        out.push_str(s.get(plain..i).unwrap_or_default());
        let Some(&c) = b.get(i) else {
            return;
        };
        let mut buf = [0u8; 6];
        // scan_plain stops only at (ASCII) bytes json_escape escapes; escapes are ASCII.
        match json_escape(char::from(c), &mut buf) {
            Some(escape) => out.push_str(std::str::from_utf8(escape).unwrap_or_default()),
            None => out.push_str(s.get(i..=i).unwrap_or_default()),
        }
        plain = i + 1;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test values are literals
mod tests {
    use super::*;

    /// The direct JSON writer prints exactly serde_json's rendering of `json_value`, for
    /// every combination of the JSON settings and awkward strings.
    #[test]
    fn written_json_is_serde_jsons_rendering_of_the_value() {
        let tags: BTreeSet<String> = ["k8s", "a\"b", "\u{1}ctl", "é"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let no_tags = BTreeSet::new();
        let texts = [
            "plain",
            "quote\" back\\ nl\n tab\t cr\r bs\u{8} ff\u{c} x\u{1f}",
            "ünï€😀",
            "",
        ];
        for bits in 0..32u32 {
            for (ti, text) in texts.iter().enumerate() {
                let fmt = AlertFormat {
                    json: true,
                    include_output: bits & 1 != 0,
                    include_output_fields: bits & 2 != 0,
                    include_tags: bits & 4 != 0,
                    include_message: bits & 8 != 0,
                    iso8601: bits & 16 != 0,
                    hostname: format!("host{text}"),
                };
                let alert = Alert {
                    time_ns: 1_714_579_662_045_023_000 + ti as u64,
                    rule: text,
                    priority: Priority::Warning,
                    source: "k8s_audit",
                    tags: if ti % 2 == 0 { &tags } else { &no_tags },
                    message: format!("msg {text} end"),
                    output_fields: vec![
                        (
                            "ka.user.name".to_string(),
                            OutputValue::Str(text.to_string()),
                        ),
                        (
                            "evt.time".to_string(),
                            OutputValue::Str("shadowed".to_string()),
                        ),
                        (
                            "ka.req.pod.containers.image".to_string(),
                            OutputValue::List(vec!["a".to_string(), text.to_string()]),
                        ),
                        ("ka.target.name".to_string(), OutputValue::Null),
                        (
                            "ka.user.name".to_string(),
                            OutputValue::Str("second".to_string()),
                        ),
                        ("a\"key".to_string(), OutputValue::List(vec![])),
                        (
                            "evt.num".to_string(),
                            OutputValue::UInt(u64::MAX - ti as u64),
                        ),
                        (
                            "evt.rawtime".to_string(),
                            OutputValue::Int(i64::MIN + ti as i64),
                        ),
                        ("evt.reltime".to_string(), OutputValue::Int(-(ti as i64))),
                        ("evt.is_async".to_string(), OutputValue::Bool(ti % 2 == 1)),
                    ],
                };
                assert_eq!(
                    fmt.render(&alert),
                    fmt.json_value(&alert).to_string(),
                    "settings {bits:05b}, text {ti}"
                );
            }
        }
    }
}
