//! The registry: every open lobby by id and by join code, reconnect tokens, and the lobby limit.
//! It decides where a new lobby runs (through [`Host`]) but runs nothing itself.

use super::code::generate_code;
use super::ports::{Announce, Directory};
use super::settings::{LobbySettings, Rounds};
use super::state::{LobbyState, RosterView};
use crate::config::Config;
use crate::game::GameKind;
use crate::metrics::Metrics;
use crate::protocol::{EntityId, ErrorCode, LobbyId, LobbySummary, Tick};
use crate::replay::RecordOptions;
use crate::snapshot::EntityTable;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// Most lobbies one `LobbyList` or `/api/lobbies` reply carries (the fullest first).
pub const MAX_LISTED: usize = 100;

/// Where lobbies run: the registry picks a place for each new lobby and hands its state over.
pub trait Host: Send + Sync {
    /// The shard a new lobby should run on (the least loaded).
    fn place(&self) -> usize;
    /// Starts `state` running on `shard`.
    fn start(&self, shard: usize, state: LobbyState, shared: Arc<LobbyShared>);
    /// The world lobby `lobby` on `shard` sent at `tick`, while its history holds it.
    fn inspect(
        &self,
        shard: usize,
        lobby: LobbyId,
        tick: Tick,
    ) -> oneshot::Receiver<Option<EntityTable>>;
    /// Asks lobby `lobby` on `shard` to do an operator's `op` (`None`: no such lobby there).
    fn admin(
        &self,
        shard: usize,
        lobby: LobbyId,
        op: AdminOp,
    ) -> oneshot::Receiver<Option<AdminReply>>;
}

/// What an operator asks of a lobby (through its shard).
#[derive(Clone, Debug)]
pub enum AdminOp {
    /// Who is in it.
    Roster,
    /// Remove this player: `Left` with the reason, then close 4007; the seat goes.
    Kick { player: EntityId, reason: String },
    /// End the lobby: every member gets `Left` with the reason.
    Close { reason: String },
}

/// A lobby's answer to an [`AdminOp`].
#[derive(Clone, Debug)]
pub enum AdminReply {
    Roster(RosterView),
    /// Whether the player was seated there.
    Kicked(bool),
    Closed,
}

/// What everyone may know about a lobby without asking the shard it runs on.
pub struct LobbyShared {
    pub id: LobbyId,
    pub code: String,
    pub name: String,
    pub game: GameKind,
    pub public: bool,
    pub max_players: u16,
    /// The shard its tick loop runs on; a lobby never moves.
    pub shard: usize,
    /// Published by the lobby after every tick that changed it.
    pub players: AtomicU16,
    /// Published by the lobby's tick loop once a second, for the operator console: the median
    /// and 99th percentile of its recent ticks' durations (µs), and the bytes it sent its
    /// members in the last second.
    pub tick_p50_us: AtomicU32,
    pub tick_p99_us: AtomicU32,
    pub bytes_per_sec: AtomicU64,
    /// Its replay's id (the file name without `.trp`) when it records: the console opens it.
    pub replay: Option<String>,
}

impl LobbyShared {
    pub fn summary(&self) -> LobbySummary {
        LobbySummary {
            id: self.id,
            code: self.code.clone(),
            name: self.name.clone(),
            game: self.game.name().to_owned(),
            players: self.players.load(Ordering::Relaxed),
            max_players: self.max_players,
            url: None,
        }
    }

    fn has_room(&self) -> bool {
        self.players.load(Ordering::Relaxed) < self.max_players
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    #[error("the server already runs its maximum of {0} lobbies")]
    LobbyLimit(usize),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("this server is draining: it opens no new lobbies")]
    Draining,
    #[error("that join code or lobby id is taken")]
    Taken,
    #[error("max players must be 1..={0}")]
    BadMaxPlayers(u16),
}

