//! The catalog (names, arguments, types, errors) and the json.*/jevt.*/evt.* fields.

mod common;

use common::{event, get, POD};
use falco_rs_engine::{FieldCatalog, FieldType};
use falco_rs_k8saudit::{set_hostname, K8sAuditCatalog, SOURCE_NAME};

fn resolve_err(name: &str, arg: Option<&str>) -> String {
    match K8sAuditCatalog::new().resolve(name, arg) {
        Ok(m) => panic!("{name}: unexpectedly resolved to {m:?}"),
        Err(e) => e,
    }
}

#[test]
fn resolve_errors_use_libsinsp_wording() {
    assert_eq!(
        resolve_err("ka.nope", None),
        "filter_check called with nonexistent field ka.nope"
    );
    assert_eq!(
        resolve_err("ka.nope", Some("x")),
        "filter_check called with nonexistent field ka.nope[x]"
    );
    assert_eq!(
        resolve_err("ka.req.pod.ephemeralContainers.host_port", None),
        "filter_check called with nonexistent field ka.req.pod.ephemeralContainers.host_port"
    );
    assert_eq!(
        resolve_err("ka.verb", Some("x")),
        "filter 'ka.verb[x]': ka.verb does not allow nor require an argument but one is provided: x"
    );
    assert_eq!(
        resolve_err("evt.num", Some("1")),
        "filter 'evt.num[1]': evt.num does not allow nor require an argument but one is provided: 1"
    );
    assert_eq!(
        resolve_err("ka.uri.param", None),
        "filter 'ka.uri.param': ka.uri.param requires an argument but none provided"
    );
    assert_eq!(
        resolve_err("jevt.value", None),
        "filter 'jevt.value': jevt.value requires an argument but none provided"
    );
    let f = "ka.req.pod.containers.privileged";
    assert_eq!(
        resolve_err(f, Some("01")),
        format!("filter {f}[01] {f} has an invalid index argument starting with 0: 01")
    );
    assert_eq!(
        resolve_err(f, Some("")),
        format!("filter {f}[] {f} has an invalid index argument starting with 0: ")
    );
    assert_eq!(
        resolve_err(f, Some("0x")),
        format!("filter {f}[0x] {f} has an invalid index argument not composed only by digits: 0x")
    );
    assert_eq!(
        resolve_err(f, Some("-1")),
        format!("filter {f}[-1] {f} has an invalid index argument not composed only by digits: -1")
    );
    assert_eq!(
        resolve_err(f, Some("18446744073709551616")),
        format!("filter {f}[18446744073709551616] {f} has an invalid index argument not representable on 64 bit: 18446744073709551616")
    );
}

#[test]
fn resolve_ok() {
    let c = K8sAuditCatalog::new();
    let m = c
        .resolve("ka.req.pod.containers.privileged", Some("0"))
        .expect("index 0");
    assert_eq!(
        (m.id, m.index, m.is_list, m.ty),
        (40, 0, true, FieldType::String)
    );
    assert_eq!(m.arg.as_deref(), Some("0"));
    assert_eq!(m.display_name(), "ka.req.pod.containers.privileged[0]");
    let m = c
        .resolve("ka.req.pod.containers.privileged", None)
        .expect("no index");
    assert_eq!((m.index, m.arg), (u64::MAX, None));
    let m = c
        .resolve("ka.req.role.rules.verbs", Some("12"))
        .expect("index 12");
    assert_eq!(m.index, 12);
    let m = c.resolve("ka.uri.param", Some("01")).expect("key");
    assert_eq!(
        (m.id, m.index, m.arg.as_deref()),
        (13, u64::MAX, Some("01"))
    );
    let m = c.resolve("json.value", Some("")).expect("empty key");
    assert_eq!((m.id, m.arg.as_deref()), (100, Some("")));
    let m = c.resolve("ka.verb", None).expect("plain");
    assert_eq!((m.id, m.is_list, m.name.as_str()), (11, false, "ka.verb"));

    let ty = |n: &str| c.resolve(n, None).expect(n).ty;
    assert_eq!(ty("evt.num"), FieldType::U64);
    assert_eq!(ty("evt.rawtime"), FieldType::AbsTime);
    assert_eq!(ty("evt.rawtime.s"), FieldType::U64);
    assert_eq!(ty("evt.rawtime.ns"), FieldType::U64);
    assert_eq!(ty("evt.reltime"), FieldType::RelTime);
    assert_eq!(ty("evt.reltime.s"), FieldType::U64);
    assert_eq!(ty("evt.reltime.ns"), FieldType::U64);
    assert_eq!(ty("evt.is_async"), FieldType::Bool);
    assert_eq!(ty("evt.time"), FieldType::String);
    assert_eq!(ty("json.obj"), FieldType::String);
    assert_eq!(ty("ka.response.code"), FieldType::String);
}

