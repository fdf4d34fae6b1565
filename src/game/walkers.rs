//! `walkers`: the cross-system benchmark workload of WORKLOAD.md. Players move by their latest input.

use super::{direction, Game, GameKind};
use crate::protocol::{EntityId, GameEvent, PlayerInput, Tick};
use crate::snapshot::{pos_to_q, EntityTable, MAX_FIELDS};
use glam::Vec2;

/// The world is this many units square.
pub const WALKERS_WORLD: f32 = 2000.0;
/// Units per second along the normalized input direction.
pub const WALKERS_SPEED: f32 = 200.0;

/// Field layout on the wire: x and y in sixteenths, then the ack.
const FIELD_X: usize = 0;
const FIELD_Y: usize = 1;
const FIELD_ACK: usize = 2;

#[derive(Clone, Debug)]
struct Walker {
    id: EntityId,
    pos: Vec2,
    dir: (i8, i8),
}

/// Walkers state: players sorted by id (ids only grow, so pushes keep the order).
#[derive(Clone)]
pub struct Walkers {
    dt: f32,
    rng: fastrand::Rng,
    next_id: u32,
    walkers: Vec<Walker>,
}

impl Walkers {
    pub fn new(dt: f32, seed: u64) -> Self {
        Walkers {
            dt,
            rng: fastrand::Rng::with_seed(seed),
            next_id: 1,
            walkers: Vec::new(),
        }
    }

    fn find(&mut self, id: EntityId) -> Option<&mut Walker> {
        self.walkers
            .binary_search_by_key(&id, |w| w.id)
            .ok()
            .map(|i| &mut self.walkers[i])
    }

    /// A player's position in world units (tests and benches).
    pub fn position(&self, id: EntityId) -> Option<Vec2> {
        self.walkers
            .binary_search_by_key(&id, |w| w.id)
            .ok()
            .map(|i| self.walkers[i].pos)
    }
}

impl Game for Walkers {
    fn kind(&self) -> GameKind {
        GameKind::Walkers
    }
    fn clone_box(&self) -> Option<Box<dyn Game + Sync>> {
        Some(Box::new(self.clone()))
    }

    fn field_count(&self) -> u8 {
        3
    }

    fn ack_field(&self) -> usize {
        FIELD_ACK
    }

    fn spawn_player(&mut self) -> EntityId {
        let id = EntityId(self.next_id);
        self.next_id += 1;
        let pos = Vec2::new(
            self.rng.f32() * WALKERS_WORLD,
            self.rng.f32() * WALKERS_WORLD,
        );
        self.walkers.push(Walker {
            id,
            pos,
            dir: (0, 0),
        });
        id
    }

    fn despawn_player(&mut self, player: EntityId) {
        self.walkers.retain(|w| w.id != player);
    }

    fn apply_input(&mut self, player: EntityId, input: &PlayerInput) {
        if let Some(w) = self.find(player) {
            w.dir = (input.dx, input.dy);
        }
    }

    fn step(&mut self, _tick: Tick, _events: &mut Vec<GameEvent>) {
        let step = WALKERS_SPEED * self.dt;
        for w in &mut self.walkers {
            let d = direction(w.dir.0, w.dir.1);
            w.pos = (w.pos + d * step).clamp(Vec2::ZERO, Vec2::splat(WALKERS_WORLD));
        }
    }

    fn write_table(&self, table: &mut EntityTable) {
        for w in &self.walkers {
            let mut f = [0i32; MAX_FIELDS];
            f[FIELD_X] = pos_to_q(w.pos.x);
            f[FIELD_Y] = pos_to_q(w.pos.y);
            table.push(w.id, f);
        }
    }

    fn restart(&mut self, _tick: Tick) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(dx: i8, dy: i8) -> PlayerInput {
        PlayerInput {
            seq: 1,
            dx,
            dy,
            ..Default::default()
        }
    }

    #[test]
    fn moves_at_the_normalized_speed_and_clamps() {
        let mut g = Walkers::new(1.0 / 30.0, 7);
        let id = g.spawn_player();
        let start = g.position(id).unwrap();
        g.apply_input(id, &input(1, 1));
        let mut ev = Vec::new();
        g.step(Tick(1), &mut ev);
        let moved = g.position(id).unwrap() - start;
        // Unless clamped at the edge, one tick moves 200/30 units along the diagonal.
        if start.x < 1990.0 && start.y < 1990.0 {
            assert!((moved.length() - 200.0 / 30.0).abs() < 1e-3, "{moved}");
            assert!((moved.x - moved.y).abs() < 1e-3);
        }
        for t in 2..2000 {
            g.step(Tick(t), &mut ev);
        }
        assert_eq!(g.position(id).unwrap(), Vec2::splat(WALKERS_WORLD));
        assert!(ev.is_empty());
    }

    #[test]
    fn same_seed_same_world() {
        let run = |seed| {
            let mut g = Walkers::new(1.0 / 30.0, seed);
            let ids: Vec<_> = (0..5).map(|_| g.spawn_player()).collect();
            for (k, id) in ids.iter().enumerate() {
                g.apply_input(*id, &input((k % 3) as i8 - 1, 1));
            }
            for t in 1..50 {
                g.step(Tick(t), &mut Vec::new());
            }
            let mut t = EntityTable::new(3);
            g.write_table(&mut t);
            t
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn zero_input_stands_still() {
        let mut g = Walkers::new(1.0 / 30.0, 1);
        let id = g.spawn_player();
        let start = g.position(id).unwrap();
        g.apply_input(id, &input(0, 0));
        g.step(Tick(1), &mut Vec::new());
        assert_eq!(g.position(id).unwrap(), start);
    }
}
