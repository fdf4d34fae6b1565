//! What the bots of one thread share: the run's settings and phase, the time origin, and the
//! thread's own counters (plain fields: they never leave the thread).

use super::config::BotConfig;
use super::stats::{Shared, ThreadStats, MEASURE};
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What the bots of one thread share.
pub struct Ctx {
    pub cfg: Arc<BotConfig>,
    pub shared: Arc<Shared>,
    /// Time zero of the run: latencies are microseconds since it.
    pub epoch: Instant,
    /// This thread's `Shared::live` slot.
    pub slot: usize,
    pub stats: RefCell<ThreadStats>,
    /// The run is over: tickers stop, bots say goodbye.
    pub stopping: Cell<bool>,
    /// Cancels the bots of this thread that are still connecting or joining.
    pub setup_stop: CancellationToken,
}

impl Ctx {
    pub fn measuring(&self) -> bool {
        self.shared.phase() == MEASURE
    }

    /// Microseconds since the run's epoch.
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}
