//! One parsed audit event and its field values.

use std::borrow::Cow;
use std::sync::OnceLock;

use falco_rs_engine::bytes::decimal;
use falco_rs_engine::evttime;
use falco_rs_engine::{EventView, FieldMeta, OutputValue};

use crate::catalog::{self, Evt, Kind};
use crate::extract::{extract_ka, push_keys_value};
use crate::jsontext::{get1, get_path, go_indent, jt, pointer};
use crate::tape::{Doc, Kind as J, V};
use crate::SOURCE_NAME;

/// One parsed audit event: the JSON tree (parsed once), its stored compact text, its time
/// and the sequence data a source assigns.
///
/// Field values are extracted through [`EventView`]; strings are borrowed from the event
/// whenever the value is a JSON string.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    doc: Doc,
    time_ns: u64,
    num: u64,
    plugin_name: &'static str,
    reltime_base: Option<u64>,
    has_audit_id: bool,
    /// Decimal text of `time_ns` (`json.rawtime`, `evt.rawtime`), written on first use
    /// (few rules read it; the conversion was 3% of a replay) and kept inline so that
    /// extracting it does not allocate.
    rawtime: std::cell::OnceCell<Digits>,
    /// Position of `user.username` (`ka.user.name`'s path), found on first use: the rule
    /// index and the rules both read it for every event.
    user_name: std::cell::OnceCell<Option<u32>>,
}

/// Decimal digits, left-aligned in an 8-aligned buffer: `str::from_utf8` checks aligned
/// ASCII two words at a time (one step for 16 of the 19 digits of a current time) and
/// unaligned text byte by byte, which made the check cost more than the conversion.
#[repr(align(8))]
#[derive(Debug, Clone, Copy)]
struct Digits {
    bytes: [u8; 24],
    len: u8,
}

impl AuditEvent {
    /// Builds an event from an already validated audit object, its compact serialisation and
    /// its time.
    pub(crate) fn new(doc: Doc, time_ns: u64) -> Self {
        let root = doc.root();
        let has_audit_id = root.kind() == J::Obj && root.get("auditID").is_some();
        AuditEvent {
            rawtime: std::cell::OnceCell::new(),
            user_name: std::cell::OnceCell::new(),
            doc,
            time_ns,
            num: 0,
            plugin_name: "k8saudit",
            reltime_base: None,
            has_audit_id,
        }
    }

    /// Event time: `stageTimestamp` in nanoseconds since the Unix epoch (UTC).
    #[must_use]
    pub fn time_ns(&self) -> u64 {
        self.time_ns
    }

    /// The stored compact JSON text of the event (what `evt.plugininfo` shows and what
    /// `json.obj` re-indents).
    #[must_use]
    pub fn payload(&self) -> &str {
        self.doc.text()
    }

    /// Decimal text of the event time in nanoseconds.
    fn rawtime(&self) -> &str {
        let d = self.rawtime.get_or_init(|| {
            let (text, len) = decimal(self.time_ns);
            let mut bytes = [0u8; 24];
            let n = usize::from(len);
            bytes[..n].copy_from_slice(&text[text.len() - n..]);
            Digits { bytes, len }
        });
        std::str::from_utf8(&d.bytes[..usize::from(d.len)]).unwrap_or("0")
    }

    /// `evt.num`: the sequence number the source assigned (1-based; 0 until assigned).
    #[must_use]
    pub fn num(&self) -> u64 {
        self.num
    }

    /// Sets `evt.num`.
    pub fn set_num(&mut self, n: u64) {
        self.num = n;
    }

    /// Sets `evt.pluginname` (default `k8saudit`; e.g. `k8saudit-eks` for the EKS source).
    pub fn set_plugin_name(&mut self, name: &'static str) {
        self.plugin_name = name;
    }

