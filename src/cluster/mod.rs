//! Many nodes, one game: a node's view of the cluster. With `cluster.redis_url` set, each node
//! registers itself and its lobbies in a shared [`Directory`] (Redis), finds lobbies that live
//! elsewhere, and sends clients there with a signed seat ticket ([`ticket`]). Without it, none of
//! this exists and the registry is the whole directory. docs/cluster.md has the design.

pub mod directory;
mod heartbeat;
pub mod redis_dir;
pub mod ticket;

pub use crate::config::{AdminConfig, ClusterConfig};
pub use directory::{DirError, Directory, Listing, NodeInfo};
pub use heartbeat::run_heartbeat;
pub use ticket::{SeatKind, Ticket, TicketError};

use crate::lobby::{Announce, LobbyShared};
use crate::metrics::Metrics;
use crate::protocol::{LobbyId, LobbyRef};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// How long any one directory request may take before the node gives up on it.
const DIR_TIMEOUT: Duration = Duration::from_secs(1);
/// Seat tickets remembered as used (until they expire); past this many, a node refuses more
/// redirected joins until some expire rather than grow without bound.
const MAX_USED_TICKETS: usize = 100_000;
/// Lobbies and nodes one directory query returns at most.
pub const QUERY_LIMIT: usize = 100;

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// This node in the cluster.
pub struct Cluster {
    pub node_id: String,
    url: OnceLock<String>,
    config: ClusterConfig,
    dir: Arc<dyn Directory>,
    metrics: Arc<Metrics>,
    draining: AtomicBool,
    /// Nonces of tickets redeemed here, with their expiry: a ticket seats one player once.
    used: Mutex<HashMap<u64, u64>>,
    /// Lobbies that closed, for the heartbeat task to take out of the directory.
    withdrawn: mpsc::UnboundedSender<Listing>,
    withdrawn_rx: Mutex<Option<mpsc::UnboundedReceiver<Listing>>>,
    /// Wakes the heartbeat early (draining must reach the directory now, not a beat later).
    beat: tokio::sync::Notify,
}

impl Cluster {
    /// A node of the cluster `config` describes (connecting lazily: Redis may be down now).
    pub fn new(config: &ClusterConfig, metrics: Arc<Metrics>) -> Result<Arc<Cluster>, DirError> {
        let dir = redis_dir::RedisDirectory::new(&config.redis_url, DIR_TIMEOUT)?;
        Ok(Self::with_directory(config, metrics, Arc::new(dir)))
    }

    pub fn with_directory(
        config: &ClusterConfig,
        metrics: Arc<Metrics>,
        dir: Arc<dyn Directory>,
    ) -> Arc<Cluster> {
        let node_id = if config.node_id.is_empty() {
            format!("node-{:08x}", fastrand::u32(..))
        } else {
            config.node_id.clone()
        };
        let (tx, rx) = mpsc::unbounded_channel();
        Arc::new(Cluster {
            node_id,
            url: OnceLock::new(),
            config: config.clone(),
            dir,
            metrics,
            draining: AtomicBool::new(false),
            used: Mutex::new(HashMap::new()),
            withdrawn: tx,
            withdrawn_rx: Mutex::new(Some(rx)),
            beat: tokio::sync::Notify::new(),
        })
    }

    /// Sets the URL clients reach this node at: the configured one, else from the bound address.
    pub fn set_bound(&self, addr: std::net::SocketAddr) {
        let url = if self.config.public_url.is_empty() {
            format!("ws://{addr}/ws")
        } else {
            self.config.public_url.clone()
        };
        let _ = self.url.set(url);
    }

    pub fn url(&self) -> &str {
        self.url.get().map_or("", String::as_str)
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Publishes now rather than at the next heartbeat.
    pub fn beat_now(&self) {
        self.beat.notify_one();
    }

    pub(crate) fn beat_wanted(&self) -> tokio::sync::futures::Notified<'_> {
        self.beat.notified()
    }

    fn ttl_ms(&self) -> u64 {
        self.config.ttl.as_millis() as u64
    }

    /// One directory request, timed and bounded.
    async fn ask<T>(&self, f: impl Future<Output = Result<T, DirError>>) -> Result<T, DirError> {
        let start = Instant::now();
        let r = match tokio::time::timeout(DIR_TIMEOUT, f).await {
            Ok(r) => r,
            Err(_) => Err(DirError("no answer within 1s".into())),
        };
        self.metrics
            .directory_seconds
            .observe(start.elapsed().as_secs_f64());
        r
    }

    /// The directory's entry for a lobby of this node.
    pub fn listing(&self, l: &LobbyShared) -> Listing {
        let s = l.summary();
        Listing {
            id: s.id.0,
            code: s.code,
            name: s.name,
            game: s.game,
            players: s.players,
            max_players: s.max_players,
            public: l.public,
            node: self.node_id.clone(),
            url: self.url().to_owned(),
        }
    }