impl RegistryError {
    pub fn code(&self) -> ErrorCode {
        match self {
            RegistryError::LobbyLimit(_) => ErrorCode::LobbyLimit,
            RegistryError::ShuttingDown | RegistryError::Draining => ErrorCode::ShuttingDown,
            RegistryError::Taken => ErrorCode::Overloaded,
            RegistryError::BadMaxPlayers(_) => ErrorCode::BadRequest,
        }
    }
}

/// A lobby just created: where it runs and what everyone may know of it.
#[derive(Clone)]
pub struct LobbyHandle {
    pub shared: Arc<LobbyShared>,
}

#[derive(Default)]
struct Inner {
    lobbies: HashMap<LobbyId, Arc<LobbyShared>>,
    by_code: HashMap<String, LobbyId>,
    tokens: HashMap<String, LobbyId>,
}

/// Shared by every connection. A short-held mutex: lookups and inserts only, never I/O.
pub struct Registry {
    inner: Mutex<Inner>,
    config: Arc<Config>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    host: Arc<dyn Host>,
    next_id: AtomicU32,
    rng: Mutex<fastrand::Rng>,
    /// Set once when the node is a cluster node: closed lobbies leave the shared directory too.
    announce: OnceLock<Arc<dyn Announce>>,
    /// No new lobbies here (the node is draining).
    draining: AtomicBool,
}

impl Registry {
    pub fn new(
        config: Arc<Config>,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
        host: Arc<dyn Host>,
    ) -> Arc<Self> {
        Arc::new(Registry {
            inner: Mutex::default(),
            config,
            metrics,
            shutdown,
            host,
            next_id: AtomicU32::new(1),
            rng: Mutex::new(fastrand::Rng::new()),
            announce: OnceLock::new(),
            draining: AtomicBool::new(false),
        })
    }

    /// Makes this registry a cluster node's: its lobbies are listed with the node's URL and
    /// withdrawn from the shared directory when they close.
    pub fn set_announce(&self, announce: Arc<dyn Announce>) {
        let _ = self.announce.set(announce);
    }

    /// From now on no new lobby opens here.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
        if let Some(a) = self.announce.get() {
            a.draining();
        }
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Every open lobby (the heartbeat publishes them all).
    pub fn all(&self) -> Vec<Arc<LobbyShared>> {
        self.lock().lobbies.values().cloned().collect()
    }

    /// Players seated in this node's lobbies.
    pub fn player_total(&self) -> usize {
        self.lock()
            .lobbies
            .values()
            .map(|l| usize::from(l.players.load(Ordering::Relaxed)))
            .sum()
    }

    /// `max_players` as a request gives it (0: the configured default), checked.
    pub fn max_players_for(&self, requested: u16) -> Result<u16, RegistryError> {
        let cfg = &self.config.lobby;
        match requested {
            0 => Ok(cfg.default_max_players),
            n if n <= cfg.max_players => Ok(n),
            _ => Err(RegistryError::BadMaxPlayers(cfg.max_players)),
        }
    }