#[test]
fn field_docs_and_has_field() {
    let c = K8sAuditCatalog::new();
    let docs = K8sAuditCatalog::field_docs();
    assert_eq!(docs.len(), 124);
    assert_eq!(
        docs.iter().filter(|d| d.name.starts_with("ka.")).count(),
        100
    );
    for (i, d) in docs.iter().enumerate() {
        assert!(c.has_field(d.name), "{}", d.name);
        assert!(!d.desc.is_empty());
        let arg = match d.arg {
            "[k]" => Some("k"),
            _ => None,
        };
        let m = c.resolve(d.name, arg).expect(d.name);
        assert_eq!(m.id as usize, i);
        assert_eq!((m.is_list, m.ty), (d.is_list, d.ty));
        if d.name.starts_with("ka.") || d.name.starts_with("json.") || d.name.starts_with("jevt.") {
            assert_eq!(d.ty, FieldType::String);
        }
    }
    let keyed: Vec<_> = docs
        .iter()
        .filter(|d| d.arg == "[k]")
        .map(|d| d.name)
        .collect();
    assert_eq!(
        keyed,
        [
            "ka.uri.param",
            "ka.req.binding.subject.has_name",
            "ka.req.volume.hostpath",
            "json.value",
            "jevt.value"
        ]
    );
    // 15 + 15 + 14 container fields, 4 role-rule fields, service.ports, 3 volume fields,
    // sourceips
    assert_eq!(
        docs.iter().filter(|d| d.arg == "[i]").count(),
        15 + 15 + 14 + 4 + 1 + 3 + 1
    );
    for name in [
        "jevt.time",
        "jevt.time.iso8601",
        "ka",
        "",
        "evt.type",
        "json.value[x]",
    ] {
        assert!(!c.has_field(name), "{name}");
    }
}

/// The rule index reads `json.rawtime` through `json_rawtime` and judges it by
/// `json_rawtime_len` first: both must agree with the extracted field.
#[test]
fn json_rawtime_key_agrees_with_the_field() {
    for (time, digits) in [
        ("1970-01-01T00:00:00Z", "0"),
        ("1970-01-01T00:00:00.000000001Z", "1"),
        ("1970-01-01T00:00:00.00000001Z", "10"),
        ("1970-01-01T00:00:00.000000099Z", "99"),
        ("1970-01-01T00:00:00.0000001Z", "100"),
        ("1970-01-01T00:00:01Z", "1000000000"),
        ("2024-05-01T10:00:00.000000042Z", "1714557600000000042"),
        ("2262-04-11T23:47:16.854775807Z", "9223372036854775807"),
    ] {
        let ev = event(&format!(
            r#"{{"kind":"Event","auditID":"1","stageTimestamp":"{time}"}}"#
        ));
        assert_eq!(get(&ev, "json.rawtime"), Some(vec![digits.to_string()]));
        assert_eq!(ev.json_rawtime(), Some(digits), "{time}");
        assert_eq!(ev.json_rawtime_len(), Some(digits.len()), "{time}");
    }
}

