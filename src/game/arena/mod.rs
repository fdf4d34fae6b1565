//! `arena`: the bundled top-down shooter. Move, aim, fire; projectiles, health, kills, respawns,
//! rounds to a kill goal, and shots judged against what their shooter saw (lag compensation).

mod rewind;
mod round;
mod rules;

pub use round::Phase;
pub use rules::{
    field, ArenaRules, DEFAULT_KILL_GOAL, DEFAULT_MAX_REWIND, DEFAULT_ROUND_SECONDS, EVENT_HIT,
    EVENT_KILL, EVENT_RESPAWN, EVENT_ROUND_OVER, EVENT_ROUND_START, KIND_PLAYER, KIND_PROJECTILE,
    KIND_ROUND, PILLARS,
};

use super::{direction, Game, GameKind, InputPolicy};
use crate::protocol::{EntityId, GameEvent, PlayerInput, Tick, BUTTON_FIRE};
use crate::snapshot::{angle_to_q, pos_to_q, EntityTable, MAX_FIELDS};
use glam::Vec2;
use rewind::Rewind;
use round::{Round, Standing};

/// Inputs that may wait per player (applied one per tick; past this the oldest go).
const INPUT_BUFFER: usize = 8;
/// More than this many waiting after a tick's input: the tick applies one more (a burst after
/// a stall drains in a few ticks instead of adding latency for good).
const CATCH_UP_ABOVE: usize = 2;

#[derive(Clone, Debug)]
struct Player {
    id: EntityId,
    seat: u16,
    pos: Vec2,
    input: PlayerInput,
    /// No input came for this tick: the player waits (neither moves nor fires) instead of
    /// repeating its last one, so every input is exactly one step, as its client predicted.
    idle: bool,
    /// Lag compensation for the current input's shots: how many ticks its client was looking
    /// into the past when it sent it.
    rewind: u32,
    hp: i32,
    kills: i32,
    deaths: i32,
    /// 0 while alive; otherwise the tick at which the player comes back.
    respawn_at: u32,
    /// Steps (inputs applied) until the player may fire again.
    fire_wait: u32,
}

#[derive(Clone, Debug)]
struct Projectile {
    id: EntityId,
    owner: EntityId,
    seat: u16,
    /// The input that fired it: the shooter's client matches its predicted shot by this.
    seq: u32,
    pos: Vec2,
    vel: Vec2,
    expires: u32,
    /// Judged against the players as they stood this many ticks ago.
    rewind: u32,
}

/// A shot fired by a step, spawned with the tick's projectiles.
#[derive(Clone, Copy, Debug)]
struct Shot {
    owner: EntityId,
    seat: u16,
    seq: u32,
    pos: Vec2,
    aim: Vec2,
    rewind: u32,
}

/// The arena's world. Players, projectiles and the round share one id space, so ids never collide.
#[derive(Clone)]
pub struct Arena {
    rules: ArenaRules,
    rng: fastrand::Rng,
    next_id: u32,
    tick: u32,
    round_id: EntityId,
    round: Round,
    players: Vec<Player>,
    projectiles: Vec<Projectile>,
    shots: Vec<Shot>,
    rewind: Rewind,
}

impl Arena {
    pub fn new(rules: ArenaRules, seed: u64) -> Self {
        let round = Round::new(
            0,
            rules.kill_goal,
            rules.round_ticks,
            rules.round_over_ticks,
        );
        Arena {
            rewind: Rewind::new(rules.max_rewind_ticks),
            rules,
            rng: fastrand::Rng::with_seed(seed),
            next_id: 2,
            tick: 0,
            round_id: EntityId(1),
            round,
            players: Vec::new(),
            projectiles: Vec::new(),
            shots: Vec::new(),
        }
    }

    fn alloc_id(&mut self) -> EntityId {
        let id = EntityId(self.next_id);
        self.next_id += 1;
        id
    }

    /// A free spot: random, away from pillars, trying a few times to keep away from other players.
    fn spawn_point(&mut self) -> Vec2 {
        let r = self.rules.player_radius;
        let mut best = Vec2::new(r, r);
        let mut best_gap = -1.0f32;
        for _ in 0..16 {
            let p = Vec2::new(
                r + self.rng.f32() * (self.rules.world.x - 2.0 * r),
                r + self.rng.f32() * (self.rules.world.y - 2.0 * r),
            );
            if PILLARS
                .iter()
                .any(|&(x, y, pr)| p.distance(Vec2::new(x, y)) < pr + r + 4.0)
            {
                continue;
            }
            let gap = self
                .players
                .iter()
                .filter(|o| o.respawn_at == 0)
                .map(|o| o.pos.distance(p))
                .fold(f32::INFINITY, f32::min);
            if gap > best_gap {
                best = p;
                best_gap = gap;
            }
            if gap > 200.0 {
                break;
            }
        }
        best
    }

