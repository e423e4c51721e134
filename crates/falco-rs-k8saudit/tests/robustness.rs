//! Malformed input never panics: thousands of truncated, byte-mutated and structurally
//! mutated versions of the Appendix A events go through `parse_payload`, and every field is
//! extracted from whatever parses.

mod common;

use std::borrow::Cow;

use common::{all_field_variants, split, ALL_EVENTS};
use falco_rs_engine::{EventView, FieldCatalog, FieldMeta};
use falco_rs_k8saudit::{parse_payload, K8sAuditCatalog, ParseOptions};
use serde_json::{json, Value};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn metas() -> Vec<FieldMeta> {
    let c = K8sAuditCatalog::new();
    all_field_variants()
        .iter()
        .map(|f| {
            let (name, arg) = split(f);
            c.resolve(name, arg).expect(f)
        })
        .collect()
}

/// Parses and extracts everything; returns the number of events delivered.
fn exercise(payload: &[u8], metas: &[FieldMeta], opts: &ParseOptions) -> usize {
    let out = parse_payload(payload, opts);
    for e in &out.errors {
        let _ = e.to_string();
    }
    let mut values: Vec<Cow<'_, str>> = Vec::new();
    for ev in &out.events {
        for m in metas {
            values.clear();
            if ev.extract(m, &mut values) {
                assert!(!values.is_empty(), "{}", m.display_name());
                if !m.is_list {
                    assert_eq!(values.len(), 1, "{}", m.display_name());
                }
            }
        }
    }
    out.events.len()
}

const BYTES: &[u8] = b"{}[]\":,0123456789-+.eEtrufalsn \\/u%;?#&=@*~\x00\xff\xc3\xa9";

fn mutate_bytes(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut v = src.to_vec();
    for _ in 0..=rng.below(3) {
        let pos = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if pos < v.len() => v[pos] = BYTES[rng.below(BYTES.len())],
            1 => v.insert(pos, BYTES[rng.below(BYTES.len())]),
            2 if pos < v.len() => {
                let end = (pos + 1 + rng.below(16)).min(v.len());
                v.drain(pos..end);
            }
            3 => {
                let start = rng.below(v.len());
                let end = (start + 1 + rng.below(64)).min(v.len());
                let chunk = v[start..end].to_vec();
                v.splice(pos..pos, chunk);
            }
            _ => v.truncate(pos),
        }
    }
    v
}

fn random_string(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "2024-05-01T10:00:00Z",
        "2024-05-01",
        "T",
        "10:00:00",
        ".123",
        "+02:00",
        "Z",
        "-",
        ":",
        "/api/v1/pods",
        "?",
        "&",
        "=",
        "%",
        "%41",
        "%zz",
        "+",
        ";",
        "#",
        "//",
        "@",
        "[",
        "]",
        "a",
        "é",
        "\u{0}",
        "\n",
        " ",
        "*",
        "pods",
        "exec",
        "true",
        "~1",
        "~0",
        "0",
        "99",
    ];
    (0..rng.below(8))
        .map(|_| PIECES[rng.below(PIECES.len())])
        .collect()
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 3 { 8 } else { 12 }) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(false),
        3 => json!(rng.below(100_000)),
        4 => json!(-1.5e300),
        5 => json!(""),
        6 | 7 => Value::String(random_string(rng)),
        8 | 9 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            const KEYS: &[&str] = &[
                "name",
                "image",
                "securityContext",
                "privileged",
                "hostPath",
                "path",
                "ports",
                "hostPort",
                "containerPort",
                "command",
                "args",
                "kind",
                "namespace",
                "add",
                "capabilities",
                "runAsUser",
                "0",
                "",
                "items",
                "stageTimestamp",
            ];
            let mut m = serde_json::Map::new();
            for _ in 0..rng.below(4) {
                m.insert(
                    KEYS[rng.below(KEYS.len())].to_string(),
                    random_value(rng, depth + 1),
                );
            }
            Value::Object(m)
        }
    }
}

