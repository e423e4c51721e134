//! Falco rules files: YAML reading, the collector (lists, macros, rules with
//! `append`/`override`/`enabled`), exceptions, list substitution, macro resolution,
//! compilation into an engine [`falco_rs_engine::Program`], and Falco's load results.

pub mod compile;
pub mod diagnostics;
pub mod loader;
pub mod model;
pub mod result;
pub mod syscall;
pub mod yaml;
