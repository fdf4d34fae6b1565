//! The directory in Redis. Keys (all expire unless named an index):
//!
//! - `tr:node:{id}`: a node's [`NodeInfo`] (JSON), TTL `cluster.ttl`;
//! - `tr:nodes`: index of nodes taking lobbies, scored by load (sorted set);
//! - `tr:lobby:{id}`: a lobby's [`Listing`] (JSON), TTL `cluster.ttl`;
//! - `tr:code:{CODE}`: the id of the lobby holding a join code, TTL `cluster.ttl`;
//! - `tr:public:{game}` and `tr:open:{game}`: indexes of public lobbies, and of public lobbies
//!   with a free seat on a node taking players, scored by players (sorted sets).
//!
//! An index may name a member whose record expired (its node died): readers drop those from
//! the index as they meet them, so a dead node costs each index a few removals, never a scan.
//! docs/cluster.md explains the layout and what it costs.

use super::directory::{DirError, DirResult, Directory, Listing, NodeInfo, Published};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};
use std::time::Duration;

/// Claims (when `fresh`) or refreshes one lobby: its code (unless another lobby holds it), its
/// record, and its place in the two indexes. Returns 0 on a conflict, 1 otherwise.
const REFRESH: &str = r#"
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
if ARGV[4] == '1' and (cur or redis.call('EXISTS', KEYS[2]) == 1) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
if ARGV[5] == '1' then redis.call('ZADD', KEYS[3], ARGV[7], ARGV[1]) else redis.call('ZREM', KEYS[3], ARGV[1]) end
if ARGV[6] == '1' then redis.call('ZADD', KEYS[4], ARGV[7], ARGV[1]) else redis.call('ZREM', KEYS[4], ARGV[1]) end
return 1
"#;

/// Removes one lobby: its code only if it still names this lobby.
const WITHDRAW: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return 1
"#;

const NODES: &str = "tr:nodes";

fn node_key(id: &str) -> String {
    format!("tr:node:{id}")
}
fn lobby_key(id: u32) -> String {
    format!("tr:lobby:{id}")
}
fn code_key(code: &str) -> String {
    format!("tr:code:{code}")
}
fn public_key(game: &str) -> String {
    format!("tr:public:{game}")
}
fn open_key(game: &str) -> String {
    format!("tr:open:{game}")
}

fn err(e: impl std::fmt::Display) -> DirError {
    DirError(e.to_string())
}

pub struct RedisDirectory {
    conn: ConnectionManager,
    refresh: Script,
    withdraw: Script,
}

impl RedisDirectory {
    /// Connects lazily: a node starts (and plays its own lobbies) whether or not Redis is up,
    /// and the manager reconnects with backoff whenever Redis comes back.
    pub fn new(url: &str, timeout: Duration) -> Result<RedisDirectory, DirError> {
        let client = redis::Client::open(url).map_err(err)?;
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_lazy_with_config(client, cfg).map_err(err)?;
        Ok(RedisDirectory {
            conn,
            refresh: Script::new(REFRESH),
            withdraw: Script::new(WITHDRAW),
        })
    }

    /// Runs a pipeline of script calls by hash, loading the scripts first when Redis does not
    /// know them (it forgets them when it restarts).
    async fn run_scripts(&self, pipe: &redis::Pipeline) -> Result<Vec<redis::Value>, DirError> {
        let mut c = self.conn.clone();
        match pipe.query_async::<Vec<redis::Value>>(&mut c).await {
            Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) => {
                self.load_scripts().await?;
                pipe.query_async(&mut c).await.map_err(err)
            }
            other => other.map_err(err),
        }
    }

    async fn load_scripts(&self) -> Result<(), DirError> {
        let mut c = self.conn.clone();
        for s in [REFRESH, WITHDRAW] {
            redis::cmd("SCRIPT")
                .arg("LOAD")
                .arg(s)
                .query_async::<String>(&mut c)
                .await
                .map_err(err)?;
        }
        Ok(())
    }

    fn refresh_call(
        &self,
        pipe: &mut redis::Pipeline,
        l: &Listing,
        open: bool,
        fresh: bool,
        ttl_ms: u64,
    ) -> Result<(), DirError> {
        let json = serde_json::to_string(l).map_err(err)?;
        pipe.cmd("EVALSHA")
            .arg(self.refresh.get_hash())
            .arg(4)
            .arg(code_key(&l.code))
            .arg(lobby_key(l.id))
            .arg(public_key(&l.game))
            .arg(open_key(&l.game))
            .arg(l.id)
            .arg(json)
            .arg(ttl_ms)
            .arg(if fresh { "1" } else { "0" })
            .arg(if l.public { "1" } else { "0" })
            .arg(if open && l.public && l.has_room() {
                "1"
            } else {
                "0"
            })
            .arg(l.players);
        Ok(())
    }

    /// The records behind an index's members (`key` names each member's record), dropping from
    /// the index the members whose record has expired: lobbies and nodes alike.
    async fn records<M, T>(
        &self,
        index: &str,
        ids: Vec<M>,
        key: impl Fn(&M) -> String,
    ) -> Result<Vec<T>, DirError>
    where
        M: redis::ToRedisArgs + Send + Sync,
        T: serde::de::DeserializeOwned,
    {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.conn.clone();
        let keys: Vec<String> = ids.iter().map(key).collect();
        let records: Vec<Option<String>> = c.mget(&keys).await.map_err(err)?;
        let mut out = Vec::with_capacity(ids.len());
        let mut stale = Vec::new();
        for (id, rec) in ids.into_iter().zip(records) {
            match rec.and_then(|r| serde_json::from_str(&r).ok()) {
                Some(v) => out.push(v),
                None => stale.push(id),
            }
        }
        if !stale.is_empty() {
            let _: () = c.zrem(index, stale).await.map_err(err)?;
        }
        Ok(out)
    }

    async fn ranked(&self, index: String, limit: usize) -> Result<Vec<Listing>, DirError> {
        let mut c = self.conn.clone();
        let stop = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
        let ids: Vec<u32> = c.zrevrange(&index, 0, stop).await.map_err(err)?;
        self.records(&index, ids, |&id| lobby_key(id)).await
    }
}

