//! The `Game` trait and the bundled games. Pure and deterministic: a seeded RNG, a fixed dt, no I/O.

pub mod arena;
mod setup;
mod walkers;

pub use arena::{Arena, ArenaRules};
pub use setup::GameSetup;
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
    /// How the lobby feeds this game its players' inputs.
    fn input_policy(&self) -> InputPolicy {
        InputPolicy::Latest
    }
    /// No input arrived for `player` this tick (only under [`InputPolicy::EachOnce`]): it waits
    /// this step instead of repeating its last input.
    fn idle(&mut self, _player: EntityId) {}
    /// The player's current input takes one extra step of its own now, before the tick's step
    /// (only under [`InputPolicy::EachOnce`], draining a burst of inputs).
    fn catch_up(&mut self, _player: EntityId) {}
    /// A copy of the whole world, for replay playback's keyframes (seeking re-simulates from the
    /// nearest one). `None`: this game cannot be copied, and playback re-simulates from the start.
    fn clone_box(&self) -> Option<Box<dyn Game + Sync>> {
        None
    }
}

/// How a game takes its players' inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputPolicy {
    /// The newest input wins (one waits at most); with none, the last one holds. Walkers, as
    /// WORKLOAD.md defines it.
    Latest,
    /// Every input is exactly one step of its player, as its client predicted it: one a tick,
    /// oldest first, up to `buffer` waiting (past that the oldest go); a tick with none is an
    /// idle step, and a tick with more than `catch_up_above` waiting takes one extra if the
    /// player is owed a tick for it (one it idled or the lobby skipped, up to `buffer`).
    EachOnce {
        buffer: usize,
        catch_up_above: usize,
    },
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

    /// Builds the game for a lobby. The seed makes every run of a lobby reproducible.
    pub fn create(self, setup: &GameSetup) -> Box<dyn Game> {
        let dt = 1.0 / f32::from(setup.tick_rate.max(1));
        match self {
            GameKind::Arena => Box::new(Arena::new(
                ArenaRules::new(setup.tick_rate)
                    .with_round(setup.kill_goal, setup.round_seconds)
                    .with_max_rewind(setup.max_rewind),
                setup.seed,
            )),
            GameKind::Walkers => Box::new(Walkers::new(dt, setup.seed)),
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
