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

/// One field slot: its state and, when present, its values' range in the flat value
/// vector.
#[derive(Debug, Clone, Copy)]
struct Slot {
    state: SlotState,
    start: u32,
    end: u32,
}

const UNKNOWN: Slot = Slot {
    state: SlotState::Unknown,
    start: 0,
    end: 0,
};

/// Extracted values of every field slot for one event, filled lazily.
///
/// The values of all slots live in one vector (each slot holds a range of it), so
/// recycling the cache between events re-types one empty vector and resets only the
/// slots the event touched: the per-event cost does not grow with the size of the field
/// table.
pub struct FieldCache<'e> {
    fields: &'e [FieldMeta],
    slots: Vec<Slot>,
    values: Vec<Cow<'e, str>>,
    /// Slots extracted for this event (to reset only those).
    touched: Vec<u32>,
}

/// The allocations of a [`FieldCache`], detached from any event so that they can be kept
/// between events. Holds no values.
#[derive(Default)]
pub struct CacheBuffers {
    slots: Vec<Slot>,
    values: Vec<Cow<'static, str>>,
    touched: Vec<u32>,
}

impl std::fmt::Debug for CacheBuffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheBuffers")
            .field("slots", &self.slots.len())
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
            mut slots,
            values,
            touched,
        } = buffers;
        if slots.len() != fields.len() {
            slots.clear();
            slots.resize(fields.len(), UNKNOWN);
        }
        debug_assert!(slots.iter().all(|s| s.state == SlotState::Unknown));
        FieldCache {
            fields,
            slots,
            values: retype(values),
            touched,
        }
    }

    /// Empties the cache and returns its allocations for the next event.
    pub fn into_buffers(self) -> CacheBuffers {
        let FieldCache {
            mut slots,
            values,
            mut touched,
            ..
        } = self;
        for &slot in &touched {
            slots[slot as usize] = UNKNOWN;
        }
        touched.clear();
        CacheBuffers {
            slots,
            values: retype(values),
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
        let s = *self.slots.get(i)?;
        match s.state {
            SlotState::Absent => None,
            SlotState::Present => self.values.get(s.start as usize..s.end as usize),
            SlotState::Unknown => {
                self.touched.push(slot);
                let start = self.values.len();
                let ok = event.extract(&self.fields[i], &mut self.values)
                    && self.values.len() > start
                    && u32::try_from(self.values.len()).is_ok();
                if !ok {
                    self.values.truncate(start);
                    self.slots[i].state = SlotState::Absent;
                    return None;
                }
                self.slots[i] = Slot {
                    state: SlotState::Present,
                    start: start as u32,
                    end: self.values.len() as u32,
                };
                self.values.get(start..)
            }
        }
    }
}
