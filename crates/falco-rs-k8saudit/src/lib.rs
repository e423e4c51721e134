//! Kubernetes audit events as the k8saudit and json Falco plugins see them.
//!
//! * [`parse_payload`] accepts one payload (a JSON line or an HTTP body): an `Event`,
//!   an `EventList`, or JSON arrays of those, exactly as the k8saudit plugin's
//!   `source.go` does.
//! * [`AuditEvent`] is one parsed event; it implements the engine's
//!   [`falco_rs_engine::EventView`].
//! * [`K8sAuditCatalog`] resolves the 100 `ka.*` fields of k8saudit 0.18.0, the
//!   `json.*`/`jevt.*` fields of the json plugin and the generic `evt.*` fields.
//!
//! # Compatibility
//!
//! Field values follow the k8saudit v0.18.0 extractor, bugs included (`eff_run_as_*` always
//! `0`, `add_capabilities` and `service.ports` as JSON array text, `image.repository` cut at
//! the first `:`, `has_name` always `true`, `volume_type` reporting every non-`name` key).
//! Known differences:
//!
//! * `ka.sourceips` reads the top-level `sourceIPs` array (the plugin reads a path that
//!   never exists and so never extracts it).
//! * Events are stored as their compact JSON text plus a flat table of values (a "tape",
//!   built in one pass; see `tape.rs`), and field values are borrowed from that text. The
//!   text is exactly what `serde_json` writes for the event (inputs the fast parser is not
//!   sure to normalise identically go through `serde_json` first): re-serialised JSON (the stored payload,
//!   `evt.plugininfo`, object values) uses serde_json's number and string spelling
//!   (`1.50e2` → `150.0`, `\u00e9` → `é`) rather than the input's; a duplicated key keeps its
//!   last value (fastjson: first); invalid UTF-8, numbers outside the `f64` range and nesting
//!   deeper than 128 make the payload invalid JSON.
//!
//! # Input safety
//!
//! Parsing and extraction never panic on any input, and recursion is bounded by
//! serde_json's nesting limit.

mod catalog;
mod event;
mod extract;
mod gotime;
mod jsontext;
mod payload;
mod tape;
mod uri;

pub use catalog::K8sAuditCatalog;
pub use event::{set_hostname, AuditEvent};
pub use payload::{parse_payload, parse_payload_into, ParseOptions, PayloadError, PayloadOutcome};

/// The k8saudit plugin version whose behaviour this crate reproduces (what rules'
/// `required_plugin_versions` are checked against).
pub const K8SAUDIT_PLUGIN_VERSION: &str = "0.18.0";

/// The json plugin version whose fields this crate reproduces.
pub const JSON_PLUGIN_VERSION: &str = "0.7.4";

/// The event source name of Kubernetes audit events.
pub const SOURCE_NAME: &str = "k8s_audit";
