//! Webhook integration tests: the real binary on a loopback port, real HTTP and TLS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(rel)
}

fn rules() -> String {
    corpus("rules/k8s_audit_rules.v0.18.0.yaml")
        .to_string_lossy()
        .into_owned()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("falco-rs-webhook-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A privileged-pod event (one alert of "Create Privileged Pod") with a unique auditID.
fn privileged_event(i: usize) -> String {
    let base = std::fs::read_to_string(corpus("events/k8s_audit/create_nginx_pod_privileged.json"))
        .expect("corpus event");
    base.trim().replace(
        "a362d22b-db3c-4590-9505-23782f12925f",
        &format!("00000000-0000-0000-0000-{i:012}"),
    )
}

fn event_list(events: &[String]) -> String {
    format!(
        "{{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[{}]}}",
        events.join(",")
    )
}

struct Server {
    child: Child,
    addr: String,
    admin: Arc<Mutex<Option<String>>>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(scheme: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_falco-rs"));
        cmd.args(["-r", &rules()])
            .args([
                "-o",
                &format!("plugins[0].open_params={scheme}://127.0.0.1:0/k8s-audit"),
            ])
            .args(["-o", "json_output=true"])
            .args(extra)
            .env("TZ", "UTC")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn falco-rs");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let err_pipe = child.stderr.take().expect("stderr");
        let out_pipe = child.stdout.take().expect("stdout");
        let e2 = stderr.clone();
        let admin = Arc::new(Mutex::new(None));
        let a2 = admin.clone();
        let r1 = std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                if let Some(i) = line.find("webserver listening on ") {
                    if let Ok(mut a) = a2.lock() {
                        *a = Some(
                            line[i + "webserver listening on ".len()..]
                                .trim()
                                .to_string(),
                        );
                    }
                }
                if let Some(i) = line.find("webhook listening on ") {
                    let url = &line[i + "webhook listening on ".len()..];
                    let hostport = url
                        .split("://")
                        .nth(1)
                        .unwrap_or("")
                        .split('/')
                        .next()
                        .unwrap_or("");
                    let _ = tx.send(hostport.to_string());
                }
                if let Ok(mut s) = e2.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        let o2 = stdout.clone();
        let r2 = std::thread::spawn(move || {
            let mut buf = String::new();
            let _ = BufReader::new(out_pipe).read_to_string(&mut buf);
            if let Ok(mut s) = o2.lock() {
                s.push_str(&buf);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "server did not start: {}",
                    stderr.lock().map(|s| s.clone()).unwrap_or_default()
                );
            }
        };
        Server {
            child,
            addr,
            admin,
            stdout,
            stderr,
            readers: vec![r1, r2],
        }
    }

    /// SIGTERM, wait, and return (exit code, stdout, stderr).
    fn stop(mut self) -> (i32, String, String) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("server did not stop after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let out = self.stdout.lock().map(|s| s.clone()).unwrap_or_default();
        let err = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        (status.code().unwrap_or(-1), out, err)
    }
}

/// Response status and body.
struct Resp {
    status: u16,
    body: String,
}

fn parse_response(raw: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Resp { status, body }
}

fn request_bytes(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(&request_bytes(method, path, headers, body))
        .expect("write");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw)
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

fn post(addr: &str, body: &str) -> Resp {
    http(addr, "POST", "/k8s-audit", &[JSON], body)
}

/// Rule names of the JSON alerts on stdout.
fn alert_rules(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("alert json");
            v["rule"].as_str().unwrap_or("").to_string()
        })
        .collect()
}

