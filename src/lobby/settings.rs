//! What a lobby knows about itself, fixed at creation.

use crate::game::GameKind;
use crate::protocol::LobbyId;

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
    /// Close after this many ticks with nobody seated or watching.
    pub empty_close_ticks: u32,
    /// Hold a disconnected player's seat this many ticks.
    pub reconnect_grace_ticks: u32,
    /// Disconnect a client that could not be sent its snapshot for this many ticks.
    pub max_behind_ticks: u32,
    /// Chat: a burst of this many lines, then one more per `chat_refill_ticks`.
    pub chat_burst: u32,
    pub chat_refill_ticks: u32,
    pub seed: u64,
}

impl LobbySettings {
    pub fn snapshot_rate(&self) -> u16 {
        (u32::from(self.tick_rate) / self.snapshot_every.max(1)).max(1) as u16
    }
}
