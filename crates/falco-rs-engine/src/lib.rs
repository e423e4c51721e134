//! Compiles Falco conditions to bytecode and evaluates them against events.
//!
//! The engine knows no JSON: events are reached through [`EventView`], and field names
//! are resolved by a [`FieldCatalog`]. A [`ProgramBuilder`] lowers macro-resolved
//! condition ASTs into checks with precompiled matchers (sets, regexes, globs, path
//! prefixes) and a compact bytecode with short-circuit jumps; the resulting [`Program`]
//! is immutable and `Send + Sync`. Each event is evaluated with a [`FieldCache`] so every
//! field is extracted at most once per event. [`Program::eval_reference`] is a
//! tree-walking evaluator with naive semantics kept to cross-check the VM.

pub mod bytes;
mod cache;
mod check;
mod compile;
pub mod evttime;
mod explain;
mod field;
mod format;
pub mod glob;
pub mod pmatch;
mod program;
mod regex_dialect;
mod value;

pub use cache::{CacheBuffers, FieldCache};
pub use compile::{CompileError, CompileWarning, ProgramBuilder};
pub use explain::{ExplainKind, ExplainNode};
pub use field::{EventView, FieldCatalog, FieldDoc, FieldMeta, FieldType};
pub use format::OutputValue;
pub use program::{FilterId, OutputId, Program};
pub use regex_dialect::compile_full_match;