    /// Players stay sorted by id (ids only grow and removal keeps order): a binary search, so
    /// applying every player's input is O(n log n) a tick, not O(n^2).
    fn index(&self, id: EntityId) -> Option<usize> {
        self.players.binary_search_by_key(&id, |p| p.id).ok()
    }

    fn player_mut(&mut self, id: EntityId) -> Option<&mut Player> {
        self.index(id).map(|i| &mut self.players[i])
    }

    /// Keeps a circle of radius `r` inside the world and outside every pillar.
    fn resolve(world: Vec2, r: f32, mut p: Vec2) -> Vec2 {
        for &(x, y, pr) in &PILLARS {
            let c = Vec2::new(x, y);
            let d = p - c;
            let min = pr + r;
            if d.length_squared() < min * min {
                let n = d.try_normalize().unwrap_or(Vec2::X);
                p = c + n * min;
            }
        }
        p.clamp(Vec2::splat(r), world - Vec2::splat(r))
    }

    /// One step of player `i` on its current input: move, then fire if it may. A player that
    /// is dead, or between rounds, does nothing.
    fn act(&mut self, i: usize) {
        let rules = &self.rules;
        let live = self.round.is_live();
        let p = &mut self.players[i];
        if p.respawn_at != 0 || !live {
            return;
        }
        let d = direction(p.input.dx, p.input.dy);
        p.pos = Self::resolve(
            rules.world,
            rules.player_radius,
            p.pos + d * rules.player_speed * rules.dt,
        );
        p.fire_wait = p.fire_wait.saturating_sub(1);
        if p.input.buttons & BUTTON_FIRE != 0 && p.fire_wait == 0 {
            p.fire_wait = rules.fire_cooldown_ticks;
            let aim = Vec2::from_angle(p.input.aim);
            self.shots.push(Shot {
                owner: p.id,
                seat: p.seat,
                seq: p.input.seq,
                pos: p.pos + aim * (rules.player_radius + 6.0),
                aim,
                rewind: p.rewind,
            });
        }
    }

    /// Test helpers: a player's position, hp and kills.
    pub fn player_state(&self, id: EntityId) -> Option<(Vec2, i32, i32)> {
        self.index(id).map(|i| {
            let p = &self.players[i];
            (p.pos, p.hp, p.kills)
        })
    }

    /// Test helper: puts a player at a position.
    pub fn place(&mut self, id: EntityId, pos: Vec2) {
        if let Some(p) = self.player_mut(id) {
            p.pos = pos;
        }
    }

    pub fn projectile_count(&self) -> usize {
        self.projectiles.len()
    }

    /// The round's phase (tests, and the lobby's logs).
    pub fn phase(&self) -> Phase {
        self.round.phase
    }

    fn respawns(&mut self, events: &mut Vec<GameEvent>) {
        for i in 0..self.players.len() {
            let p = &self.players[i];
            if p.respawn_at != 0 && p.respawn_at <= self.tick {
                self.revive(i);
                events.push(GameEvent {
                    kind: EVENT_RESPAWN,
                    a: self.players[i].id.0,
                    b: 0,
                });
            }
        }
    }

    /// Player `i` back in play: at a spawn point, full health, ready to fire.
    fn revive(&mut self, i: usize) {
        let pos = self.spawn_point();
        let p = &mut self.players[i];
        p.pos = pos;
        p.hp = self.rules.max_hp;
        p.respawn_at = 0;
        p.fire_wait = 0;
    }

    /// Everyone back, scores reset, shots gone: a new round from `tick`.
    fn new_round(&mut self, tick: u32) {
        self.projectiles.clear();
        self.shots.clear();
        self.rewind.clear();
        for i in 0..self.players.len() {
            self.revive(i);
            let p = &mut self.players[i];
            p.kills = 0;
            p.deaths = 0;
        }
        self.round.start(tick);
    }

