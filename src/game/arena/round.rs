//! A round of the arena: live until someone reaches the kill goal or the clock runs out, then
//! over (a winner, nobody moves) until the next round starts.

use crate::protocol::EntityId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Playing; the clock runs out at `ends_at` (0: no clock).
    Live { ends_at: u32 },
    /// Decided; the next round starts at `next_at`.
    Over {
        winner: Option<EntityId>,
        next_at: u32,
    },
}

/// One player's standing, for deciding a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub id: EntityId,
    pub kills: i32,
    pub deaths: i32,
}

#[derive(Clone, Debug)]
pub struct Round {
    pub phase: Phase,
    pub kill_goal: u16,
    round_ticks: u32,
    over_ticks: u32,
}

impl Round {
    /// A round that starts at `tick`.
    pub fn new(tick: u32, kill_goal: u16, round_ticks: u32, over_ticks: u32) -> Self {
        let mut r = Round {
            phase: Phase::Live { ends_at: 0 },
            kill_goal,
            round_ticks,
            over_ticks,
        };
        r.start(tick);
        r
    }

    pub fn is_live(&self) -> bool {
        matches!(self.phase, Phase::Live { .. })
    }

    /// Starts a new round at `tick` (its clock from now).
    pub fn start(&mut self, tick: u32) {
        let ends_at = if self.round_ticks == 0 {
            0
        } else {
            tick.wrapping_add(self.round_ticks).max(1)
        };
        self.phase = Phase::Live { ends_at };
    }

    /// Over and due to start again at `tick`.
    pub fn restart_due(&self, tick: u32) -> bool {
        matches!(self.phase, Phase::Over { next_at, .. } if tick >= next_at)
    }

    /// Decides the round at the end of `tick` if the goal is reached or the clock ran out;
    /// returns the phase it ended in. The leader wins: most kills, then fewest deaths; a tie
    /// for the lead is a draw when the clock decides (the goal always has a first to reach it,
    /// unless two reach it on the same tick: then the same order decides, a full tie a draw).
    pub fn decide(&mut self, tick: u32, standings: &[Standing]) -> Option<Phase> {
        let Phase::Live { ends_at } = self.phase else {
            return None;
        };
        let goal = i32::from(self.kill_goal);
        let reached = goal > 0 && standings.iter().any(|s| s.kills >= goal);
        let timed_out = ends_at != 0 && tick >= ends_at;
        if !reached && !timed_out {
            return None;
        }
        self.phase = Phase::Over {
            winner: leader(standings),
            next_at: tick.wrapping_add(self.over_ticks).max(1),
        };
        Some(self.phase)
    }
}

/// Most kills, then fewest deaths; `None` when that still ties (or nobody plays).
fn leader(standings: &[Standing]) -> Option<EntityId> {
    let key = |s: &Standing| (s.kills, -s.deaths);
    let best = standings.iter().max_by_key(|s| key(s))?;
    let ties = standings.iter().filter(|s| key(s) == key(best)).count();
    (ties == 1).then_some(best.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(id: u32, kills: i32, deaths: i32) -> Standing {
        Standing {
            id: EntityId(id),
            kills,
            deaths,
        }
    }

    #[test]
    fn the_goal_ends_the_round_with_its_first_reacher() {
        let mut r = Round::new(1, 3, 0, 100);
        assert_eq!(r.decide(50, &[st(2, 2, 0), st(3, 1, 2)]), None);
        let over = r.decide(60, &[st(2, 3, 1), st(3, 1, 3)]);
        assert_eq!(
            over,
            Some(Phase::Over {
                winner: Some(EntityId(2)),
                next_at: 160
            })
        );
        assert!(!r.is_live());
        // Decided once; nothing more happens until the restart.
        assert_eq!(r.decide(61, &[st(2, 9, 0)]), None);
        assert!(!r.restart_due(159));
        assert!(r.restart_due(160));
        r.start(160);
        assert!(r.is_live());
    }

    #[test]
    fn the_clock_ends_the_round_and_a_tied_lead_is_a_draw() {
        let mut r = Round::new(10, 0, 300, 240);
        assert_eq!(r.phase, Phase::Live { ends_at: 310 });
        assert_eq!(r.decide(309, &[st(2, 5, 0), st(3, 5, 0)]), None);
        assert_eq!(
            r.decide(310, &[st(2, 5, 0), st(3, 5, 0)]),
            Some(Phase::Over {
                winner: None,
                next_at: 550
            })
        );
        // Kills tie, deaths decide.
        let mut r = Round::new(10, 0, 300, 240);
        let over = r.decide(400, &[st(2, 5, 2), st(3, 5, 1)]);
        assert!(matches!(
            over,
            Some(Phase::Over {
                winner: Some(EntityId(3)),
                ..
            })
        ));
    }

    #[test]
    fn no_goal_and_no_clock_never_ends() {
        let mut r = Round::new(1, 0, 0, 240);
        assert_eq!(r.phase, Phase::Live { ends_at: 0 });
        assert_eq!(r.decide(u32::MAX - 1, &[st(2, 1000, 0)]), None);
    }

    #[test]
    fn an_empty_round_that_times_out_has_no_winner() {
        let mut r = Round::new(1, 10, 30, 240);
        assert!(matches!(
            r.decide(31, &[]),
            Some(Phase::Over { winner: None, .. })
        ));
    }
}
