//! Binding with a deep backlog, the accept loop, per-connection HTTP serving with a deadline that
//! really fires, and the drain on shutdown.

use super::app::App;
use super::limits::{Admission, AdmissionCell, ConnectionLimits};
use super::{http, ws};
use crate::config::Config;
use crate::lobby::Registry;
use crate::metrics::Metrics;
use crate::replay::ReplayWriter;
use crate::shard::{self, Context, Shards};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, StatusCode};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

/// Binds `addr` with a listen backlog deep enough for thousands of simultaneous joins
/// (tokio's default of 128 overflows when bots connect at once).
pub fn bind(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog.min(i32::MAX as u32) as i32)?;
    TcpListener::from_std(socket.into())
}

fn router(app: App) -> Router {
    let mut r = Router::new()
        .route("/ws", get(ws::ws_route))
        .route("/healthz", get(http::healthz))
        .route("/metrics", get(http::metrics))
        .route("/api/lobbies", get(http::lobbies))
        .route("/api/replays", get(super::replays::list))
        .route("/api/replays/{id}", get(super::replays::describe))
        .route("/api/replays/{id}/frames", get(super::replays::frames))
        .route("/admin/drain", axum::routing::post(super::admin::drain))
        .route("/admin", get(super::admin::page))
        .route("/admin/api/overview", get(super::admin::overview))
        .route(
            "/admin/api/lobbies/{id}/kick",
            axum::routing::post(super::admin::kick),
        )
        .route(
            "/admin/api/lobbies/{id}/close",
            axum::routing::post(super::admin::close),
        )
        .route(
            "/admin/api/{*rest}",
            axum::routing::any(super::admin::unknown),
        );
    if app.config.server.echo_route {
        r = r.route("/echo", get(ws::echo_route));
    }
    r.fallback(http::static_files).with_state(app)
}

/// A server before it runs: tests keep its registry and metrics to look inside while it serves.
pub struct Server {
    app: App,
    /// The caller's stop signal; the server's own `shutdown` follows it (after a drain, when
    /// the node drains).
    stop: CancellationToken,
}