    /// Moves every projectile along its segment for this tick; the first pillar or live player
    /// it meets stops it. Players are taken as its shooter saw them (`rewind` ticks ago).
    fn fly(&mut self, events: &mut Vec<GameEvent>) {
        let rules = &self.rules;
        let tick = self.tick;
        let hit_r = rules.player_radius + 4.0;
        let mut hits: Vec<(EntityId, EntityId)> = Vec::new();
        let players = &self.players;
        let rewind = &self.rewind;
        self.projectiles.retain_mut(|pr| {
            let from = pr.pos;
            let to = from + pr.vel * rules.dt;
            pr.pos = to;
            if tick >= pr.expires
                || to.x < 0.0
                || to.y < 0.0
                || to.x > rules.world.x
                || to.y > rules.world.y
            {
                return false;
            }
            if PILLARS
                .iter()
                .any(|&(x, y, r)| segment_dist_sq(from, to, Vec2::new(x, y)) < r * r)
            {
                return false;
            }
            let past = rewind.at(tick.saturating_sub(pr.rewind)).unwrap_or(&[]);
            let target = past.iter().find(|(id, at)| {
                *id != pr.owner
                    && segment_dist_sq(from, to, *at) < hit_r * hit_r
                    // Still here and alive now: a shot cannot hurt the dead or the gone.
                    && players
                        .binary_search_by_key(id, |p| p.id)
                        .is_ok_and(|i| players[i].respawn_at == 0)
            });
            if let Some(&(victim, _)) = target {
                hits.push((pr.owner, victim));
                return false;
            }
            true
        });
        for (shooter, victim) in hits {
            self.hit(shooter, victim, events);
        }
    }

    fn hit(&mut self, shooter: EntityId, victim: EntityId, events: &mut Vec<GameEvent>) {
        let (damage, respawn) = (self.rules.damage, self.tick + self.rules.respawn_ticks);
        let Some(t) = self.player_mut(victim) else {
            return;
        };
        if t.respawn_at != 0 {
            return; // two shots on one tick: the first one killed
        }
        t.hp -= damage;
        events.push(GameEvent {
            kind: EVENT_HIT,
            a: shooter.0,
            b: victim.0,
        });
        if t.hp > 0 {
            return;
        }
        t.hp = 0;
        t.deaths += 1;
        t.respawn_at = respawn;
        if let Some(k) = self.player_mut(shooter) {
            k.kills += 1;
        }
        events.push(GameEvent {
            kind: EVENT_KILL,
            a: shooter.0,
            b: victim.0,
        });
    }

    fn decide_round(&mut self, events: &mut Vec<GameEvent>) {
        let standings: Vec<Standing> = self
            .players
            .iter()
            .map(|p| Standing {
                id: p.id,
                kills: p.kills,
                deaths: p.deaths,
            })
            .collect();
        if let Some(Phase::Over { winner, next_at }) = self.round.decide(self.tick, &standings) {
            // The round's last shots vanish with it; the winner screen shows a still world.
            self.projectiles.clear();
            events.push(GameEvent {
                kind: EVENT_ROUND_OVER,
                a: winner.map_or(0, |w| w.0),
                b: next_at,
            });
        }
    }
}

