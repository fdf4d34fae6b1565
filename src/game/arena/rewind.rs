//! Lag compensation's memory: where every live player stood at each of the last few ticks, so a
//! shot is judged against the world its shooter was looking at.

use crate::protocol::EntityId;
use glam::Vec2;
use std::collections::VecDeque;

/// Live players' positions per tick, newest last, at most `keep` ticks (allocations reused).
#[derive(Clone, Debug, Default)]
pub struct Rewind {
    keep: usize,
    ticks: VecDeque<(u32, Vec<(EntityId, Vec2)>)>,
}

impl Rewind {
    /// Remembers the last `max_rewind + 1` ticks (the current one and `max_rewind` before it).
    pub fn new(max_rewind: u32) -> Self {
        Rewind {
            keep: max_rewind as usize + 1,
            ticks: VecDeque::new(),
        }
    }

    /// Records where the live players are at `tick` (after this tick's movement).
    pub fn record(&mut self, tick: u32, live: impl Iterator<Item = (EntityId, Vec2)>) {
        let mut slot = if self.ticks.len() >= self.keep {
            self.ticks.pop_front().map(|(_, v)| v).unwrap_or_default()
        } else {
            Vec::new()
        };
        slot.clear();
        slot.extend(live);
        self.ticks.push_back((tick, slot));
    }

    /// The live players as they stood at `tick`, or at the oldest tick still remembered if
    /// `tick` is older than that; `None` when nothing is recorded.
    pub fn at(&self, tick: u32) -> Option<&[(EntityId, Vec2)]> {
        let i = self
            .ticks
            .iter()
            .rposition(|(t, _)| *t <= tick)
            .unwrap_or(0);
        self.ticks.get(i).map(|(_, v)| v.as_slice())
    }

    /// Forgets everything (a new round: everyone moved).
    pub fn clear(&mut self) {
        self.ticks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(r: &mut Rewind, tick: u32, x: f32) {
        r.record(tick, [(EntityId(2), Vec2::new(x, 0.0))].into_iter());
    }

    #[test]
    fn keeps_the_last_ticks_and_clamps_to_the_oldest() {
        let mut r = Rewind::new(3);
        assert!(r.at(5).is_none());
        for t in 1..=10 {
            rec(&mut r, t, t as f32);
        }
        assert_eq!(r.at(10).unwrap()[0].1.x, 10.0);
        assert_eq!(r.at(8).unwrap()[0].1.x, 8.0);
        assert_eq!(r.at(7).unwrap()[0].1.x, 7.0);
        // Older than kept: the oldest kept (max_rewind bounds how far back a shot reaches).
        assert_eq!(r.at(2).unwrap()[0].1.x, 7.0);
        r.clear();
        assert!(r.at(10).is_none());
    }
}
