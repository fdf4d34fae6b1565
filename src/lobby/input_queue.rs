//! One player's inputs waiting for their tick: ordered by sequence number, stale ones refused,
//! bounded so a client running ahead cannot build up latency, and a fire tap never lost.

use crate::protocol::PlayerInput;
use std::collections::VecDeque;

/// Inputs not applied yet, oldest first, and the highest sequence number already applied (the ack).
#[derive(Debug, Default)]
pub struct InputQueue {
    pending: VecDeque<PlayerInput>,
    /// Buttons pressed by any input since the last tick, so a quick tap is not lost.
    buttons_latch: u8,
    last_seq: u32,
    /// Inputs pushed out by a burst longer than the buffer, since last taken.
    overflowed: u32,
    /// Ticks that passed without a step of this player (idle, or skipped by a lobby that fell
    /// behind), up to a cap: what a burst of its inputs may later make up with catch-up steps. A
    /// client sending faster than the ticks earns none, so catch-up never becomes a speed-up.
    owed: u32,
}

/// Why an input was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stale;

impl InputQueue {
    /// The highest sequence number applied so far: what the player's `ack` field says.
    pub fn last_seq(&self) -> u32 {
        self.last_seq
    }

    /// Queues an input to apply at a later tick, keeping at most `buffer` waiting (past that the
    /// oldest goes). An input numbered at or below one already queued or applied is stale, though
    /// its buttons still count: a tap must not be lost to reordering.
    pub fn push(&mut self, input: PlayerInput, buffer: usize) -> Result<(), Stale> {
        let newest = self
            .pending
            .back()
            .map_or(self.last_seq, |p| p.seq.max(self.last_seq));
        self.buttons_latch |= input.buttons;
        if input.seq <= newest {
            return Err(Stale);
        }
        self.pending.push_back(input);
        while self.pending.len() > buffer.max(1) {
            self.pending.pop_front();
            self.overflowed += 1;
        }
        Ok(())
    }

    /// An earlier input carried by a later message (`Input.earlier`): queued if it is newer than
    /// everything held, so a gap (a message the rate limit dropped) is filled; otherwise it is a
    /// copy of one already here and is ignored, buttons too (its tap was counted when it came).
    pub fn fill(&mut self, input: PlayerInput, buffer: usize) {
        let newest = self
            .pending
            .back()
            .map_or(self.last_seq, |p| p.seq.max(self.last_seq));
        if input.seq > newest {
            self.pending.push_back(input);
            while self.pending.len() > buffer.max(1) {
                self.pending.pop_front();
                self.overflowed += 1;
            }
        }
    }

    /// How many inputs a burst longer than the buffer pushed out since the last call.
    pub fn take_overflowed(&mut self) -> u32 {
        std::mem::take(&mut self.overflowed)
    }

    /// How many inputs wait.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// The input for this tick, with every button tapped since the last one; `None` when nothing
    /// waits.
    pub fn next(&mut self) -> Option<PlayerInput> {
        let mut input = self.pending.pop_front()?;
        input.buttons |= self.buttons_latch;
        self.buttons_latch = 0;
        self.last_seq = self.last_seq.max(input.seq);
        Some(input)
    }

    /// `ticks` ticks passed (run or skipped), at most `cap` owed in all.
    pub fn earn(&mut self, ticks: u32, cap: u32) {
        self.owed = self.owed.saturating_add(ticks).min(cap);
    }

    /// The next input, when a step is owed for it (a catch-up step); `None` otherwise.
    pub fn next_owed(&mut self) -> Option<PlayerInput> {
        if self.owed == 0 || self.pending.is_empty() {
            return None;
        }
        self.owed -= 1;
        self.next()
    }

    /// A step was taken for a tick: it no longer owes one.
    pub fn stepped(&mut self) {
        self.owed = self.owed.saturating_sub(1);
    }

