//! Per-event field cache: each field slot is extracted at most once per event.
//!
//! The cache's buffers can be recycled from one event to the next
//! ([`FieldCache::into_buffers`] / [`FieldCache::from_buffers`]), so evaluating an event
//! whose fields are all borrowed from it allocates nothing once the buffers have grown.

use crate::field::{EventView, FieldMeta};
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Unknown,
    Absent,
    Present,
}

/// Extracted values of every field slot for one event, filled lazily.
pub struct FieldCache<'e> {
    fields: &'e [FieldMeta],
    state: Vec<SlotState>,
    values: Vec<Vec<Cow<'e, str>>>,
    /// Slots extracted for this event (to reset only those).
    touched: Vec<u32>,
}

/// The allocations of a [`FieldCache`], detached from any event so that they can be kept
/// between events. Holds no values.
#[derive(Default)]
pub struct CacheBuffers {
    state: Vec<SlotState>,
    values: Vec<Vec<Cow<'static, str>>>,
    touched: Vec<u32>,
}

impl std::fmt::Debug for CacheBuffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheBuffers")
            .field("slots", &self.state.len())
            .finish()
    }
}

/// Re-types an emptied vector of borrowed strings to another lifetime, keeping its
/// allocation (in-place `collect` of a `vec::IntoIter` into a vector of an element type of
/// the same size and alignment reuses the buffer). Never maps an element: it is emptied
/// first.
fn retype<'a, 'b>(mut v: Vec<Cow<'a, str>>) -> Vec<Cow<'b, str>> {
    v.clear();
    v.into_iter().map(|c| Cow::Owned(c.into_owned())).collect()
}

impl<'e> FieldCache<'e> {
    /// An empty cache for a program's field table.
    pub fn new(fields: &'e [FieldMeta]) -> Self {
        Self::from_buffers(fields, CacheBuffers::default())
    }

    /// An empty cache for `fields` reusing the allocations of an earlier cache.
    pub fn from_buffers(fields: &'e [FieldMeta], buffers: CacheBuffers) -> Self {
        let CacheBuffers {
            mut state,
            values,
            touched,
        } = buffers;
        let mut values: Vec<Vec<Cow<'e, str>>> = values.into_iter().map(retype).collect();
        if state.len() != fields.len() {
            state.clear();
            state.resize(fields.len(), SlotState::Unknown);
            values.resize_with(fields.len(), Vec::new);
            values.truncate(fields.len());
        }
        debug_assert!(state.iter().all(|s| *s == SlotState::Unknown));
        FieldCache {
            fields,
            state,
            values,
            touched,
        }
    }

    /// Empties the cache and returns its allocations for the next event.
    pub fn into_buffers(self) -> CacheBuffers {
        let FieldCache {
            mut state,
            mut values,
            mut touched,
            ..
        } = self;
        for &slot in &touched {
            let i = slot as usize;
            state[i] = SlotState::Unknown;
            values[i].clear();
        }
        touched.clear();
        CacheBuffers {
            state,
            values: values.into_iter().map(retype).collect(),
            touched,
        }
    }

    /// Whether `slot` is a list-valued field.
    pub fn is_list(&self, slot: u32) -> bool {
        self.fields.get(slot as usize).is_some_and(|f| f.is_list)
    }

    /// The values of `slot`, extracting them on first use; `None` when not extracted.
    pub fn get<E: EventView + ?Sized>(
        &mut self,
        slot: u32,
        event: &'e E,
    ) -> Option<&[Cow<'e, str>]> {
        let i = slot as usize;
        let state = *self.state.get(i)?;
        match state {
            SlotState::Absent => None,
            SlotState::Present => Some(&self.values[i]),
            SlotState::Unknown => {
                self.touched.push(slot);
                let out = &mut self.values[i];
                out.clear();
                let ok = event.extract(&self.fields[i], out) && !out.is_empty();
                self.state[i] = if ok {
                    SlotState::Present
                } else {
                    SlotState::Absent
                };
                if ok {
                    Some(&self.values[i])
                } else {
                    None
                }
            }
        }
    }
}
