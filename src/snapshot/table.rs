//! A tick's world as rows of quantized integer fields, sorted by entity id.

use crate::protocol::{EntityId, Tick};

/// Most fields any game's entities have; the delta mask is this many bits wide at most.
pub const MAX_FIELDS: usize = 10;

/// One entity: its id and its quantized fields (unused fields stay 0 and cost nothing on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub id: EntityId,
    pub fields: [i32; MAX_FIELDS],
}

/// The world at one tick. Rows are kept sorted by id so two tables diff in one merge pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityTable {
    pub tick: Tick,
    field_count: u8,
    rows: Vec<Row>,
}

impl EntityTable {
    pub fn new(field_count: u8) -> Self {
        assert!(
            (1..=MAX_FIELDS as u8).contains(&field_count),
            "field_count must be 1..={MAX_FIELDS}"
        );
        EntityTable {
            tick: Tick(0),
            field_count,
            rows: Vec::new(),
        }
    }

    pub fn field_count(&self) -> u8 {
        self.field_count
    }

    /// Empties the table for reuse, keeping its allocation.
    pub fn clear(&mut self, tick: Tick) {
        self.tick = tick;
        self.rows.clear();
    }

    /// Appends a row. Callers push in ascending id order; [`EntityTable::finish`] repairs it if not.
    pub fn push(&mut self, id: EntityId, fields: [i32; MAX_FIELDS]) {
        self.rows.push(Row { id, fields });
    }

    /// Sorts by id if pushes came out of order (cheap when they did not).
    pub fn finish(&mut self) {
        if !self.rows.windows(2).all(|w| w[0].id < w[1].id) {
            self.rows.sort_unstable_by_key(|r| r.id);
            self.rows.dedup_by_key(|r| r.id);
        }
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, id: EntityId) -> Option<&Row> {
        self.rows
            .binary_search_by_key(&id, |r| r.id)
            .ok()
            .map(|i| &self.rows[i])
    }

    pub fn get_mut(&mut self, id: EntityId) -> Option<&mut Row> {
        self.rows
            .binary_search_by_key(&id, |r| r.id)
            .ok()
            .map(|i| &mut self.rows[i])
    }

    /// Copies `other` into `self`, reusing this table's allocation.
    pub fn copy_from(&mut self, other: &EntityTable) {
        self.tick = other.tick;
        self.field_count = other.field_count;
        self.rows.clear();
        self.rows.extend_from_slice(&other.rows);
    }

    pub(crate) fn rows_mut(&mut self) -> &mut Vec<Row> {
        &mut self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_sorts_and_dedups() {
        let mut t = EntityTable::new(3);
        t.push(EntityId(3), [3; MAX_FIELDS]);
        t.push(EntityId(1), [1; MAX_FIELDS]);
        t.push(EntityId(3), [4; MAX_FIELDS]);
        t.finish();
        let ids: Vec<u32> = t.rows().iter().map(|r| r.id.0).collect();
        assert_eq!(ids, vec![1, 3]);
        assert_eq!(t.get(EntityId(1)).unwrap().fields[0], 1);
        assert!(t.get(EntityId(2)).is_none());
    }
}
