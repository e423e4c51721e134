//! Rendering one alert as Falco's text line or JSON object.

use crate::time::{evt_time, evt_time_iso8601, json_time};
use falco_rs_engine::OutputValue;
use falco_rs_rules::model::Priority;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

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
        let time = if self.iso8601 {
            evt_time_iso8601(alert.time_ns)
        } else {
            evt_time(alert.time_ns)
        };
        format!("{time}: {} {}", alert.priority.name(), alert.message)
    }

    /// The alert as Falco prints it on an output channel (text or JSON, no newline).
    pub fn render(&self, alert: &Alert<'_>) -> String {
        if !self.json {
            return self.text_line(alert);
        }
        self.json_value(alert).to_string()
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
