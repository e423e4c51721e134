//! Rule index by verb × resource × subresource × user name × event time, as Falco's
//! event-type index does for syscalls: most rules cannot match most audit events, and a
//! handful of keys tells which.
//!
//! For every active rule the compiled condition is analysed:
//! - [`Program::required_values`]: when it can only be true if `ka.verb` (resp.
//!   `ka.target.resource`, `ka.target.subresource`, `ka.user.name`, `json.rawtime` /
//!   `jevt.rawtime`) equals one of a set of constants, the rule is a candidate only for
//!   events whose value is in that set (the official rules' `k8s_audit_never_true` is
//!   `jevt.rawtime=0`);
//! - [`Program::excluded_prefixes`]: when it is false for every value starting with some
//!   prefix (`not ka.user.name startswith "system:"`), the rule is no candidate for
//!   events whose value does.
//!
//! When the analysis cannot tell, or when the event's value is not a JSON string, the
//! rule is a candidate. Candidates are yielded in the original evaluation order, so
//! `rule_matching: first` is unchanged.

use falco_rs_engine::Program;
use falco_rs_k8saudit::AuditEvent;
use falco_rs_rules::compile::CompiledRule;
use std::collections::HashMap;

/// The per-event lookups (verb, resource, subresource) hash short strings into maps of
/// rule constants; foldhash (already built for serde_json) costs a fraction of SipHash,
/// whose flooding resistance buys nothing for a fixed key set.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Where the index reads an event's value for a dimension.
#[derive(Debug, Clone, Copy)]
enum Source {
    Verb,
    UserName,
    /// `AuditEvent::json_rawtime`, whose length is known without writing its digits.
    JsonRawtime,
    Resource,
    Subresource,
}

/// Fields the index keys on and where each event's value comes from, in the order they
/// are consulted. The lookup stops once no rule is left: for most events (reads by
/// system accounts) the verb, the user name and the time rule out every rule, and
/// `objectRef` is never read.
const DIMENSIONS: [(&str, Source); 6] = [
    ("ka.verb", Source::Verb),
    ("ka.user.name", Source::UserName),
    ("json.rawtime", Source::JsonRawtime),
    ("jevt.rawtime", Source::JsonRawtime),
    ("ka.target.resource", Source::Resource),
    ("ka.target.subresource", Source::Subresource),
];

#[derive(Debug)]
struct Dimension {
    source: Source,
    /// Rules (bit = position in the evaluation order) that are candidates for a value not
    /// listed in `by_value`: the rules this dimension does not constrain.
    other: Vec<u64>,
    /// For each constant some rule requires: the rules that are candidates for it.
    by_value: FastMap<Box<str>, Vec<u64>>,
    /// Bit `n % 64` set for each length `n` of a key of `by_value`: most event values
    /// (`get`, `list`, service account names, times) are in no rule's set, and a length
    /// not listed here skips hashing them.
    lengths: u64,
    /// For each prefix some rule excludes: the rules that stay candidates for a value
    /// starting with it.
    excluded: Vec<(Box<str>, Vec<u64>)>,
}

impl Dimension {
    /// Narrows `scratch` to the candidates for an event whose value has length `len` and
    /// text `text()`, which is asked for only when the length or a prefix needs it.
    fn narrow<'k>(&self, len: usize, text: impl FnOnce() -> &'k str, scratch: &mut [u64]) {
        let needs_text = self.lengths & (1 << (len % 64)) != 0 || !self.excluded.is_empty();
        let text = needs_text.then(text);
        let bits = text
            .and_then(|t| self.by_value.get(t))
            .unwrap_or(&self.other);
        intersect(scratch, bits);
        for (prefix, keep) in &self.excluded {
            if text.is_some_and(|t| t.starts_with(&**prefix)) {
                intersect(scratch, keep);
            }
        }
    }
}

fn intersect(scratch: &mut [u64], bits: &[u64]) {
    for (s, b) in scratch.iter_mut().zip(bits) {
        *s &= *b;
    }
}

/// Candidate rules of an event, as bit sets over positions in the evaluation order.
#[derive(Debug)]
pub struct RuleIndex {
    len: usize,
    words: usize,
    all: Vec<u64>,
    dims: Vec<Dimension>,
}

