//! What a lobby knows about itself, fixed at creation.

use crate::game::arena::{DEFAULT_KILL_GOAL, DEFAULT_ROUND_SECONDS};
use crate::game::{GameKind, GameSetup};
use crate::protocol::LobbyId;
use std::time::Duration;

/// Everything a lobby needs to know about itself, fixed at creation.
#[derive(Clone, Debug)]
pub struct LobbySettings {
    pub id: LobbyId,
    pub code: String,
    pub name: String,
    pub game: GameKind,
    pub max_players: u16,
    pub max_spectators: u16,
    pub public: bool,
    pub tick_rate: u16,
    /// Send a snapshot every this many ticks (1: every tick).
    pub snapshot_every: u32,
    /// How many past snapshots are kept to serve deltas to clients that fell behind.
    pub history: usize,
    /// Close after this long with nobody seated or watching. Like every limit promised in
    /// seconds, kept on the clock the lobby is given, not counted in ticks (a lobby that falls
    /// behind runs fewer ticks than it should).
    pub empty_close: Duration,
    /// Hold a disconnected player's seat this long (zero: not at all).
    pub reconnect_grace: Duration,
    /// Disconnect a client that could not be sent its snapshot for this long.
    pub slow_client: Duration,
    /// Chat: a burst of this many lines, then one more per `chat_refill`.
    pub chat_burst: u32,
    pub chat_refill: Duration,
    pub seed: u64,
    /// Arena rounds: the kill goal and the round's length in seconds (0: none).
    pub kill_goal: u16,
    pub round_seconds: u16,
    /// Lag compensation: how far back a shot may be judged.
    pub max_rewind: Duration,
}

impl LobbySettings {
    /// What the lobby's game is built from.
    pub fn game_setup(&self) -> GameSetup {
        GameSetup {
            tick_rate: self.tick_rate,
            seed: self.seed,
            kill_goal: self.kill_goal,
            round_seconds: self.round_seconds,
            max_rewind: self.max_rewind,
        }
    }

    pub fn snapshot_rate(&self) -> u16 {
        (u32::from(self.tick_rate) / self.snapshot_every.max(1)).max(1) as u16
    }
}

/// A lobby's round rules as its creator chose them (arena; other games ignore them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rounds {
    /// First to this many eliminations wins (0: no goal).
    pub kill_goal: u16,
    /// A round's length in seconds (0: no clock).
    pub round_seconds: u16,
}

impl Default for Rounds {
    fn default() -> Self {
        Rounds {
            kill_goal: DEFAULT_KILL_GOAL,
            round_seconds: DEFAULT_ROUND_SECONDS,
        }
    }
}
