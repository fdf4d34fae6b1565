//! Typed settings: `config/default.toml`, then `--config FILE`, then `TICKRELAY__SECTION__KEY`
//! variables, validated once at start with errors that name the key.

use crate::protocol::ClientLimits;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub lobby: LobbyConfig,
    pub limits: Limits,
    pub netsim: NetSim,
    pub cluster: ClusterConfig,
    pub admin: AdminConfig,
    pub replay: ReplayConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub client_dir: PathBuf,
    pub log: String,
    pub listen_backlog: u32,
    #[serde(with = "humantime_serde")]
    pub shutdown_deadline: Duration,
    pub allowed_origins: Vec<String>,
    pub echo_route: bool,
    /// Threads that run lobbies and connections (0: one per core).
    pub shards: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LobbyConfig {
    pub tick_rate: u16,
    pub snapshot_rate: u16,
    pub max_lobbies: usize,
    pub max_players: u16,
    pub default_max_players: u16,
    pub max_spectators: u16,
    #[serde(with = "humantime_serde")]
    pub empty_close_after: Duration,
    #[serde(with = "humantime_serde")]
    pub reconnect_grace: Duration,
    pub history: usize,
    #[serde(with = "humantime_serde")]
    pub slow_client_timeout: Duration,
    pub chat_burst: u32,
    #[serde(with = "humantime_serde")]
    pub chat_refill: Duration,
    /// Lag compensation (arena): a shot is judged against where its targets were in its
    /// shooter's view, at most this far back.
    #[serde(with = "humantime_serde")]
    pub max_rewind: Duration,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub max_message_bytes: usize,
    pub outbound_queue: usize,
    #[serde(with = "humantime_serde")]
    pub handshake_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    pub messages_per_second: u32,
    pub message_burst: u32,
    #[serde(with = "humantime_serde")]
    pub flood_grace: Duration,
    pub max_decode_errors: u32,
    /// SO_SNDBUF for each client socket in bytes; 0 leaves it to the OS (which autotunes it up to
    /// several MiB). Set it to bound the kernel memory a client that stops reading can pin.
    pub socket_send_buffer: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NetSim {
    pub enabled: bool,
    #[serde(with = "humantime_serde")]
    pub delay: Duration,
    #[serde(with = "humantime_serde")]
    pub jitter: Duration,
    pub drop: f64,
}

/// `[cluster]`: off (one node, no services) unless `redis_url` is set. README "Running a cluster".
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Empty: a single node with its in-process directory. `redis://HOST:PORT/`: a cluster node.
    pub redis_url: String,
    /// This node's name in the directory (empty: a random one per start).
    pub node_id: String,
    /// The `ws://` or `wss://` URL clients reach this node at (empty: `ws://<bound address>/ws`).
    pub public_url: String,
    /// The key every node signs and checks seat tickets with; the same on every node.
    pub secret: String,
    /// How long a node's and its lobbies' registrations outlive its last heartbeat.
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
    /// How often a node refreshes its registrations (every lobby once per heartbeat).
    #[serde(with = "humantime_serde")]
    pub heartbeat: Duration,
    /// SIGTERM drains the node (no new lobbies or quick-joins; its lobbies play on until they
    /// empty or `server.shutdown_deadline` passes) instead of closing everyone at once.
    pub drain: bool,
    /// How long a seat ticket from a `Redirect` stays good.
    #[serde(with = "humantime_serde")]
    pub ticket_ttl: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            redis_url: String::new(),
            node_id: String::new(),
            public_url: String::new(),
            secret: String::new(),
            ttl: Duration::from_secs(10),
            heartbeat: Duration::from_secs(2),
            drain: false,
            ticket_ttl: Duration::from_secs(10),
        }
    }
}

/// `[replay]`: recording every lobby's match to a file (docs/replay.md). Off unless enabled.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReplayConfig {
    pub enabled: bool,
    /// Where replay files go (created if missing).
    pub dir: PathBuf,
    /// All replay files in `dir` together: past it the oldest are deleted first.
    pub max_bytes: u64,
    /// One match's file: past it that match's recording stops (the file stays valid).
    pub max_match_bytes: u64,
    /// A checksum of the world is recorded every this many ticks.
    pub checksum_every: u32,
    /// Recorded calls reach the file at least this often (a crash loses at most this much).
    #[serde(with = "humantime_serde")]
    pub flush_every: Duration,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            enabled: false,
            dir: PathBuf::from("replays"),
            max_bytes: 1 << 30,
            max_match_bytes: 64 << 20,
            checksum_every: 30,
            flush_every: Duration::from_secs(1),
        }
    }
}

