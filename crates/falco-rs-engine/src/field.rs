//! The seam between the engine and an event source: a catalog that resolves field
//! names, and events that extract values for resolved fields.

use std::borrow::Cow;

/// The value type of a field, as libsinsp declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// Character string (every `ka.*`, `jevt.*` and `json.*` field).
    String,
    /// Unsigned 64-bit integer (`evt.num`, `len()` results).
    U64,
    /// Absolute time in nanoseconds (`evt.rawtime`).
    AbsTime,
    /// Relative time in nanoseconds (`evt.reltime`).
    RelTime,
    /// Boolean (`evt.is_async`).
    Bool,
}

impl FieldType {
    /// Whether values compare as numbers.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::U64 | FieldType::AbsTime | FieldType::RelTime
        )
    }
}

/// A resolved field: what the catalog knows about `name[arg]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldMeta {
    /// Field name without argument, e.g. `ka.uri.param`.
    pub name: String,
    /// The argument as given (`None` when absent).
    pub arg: Option<String>,
    /// Catalog-specific field id.
    pub id: u32,
    /// Catalog-specific parsed argument (index or key id); `u64::MAX` when absent.
    pub index: u64,
    /// Whether the field yields a list of values.
    pub is_list: bool,
    /// Value type.
    pub ty: FieldType,
}

impl FieldMeta {
    /// `name` or `name[arg]`, as libsinsp prints a field in `output_fields`.
    pub fn display_name(&self) -> String {
        match &self.arg {
            Some(a) => format!("{}[{}]", self.name, a),
            None => self.name.clone(),
        }
    }
}

/// Description of a field for `--list`.
#[derive(Debug, Clone)]
pub struct FieldDoc {
    /// Field name.
    pub name: &'static str,
    /// Value type.
    pub ty: FieldType,
    /// List-valued.
    pub is_list: bool,
    /// Argument kind: `""`, `"[i]"` optional index, `"[k]"` required key.
    pub arg: &'static str,
    /// One-line description.
    pub desc: &'static str,
}

/// Resolves field names of one event source.
pub trait FieldCatalog: Send + Sync {
    /// Resolves `name` with an optional argument, or explains why it is not a valid field
    /// (the message is used verbatim in load errors, e.g. `filter_check called with
    /// nonexistent field ka.nope`).
    fn resolve(&self, name: &str, arg: Option<&str>) -> Result<FieldMeta, String>;

    /// Whether `name` (without argument) is a field of this source.
    fn has_field(&self, name: &str) -> bool;
}

/// An event from which field values can be extracted.
pub trait EventView {
    /// Appends the values of `field` to `out`, which may already hold values of other
    /// fields (never read nor removed). Returns `false` when the field is not extracted
    /// (absent, extraction error, or zero values), in which case every comparison on it
    /// is false and the caller drops anything appended.
    fn extract<'a>(&'a self, field: &FieldMeta, out: &mut Vec<Cow<'a, str>>) -> bool;

    /// The value of `field` in JSON `output_fields` when libsinsp gives it a JSON type
    /// other than its text (`extract_as_js`, or `rawval_to_json` of a numeric or boolean
    /// field: `evt.num` a number, event times integer nanoseconds); `None`: the text, or
    /// `null` when not extracted.
    fn output_value(&self, _field: &FieldMeta) -> Option<crate::OutputValue> {
        None
    }
}
