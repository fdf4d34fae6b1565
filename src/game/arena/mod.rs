//! `arena`: the bundled top-down shooter. Move, aim, fire; projectiles, health, kills, respawns, score.

use super::{direction, Game, GameKind};
use crate::protocol::{EntityId, GameEvent, PlayerInput, Tick, BUTTON_FIRE};
use crate::snapshot::{angle_to_q, pos_to_q, EntityTable, MAX_FIELDS};
use glam::Vec2;

/// Entity fields on the wire (PROTOCOL.md repeats this table).
pub mod field {
    pub const X: usize = 0;
    pub const Y: usize = 1;
    pub const ACK: usize = 2;
    pub const AIM: usize = 3;
    pub const HP: usize = 4;
    pub const KILLS: usize = 5;
    pub const DEATHS: usize = 6;
    /// Players: the tick they respawn at (0 while alive). Projectiles: the shooter's id.
    pub const RESPAWN_OR_OWNER: usize = 7;
    pub const KIND: usize = 8;
    pub const COUNT: u8 = 9;
}

/// Entity kinds in field [`field::KIND`].
pub const KIND_PLAYER: i32 = 0;
pub const KIND_PROJECTILE: i32 = 1;

/// Event kinds in `GameEvent::kind`.
pub const EVENT_HIT: u8 = 1;
pub const EVENT_KILL: u8 = 2;
pub const EVENT_RESPAWN: u8 = 3;

/// Round pillars that block movement and shots: (x, y, radius). The browser draws the same list.
pub const PILLARS: [(f32, f32, f32); 6] = [
    (400.0, 300.0, 50.0),
    (1200.0, 300.0, 50.0),
    (400.0, 700.0, 50.0),
    (1200.0, 700.0, 50.0),
    (800.0, 500.0, 80.0),
    (800.0, 150.0, 30.0),
];

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
    pub fire_cooldown_ticks: u32,
    pub respawn_ticks: u32,
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
        }
    }
}

#[derive(Clone, Debug)]
struct Player {
    id: EntityId,
    pos: Vec2,
    input: PlayerInput,
    hp: i32,
    kills: i32,
    deaths: i32,
    /// 0 while alive; otherwise the tick at which the player comes back.
    respawn_at: u32,
    next_fire: u32,
}

#[derive(Clone, Debug)]
struct Projectile {
    id: EntityId,
    owner: EntityId,
    pos: Vec2,
    vel: Vec2,
    expires: u32,
}

/// The arena's world. Players and projectiles share one id space, so ids never collide.
pub struct Arena {
    rules: ArenaRules,
    rng: fastrand::Rng,
    next_id: u32,
    tick: u32,
    players: Vec<Player>,
    projectiles: Vec<Projectile>,
}

