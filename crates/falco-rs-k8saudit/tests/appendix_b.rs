//! Appendix B of `k8saudit-sources-and-fields.md`: payload-parsing vectors.

mod common;

use common::get;
use falco_rs_k8saudit::{parse_payload, ParseOptions, PayloadError, PayloadOutcome};

fn parse(s: &str) -> PayloadOutcome {
    parse_payload(s.as_bytes(), &ParseOptions::default())
}

fn times(out: &PayloadOutcome) -> Vec<u64> {
    out.events.iter().map(|e| e.time_ns()).collect()
}

fn ids(out: &PayloadOutcome) -> Vec<&str> {
    out.events.iter().filter_map(|e| e.audit_id()).collect()
}

#[test]
fn timestamps() {
    let one = |ts: &str| {
        parse(&format!(
            r#"{{"kind":"Event","auditID":"1","stageTimestamp":"{ts}"}}"#
        ))
    };
    let out = one("2024-05-01T10:00:00.123456789Z");
    assert!(out.errors.is_empty());
    assert_eq!(times(&out), [1_714_557_600_123_456_789]);
    assert_eq!(
        times(&one("2024-05-01T10:00:00Z")),
        [1_714_557_600_000_000_000]
    );
    assert_eq!(
        times(&one("2024-05-01T12:00:00.5+02:00")),
        [1_714_557_600_500_000_000]
    );

    let out = one("2024-05-01 10:00:00");
    assert!(out.events.is_empty());
    assert_eq!(
        out.errors,
        [PayloadError::BadTimestamp(
            r#"parsing time "2024-05-01 10:00:00" as "2006-01-02T15:04:05.999999999Z07:00": cannot parse " 10:00:00" as "T""#
                .to_string()
        )]
    );
}

