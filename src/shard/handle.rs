//! How the rest of the server reaches the shards: one channel per shard, placement by load, and the
//! context every shard shares. Messages here are rare (a connection arriving, a lobby starting, a
//! session moving to its lobby's shard); nothing on the per-tick path crosses a thread.

use crate::config::Config;
use crate::lobby::{Host, LobbyShared, LobbyState, Registry};
use crate::metrics::Metrics;
use crate::protocol::{CloseCode, LobbyId, SessionId, Tick};
use crate::session::portable::Moving;
use crate::snapshot::EntityTable;
use bytes::Bytes;
use std::any::Any;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What every shard shares (and the server around them).
pub struct Context {
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub registry: Arc<Registry>,
    pub shards: Arc<Shards>,
    pub shutdown: CancellationToken,
    /// The server waits on these at shutdown; every shard holds a token until it has drained.
    pub tasks: TaskTracker,
}

/// What a new connection is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// The game protocol (`/ws`).
    Game,
    /// Echo every message back (`/echo`, for the Autobahn conformance suite).
    Echo,
    /// Over a limit or from a refused origin: close at once with this code.
    Refuse(CloseCode),
}

/// A connection that has just been upgraded to WebSocket, on its way to a shard.
pub struct Incoming {
    pub stream: std::net::TcpStream,
    /// Bytes the HTTP layer read past the upgrade request (the client's first frames, if sent early).
    pub read_buf: Bytes,
    pub peer: SocketAddr,
    pub id: SessionId,
    pub route: Route,
    /// Held until the connection ends (its connection slot under the server's limits).
    pub guard: Box<dyn Any + Send>,
}

pub enum ShardMsg {
    Connect(Incoming),
    /// A session moving here to enter a lobby that runs here.
    Arrive(Box<Moving>),
    StartLobby(Box<LobbyState>, Arc<LobbyShared>),
    Inspect {
        lobby: LobbyId,
        tick: Tick,
        reply: oneshot::Sender<Option<EntityTable>>,
    },
}

/// One shard as seen from outside it.
struct Handle {
    tx: mpsc::UnboundedSender<ShardMsg>,
    /// Connections living on the shard (placement of new connections).
    conns: Arc<AtomicUsize>,
    /// Lobbies plus seated players on the shard (placement of new lobbies).
    load: Arc<AtomicUsize>,
}

/// Every shard's channel and load.
pub struct Shards {
    handles: Vec<Handle>,
}

/// What a shard thread needs to start: its receiver and its counters.
pub struct ShardSeed {
    pub index: usize,
    pub rx: mpsc::UnboundedReceiver<ShardMsg>,
    pub conns: Arc<AtomicUsize>,
    pub load: Arc<AtomicUsize>,
}

impl Shards {
    /// `n` shards' channels; the threads are started with the seeds once the context exists.
    pub fn new(n: usize) -> (Arc<Shards>, Vec<ShardSeed>) {
        let mut handles = Vec::with_capacity(n);
        let mut seeds = Vec::with_capacity(n);
        for index in 0..n.max(1) {
            let (tx, rx) = mpsc::unbounded_channel();
            let conns = Arc::new(AtomicUsize::new(0));
            let load = Arc::new(AtomicUsize::new(0));
            handles.push(Handle {
                tx,
                conns: conns.clone(),
                load: load.clone(),
            });
            seeds.push(ShardSeed {
                index,
                rx,
                conns,
                load,
            });
        }
        (Arc::new(Shards { handles }), seeds)
    }

    pub fn len(&self) -> usize {
        self.handles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Hands a message to shard `index`. A shard that has stopped (shutdown) drops it, which
    /// closes any socket inside.
    pub fn send(&self, index: usize, msg: ShardMsg) {
        if let Some(h) = self.handles.get(index) {
            let _ = h.tx.send(msg);
        }
    }

    /// A new connection goes to the shard with the fewest; it moves to its lobby's shard on join.
    pub fn connect(&self, incoming: Incoming) {
        let index = least(self.handles.iter().map(|h| &*h.conns));
        self.send(index, ShardMsg::Connect(incoming));
    }
}

fn least<'a>(counts: impl Iterator<Item = &'a AtomicUsize>) -> usize {
    counts
        .enumerate()
        .min_by_key(|(_, c)| c.load(Ordering::Relaxed))
        .map_or(0, |(i, _)| i)
}

impl Host for Shards {
    fn place(&self) -> usize {
        let index = least(self.handles.iter().map(|h| &*h.load));
        // Counted at once, so lobbies created in a burst spread out before any has a player.
        if let Some(h) = self.handles.get(index) {
            h.load.fetch_add(1, Ordering::Relaxed);
        }
        index
    }

    fn start(&self, shard: usize, state: LobbyState, shared: Arc<LobbyShared>) {
        self.send(shard, ShardMsg::StartLobby(Box::new(state), shared));
    }

    fn inspect(
        &self,
        shard: usize,
        lobby: LobbyId,
        tick: Tick,
    ) -> oneshot::Receiver<Option<EntityTable>> {
        let (reply, rx) = oneshot::channel();
        self.send(shard, ShardMsg::Inspect { lobby, tick, reply });
        rx
    }
}
