//! EKS source integration tests against a real CloudWatch Logs emulator (moto server,
//! started on loopback by the tests; `.ci/run` installs it with pip).

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_cloudwatchlogs::Client;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const RULE: &str = "- rule: Audit Event Seen\n  desc: every audit event\n  condition: ka.auditid exists\n  output: id=%ka.auditid\n  priority: INFORMATIONAL\n  source: k8s_audit\n";

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("falco-rs-eks-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A moto server on loopback, killed on drop.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start_on(port: u16) -> Moto {
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "moto_server must be installed (pip install 'moto[server]'); .ci/run installs it",
            );
        wait_until("moto server", Duration::from_secs(30), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Moto { child, port }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn client(rt: &tokio::runtime::Runtime, port: u16) -> Client {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let conf = rt.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(http)
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .load(),
    );
    Client::new(&conf)
}

fn setup_group(rt: &tokio::runtime::Runtime, c: &Client, cluster: &str, streams: &[&str]) {
    let group = format!("/aws/eks/{cluster}/cluster");
    rt.block_on(c.create_log_group().log_group_name(&group).send())
        .expect("create group");
    for s in streams {
        rt.block_on(
            c.create_log_stream()
                .log_group_name(&group)
                .log_stream_name(*s)
                .send(),
        )
        .expect("create stream");
    }
}

fn audit_event(id: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{id}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{{"username":"system:serviceaccount:kube-system:replicaset-controller"}},"objectRef":{{"resource":"pods","namespace":"default"}},"responseStatus":{{"code":200}},"stageTimestamp":"2024-05-01T10:00:00.000000Z"}}"#
    )
}

fn put(
    rt: &tokio::runtime::Runtime,
    c: &Client,
    cluster: &str,
    stream: &str,
    events: &[(i64, String)],
) {
    let group = format!("/aws/eks/{cluster}/cluster");
    let logs: Vec<InputLogEvent> = events
        .iter()
        .map(|(ts, m)| {
            InputLogEvent::builder()
                .timestamp(*ts)
                .message(m)
                .build()
                .expect("event")
        })
        .collect();
    rt.block_on(
        c.put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(logs))
            .send(),
    )
    .expect("put_log_events");
}