    /// Claims a new lobby's code and id across the cluster: false when another lobby has either.
    pub async fn claim(&self, lobby: &Listing) -> Result<bool, DirError> {
        self.ask(self.dir.claim(lobby, self.ttl_ms())).await
    }

    /// Takes a closed lobby out of the directory (soon, from the heartbeat task).
    pub fn withdraw(&self, lobby: Listing) {
        let _ = self.withdrawn.send(lobby);
    }

    /// A lobby of another node, by id or code (`None`: no live node has it).
    pub async fn find(&self, r: &LobbyRef) -> Result<Option<Listing>, DirError> {
        let found = match r {
            LobbyRef::Id(id) => self.ask(self.dir.find_id(id.0)).await?,
            LobbyRef::Code(code) => self.ask(self.dir.find_code(code)).await?,
        };
        Ok(found.filter(|l| l.node != self.node_id))
    }

    /// Public lobbies of every node (this one's too, as last published), fullest first.
    pub async fn public(&self, games: &[&str]) -> Result<Vec<Listing>, DirError> {
        let mut all = Vec::new();
        for g in games {
            all.extend(self.ask(self.dir.public(g, QUERY_LIMIT)).await?);
        }
        all.sort_by(|a, b| b.players.cmp(&a.players).then(a.id.cmp(&b.id)));
        all.truncate(QUERY_LIMIT);
        Ok(all)
    }

    /// Other nodes' public lobbies of `game` with a free seat, fullest first.
    pub async fn open(&self, game: &str) -> Result<Vec<Listing>, DirError> {
        let list = self.ask(self.dir.open(game, QUERY_LIMIT)).await?;
        Ok(list
            .into_iter()
            .filter(|l| l.node != self.node_id && l.has_room())
            .collect())
    }

    /// The least-loaded other node taking new lobbies.
    pub async fn emptiest_other(&self) -> Result<Option<NodeInfo>, DirError> {
        let nodes = self.ask(self.dir.nodes(QUERY_LIMIT)).await?;
        Ok(nodes
            .into_iter()
            .filter(|n| n.id != self.node_id && n.accepting)
            .min_by_key(NodeInfo::load))
    }

    /// A live node by id.
    pub async fn node(&self, id: &str) -> Result<Option<NodeInfo>, DirError> {
        self.ask(self.dir.node(id)).await
    }

    /// A signed ticket for one seat in `lobby` (on another node), good for `cluster.ticket_ttl`.
    pub fn issue(&self, lobby: LobbyId, name: &str, kind: SeatKind) -> Vec<u8> {
        self.metrics.redirects_issued.inc();
        Ticket {
            lobby,
            name: name.to_owned(),
            expires_ms: now_ms() + self.config.ticket_ttl.as_millis() as u64,
            nonce: fastrand::u64(..),
            kind,
        }
        .sign(self.config.secret.as_bytes())
    }

    /// Checks a ticket presented here by `name`: signed by the cluster, not expired, not used
    /// before, for that name. The lobby is checked by the caller (it must run here).
    pub fn redeem(&self, bytes: &[u8], name: &str) -> Result<Ticket, String> {
        let refuse = |why: String| {
            self.metrics.tickets_refused.inc();
            Err(why)
        };
        let now = now_ms();
        let t = match Ticket::verify(bytes, self.config.secret.as_bytes(), now) {
            Ok(t) => t,
            Err(e) => return refuse(format!("seat ticket refused: {e}")),
        };
        if t.name != name {
            return refuse("seat ticket refused: it was issued to another name".into());
        }
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if used.len() >= MAX_USED_TICKETS {
            used.retain(|_, exp| *exp >= now);
        }
        if used.len() >= MAX_USED_TICKETS {
            return refuse("seat ticket refused: too many redirects at once; try again".into());
        }
        if used.insert(t.nonce, t.expires_ms).is_some() {
            return refuse("seat ticket refused: it was already used".into());
        }
        Ok(t)
    }

    /// Counts a redirected client that took its seat.
    pub fn followed(&self) {
        self.metrics.redirects_followed.inc();
    }

    pub(crate) fn take_withdrawn(&self) -> Option<mpsc::UnboundedReceiver<Listing>> {
        self.withdrawn_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    pub(crate) fn directory(&self) -> &Arc<dyn Directory> {
        &self.dir
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

impl Announce for Cluster {
    fn url(&self) -> &str {
        Cluster::url(self)
    }

    fn closed(&self, lobby: &LobbyShared) {
        self.withdraw(self.listing(lobby));
    }

    fn capacity_changed(&self) {
        self.beat_now();
    }

    fn draining(&self) {
        self.set_draining();
        self.beat_now();
    }
}

/// A reconnect token names the node that issued it (`node.random`), so any node can send the
/// client back there; a token without a node is this node's.
pub fn token_node(token: &str) -> Option<&str> {
    token.split_once('.').map(|(node, _)| node)
}
