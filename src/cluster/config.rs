//! The `[cluster]` and `[admin]` settings: off (one node, no services) unless `redis_url` is set.

use serde::{Deserialize, Serialize};
use std::time::Duration;

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
