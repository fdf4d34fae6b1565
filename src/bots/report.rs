//! The result of a run: what the command line prints as a table and writes with `--json`.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Input-to-ack latency in milliseconds (from sending seq k to the first snapshot whose own ack
/// is >= k), over the measured window.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Latency {
    pub fn from_us(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Latency {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

/// The server process, when the run was told its pid (`--server-pid`), over the measured window.
#[derive(Clone, Debug, Serialize)]
pub struct ServerCost {
    pub pid: u32,
    /// utime + stime in the window.
    pub cpu_s: f64,
    /// cpu_s * 1000 / (players * window seconds), as WORKLOAD.md defines it.
    pub cpu_ms_per_player_s: f64,
    /// Cores busy on average (cpu_s / window seconds).
    pub cpu_cores: f64,
    /// VmHWM at the end of the window.
    pub peak_rss_mib: f64,
}

/// Everything a run measured. The keys the issue asks for are the first ones.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Bots that got a seat in their lobby.
    pub bots_connected: usize,
    /// Bots that never did (connect, handshake or join failed); any makes the run fail.
    pub bots_failed: usize,
    /// Snapshots received per connected bot per second of the measured window.
    pub snapshots_per_bot_s: f64,
    /// Snapshot ticks a bot never received, summed over bots, in the measured window.
    pub missed_ticks: u64,
    /// WebSocket payload bytes received (every kind of server message) per bot per second.
    pub bytes_per_bot_s: f64,
    pub latency_ms: Latency,
    /// Error kind -> count ("decode" is an undecodable server frame).
    pub errors: BTreeMap<String, u64>,

    /// Full snapshots after the first one (the server gave up on deltas for that bot).
    pub resyncs: u64,
    /// Distinct lobbies the bots got seats in, and the fewest and most bots seated in one.
    pub lobbies_formed: usize,
    pub bots_per_lobby_min: usize,
    pub bots_per_lobby_max: usize,
    /// Bots that had a seat but stopped playing before the end (closed, errored).
    pub bots_dropped: usize,
    /// Redirects the bots followed to another node of a cluster on their way in (0 on one
    /// server).
    pub redirects_followed: u64,
    pub decode_errors: u64,
    pub inputs_per_bot_s: f64,
    pub mode: String,
    pub game: String,
    pub lobbies: usize,
    pub players: usize,
    pub bots: usize,
    /// The lobbies' tick and snapshot rates, from `Joined`.
    pub tick_rate: Option<u16>,
    pub snapshot_rate: Option<u16>,
    /// Inputs per second each bot was asked to send.
    pub input_rate: Option<u16>,
    pub warmup_s: f64,
    /// The measured window as it really was (shorter if interrupted).
    pub window_s: f64,
    pub server: Option<ServerCost>,
    /// This process's CPU seconds in the window, and per bot-second.
    pub bots_cpu_s: Option<f64>,
    pub bots_cpu_ms_per_bot_s: Option<f64>,
    /// This process's CPU as a share of the whole machine (cores x window).
    pub bots_cpu_share: Option<f64>,
    pub cores: usize,
    pub warnings: Vec<String>,
}

impl Report {
    /// A run is good when every bot got in and every frame decoded.
    pub fn ok(&self) -> bool {
        self.bots_failed == 0 && self.decode_errors == 0
    }

    /// The human-readable summary.
    pub fn table(&self) -> String {
        let mut rows: Vec<(String, String)> = Vec::new();
        let mut row = |k: &str, v: String| rows.push((k.to_owned(), v));
        let who = if self.mode == "fill" {
            format!("fill: {} bots", self.bots)
        } else {
            format!("{} lobbies x {} players", self.lobbies, self.players)
        };
        row("run", format!("{who}, {}", self.game));
        if let (Some(t), Some(s)) = (self.tick_rate, self.snapshot_rate) {
            let input = self
                .input_rate
                .map_or(String::new(), |r| format!(", inputs {r}/s"));
            row("rates", format!("tick {t} Hz, snapshots {s}/s{input}"));
        }
        row(
            "window",
            format!(
                "{:.1} s after {:.1} s warm-up",
                self.window_s, self.warmup_s
            ),
        );
        row(
            "bots",
            format!(
                "{} connected, {} failed, {} dropped",
                self.bots_connected, self.bots_failed, self.bots_dropped
            ),
        );
        row("redirects followed", self.redirects_followed.to_string());
        row(
            "lobbies",
            format!(
                "{} formed, {}..{} bots each",
                self.lobbies_formed, self.bots_per_lobby_min, self.bots_per_lobby_max
            ),
        );
        row(
            "snapshots",
            format!(
                "{:.2} per bot-s, {} missed ticks, {} resyncs",
                self.snapshots_per_bot_s, self.missed_ticks, self.resyncs
            ),
        );
        row(
            "received",
            format!(
                "{:.0} bytes per bot-s ({:.1} kbit/s per bot)",
                self.bytes_per_bot_s,
                self.bytes_per_bot_s * 8.0 / 1000.0
            ),
        );
        row("inputs", format!("{:.2} per bot-s", self.inputs_per_bot_s));
        let l = &self.latency_ms;
        row(
            "input-to-ack",
            format!(
                "p50 {:.1} / p90 {:.1} / p99 {:.1} / max {:.1} ms ({} samples)",
                l.p50, l.p90, l.p99, l.max, l.count
            ),
        );
        if let Some(s) = &self.server {
            row(
                "server",
                format!(
                    "pid {}: {:.2} CPU s = {:.3} ms per player-s ({:.2} cores), peak RSS {:.1} MiB",
                    s.pid, s.cpu_s, s.cpu_ms_per_player_s, s.cpu_cores, s.peak_rss_mib
                ),
            );
        }
        if let (Some(cpu), Some(per), Some(share)) = (
            self.bots_cpu_s,
            self.bots_cpu_ms_per_bot_s,
            self.bots_cpu_share,
        ) {
            row(
                "bots' own CPU",
                format!(
                    "{cpu:.2} s = {per:.3} ms per bot-s, {:.1}% of {} cores",
                    share * 100.0,
                    self.cores
                ),
            );
        }
        let errors = if self.errors.is_empty() {
            "none".to_owned()
        } else {
            self.errors
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        row("errors", errors);
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (k, v) in rows {
            let _ = writeln!(out, "{k:<width$}  {v}");
        }
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
        out
    }
}
