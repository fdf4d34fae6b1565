//! The last few snapshot tables, so a client that fell behind gets a delta from what it really holds.
//!
//! Only as many are kept as someone may still need: the recent ones, and back to the oldest tick a
//! connected member was really sent (a slow client), at most the configured number. A lobby whose
//! members all keep up holds a handful of tables, not the whole window: memory per lobby stays
//! small without giving up deltas for the client that falls behind.

use crate::protocol::Tick;
use crate::snapshot::EntityTable;
use std::collections::VecDeque;

/// Tables kept whoever needs them: the newest and a few before it, for anything that looks back
/// a moment (a resync, a test comparing a client's mirror with the server's world).
pub const KEEP_RECENT: u32 = 16;

/// Entity tables, oldest first. A table let go is reused for the next one, not reallocated.
pub struct History {
    tables: VecDeque<EntityTable>,
    capacity: usize,
    field_count: u8,
}

impl History {
    pub fn new(capacity: usize, field_count: u8) -> Self {
        History {
            tables: VecDeque::new(),
            capacity: capacity.max(2),
            field_count,
        }
    }

    /// Makes room for a new newest table and returns it, cleared and stamped with `tick`. Tables
    /// more than `keep_age` ticks older than `tick` (and not among the [`KEEP_RECENT`] newest)
    /// are let go, and never more than the capacity is kept.
    pub fn push(&mut self, tick: Tick, keep_age: u32) -> &mut EntityTable {
        let keep_age = keep_age.max(KEEP_RECENT);
        let mut spare = None;
        while let Some(oldest) = self.tables.front() {
            let age = tick.0.wrapping_sub(oldest.tick.0);
            if self.tables.len() < self.capacity && age <= keep_age {
                break;
            }
            let t = self.tables.pop_front();
            // One allocation is reused for the new table; any more are given back.
            if spare.is_none() {
                spare = t;
            }
        }
        let mut table = spare.unwrap_or_else(|| EntityTable::new(self.field_count));
        table.clear(tick);
        self.tables.push_back(table);
        let newest = self.tables.len() - 1;
        &mut self.tables[newest]
    }

    pub fn newest(&self) -> Option<&EntityTable> {
        self.tables.back()
    }

    /// The newest table and the one before it.
    pub fn newest_and_previous(&self) -> (Option<&EntityTable>, Option<&EntityTable>) {
        let n = self.tables.len();
        let prev = n.checked_sub(2).map(|i| &self.tables[i]);
        (self.newest(), prev)
    }

    /// The table for `tick`, if it is still held.
    pub fn get(&self, tick: Tick) -> Option<&EntityTable> {
        self.tables.iter().rev().find(|t| t.tick == tick)
    }

    /// Tables held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.tables.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_last_capacity_tables() {
        let mut h = History::new(3, 2);
        for t in 1..=5 {
            h.push(Tick(t), u32::MAX);
        }
        assert!(h.get(Tick(2)).is_none());
        assert_eq!(h.get(Tick(3)).unwrap().tick, Tick(3));
        assert_eq!(h.newest().unwrap().tick, Tick(5));
        let (n, p) = h.newest_and_previous();
        assert_eq!((n.unwrap().tick, p.unwrap().tick), (Tick(5), Tick(4)));
    }

    #[test]
    fn keeps_what_someone_needs_and_lets_the_rest_go() {
        let mut h = History::new(64, 2);
        // Everyone keeps up: only the recent tables stay.
        for t in 1..=100 {
            h.push(Tick(t), 1);
        }
        assert_eq!(h.len(), KEEP_RECENT as usize + 1);
        assert!(h.get(Tick(100 - KEEP_RECENT)).is_some());
        assert!(h.get(Tick(100 - KEEP_RECENT - 1)).is_none());
        // A client stuck at tick 90 holds the window open back to it...
        for t in 101..=130 {
            h.push(Tick(t), t - 90);
        }
        assert!(h.get(Tick(90)).is_some());
        assert!(h.get(Tick(89)).is_none());
        // ...until it catches up; then the old tables go again.
        h.push(Tick(131), 1);
        assert_eq!(h.len(), KEEP_RECENT as usize + 1);
        // A member stuck at tick 131 keeps its base for capacity - 1 more tables, and no longer:
        // the bound PROTOCOL.md 6.2 gives (`lobby.history` - 1 snapshots behind).
        for t in 132..=131 + 63 {
            h.push(Tick(t), t - 131);
        }
        assert!(h.get(Tick(131)).is_some(), "63 behind: still a delta");
        h.push(Tick(195), 64);
        assert!(h.get(Tick(131)).is_none(), "64 behind: a full snapshot");
        // And never past the capacity.
        let mut small = History::new(4, 2);
        for t in 1..=10 {
            small.push(Tick(t), t);
        }
        assert_eq!(small.len(), 4);
    }
}