fn alert_outputs(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("alert json");
            format!(
                "{}|{}",
                v["rule"].as_str().unwrap_or(""),
                v["output"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn batches_over_http_alert_like_a_file_replay() {
    let dir = tmpdir("replay");
    let mut events = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus("events/k8s_audit"))
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for f in files {
        for line in std::fs::read_to_string(&f).expect("read").lines() {
            if line.contains("\"kind\":\"Event\"") || line.contains("\"kind\": \"Event\"") {
                events.push(line.trim().to_string());
            }
        }
    }
    assert!(events.len() >= 40, "corpus events: {}", events.len());
    let file = dir.join("all.jsonl");
    std::fs::write(&file, events.join("\n")).expect("write");
    let replay = Command::new(env!("CARGO_BIN_EXE_falco-rs"))
        .args([
            "-r",
            &rules(),
            "-o",
            &format!("plugins[0].open_params={}", file.display()),
            "-o",
            "json_output=true",
        ])
        .env("TZ", "UTC")
        .output()
        .expect("replay");
    assert!(replay.status.success());
    let want = alert_outputs(&String::from_utf8_lossy(&replay.stdout));
    assert!(!want.is_empty());

    // The corpus repeats some events (same auditID and stage) across files; a file
    // replay evaluates every line, so the comparison turns the webhook's dedup off.
    let server = Server::start(
        "http",
        &["-o", "plugins[0].init_config={\"dedupWindow\": 0}"],
        &[],
    );
    for chunk in events.chunks(7) {
        let r = post(&server.addr, &event_list(chunk));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let (code, out, err) = server.stop();
    assert_eq!(code, 0, "{err}");
    assert_eq!(alert_outputs(&out), want);
    assert!(
        out.contains(&format!("Events detected: {}", want.len())),
        "{out}"
    );
}

#[test]
fn bad_requests_get_their_status_and_the_server_stays_healthy() {
    let server = Server::start(
        "http",
        &[
            "-o",
            "plugins[0].init_config={\"webhookMaxBatchSize\": 20000}",
        ],
        &[],
    );
    let a = server.addr.clone();
    assert_eq!(http(&a, "GET", "/k8s-audit", &[], "").status, 405);
    assert_eq!(
        http(
            &a,
            "POST",
            "/k8s-audit",
            &[("Content-Type", "text/plain")],
            "{}"
        )
        .status,
        415
    );
    assert_eq!(post(&a, "{not json").status, 400);
    assert_eq!(post(&a, r#"{"kind":"Pod"}"#).status, 400);
    assert_eq!(post(&a, &format!("[{}]", "x".repeat(25000))).status, 413);
    assert_eq!(http(&a, "POST", "/other", &[JSON], "{}").status, 404);
    // One bad item (no stageTimestamp) among good ones: the good ones are processed.
    let bad = r#"{"kind":"Event","auditID":"no-ts","stage":"ResponseComplete"}"#.to_string();
    let r = post(
        &a,
        &event_list(&[privileged_event(1), bad, privileged_event(2)]),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, r#"{"accepted":2,"rejected":1}"#);
    let h = http(&a, "GET", "/healthz", &[], "");
    assert_eq!((h.status, h.body.as_str()), (200, r#"{"status":"ok"}"#));
    let (code, out, err) = server.stop();
    assert_eq!(code, 0);
    assert_eq!(alert_rules(&out), vec!["Create Privileged Pod"; 2]);
    assert!(
        err.contains("item skipped: can't read stageTimestamp"),
        "{err}"
    );
}

#[test]
fn bearer_token_is_enforced() {
    let server = Server::start(
        "http",
        &[
            "-o",
            "plugins[0].init_config={\"authTokenEnv\": \"FALCO_RS_TEST_TOKEN\"}",
        ],
        &[("FALCO_RS_TEST_TOKEN", "s3cret")],
    );
    let a = server.addr.clone();
    let body = event_list(&[privileged_event(7)]);
    assert_eq!(post(&a, &body).status, 401);
    assert_eq!(
        http(
            &a,
            "POST",
            "/k8s-audit",
            &[JSON, ("Authorization", "Bearer wrong")],
            &body
        )
        .status,
        403
    );
    assert_eq!(
        http(
            &a,
            "POST",
            "/k8s-audit",
            &[JSON, ("Authorization", "Bearer s3cret")],
            &body
        )
        .status,
        200
    );
    let (code, out, _) = server.stop();
    assert_eq!(code, 0);
    assert_eq!(alert_rules(&out).len(), 1);
}

#[test]
fn retried_deliveries_are_evaluated_once() {
    let server = Server::start("http", &[], &[]);
    let body = event_list(&[privileged_event(11), privileged_event(12)]);
    for _ in 0..3 {
        assert_eq!(post(&server.addr, &body).status, 200);
    }
    let (code, out, err) = server.stop();
    assert_eq!(code, 0);
    assert_eq!(alert_rules(&out).len(), 2);
    assert!(err.contains("4 duplicates skipped"), "{err}");
}

#[test]
fn overload_answers_503_and_retries_deliver_every_event_exactly_once() {
    let server = Server::start(
        "http",
        &["-o", "plugins[0].init_config={\"maxQueuedEvents\": 1}"],
        &[],
    );
    let addr = server.addr.clone();
    let sent = Arc::new(AtomicUsize::new(0));
    let busy = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let addr = addr.clone();
            let sent = sent.clone();
            let busy = busy.clone();
            std::thread::spawn(move || {
                for b in 0..5 {
                    let events: Vec<String> = (0..50)
                        .map(|i| privileged_event(t * 1000 + b * 100 + i))
                        .collect();
                    let body = event_list(&events);
                    let mut tries = 0;
                    loop {
                        let r = post(&addr, &body);
                        match r.status {
                            200 => break,
                            503 => {
                                busy.fetch_add(1, Ordering::Relaxed);
                                tries += 1;
                                assert!(tries < 2000, "never accepted");
                                std::thread::sleep(Duration::from_millis(5));
                            }
                            s => panic!("unexpected status {s}: {}", r.body),
                        }
                    }
                    sent.fetch_add(events.len(), Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("sender");
    }
    let (code, out, err) = server.stop();
    assert_eq!(code, 0, "{err}");
    assert!(
        busy.load(Ordering::Relaxed) > 0,
        "the queue never filled up; the test proves nothing"
    );
    assert_eq!(sent.load(Ordering::Relaxed), 1500);
    assert_eq!(alert_rules(&out).len(), 1500);
    assert!(out.contains("Create Privileged Pod: 1500"), "{out}");
}

#[test]
fn sigterm_drains_every_accepted_event() {
    let server = Server::start("http", &[], &[]);
    let mut accepted = 0;
    for b in 0..20 {
        let events: Vec<String> = (0..100)
            .map(|i| privileged_event(50_000 + b * 100 + i))
            .collect();
        if post(&server.addr, &event_list(&events)).status == 200 {
            accepted += events.len();
        }
    }
    let (code, out, _) = server.stop();
    assert_eq!(code, 0);
    assert_eq!(accepted, 2000);
    assert_eq!(alert_rules(&out).len(), accepted);
}

// ---- TLS ----

struct Pki {
    ca_pem: String,
    server_pem: String,
    client_cert: String,
    client_key: String,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().expect("server key");
    let server = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("server params")
        .signed_by(&server_key, &issuer)
        .expect("server cert");
    let client_key = KeyPair::generate().expect("client key");
    let client = CertificateParams::new(vec!["apiserver".to_string()])
        .expect("client params")
        .signed_by(&client_key, &issuer)
        .expect("client cert");
    Pki {
        ca_pem: ca.pem(),
        server_pem: format!("{}{}", server.pem(), server_key.serialize_pem()),
        client_cert: client.pem(),
        client_key: client_key.serialize_pem(),
    }
}

fn tls_post(addr: &str, pki: &Pki, with_client_cert: bool, body: &str) -> Result<Resp, String> {
    use rustls::pki_types::ServerName;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pki.ca_pem.as_bytes()) {
        roots
            .add(c.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    let config = if with_client_cert {
        let certs: Vec<_> = rustls_pemfile::certs(&mut pki.client_cert.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let key = rustls_pemfile::private_key(&mut pki.client_key.as_bytes())
            .map_err(|e| e.to_string())?
            .ok_or("no key")?;
        builder
            .with_client_auth_cert(certs, key)
            .map_err(|e| e.to_string())?
    } else {
        builder.with_no_client_auth()
    };
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let sock = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(&request_bytes("POST", "/k8s-audit", &[JSON], body))
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        Err(e) if !raw.is_empty() && e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(e.to_string()),
    }
    Ok(parse_response(&raw))
}

#[test]
fn https_and_client_certificates() {
    let dir = tmpdir("tls");
    let pki = pki();
    let pem = dir.join("falco.pem");
    let ca = dir.join("ca.pem");
    std::fs::write(&pem, &pki.server_pem).expect("pem");
    std::fs::write(&ca, &pki.ca_pem).expect("ca");
    let body = event_list(&[privileged_event(21)]);

    let server = Server::start(
        "https",
        &[
            "-o",
            &format!(
                "plugins[0].init_config={{\"sslCertificate\": \"{}\"}}",
                pem.display()
            ),
        ],
        &[],
    );
    let r = tls_post(&server.addr, &pki, false, &body).expect("https post");
    assert_eq!(r.status, 200, "{}", r.body);
    let (code, out, _) = server.stop();
    assert_eq!(code, 0);
    assert_eq!(alert_rules(&out), vec!["Create Privileged Pod"]);

    let server = Server::start(
        "https",
        &[
            "-o",
            &format!(
                "plugins[0].init_config={{\"sslCertificate\": \"{}\", \"clientCAFile\": \"{}\"}}",
                pem.display(),
                ca.display()
            ),
        ],
        &[],
    );
    assert!(
        tls_post(&server.addr, &pki, false, &body).is_err(),
        "a client without certificate must be refused"
    );
    let r = tls_post(&server.addr, &pki, true, &body).expect("mtls post");
    assert_eq!(r.status, 200);
    let (code, out, err) = server.stop();
    assert_eq!(code, 0);
    assert_eq!(alert_rules(&out), vec!["Create Privileged Pod"]);
    assert!(err.contains("TLS handshake"), "{err}");
}

/// Parses Prometheus text exposition into (series, value); fails on malformed lines.
fn parse_prometheus(text: &str) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let name_end = series.find('{').unwrap_or(series.len());
        assert!(
            series[..name_end]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad metric name in {line:?}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "bad labels in {line:?}");
        }
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        out.insert(series.to_string(), v);
    }
    out
}

#[test]
fn webserver_serves_health_versions_and_metrics_matching_the_run() {
    let server = Server::start(
        "http",
        &[
            "-o",
            "webserver.enabled=true",
            "-o",
            "webserver.listen_address=127.0.0.1",
            "-o",
            "webserver.listen_port=0",
            "-o",
            "webserver.prometheus_metrics_enabled=true",
            "-o",
            "metrics.enabled=true",
        ],
        &[],
    );
    let admin = {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(a) = server.admin.lock().ok().and_then(|a| a.clone()) {
                break a;
            }
            assert!(Instant::now() < deadline, "webserver did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let events: Vec<String> = (0..3).map(|i| privileged_event(90_000 + i)).collect();
    assert_eq!(post(&server.addr, &event_list(&events)).status, 200);
    assert_eq!(post(&server.addr, &event_list(&events[..1])).status, 200); // a retry
    assert_eq!(post(&server.addr, "{oops").status, 400);
    let h = http(&admin, "GET", "/healthz", &[], "");
    assert_eq!((h.status, h.body.as_str()), (200, r#"{"status": "ok"}"#));
    assert_eq!(http(&admin, "GET", "/readyz", &[], "").status, 200);
    let v = http(&admin, "GET", "/versions", &[], "");
    let versions: serde_json::Value = serde_json::from_str(&v.body).expect("versions json");
    assert_eq!(versions["engine_version"], "0.62.0");
    // The engine evaluates and the outputs write asynchronously: poll until the counters
    // settle (the retry's batch may still be queued when the first one has been
    // evaluated, and its alerts still on their way to stdout).
    let deadline = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let m = parse_prometheus(&http(&admin, "GET", "/metrics", &[], "").body);
        let settled = m.get("falco_rs_events_evaluated_total{source=\"k8s_audit\"}") == Some(&3.0)
            && m.get("falco_rs_events_duplicate_total{source=\"k8s_audit\"}") == Some(&1.0)
            && m.get("falco_rs_output_alerts_total{output=\"stdout\"}") == Some(&3.0);
        if settled || Instant::now() > deadline {
            break m;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        metrics["falco_rs_events_evaluated_total{source=\"k8s_audit\"}"],
        3.0
    );
    assert_eq!(
        metrics["falco_rs_events_duplicate_total{source=\"k8s_audit\"}"],
        1.0
    );
    assert_eq!(metrics["falco_rs_webhook_requests_total"], 3.0);
    assert_eq!(
        metrics["falco_rs_events_received_total{source=\"webhook\"}"],
        4.0
    );
    assert_eq!(metrics["falco_rs_webhook_client_errors_total"], 1.0);
    assert_eq!(
        metrics["falco_rs_webhook_request_duration_seconds_count"],
        3.0
    );
    assert_eq!(
        metrics["falco_rs_webhook_request_duration_seconds_bucket{le=\"+Inf\"}"],
        3.0
    );
    assert_eq!(metrics["falco_rs_rules_loaded"], 48.0);
    assert_eq!(
        metrics["falco_rs_output_alerts_total{output=\"stdout\"}"],
        3.0
    );
    let (code, out, _) = server.stop();
    assert_eq!(code, 0);
    assert_eq!(alert_rules(&out).len(), 3);
}
