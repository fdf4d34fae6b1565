//! Counters and latency histograms shared by all bots of a run.
//!
//! Each bot counts into a plain local struct and flushes it here a few times a second, so
//! thousands of bots do not contend on shared cache lines per message; latencies go into one of a
//! few mutex-guarded histogram shards (merged at the end) rather than one histogram per bot,
//! which at 3 significant figures would cost ~150 KB each.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;
use tokio::sync::Notify;

/// The run's phases; bots read this on every snapshot to decide what it counts towards.
pub const SETUP: u8 = 0;
pub const WARMUP: u8 = 1;
pub const MEASURE: u8 = 2;
pub const DONE: u8 = 3;

const SHARDS: usize = 16;
/// Latencies are recorded in microseconds, 1 us ..= 60 s (longer ones saturate at 60 s).
const LAT_MAX_US: u64 = 60_000_000;

pub fn new_histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts.
    Histogram::new_with_bounds(1, LAT_MAX_US, 3).expect("valid histogram bounds")
}

/// Latencies of one shard: for the report (measured window only) and for the live display.
pub struct Shard {
    pub measured: Histogram<u64>,
    pub recent: Histogram<u64>,
}

/// What the first `Joined` said about the lobby (fill mode learns the game from it).
#[derive(Clone, Debug)]
pub struct LobbyInfo {
    pub game: String,
    pub tick_rate: u16,
    pub snapshot_rate: u16,
}

/// Everything the bots of one run report to.
pub struct Shared {
    pub total: usize,
    pub phase: AtomicU8,
    pub connected: AtomicUsize,
    pub failed: AtomicUsize,
    pub dropped: AtomicUsize,
    /// Woken when a bot joined or failed, so the run can tell when everyone is in.
    pub settled: Notify,
    /// Counted in every phase, for the live display.
    pub live_snapshots: AtomicU64,
    pub live_bytes: AtomicU64,
    /// Counted in the measured window only.
    pub snapshots: AtomicU64,
    pub bytes: AtomicU64,
    pub missed_ticks: AtomicU64,
    pub resyncs: AtomicU64,
    pub inputs: AtomicU64,
    pub decode_errors: AtomicU64,
    pub shards: Vec<Mutex<Shard>>,
    pub errors: Mutex<BTreeMap<String, u64>>,
    pub warnings: Mutex<Vec<String>>,
    /// The game and rates the lobbies run, from the first `Joined`.
    pub lobby: Mutex<Option<LobbyInfo>>,
    /// Bots seated per lobby id, to show the lobbies formed are the ones asked for.
    pub seats: Mutex<BTreeMap<u32, usize>>,
    /// Whether anyone reads `Shard::recent` (the live display).
    pub live_latency: AtomicBool,
}

impl Shared {
    pub fn new(total: usize, live_latency: bool) -> Shared {
        Shared {
            total,
            phase: AtomicU8::new(SETUP),
            connected: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            settled: Notify::new(),
            live_snapshots: AtomicU64::new(0),
            live_bytes: AtomicU64::new(0),
            snapshots: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            missed_ticks: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
            inputs: AtomicU64::new(0),
            decode_errors: AtomicU64::new(0),
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        measured: new_histogram(),
                        recent: new_histogram(),
                    })
                })
                .collect(),
            errors: Mutex::new(BTreeMap::new()),
            warnings: Mutex::new(Vec::new()),
            lobby: Mutex::new(None),
            seats: Mutex::new(BTreeMap::new()),
            live_latency: AtomicBool::new(live_latency),
        }
    }

    pub fn phase(&self) -> u8 {
        self.phase.load(Relaxed)
    }

    pub fn settled_count(&self) -> usize {
        self.connected.load(Relaxed) + self.failed.load(Relaxed)
    }

    pub fn bot_joined(&self, lobby: u32) {
        *self
            .seats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(lobby)
            .or_insert(0) += 1;
        self.connected.fetch_add(1, Relaxed);
        self.settled.notify_waiters();
    }

    pub fn bot_failed(&self, kind: &str) {
        self.error(kind);
        self.failed.fetch_add(1, Relaxed);
        self.settled.notify_waiters();
    }

    /// Counts one error of this kind ("decode" also counts as a decode error).
    pub fn error(&self, kind: &str) {
        if kind == "decode" {
            self.decode_errors.fetch_add(1, Relaxed);
        }
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        *errors.entry(kind.to_owned()).or_insert(0) += 1;
    }

    /// Adds a warning once (bots repeat the same observation).
    pub fn warn(&self, text: String) {
        let mut w = self.warnings.lock().unwrap_or_else(|e| e.into_inner());
        if !w.contains(&text) {
            w.push(text);
        }
    }

    /// All measured latencies, merged.
    pub fn measured_latency(&self) -> Histogram<u64> {
        let mut all = new_histogram();
        for s in &self.shards {
            let s = s.lock().unwrap_or_else(|e| e.into_inner());
            // Same bounds everywhere, so adding cannot fail.
            let _ = all.add(&s.measured);
        }
        all
    }

    /// The latencies since the last call, merged, and the shards' recent histograms reset.
    pub fn take_recent_latency(&self) -> Histogram<u64> {
        let mut all = new_histogram();
        for s in &self.shards {
            let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
            let _ = all.add(&s.recent);
            s.recent.reset();
        }
        all
    }
}

/// One bot's counts since its last flush.
#[derive(Default)]
pub struct Local {
    pub live_snapshots: u64,
    pub live_bytes: u64,
    pub snapshots: u64,
    pub bytes: u64,
    pub missed_ticks: u64,
    pub resyncs: u64,
    pub inputs: u64,
    /// (latency in us, whether it fell in the measured window).
    pub latencies: Vec<(u64, bool)>,
}

impl Local {
    /// Moves the counts into `shared` and starts again from zero.
    pub fn flush(&mut self, shared: &Shared, shard: usize) {
        let add = |a: &AtomicU64, v: &mut u64| {
            if *v != 0 {
                a.fetch_add(std::mem::take(v), Relaxed);
            }
        };
        add(&shared.live_snapshots, &mut self.live_snapshots);
        add(&shared.live_bytes, &mut self.live_bytes);
        add(&shared.snapshots, &mut self.snapshots);
        add(&shared.bytes, &mut self.bytes);
        add(&shared.missed_ticks, &mut self.missed_ticks);
        add(&shared.resyncs, &mut self.resyncs);
        add(&shared.inputs, &mut self.inputs);
        if self.latencies.is_empty() {
            return;
        }
        let live = shared.live_latency.load(Relaxed);
        let mut s = shared.shards[shard % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for (us, measured) in self.latencies.drain(..) {
            if measured {
                s.measured.saturating_record(us.max(1));
            }
            if live {
                s.recent.saturating_record(us.max(1));
            }
        }
    }
}