/// Where along the segment a→b the point c comes nearest: the squared distance.
fn segment_dist_sq(a: Vec2, b: Vec2, c: Vec2) -> f32 {
    let ab = b - a;
    let t = if ab.length_squared() > 0.0 {
        ((c - a).dot(ab) / ab.length_squared()).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (a + ab * t).distance_squared(c)
}

impl Game for Arena {
    fn kind(&self) -> GameKind {
        GameKind::Arena
    }
    fn clone_box(&self) -> Option<Box<dyn Game + Sync>> {
        Some(Box::new(self.clone()))
    }

    fn field_count(&self) -> u8 {
        field::COUNT
    }

    fn ack_field(&self) -> usize {
        field::ACK
    }

    fn spawn_player(&mut self) -> EntityId {
        let id = self.alloc_id();
        let pos = self.spawn_point();
        // The lowest seat nobody holds: colours stay distinct and stable while a player stays.
        let mut seat = 0u16;
        while self.players.iter().any(|p| p.seat == seat) {
            seat += 1;
        }
        self.players.push(Player {
            id,
            seat,
            pos,
            input: PlayerInput::default(),
            idle: false,
            rewind: 0,
            hp: self.rules.max_hp,
            kills: 0,
            deaths: 0,
            respawn_at: 0,
            fire_wait: 0,
        });
        id
    }

    fn despawn_player(&mut self, player: EntityId) {
        self.players.retain(|p| p.id != player);
        // Shots already fired keep flying; they just credit nobody.
    }

    fn apply_input(&mut self, player: EntityId, input: &PlayerInput) {
        let (tick, max) = (self.tick, self.rules.max_rewind_ticks);
        if let Some(p) = self.player_mut(player) {
            p.input = *input;
            p.idle = false;
            // The input is applied on the coming tick; its client drew the others at view_tick.
            p.rewind = if input.view_tick == 0 {
                0
            } else {
                (tick + 1).saturating_sub(input.view_tick).min(max)
            };
        }
    }

    fn idle(&mut self, player: EntityId) {
        if let Some(p) = self.player_mut(player) {
            p.idle = true;
        }
    }

    fn catch_up(&mut self, player: EntityId) {
        if let Some(i) = self.index(player) {
            self.act(i);
        }
    }

    fn step(&mut self, tick: Tick, events: &mut Vec<GameEvent>) {
        self.tick = tick.0;
        if self.round.restart_due(self.tick) {
            self.new_round(self.tick);
            events.push(GameEvent {
                kind: EVENT_ROUND_START,
                a: 0,
                b: 0,
            });
        }
        // Respawns first, so a returning player can act this very tick.
        if self.round.is_live() {
            self.respawns(events);
        }
        for i in 0..self.players.len() {
            if std::mem::take(&mut self.players[i].idle) {
                // Waiting for its input; still kept out of walls (a placed or respawned player).
                let p = &mut self.players[i];
                p.pos = Self::resolve(self.rules.world, self.rules.player_radius, p.pos);
            } else {
                self.act(i);
            }
        }
        self.rewind.record(
            self.tick,
            self.players
                .iter()
                .filter(|p| p.respawn_at == 0)
                .map(|p| (p.id, p.pos)),
        );
        for shot in std::mem::take(&mut self.shots) {
            let id = self.alloc_id();
            self.projectiles.push(Projectile {
                id,
                owner: shot.owner,
                seat: shot.seat,
                seq: shot.seq,
                pos: shot.pos,
                vel: shot.aim * self.rules.projectile_speed,
                expires: self.tick + self.rules.projectile_life_ticks,
                rewind: shot.rewind,
            });
        }
        self.fly(events);
        self.decide_round(events);
    }

    fn write_table(&self, table: &mut EntityTable) {
        // The round, then players and projectiles, each sorted by id; `finish` merges the runs.
        let mut f = [0i32; MAX_FIELDS];
        f[field::KIND] = KIND_ROUND;
        f[field::KILLS] = i32::from(self.round.kill_goal);
        match self.round.phase {
            Phase::Live { ends_at } => f[field::DEATHS] = ends_at as i32,
            Phase::Over { winner, next_at } => {
                f[field::HP] = 1;
                f[field::ACK] = winner.map_or(0, |w| w.0 as i32);
                f[field::RESPAWN_OR_OWNER] = next_at as i32;
            }
        }
        table.push(self.round_id, f);
        for p in &self.players {
            let mut f = [0i32; MAX_FIELDS];
            f[field::X] = pos_to_q(p.pos.x);
            f[field::Y] = pos_to_q(p.pos.y);
            f[field::AIM] = angle_to_q(p.input.aim);
            f[field::HP] = p.hp;
            f[field::KILLS] = p.kills;
            f[field::DEATHS] = p.deaths;
            f[field::RESPAWN_OR_OWNER] = p.respawn_at as i32;
            f[field::KIND] = KIND_PLAYER;
            f[field::SEAT] = i32::from(p.seat);
            table.push(p.id, f);
        }
        for pr in &self.projectiles {
            let mut f = [0i32; MAX_FIELDS];
            f[field::X] = pos_to_q(pr.pos.x);
            f[field::Y] = pos_to_q(pr.pos.y);
            f[field::ACK] = pr.seq as i32;
            f[field::AIM] = angle_to_q(pr.vel.to_angle());
            f[field::RESPAWN_OR_OWNER] = pr.owner.0 as i32;
            f[field::KIND] = KIND_PROJECTILE;
            f[field::SEAT] = i32::from(pr.seat);
            table.push(pr.id, f);
        }
        table.finish();
    }

    fn input_policy(&self) -> InputPolicy {
        InputPolicy::EachOnce {
            buffer: INPUT_BUFFER,
            catch_up_above: CATCH_UP_ABOVE,
        }
    }

    fn restart(&mut self, tick: Tick) {
        self.tick = tick.0;
        self.new_round(self.tick);
    }
}

#[cfg(test)]
mod tests;
