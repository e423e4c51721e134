//! Payload parsing: one webhook body or one line of an audit log, as the k8saudit plugin's
//! `source.go` reads it.

use std::fmt;

use crate::event::AuditEvent;
use crate::gotime::parse_stage_timestamp;
use crate::jsontext::get1;
use crate::tape::{Doc, Kind, V};

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
    let mut out = PayloadOutcome::default();
    parse_payload_into(bytes, opts, &mut out);
    out
}

/// [`parse_payload`] appending to `out`'s events and errors (what was already there is
/// kept), so that a caller parsing many payloads reuses the two vectors.
pub fn parse_payload_into(bytes: &[u8], opts: &ParseOptions, out: &mut PayloadOutcome) {
    let doc = match Doc::parse(bytes) {
        Ok(d) => d,
        Err(e) => {
            out.errors
                .push(PayloadError::Json(format!("cannot parse JSON: {e}")));
            return;
        }
    };
    // The common case, one `Event`: the document is the event (no copy).
    let root = doc.root();
    if root.kind() == Kind::Obj && kind_is(root, "Event") {
        single(doc, opts, out);
        return;
    }
    let (events, errors) = (out.events.len(), out.errors.len());
    if let Err(NotRecognized) = collect(&doc, root, opts, out) {
        // Nothing of an unrecognised payload is delivered.
        out.events.truncate(events);
        out.errors.truncate(errors);
        out.errors.push(PayloadError::NotRecognized);
    }
}

struct NotRecognized;

/// Whether the object `v` has a string `kind` equal to `want`.
fn kind_is(v: V<'_>, want: &str) -> bool {
    v.get("kind").and_then(V::as_str).as_deref() == Some(want)
}

/// The plugin's `ParseAuditEventsJSON`.
fn collect(
    doc: &Doc,
    value: V<'_>,
    opts: &ParseOptions,
    out: &mut PayloadOutcome,
) -> Result<(), NotRecognized> {
    match value.kind() {
        Kind::Arr => {
            for v in value.elements() {
                match collect(doc, v, opts, out) {
                    Err(NotRecognized) if opts.keep_valid_siblings => {
                        out.errors.push(PayloadError::NotRecognized)
                    }
                    other => other?,
                }
            }
            Ok(())
        }
        Kind::Obj => {
            if kind_is(value, "EventList") {
                match value.get("items") {
                    Some(items) if items.kind() == Kind::Arr && items.len() > 0 => {
                        for item in items.elements() {
                            single(doc.sub(item), opts, out);
                        }
                        Ok(())
                    }
                    _ => Err(NotRecognized),
                }
            } else if kind_is(value, "Event") {
                single(doc.sub(value), opts, out);
                Ok(())
            } else {
                Err(NotRecognized)
            }
        }
        _ => Err(NotRecognized),
    }
}

/// The plugin's `parseSingleAuditEventJSON`.
fn single(item: Doc, opts: &ParseOptions, out: &mut PayloadOutcome) {
    let time_ns = match get1(item.root(), "stageTimestamp") {
        None => {
            out.errors.push(PayloadError::NoTimestamp);
            return;
        }
        // a non-string timestamp reads as "" in the plugin
        Some(v) => match parse_stage_timestamp(&v.as_str().unwrap_or_default()) {
            Ok(ns) => ns,
            Err(msg) => {
                out.errors.push(PayloadError::BadTimestamp(msg));
                return;
            }
        },
    };
    let size = item.text().len();
    if size > opts.max_event_size {
        out.errors.push(PayloadError::TooLarge { size });
        return;
    }
    out.events.push(AuditEvent::new(item, time_ns));
}