impl ReplayConfig {
    /// What is wrong with these settings, as (key, problem).
    pub fn problem(&self) -> Option<(&'static str, String)> {
        // Room for a header, a chunk and the end record.
        const MIN_MATCH: u64 = 64 << 10;
        if self.checksum_every == 0 {
            return Some(("replay.checksum_every", "must be at least 1".into()));
        }
        if self.flush_every.is_zero() {
            return Some(("replay.flush_every", "must be more than 0".into()));
        }
        if self.max_match_bytes < MIN_MATCH {
            return Some((
                "replay.max_match_bytes",
                format!("must be at least {MIN_MATCH}, got {}", self.max_match_bytes),
            ));
        }
        if self.max_bytes < self.max_match_bytes {
            return Some((
                "replay.max_bytes",
                format!(
                    "must be at least replay.max_match_bytes ({}), got {}",
                    self.max_match_bytes, self.max_bytes
                ),
            ));
        }
        None
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Bearer token for the `/admin/...` routes (empty: those routes are off and answer 404).
    pub token: String,
}

impl ClusterConfig {
    pub fn enabled(&self) -> bool {
        !self.redis_url.is_empty()
    }

    /// What is wrong with these settings, as (key, problem).
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if !self.enabled() {
            return None;
        }
        if self.secret.len() < 16 {
            return Some((
                "cluster.secret",
                "must be at least 16 characters when cluster.redis_url is set (every node \
                 signs and checks seat tickets with it)"
                    .into(),
            ));
        }
        if self.heartbeat.is_zero() || self.ttl < self.heartbeat * 2 {
            return Some((
                "cluster.ttl",
                format!(
                    "must be at least twice cluster.heartbeat ({:?}), got {:?}",
                    self.heartbeat, self.ttl
                ),
            ));
        }
        if self.ticket_ttl.is_zero() {
            return Some(("cluster.ticket_ttl", "must be more than 0".into()));
        }
        if !(self.public_url.is_empty()
            || self.public_url.starts_with("ws://")
            || self.public_url.starts_with("wss://"))
        {
            return Some((
                "cluster.public_url",
                format!("must start with ws:// or wss://, got {:?}", self.public_url),
            ));
        }
        let id_ok = self.node_id.len() <= 64
            && self
                .node_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Some((
                "cluster.node_id",
                "must be at most 64 letters, digits, '-' or '_'".into(),
            ));
        }
        None
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            client_dir: PathBuf::from("game-client/dist"),
            log: "info".into(),
            listen_backlog: 4096,
            shutdown_deadline: Duration::from_secs(5),
            allowed_origins: Vec::new(),
            echo_route: false,
            shards: 0,
        }
    }
}

impl Default for LobbyConfig {
    fn default() -> Self {
        LobbyConfig {
            tick_rate: 30,
            snapshot_rate: 30,
            max_lobbies: 1000,
            max_players: 512,
            default_max_players: 16,
            max_spectators: 16,
            empty_close_after: Duration::from_secs(30),
            reconnect_grace: Duration::from_secs(30),
            history: 64,
            slow_client_timeout: Duration::from_secs(5),
            chat_burst: 5,
            chat_refill: Duration::from_secs(1),
            max_rewind: Duration::from_millis(200),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 10_000,
            max_connections_per_ip: 4096,
            max_message_bytes: 4096,
            outbound_queue: 8,
            handshake_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
            messages_per_second: 120,
            message_burst: 60,
            flood_grace: Duration::from_secs(3),
            max_decode_errors: 16,
            socket_send_buffer: 0,
        }
    }
}

impl Default for NetSim {
    fn default() -> Self {
        NetSim {
            enabled: false,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            drop: 0.0,
        }
    }
}

