//! What the HTTP routes share: settings, the lobby registry, metrics, connection limits, the
//! shards that serve upgraded connections, and the server's shutdown signal and task tracker.

use super::limits::ConnectionLimits;
use crate::config::Config;
use crate::lobby::Registry;
use crate::metrics::Metrics;
use crate::shard::Shards;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
    pub limits: Arc<ConnectionLimits>,
    pub shards: Arc<Shards>,
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
    pub next_session: Arc<AtomicU64>,
    /// Connections being refused with a close code, at most a few at a time.
    pub refusals: Arc<Semaphore>,
    /// Cancelled by `POST /admin/drain`: drain, then stop.
    pub drain_requested: CancellationToken,
    /// This node in its cluster (`None`: a node on its own).
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// The operator console's per-second series of this server (see `sampler`).
    pub series: Arc<super::sampler::Series>,
    /// Replays re-simulated for the browser's playback (see `replay_cache`).
    pub replays: Arc<super::replay_cache::ReplayCache>,
}