/// falco-rs with the EKS source; alerts go to a JSON file.
struct Falco {
    child: Child,
    alerts: PathBuf,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Falco {
    fn start(dir: &Path, endpoint_port: u16, cluster: &str, init: &str) -> Falco {
        let rules = dir.join("rules.yaml");
        std::fs::write(&rules, RULE).expect("rules");
        let alerts = dir.join("alerts.json");
        let mut child = Command::new(env!("CARGO_BIN_EXE_falco-rs"))
            .args(["-r", &rules.to_string_lossy()])
            .args([
                "-o",
                "plugins[0].name=k8saudit-eks",
                "-o",
                &format!("plugins[0].open_params={cluster}"),
            ])
            .args(["-o", &format!("plugins[0].init_config={init}")])
            .args([
                "-o",
                "load_plugins=[k8saudit-eks, json]",
                "-o",
                "json_output=true",
            ])
            .args([
                "-o",
                "stdout_output.enabled=false",
                "-o",
                "file_output.enabled=true",
            ])
            .args(["-o", &format!("file_output.filename={}", alerts.display())])
            .env(
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{endpoint_port}"),
            )
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("TZ", "UTC")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn falco-rs");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("stderr");
        let s2 = stderr.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Ok(mut s) = s2.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        Falco {
            child,
            alerts,
            stderr,
            reader: Some(reader),
        }
    }

    /// auditIDs alerted so far (with repetitions).
    fn ids(&self) -> Vec<String> {
        std::fs::read_to_string(&self.alerts)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| {
                v["output_fields"]["ka.auditid"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn stop(mut self) -> (i32, String) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        let code = loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                break s.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("falco-rs did not stop: {}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        (code, self.stderr())
    }
}

fn counts(ids: &[String]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for id in ids {
        *m.entry(id.clone()).or_insert(0) += 1;
    }
    m
}

#[test]
fn nothing_missed_nothing_twice_across_pages_late_events_and_a_restart() {
    let dir = tmpdir("exactly-once");
    let moto = Moto::start_on(free_port());
    let rt = runtime();
    let c = client(&rt, moto.port);
    let cluster = "prod";
    setup_group(
        &rt,
        &c,
        cluster,
        &[
            "kube-apiserver-audit-1",
            "kube-apiserver-audit-2",
            "kube-apiserver-bbbb",
        ],
    );
    let t0 = now_ms() - 30_000;
    // 20 events in one millisecond across two streams, more than several pages of 3.
    let same_ms: Vec<(i64, String)> = (0..10)
        .map(|i| (t0, audit_event(&format!("same-ms-a-{i}"))))
        .collect();
    put(&rt, &c, cluster, "kube-apiserver-audit-1", &same_ms);
    let same_ms_b: Vec<(i64, String)> = (0..10)
        .map(|i| (t0, audit_event(&format!("same-ms-b-{i}"))))
        .collect();
    put(&rt, &c, cluster, "kube-apiserver-audit-2", &same_ms_b);
    // A noise stream that is not the audit log.
    put(
        &rt,
        &c,
        cluster,
        "kube-apiserver-bbbb",
        &[(t0, audit_event("noise-1"))],
    );
    let checkpoint = dir.join("checkpoint.json");
    let init = format!(
        "{{\"shift\": 120, \"polling_interval\": 1, \"lookback\": 600, \"page_size\": 3, \"checkpoint_file\": \"{}\"}}",
        checkpoint.display()
    );
    let falco = Falco::start(&dir, moto.port, cluster, &init);
    wait_until("the first 20 events", Duration::from_secs(60), || {
        falco.ids().len() >= 20
    });
    // Late events: older than everything processed so far, ingested now.
    let late: Vec<(i64, String)> = (0..4)
        .map(|i| (t0 - 10_000, audit_event(&format!("late-{i}"))))
        .collect();
    put(&rt, &c, cluster, "kube-apiserver-audit-2", &late);
    // More events at the boundary millisecond.
    let boundary: Vec<(i64, String)> = (0..3)
        .map(|i| (t0, audit_event(&format!("boundary-{i}"))))
        .collect();
    put(&rt, &c, cluster, "kube-apiserver-audit-1", &boundary);
    wait_until("late and boundary events", Duration::from_secs(60), || {
        falco.ids().len() >= 27
    });
    std::thread::sleep(Duration::from_millis(2500)); // a few more polls over the same window
    let first_ids = falco.ids();
    let (code, err) = falco.stop();
    assert_eq!(code, 0, "{err}");
    assert!(checkpoint.exists());

    // While stopped: new events, then a restart from the checkpoint.
    let later: Vec<(i64, String)> = (0..5)
        .map(|i| (now_ms(), audit_event(&format!("while-down-{i}"))))
        .collect();
    put(&rt, &c, cluster, "kube-apiserver-audit-1", &later);
    let falco = Falco::start(&dir, moto.port, cluster, &init);
    wait_until("events put while stopped", Duration::from_secs(60), || {
        falco.ids().len() >= first_ids.len() + 5
    });
    std::thread::sleep(Duration::from_millis(2500));
    let (code, err) = falco.stop();
    assert_eq!(code, 0, "{err}");
    let all = falco_ids_file(&dir);
    let got = counts(&all);
    let mut want: Vec<String> = (0..10).map(|i| format!("same-ms-a-{i}")).collect();
    want.extend((0..10).map(|i| format!("same-ms-b-{i}")));
    want.extend((0..4).map(|i| format!("late-{i}")));
    want.extend((0..3).map(|i| format!("boundary-{i}")));
    want.extend((0..5).map(|i| format!("while-down-{i}")));
    let want = counts(&want);
    assert_eq!(
        got, want,
        "every audit event exactly once, no noise-stream event"
    );
}

fn falco_ids_file(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("alerts.json"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            v["output_fields"]["ka.auditid"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

/// Forwards HTTP requests to `target`, first answering `throttle` requests with
/// CloudWatch's ThrottlingException.
fn fault_proxy(listener: TcpListener, target: u16, throttle: usize) -> Arc<AtomicUsize> {
    let served = Arc::new(AtomicUsize::new(0));
    let s2 = served.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut client) = conn else { continue };
            let n = s2.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
                let mut reader = BufReader::new(client.try_clone().expect("clone"));
                let mut head = Vec::new();
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    if !lower.starts_with("connection:") {
                        head.push(line);
                    }
                }
                let mut body = vec![0; len];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                if n < throttle {
                    let msg = br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
                    let resp = format!(
                        "HTTP/1.1 400 Bad Request\r\nx-amzn-ErrorType: ThrottlingException\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        msg.len()
                    );
                    let _ = client.write_all(resp.as_bytes());
                    let _ = client.write_all(msg);
                    return;
                }
                let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", target)) else {
                    return;
                };
                let mut req = head.concat();
                req.push_str("Connection: close\r\n\r\n");
                if upstream
                    .write_all(req.as_bytes())
                    .and_then(|_| upstream.write_all(&body))
                    .is_err()
                {
                    return;
                }
                let mut resp = Vec::new();
                let _ = upstream.read_to_end(&mut resp);
                let _ = client.write_all(&resp);
            });
        }
    });
    served
}

