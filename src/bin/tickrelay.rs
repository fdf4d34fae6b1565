//! The `tickrelay` server binary: config, logging, signals, then `server::run`.

use anyhow::Context;
use clap::Parser;
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
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
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
