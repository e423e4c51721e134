//! The shared conformance corpus (`/work/shared/corpus/events/`), read in place, one payload
//! per non-empty line as the plugin's file reader does.

mod common;

use std::path::{Path, PathBuf};

use common::get;
use falco_rs_k8saudit::{parse_payload, AuditEvent, ParseOptions, PayloadError};

fn corpus_dir(sub: &str) -> Option<PathBuf> {
    let base = std::env::var_os("FALCO_RS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        });
    let dir = base.join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("corpus directory {} not found; skipping", dir.display());
        None
    }
}

struct FileResult {
    name: String,
    objects: usize,
    events: Vec<AuditEvent>,
    errors: Vec<PayloadError>,
}

fn parse_dir(dir: &Path, ext: &str) -> Vec<FileResult> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("read corpus dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read corpus file");
            let mut r = FileResult {
                name: p.file_name().expect("name").to_string_lossy().into_owned(),
                objects: 0,
                events: Vec::new(),
                errors: Vec::new(),
            };
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                r.objects += 1;
                let out = parse_payload(line.as_bytes(), &ParseOptions::default());
                r.events.extend(out.events);
                r.errors.extend(out.errors);
            }
            r
        })
        .collect()
}

fn one<'a>(results: &'a [FileResult], name: &str) -> &'a AuditEvent {
    let r = results
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("{name} not in corpus"));
    assert_eq!(r.events.len(), 1, "{name}");
    &r.events[0]
}

fn val(ev: &AuditEvent, field: &str) -> Option<Vec<String>> {
    get(ev, field)
}

fn s(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|x| x.to_string()).collect())
}

#[test]
fn k8s_audit_trace_files() {
    let Some(dir) = corpus_dir("events/k8s_audit") else {
        return;
    };
    let results = parse_dir(&dir, "json");
    assert_eq!(results.len(), 47);
    let objects: usize = results.iter().map(|r| r.objects).sum();
    let events: usize = results.iter().map(|r| r.events.len()).sum();
    assert_eq!(objects, 52);
    assert_eq!(events, 51);
    for r in &results {
        if r.name == "fal_01_003.json" {
            assert_eq!(r.errors, [PayloadError::NotRecognized]);
            assert!(r.events.is_empty());
        } else {
            assert!(r.errors.is_empty(), "{}: {:?}", r.name, r.errors);
            assert_eq!(r.events.len(), r.objects, "{}", r.name);
        }
    }

    let ev = one(&results, "create_nginx_pod_privileged.json");
    assert_eq!(val(ev, "ka.req.pod.containers.privileged"), s(&["true"]));
    assert_eq!(val(ev, "ka.req.container.privileged"), s(&["true"]));
    assert_eq!(val(ev, "ka.verb"), s(&["create"]));
    assert_eq!(val(ev, "ka.target.resource"), s(&["pods"]));
    assert_eq!(val(ev, "jevt.value[/stage]"), s(&["ResponseComplete"]));
    assert_eq!(
        val(ev, "ka.req.pod.containers.image.repository"),
        s(&["nginx"])
    );

    let ev = one(&results, "create_nginx_pod_unprivileged.json");
    assert_eq!(val(ev, "ka.req.container.privileged"), s(&["false"]));

    let ev = one(&results, "create_nginx_pod_privileged_2nd_container.json");
    let privileged = val(ev, "ka.req.pod.containers.privileged").expect("privileged");
    assert!(privileged.contains(&"true".to_string()), "{privileged:?}");

    let ev = one(&results, "create_nginx_pod_hostnetwork.json");
    assert_eq!(val(ev, "ka.req.pod.host_network"), s(&["true"]));

    let ev = one(&results, "create_nginx_pod_sensitive_mount.json");
    let paths = val(ev, "ka.req.pod.volumes.hostpath").expect("hostpath");
    assert!(!paths.is_empty());
    assert_eq!(
        val(ev, &format!("ka.req.volume.hostpath[{}]", paths[0])),
        s(&["true"])
    );

    let ev = one(&results, "exec_pod.json");
    assert_eq!(val(ev, "ka.target.subresource"), s(&["exec"]));
    assert_eq!(val(ev, "ka.uri.param[command]"), s(&["bash"]));
    assert_eq!(val(ev, "jevt.value[/stage]"), s(&["ResponseStarted"]));
    assert_eq!(val(ev, "ka.target.pod.name"), None);

    let ev = one(&results, "attach_cluster_admin_role.json");
    assert_eq!(val(ev, "ka.req.binding.role"), s(&["cluster-admin"]));

    let ev = one(&results, "create_cluster_role_wildcard_verbs.json");
    let verbs = val(ev, "ka.req.role.rules.verbs").expect("verbs");
    assert!(verbs.contains(&"*".to_string()), "{verbs:?}");

    let ev = one(&results, "create_nginx_service_nonodeport.json");
    assert_eq!(val(ev, "ka.target.resource"), s(&["services"]));

    let ev = one(&results, "anonymous_creates_namespace_foo.json");
    assert_eq!(val(ev, "ka.user.name"), s(&["system:anonymous"]));

    // every field extracts without panicking on every corpus event
    for r in &results {
        for ev in &r.events {
            for f in common::all_field_variants() {
                let _ = get(ev, &f);
            }
        }
    }
}

#[test]
fn psp_trace_files() {
    let Some(dir) = corpus_dir("events/psp") else {
        return;
    };
    let results = parse_dir(&dir, "json");
    let objects: usize = results.iter().map(|r| r.objects).sum();
    let events: usize = results.iter().map(|r| r.events.len()).sum();
    assert_eq!(objects, 32);
    assert_eq!(
        events,
        32,
        "{:?}",
        results.iter().flat_map(|r| &r.errors).collect::<Vec<_>>()
    );
    for r in &results {
        for ev in &r.events {
            assert!(get(ev, "ka.auditid").is_some(), "{}", r.name);
        }
    }
}

#[test]
fn audit2rbac_recording_has_no_stage_timestamp() {
    let Some(dir) = corpus_dir("events/realworld/audit2rbac") else {
        return;
    };
    let results = parse_dir(&dir, "log");
    assert_eq!(results.len(), 2);
    let objects: usize = results.iter().map(|r| r.objects).sum();
    assert_eq!(objects, 794);
    for r in &results {
        assert!(r.events.is_empty(), "{}", r.name);
        assert!(
            r.errors.iter().all(|e| *e == PayloadError::NoTimestamp),
            "{}",
            r.name
        );
        assert_eq!(r.errors.len(), r.objects);
    }
}