    /// The name reported by `evt.pluginname`.
    #[must_use]
    pub fn plugin_name(&self) -> &'static str {
        self.plugin_name
    }

    /// Sets the time of the first event of the capture, from which `evt.reltime*` count.
    /// Unset, the event counts as the first one (`evt.reltime` = 0).
    pub fn set_reltime_base(&mut self, ns: u64) {
        self.reltime_base = Some(ns);
    }

    /// `auditID` when it is a JSON string (for de-duplication in sources).
    #[must_use]
    pub fn audit_id(&self) -> Option<&str> {
        self.top_str("auditID")
    }

    /// `stage` when it is a JSON string.
    #[must_use]
    pub fn stage(&self) -> Option<&str> {
        self.top_str("stage")
    }

    /// `verb` when it is a JSON string (a cheap key for a rule index; `None` means unknown,
    /// not "no verb": rules comparing `ka.verb` may still match other JSON types).
    #[must_use]
    pub fn verb(&self) -> Option<&str> {
        self.top_str("verb")
    }

    /// `objectRef.resource` when it is a JSON string (a cheap key for a rule index).
    #[must_use]
    pub fn resource(&self) -> Option<&str> {
        self.object_ref_str("resource")
    }

    /// `objectRef.subresource` when it is a JSON string (a cheap key for a rule index).
    #[must_use]
    pub fn subresource(&self) -> Option<&str> {
        self.object_ref_str("subresource")
    }

    /// `user.username` when it is a JSON string (a cheap key for a rule index).
    #[must_use]
    pub fn user_name(&self) -> Option<&str> {
        self.user_name_value().and_then(V::as_plain_str)
    }

    /// The value at `ka.user.name`'s path, walked once per event.
    fn user_name_value(&self) -> Option<V<'_>> {
        let position = self.user_name.get_or_init(|| {
            let keys = catalog::def(catalog::USER_NAME_ID).and_then(|d| match d.kind {
                Kind::Keys(keys) => Some(keys),
                _ => None,
            })?;
            get_path(self.doc.root(), keys).map(V::position)
        });
        self.doc.value((*position)?)
    }

    /// `json.rawtime` (alias `jevt.rawtime`): the decimal event time in nanoseconds, or
    /// `None` where the json plugin extracts nothing (a payload that is not an object
    /// or array).
    #[must_use]
    pub fn json_rawtime(&self) -> Option<&str> {
        self.is_json_container().then(|| self.rawtime())
    }

    /// The length of [`json_rawtime`](Self::json_rawtime) without writing its digits (a
    /// rule index rules most events out by length alone).
    #[must_use]
    pub fn json_rawtime_len(&self) -> Option<usize> {
        self.is_json_container()
            .then(|| self.time_ns.checked_ilog10().map_or(1, |l| l as usize + 1))
    }

    /// Whether the payload's first byte is `{` or `[`: the json plugin rejects others.
    fn is_json_container(&self) -> bool {
        self.doc.text().starts_with(['{', '['])
    }

    /// [`resource`](Self::resource) and [`subresource`](Self::subresource), looking
    /// `objectRef` up once (keys of a rule index).
    #[must_use]
    pub fn target_resource(&self) -> (Option<&str>, Option<&str>) {
        let (resource, subresource) = self
            .object_ref()
            .map_or((None, None), |o| o.get_pair("resource", "subresource"));
        (
            resource.and_then(V::as_plain_str),
            subresource.and_then(V::as_plain_str),
        )
    }

    fn top(&self, key: &str) -> Option<V<'_>> {
        let root = self.doc.root();
        (root.kind() == J::Obj).then(|| root.get(key)).flatten()
    }

    fn top_str(&self, key: &str) -> Option<&str> {
        self.top(key).and_then(V::as_plain_str)
    }

    /// `objectRef` when it is an object.
    fn object_ref(&self) -> Option<V<'_>> {
        self.top("objectRef").filter(|o| o.kind() == J::Obj)
    }

    fn object_ref_str(&self, key: &str) -> Option<&str> {
        plain_str_at(self.object_ref(), key)
    }

    fn reltime(&self) -> u64 {
        // libsinsp subtracts without a check: an event older than the first one wraps.
        self.time_ns
            .wrapping_sub(self.reltime_base.unwrap_or(self.time_ns))
    }

    fn extract_json<'a>(&'a self, kind: Kind, key: &str, out: &mut Vec<Cow<'a, str>>) -> bool {
        if !self.is_json_container() {
            return false;
        }
        match kind {
            Kind::JsonValue => {
                if key.is_empty() {
                    out.push(Cow::Borrowed(self.doc.text()));
                    return true;
                }
                match pointer(self.doc.root(), key) {
                    Some(v) => {
                        out.push(jt(v));
                        true
                    }
                    None => false,
                }
            }
            Kind::JsonObj => {
                out.push(Cow::Owned(go_indent(self.doc.text())));
                true
            }
            Kind::JsonRawtime => {
                out.push(Cow::Borrowed(self.rawtime()));
                true
            }
            _ => false,
        }
    }

    fn extract_evt<'a>(&'a self, e: Evt, out: &mut Vec<Cow<'a, str>>) -> bool {
        let ts = self.time_ns;
        let v: Cow<'a, str> = match e {
            Evt::Num => Cow::Owned(self.num.to_string()),
            Evt::Time => Cow::Owned(local(ts, false, true)),
            Evt::TimeS => Cow::Owned(local(ts, false, false)),
            Evt::TimeIso8601 => Cow::Owned(text(|s| evttime::push_iso8601(s, ts))),
            Evt::Datetime => Cow::Owned(local(ts, true, true)),
            Evt::DatetimeS => Cow::Owned(local(ts, true, false)),
            Evt::Rawtime => Cow::Borrowed(self.rawtime()),
            Evt::RawtimeS => Cow::Owned((ts / NS).to_string()),
            // libsinsp prints these with "%09" (PF_10_PADDED_DEC).
            Evt::RawtimeNs => Cow::Owned(format!("{:09}", ts % NS)),
            Evt::Reltime => Cow::Owned(format!("{:09}", self.reltime())),
            Evt::ReltimeS => Cow::Owned((self.reltime() / NS).to_string()),
            Evt::ReltimeNs => Cow::Owned(format!("{:09}", self.reltime() % NS)),
            Evt::PluginName => Cow::Borrowed(self.plugin_name),
            Evt::PluginInfo => Cow::Borrowed(self.doc.text()),
            Evt::Source => Cow::Borrowed(SOURCE_NAME),
            Evt::IsAsync => Cow::Borrowed("false"),
            Evt::AsyncType => return false,
            Evt::Hostname => Cow::Borrowed(hostname()),
        };
        out.push(v);
        true
    }
}

