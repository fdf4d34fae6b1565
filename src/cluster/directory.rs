//! The directory nodes share: what each node and each lobby looks like to the others, and the
//! operations a node needs of it. One node on its own needs none of this (its registry is its
//! whole directory); a cluster node talks to [`super::redis_dir::RedisDirectory`].

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

/// A lobby as every node may see it. Refreshed once per heartbeat, so `players` may be up to a
/// heartbeat old; the owning node checks capacity itself when the player gets there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub id: u32,
    pub code: String,
    pub name: String,
    pub game: String,
    pub players: u16,
    pub max_players: u16,
    pub public: bool,
    /// The node it runs on, and where clients reach that node.
    pub node: String,
    pub url: String,
}

impl Listing {
    pub fn has_room(&self) -> bool {
        self.players < self.max_players
    }
}

/// A live node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub id: String,
    pub url: String,
    pub lobbies: u32,
    pub players: u32,
    pub draining: bool,
    /// Takes new lobbies: not draining and under its `lobby.max_lobbies`.
    #[serde(default)]
    pub accepting: bool,
}

impl NodeInfo {
    /// Lower is emptier: where a new lobby should go.
    pub fn load(&self) -> u64 {
        u64::from(self.lobbies) * 16 + u64::from(self.players)
    }
}

/// The directory could not be reached or answered nonsense.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the cluster directory is unreachable: {0}")]
pub struct DirError(pub String);

pub type DirResult<'a, T> = Pin<Box<dyn Future<Output = Result<T, DirError>> + Send + 'a>>;

/// What a refresh found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Published {
    /// Lobbies whose code or id another lobby holds (after the directory lost its data and
    /// another node claimed them meanwhile): listed no more until they close.
    pub conflicts: Vec<u32>,
}

/// The operations of a shared directory. Every call is one round trip (or one pipeline).
pub trait Directory: Send + Sync {
    /// Claims `lobby`'s code and id for it, atomically: false if either is taken.
    fn claim<'a>(&'a self, lobby: &'a Listing, ttl_ms: u64) -> DirResult<'a, bool>;
    /// The heartbeat: this node and every lobby on it, with their TTLs renewed. `open` says
    /// which lobbies quick-join may send players to.
    fn publish<'a>(
        &'a self,
        node: &'a NodeInfo,
        lobbies: &'a [(Listing, bool)],
        ttl_ms: u64,
    ) -> DirResult<'a, Published>;
    /// A lobby closed: out of every key and index.
    fn withdraw<'a>(&'a self, lobbies: &'a [Listing]) -> DirResult<'a, ()>;
    /// A node leaving cleanly: out of the node index at once, not after its TTL.
    fn withdraw_node<'a>(&'a self, node: &'a str) -> DirResult<'a, ()>;
    fn find_code<'a>(&'a self, code: &'a str) -> DirResult<'a, Option<Listing>>;
    fn find_id(&self, id: u32) -> DirResult<'_, Option<Listing>>;
    /// Public lobbies of `game` (or every game), fullest first, at most `limit`.
    fn public<'a>(&'a self, game: &'a str, limit: usize) -> DirResult<'a, Vec<Listing>>;
    /// Public lobbies of `game` with a free seat on a node that takes players, fullest first.
    fn open<'a>(&'a self, game: &'a str, limit: usize) -> DirResult<'a, Vec<Listing>>;
    /// Live nodes that take new lobbies, least loaded first, at most `limit`.
    fn nodes(&self, limit: usize) -> DirResult<'_, Vec<NodeInfo>>;
    fn node<'a>(&'a self, id: &'a str) -> DirResult<'a, Option<NodeInfo>>;
}
