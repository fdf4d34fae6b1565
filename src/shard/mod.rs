//! Shards: one thread per core, each a single-threaded runtime that owns some lobbies and the
//! connections of their members, so a lobby's tick, its members' reads and its writes to their
//! sockets all happen on one thread with no locks, channels or cross-thread wake-ups between them.
//!
//! A new connection lands on the shard with the fewest connections; a lobby is placed on the
//! least-loaded shard; a session that enters a lobby on another shard moves there once (its socket
//! is re-registered with that shard's reactor) and stays. DESIGN.md's "no task wake-up or
//! cross-thread channel hop per player on the happy path" is this module's reason to exist.

pub mod handle;
pub mod local;
mod timers;

pub use handle::{Context, Incoming, Route, ShardMsg, ShardSeed, Shards};
pub use local::Shard;
pub use timers::{judge, period, Due, Times};

use crate::lobby::{self, LobbyCell, LobbyRun};
use crate::session;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use tokio::task::LocalSet;
use tracing::{error, warn};

/// Starts one thread per seed. Each runs until the server shuts down and its connections and
/// lobbies have finished (bounded by `server.shutdown_deadline`).
pub fn spawn(ctx: Arc<Context>, seeds: Vec<ShardSeed>) -> std::io::Result<()> {
    for seed in seeds {
        let ctx = ctx.clone();
        // The server's wait at shutdown covers this shard until its thread is done.
        let token = ctx.tasks.token();
        std::thread::Builder::new()
            .name(format!("tickrelay-shard-{}", seed.index))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        error!(error = %e, "a shard could not start its runtime");
                        return;
                    }
                };
                LocalSet::new().block_on(&rt, run(ctx, seed));
                drop(token);
            })?;
    }
    Ok(())
}

async fn run(ctx: Arc<Context>, seed: ShardSeed) {
    let ShardSeed {
        index,
        mut rx,
        conns,
        load,
    } = seed;
    let shard = Rc::new(Shard::new(index, ctx.clone(), conns, load));
    tokio::task::spawn_local(shard.tasks.track_future(timers::sweep(shard.clone())));
    let stop = ctx.shutdown.clone();
    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            msg = rx.recv() => match msg {
                Some(msg) => handle(&shard, msg),
                None => break,
            },
        }
    }
    // Shutdown: every connection is told 1001 (and any that still arrives is too); lobbies stop on
    // the same signal. Drain until everything here has finished, within the deadline.
    shard.stop();
    shard.tasks.close();
    let drain = async {
        loop {
            tokio::select! {
                _ = shard.tasks.wait() => return,
                msg = rx.recv() => match msg {
                    Some(msg) => handle(&shard, msg),
                    None => {
                        shard.tasks.wait().await;
                        return;
                    }
                },
            }
        }
    };
    if tokio::time::timeout(ctx.config.server.shutdown_deadline, drain)
        .await
        .is_err()
    {
        warn!(
            shard = index,
            "shutdown deadline passed with tasks still running"
        );
    }
}

fn handle(shard: &Rc<Shard>, msg: ShardMsg) {
    match msg {
        ShardMsg::Connect(incoming) => {
            shard.arrived();
            let fut = session::serve(shard.clone(), incoming);
            tokio::task::spawn_local(shard.tasks.track_future(fut));
        }
        ShardMsg::Arrive(moving) => {
            shard.arrived();
            let fut = session::arrive(shard.clone(), moving);
            tokio::task::spawn_local(shard.tasks.track_future(fut));
        }
        ShardMsg::StartLobby(state, shared) => start_lobby(shard, *state, shared),
        ShardMsg::Inspect { lobby, tick, reply } => {
            let world = shard.lobby(lobby).and_then(|l| l.borrow().world_at(tick));
            let _ = reply.send(world);
        }
        ShardMsg::Admin { lobby, op, reply } => {
            let answer = shard.lobby(lobby).map(|l| l.borrow_mut().admin(op));
            let _ = reply.send(answer);
        }
    }
}

/// Runs a lobby here under a supervisor: whether its loop ends or panics, its members are told,
/// it leaves the counts and the registry, and no other lobby is touched.
fn start_lobby(shard: &Rc<Shard>, state: lobby::LobbyState, shared: Arc<lobby::LobbyShared>) {
    let ctx = &shard.ctx;
    let id = shared.id;
    let seats = shared.max_players;
    let phase = shard.take_phase(seats);
    let run = LobbyRun {
        shared,
        metrics: ctx.metrics.clone(),
        load: shard.load.clone(),
        shutdown: ctx.shutdown.clone(),
        epoch: shard.epoch,
        phase,
        replay: ctx.replay.clone(),
    };
    let cell = Rc::new(RefCell::new(LobbyCell::new(
        state,
        ctx.registry.clone(),
        run,
    )));
    shard.add_lobby(id, cell.clone());
    let ticking = tokio::task::spawn_local(lobby::run_lobby(cell.clone()));
    let shard2 = shard.clone();
    let supervisor = async move {
        if let Err(e) = ticking.await {
            if e.is_panic() {
                error!(lobby = id.0, "lobby tick loop panicked; lobby closed");
                shard2.ctx.metrics.lobby_panics.inc();
            }
        }
        shard2.remove_lobby(id);
        shard2.give_phase(phase, seats);
        lobby::end_lobby(&cell);
    };
    tokio::task::spawn_local(shard.tasks.track_future(supervisor));
}
