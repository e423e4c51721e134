//! The stored payload of every corpus event is exactly serde_json's compact
//! serialisation of the input (the representation falco-rs used before the tape), and
//! parsing accepts and rejects the same lines as serde_json.
#![allow(clippy::unwrap_used)]

use falco_rs_k8saudit::{parse_payload, ParseOptions, PayloadError};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn payloads_are_serde_json_compact_text() {
    let mut paths = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/events");
    files(&root, &mut paths);
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata"),
        &mut paths,
    );
    let mut checked = 0;
    for p in paths {
        let Ok(data) = std::fs::read(&p) else {
            continue;
        };
        for line in data.split(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let out = parse_payload(line, &ParseOptions::default());
            let serde: Result<serde_json::Value, _> = serde_json::from_slice(line);
            match &serde {
                Err(_) => assert!(
                    matches!(&out.errors[..], [PayloadError::Json(_)]),
                    "{}: serde rejects, we do not",
                    p.display()
                ),
                Ok(v) => {
                    assert!(
                        !matches!(&out.errors[..], [PayloadError::Json(_)]),
                        "{}",
                        p.display()
                    );
                    if v.get("kind").and_then(|k| k.as_str()) == Some("Event") {
                        if let [ev] = &out.events[..] {
                            assert_eq!(ev.payload(), v.to_string(), "{}", p.display());
                            checked += 1;
                        }
                    }
                }
            }
            for ev in &out.events {
                let v: serde_json::Value = serde_json::from_str(ev.payload()).unwrap();
                assert_eq!(ev.payload(), v.to_string());
            }
        }
    }
    assert!(checked > 50, "{checked} events checked");
}
