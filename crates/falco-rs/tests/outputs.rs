//! Output channel tests: http_output to a local receiver, program_output, file output,
//! and a receiver that is down for a while or for good.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Alerts the events of `events_file` raise (one configmap file holds six events).
const ALERTS: usize = 10;

fn corpus(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("falco-rs-outputs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Corpus events that raise exactly ALERTS alerts under the official rules.
fn events_file(dir: &Path) -> PathBuf {
    let mut lines = Vec::new();
    for f in [
        "create_nginx_pod_privileged.json",
        "create_nginx_pod_hostnetwork.json",
        "create_configmap_sensitive_values.json",
        "attach_cluster_admin_role.json",
        "create_nginx_service_nodeport.json",
    ] {
        lines.push(
            std::fs::read_to_string(corpus(&format!("events/k8s_audit/{f}")))
                .expect("event")
                .trim()
                .to_string(),
        );
    }
    let p = dir.join("events.jsonl");
    std::fs::write(&p, lines.join("\n")).expect("write");
    p
}

fn falco(events: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_falco-rs"))
        .args(["-r", &corpus("rules/k8s_audit_rules.v0.18.0.yaml")])
        .args([
            "-o",
            &format!("plugins[0].open_params={}", events.display()),
        ])
        .args(["-o", "json_output=true"])
        .args(extra)
        .env("TZ", "UTC")
        .env("FALCO_HOSTNAME", "test-host")
        .output()
        .expect("run falco-rs")
}

fn stdout_alerts(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(str::to_string)
        .collect()
}

/// A tiny HTTP receiver: answers `fail_first` requests with 503, then 200; records bodies.
/// Bodies received, with their content type.
type Bodies = Arc<Mutex<Vec<(String, String)>>>;

fn receiver(fail_first: usize) -> (u16, Bodies, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let hits = Arc::new(AtomicUsize::new(0));
    let (b2, h2) = (bodies.clone(), hits.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            let mut reader = BufReader::new(s.try_clone().expect("clone"));
            loop {
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                    break;
                }
                let mut len = 0;
                let mut ctype = String::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    let lower = h.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    if let Some(v) = lower.strip_prefix("content-type:") {
                        ctype = v.trim().to_string();
                    }
                }
                let mut body = vec![0; len];
                if reader.read_exact(&mut body).is_err() {
                    break;
                }
                let n = h2.fetch_add(1, Ordering::SeqCst);
                let status = if n < fail_first {
                    "503 Service Unavailable"
                } else {
                    "200 OK"
                };
                if n >= fail_first {
                    if let Ok(mut b) = b2.lock() {
                        b.push((ctype, String::from_utf8_lossy(&body).into_owned()));
                    }
                }
                let _ = s.write_all(
                    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes(),
                );
            }
        }
    });
    (port, bodies, hits)
}

#[test]
fn http_output_posts_falcosidekick_json_for_every_alert() {
    let dir = tmpdir("http");
    let events = events_file(&dir);
    let reference = stdout_alerts(&falco(&events, &[]));
    assert_eq!(reference.len(), ALERTS);
    let (port, bodies, _) = receiver(0);
    let out = falco(
        &events,
        &[
            "-o",
            "stdout_output.enabled=false",
            "-o",
            "http_output.enabled=true",
            "-o",
            &format!("http_output.url=http://127.0.0.1:{port}/"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = bodies.lock().expect("bodies").clone();
    assert_eq!(got.len(), ALERTS);
    for ((ctype, body), want) in got.iter().zip(&reference) {
        assert_eq!(ctype, "application/json");
        assert_eq!(body, want);
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        for key in [
            "hostname",
            "output",
            "output_fields",
            "priority",
            "rule",
            "source",
            "tags",
            "time",
        ] {
            assert!(v.get(key).is_some(), "missing {key} in {body}");
        }
        assert_eq!(v["hostname"], "test-host");
        assert_eq!(v["source"], "k8s_audit");
    }
}

#[test]
fn http_output_retries_while_the_receiver_is_down() {
    let dir = tmpdir("http-retry");
    let events = events_file(&dir);
    let (port, bodies, hits) = receiver(3);
    let out = falco(
        &events,
        &[
            "-o",
            "stdout_output.enabled=false",
            "-o",
            "http_output.enabled=true",
            "-o",
            &format!("http_output.url=http://127.0.0.1:{port}/alerts"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        bodies.lock().expect("bodies").len(),
        ALERTS,
        "every alert delivered after retries"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        ALERTS + 3,
        "3 failed attempts, then every delivery"
    );
}

#[test]
fn unreachable_http_receiver_counts_and_reports_drops_without_blocking_stdout() {
    let dir = tmpdir("http-down");
    let events = events_file(&dir);
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let out = falco(
        &events,
        &[
            "-o",
            "http_output.enabled=true",
            "-o",
            &format!("http_output.url=http://127.0.0.1:{port}/"),
            "-o",
            "http_output.max_attempts=2",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        stdout_alerts(&out).len(),
        ALERTS,
        "stdout still gets every alert"
    );
    assert!(
        err.contains("http output error (#1): gave up after 2 attempts"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{ALERTS} alerts could not be written")),
        "{err}"
    );
}

#[test]
fn program_and_file_outputs_get_every_alert() {
    let dir = tmpdir("program");
    let events = events_file(&dir);
    for keep_alive in ["true", "false"] {
        let prog_out = dir.join(format!("program-{keep_alive}.txt"));
        let file_out = dir.join(format!("file-{keep_alive}.txt"));
        let out = falco(
            &events,
            &[
                "-o",
                "json_output=false",
                "-o",
                "stdout_output.enabled=false",
                "-o",
                "program_output.enabled=true",
                "-o",
                &format!("program_output.keep_alive={keep_alive}"),
                "-o",
                &format!("program_output.program=cat >> {}", prog_out.display()),
                "-o",
                "file_output.enabled=true",
                "-o",
                &format!("file_output.keep_alive={keep_alive}"),
                "-o",
                &format!("file_output.filename={}", file_out.display()),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let prog = std::fs::read_to_string(&prog_out).expect("program output");
        let file = std::fs::read_to_string(&file_out).expect("file output");
        assert_eq!(prog.lines().count(), ALERTS, "{prog}");
        assert_eq!(prog, file);
        assert!(
            prog.lines().all(|l| l.contains(": Warning ")
                || l.contains(": Notice ")
                || l.contains(": Informational ")),
            "{prog}"
        );
    }
}
