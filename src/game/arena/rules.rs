//! The arena's numbers: entity fields, kinds, events, the pillars, and the tunables per tick rate.

use glam::Vec2;
use std::time::Duration;

/// Entity fields on the wire (PROTOCOL.md repeats this table). Each kind gives them its meaning.
pub mod field {
    pub const X: usize = 0;
    pub const Y: usize = 1;
    /// Players: the last applied input. Projectiles: the input that fired it. Round: the winner.
    pub const ACK: usize = 2;
    pub const AIM: usize = 3;
    /// Players: health. Round: its phase (0 live, 1 over).
    pub const HP: usize = 4;
    /// Players: kills this round. Round: the kill goal (0: none).
    pub const KILLS: usize = 5;
    /// Players: deaths this round. Round: the tick its clock runs out (0: no clock).
    pub const DEATHS: usize = 6;
    /// Players: the tick they respawn at (0 while alive). Projectiles: the shooter's id.
    /// Round: while over, the tick the next round starts.
    pub const RESPAWN_OR_OWNER: usize = 7;
    pub const KIND: usize = 8;
    /// Players: their seat (0.., lowest free at join). Projectiles: their shooter's seat.
    pub const SEAT: usize = 9;
    pub const COUNT: u8 = 10;
}

/// Entity kinds in field [`field::KIND`].
pub const KIND_PLAYER: i32 = 0;
pub const KIND_PROJECTILE: i32 = 1;
pub const KIND_ROUND: i32 = 2;

/// Event kinds in `GameEvent::kind`.
pub const EVENT_HIT: u8 = 1;
pub const EVENT_KILL: u8 = 2;
pub const EVENT_RESPAWN: u8 = 3;
/// `a`: the winner (0: a draw), `b`: the tick the next round starts.
pub const EVENT_ROUND_OVER: u8 = 4;
pub const EVENT_ROUND_START: u8 = 5;

/// Round pillars that block movement and shots: (x, y, radius). The browser draws the same list.
pub const PILLARS: [(f32, f32, f32); 6] = [
    (400.0, 300.0, 50.0),
    (1200.0, 300.0, 50.0),
    (400.0, 700.0, 50.0),
    (1200.0, 700.0, 50.0),
    (800.0, 500.0, 80.0),
    (800.0, 150.0, 30.0),
];

/// First to this many eliminations wins, unless the lobby says otherwise.
pub const DEFAULT_KILL_GOAL: u16 = 10;
/// A round's clock, unless the lobby says otherwise.
pub const DEFAULT_ROUND_SECONDS: u16 = 300;
/// How far back a shot may be judged by default (lag compensation).
pub const DEFAULT_MAX_REWIND: Duration = Duration::from_millis(200);

/// Tunables, in seconds and units, turned into ticks for the lobby's tick rate.
#[derive(Clone, Debug)]
pub struct ArenaRules {
    pub dt: f32,
    pub world: Vec2,
    pub player_radius: f32,
    pub player_speed: f32,
    pub max_hp: i32,
    pub damage: i32,
    pub projectile_speed: f32,
    pub projectile_life_ticks: u32,
    /// Counted in the shooter's own steps (inputs applied), not in ticks, so a client predicts
    /// exactly which of its inputs fire.
    pub fire_cooldown_ticks: u32,
    pub respawn_ticks: u32,
    /// First to this many eliminations wins the round (0: no goal).
    pub kill_goal: u16,
    /// The round's clock (0: none).
    pub round_ticks: u32,
    /// Between rounds: the winner screen, then a countdown, all within this.
    pub round_over_ticks: u32,
    /// Lag compensation: at most this many ticks back.
    pub max_rewind_ticks: u32,
}

impl ArenaRules {
    pub fn new(tick_rate: u16) -> Self {
        let r = f32::from(tick_rate.max(1));
        let ticks = |secs: f32| ((secs * r).round() as u32).max(1);
        ArenaRules {
            dt: 1.0 / r,
            world: Vec2::new(1600.0, 1000.0),
            player_radius: 18.0,
            player_speed: 240.0,
            max_hp: 100,
            damage: 25,
            projectile_speed: 750.0,
            projectile_life_ticks: ticks(0.9),
            fire_cooldown_ticks: ticks(0.25),
            respawn_ticks: ticks(3.0),
            kill_goal: DEFAULT_KILL_GOAL,
            round_ticks: ticks(f32::from(DEFAULT_ROUND_SECONDS)),
            round_over_ticks: ticks(8.0),
            max_rewind_ticks: (DEFAULT_MAX_REWIND.as_secs_f32() * r).round() as u32,
        }
    }

    /// The lobby's round rules: a kill goal and a clock in seconds, each 0 for none.
    pub fn with_round(mut self, kill_goal: u16, round_seconds: u16) -> Self {
        self.kill_goal = kill_goal;
        self.round_ticks = (f32::from(round_seconds) / self.dt).round() as u32;
        self
    }

    /// How far back lag compensation may judge a shot.
    pub fn with_max_rewind(mut self, max: Duration) -> Self {
        self.max_rewind_ticks = (max.as_secs_f32() / self.dt).round() as u32;
        self
    }
}