impl Directory for RedisDirectory {
    fn claim<'a>(&'a self, lobby: &'a Listing, ttl_ms: u64) -> DirResult<'a, bool> {
        Box::pin(async move {
            let mut pipe = redis::pipe();
            self.refresh_call(&mut pipe, lobby, true, true, ttl_ms)?;
            let r = self.run_scripts(&pipe).await?;
            Ok(matches!(r.first(), Some(redis::Value::Int(1))))
        })
    }

    fn publish<'a>(
        &'a self,
        node: &'a NodeInfo,
        lobbies: &'a [(Listing, bool)],
        ttl_ms: u64,
    ) -> DirResult<'a, Published> {
        Box::pin(async move {
            let mut pipe = redis::pipe();
            let json = serde_json::to_string(node).map_err(err)?;
            pipe.cmd("SET")
                .arg(node_key(&node.id))
                .arg(json)
                .arg("PX")
                .arg(ttl_ms)
                .ignore();
            if !node.accepting {
                pipe.zrem(NODES, &node.id).ignore();
            } else {
                pipe.zadd(NODES, &node.id, node.load()).ignore();
            }
            for (l, open) in lobbies {
                self.refresh_call(&mut pipe, l, *open && !node.draining, false, ttl_ms)?;
            }
            let r = self.run_scripts(&pipe).await?;
            let conflicts = lobbies
                .iter()
                .zip(r)
                .filter(|(_, v)| matches!(v, redis::Value::Int(0)))
                .map(|((l, _), _)| l.id)
                .collect();
            Ok(Published { conflicts })
        })
    }

    fn withdraw<'a>(&'a self, lobbies: &'a [Listing]) -> DirResult<'a, ()> {
        Box::pin(async move {
            if lobbies.is_empty() {
                return Ok(());
            }
            let mut pipe = redis::pipe();
            for l in lobbies {
                pipe.cmd("EVALSHA")
                    .arg(self.withdraw.get_hash())
                    .arg(4)
                    .arg(code_key(&l.code))
                    .arg(lobby_key(l.id))
                    .arg(public_key(&l.game))
                    .arg(open_key(&l.game))
                    .arg(l.id)
                    .ignore();
            }
            self.run_scripts(&pipe).await.map(|_| ())
        })
    }

    fn withdraw_node<'a>(&'a self, node: &'a str) -> DirResult<'a, ()> {
        Box::pin(async move {
            let mut c = self.conn.clone();
            redis::pipe()
                .del(node_key(node))
                .ignore()
                .zrem(NODES, node)
                .ignore()
                .query_async::<()>(&mut c)
                .await
                .map_err(err)
        })
    }

    fn find_code<'a>(&'a self, code: &'a str) -> DirResult<'a, Option<Listing>> {
        Box::pin(async move {
            let mut c = self.conn.clone();
            let id: Option<u32> = c.get(code_key(code)).await.map_err(err)?;
            match id {
                Some(id) => self.find_id(id).await,
                None => Ok(None),
            }
        })
    }

    fn find_id(&self, id: u32) -> DirResult<'_, Option<Listing>> {
        Box::pin(async move {
            let mut c = self.conn.clone();
            let rec: Option<String> = c.get(lobby_key(id)).await.map_err(err)?;
            Ok(rec.and_then(|r| serde_json::from_str(&r).ok()))
        })
    }

    fn public<'a>(&'a self, game: &'a str, limit: usize) -> DirResult<'a, Vec<Listing>> {
        Box::pin(self.ranked(public_key(game), limit))
    }

    fn open<'a>(&'a self, game: &'a str, limit: usize) -> DirResult<'a, Vec<Listing>> {
        Box::pin(self.ranked(open_key(game), limit))
    }

    fn nodes(&self, limit: usize) -> DirResult<'_, Vec<NodeInfo>> {
        Box::pin(async move {
            let mut c = self.conn.clone();
            let stop = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
            let ids: Vec<String> = c.zrange(NODES, 0, stop).await.map_err(err)?;
            self.records(NODES, ids, |id| node_key(id)).await
        })
    }

    fn node<'a>(&'a self, id: &'a str) -> DirResult<'a, Option<NodeInfo>> {
        Box::pin(async move {
            let mut c = self.conn.clone();
            let rec: Option<String> = c.get(node_key(id)).await.map_err(err)?;
            Ok(rec.and_then(|r| serde_json::from_str(&r).ok()))
        })
    }
}