    /// The player's connection is gone: stand still from the next tick on, without moving the
    /// ack (a resumed client keeps counting from where the server is).
    pub fn stand_still(&mut self) {
        self.pending.clear();
        self.pending.push_back(PlayerInput {
            seq: self.last_seq,
            ..Default::default()
        });
        self.buttons_latch = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inp(seq: u32, buttons: u8) -> PlayerInput {
        PlayerInput {
            seq,
            dx: 1,
            buttons,
            ..Default::default()
        }
    }

    #[test]
    fn applies_in_order_one_per_call_and_acks_the_highest() {
        let mut q = InputQueue::default();
        q.push(inp(1, 0), 3).unwrap();
        q.push(inp(2, 0), 3).unwrap();
        assert_eq!(q.next().map(|i| i.seq), Some(1));
        assert_eq!(q.last_seq(), 1);
        assert_eq!(q.next().map(|i| i.seq), Some(2));
        assert_eq!(q.next(), None);
        assert_eq!(q.last_seq(), 2);
    }

    #[test]
    fn stale_and_duplicate_numbers_are_refused() {
        let mut q = InputQueue::default();
        q.push(inp(5, 0), 3).unwrap();
        assert_eq!(q.push(inp(5, 0), 3), Err(Stale));
        assert_eq!(q.push(inp(4, 0), 3), Err(Stale));
        q.next();
        assert_eq!(q.push(inp(3, 0), 3), Err(Stale), "below the ack");
        assert!(q.push(inp(6, 0), 3).is_ok());
    }

    #[test]
    fn catch_up_steps_spend_only_ticks_owed() {
        let mut q = InputQueue::default();
        // Three ticks pass idle, then a burst of five arrives.
        q.earn(3, 8);
        for seq in 1..=5 {
            q.push(inp(seq, 0), 8).unwrap();
        }
        // A tick: one step for it, and one owed step per catch-up, three at most.
        q.earn(1, 8);
        assert_eq!(q.next().map(|i| i.seq), Some(1));
        q.stepped();
        let caught: Vec<u32> = std::iter::from_fn(|| q.next_owed().map(|i| i.seq)).collect();
        assert_eq!(caught, vec![2, 3, 4], "three ticks owed, three made up");
        // Nothing more is owed: the fifth waits for its own tick.
        assert!(q.next_owed().is_none());
        assert_eq!(q.len(), 1);
        // Owed ticks are capped.
        q.earn(100, 8);
        q.push(inp(6, 0), 8).unwrap();
        q.push(inp(7, 0), 8).unwrap();
        assert_eq!(std::iter::from_fn(|| q.next_owed()).count(), 3);
        assert_eq!(q.owed, 5);
    }

    #[test]
    fn past_the_buffer_the_oldest_goes() {
        let mut q = InputQueue::default();
        for seq in 1..=9 {
            q.push(inp(seq, 0), 3).unwrap();
        }
        assert_eq!(q.take_overflowed(), 6, "counted, for the metric");
        assert_eq!(q.take_overflowed(), 0);
        assert_eq!(q.next().map(|i| i.seq), Some(7));
        let mut latest = InputQueue::default();
        latest.push(inp(1, 0), 1).unwrap();
        latest.push(inp(2, 0), 1).unwrap();
        assert_eq!(
            latest.next().map(|i| i.seq),
            Some(2),
            "a buffer of 1: the latest wins"
        );
    }

    #[test]
    fn a_tap_survives_even_on_a_stale_input_until_the_next_tick() {
        let mut q = InputQueue::default();
        q.push(inp(2, 0), 3).unwrap();
        assert_eq!(q.push(inp(1, 1), 3), Err(Stale));
        assert_eq!(q.next().map(|i| i.buttons), Some(1));
        q.push(inp(3, 0), 3).unwrap();
        assert_eq!(q.next().map(|i| i.buttons), Some(0), "the latch is spent");
    }

    #[test]
    fn earlier_inputs_fill_a_gap_and_copies_are_ignored() {
        let mut q = InputQueue::default();
        q.push(inp(1, 0), 8).unwrap();
        assert_eq!(q.next().map(|i| i.seq), Some(1));
        // Message 2 was lost; message 3 carries 1 and 2 before it.
        q.fill(inp(1, 1), 8);
        q.fill(inp(2, 0), 8);
        q.push(inp(3, 0), 8).unwrap();
        assert_eq!(q.len(), 2);
        let two = q.next().unwrap();
        assert_eq!(
            (two.seq, two.buttons),
            (2, 0),
            "the copy of 1 latched nothing"
        );
        assert_eq!(q.next().map(|i| i.seq), Some(3));
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn standing_still_keeps_the_ack() {
        let mut q = InputQueue::default();
        q.push(inp(7, 1), 3).unwrap();
        q.next();
        q.push(inp(8, 1), 3).unwrap();
        q.stand_still();
        let still = q.next().unwrap();
        assert_eq!((still.seq, still.dx, still.buttons), (7, 0, 0));
        assert_eq!(q.last_seq(), 7);
        assert!(
            q.push(inp(8, 0), 3).is_ok(),
            "the client resumes counting from the ack"
        );
    }
}
