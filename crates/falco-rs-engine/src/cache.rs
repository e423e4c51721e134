//! Per-event field cache: each field slot is extracted at most once per event.

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
}

impl<'e> FieldCache<'e> {
    /// An empty cache for a program's field table.
    pub fn new(fields: &'e [FieldMeta]) -> Self {
        FieldCache {
            fields,
            state: vec![SlotState::Unknown; fields.len()],
            values: (0..fields.len()).map(|_| Vec::new()).collect(),
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
