//! Counters and latency histograms of a run.
//!
//! The hot counts live in one [`ThreadStats`] per worker thread, plain fields touched only by
//! that thread: no atomics, no shared cache lines per frame. A thread publishes its running
//! totals to its [`Live`] slot a few times a second for the progress line, and hands its
//! [`ThreadStats`] back when it ends, to be merged into the report. [`Shared`] keeps what
//! happens once per bot or rarely (joined, failed, an error) and the run's phase.

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

/// Latencies are recorded in microseconds, 1 us ..= 60 s (longer ones saturate at 60 s).
const LAT_MAX_US: u64 = 60_000_000;

pub fn new_histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts.
    Histogram::new_with_bounds(1, LAT_MAX_US, 3).expect("valid histogram bounds")
}

/// What the first `Joined` said about the lobby (fill mode learns the game from it).
#[derive(Clone, Debug)]
pub struct LobbyInfo {
    pub game: String,
    pub tick_rate: u16,
    pub snapshot_rate: u16,
}

/// One worker thread's published running totals, for the live display.
pub struct Live {
    pub snapshots: AtomicU64,
    pub bytes: AtomicU64,
    /// Latencies since the display last took them.
    pub recent: Mutex<Histogram<u64>>,
}

/// Everything the bots of one run report to, across threads.
pub struct Shared {
    pub total: usize,
    pub phase: AtomicU8,
    pub connected: AtomicUsize,
    pub failed: AtomicUsize,
    pub dropped: AtomicUsize,
    /// Redirects followed to another node of a cluster (on the way in).
    pub redirects: AtomicU64,
    /// Woken when a bot joined or failed, so the run can tell when everyone is in.
    pub settled: Notify,
    pub decode_errors: AtomicU64,
    pub errors: Mutex<BTreeMap<String, u64>>,
    pub warnings: Mutex<Vec<String>>,
    /// The game and rates the lobbies run, from the first `Joined`.
    pub lobby: Mutex<Option<LobbyInfo>>,
    /// Bots seated per lobby id, to show the lobbies formed are the ones asked for.
    pub seats: Mutex<BTreeMap<u32, usize>>,
    /// One slot per worker thread.
    pub live: Vec<Live>,
    /// Whether anyone reads `Live::recent` (the live display).
    pub live_latency: AtomicBool,
}

impl Shared {
    pub fn new(total: usize, threads: usize, live_latency: bool) -> Shared {
        Shared {
            total,
            phase: AtomicU8::new(SETUP),
            connected: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            redirects: AtomicU64::new(0),
            settled: Notify::new(),
            decode_errors: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            warnings: Mutex::new(Vec::new()),
            lobby: Mutex::new(None),
            seats: Mutex::new(BTreeMap::new()),
            live: (0..threads)
                .map(|_| Live {
                    snapshots: AtomicU64::new(0),
                    bytes: AtomicU64::new(0),
                    recent: Mutex::new(new_histogram()),
                })
                .collect(),
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

    /// A bot followed a redirect to another node.
    pub fn redirect_followed(&self) {
        self.redirects.fetch_add(1, Relaxed);
    }

    pub fn bot_failed(&self, kind: &str) {
        self.error(kind);
        self.failed.fetch_add(1, Relaxed);
        self.settled.notify_waiters();
    }

    /// A bot that had a seat stopped playing: counted as dropped unless the run was ending.
    pub fn bot_ended(&self, kind: &str) {
        self.error(kind);
        if self.phase() < DONE {
            self.dropped.fetch_add(1, Relaxed);
        }
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

    /// Snapshots and bytes received so far, all threads, as last published.
    pub fn live_totals(&self) -> (u64, u64) {
        self.live.iter().fold((0, 0), |(s, b), l| {
            (s + l.snapshots.load(Relaxed), b + l.bytes.load(Relaxed))
        })
    }

    /// The latencies published since the last call, merged, and the slots reset.
    pub fn take_recent_latency(&self) -> Histogram<u64> {
        let mut all = new_histogram();
        for l in &self.live {
            let mut h = l.recent.lock().unwrap_or_else(|e| e.into_inner());
            // Same bounds everywhere, so adding cannot fail.
            let _ = all.add(&*h);
            h.reset();
        }
        all
    }
}

/// What the bots of one thread counted. The measured-window counts and histogram are what the
/// report shows; the live ones feed the progress line.
pub struct ThreadStats {
    pub snapshots: u64,
    pub bytes: u64,
    pub missed_ticks: u64,
    pub resyncs: u64,
    pub inputs: u64,
    pub latency: Histogram<u64>,
    pub live_snapshots: u64,
    pub live_bytes: u64,
    recent: Histogram<u64>,
    /// Whether anyone reads `recent` (copied from `Shared::live_latency` at each publish).
    live_latency: bool,
}

impl ThreadStats {
    pub fn new(live_latency: bool) -> ThreadStats {
        ThreadStats {
            snapshots: 0,
            bytes: 0,
            missed_ticks: 0,
            resyncs: 0,
            inputs: 0,
            latency: new_histogram(),
            live_snapshots: 0,
            live_bytes: 0,
            recent: new_histogram(),
            live_latency,
        }
    }

    /// One input-to-ack sample.
    pub fn latency(&mut self, us: u64, measuring: bool) {
        let us = us.max(1);
        if measuring {
            self.latency.saturating_record(us);
        }
        if self.live_latency {
            self.recent.saturating_record(us);
        }
    }

    /// Publishes the running totals and recent latencies to `live`.
    pub fn publish(&mut self, live: &Live, shared: &Shared) {
        live.snapshots.store(self.live_snapshots, Relaxed);
        live.bytes.store(self.live_bytes, Relaxed);
        if self.live_latency && !self.recent.is_empty() {
            let mut h = live.recent.lock().unwrap_or_else(|e| e.into_inner());
            let _ = h.add(&self.recent);
            self.recent.reset();
        }
        self.live_latency = shared.live_latency.load(Relaxed);
    }

    /// Adds another thread's measured counts and latencies to these.
    pub fn merge(&mut self, other: &ThreadStats) {
        self.snapshots += other.snapshots;
        self.bytes += other.bytes;
        self.missed_ticks += other.missed_ticks;
        self.resyncs += other.resyncs;
        self.inputs += other.inputs;
        let _ = self.latency.add(&other.latency);
    }
}
