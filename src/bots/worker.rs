//! The bots' threads: thread-per-core, each a current-thread tokio runtime with a `LocalSet`.
//!
//! Why: with one multi-thread runtime every bot was a task that any worker could run, so a
//! socket's wake-up often crossed threads (a futex) and every counter was shared. Here a bot
//! lives on one thread from connect to close: its reader task, its thread's ticker and its
//! counters ([`ThreadStats`], plain fields) never leave that thread. Threads meet only on the
//! run's phase (one atomic load per frame, read-mostly), once per bot on setup (joined, failed)
//! and a few times a second when the progress line is on.

use super::bot::{self, BotSpec};
use super::config::BotConfig;
use super::player;
use super::stats::{Shared, ThreadStats};
use super::thread::Ctx;
use super::ticker::Tickers;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::LocalSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long the bots of a thread wait, all at once, for the server to answer their goodbye.
const LEAVE_GRACE: Duration = Duration::from_secs(2);
/// How often a thread publishes its counts for the progress line.
const PUBLISH_EVERY: Duration = Duration::from_millis(250);

/// Starts `threads` bot threads and deals `specs` out to them in turn (so a lobby's bots spread
/// over the threads). Each thread runs its bots until `stop`, then says goodbye for all of
/// them and sends back what it counted.
pub fn start(
    threads: usize,
    specs: Vec<BotSpec>,
    cfg: Arc<BotConfig>,
    shared: Arc<Shared>,
    epoch: Instant,
    stop: CancellationToken,
) -> std::io::Result<Vec<oneshot::Receiver<ThreadStats>>> {
    let threads = threads.max(1);
    let mut dealt: Vec<Vec<BotSpec>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, spec) in specs.into_iter().enumerate() {
        dealt[i % threads].push(spec);
    }
    let mut done = Vec::with_capacity(threads);
    for (slot, specs) in dealt.into_iter().enumerate() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (tx, rx) = oneshot::channel();
        let ctx = CtxSeed {
            cfg: cfg.clone(),
            shared: shared.clone(),
            epoch,
            slot,
            ticker_offset: slot as f64 / threads as f64,
        };
        let thread_stop = stop.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("bots-{slot}"))
            .spawn(move || {
                let local = LocalSet::new();
                let stats = local.block_on(&runtime, run_thread(ctx, specs, thread_stop));
                let _ = tx.send(stats);
                // Whatever still runs past the goodbye's deadline is dropped with the runtime.
                drop(local);
                drop(runtime);
            });
        if let Err(e) = spawned {
            stop.cancel();
            return Err(e);
        }
        done.push(rx);
    }
    Ok(done)
}

/// What a thread needs to build its `Ctx` (which is not `Send`).
struct CtxSeed {
    cfg: Arc<BotConfig>,
    shared: Arc<Shared>,
    epoch: Instant,
    slot: usize,
    ticker_offset: f64,
}

async fn run_thread(seed: CtxSeed, specs: Vec<BotSpec>, stop: CancellationToken) -> ThreadStats {
    let live_latency = seed.cfg.progress;
    let ctx = Rc::new(Ctx {
        cfg: seed.cfg,
        shared: seed.shared,
        epoch: seed.epoch,
        slot: seed.slot,
        stats: RefCell::new(ThreadStats::new(live_latency)),
        stopping: Cell::new(false),
        setup_stop: CancellationToken::new(),
    });
    let tickers = Rc::new(Tickers::new(seed.ticker_offset));
    let publisher = ctx
        .cfg
        .progress
        .then(|| tokio::task::spawn_local(publish(ctx.clone())));
    let bots: Vec<_> = specs
        .into_iter()
        .map(|spec| tokio::task::spawn_local(bot::run_bot(spec, ctx.clone(), tickers.clone())))
        .collect();

    stop.cancelled().await;
    ctx.stopping.set(true);
    ctx.setup_stop.cancel();
    for p in tickers.players() {
        player::leave(&p, &ctx);
    }
    // Every bot waits for the server's close at the same time, so the whole goodbye takes one
    // round trip, bounded.
    let deadline = Instant::now() + LEAVE_GRACE;
    for b in bots {
        let abort = b.abort_handle();
        if tokio::time::timeout_at(deadline, b).await.is_err() {
            abort.abort();
        }
    }
    if let Some(p) = publisher {
        p.abort();
    }
    let mut stats = ctx.stats.borrow_mut();
    stats.publish(&ctx.shared.live[ctx.slot], &ctx.shared);
    std::mem::replace(&mut *stats, ThreadStats::new(false))
}

/// Publishes this thread's counts for the progress line, a few times a second.
async fn publish(ctx: Rc<Ctx>) {
    let mut every = tokio::time::interval(PUBLISH_EVERY);
    loop {
        every.tick().await;
        ctx.stats
            .borrow_mut()
            .publish(&ctx.shared.live[ctx.slot], &ctx.shared);
    }
}