#[test]
fn missing_and_non_string_timestamp() {
    let out = parse(r#"{"kind":"Event","auditID":"1"}"#);
    assert!(out.events.is_empty());
    assert_eq!(out.errors, [PayloadError::NoTimestamp]);
    assert_eq!(out.errors[0].to_string(), "can't read stageTimestamp");

    let out = parse(r#"{"kind":"Event","auditID":"1","stageTimestamp":12345}"#);
    assert!(out.events.is_empty());
    assert!(
        matches!(&out.errors[..], [PayloadError::BadTimestamp(m)] if m.contains(r#"parsing time """#))
    );

    let out = parse(r#"{"kind":"Event","auditID":"1","stageTimestamp":null}"#);
    assert!(out.events.is_empty());
    assert!(matches!(&out.errors[..], [PayloadError::BadTimestamp(_)]));
}

#[test]
fn event_list_drops_bad_items_only() {
    let out = parse(
        r#"{"kind":"EventList","items":[
            {"auditID":"a","stageTimestamp":"2024-05-01T10:00:00Z"},
            {"auditID":"b"},
            {"auditID":"c","stageTimestamp":"2024-05-01T10:00:01Z"}]}"#,
    );
    assert_eq!(ids(&out), ["a", "c"]);
    assert_eq!(
        times(&out),
        [1_714_557_600_000_000_000, 1_714_557_601_000_000_000]
    );
    assert_eq!(out.errors, [PayloadError::NoTimestamp]);
}

#[test]
fn not_recognized() {
    for payload in [
        r#"{"kind":"EventList","items":[]}"#,
        r#"{"kind":"EventList"}"#,
        r#"{"kind":"EventList","items":{}}"#,
        r#"{"auditID":"nokind","stageTimestamp":"2024-05-01T10:00:00Z"}"#,
        r#"{"kind":"Pod"}"#,
        r#"{"kind":0}"#,
        r#"{"kind":["Event"]}"#,
        r#""Event""#,
        "42",
        "null",
        "[1]",
    ] {
        let out = parse(payload);
        assert!(out.events.is_empty(), "{payload}");
        assert_eq!(out.errors, [PayloadError::NotRecognized], "{payload}");
        assert_eq!(
            out.errors[0].to_string(),
            "data not recognized as a k8s audit event"
        );
    }
}

#[test]
fn arrays() {
    let out = parse(
        r#"[{"kind":"Event","auditID":"x","stageTimestamp":"2024-05-01T10:00:00Z"},
            {"kind":"EventList","items":[{"auditID":"y","stageTimestamp":"2024-05-01T10:00:00Z"}]}]"#,
    );
    assert_eq!(ids(&out), ["x", "y"]);
    assert!(out.errors.is_empty());

    let out =
        parse(r#"[[{"kind":"Event","auditID":"nested","stageTimestamp":"2024-05-01T10:00:00Z"}]]"#);
    assert_eq!(ids(&out), ["nested"]);

    // an empty array is fine and delivers nothing
    let out = parse("[]");
    assert!(out.events.is_empty() && out.errors.is_empty());

    // a not-recognized element drops the whole payload, including earlier events
    let out = parse(
        r#"[{"kind":"Event","auditID":"x","stageTimestamp":"2024-05-01T10:00:00Z"},{"kind":"Foo"}]"#,
    );
    assert!(out.events.is_empty());
    assert_eq!(out.errors, [PayloadError::NotRecognized]);

    // ... but a bad item only drops itself
    let out = parse(
        r#"[{"kind":"Event","auditID":"x"},{"kind":"Event","auditID":"y","stageTimestamp":"2024-05-01T10:00:00Z"}]"#,
    );
    assert_eq!(ids(&out), ["y"]);
    assert_eq!(out.errors, [PayloadError::NoTimestamp]);
}

#[test]
fn max_event_size() {
    let ev = r#"{"kind":"Event","auditID":"big","stageTimestamp":"2024-05-01T10:00:00Z","pad":"xxxxxxxxxx"}"#;
    let size = ev.len();
    let opts = ParseOptions {
        max_event_size: size,
        ..Default::default()
    };
    let out = parse_payload(ev.as_bytes(), &opts);
    assert_eq!(out.events.len(), 1);
    let opts = ParseOptions {
        max_event_size: size - 1,
        ..Default::default()
    };
    let out = parse_payload(ev.as_bytes(), &opts);
    assert!(out.events.is_empty());
    assert_eq!(out.errors, [PayloadError::TooLarge { size }]);
    assert_eq!(
        out.errors[0].to_string(),
        format!("event larger than maxEventSize: size={size}")
    );
    assert_eq!(ParseOptions::default().max_event_size, 262_144);

    // the size is that of the compact re-serialisation, not of the input
    let spaced = ev.replace(',', " ,  ");
    let out = parse_payload(
        spaced.as_bytes(),
        &ParseOptions {
            max_event_size: size,
            ..Default::default()
        },
    );
    assert_eq!(out.events.len(), 1);

    // a bad timestamp is reported before the size
    let out = parse_payload(
        br#"{"kind":"Event","stageTimestamp":"x","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#,
        &ParseOptions {
            max_event_size: 10,
            ..Default::default()
        },
    );
    assert!(matches!(&out.errors[..], [PayloadError::BadTimestamp(_)]));
}

#[test]
fn stored_payload_is_compact() {
    // The plugin keeps escapes and number spelling (`"a\u00e9\n"`, `1.50e2`); falco-rs
    // re-serialises with serde_json, a documented difference.
    let out = parse(
        "  { \"kind\" : \"Event\", \"auditID\":\"ws\", \"s\":\"a\\u00e9\\n\", \"n\": 1.50e2, \"stageTimestamp\":\"2024-05-01T10:00:00Z\"}\n",
    );
    assert_eq!(out.events.len(), 1);
    let ev = &out.events[0];
    assert_eq!(
        ev.payload(),
        "{\"kind\":\"Event\",\"auditID\":\"ws\",\"s\":\"a\u{e9}\\n\",\"n\":150.0,\"stageTimestamp\":\"2024-05-01T10:00:00Z\"}"
    );
    assert_eq!(
        get(ev, "evt.plugininfo").as_deref(),
        Some(&[ev.payload().to_string()][..])
    );
    assert_eq!(
        get(ev, "json.value[/s]"),
        Some(vec!["a\u{e9}\n".to_string()])
    );
    assert_eq!(get(ev, "json.value[/n]"), Some(vec!["150.0".to_string()]));
}

#[test]
fn invalid_json_drops_the_payload() {
    for payload in [
        "",
        "   ",
        "{",
        r#"{"kind":"Event","auditID":"1","stageTimestamp":"2024-05-01T10:00:00Z""#,
        r#"{"kind":"Event"} x"#,
        r#"{"kind":"Event",}"#,
        "\u{feff}{}",
        "{'kind':'Event'}",
    ] {
        let out = parse(payload);
        assert!(out.events.is_empty(), "{payload:?}");
        assert!(
            matches!(&out.errors[..], [PayloadError::Json(m)] if m.starts_with("cannot parse JSON")),
            "{payload:?}: {:?}",
            out.errors
        );
    }
    // not UTF-8
    let out = parse_payload(
        b"{\"kind\":\"Event\",\"auditID\":\"\xff\",\"stageTimestamp\":\"2024-05-01T10:00:00Z\"}",
        &ParseOptions::default(),
    );
    assert!(matches!(&out.errors[..], [PayloadError::Json(_)]));
}

#[test]
fn event_without_audit_id_is_accepted() {
    let out = parse(r#"{"kind":"Event","stageTimestamp":"2024-05-01T10:00:00Z"}"#);
    assert_eq!(out.events.len(), 1);
    assert!(out.errors.is_empty());
    assert_eq!(out.events[0].audit_id(), None);
}

#[test]
fn duplicate_keys_keep_the_last_value() {
    // fastjson returns the first occurrence; serde_json keeps the last (documented).
    let out = parse(
        r#"{"kind":"Event","auditID":"1","verb":"get","verb":"create","stageTimestamp":"2024-05-01T10:00:00Z"}"#,
    );
    assert_eq!(out.events[0].verb(), Some("create"));
}

#[test]
fn accessors() {
    let out = parse(
        r#"{"kind":"Event","auditID":"id1","stage":"ResponseComplete","verb":"create","objectRef":{"resource":"pods","subresource":"exec"},"stageTimestamp":"2024-05-01T10:00:00Z"}"#,
    );
    let ev = &out.events[0];
    assert_eq!(ev.audit_id(), Some("id1"));
    assert_eq!(ev.stage(), Some("ResponseComplete"));
    assert_eq!(ev.verb(), Some("create"));
    assert_eq!(ev.resource(), Some("pods"));
    assert_eq!(ev.subresource(), Some("exec"));
    let out = parse(
        r#"{"kind":"Event","verb":1,"objectRef":[],"stageTimestamp":"2024-05-01T10:00:00Z"}"#,
    );
    let ev = &out.events[0];
    assert_eq!(ev.verb(), None);
    assert_eq!(ev.resource(), None);
    assert_eq!(ev.subresource(), None);
    assert_eq!(ev.stage(), None);
}

#[test]
fn keep_valid_siblings_reports_and_keeps_good_items() {
    let payload = r#"[{"kind":"Event","auditID":"x","stageTimestamp":"2024-05-01T10:00:00Z"},{"kind":"Foo"}]"#;
    let plugin = parse_payload(payload.as_bytes(), &ParseOptions::default());
    assert!(plugin.events.is_empty());
    assert_eq!(plugin.errors, [PayloadError::NotRecognized]);
    let lenient = parse_payload(
        payload.as_bytes(),
        &ParseOptions {
            keep_valid_siblings: true,
            ..Default::default()
        },
    );
    assert_eq!(lenient.events.len(), 1);
    assert_eq!(lenient.errors, [PayloadError::NotRecognized]);
}
