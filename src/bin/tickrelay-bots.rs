//! `tickrelay-bots`: load-test a tickrelay server with lobbies of bots, or fill a lobby with AI
//! players. Argument parsing only; the work is `tickrelay::bots::run`.

use anyhow::Context;
use clap::Parser;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;
use tickrelay::bots::{parse_duration, parse_rate, BotConfig, Game, Mode};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    version,
    about = "Load-test bots for tickrelay: form lobbies of bots (or fill a lobby), play, measure",
    after_help = "Examples:\n  \
        tickrelay-bots --url ws://127.0.0.1:8080/ws --lobbies 10 --players 10 --game walkers --duration 20s\n  \
        tickrelay-bots --url ws://127.0.0.1:8080/ws --fill K7QX2M --players 3 --duration 10m\n\n\
        Exits with status 1 when a bot failed to get a seat or a server frame did not decode."
)]
struct Args {
    /// The server's WebSocket URL (in a cluster, any node: bots follow redirects to the node that
    /// runs their lobby, or has room for a new one; the report counts them).
    #[arg(long)]
    url: String,
    /// Lobbies to form; the first bot of each creates it (private), the others join by its code.
    #[arg(long, default_value_t = 1, conflicts_with = "fill")]
    lobbies: usize,
    /// Bots per lobby (with --fill: bots to add to that lobby).
    #[arg(long, default_value_t = 10)]
    players: usize,
    /// Game of the lobbies the bots create: walkers (the benchmark workload) or arena.
    #[arg(long, default_value = "walkers", conflicts_with = "fill")]
    game: Game,
    /// AI fill: join --players bots into the existing lobby with this join code (they play its game;
    /// in a cluster the lobby may run on another node than --url).
    #[arg(long, value_name = "CODE")]
    fill: Option<String>,
    /// The measured window (e.g. 30s, 500ms, 10m).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Played but not measured, after every bot joined [default: 5s; 0 with --fill].
    #[arg(long, value_parser = parse_duration)]
    warmup: Option<Duration>,
    /// Inputs per second per bot [default: the lobby's tick rate, one input per tick].
    #[arg(long)]
    tick_rate: Option<u16>,
    /// At most this many new connections per second (e.g. 500/s).
    #[arg(long, default_value = "500/s", value_parser = parse_rate)]
    ramp: f64,
    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// A server process on this machine to charge for the window: its CPU seconds and peak RSS.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// Seed for the bots' random choices (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// No live progress line.
    #[arg(long, short)]
    quiet: bool,
    /// Bot threads (default: one per core); each runs its share of the bots on its own.
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mode = match &args.fill {
        Some(code) => Mode::Fill {
            code: code.clone(),
            players: args.players,
        },
        None => Mode::Lobbies {
            lobbies: args.lobbies,
            players: args.players,
            game: args.game,
        },
    };
    let mut cfg = BotConfig::new(args.url.clone(), mode);
    cfg.duration = args.duration;
    if let Some(w) = args.warmup {
        cfg.warmup = w;
    }
    cfg.tick_rate = args.tick_rate;
    cfg.ramp_per_s = args.ramp;
    cfg.progress = !args.quiet && std::io::stderr().is_terminal();
    cfg.seed = args.seed;
    cfg.server_pid = args.server_pid;
    cfg.threads = args.threads;
    cfg.validate().map_err(anyhow::Error::msg)?;

    // This thread only paces the run, draws the progress line and waits for Ctrl-C: the bots
    // run on threads of their own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let report = runtime.block_on(async {
        let stop = CancellationToken::new();
        let on_signal = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted: stopping the bots and reporting what was measured");
                on_signal.cancel();
            }
        });
        tickrelay::bots::run(cfg, stop).await
    })?;
    // Bots still closing past the grace period must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(100));

    print!("{}", report.table());
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if !report.ok() {
        eprintln!(
            "failed: {} bots could not get a seat, {} undecodable frames",
            report.bots_failed, report.decode_errors
        );
        std::process::exit(1);
    }
    Ok(())
}
