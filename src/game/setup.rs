//! What a game is built from: the lobby's tick rate and seed, and its round rules.

use super::arena::{DEFAULT_KILL_GOAL, DEFAULT_MAX_REWIND, DEFAULT_ROUND_SECONDS};
use std::time::Duration;

/// Everything a game needs at creation. Games that have no rounds ignore those fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GameSetup {
    pub tick_rate: u16,
    pub seed: u64,
    /// First to this many eliminations wins the round (0: no goal).
    pub kill_goal: u16,
    /// A round's length (0: no clock).
    pub round_seconds: u16,
    /// Lag compensation: how far back a shot may be judged.
    pub max_rewind: Duration,
}

impl GameSetup {
    /// The defaults at `tick_rate`, seeded with `seed`.
    pub fn new(tick_rate: u16, seed: u64) -> Self {
        GameSetup {
            tick_rate,
            seed,
            kill_goal: DEFAULT_KILL_GOAL,
            round_seconds: DEFAULT_ROUND_SECONDS,
            max_rewind: DEFAULT_MAX_REWIND,
        }
    }
}
