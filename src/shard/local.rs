//! One shard's thread-local world: the lobbies that run here and the connections that live here
//! (for their timers and for shutdown).

use super::handle::Context;
use crate::lobby::SharedLobby;
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
    stopping: Cell<bool>,
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

    pub fn stopping(&self) -> bool {
        self.stopping.get()
    }

    /// Shutdown: every connection here is closed with 1001, and any that arrives later too.
    pub fn stop(&self) {
        self.stopping.set(true);
        self.each_conn(|c| c.close_with(crate::protocol::CloseCode::GoingAway));
    }
}
