//! Writes a generated audit log: `gen-audit <realistic|alert-heavy> <events> <out.jsonl> [seed]`.

use falco_rs_benches::{generate, Mix};
use std::io::Write;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mix), Some(n), Some(out)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: gen-audit <realistic|alert-heavy> <events> <out.jsonl> [seed]");
        return std::process::ExitCode::FAILURE;
    };
    let mix = match mix.as_str() {
        "realistic" => Mix::Realistic,
        "alert-heavy" => Mix::AlertHeavy,
        other => {
            eprintln!("unknown mix {other}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("invalid event count {n}");
        return std::process::ExitCode::FAILURE;
    };
    let seed = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(42);
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot create {out}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut w = std::io::BufWriter::new(file);
    for line in generate(mix, n, seed) {
        if writeln!(w, "{line}").is_err() {
            eprintln!("write error");
            return std::process::ExitCode::FAILURE;
        }
    }
    std::process::ExitCode::SUCCESS
}
