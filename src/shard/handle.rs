//! How the rest of the server reaches the shards: one channel per shard, placement by load, and the
//! context every shard shares. Messages here are rare (a connection arriving, a lobby starting, a
//! session moving to its lobby's shard); nothing on the per-tick path crosses a thread.

use crate::config::Config;
use crate::lobby::{AdminOp, AdminReply, Host, LobbyShared, LobbyState, Registry};
use crate::metrics::Metrics;
use crate::protocol::{ClientLimits, CloseCode, LobbyId, SessionId, Tick};
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
    /// This process's id for `Welcome` (`None`: the OS random source failed, and the server is
    /// stopping; a hello is then refused like one that gets no reconnect token).
    pub server_id: Option<String>,
    /// The limits `Welcome` tells every client, from the config.
    pub client_limits: ClientLimits,
    /// This node in its cluster (`None`: a node on its own).
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// Where lobbies' replays go (`None`: `replay.enabled` is off).
    pub replay: Option<crate::replay::ReplayWriter>,
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
    /// An operator's request to one of this shard's lobbies (`None` back: it is not here).
    Admin {
        lobby: LobbyId,
        op: AdminOp,
        reply: oneshot::Sender<Option<AdminReply>>,
    },
}

/// One shard as seen from outside it.
struct Handle {
    tx: mpsc::UnboundedSender<ShardMsg>,
    /// Connections living on the shard or on their way to it (placement of new connections:
    /// counted when placed, so a burst of them spreads out before any has arrived).
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

    /// Hands a message to shard `index`; a shard that has stopped (shutdown) gives it back.
    pub fn send(&self, index: usize, msg: ShardMsg) -> Result<(), ShardMsg> {
        match self.handles.get(index) {
            Some(h) => h.tx.send(msg).map_err(|e| e.0),
            None => Err(msg),
        }
    }

    /// A new connection goes to the shard with the fewest; it moves to its lobby's shard on join.
    pub fn connect(&self, incoming: Incoming) {
        let index = least(self.handles.iter().map(|h| &*h.conns));
        self.place(index);
        // Refused only at shutdown: the socket closes with the message.
        let _ = self.send(index, ShardMsg::Connect(incoming));
    }

    /// A session moving to shard `to` (where its lobby runs).
    pub fn arrive(&self, to: usize, moving: Box<Moving>) -> Result<(), ShardMsg> {
        self.place(to);
        self.send(to, ShardMsg::Arrive(moving))
    }

    /// Counts a connection on its way to shard `index` (the shard takes it off when it arrives
    /// and counts it again as living there).
    fn place(&self, index: usize) {
        if let Some(h) = self.handles.get(index) {
            h.conns.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn least<'a>(counts: impl Iterator<Item = &'a AtomicUsize>) -> usize {
    counts
        .enumerate()
        .min_by_key(|(_, c)| c.load(Ordering::Relaxed))
        .map_or(0, |(i, _)| i)
}

impl Shards {
    /// The shard a new lobby goes to: the least loaded, counted at once, so lobbies created in a
    /// burst spread out before any has a player.
    fn place_lobby(&self) -> usize {
        let index = least(self.handles.iter().map(|h| &*h.load));
        if let Some(h) = self.handles.get(index) {
            h.load.fetch_add(1, Ordering::Relaxed);
        }
        index
    }
}

impl Host for Shards {
    fn place(&self) -> usize {
        self.place_lobby()
    }

    fn start(&self, shard: usize, state: LobbyState, shared: Arc<LobbyShared>) {
        // Refused only at shutdown, when no lobby starts anyway.
        let _ = self.send(shard, ShardMsg::StartLobby(Box::new(state), shared));
    }

    fn inspect(
        &self,
        shard: usize,
        lobby: LobbyId,
        tick: Tick,
    ) -> oneshot::Receiver<Option<EntityTable>> {
        let (reply, rx) = oneshot::channel();
        let _ = self.send(shard, ShardMsg::Inspect { lobby, tick, reply });
        rx
    }

    fn admin(
        &self,
        shard: usize,
        lobby: LobbyId,
        op: AdminOp,
    ) -> oneshot::Receiver<Option<AdminReply>> {
        let (reply, rx) = oneshot::channel();
        let _ = self.send(shard, ShardMsg::Admin { lobby, op, reply });
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    fn incoming(listener: &TcpListener, id: u64) -> Incoming {
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (stream, peer) = listener.accept().unwrap();
        Incoming {
            stream,
            read_buf: Bytes::new(),
            peer,
            id: SessionId(id),
            route: Route::Game,
            guard: Box::new(()),
        }
    }

    #[test]
    fn a_burst_of_connections_spreads_over_the_shards_before_any_arrives() {
        let (shards, seeds) = Shards::new(2);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        for id in 0..6 {
            shards.connect(incoming(&listener, id));
        }
        let counts: Vec<usize> = seeds
            .iter()
            .map(|s| s.conns.load(Ordering::Relaxed))
            .collect();
        assert_eq!(counts, vec![3, 3]);
    }

    #[test]
    fn lobbies_created_in_a_burst_spread_too() {
        let (shards, _seeds) = Shards::new(2);
        let placed: Vec<usize> = (0..4).map(|_| shards.place_lobby()).collect();
        assert_eq!(placed, vec![0, 1, 0, 1]);
    }
}