/// Replaces a random node of `v` (or deletes an object member) in place.
fn mutate_tree(rng: &mut Rng, v: &mut Value, depth: usize) {
    let stop = depth > 0 && rng.below(3) == 0;
    match v {
        Value::Object(m) if !m.is_empty() && !stop => {
            let i = rng.below(m.len());
            if rng.below(8) == 0 {
                let key = m.keys().nth(i).cloned().unwrap_or_default();
                m.remove(&key);
            } else if let Some((_, child)) = m.iter_mut().nth(i) {
                mutate_tree(rng, child, depth + 1);
            }
        }
        Value::Array(a) if !a.is_empty() && !stop => {
            let i = rng.below(a.len());
            mutate_tree(rng, &mut a[i], depth + 1);
        }
        _ => {
            if depth > 0 {
                *v = random_value(rng, depth);
            }
        }
    }
}

#[test]
fn truncated_payloads() {
    let metas = metas();
    let opts = ParseOptions::default();
    let mut parsed = 0;
    for src in ALL_EVENTS {
        let b = src.as_bytes();
        for len in 0..=b.len() {
            parsed += exercise(&b[..len], &metas, &opts);
        }
    }
    // only the complete events parse
    assert_eq!(parsed, ALL_EVENTS.len());
}

#[test]
fn byte_mutations() {
    let metas = metas();
    let opts = ParseOptions::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for src in ALL_EVENTS {
        for _ in 0..700 {
            let m = mutate_bytes(&mut rng, src.as_bytes());
            parsed += exercise(&m, &metas, &opts);
        }
    }
    assert!(parsed > 0);
}

#[test]
fn structural_mutations() {
    let metas = metas();
    let opts = ParseOptions::default();
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut parsed = 0;
    for src in ALL_EVENTS {
        let base: Value = serde_json::from_str(src).expect("reference event");
        for round in 0..450 {
            let mut v = base.clone();
            for _ in 0..=rng.below(4) {
                mutate_tree(&mut rng, &mut v, 0);
            }
            if round % 5 == 0 {
                v["requestURI"] = Value::String(random_string(&mut rng));
            }
            if round % 7 == 0 {
                v["stageTimestamp"] = Value::String(random_string(&mut rng));
            }
            let text = match round % 3 {
                0 => v.to_string(),
                1 => json!([v, {"kind": "EventList", "items": [v.clone()]}]).to_string(),
                _ => json!({"kind": "EventList", "items": [v, 1, [], null]}).to_string(),
            };
            parsed += exercise(text.as_bytes(), &metas, &opts);
        }
    }
    assert!(parsed > 1000, "{parsed}");
}

#[test]
fn deep_and_odd_payloads() {
    let metas = metas();
    let opts = ParseOptions::default();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(exercise(deep.as_bytes(), &metas, &opts), 0);
    let deep_obj = format!(
        r#"{{"kind":"Event","auditID":"d","stageTimestamp":"2024-05-01T10:00:00Z","requestObject":{}1{}}}"#,
        "{\"spec\":[".repeat(5000),
        "]}".repeat(5000)
    );
    let _ = exercise(deep_obj.as_bytes(), &metas, &opts);
    let nested_ok = format!(
        "{}{}{}",
        "[".repeat(100),
        r#"{"kind":"Event","auditID":"n","stageTimestamp":"2024-05-01T10:00:00Z"}"#,
        "]".repeat(100)
    );
    assert_eq!(exercise(nested_ok.as_bytes(), &metas, &opts), 1);
    for odd in [
        &b"\xff\xfe"[..],
        b"{\"kind\":\"Event\",\"stageTimestamp\":\"\xc3\"}",
        b"{\"kind\":\"Event\",\"stageTimestamp\":\"9999-12-31T23:59:59.999999999-23:59\"}",
        b"{\"kind\":\"Event\",\"stageTimestamp\":\"0000-01-01T00:00:00+23:59\"}",
        b"{\"kind\":\"Event\",\"auditID\":1,\"stageTimestamp\":\"2024-05-01T10:00:00Z\",\"requestURI\":\"\\u0000?a=1\"}",
        b"{\"kind\":\"Event\",\"auditID\":1,\"stageTimestamp\":\"2024-05-01T10:00:00Z\",\"requestURI\":1e308}",
        b"{\"kind\":\"Event\",\"auditID\":1,\"stageTimestamp\":\"2024-05-01T10:00:00Z\",\"n\":1e400}",
    ] {
        let _ = exercise(odd, &metas, &opts);
    }
    let tiny = ParseOptions {
        max_event_size: 0,
        ..Default::default()
    };
    assert_eq!(exercise(common::POD.as_bytes(), &metas, &tiny), 0);
}
