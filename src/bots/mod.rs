//! Load-test bots: form lobbies of bots (or fill a lobby with them), play walkers or arena over the
//! real protocol, and measure what each bot receives and how fast its inputs are acked.
//!
//! Built on `client`, `protocol` and `snapshot` only, never on server internals, so it measures the
//! server from the outside exactly as any client sees it. `run` is what `tickrelay-bots` and the
//! tests call.
//!
//! In a cluster, `--url` may name any node: a bot whose create or join is answered with a
//! `Redirect` connects to the node it names, says hello there with the same name, and redeems
//! its ticket (or sends the create again), then plays there like any other bot
//! ([`bot`]); the report counts the redirects followed.
//!
//! The bots must cost less than the server they measure, on the same machine. So they run
//! thread-per-core ([`worker`]): a bot lives on one thread, with no cross-thread wake-ups or
//! shared counters per frame; one ticker per thread sends the inputs of a whole phase group at
//! once ([`ticker`]); each socket is read once per wake-up and written straight from the ticker,
//! with framing parsed in place ([`conn`], [`frame`], [`player`]). At the end every bot sends
//! `Leave` and a close frame and waits for the server's close, so a finished run frees its seats
//! at once.

mod bot;
mod config;
mod conn;
mod frame;
mod player;
mod procstat;
mod progress;
mod report;
mod stats;
mod thread;
mod ticker;
mod view;
pub mod wire;
mod worker;

pub use config::{parse_duration, parse_rate, BotConfig, Game, Mode};
pub use procstat::{cpu_seconds, peak_rss_mib};
pub use report::{Latency, Report, ServerCost};

