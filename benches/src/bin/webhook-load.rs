//! Load generator for the webhook: POSTs `EventList` batches over keep-alive HTTP/1.1
//! connections and reports sustained events/s, request latency percentiles and the
//! server's peak RSS.
//!
//! `webhook-load <host:port> <path> <events.jsonl> [batch_size=400] [connections=4] [seconds=20] [server_pid]`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn read_response(r: &mut BufReader<TcpStream>) -> std::io::Result<u16> {
    let mut status_line = String::new();
    r.read_line(&mut status_line)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(status)
}

fn peak_rss_kib(pid: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

fn main() -> std::process::ExitCode {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 4 {
        eprintln!("usage: webhook-load <host:port> <path> <events.jsonl> [batch_size] [connections] [seconds] [server_pid]");
        return std::process::ExitCode::FAILURE;
    }
    let addr = a[1].clone();
    let path = a[2].clone();
    let lines: Vec<String> = match std::fs::read_to_string(&a[3]) {
        Ok(t) => t.lines().map(str::to_string).collect(),
        Err(e) => {
            eprintln!("cannot read {}: {e}", a[3]);
            return std::process::ExitCode::FAILURE;
        }
    };
    let batch: usize = a.get(4).and_then(|s| s.parse().ok()).unwrap_or(400);
    let conns: usize = a.get(5).and_then(|s| s.parse().ok()).unwrap_or(4);
    let secs: u64 = a.get(6).and_then(|s| s.parse().ok()).unwrap_or(20);
    let pid = a.get(7).cloned();
    let bodies: Arc<Vec<String>> = Arc::new(
        lines
            .chunks(batch)
            .filter(|c| c.len() == batch)
            .map(|c| {
                format!(
                    "{{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[{}]}}",
                    c.join(",")
                )
            })
            .collect(),
    );
    if bodies.is_empty() {
        eprintln!("not enough events for one batch of {batch}");
        return std::process::ExitCode::FAILURE;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::<u64>::new()));
    let latencies_ok = Arc::new(Mutex::new(Vec::<u64>::new()));
    let start = Instant::now();
    let workers: Vec<_> = (0..conns)
        .map(|w| {
            let (addr, path, bodies, stop, events, rejected, latencies, latencies_ok) = (
                addr.clone(),
                path.clone(),
                bodies.clone(),
                stop.clone(),
                events.clone(),
                rejected.clone(),
                latencies.clone(),
                latencies_ok.clone(),
            );
            std::thread::spawn(move || {
                let Ok(stream) = TcpStream::connect(&addr) else {
                    eprintln!("connect failed");
                    return;
                };
                let _ = stream.set_nodelay(true);
                let Ok(mut writer) = stream.try_clone() else { return };
                let mut reader = BufReader::new(stream);
                let mut local = Vec::new();
                let mut local_ok = Vec::new();
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    let body = &bodies[i % bodies.len()];
                    i += conns;
                    let req = format!(
                        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    let t = Instant::now();
                    if writer.write_all(req.as_bytes()).and_then(|_| writer.write_all(body.as_bytes())).is_err() {
                        break;
                    }
                    match read_response(&mut reader) {
                        Ok(200) => {
                            events.fetch_add(batch as u64, Ordering::Relaxed);
                            local_ok.push(t.elapsed().as_micros() as u64);
                        }
                        Ok(_) => {
                            rejected.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        Err(_) => break,
                    }
                    local.push(t.elapsed().as_micros() as u64);
                }
                if let Ok(mut l) = latencies.lock() {
                    l.extend(local);
                }
                if let Ok(mut l) = latencies_ok.lock() {
                    l.extend(local_ok);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut lat = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0)
    };
    let n = events.load(Ordering::Relaxed);
    println!("batches of {batch} events, {conns} connections, {elapsed:.1} s");
    println!(
        "sustained: {:.0} events/s ({} requests, {} non-200)",
        n as f64 / elapsed,
        lat.len(),
        rejected.load(Ordering::Relaxed)
    );
    println!(
        "latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5) as f64 / 1000.0,
        pct(0.99) as f64 / 1000.0,
        lat.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    let mut ok = latencies_ok.lock().map(|l| l.clone()).unwrap_or_default();
    ok.sort_unstable();
    let pct_ok = |p: f64| {
        ok.get(((ok.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0)
    };
    println!(
        "accepted (200) requests only: p50 {:.2} ms, p99 {:.2} ms",
        pct_ok(0.5) as f64 / 1000.0,
        pct_ok(0.99) as f64 / 1000.0
    );
    if let Some(kib) = pid.as_deref().and_then(peak_rss_kib) {
        println!("server peak RSS: {:.1} MB", kib as f64 / 1024.0);
    }
    std::process::ExitCode::SUCCESS
}