impl Server {
    /// Builds the server and starts its shards: one thread per core (or `server.shards`), each
    /// running its share of lobbies and connections.
    pub fn new(config: Arc<Config>, stop: CancellationToken) -> Server {
        // Without a drain on stop the server's own signal is the caller's, at the same instant
        // (a child token); with one, it follows the caller's after the drain.
        let shutdown = if config.cluster.drain {
            CancellationToken::new()
        } else {
            stop.child_token()
        };
        let metrics = Arc::new(Metrics::new());
        let tasks = TaskTracker::new();
        let count = match config.server.shards {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let (shards, seeds) = Shards::new(count);
        let registry = Registry::new(
            config.clone(),
            metrics.clone(),
            shutdown.clone(),
            shards.clone(),
        );
        let cluster = if config.cluster.enabled() {
            match crate::cluster::Cluster::new(&config.cluster, metrics.clone()) {
                Ok(c) => {
                    registry.set_announce(c.clone());
                    Some(c)
                }
                Err(e) => {
                    tracing::error!(error = %e, "cluster.redis_url is not a Redis URL; stopping");
                    shutdown.cancel();
                    None
                }
            }
        } else {
            None
        };
        let server_id = match super::identity::new_server_id() {
            Ok(id) => Some(id),
            Err(e) => {
                // Fail closed, as for reconnect tokens: no id, no server.
                tracing::error!(error = %e, "the OS random source failed: no server id");
                shutdown.cancel();
                None
            }
        };
        let replay = if config.replay.enabled {
            // The writer's thread holds a token of the server's tasks until it has written
            // everything: shutdown waits for the lobbies' last chunks.
            let c = &config.replay;
            match ReplayWriter::start(&c.dir, c.max_bytes, metrics.clone(), tasks.token()) {
                Ok(w) => Some(w),
                Err(e) => {
                    // Asked to record and cannot: say so and stop, as for any bad setting.
                    tracing::error!(dir = %c.dir.display(), error = %e, "replay.dir is not writable; stopping");
                    shutdown.cancel();
                    None
                }
            }
        } else {
            None
        };
        let ctx = Arc::new(Context {
            config: config.clone(),
            metrics: metrics.clone(),
            registry: registry.clone(),
            shards: shards.clone(),
            shutdown: shutdown.clone(),
            tasks: tasks.clone(),
            server_id,
            client_limits: config.client_limits(),
            cluster: cluster.clone(),
            replay,
        });
        if let Err(e) = shard::spawn(ctx, seeds) {
            // Without its threads the server cannot serve anyone: say so, and stop at once.
            tracing::error!(error = %e, "could not start the shard threads");
            shutdown.cancel();
        }
        Server {
            app: App {
                limits: ConnectionLimits::new(
                    config.limits.max_connections,
                    config.limits.max_connections_per_ip,
                ),
                config,
                registry,
                metrics,
                shards,
                shutdown,
                tasks,
                next_session: Arc::new(AtomicU64::new(1)),
                refusals: Arc::new(Semaphore::new(64)),
                drain_requested: CancellationToken::new(),
                cluster,
                series: Arc::new(super::sampler::Series::default()),
                replays: Arc::new(super::replay_cache::ReplayCache::default()),
            },
            stop,
        }
    }

    pub fn registry(&self) -> Arc<Registry> {
        self.app.registry.clone()
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.app.metrics.clone()
    }

    /// Serves until the shutdown token is cancelled (see [`run`]).
    pub async fn serve(self, listener: TcpListener) -> io::Result<()> {
        let app = self.app;
        tokio::spawn(super::drain::stop_when_asked(app.clone(), self.stop));
        tokio::spawn(super::sampler::run(
            app.series.clone(),
            app.metrics.clone(),
            app.registry.clone(),
            app.shutdown.clone(),
        ));
        if let Some(cluster) = &app.cluster {
            cluster.set_bound(listener.local_addr()?);
            info!(node = %cluster.node_id, url = cluster.url(), "cluster node");
            app.tasks.spawn(crate::cluster::run_heartbeat(
                cluster.clone(),
                app.registry.clone(),
                app.shutdown.clone(),
            ));
        }
        serve(app, listener).await
    }
}

/// Serves until `shutdown` is cancelled, then closes every client (1001) and waits for them, for
/// at most `server.shutdown_deadline`.
pub async fn run(
    listener: TcpListener,
    config: Arc<Config>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    Server::new(config, shutdown).serve(listener).await
}

async fn serve(app: App, listener: TcpListener) -> io::Result<()> {
    let (config, shutdown, tasks) = (app.config.clone(), app.shutdown.clone(), app.tasks.clone());
    let (limits, refusals, metrics) = (
        app.limits.clone(),
        app.refusals.clone(),
        app.metrics.clone(),
    );
    let router = router(app);
    info!(addr = %listener.local_addr()?, "listening");
    let mut backoff = Duration::from_millis(1);
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning or exiting.
                    warn!(error = %e, ?backoff, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
        };
        backoff = Duration::from_millis(1);
        let admission = match limits.try_acquire(peer.ip()) {
            Some(slot) => Admission::Slot(slot),
            None => match refusals.clone().try_acquire_owned() {
                Ok(permit) => Admission::Refused(permit),
                Err(_) => {
                    // Refusing politely is bounded too: past that, close without a word.
                    metrics.rejected_connections.inc();
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        if config.limits.socket_send_buffer > 0 {
            let _ = socket2::SockRef::from(&stream)
                .set_send_buffer_size(config.limits.socket_send_buffer);
        }
        tasks.spawn(serve_connection(
            stream,
            peer,
            admission,
            router.clone(),
            config.clone(),
            shutdown.clone(),
        ));
    }
    drop(listener);
    info!("shutting down: closing clients");
    tasks.close();
    if tokio::time::timeout(config.server.shutdown_deadline, tasks.wait())
        .await
        .is_err()
    {
        warn!("shutdown deadline passed with connections still open; exiting anyway");
    }
    info!("stopped");
    Ok(())
}

/// One TCP connection's HTTP. Until its first request has fully arrived it must finish within the
/// handshake timeout: a socket that sends nothing, or drips header bytes, loses its slot.
/// A connection over the limits is served one request, then closed.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    admission: Admission,
    router: Router,
    config: Arc<Config>,
    shutdown: CancellationToken,
) {
    let keep_alive = matches!(admission, Admission::Slot(_));
    let cell = AdmissionCell::new(admission);
    let got_request = Arc::new(AtomicBool::new(false));
    let seen = got_request.clone();
    let svc = tower::service_fn(
        move |mut req: axum::extract::Request<hyper::body::Incoming>| {
            seen.store(true, Ordering::Relaxed);
            req.extensions_mut().insert(ConnectInfo(peer));
            req.extensions_mut().insert(cell.clone());
            let router = router.clone();
            async move {
                let mut res =
                    tower::ServiceExt::oneshot(router, req.map(axum::body::Body::new)).await?;
                // Over the limits: one request, then the connection closes. (Not by turning off
                // keep-alive for the whole connection: hyper would then add `close` to the
                // `Connection: upgrade` of a 101, which clients reject.)
                if !keep_alive && res.status() != StatusCode::SWITCHING_PROTOCOLS {
                    res.headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, std::convert::Infallible>(res)
            }
        },
    );
    let timeout = config.limits.handshake_timeout;
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .max_buf_size(16 * 1024)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc))
        .with_upgrades();
    tokio::pin!(conn);
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut draining = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    debug!(%peer, error = %e, "http connection ended with an error");
                }
                return;
            }
            _ = &mut deadline, if !got_request.load(Ordering::Relaxed) => {
                debug!(%peer, "no complete request before the handshake deadline; closing");
                return;
            }
            _ = shutdown.cancelled(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}
