//! The `Game` trait and the bundled games. Pure and deterministic: a seeded RNG, a fixed dt, no I/O.

pub mod arena;
mod walkers;

pub use arena::{Arena, ArenaRules};
pub use walkers::{Walkers, WALKERS_SPEED, WALKERS_WORLD};

use crate::protocol::{EntityId, GameEvent, PlayerInput, Tick};
use crate::snapshot::EntityTable;
use std::fmt;
use std::str::FromStr;

/// A game a lobby can run. Inputs in, a deterministic step at a fixed dt, entities out.
pub trait Game: Send + 'static {
    fn kind(&self) -> GameKind;
    /// How many quantized fields each entity has on the wire (at most [`crate::snapshot::MAX_FIELDS`]).
    fn field_count(&self) -> u8;
    /// Which field carries a player's last applied input sequence (the lobby writes it).
    fn ack_field(&self) -> usize;
    /// Adds a player and returns its entity id (ids are never reused within a game).
    fn spawn_player(&mut self) -> EntityId;
    /// Removes a player and anything that belongs only to it.
    fn despawn_player(&mut self, player: EntityId);
    /// The latest input of a player, applied from the next step on. Values are already validated.
    fn apply_input(&mut self, player: EntityId, input: &PlayerInput);
    /// Advances the world by one tick, appending what happened to `events`.
    fn step(&mut self, tick: Tick, events: &mut Vec<GameEvent>);
    /// Writes every entity into `table` (already cleared), ascending by id.
    fn write_table(&self, table: &mut EntityTable);
    /// Starts a new round: scores reset, everyone respawns.
    fn restart(&mut self, tick: Tick);
    /// How many inputs may wait per player, applied one per tick. 1 means "the latest input
    /// wins" (walkers, as WORKLOAD.md defines it); more lets a client that sends one input per
    /// tick have every one applied despite network jitter, so its prediction matches exactly.
    fn input_buffer(&self) -> usize {
        1
    }
}

/// The bundled games, by their wire name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GameKind {
    Arena,
    Walkers,
}

impl GameKind {
    pub const ALL: [GameKind; 2] = [GameKind::Arena, GameKind::Walkers];

    pub fn name(self) -> &'static str {
        match self {
            GameKind::Arena => "arena",
            GameKind::Walkers => "walkers",
        }
    }

    /// Builds the game for a lobby. `seed` makes every run of a lobby reproducible.
    pub fn create(self, tick_rate: u16, seed: u64) -> Box<dyn Game> {
        let dt = 1.0 / f32::from(tick_rate.max(1));
        match self {
            GameKind::Arena => Box::new(Arena::new(ArenaRules::new(tick_rate), seed)),
            GameKind::Walkers => Box::new(Walkers::new(dt, seed)),
        }
    }
}

impl fmt::Display for GameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for GameKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        GameKind::ALL
            .into_iter()
            .find(|g| g.name() == s)
            .ok_or_else(|| format!("unknown game {s:?} (known: arena, walkers)"))
    }
}

/// normalize(dx, dy) for direction inputs in -1..=1: zero stays zero, diagonals have length 1.
pub(crate) fn direction(dx: i8, dy: i8) -> glam::Vec2 {
    glam::Vec2::new(f32::from(dx), f32::from(dy)).normalize_or_zero()
}
