//! Hot reload: SIGHUP and watched files swap the ruleset between events while the
//! webhook keeps serving; a broken rules file is rejected and the old rules keep
//! running; no event is lost or evaluated twice across reloads.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("falco-rs-reload-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn rule(name: &str) -> String {
    format!("- rule: {name}\n  desc: every event\n  condition: ka.auditid exists\n  output: {name} id=%ka.auditid\n  priority: WARNING\n  source: k8s_audit\n")
}

fn event(id: usize) -> String {
    format!(
        r#"{{"kind":"Event","auditID":"ev-{id}","stage":"ResponseComplete","verb":"get","stageTimestamp":"2024-05-01T10:00:00Z"}}"#
    )
}

fn post(addr: &str, ids: std::ops::Range<usize>) -> u16 {
    let body = format!(
        "{{\"kind\":\"EventList\",\"items\":[{}]}}",
        ids.map(event).collect::<Vec<_>>().join(",")
    );
    let mut s = TcpStream::connect(addr).expect("connect");
    let req = format!(
        "POST /k8s-audit HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

struct Server {
    child: Child,
    addr: String,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
}

impl Server {
    fn start(rules: &std::path::Path, watch: bool) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_falco-rs"))
            .args(["-r", &rules.to_string_lossy()])
            .args(["-o", "plugins[0].open_params=http://127.0.0.1:0/k8s-audit"])
            .args(["-o", &format!("watch_config_files={watch}")])
            .env("TZ", "UTC")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let (e2, o2) = (stderr.clone(), stdout.clone());
        let err = child.stderr.take().expect("stderr");
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(i) = line.find("webhook listening on http://") {
                    let rest = &line[i + "webhook listening on http://".len()..];
                    let _ = tx.send(rest.split('/').next().unwrap_or("").to_string());
                }
                if let Ok(mut s) = e2.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(mut s) = o2.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server started");
        Server {
            child,
            addr,
            stderr,
            stdout,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn stdout(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status();
    }

    fn wait_for(&self, what: &str, f: impl Fn(&Server) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !f(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(mut self) -> (i32, String, String) {
        self.signal("-TERM");
        let status = self.child.wait().expect("wait");
        std::thread::sleep(Duration::from_millis(100));
        (status.code().unwrap_or(-1), self.stdout(), self.stderr())
    }
}

fn count(out: &str, rule: &str) -> usize {
    out.lines()
        .filter(|l| l.contains(&format!(": Warning {rule} id=")))
        .count()
}

#[test]
fn watched_rules_reload_and_a_broken_file_keeps_the_old_rules() {
    let dir = tmpdir("watch");
    let rules = dir.join("rules.yaml");
    std::fs::write(&rules, rule("Rule A")).expect("rules");
    let server = Server::start(&rules, true);
    assert_eq!(post(&server.addr, 0..2), 200);
    server.wait_for("rule A alerts", |s| count(&s.stdout(), "Rule A") == 2);

    std::fs::write(&rules, rule("Rule B")).expect("rules");
    server.wait_for("the reload", |s| s.stderr().contains("rules reloaded"));
    assert_eq!(post(&server.addr, 2..5), 200);
    server.wait_for("rule B alerts", |s| count(&s.stdout(), "Rule B") == 3);

    std::fs::write(&rules, "- rule: Broken\n  condition: ka.verb =\n").expect("rules");
    server.wait_for("the rejected reload", |s| {
        s.stderr()
            .contains("reload failed, keeping the previous rules")
    });
    assert_eq!(post(&server.addr, 5..6), 200);
    server.wait_for("rule B still alerting", |s| {
        count(&s.stdout(), "Rule B") == 4
    });
    let (code, out, err) = server.stop();
    assert_eq!(code, 0, "{err}");
    assert_eq!((count(&out, "Rule A"), count(&out, "Rule B")), (2, 4));
}

#[test]
fn sighup_reloads_during_load_lose_nothing() {
    let dir = tmpdir("sighup");
    let rules = dir.join("rules.yaml");
    std::fs::write(&rules, rule("Rule A")).expect("rules");
    let server = Server::start(&rules, false);
    let addr = server.addr.clone();
    let sender = std::thread::spawn(move || {
        let mut sent = 0;
        for b in 0..40 {
            while post(&addr, b * 50..(b + 1) * 50) != 200 {
                std::thread::sleep(Duration::from_millis(5));
            }
            sent += 50;
            std::thread::sleep(Duration::from_millis(5));
        }
        sent
    });
    for i in 0..5 {
        std::thread::sleep(Duration::from_millis(40));
        std::fs::write(&rules, rule(if i % 2 == 0 { "Rule B" } else { "Rule A" })).expect("rules");
        server.signal("-HUP");
    }
    let sent = sender.join().expect("sender");
    let (code, out, err) = server.stop();
    assert_eq!(code, 0, "{err}");
    assert_eq!(sent, 2000);
    assert_eq!(
        count(&out, "Rule A") + count(&out, "Rule B"),
        2000,
        "every event evaluated exactly once"
    );
    assert!(err.matches("rules reloaded").count() >= 1, "{err}");
}
