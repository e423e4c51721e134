//! `parse_payload_into` appends to reused vectors exactly what `parse_payload` returns,
//! payload after payload, and an unrecognised payload delivers nothing of its own while
//! keeping what earlier payloads delivered.
#![allow(clippy::unwrap_used)]

use falco_rs_k8saudit::{parse_payload, parse_payload_into, ParseOptions, PayloadOutcome};

fn event(verb: &str, ts: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a-{verb}","stage":"ResponseComplete","verb":"{verb}","stageTimestamp":"{ts}"}}"#
    )
}

#[test]
fn into_appends_what_parse_payload_returns() {
    let ok = event("get", "2024-05-01T10:00:00.000000Z");
    let list = format!(
        r#"{{"kind":"EventList","items":[{},{}]}}"#,
        event("list", "2024-05-01T10:00:01.000000Z"),
        event("watch", "2024-05-01T10:00:02.000000Z")
    );
    let bad_time = event("create", "yesterday");
    // An array holding a non-event: the plugin drops the whole payload.
    let mixed = format!("[{},5]", event("delete", "2024-05-01T10:00:03.000000Z"));
    let payloads = [
        ok.clone(),
        list,
        "{not json".to_string(),
        bad_time,
        mixed,
        ok,
    ];
    let opts = ParseOptions::default();
    let mut reused = PayloadOutcome::default();
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    for p in &payloads {
        let before = reused.events.len();
        parse_payload_into(p.as_bytes(), &opts, &mut reused);
        let fresh = parse_payload(p.as_bytes(), &opts);
        // What was appended is what parse_payload returns for the payload alone.
        let appended: Vec<&str> = reused.events[before..]
            .iter()
            .map(|e| e.payload())
            .collect();
        let alone: Vec<&str> = fresh.events.iter().map(|e| e.payload()).collect();
        assert_eq!(appended, alone, "{p}");
        events.extend(fresh.events.iter().map(|e| e.payload().to_string()));
        errors.extend(fresh.errors.iter().map(ToString::to_string));
    }
    let kept: Vec<String> = reused
        .events
        .iter()
        .map(|e| e.payload().to_string())
        .collect();
    assert_eq!(kept, events);
    let errs: Vec<String> = reused.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errs, errors);
    // 1 + 2 + 0 + 0 + 0 (dropped whole) + 1 events; three payloads with one error each.
    assert_eq!(kept.len(), 4);
    assert_eq!(errs.len(), 3);
}