/// A setting that is present but wrong; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config: {0}")]
    Parse(#[from] Box<figment::Error>),
    #[error("config: {key} {problem}")]
    Invalid { key: &'static str, problem: String },
}

impl Config {
    /// Reads `file` (when given and present), then the `TICKRELAY__` variables from `env`.
    pub fn load(file: Option<&Path>, env: Env) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            fig = fig.merge(Toml::file_exact(f));
        }
        let cfg: Config = fig
            .merge(env)
            .extract()
            .map_err(|e| ConfigError::Parse(Box::new(e)))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The process environment's `TICKRELAY__SECTION__KEY` variables.
    pub fn env() -> Env {
        Env::prefixed("TICKRELAY__").split("__")
    }

    /// Checks ranges and relations that types alone cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn bad(key: &'static str, problem: impl Into<String>) -> Result<(), ConfigError> {
            Err(ConfigError::Invalid {
                key,
                problem: problem.into(),
            })
        }
        let l = &self.lobby;
        if !(1..=240).contains(&l.tick_rate) {
            return bad(
                "lobby.tick_rate",
                format!("must be 1..=240, got {}", l.tick_rate),
            );
        }
        if l.snapshot_rate == 0
            || l.snapshot_rate > l.tick_rate
            || l.tick_rate % l.snapshot_rate != 0
        {
            return bad(
                "lobby.snapshot_rate",
                format!(
                    "must divide lobby.tick_rate ({}) evenly, got {}",
                    l.tick_rate, l.snapshot_rate
                ),
            );
        }
        if l.max_players == 0 || l.max_players > 4096 {
            return bad(
                "lobby.max_players",
                format!("must be 1..=4096, got {}", l.max_players),
            );
        }
        if l.default_max_players == 0 || l.default_max_players > l.max_players {
            return bad(
                "lobby.default_max_players",
                format!(
                    "must be 1..=lobby.max_players, got {}",
                    l.default_max_players
                ),
            );
        }
        if l.history < 2 || l.history > 1024 {
            return bad(
                "lobby.history",
                format!("must be 2..=1024, got {}", l.history),
            );
        }
        if l.chat_refill.is_zero() {
            return bad("lobby.chat_refill", "must be more than 0");
        }
        if l.max_rewind > Duration::from_secs(1) {
            return bad(
                "lobby.max_rewind",
                format!("must be at most 1s, got {:?}", l.max_rewind),
            );
        }
        let lim = &self.limits;
        if !(256..=1 << 20).contains(&lim.max_message_bytes) {
            return bad(
                "limits.max_message_bytes",
                format!("must be 256..=1048576, got {}", lim.max_message_bytes),
            );
        }
        if lim.outbound_queue == 0 || lim.outbound_queue > 1024 {
            return bad(
                "limits.outbound_queue",
                format!("must be 1..=1024, got {}", lim.outbound_queue),
            );
        }
        if lim.max_connections == 0 {
            return bad("limits.max_connections", "must be at least 1");
        }
        if lim.max_connections_per_ip == 0 {
            return bad("limits.max_connections_per_ip", "must be at least 1");
        }
        if lim.messages_per_second == 0 || lim.message_burst == 0 {
            return bad(
                "limits.messages_per_second",
                "and limits.message_burst must be at least 1",
            );
        }
        if lim.handshake_timeout.is_zero() {
            return bad("limits.handshake_timeout", "must be more than 0");
        }
        if lim.idle_timeout < Duration::from_millis(300) {
            return bad("limits.idle_timeout", "must be at least 300ms");
        }
        if !(0.0..=1.0).contains(&self.netsim.drop) {
            return bad(
                "netsim.drop",
                format!("must be 0.0..=1.0, got {}", self.netsim.drop),
            );
        }
        if let Some((key, problem)) = self.cluster.problem() {
            return bad(key, problem);
        }
        if let Some((key, problem)) = self.replay.problem() {
            return bad(key, problem);
        }
        Ok(())
    }

    /// The limits `Welcome` tells a client: what a well-behaved one must respect.
    pub fn client_limits(&self) -> ClientLimits {
        let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let (l, lim) = (&self.lobby, &self.limits);
        ClientLimits {
            max_message_bytes: n(lim.max_message_bytes),
            messages_per_second: lim.messages_per_second,
            message_burst: lim.message_burst,
            chat_burst: l.chat_burst,
            chat_refill_ms: ms(l.chat_refill),
            reconnect_grace_ms: ms(l.reconnect_grace),
            slow_client_timeout_ms: ms(l.slow_client_timeout),
            idle_timeout_ms: ms(lim.idle_timeout),
            max_decode_errors: lim.max_decode_errors,
        }
    }

    /// Ticks in a duration at this config's tick rate (at least 1).
    pub fn ticks(&self, d: Duration) -> u32 {
        ((d.as_secs_f64() * f64::from(self.lobby.tick_rate)).round() as u32).max(1)
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return its own large error type
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn the_shipped_file_equals_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml");
        let cfg = Config::load(Some(&path), Env::prefixed("TICKRELAY_TEST_NOTHING__")).unwrap();
        // But one: `make run` records replays, while a Config built in code (every test's) does
        // not write files unless it asks to.
        let mut expected = Config::default();
        expected.replay.enabled = true;
        assert_eq!(cfg, expected);
    }

    #[test]
    fn env_overrides_and_errors_name_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("TICKRELAY__LOBBY__TICK_RATE", "60");
            let cfg = Config::load(None, Config::env()).unwrap();
            assert_eq!(cfg.lobby.tick_rate, 60);

            jail.set_env("TICKRELAY__LOBBY__SNAPSHOT_RATE", "25");
            let err = Config::load(None, Config::env()).unwrap_err().to_string();
            assert!(err.contains("lobby.snapshot_rate"), "{err}");

            jail.set_env("TICKRELAY__LOBBY__SNAPSHOT_RATE", "20");
            jail.set_env("TICKRELAY__LIMITS__OUTBOUND_QUEUE", "many");
            let err = Config::load(None, Config::env()).unwrap_err().to_string();
            assert!(
                err.to_lowercase().contains("limits.outbound_queue"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_in_a_file_are_refused() {
        Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "[lobby]\ntick_rat = 5\n")?;
            let err = Config::load(Some(Path::new("bad.toml")), Config::env())
                .unwrap_err()
                .to_string();
            assert!(err.contains("tick_rat"), "{err}");
            Ok(())
        });
    }
}