impl Arena {
    pub fn new(rules: ArenaRules, seed: u64) -> Self {
        Arena {
            rules,
            rng: fastrand::Rng::with_seed(seed),
            next_id: 1,
            tick: 0,
            players: Vec::new(),
            projectiles: Vec::new(),
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
    fn player_mut(&mut self, id: EntityId) -> Option<&mut Player> {
        self.players
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .map(|i| &mut self.players[i])
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

    /// Test helpers: a player's position, hp and kills.
    pub fn player_state(&self, id: EntityId) -> Option<(Vec2, i32, i32)> {
        self.players
            .iter()
            .find(|p| p.id == id)
            .map(|p| (p.pos, p.hp, p.kills))
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

    fn field_count(&self) -> u8 {
        field::COUNT
    }

    fn ack_field(&self) -> usize {
        field::ACK
    }

    fn spawn_player(&mut self) -> EntityId {
        let id = self.alloc_id();
        let pos = self.spawn_point();
        self.players.push(Player {
            id,
            pos,
            input: PlayerInput::default(),
            hp: self.rules.max_hp,
            kills: 0,
            deaths: 0,
            respawn_at: 0,
            next_fire: 0,
        });
        id
    }

    fn despawn_player(&mut self, player: EntityId) {
        self.players.retain(|p| p.id != player);
        // Shots already fired keep flying; they just credit nobody.
    }

    fn apply_input(&mut self, player: EntityId, input: &PlayerInput) {
        if let Some(p) = self.player_mut(player) {
            p.input = *input;
        }
    }

    fn step(&mut self, tick: Tick, events: &mut Vec<GameEvent>) {
        self.tick = tick.0;
        let rules = self.rules.clone();
        // Respawns first, so a returning player can act this very tick.
        for i in 0..self.players.len() {
            let p = &self.players[i];
            if p.respawn_at != 0 && p.respawn_at <= self.tick {
                let pos = self.spawn_point();
                let p = &mut self.players[i];
                p.pos = pos;
                p.hp = rules.max_hp;
                p.respawn_at = 0;
                events.push(GameEvent {
                    kind: EVENT_RESPAWN,
                    a: p.id.0,
                    b: 0,
                });
            }
        }
        // Movement and firing.
        let mut fired = Vec::new();
        for p in &mut self.players {
            if p.respawn_at != 0 {
                continue;
            }
            let d = direction(p.input.dx, p.input.dy);
            p.pos = Self::resolve(
                rules.world,
                rules.player_radius,
                p.pos + d * rules.player_speed * rules.dt,
            );
            if p.input.buttons & BUTTON_FIRE != 0 && self.tick >= p.next_fire {
                p.next_fire = self.tick + rules.fire_cooldown_ticks;
                let aim = Vec2::from_angle(p.input.aim);
                fired.push((p.id, p.pos + aim * (rules.player_radius + 6.0), aim));
            }
        }
        for (owner, pos, aim) in fired {
            let id = self.alloc_id();
            self.projectiles.push(Projectile {
                id,
                owner,
                pos,
                vel: aim * rules.projectile_speed,
                expires: self.tick + rules.projectile_life_ticks,
            });
        }
        // Projectiles: move along a segment this tick, hitting the first live player or pillar.
        let hit_r = rules.player_radius + 4.0;
        let mut kills = Vec::new();
        let players = &mut self.players;
        self.projectiles.retain_mut(|pr| {
            let from = pr.pos;
            let to = from + pr.vel * rules.dt;
            pr.pos = to;
            if self.tick >= pr.expires
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
            let target = players.iter_mut().find(|p| {
                p.id != pr.owner
                    && p.respawn_at == 0
                    && segment_dist_sq(from, to, p.pos) < hit_r * hit_r
            });
            if let Some(t) = target {
                t.hp -= rules.damage;
                events.push(GameEvent {
                    kind: EVENT_HIT,
                    a: pr.owner.0,
                    b: t.id.0,
                });
                if t.hp <= 0 {
                    t.hp = 0;
                    t.deaths += 1;
                    t.respawn_at = self.tick + rules.respawn_ticks;
                    kills.push((pr.owner, t.id));
                }
                return false;
            }
            true
        });
        for (killer, victim) in kills {
            if let Some(k) = self.player_mut(killer) {
                k.kills += 1;
            }
            events.push(GameEvent {
                kind: EVENT_KILL,
                a: killer.0,
                b: victim.0,
            });
        }
    }

    fn write_table(&self, table: &mut EntityTable) {
        // Players and projectiles are each sorted by id; `finish` merges the two runs.
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
            table.push(p.id, f);
        }
        for pr in &self.projectiles {
            let mut f = [0i32; MAX_FIELDS];
            f[field::X] = pos_to_q(pr.pos.x);
            f[field::Y] = pos_to_q(pr.pos.y);
            f[field::AIM] = angle_to_q(pr.vel.to_angle());
            f[field::RESPAWN_OR_OWNER] = pr.owner.0 as i32;
            f[field::KIND] = KIND_PROJECTILE;
            table.push(pr.id, f);
        }
        table.finish();
    }

    fn input_buffer(&self) -> usize {
        3
    }

    fn restart(&mut self, tick: Tick) {
        self.tick = tick.0;
        self.projectiles.clear();
        for i in 0..self.players.len() {
            let pos = self.spawn_point();
            let p = &mut self.players[i];
            p.pos = pos;
            p.hp = self.rules.max_hp;
            p.kills = 0;
            p.deaths = 0;
            p.respawn_at = 0;
            p.next_fire = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arena() -> Arena {
        Arena::new(ArenaRules::new(30), 99)
    }

    fn fire_at(aim: f32) -> PlayerInput {
        PlayerInput {
            seq: 1,
            dx: 0,
            dy: 0,
            aim,
            buttons: BUTTON_FIRE,
        }
    }

    fn run(g: &mut Arena, from: u32, to: u32) -> Vec<GameEvent> {
        let mut ev = Vec::new();
        for t in from..to {
            g.step(Tick(t), &mut ev);
        }
        ev
    }

    #[test]
    fn shots_hit_kill_score_and_respawn() {
        let mut g = arena();
        let a = g.spawn_player();
        let b = g.spawn_player();
        // Open ground on the left, away from the pillars.
        g.place(a, Vec2::new(100.0, 500.0));
        g.place(b, Vec2::new(250.0, 500.0));
        g.apply_input(a, &fire_at(0.0));
        // 4 hits of 25 kill; the cooldown is 0.25 s, so 2 seconds is plenty.
        let ev = run(&mut g, 1, 60);
        let hits = ev.iter().filter(|e| e.kind == EVENT_HIT).count();
        let kills: Vec<_> = ev.iter().filter(|e| e.kind == EVENT_KILL).collect();
        assert!(hits >= 4, "{ev:?}");
        assert_eq!(kills.len(), 1);
        assert_eq!((kills[0].a, kills[0].b), (a.0, b.0));
        assert_eq!(g.player_state(a).unwrap().2, 1);
        let (_, hp, _) = g.player_state(b).unwrap();
        assert_eq!(hp, 0);
        // Dead players respawn after 3 s with full health.
        g.apply_input(a, &PlayerInput::default());
        let ev = run(&mut g, 60, 200);
        assert!(ev.iter().any(|e| e.kind == EVENT_RESPAWN && e.a == b.0));
        assert_eq!(g.player_state(b).unwrap().1, 100);
    }

    #[test]
    fn players_cannot_leave_the_world_or_enter_pillars() {
        let mut g = arena();
        let a = g.spawn_player();
        g.place(a, Vec2::new(20.0, 20.0));
        g.apply_input(
            a,
            &PlayerInput {
                seq: 1,
                dx: -1,
                dy: -1,
                ..Default::default()
            },
        );
        run(&mut g, 1, 30);
        let (p, _, _) = g.player_state(a).unwrap();
        assert_eq!(p, Vec2::splat(18.0));
        // Walk straight into the centre pillar.
        g.place(a, Vec2::new(600.0, 500.0));
        g.apply_input(
            a,
            &PlayerInput {
                seq: 2,
                dx: 1,
                dy: 0,
                ..Default::default()
            },
        );
        run(&mut g, 30, 90);
        let (p, _, _) = g.player_state(a).unwrap();
        assert!(
            p.distance(Vec2::new(800.0, 500.0)) >= 80.0 + 18.0 - 0.01,
            "{p}"
        );
    }

    #[test]
    fn pillars_stop_shots() {
        let mut g = arena();
        let a = g.spawn_player();
        let b = g.spawn_player();
        g.place(a, Vec2::new(600.0, 500.0));
        g.place(b, Vec2::new(1000.0, 500.0));
        g.apply_input(a, &fire_at(0.0));
        let ev = run(&mut g, 1, 60);
        assert!(ev.iter().all(|e| e.kind != EVENT_HIT), "{ev:?}");
    }

    #[test]
    fn restart_resets_scores_and_table_is_sorted() {
        let mut g = arena();
        let a = g.spawn_player();
        let b = g.spawn_player();
        g.place(a, Vec2::new(100.0, 500.0));
        g.place(b, Vec2::new(250.0, 500.0));
        g.apply_input(a, &fire_at(0.0));
        run(&mut g, 1, 60);
        let mut t = EntityTable::new(field::COUNT);
        g.write_table(&mut t);
        assert!(t.rows().windows(2).all(|w| w[0].id < w[1].id));
        g.restart(Tick(60));
        assert_eq!(g.player_state(a).unwrap().2, 0);
        assert_eq!(g.player_state(b).unwrap().1, 100);
        assert_eq!(g.projectile_count(), 0);
    }

    #[test]
    fn same_seed_same_match() {
        let play = |seed| {
            let mut g = Arena::new(ArenaRules::new(30), seed);
            let ids: Vec<_> = (0..4).map(|_| g.spawn_player()).collect();
            for (k, id) in ids.iter().enumerate() {
                g.apply_input(
                    *id,
                    &PlayerInput {
                        seq: 1,
                        dx: 1,
                        dy: (k as i8 % 3) - 1,
                        aim: k as f32,
                        buttons: BUTTON_FIRE,
                    },
                );
            }
            let ev = run(&mut g, 1, 120);
            let mut t = EntityTable::new(field::COUNT);
            g.write_table(&mut t);
            (t, ev)
        };
        assert_eq!(play(5), play(5));
    }
}