#[test]
fn unreachable_endpoint_and_throttling_are_survived() {
    let dir = tmpdir("faults");
    let moto = Moto::start_on(free_port());
    let rt = runtime();
    let c = client(&rt, moto.port);
    let cluster = "flaky";
    setup_group(&rt, &c, cluster, &["kube-apiserver-audit-x"]);
    let t0 = now_ms() - 5_000;
    put(
        &rt,
        &c,
        cluster,
        "kube-apiserver-audit-x",
        &(0..6)
            .map(|i| (t0, audit_event(&format!("flaky-{i}"))))
            .collect::<Vec<_>>(),
    );
    // Nothing listens on the proxy port yet: the endpoint is unreachable.
    let proxy_port = free_port();
    let falco = Falco::start(
        &dir,
        proxy_port,
        cluster,
        "{\"shift\": 60, \"polling_interval\": 1, \"lookback\": 600, \"page_size\": 2}",
    );
    wait_until(
        "an AWS error to be reported",
        Duration::from_secs(60),
        || falco.stderr().contains("retrying"),
    );
    // Now the endpoint answers, but throttles the first requests.
    let listener = TcpListener::bind(("127.0.0.1", proxy_port)).expect("proxy port");
    let served = fault_proxy(listener, moto.port, 6);
    wait_until(
        "all events after the faults",
        Duration::from_secs(120),
        || falco.ids().len() >= 6,
    );
    std::thread::sleep(Duration::from_millis(2000));
    let ids = falco.ids();
    let (code, err) = falco.stop();
    assert_eq!(code, 0, "{err}");
    assert!(
        served.load(Ordering::SeqCst) > 6,
        "the proxy must have throttled and then forwarded"
    );
    assert!(
        err.contains("ThrottlingException") || err.contains("Rate exceeded"),
        "{err}"
    );
    let want = counts(&(0..6).map(|i| format!("flaky-{i}")).collect::<Vec<_>>());
    assert_eq!(counts(&ids), want);
}

#[test]
fn truncated_and_non_json_lines_are_reported() {
    let dir = tmpdir("truncated");
    let moto = Moto::start_on(free_port());
    let rt = runtime();
    let c = client(&rt, moto.port);
    let cluster = "trunc";
    setup_group(&rt, &c, cluster, &["kube-apiserver-audit-t"]);
    let t0 = now_ms() - 5_000;
    let full = audit_event("kept-1");
    let truncated = format!("{}[Truncated...]", &audit_event("cut-1")[..120]);
    put(
        &rt,
        &c,
        cluster,
        "kube-apiserver-audit-t",
        &[
            (t0, full),
            (t0, truncated),
            (t0, "not json at all".to_string()),
        ],
    );
    let falco = Falco::start(
        &dir,
        moto.port,
        cluster,
        "{\"shift\": 60, \"polling_interval\": 1}",
    );
    wait_until("the valid event", Duration::from_secs(60), || {
        !falco.ids().is_empty()
    });
    wait_until("the reports", Duration::from_secs(30), || {
        falco.stderr().contains("cannot parse JSON")
    });
    let ids = falco.ids();
    let (code, err) = falco.stop();
    assert_eq!(code, 0);
    assert_eq!(ids, vec!["kept-1".to_string()]);
    assert!(
        err.contains("ALERT k8saudit-eks: audit event auditID=cut-1"),
        "{err}"
    );
    assert!(err.contains("1 truncated, 1 malformed"), "{err}");
}