impl EventView for AuditEvent {
    fn extract<'a>(&'a self, field: &FieldMeta, out: &mut Vec<Cow<'a, str>>) -> bool {
        let Some(def) = catalog::def(field.id) else {
            return false;
        };
        let key = field.arg.as_deref().unwrap_or("");
        let before = out.len();
        let ok = match def.kind {
            Kind::Evt(e) => self.extract_evt(e, out),
            kind if kind.is_ka() => {
                // The plugin extracts nothing from events without a top-level auditID.
                if !self.has_audit_id {
                    return false;
                }
                if field.id == catalog::USER_NAME_ID {
                    // `extract_ka`'s walk, done once and shared with the rule index.
                    push_keys_value(def, self.user_name_value(), out)
                } else {
                    let index = (field.index != u64::MAX).then_some(field.index);
                    extract_ka(self.doc.root(), def, key, index, out)
                }
            }
            kind => self.extract_json(kind, key, out),
        };
        ok && out.len() > before
    }

    fn output_value(&self, field: &FieldMeta) -> Option<OutputValue> {
        let Kind::Evt(e) = catalog::def(field.id)?.kind else {
            return None;
        };
        // libsinsp `sinsp_filter_check_gen_event::extract_as_js`: times as Int64; then
        // `rawval_to_json`: evt.num (PT_UINT64, PF_DEC) a number, evt.is_async a bool.
        let ts = self.time_ns;
        let int = |v: u64| OutputValue::Int(v as i64);
        Some(match e {
            Evt::Num => OutputValue::UInt(self.num),
            Evt::Time | Evt::TimeS | Evt::TimeIso8601 | Evt::Datetime | Evt::DatetimeS => int(ts),
            Evt::Rawtime => int(ts),
            Evt::RawtimeS => int(ts / NS),
            Evt::RawtimeNs => int(ts % NS),
            Evt::Reltime => int(self.reltime()),
            Evt::ReltimeS => int(self.reltime() / NS),
            Evt::ReltimeNs => int(self.reltime() % NS),
            Evt::IsAsync => OutputValue::Bool(false),
            Evt::PluginName | Evt::PluginInfo | Evt::Source | Evt::AsyncType | Evt::Hostname => {
                return None
            }
        })
    }
}

/// The string without escapes at `key` of `object` (when there is one).
fn plain_str_at<'v>(object: Option<V<'v>>, key: &str) -> Option<&'v str> {
    object.and_then(|o| get1(o, key)).and_then(V::as_plain_str)
}

/// Nanoseconds per second.
const NS: u64 = 1_000_000_000;

static HOSTNAME: OnceLock<String> = OnceLock::new();

/// Sets the process-wide value of `evt.hostname`. Only the first value set (or computed by
/// the first extraction of `evt.hostname`) counts; later calls are ignored.
pub fn set_hostname(name: String) {
    let _ = HOSTNAME.set(name);
}

/// `evt.hostname`: the value given to [`set_hostname`], else `FALCO_HOSTNAME`, else the
/// kernel host name (`/proc/sys/kernel/hostname`, then `/etc/hostname`).
fn hostname() -> &'static str {
    HOSTNAME.get_or_init(|| {
        if let Ok(h) = std::env::var("FALCO_HOSTNAME") {
            if !h.is_empty() {
                return h;
            }
        }
        ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .map(|s| s.trim().to_string())
            .find(|s| !s.is_empty())
            .unwrap_or_default()
    })
}

/// The text `push` writes.
fn text(push: impl FnOnce(&mut String)) -> String {
    let mut s = String::with_capacity(32);
    push(&mut s);
    s
}

/// libsinsp `ts_to_string` of `ts` (see [`evttime::push_local`]).
fn local(ts: u64, date: bool, ns: bool) -> String {
    text(|s| evttime::push_local(s, ts, date, ns))
}
