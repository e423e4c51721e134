//! Parse-only baselines on an audit log, one thread:
//! `parse-only <file.jsonl> [serde_json_value,sonic_rs_value,parse_payload]`.
//!
//! Prints events/s of (1) a `serde_json::Value` DOM, (2) a `sonic_rs::Value` DOM (the
//! issue's reference for "the speed of parsing": SIMD, arena-allocated) and (3) falco-rs's
//! own `parse_payload` (tape + validation + timestamp + stored compact payload), or of
//! those named by the optional second argument. Each is the best of three passes over the
//! file, already in memory.

use falco_rs_k8saudit::{parse_payload, ParseOptions};
use std::hint::black_box;
use std::time::Instant;

fn best_of_3(f: &dyn Fn() -> usize) -> (usize, f64) {
    let mut best = f64::INFINITY;
    let mut n = 0;
    for _ in 0..3 {
        let t = Instant::now();
        n = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (n, best)
}

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: parse-only <file.jsonl> [serde_json_value,sonic_rs_value,parse_payload]");
        return std::process::ExitCode::FAILURE;
    };
    let only = std::env::args().nth(2);
    let wanted = |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|n| n == name))
    };
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    // Times `parse` (best of three passes, returning the events parsed) when it is wanted.
    let measure = |name: &str, parse: &dyn Fn() -> usize| {
        if wanted(name) {
            let (n, secs) = best_of_3(parse);
            println!("{name} {n} events {secs:.4} s {:.0} ev/s", n as f64 / secs);
        }
    };
    measure("serde_json_value", &|| {
        lines
            .iter()
            .filter(|l| black_box(serde_json::from_slice::<serde_json::Value>(l)).is_ok())
            .count()
    });
    measure("sonic_rs_value", &|| {
        lines
            .iter()
            .filter(|l| black_box(sonic_rs::from_slice::<sonic_rs::Value>(l)).is_ok())
            .count()
    });
    let opts = ParseOptions::default();
    measure("parse_payload", &|| {
        lines
            .iter()
            .map(|l| black_box(parse_payload(l, &opts)).events.len())
            .sum()
    });
    std::process::ExitCode::SUCCESS
}
