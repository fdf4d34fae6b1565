//! Stopping: at once (close everyone with 1001), or by draining first. A draining node opens no
//! lobby and takes no quick-join (in a cluster they go to other nodes); its lobbies play on until
//! nobody is seated in them or `server.shutdown_deadline` passes; then it stops as at once.

use super::app::App;
use std::time::Duration;
use tokio::time::Instant;
use tracing::info;

/// How often a draining node looks whether its lobbies have emptied.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// Waits for a stop (the caller's token: SIGTERM, Ctrl-C, a test) or a drain request
/// (`POST /admin/drain`), drains if asked to, then starts the shutdown proper.
pub async fn stop_when_asked(app: App, stop: tokio_util::sync::CancellationToken) {
    let drain = tokio::select! {
        _ = app.shutdown.cancelled() => return,
        _ = stop.cancelled() => app.config.cluster.drain,
        _ = app.drain_requested.cancelled() => true,
    };
    if drain {
        drain_lobbies(&app).await;
    }
    app.shutdown.cancel();
}

async fn drain_lobbies(app: &App) {
    // In a cluster this also takes the node out of the directory's node index at once.
    app.registry.set_draining();
    let deadline = Instant::now() + app.config.server.shutdown_deadline;
    info!(
        lobbies = app.registry.lobby_count(),
        players = app.registry.player_total(),
        "draining: no new lobbies here; stopping when the lobbies here are empty"
    );
    while app.registry.player_total() > 0 && Instant::now() < deadline {
        tokio::time::sleep(LOOK_EVERY).await;
    }
    info!(
        players = app.registry.player_total(),
        "drained; shutting down"
    );
}
