//! The falco-rs application: configuration, rules loading, event sources and the
//! event loop. `main.rs` is a thin wrapper; benches and tests use these modules.

pub mod cli;
pub mod config;
pub mod detector;
pub mod introspect;
pub mod logging;
pub mod metrics;
pub mod reload;
pub mod replay;
pub mod report;
pub mod rule_index;
pub mod ruleset;
pub mod run;
pub mod suppress;
pub mod testcmd;
