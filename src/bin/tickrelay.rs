//! The `tickrelay` binary: the server (config, logging, signals, then `server::run`), or a tool.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tickrelay::config::Config;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    version,
    about = "An authoritative multiplayer game server: fixed-tick lobbies over WebSocket"
)]
struct Args {
    /// Config file (TOML). Environment variables TICKRELAY__SECTION__KEY override it.
    #[arg(long, default_value = "config/default.toml")]
    config: PathBuf,
    /// Address to listen on (overrides server.bind), e.g. 127.0.0.1:8080 or 127.0.0.1:0.
    #[arg(long)]
    bind: Option<SocketAddr>,
    /// None: run the server.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Match replays (docs/replay.md).
    #[command(subcommand)]
    Replay(ReplayCommand),
}

#[derive(Subcommand)]
enum ReplayCommand {
    /// Re-simulates a replay and checks every recorded checksum: exit 0 with a summary, or 1
    /// naming the first tick that differs (2: the file cannot be read).
    Verify { file: PathBuf },
    /// The game, who joined, how long it ran, and the final scores if recorded.
    Info { file: PathBuf },
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(Command::Replay(cmd)) = args.command {
        std::process::exit(replay(cmd));
    }
    let file = args.config.is_file().then_some(args.config.as_path());
    if file.is_none() && args.config.as_path() != std::path::Path::new("config/default.toml") {
        anyhow::bail!("config file {} not found", args.config.display());
    }
    let mut config = Config::load(file, Config::env())?;
    if let Some(bind) = args.bind {
        config.server.bind = bind;
    }
    tickrelay::telemetry::init(&config.server.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tickrelay::server::bind(config.server.bind, config.server.listen_backlog)
        .with_context(|| format!("binding {}", config.server.bind))?;
    let shutdown = CancellationToken::new();
    // Handlers first: a SIGTERM sent as soon as the address is printed must already be ours.
    let signals = install_signals()?;
    tokio::spawn(wait_for_signal(signals, shutdown.clone()));
    // Printed (not only logged) so scripts that bind port 0 can read the address.
    println!("tickrelay listening on http://{}", listener.local_addr()?);
    tickrelay::server::run(listener, Arc::new(config), shutdown).await?;
    Ok(())
}

/// `tickrelay replay ...`: prints its findings; the exit code says how it went.
fn replay(cmd: ReplayCommand) -> i32 {
    use tickrelay::replay::{info_file, verify_file, FileError};
    let code = |e: &FileError| match e {
        FileError::Verify(_) => 1,
        _ => 2,
    };
    match cmd {
        ReplayCommand::Verify { file } => match verify_file(&file, None) {
            Ok((r, v)) => {
                println!(
                    "ok: {}: {} re-simulated {} ticks (to tick {}), all {} checksums match{}",
                    file.display(),
                    r.header.game,
                    v.steps,
                    v.last_tick,
                    v.checksums,
                    torn(r.torn_bytes)
                );
                0
            }
            Err(e) => {
                eprintln!("FAILED: {}: {e}", file.display());
                code(&e)
            }
        },
        ReplayCommand::Info { file } => match info_file(&file) {
            Ok((r, s)) => {
                let h = &r.header;
                println!("game:     {}", s.game);
                println!("lobby:    {}", s.lobby);
                println!("started:  {} (unix ms), seed {}", h.start_unix_ms, h.seed);
                let names: Vec<String> = s
                    .players
                    .iter()
                    .map(|(id, n)| format!("{n} (#{id})"))
                    .collect();
                println!("players:  {} joined: {}", names.len(), names.join(", "));
                println!(
                    "duration: {} ticks, {:.1} s at {} Hz{}{}",
                    s.ticks,
                    s.seconds,
                    h.tick_rate,
                    if s.capped {
                        " (recording stopped at replay.max_match_bytes)"
                    } else {
                        ""
                    },
                    torn(r.torn_bytes)
                );
                match &s.scores {
                    Some(scores) => {
                        println!("final scores:");
                        for sc in scores {
                            let name = s.players.get(&sc.player.0).map_or("?", |n| n.as_str());
                            println!(
                                "  {name} (#{}): {} kills, {} deaths",
                                sc.player, sc.kills, sc.deaths
                            );
                        }
                    }
                    None => println!("final scores: not recorded"),
                }
                0
            }
            Err(e) => {
                eprintln!("FAILED: {}: {e}", file.display());
                code(&e)
            }
        },
    }
}

fn torn(bytes: usize) -> String {
    if bytes == 0 {
        String::new()
    } else {
        format!(" ({bytes} bytes of a chunk cut short at the end ignored)")
    }
}

#[cfg(unix)]
type Signals = (tokio::signal::unix::Signal, tokio::signal::unix::Signal);
#[cfg(not(unix))]
type Signals = ();

/// Registers SIGTERM and SIGINT (Ctrl-C) now, so none is lost between start-up and the wait.
fn install_signals() -> std::io::Result<Signals> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        Ok((
            signal(SignalKind::terminate())?,
            signal(SignalKind::interrupt())?,
        ))
    }
    #[cfg(not(unix))]
    Ok(())
}

/// Ctrl-C and SIGTERM both start the same graceful shutdown.
async fn wait_for_signal(signals: Signals, shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        let (mut term, mut int) = signals;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let () = signals;
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("signal received");
    shutdown.cancel();
}
