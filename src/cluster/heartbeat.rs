//! The heartbeat: every `cluster.heartbeat`, one pipeline renews this node and each of its lobbies
//! in the directory (per lobby per heartbeat, never per tick), and closed lobbies are taken out as
//! they close. When the directory is unreachable it retries with backoff; as soon as it answers
//! again the next heartbeat re-registers everything (also into a Redis that restarted empty).

use super::{Cluster, Listing, NodeInfo};
use crate::lobby::Registry;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// The first retry after a failed heartbeat; each further failure doubles it, up to a heartbeat.
const FIRST_RETRY: Duration = Duration::from_millis(250);

/// Runs until `shutdown`, then takes this node and its lobbies out of the directory.
pub async fn run_heartbeat(
    cluster: Arc<Cluster>,
    registry: Arc<Registry>,
    shutdown: CancellationToken,
) {
    let Some(mut withdrawn) = cluster.take_withdrawn() else {
        return;
    };
    let every = cluster.config().heartbeat;
    let mut failures = 0u32;
    let mut conflicted = HashSet::new();
    let mut next = Instant::now();
    loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            Some(first) = withdrawn.recv() => {
                let mut batch = vec![first];
                while let Ok(l) = withdrawn.try_recv() {
                    batch.push(l);
                }
                // Unreachable: the records expire by themselves within the TTL.
                let _ = cluster.ask(cluster.directory().withdraw(&batch)).await;
            }
            _ = async { tokio::select! { _ = sleep_until(next) => {}, _ = cluster.beat_wanted() => {} } } => {
                match beat(&cluster, &registry).await {
                    Ok(conflicts) => {
                        if failures > 0 {
                            info!(
                                lobbies = registry.lobby_count(),
                                "the cluster directory answers again; this node and its lobbies are registered"
                            );
                        }
                        for id in conflicts {
                            if conflicted.insert(id) {
                                warn!(lobby = id, "another lobby claimed this lobby's code or id while the directory was away; it stays reachable on this node only");
                            }
                        }
                        failures = 0;
                        next = Instant::now() + every;
                    }
                    Err(e) => {
                        cluster.metrics().heartbeat_failures.inc();
                        if failures == 0 {
                            warn!(error = %e, "cluster heartbeat failed; this node keeps playing its own lobbies and retries");
                        }
                        failures += 1;
                        let backoff = FIRST_RETRY.saturating_mul(1 << failures.min(8)).min(every);
                        next = Instant::now() + backoff;
                    }
                }
            }
        }
    }
    // Leaving cleanly: nothing of this node stays behind for its TTL.
    let mut gone: Vec<Listing> = registry.all().iter().map(|l| cluster.listing(l)).collect();
    while let Ok(l) = withdrawn.try_recv() {
        gone.push(l);
    }
    let _ = cluster.ask(cluster.directory().withdraw(&gone)).await;
    let _ = cluster
        .ask(cluster.directory().withdraw_node(&cluster.node_id))
        .await;
}

/// One heartbeat: the node's record and every lobby's, in one pipeline.
async fn beat(cluster: &Cluster, registry: &Registry) -> Result<Vec<u32>, super::DirError> {
    let lobbies = registry.all();
    let listings: Vec<(Listing, bool)> =
        lobbies.iter().map(|l| (cluster.listing(l), true)).collect();
    let node = NodeInfo {
        id: cluster.node_id.clone(),
        url: cluster.url().to_owned(),
        lobbies: listings.len() as u32,
        players: listings.iter().map(|(l, _)| u32::from(l.players)).sum(),
        draining: cluster.is_draining(),
        accepting: !cluster.is_draining() && registry.can_open().is_ok(),
    };
    let ttl = cluster.ttl_ms();
    let published = cluster
        .ask(cluster.directory().publish(&node, &listings, ttl))
        .await?;
    Ok(published.conflicts)
}
