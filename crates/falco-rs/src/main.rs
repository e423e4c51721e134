//! `falco-rs`: Falco-compatible Kubernetes audit detection in one binary.

use clap::Parser;
use falco_rs::{cli, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    falco_rs::logging::init();
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            eprintln!("Error: {}", e.to_string().trim_end());
            return ExitCode::FAILURE;
        }
    };
    match run::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                msg.push_str(": ");
                msg.push_str(&cause.to_string());
            }
            eprintln!("Error: {msg}");
            ExitCode::FAILURE
        }
    }
}