    /// A fresh random lobby id and join code for a cluster node to claim before it creates the
    /// lobby (ids from a per-node counter would collide across nodes).
    pub fn fresh_identity(&self) -> (LobbyId, String) {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        (LobbyId(rng.u32(1..)), generate_code(&mut rng))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves plain maps behind; they are still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a lobby on the least-loaded shard. `max_players` 0 means the configured default.
    pub fn create(
        &self,
        name: String,
        game: GameKind,
        max_players: u16,
        public: bool,
        rounds: Rounds,
    ) -> Result<LobbyHandle, RegistryError> {
        self.create_as(name, game, max_players, public, rounds, None)
    }

    /// Whether a new lobby may open here now (not shutting down or draining, under the limit).
    pub fn can_open(&self) -> Result<(), RegistryError> {
        if self.shutdown.is_cancelled() {
            return Err(RegistryError::ShuttingDown);
        }
        if self.is_draining() {
            return Err(RegistryError::Draining);
        }
        let max = self.config.lobby.max_lobbies;
        if self.lock().lobbies.len() >= max {
            return Err(RegistryError::LobbyLimit(max));
        }
        Ok(())
    }

    /// [`Registry::create`] with the id and code given (`identity`: claimed in the cluster's
    /// directory first) or chosen here (`None`).
    pub fn create_as(
        &self,
        name: String,
        game: GameKind,
        max_players: u16,
        public: bool,
        rounds: Rounds,
        identity: Option<(LobbyId, String)>,
    ) -> Result<LobbyHandle, RegistryError> {
        if self.shutdown.is_cancelled() {
            return Err(RegistryError::ShuttingDown);
        }
        if self.is_draining() {
            return Err(RegistryError::Draining);
        }
        let cfg = &self.config;
        let max_players = self.max_players_for(max_players)?;
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let seed = rng.u64(..);
        let mut inner = self.lock();
        if inner.lobbies.len() >= cfg.lobby.max_lobbies {
            return Err(RegistryError::LobbyLimit(cfg.lobby.max_lobbies));
        }
        let (id, code) = match identity {
            Some((id, code)) => {
                if inner.lobbies.contains_key(&id) || inner.by_code.contains_key(&code) {
                    return Err(RegistryError::Taken);
                }
                (id, code)
            }
            None => {
                let id = LobbyId(self.next_id.fetch_add(1, Ordering::Relaxed));
                let code = loop {
                    let c = generate_code(&mut rng);
                    if !inner.by_code.contains_key(&c) {
                        break c;
                    }
                };
                (id, code)
            }
        };
        drop(rng);
        let settings = LobbySettings {
            id,
            code: code.clone(),
            name: name.clone(),
            game,
            max_players,
            max_spectators: cfg.lobby.max_spectators,
            public,
            tick_rate: cfg.lobby.tick_rate,
            snapshot_every: u32::from(cfg.lobby.tick_rate / cfg.lobby.snapshot_rate),
            history: cfg.lobby.history,
            empty_close: cfg.lobby.empty_close_after,
            reconnect_grace: cfg.lobby.reconnect_grace,
            slow_client: cfg.lobby.slow_client_timeout,
            chat_burst: cfg.lobby.chat_burst,
            chat_refill: cfg.lobby.chat_refill,
            seed,
            kill_goal: rounds.kill_goal,
            round_seconds: rounds.round_seconds,
            max_rewind: cfg.lobby.max_rewind,
        };
        let shard = self.host.place();
        let state = if cfg.replay.enabled {
            LobbyState::recorded(settings, record_options(cfg), unix_ms())
        } else {
            LobbyState::new(settings)
        };
        let replay = state
            .replay_file()
            .map(|f| f.trim_end_matches(".trp").to_owned());
        let shared = Arc::new(LobbyShared {
            id,
            code: code.clone(),
            name,
            game,
            public,
            max_players,
            shard,
            players: AtomicU16::new(0),
            tick_p50_us: AtomicU32::new(0),
            tick_p99_us: AtomicU32::new(0),
            bytes_per_sec: AtomicU64::new(0),
            replay,
        });
        // Started while the lock is held: whoever finds the lobby in here and then moves to its
        // shard arrives there after the lobby (each shard takes its messages in order).
        self.host.start(shard, state, shared.clone());
        inner.lobbies.insert(id, shared.clone());
        inner.by_code.insert(code, id);
        let full = inner.lobbies.len() >= cfg.lobby.max_lobbies;
        drop(inner);
        if let Some(a) = self.announce.get().filter(|_| full) {
            // Other nodes must stop sending creates here now, not a heartbeat later.
            a.capacity_changed();
        }
        self.metrics.lobbies.inc();
        Ok(LobbyHandle { shared })
    }

    pub fn get(&self, id: LobbyId) -> Option<Arc<LobbyShared>> {
        self.lock().lobbies.get(&id).cloned()
    }

    pub fn find_code(&self, code: &str) -> Option<Arc<LobbyShared>> {
        let inner = self.lock();
        inner
            .by_code
            .get(code)
            .and_then(|id| inner.lobbies.get(id))
            .cloned()
    }

    /// Public lobbies, optionally of one game, fullest first (then oldest), at most
    /// [`MAX_LISTED`]: a three-byte request must not buy a reply the size of the whole registry.
    pub fn list(&self, game: Option<GameKind>) -> Vec<LobbySummary> {
        let mut list: Vec<LobbySummary> = self
            .lock()
            .lobbies
            .values()
            .filter(|l| l.public && game.is_none_or(|g| l.game == g))
            .map(|l| l.summary())
            .collect();
        if let Some(a) = self.announce.get() {
            for l in &mut list {
                l.url = Some(a.url().to_owned());
            }
        }
        list.sort_by(|a, b| b.players.cmp(&a.players).then(a.id.cmp(&b.id)));
        list.truncate(MAX_LISTED);
        list
    }

    /// Public lobbies of `game` with a free seat, the fullest first: quick-join fills lobbies up
    /// rather than spreading players thin.
    pub fn quick_join_candidates(&self, game: GameKind) -> Vec<Arc<LobbyShared>> {
        let mut c: Vec<Arc<LobbyShared>> = self
            .lock()
            .lobbies
            .values()
            .filter(|l| l.public && l.game == game && l.has_room())
            .cloned()
            .collect();
        c.sort_by(|a, b| {
            b.players
                .load(Ordering::Relaxed)
                .cmp(&a.players.load(Ordering::Relaxed))
                .then(a.id.cmp(&b.id))
        });
        c
    }

    pub fn lobby_count(&self) -> usize {
        self.lock().lobbies.len()
    }

    /// The lobby a reconnect token belongs to. The lobby itself checks and retires the token.
    pub fn lobby_for_token(&self, token: &str) -> Option<Arc<LobbyShared>> {
        let inner = self.lock();
        inner
            .tokens
            .get(token)
            .and_then(|id| inner.lobbies.get(id))
            .cloned()
    }

    /// The world `lobby` sent at `tick`, while its history still holds it (tests and tools inside
    /// the process; nothing on the network can ask this).
    pub async fn world_at(&self, lobby: LobbyId, tick: Tick) -> Option<EntityTable> {
        let shard = self.get(lobby)?.shard;
        self.host.inspect(shard, lobby, tick).await.ok().flatten()
    }

    /// Asks lobby `lobby` (on this node) to do an operator's `op`: `None` when it is not here
    /// (or ended meanwhile).
    pub async fn admin(&self, lobby: LobbyId, op: AdminOp) -> Option<AdminReply> {
        let shard = self.get(lobby)?.shard;
        self.host.admin(shard, lobby, op).await.ok().flatten()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
}

impl Directory for Registry {
    fn bind_token(&self, token: String, lobby: LobbyId) {
        self.lock().tokens.insert(token, lobby);
    }

    fn unbind_token(&self, token: &str, lobby: LobbyId) {
        let mut inner = self.lock();
        if inner.tokens.get(token) == Some(&lobby) {
            inner.tokens.remove(token);
        }
    }

    fn remove(&self, id: LobbyId) {
        let mut inner = self.lock();
        if let Some(l) = inner.lobbies.remove(&id) {
            inner.by_code.remove(&l.code);
            inner.tokens.retain(|_, v| *v != id);
            self.metrics.lobbies.dec();
            let had_been_full = inner.lobbies.len() + 1 >= self.config.lobby.max_lobbies;
            drop(inner);
            if let Some(a) = self.announce.get() {
                a.closed(&l);
                if had_been_full {
                    a.capacity_changed();
                }
            }
        }
    }
}

/// How this server's lobbies record, from `[replay]` (the flush interval in ticks).
fn record_options(cfg: &Config) -> RecordOptions {
    let r = &cfg.replay;
    RecordOptions {
        checksum_every: r.checksum_every,
        flush_ticks: cfg.ticks(r.flush_every),
        max_match_bytes: r.max_match_bytes,
    }
}

/// Now, in milliseconds since 1970: a replay's start time (its header and file name).
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