use bot::{BotSpec, Code, Role};
use stats::{Shared, ThreadStats, DONE, MEASURE, WARMUP};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long the run waits for its threads to say goodbye and report (each bounds its own
/// goodbye at 2 s).
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Runs the bots described by `cfg` and reports what they measured. `stop` ends the run early
/// (Ctrl-C): the report then covers the part of the window that happened.
pub async fn run(cfg: BotConfig, stop: CancellationToken) -> anyhow::Result<Report> {
    cfg.validate().map_err(anyhow::Error::msg)?;
    let cfg = Arc::new(cfg);
    let total = cfg.bots();
    let threads = cfg.thread_count();
    let shared = Arc::new(Shared::new(total, threads, cfg.progress));
    let bots_stop = stop.child_token();
    let progress_done = CancellationToken::new();
    let progress = cfg
        .progress
        .then(|| tokio::spawn(progress::show(shared.clone(), progress_done.clone())));
    let seed = cfg.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let epoch = Instant::now();
    let slot = Duration::from_secs_f64(1.0 / cfg.ramp_per_s);
    let mut specs = Vec::with_capacity(total);
    // Fill mode has one code from the start; the sender lives as long as the run.
    let mut fill_code = None;
    let mut add_bot = |index: usize, role: Role| {
        specs.push(BotSpec {
            index,
            role,
            start_at: epoch + slot.mul_f64(index as f64),
            seed: seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        });
    };
    let (mode, game, lobbies, players) = match &cfg.mode {
        Mode::Lobbies {
            lobbies,
            players,
            game,
        } => {
            // Lobby by lobby, so each creator connects before the bots that join it.
            for l in 0..*lobbies {
                let (tx, rx) = watch::channel(Code::Pending);
                let mut creator = Some(tx);
                for p in 0..*players {
                    let role = match creator.take() {
                        Some(code) => Role::Create {
                            lobby_name: format!("bots-{l}"),
                            game: *game,
                            max_players: *players as u16,
                            code,
                        },
                        None => Role::Join { code: rx.clone() },
                    };
                    add_bot(l * players + p, role);
                }
            }
            ("lobbies", game.name().to_owned(), *lobbies, *players)
        }
        Mode::Fill { code, players } => {
            let (tx, rx) = watch::channel(Code::Ready(code.clone()));
            for i in 0..*players {
                add_bot(i, Role::Join { code: rx.clone() });
            }
            fill_code = Some(tx);
            ("fill", String::new(), 1, *players)
        }
    };

    let finished = worker::start(
        threads,
        specs,
        cfg.clone(),
        shared.clone(),
        epoch,
        bots_stop.clone(),
    )?;

    // Everyone in (or failed), then the warm-up, then the measured window.
    loop {
        let settled = shared.settled.notified();
        if shared.settled_count() >= total {
            break;
        }
        tokio::select! {
            _ = settled => {}
            _ = stop.cancelled() => break,
        }
    }
    let anyone = shared.connected.load(Relaxed) > 0;
    shared.phase.store(WARMUP, Relaxed);
    if anyone {
        sleep_or_stop(cfg.warmup, &stop).await;
    }
    let warmup_s = if anyone && !stop.is_cancelled() {
        cfg.warmup.as_secs_f64()
    } else {
        0.0
    };
    let server_pid = cfg.server_pid.map(|p| p.to_string());
    let cpu = |pid: &Option<String>| pid.as_deref().and_then(procstat::cpu_seconds);
    let (server_cpu0, self_cpu0) = (cpu(&server_pid), procstat::cpu_seconds("self"));
    let window_start = Instant::now();
    shared.phase.store(MEASURE, Relaxed);
    if anyone && !stop.is_cancelled() {
        sleep_or_stop(cfg.duration, &stop).await;
    }
    shared.phase.store(DONE, Relaxed);
    let window_s = window_start.elapsed().as_secs_f64();
    let (server_cpu1, self_cpu1) = (cpu(&server_pid), procstat::cpu_seconds("self"));
    let server_rss = server_pid.as_deref().and_then(procstat::peak_rss_mib);

    bots_stop.cancel();
    let deadline = Instant::now() + STOP_GRACE;
    let mut counted = ThreadStats::new(false);
    for f in finished {
        match tokio::time::timeout_at(deadline, f).await {
            Ok(Ok(t)) => counted.merge(&t),
            _ => shared.warn("a bot thread did not report in time".into()),
        }
    }
    drop(fill_code);
    progress_done.cancel();
    if let Some(p) = progress {
        let _ = p.await;
    }

    let connected = shared.connected.load(Relaxed);
    let bot_s = connected as f64 * window_s;
    let per_bot_s = |v: u64| if bot_s > 0.0 { v as f64 / bot_s } else { 0.0 };
    let lobby = shared
        .lobby
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let tick_rate = lobby.as_ref().map(|l| l.tick_rate);
    let snapshot_rate = lobby.as_ref().map(|l| l.snapshot_rate);
    // Fill mode plays whatever the lobby runs.
    let game = match (game.is_empty(), lobby) {
        (true, Some(l)) => l.game,
        _ => game,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server = match (cfg.server_pid, server_cpu0, server_cpu1) {
        (Some(pid), Some(a), Some(b)) => {
            let cpu_s = b - a;
            Some(ServerCost {
                pid,
                cpu_s,
                cpu_ms_per_player_s: if bot_s > 0.0 {
                    cpu_s * 1000.0 / bot_s
                } else {
                    0.0
                },
                cpu_cores: if window_s > 0.0 {
                    cpu_s / window_s
                } else {
                    0.0
                },
                peak_rss_mib: server_rss.unwrap_or(0.0),
            })
        }
        _ => None,
    };
    let bots_cpu_s = match (self_cpu0, self_cpu1) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let mut warnings = shared
        .warnings
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if cfg.server_pid.is_some() && server.is_none() {
        warnings.push("could not read the server's /proc/PID/stat".into());
    }
    let errors = shared
        .errors
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let seats = shared
        .seats
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Ok(Report {
        lobbies_formed: seats.len(),
        bots_per_lobby_min: seats.values().copied().min().unwrap_or(0),
        bots_per_lobby_max: seats.values().copied().max().unwrap_or(0),
        bots_connected: connected,
        bots_failed: shared.failed.load(Relaxed),
        snapshots_per_bot_s: per_bot_s(counted.snapshots),
        missed_ticks: counted.missed_ticks,
        bytes_per_bot_s: per_bot_s(counted.bytes),
        latency_ms: Latency::from_us(&counted.latency),
        errors,
        resyncs: counted.resyncs,
        bots_dropped: shared.dropped.load(Relaxed),
        redirects_followed: shared.redirects.load(Relaxed),
        decode_errors: shared.decode_errors.load(Relaxed),
        inputs_per_bot_s: per_bot_s(counted.inputs),
        mode: mode.to_owned(),
        game,
        lobbies,
        players,
        bots: total,
        tick_rate,
        snapshot_rate,
        input_rate: cfg.tick_rate.or(tick_rate),
        warmup_s,
        window_s,
        server,
        bots_cpu_s,
        bots_cpu_ms_per_bot_s: bots_cpu_s
            .map(|c| if bot_s > 0.0 { c * 1000.0 / bot_s } else { 0.0 }),
        bots_cpu_share: bots_cpu_s.map(|c| {
            if window_s > 0.0 {
                c / (window_s * cores as f64)
            } else {
                0.0
            }
        }),
        cores,
        warnings,
    })
}

async fn sleep_or_stop(d: Duration, stop: &CancellationToken) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = stop.cancelled() => {}
    }
}

#[cfg(test)]
mod tests;