#[test]
fn json_fields() {
    let ev = event(
        r#"{"kind":"Event","auditID":"1","a":[],"b":{"c":[1,{"d~/":"x\"y"}],"e":{}},"stageTimestamp":"2024-05-01T10:00:00.000000042Z"}"#,
    );
    let want_obj = "{\n  \"kind\": \"Event\",\n  \"auditID\": \"1\",\n  \"a\": [],\n  \"b\": {\n    \"c\": [\n      1,\n      {\n        \"d~/\": \"x\\\"y\"\n      }\n    ],\n    \"e\": {}\n  },\n  \"stageTimestamp\": \"2024-05-01T10:00:00.000000042Z\"\n}";
    for p in ["json", "jevt"] {
        assert_eq!(
            get(&ev, &format!("{p}.obj")),
            Some(vec![want_obj.to_string()])
        );
        assert_eq!(
            get(&ev, &format!("{p}.rawtime")),
            Some(vec!["1714557600000000042".to_string()])
        );
        let v = |ptr: &str| get(&ev, &format!("{p}.value[{ptr}]"));
        assert_eq!(v("/kind"), Some(vec!["Event".to_string()]));
        assert_eq!(v("kind"), Some(vec!["Event".to_string()]));
        assert_eq!(v("/b/c/1/d~0~1"), Some(vec!["x\"y".to_string()]));
        assert_eq!(v("/b/c/0"), Some(vec!["1".to_string()]));
        assert_eq!(v("/b/c"), Some(vec![r#"[1,{"d~/":"x\"y"}]"#.to_string()]));
        assert_eq!(v("/b/e"), Some(vec!["{}".to_string()]));
        assert_eq!(v("/a"), Some(vec!["[]".to_string()]));
        assert_eq!(v(""), Some(vec![ev.payload().to_string()]));
        assert_eq!(v("/"), None);
        assert_eq!(v("/b/c/2"), None);
        assert_eq!(v("/b/c/-"), None);
        assert_eq!(v("/nope"), None);
        assert_eq!(v("/kind/x"), None);
    }
}

#[test]
fn evt_fields() {
    let mut ev = event(POD);
    // stageTimestamp 2024-05-01T10:00:00.123456Z
    let one = |ev: &falco_rs_k8saudit::AuditEvent, f: &str| get(ev, f).map(|mut v| v.remove(0));
    assert_eq!(one(&ev, "evt.num").as_deref(), Some("0"));
    ev.set_num(7);
    assert_eq!(ev.num(), 7);
    assert_eq!(one(&ev, "evt.num").as_deref(), Some("7"));
    assert_eq!(
        one(&ev, "evt.rawtime").as_deref(),
        Some("1714557600123456000")
    );
    assert_eq!(one(&ev, "evt.rawtime.s").as_deref(), Some("1714557600"));
    assert_eq!(one(&ev, "evt.rawtime.ns").as_deref(), Some("123456000"));
    assert_eq!(
        one(&ev, "evt.time.iso8601").as_deref(),
        Some("2024-05-01T10:00:00.123456000+0000")
    );
    let time = one(&ev, "evt.time").expect("evt.time");
    assert_eq!(time.len(), 18);
    assert!(time.ends_with(":00.123456000"), "{time}");
    let time_s = one(&ev, "evt.time.s").expect("evt.time.s");
    assert_eq!(time_s, time[..8]);
    let datetime = one(&ev, "evt.datetime").expect("evt.datetime");
    assert_eq!(datetime.len(), 29);
    assert!(datetime.ends_with(&time), "{datetime}");
    let datetime_s = one(&ev, "evt.datetime.s").expect("evt.datetime.s");
    assert_eq!(datetime_s, datetime[..19]);
    if falco_rs_engine::evttime::local_offset_secs() == 0 {
        assert_eq!(time, "10:00:00.123456000");
        assert_eq!(datetime, "2024-05-01 10:00:00.123456000");
    }

    assert_eq!(one(&ev, "evt.reltime").as_deref(), Some("000000000"));
    assert_eq!(one(&ev, "evt.reltime.s").as_deref(), Some("0"));
    ev.set_reltime_base(ev.time_ns() - 61_500_000_000);
    assert_eq!(one(&ev, "evt.reltime").as_deref(), Some("61500000000"));
    assert_eq!(one(&ev, "evt.reltime.s").as_deref(), Some("61"));
    assert_eq!(one(&ev, "evt.reltime.ns").as_deref(), Some("500000000"));
    ev.set_reltime_base(ev.time_ns() + 1);
    assert_eq!(
        one(&ev, "evt.reltime").as_deref(),
        Some(u64::MAX.to_string().as_str())
    );

    assert_eq!(one(&ev, "evt.pluginname").as_deref(), Some("k8saudit"));
    ev.set_plugin_name("k8saudit-eks");
    assert_eq!(one(&ev, "evt.pluginname").as_deref(), Some("k8saudit-eks"));
    assert_eq!(one(&ev, "evt.plugininfo").as_deref(), Some(ev.payload()));
    assert_eq!(one(&ev, "evt.source").as_deref(), Some(SOURCE_NAME));
    assert_eq!(one(&ev, "evt.is_async").as_deref(), Some("false"));
    assert_eq!(one(&ev, "evt.asynctype"), None);

    set_hostname("falco-rs-test-host".to_string());
    assert_eq!(
        one(&ev, "evt.hostname").as_deref(),
        Some("falco-rs-test-host")
    );
}

#[test]
fn versions() {
    assert_eq!(falco_rs_k8saudit::K8SAUDIT_PLUGIN_VERSION, "0.18.0");
    assert_eq!(falco_rs_k8saudit::JSON_PLUGIN_VERSION, "0.7.4");
    assert_eq!(SOURCE_NAME, "k8s_audit");
}

#[test]
fn strings_are_borrowed() {
    use falco_rs_engine::EventView;
    use std::borrow::Cow;
    let ev = event(POD);
    let c = K8sAuditCatalog::new();
    for (f, arg) in [
        ("ka.verb", None),
        ("ka.user.groups", None),
        ("ka.req.pod.containers.image.repository", None),
        ("ka.req.pod.containers.privileged", None),
        ("ka.req.pod.volumes.volume_type", None),
        ("ka.uri.param", Some("dryRun")),
        ("jevt.value", Some("/stage")),
        ("evt.plugininfo", None),
    ] {
        let m = c.resolve(f, arg).expect(f);
        let mut out = Vec::new();
        assert!(ev.extract(&m, &mut out), "{f}");
        assert!(
            out.iter().all(|v| matches!(v, Cow::Borrowed(_))),
            "{f}: {out:?}"
        );
    }
}