fn set(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

fn clear(bits: &mut [u64], i: usize) {
    bits[i / 64] &= !(1 << (i % 64));
}

fn is_set(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

/// The bit set of the first `len` positions.
fn first_n(len: usize) -> Vec<u64> {
    let mut bits = vec![0u64; len.div_ceil(64)];
    for i in 0..len {
        set(&mut bits, i);
    }
    bits
}

impl RuleIndex {
    /// Builds the index of the rules `order` (indexes into `rules`) of `program`.
    pub fn build(rules: &[CompiledRule], program: &Program, order: &[usize]) -> RuleIndex {
        let len = order.len();
        let words = len.div_ceil(64);
        let all = first_n(len);
        let dims = DIMENSIONS
            .iter()
            .map(|&(name, source)| {
                let required: Vec<_> = order
                    .iter()
                    .map(|&ri| program.required_values(rules[ri].filter, name))
                    .collect();
                let mut other = vec![0u64; words];
                for (pos, r) in required.iter().enumerate() {
                    if r.is_none() {
                        set(&mut other, pos);
                    }
                }
                let mut by_value: FastMap<Box<str>, Vec<u64>> = FastMap::default();
                for (pos, r) in required.iter().enumerate() {
                    for v in r.iter().flatten() {
                        let bits = by_value
                            .entry(v.as_str().into())
                            .or_insert_with(|| other.clone());
                        set(bits, pos);
                    }
                }
                let lengths = by_value.keys().fold(0u64, |m, k| m | 1 << (k.len() % 64));
                let mut excluded: Vec<(Box<str>, Vec<u64>)> = Vec::new();
                for (pos, &ri) in order.iter().enumerate() {
                    for prefix in program.excluded_prefixes(rules[ri].filter, name) {
                        let at = match excluded.iter().position(|(p, _)| **p == *prefix) {
                            Some(at) => at,
                            None => {
                                excluded.push((prefix.into(), all.clone()));
                                excluded.len() - 1
                            }
                        };
                        clear(&mut excluded[at].1, pos);
                    }
                }
                Dimension {
                    source,
                    other,
                    excluded,
                    by_value,
                    lengths,
                }
            })
            // A dimension no rule is constrained by (`json.rawtime` when the rules only
            // read `jevt.rawtime`) would only be read for every event.
            .filter(|d| d.other != all || !d.excluded.is_empty())
            .collect();
        RuleIndex {
            len,
            words,
            all,
            dims,
        }
    }

    /// An index that makes every rule a candidate for every event (for comparisons).
    pub fn disabled(order_len: usize) -> RuleIndex {
        RuleIndex {
            len: order_len,
            words: order_len.div_ceil(64),
            all: first_n(order_len),
            dims: Vec::new(),
        }
    }

    /// Number of rules that at least one dimension constrains (not candidates for every
    /// event).
    pub fn constrained(&self) -> usize {
        (0..self.len)
            .filter(|&i| {
                self.dims.iter().any(|d| {
                    !is_set(&d.other, i) || d.excluded.iter().any(|(_, keep)| !is_set(keep, i))
                })
            })
            .count()
    }

    /// Number of rules indexed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no rule is indexed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Fills `scratch` with the candidate set of `ev` (bit = position in the evaluation
    /// order). Does not allocate once `scratch` has grown.
    pub fn candidates(&self, ev: &AuditEvent, scratch: &mut Vec<u64>) {
        scratch.clear();
        scratch.extend_from_slice(&self.all);
        if self.dims.is_empty() {
            return;
        }
        // `objectRef`'s resource and subresource, looked up together on first use.
        let mut target = None;
        for dim in &self.dims {
            // Unknown (missing or not a string): every rule stays a candidate.
            let key = match dim.source {
                Source::Verb => ev.verb(),
                Source::UserName => ev.user_name(),
                Source::JsonRawtime => {
                    // Judged by its length first: the digits are written only if needed.
                    if let Some(len) = ev.json_rawtime_len() {
                        dim.narrow(len, || ev.json_rawtime().unwrap_or_default(), scratch);
                    }
                    None
                }
                Source::Resource => target.get_or_insert_with(|| ev.target_resource()).0,
                Source::Subresource => target.get_or_insert_with(|| ev.target_resource()).1,
            };
            if let Some(key) = key {
                dim.narrow(key.len(), || key, scratch);
            }
            if scratch.iter().all(|&w| w == 0) {
                return;
            }
        }
        debug_assert_eq!(scratch.len(), self.words);
    }
}

/// Iterates the positions set in a candidate bit set, in increasing order.
pub fn positions(bits: &[u64]) -> impl Iterator<Item = usize> + '_ {
    bits.iter().enumerate().flat_map(|(w, &word)| {
        let mut word = word;
        std::iter::from_fn(move || {
            if word == 0 {
                return None;
            }
            let b = word.trailing_zeros() as usize;
            word &= word - 1;
            Some(w * 64 + b)
        })
    })
}
