//! Rule index by verb × resource × subresource × user name, as Falco's event-type index
//! does for syscalls: most rules cannot match most audit events, and a handful of keys
//! tells which.
//!
//! For every active rule the compiled condition is analysed
//! ([`Program::required_values`]): when it can only be true if `ka.verb` (resp.
//! `ka.target.resource`, `ka.target.subresource`, `ka.user.name`) equals one of a set of
//! constants, the rule is a candidate only for events whose value is in that set. When the
//! analysis cannot tell, or when the event's value is not a JSON string, the rule is a
//! candidate. Candidates are yielded in the original evaluation order, so
//! `rule_matching: first` is unchanged.

use falco_rs_engine::Program;
use falco_rs_k8saudit::AuditEvent;
use falco_rs_rules::compile::CompiledRule;
use std::collections::HashMap;

/// The per-event lookups (verb, resource, subresource) hash short strings into maps of
/// rule constants; foldhash (already built for serde_json) costs a fraction of SipHash,
/// whose flooding resistance buys nothing for a fixed key set.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Fields the index keys on, in the order of the values `AuditEvent::index_keys` gives.
const DIMENSIONS: [&str; 4] = [
    "ka.verb",
    "ka.target.resource",
    "ka.target.subresource",
    "ka.user.name",
];

#[derive(Debug)]
struct Dimension {
    /// Rules (bit = position in the evaluation order) that are candidates for a value not
    /// listed in `by_value`: the rules this dimension does not constrain.
    other: Vec<u64>,
    /// For each constant some rule requires: the rules that are candidates for it.
    by_value: FastMap<Box<str>, Vec<u64>>,
    /// Bit `n % 64` set for each length `n` of a key of `by_value`: most event values
    /// (`get`, `list`, service account names) are in no rule's set, and a length not
    /// listed here skips hashing them.
    lengths: u64,
}

impl Dimension {
    /// The rules that are candidates for an event whose value is `key`.
    fn candidates(&self, key: &str) -> &[u64] {
        if self.lengths & (1 << (key.len() % 64)) == 0 {
            return &self.other;
        }
        self.by_value.get(key).unwrap_or(&self.other)
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

impl RuleIndex {
    /// Builds the index of the rules `order` (indexes into `rules`) of `program`.
    pub fn build(rules: &[CompiledRule], program: &Program, order: &[usize]) -> RuleIndex {
        let len = order.len();
        let words = len.div_ceil(64);
        let mut all = vec![0u64; words];
        for i in 0..len {
            set(&mut all, i);
        }
        let dims = DIMENSIONS
            .iter()
            .map(|name| {
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
                Dimension {
                    other,
                    by_value,
                    lengths,
                }
            })
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
        let words = order_len.div_ceil(64);
        let mut all = vec![0u64; words];
        for i in 0..order_len {
            set(&mut all, i);
        }
        RuleIndex {
            len: order_len,
            words,
            all,
            dims: Vec::new(),
        }
    }

    /// Number of rules that at least one dimension constrains (not candidates for every
    /// event).
    pub fn constrained(&self) -> usize {
        (0..self.len)
            .filter(|&i| {
                self.dims
                    .iter()
                    .any(|d| d.other[i / 64] & (1 << (i % 64)) == 0)
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
        let keys = ev.index_keys();
        for (dim, key) in self.dims.iter().zip(keys) {
            // Unknown (missing or not a string): every rule stays a candidate.
            let Some(key) = key else { continue };
            let bits = dim.candidates(key);
            for (s, b) in scratch.iter_mut().zip(bits) {
                *s &= *b;
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
