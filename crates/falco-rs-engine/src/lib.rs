//! Compiles Falco conditions to bytecode and evaluates them against events.
//!
//! The engine knows no JSON: events are reached through [`EventView`], and field names
//! are resolved by a [`FieldCatalog`].

mod field;

pub use field::{EventView, FieldCatalog, FieldDoc, FieldMeta, FieldType};
