//! The audit event parser and every field extractor: any bytes either parse into
//! events or are reported as errors; every field (with and without arguments) is
//! extracted from every event, and a field reported as present has values.
#![no_main]

use std::borrow::Cow;
use std::sync::LazyLock;

use falco_rs_engine::{EventView, FieldCatalog, FieldMeta};
use falco_rs_k8saudit::{parse_payload, K8sAuditCatalog, ParseOptions};
use libfuzzer_sys::fuzz_target;

/// Every field, with a few arguments for the fields that take one.
static METAS: LazyLock<Vec<FieldMeta>> = LazyLock::new(|| {
    let c = K8sAuditCatalog::new();
    let mut v = Vec::new();
    for d in K8sAuditCatalog::field_docs() {
        let args: &[Option<&str>] = match d.arg {
            "[k]" => &[
                Some("x"),
                Some("/"),
                Some("/stage"),
                Some("/requestObject/spec/containers/0"),
                Some("app"),
            ],
            "[i]" => &[None, Some("0"), Some("1")],
            _ => &[None],
        };
        for a in args {
            if let Ok(m) = c.resolve(d.name, *a) {
                v.push(m);
            }
        }
    }
    v
});

fuzz_target!(|data: &[u8]| {
    let out = parse_payload(data, &ParseOptions::default());
    for e in &out.errors {
        let _ = e.to_string();
    }
    let mut values: Vec<Cow<'_, str>> = Vec::new();
    for ev in &out.events {
        for m in METAS.iter() {
            values.clear();
            if ev.extract(m, &mut values) {
                assert!(!values.is_empty(), "{} present without values", m.name);
                if !m.is_list {
                    assert_eq!(values.len(), 1, "{} is not a list", m.name);
                }
            }
        }
    }
});
