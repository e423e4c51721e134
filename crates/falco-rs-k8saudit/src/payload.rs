//! Payload parsing: one webhook body or one line of an audit log, as the k8saudit plugin's
//! `source.go` reads it.

use std::fmt;

use serde_json::Value;

use crate::event::AuditEvent;
use crate::gotime::parse_stage_timestamp;
use crate::jsontext::get1;

/// Options of [`parse_payload`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Largest accepted event, in bytes of its compact re-serialisation (the plugin's
    /// `maxEventSize`, default 262144). Larger events are dropped with
    /// [`PayloadError::TooLarge`].
    pub max_event_size: usize,
    /// When an element of a JSON array is not an audit event, report it and keep its
    /// valid siblings (falco-rs webhook behaviour). `false` reproduces the plugin, which
    /// drops the whole payload in that case.
    pub keep_valid_siblings: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_event_size: 262_144,
            keep_valid_siblings: false,
        }
    }
}

/// Result of parsing one payload: the delivered events, in payload order, and the problems
/// found (the plugin logs them and carries on).
#[derive(Debug, Default)]
pub struct PayloadOutcome {
    /// Events to evaluate, in payload order. Their `evt.num` is still 0.
    pub events: Vec<AuditEvent>,
    /// Items dropped, or the reason the whole payload was dropped.
    pub errors: Vec<PayloadError>,
}

/// Why a payload or one of its items was dropped. The messages are the plugin's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    /// Not valid JSON: the whole payload is dropped. Carries the parser's message.
    Json(String),
    /// Neither an `Event`, an `EventList` with items, nor an array of those: the whole
    /// payload is dropped (also when the offending value sits inside a top-level array).
    NotRecognized,
    /// An item without `stageTimestamp`: that item is dropped.
    NoTimestamp,
    /// An item whose `stageTimestamp` is not an RFC 3339 string: that item is dropped.
    /// Carries Go's `time.Parse` message.
    BadTimestamp(String),
    /// An item whose compact serialisation exceeds [`ParseOptions::max_event_size`]: that
    /// item is dropped.
    TooLarge {
        /// Size of the compact serialisation in bytes.
        size: usize,
    },
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadError::Json(msg) => f.write_str(msg),
            PayloadError::NotRecognized => f.write_str("data not recognized as a k8s audit event"),
            PayloadError::NoTimestamp => f.write_str("can't read stageTimestamp"),
            PayloadError::BadTimestamp(msg) => f.write_str(msg),
            PayloadError::TooLarge { size } => {
                write!(f, "event larger than maxEventSize: size={size}")
            }
        }
    }
}

impl std::error::Error for PayloadError {}

/// Parses one payload (a webhook body or a file line) into audit events.
///
/// * A JSON array: every element is parsed recursively (any nesting depth).
/// * An object with string `kind` `EventList`: every element of a non-empty `items` array
///   is one event (the items' own `kind` is not checked).
/// * An object with `kind` `Event`: one event.
/// * Anything else is [`PayloadError::NotRecognized`], and the **whole payload** is then
///   dropped, including events already parsed from earlier array elements.
///
/// Each item needs a `stageTimestamp` (Go RFC 3339) and must serialise compactly within
/// [`ParseOptions::max_event_size`]; otherwise only that item is dropped. Invalid JSON drops
/// the payload. Never panics.
#[must_use]
pub fn parse_payload(bytes: &[u8], opts: &ParseOptions) -> PayloadOutcome {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return PayloadOutcome {
                events: Vec::new(),
                errors: vec![PayloadError::Json(format!("cannot parse JSON: {e}"))],
            }
        }
    };
    let mut out = PayloadOutcome::default();
    match collect(value, opts, &mut out) {
        Ok(()) => out,
        Err(NotRecognized) => PayloadOutcome {
            events: Vec::new(),
            errors: vec![PayloadError::NotRecognized],
        },
    }
}

struct NotRecognized;

/// The plugin's `ParseAuditEventsJSON`.
fn collect(
    value: Value,
    opts: &ParseOptions,
    out: &mut PayloadOutcome,
) -> Result<(), NotRecognized> {
    match value {
        Value::Array(elements) => {
            for v in elements {
                match collect(v, opts, out) {
                    Err(NotRecognized) if opts.keep_valid_siblings => {
                        out.errors.push(PayloadError::NotRecognized)
                    }
                    other => other?,
                }
            }
            Ok(())
        }
        Value::Object(mut obj) => match obj.get("kind").and_then(Value::as_str) {
            Some("EventList") => match obj.get_mut("items") {
                Some(Value::Array(items)) if !items.is_empty() => {
                    for item in std::mem::take(items) {
                        single(item, opts, out);
                    }
                    Ok(())
                }
                _ => Err(NotRecognized),
            },
            Some("Event") => {
                single(Value::Object(obj), opts, out);
                Ok(())
            }
            _ => Err(NotRecognized),
        },
        _ => Err(NotRecognized),
    }
}

/// The plugin's `parseSingleAuditEventJSON`.
fn single(item: Value, opts: &ParseOptions, out: &mut PayloadOutcome) {
    let time_ns = match get1(&item, "stageTimestamp") {
        None => {
            out.errors.push(PayloadError::NoTimestamp);
            return;
        }
        // a non-string timestamp reads as "" in the plugin
        Some(v) => match parse_stage_timestamp(v.as_str().unwrap_or("")) {
            Ok(ns) => ns,
            Err(msg) => {
                out.errors.push(PayloadError::BadTimestamp(msg));
                return;
            }
        },
    };
    let payload = item.to_string();
    if payload.len() > opts.max_event_size {
        out.errors.push(PayloadError::TooLarge {
            size: payload.len(),
        });
        return;
    }
    out.events.push(AuditEvent::new(item, payload, time_ns));
}
