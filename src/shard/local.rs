//! One shard's thread-local world: the lobbies that run here and the connections that live here
//! (for their timers and for shutdown).

use super::handle::Context;
use crate::lobby::{SharedLobby, PHASES};
use crate::protocol::LobbyId;
use crate::session::writer::Conn;
use slab::Slab;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use tokio_util::task::TaskTracker;

pub struct Shard {
    pub index: usize,
    pub ctx: Arc<Context>,
    lobbies: RefCell<HashMap<LobbyId, SharedLobby>>,
    conns: RefCell<Slab<Rc<Conn>>>,
    /// Connections living here, published for placement.
    conn_count: Arc<AtomicUsize>,
    /// Lobbies plus seated players here, kept by the lobbies themselves.
    pub load: Arc<AtomicUsize>,
    /// This shard's tasks (sessions, lobbies): the shard drains them before its thread ends.
    pub tasks: TaskTracker,
    /// When the shard started: its lobbies' ticks fall on a grid of phases from here.
    pub epoch: tokio::time::Instant,
    /// Seats (lobbies' max players) ticking in each phase.
    phase_seats: RefCell<[u32; PHASES as usize]>,
    stopping: Cell<bool>,
}

/// Seats a phase takes before new lobbies go to the next one: a phase's burst of work stays a
/// few milliseconds, while a lightly loaded shard wakes once a tick instead of once per lobby.
pub const PHASE_SEATS: u32 = 256;

/// The phase for a lobby of `seats`: the first with room, or else the emptiest.
fn pick_phase(taken: &[u32], seats: u32) -> usize {
    taken
        .iter()
        .position(|&t| t + seats <= PHASE_SEATS)
        .unwrap_or_else(|| (0..taken.len()).min_by_key(|&i| taken[i]).unwrap_or(0))
}

impl Shard {
    pub fn new(
        index: usize,
        ctx: Arc<Context>,
        conn_count: Arc<AtomicUsize>,
        load: Arc<AtomicUsize>,
    ) -> Shard {
        Shard {
            index,
            ctx,
            lobbies: RefCell::default(),
            conns: RefCell::default(),
            conn_count,
            load,
            tasks: TaskTracker::new(),
            epoch: tokio::time::Instant::now(),
            phase_seats: RefCell::new([0; PHASES as usize]),
            stopping: Cell::new(false),
        }
    }

    pub fn lobby(&self, id: LobbyId) -> Option<SharedLobby> {
        self.lobbies.borrow().get(&id).cloned()
    }

    pub fn add_lobby(&self, id: LobbyId, lobby: SharedLobby) {
        self.lobbies.borrow_mut().insert(id, lobby);
    }

    pub fn remove_lobby(&self, id: LobbyId) {
        self.lobbies.borrow_mut().remove(&id);
    }

    /// A phase of the tick period for a new lobby of `seats`.
    pub fn take_phase(&self, seats: u16) -> u32 {
        let mut taken = self.phase_seats.borrow_mut();
        let seats = u32::from(seats);
        let i = pick_phase(&taken[..], seats);
        taken[i] += seats;
        i as u32
    }

    /// A lobby that ticked in `phase` has ended.
    pub fn give_phase(&self, phase: u32, seats: u16) {
        let mut taken = self.phase_seats.borrow_mut();
        if let Some(t) = taken.get_mut(phase as usize) {
            *t = t.saturating_sub(u32::from(seats));
        }
    }

    /// A connection placed on this shard has arrived (it is counted again by `add_conn`).
    pub fn arrived(&self) {
        self.conn_count
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Registers a connection for timers and shutdown; the key takes it out again.
    pub fn add_conn(&self, conn: Rc<Conn>) -> usize {
        if self.stopping.get() {
            conn.close_with(crate::protocol::CloseCode::GoingAway);
        }
        self.conn_count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.conns.borrow_mut().insert(conn)
    }

    pub fn remove_conn(&self, key: usize) {
        if self.conns.borrow_mut().try_remove(key).is_some() {
            self.conn_count
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Calls `f` on every connection living here.
    pub fn each_conn(&self, mut f: impl FnMut(&Conn)) {
        for (_, c) in self.conns.borrow().iter() {
            f(c);
        }
    }

    /// Shutdown: every connection here is closed with 1001, and any that arrives later too.
    pub fn stop(&self) {
        self.stopping.set(true);
        self.each_conn(|c| c.close_with(crate::protocol::CloseCode::GoingAway));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lobbies_fill_one_phase_before_spreading() {
        let mut taken = [0u32; PHASES as usize];
        let mut put = |seats: u32| {
            let i = pick_phase(&taken, seats);
            taken[i] += seats;
            i
        };
        // Small lobbies share the first phase until it is full.
        for _ in 0..25 {
            assert_eq!(put(10), 0);
        }
        assert_eq!(put(10), 1, "phase 0 holds 250 seats: the next goes on");
        // A lobby larger than a phase takes the emptiest.
        assert_eq!(put(400), 2);
        assert_eq!(put(400), 3);
        let busy = taken;
        assert!(busy.iter().filter(|&&t| t > 0).count() == 4);
    }
}
