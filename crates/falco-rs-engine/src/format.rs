//! Compiled output formats (`%field` templates) and their rendering.

use crate::cache::FieldCache;
use crate::field::{EventView, FieldMeta};
use crate::value::ValueExpr;

/// Longest rendering of a list value, as libsinsp truncates it.
const MAX_LIST_RENDER: usize = 1023;

/// A value in `output_fields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputValue {
    /// Not extracted (`null`).
    Null,
    /// A single string.
    Str(String),
    /// A list of strings.
    List(Vec<String>),
    /// A signed integer (libsinsp's `Int64` values: event times in nanoseconds).
    Int(i64),
    /// An unsigned integer (`evt.num`).
    UInt(u64),
    /// A boolean (`evt.is_async`).
    Bool(bool),
}

#[derive(Debug)]
pub(crate) enum Segment {
    Text(String),
    Value {
        expr: ValueExpr,
        width: Option<usize>,
        /// Display name and slot of the (innermost) field, for `output_fields`.
        key: Option<(String, u32)>,
    },
}

#[derive(Debug)]
pub(crate) struct OutputFormat {
    pub segments: Vec<Segment>,
}

impl OutputFormat {
    pub fn render<'e, E: EventView + ?Sized>(
        &self,
        cache: &mut FieldCache<'e>,
        event: &'e E,
        out: &mut String,
    ) {
        for seg in &self.segments {
            match seg {
                Segment::Text(t) => out.push_str(t),
                Segment::Value { expr, width, .. } => {
                    let start = out.len();
                    let is_list_like = is_list_expr(expr, cache);
                    match expr.eval(cache, event) {
                        Some(vals) if !vals.is_empty() => {
                            if is_list_like {
                                // libsinsp `tostring`: a comma only once something follows
                                // the `(` (leading empty elements add none), and the whole
                                // text, parentheses included, cut to 1023 bytes.
                                out.push('(');
                                for v in vals.iter() {
                                    if out.len() - start > 1 {
                                        out.push(',');
                                    }
                                    out.push_str(v);
                                }
                                out.push(')');
                                truncate_at(out, start + MAX_LIST_RENDER);
                            } else {
                                out.push_str(&vals[0]);
                            }
                        }
                        _ => out.push_str("<NA>"),
                    }
                    if let Some(w) = width {
                        apply_width(out, start, *w);
                    }
                }
            }
        }
    }

    pub fn fields<'e, E: EventView + ?Sized>(
        &self,
        metas: &[FieldMeta],
        cache: &mut FieldCache<'e>,
        event: &'e E,
    ) -> Vec<(String, OutputValue)> {
        let mut out: Vec<(String, OutputValue)> = Vec::new();
        for seg in &self.segments {
            let Segment::Value {
                key: Some((name, slot)),
                ..
            } = seg
            else {
                continue;
            };
            if out.iter().any(|(n, _)| n == name) {
                continue;
            }
            let meta = metas.get(*slot as usize);
            let is_list = meta.is_some_and(|m| m.is_list);
            let value = match meta.and_then(|m| event.output_value(m)) {
                Some(typed) => typed,
                None => match cache.get(*slot, event) {
                    None => OutputValue::Null,
                    Some(vals) if is_list => {
                        OutputValue::List(vals.iter().map(|v| v.to_string()).collect())
                    }
                    Some(vals) => {
                        OutputValue::Str(vals.first().map(|v| v.to_string()).unwrap_or_default())
                    }
                },
            };
            out.push((name.clone(), value));
        }
        out
    }
}

fn is_list_expr(expr: &ValueExpr, cache: &FieldCache<'_>) -> bool {
    match expr {
        ValueExpr::Field(slot) => cache.is_list(*slot),
        ValueExpr::Unary(_, inner) => is_list_expr(inner, cache),
        _ => false,
    }
}

fn truncate_at(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

/// Pads with spaces or truncates the text written since `start` to `width` characters.
fn apply_width(out: &mut String, start: usize, width: usize) {
    let written = out[start..].chars().count();
    if written > width {
        let cut = out[start..]
            .char_indices()
            .nth(width)
            .map_or(out.len(), |(i, _)| start + i);
        out.truncate(cut);
    } else {
        out.extend(std::iter::repeat_n(' ', width - written));
    }
}
