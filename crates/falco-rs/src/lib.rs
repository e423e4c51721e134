//! The falco-rs application: configuration, rules loading, event sources and the
//! event loop. `main.rs` is a thin wrapper; benches and tests use these modules.

pub mod cli;
pub mod config;
pub mod detector;
pub mod logging;
pub mod metrics;
pub mod reload;
pub mod report;
pub mod introspect;
pub mod replay;
pub mod rule_index;
pub mod ruleset;
pub mod suppress;
pub mod run;
pub mod testcmd;
