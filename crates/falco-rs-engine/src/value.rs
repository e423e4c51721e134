//! Value expressions: a field, optionally wrapped in transformers, as compiled from an
//! [`Operand`](falco_rs_syntax::Operand), and their evaluation against a field cache.

use crate::cache::FieldCache;
use crate::field::{EventView, FieldType};
use base64::Engine as _;
use falco_rs_syntax::Transformer;
use std::borrow::Cow;

/// A compiled value expression.
#[derive(Debug, Clone)]
pub(crate) enum ValueExpr {
    /// A field slot of the program.
    Field(u32),
    /// A literal (only inside `join`/`concat`).
    Literal(String),
    /// A single-argument transformer.
    Unary(Transformer, Box<ValueExpr>),
    /// `len(x)`: byte length of a string, or element count of a list.
    Len {
        /// The measured expression.
        inner: Box<ValueExpr>,
        /// Whether `inner` is list-valued.
        list: bool,
    },
    /// `join(sep, list)`.
    Join(String, Box<ValueExpr>),
    /// `concat(a, b, ...)`.
    Concat(Vec<ValueExpr>),
}

/// Static type of a value expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValueType {
    pub ty: FieldType,
    pub is_list: bool,
}

/// Extracted values of an expression for one event.
pub(crate) type Values<'a> = Vec<Cow<'a, str>>;

impl ValueExpr {
    /// The field slot when this is a plain field (the fast path).
    pub fn as_slot(&self) -> Option<u32> {
        match self {
            ValueExpr::Field(s) => Some(*s),
            _ => None,
        }
    }

    /// Evaluates the expression. `None` means "not extracted": every check is false.
    pub fn eval<'e, E: EventView + ?Sized>(
        &self,
        cache: &mut FieldCache<'e>,
        event: &'e E,
    ) -> Option<Values<'e>> {
        match self {
            ValueExpr::Field(slot) => cache.get(*slot, event).map(|v| v.to_vec()),
            ValueExpr::Literal(s) => Some(vec![Cow::Owned(s.clone())]),
            ValueExpr::Unary(t, inner) => {
                let vals = inner.eval(cache, event)?;
                apply_unary(*t, vals)
            }
            ValueExpr::Len { inner, list } => {
                let vals = inner.eval(cache, event)?;
                let n = if *list {
                    vals.len()
                } else {
                    vals.first()?.len()
                };
                Some(vec![Cow::Owned(n.to_string())])
            }
            ValueExpr::Join(sep, inner) => {
                let vals = inner.eval(cache, event)?;
                Some(vec![Cow::Owned(vals.join(sep.as_str()))])
            }
            ValueExpr::Concat(parts) => {
                let mut out = String::new();
                for p in parts {
                    let vals = p.eval(cache, event)?;
                    out.push_str(vals.first()?);
                }
                Some(vec![Cow::Owned(out)])
            }
        }
    }
}

fn apply_unary(t: Transformer, vals: Values<'_>) -> Option<Values<'_>> {
    if vals.is_empty() {
        return None;
    }
    match t {
        Transformer::ToLower => Some(
            vals.into_iter()
                .map(|v| Cow::Owned(v.to_ascii_lowercase()))
                .collect(),
        ),
        Transformer::ToUpper => Some(
            vals.into_iter()
                .map(|v| Cow::Owned(v.to_ascii_uppercase()))
                .collect(),
        ),
        Transformer::B64 => vals
            .into_iter()
            .map(|v| b64_decode(&v).map(|b| Cow::Owned(String::from_utf8_lossy(&b).into_owned())))
            .collect(),
        Transformer::Basename => Some(
            vals.into_iter()
                .map(|v| match v {
                    Cow::Borrowed(s) => Cow::Borrowed(basename(s)),
                    Cow::Owned(s) => Cow::Owned(basename(&s).to_string()),
                })
                .collect(),
        ),
        Transformer::Len | Transformer::Join | Transformer::Concat | Transformer::Getopt => None,
    }
}

/// libsinsp `Base64::decodeWithoutPadding`: up to two trailing `=` are dropped, the rest
/// must be canonical unpadded base64 (standard alphabet, zero trailing bits).
fn b64_decode(v: &str) -> Option<Vec<u8>> {
    let b = v.as_bytes();
    let mut n = b.len();
    for _ in 0..2 {
        if n > 0 && b[n - 1] == b'=' {
            n -= 1;
        }
    }
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(&b[..n])
        .ok()
}

/// Text after the last `/` (empty when the value ends with `/`).
pub(crate) fn basename(s: &str) -> &str {
    match s.rfind('/') {
        Some(i) => &s[i + 1..],
        None => s,
    }
}
