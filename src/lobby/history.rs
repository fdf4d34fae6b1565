//! The last few snapshot tables, so a client that fell behind gets a delta from what it really holds.

use crate::protocol::Tick;
use crate::snapshot::EntityTable;

/// A ring of entity tables, newest last. Tables are reused, never reallocated per tick.
pub struct History {
    tables: Vec<EntityTable>,
    /// Index of the newest table; `len` tables are valid.
    newest: usize,
    len: usize,
}

impl History {
    pub fn new(capacity: usize, field_count: u8) -> Self {
        let capacity = capacity.max(2);
        History {
            tables: (0..capacity)
                .map(|_| EntityTable::new(field_count))
                .collect(),
            newest: capacity - 1,
            len: 0,
        }
    }

    /// Makes room for a new newest table and returns it, cleared and stamped with `tick`.
    pub fn push(&mut self, tick: Tick) -> &mut EntityTable {
        self.newest = (self.newest + 1) % self.tables.len();
        self.len = (self.len + 1).min(self.tables.len());
        let t = &mut self.tables[self.newest];
        t.clear(tick);
        t
    }

    pub fn newest(&self) -> Option<&EntityTable> {
        (self.len > 0).then(|| &self.tables[self.newest])
    }

    /// The newest table and the one before it.
    pub fn newest_and_previous(&self) -> (Option<&EntityTable>, Option<&EntityTable>) {
        let prev = (self.len > 1)
            .then(|| &self.tables[(self.newest + self.tables.len() - 1) % self.tables.len()]);
        (self.newest(), prev)
    }

    /// The table for `tick`, if it is still held.
    pub fn get(&self, tick: Tick) -> Option<&EntityTable> {
        (0..self.len)
            .map(|back| &self.tables[(self.newest + self.tables.len() - back) % self.tables.len()])
            .find(|t| t.tick == tick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_last_capacity_tables() {
        let mut h = History::new(3, 2);
        for t in 1..=5 {
            h.push(Tick(t));
        }
        assert!(h.get(Tick(2)).is_none());
        assert_eq!(h.get(Tick(3)).unwrap().tick, Tick(3));
        assert_eq!(h.newest().unwrap().tick, Tick(5));
        let (n, p) = h.newest_and_previous();
        assert_eq!((n.unwrap().tick, p.unwrap().tick), (Tick(5), Tick(4)));
    }
}
