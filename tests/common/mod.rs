//! Shared test harness: a real server on 127.0.0.1:0 that shuts down on drop, and helpers.
#![allow(dead_code)]

pub mod process;
pub mod raw;
pub mod redis;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tickrelay::client::{Client, Incoming, Welcome, World};
use tickrelay::config::Config;
use tickrelay::lobby::Registry;
use tickrelay::metrics::Metrics;
use tickrelay::protocol::{ClientMsg, LobbyId, ServerMsg, Tick};
use tickrelay::snapshot::EntityTable;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::MaybeTlsStream;
use tokio_util::sync::CancellationToken;

/// A running server. Dropping it cancels the server's shutdown token.
pub struct TestServer {
    pub addr: SocketAddr,
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<Config>,
    pub shutdown: CancellationToken,
    pub handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Test defaults: no client directory, quick lobby closure off unless a test wants it.
pub fn test_config() -> Config {
    let mut c = Config::default();
    c.server.client_dir = "/nonexistent-tickrelay-client".into();
    c
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::with(|_| {}).await
    }

    pub async fn with(f: impl FnOnce(&mut Config)) -> TestServer {
        tickrelay::telemetry::init_for_tests();
        let mut config = test_config();
        f(&mut config);
        config.validate().expect("test config is valid");
        let config = Arc::new(config);
        let listener = tickrelay::server::bind("127.0.0.1:0".parse().unwrap(), 1024).expect("bind");
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let server = tickrelay::server::Server::new(config.clone(), shutdown.clone());
        let (registry, metrics) = (server.registry(), server.metrics());
        let handle = tokio::spawn(server.serve(listener));
        TestServer {
            addr,
            registry,
            metrics,
            config,
            shutdown,
            handle: Some(handle),
        }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// A connected client that has said hello.
    pub async fn client(&self, name: &str) -> (Client, Welcome) {
        let mut c = Client::connect(&self.url()).await.expect("connect");
        let w = c.hello(name, None).await.expect("hello");
        (c, w)
    }

    /// The world the server sent at `tick` in `lobby`, while its history holds it.
    pub async fn world_at(&self, lobby: LobbyId, tick: Tick) -> Option<EntityTable> {
        self.registry.world_at(lobby, tick).await
    }

    /// Asserts a client's mirror equals the server's world at the mirror's tick.
    pub async fn assert_mirror(&self, world: &World) {
        let lobby = world.lobby.expect("in a lobby");
        let server = self
            .world_at(lobby, world.tick())
            .await
            .unwrap_or_else(|| panic!("server no longer holds tick {}", world.tick()));
        assert_eq!(
            &world.table,
            &server,
            "mirror differs from the server at tick {}",
            world.tick()
        );
    }

    /// A plain HTTP/1.1 GET: (status, body).
    pub async fn get(&self, path: &str) -> (u16, String) {
        http_get(self.addr, path, &[]).await
    }

    /// Cancels the shutdown token and waits for `run` to return.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.shutdown.cancel();
        self.handle.take().unwrap().await.expect("server task")
    }

    /// The current value of a metric line from /metrics (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        metric_at(self.addr, name).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    // Dechunk if needed (axum streams some bodies chunked).
    let body = if text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(&body)
    } else {
        body
    };
    (status, body)
}

/// A GET whose body is bytes, not text (MessagePack): (status, body). Bodies sent with a length only.
pub async fn http_get_bytes(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole response head");
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    assert!(!head.contains("transfer-encoding: chunked"), "{head}");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, buf[end + 4..].to_vec())
}

/// The current value of a metric line from the /metrics of the server at `addr` (0 when absent).
pub async fn metric_at(addr: SocketAddr, name: &str) -> f64 {
    let (_, body) = http_get(addr, "/metrics", &[]).await;
    body.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == name).then(|| v.parse().ok()).flatten()
        })
        .unwrap_or(0.0)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(len.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A WebSocket client (no hello yet) whose socket has a 4 KiB receive buffer, so a client that
/// stops reading backs the server up quickly.
pub async fn small_buffer_client(addr: SocketAddr) -> Client {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let stream = sock.connect(addr).await.unwrap();
    let url = format!("ws://{addr}/ws");
    let (ws, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    Client::from_socket(ws)
}

/// Fails the test instead of hanging it: every wait in these tests is bounded.
pub async fn within<T>(secs: u64, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("timed out: the server did not answer in time")
}

/// Reads until the server's close frame (skipping messages): its code and reason.
pub async fn close_of(c: &mut Client) -> (u16, String) {
    loop {
        match c.next().await {
            Ok(Incoming::Msg(..)) => continue,
            Ok(Incoming::Closed(Some(cr))) => return cr,
            Ok(Incoming::Closed(None)) => panic!("the server closed without a close frame"),
            Err(e) => panic!("a socket error instead of a close frame: {e}"),
        }
    }
}

/// The very next message, which must be an `Error`: its code and message.
pub async fn next_error(c: &mut Client) -> (u16, String) {
    match c.recv().await.expect("an error frame") {
        ServerMsg::Error { code, message } => (code, message),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The very next message, which must be an `Error`: its code.
pub async fn next_error_code(c: &mut Client) -> u16 {
    next_error(c).await.0
}

/// Reads until the next `Error` frame (snapshots and events on the way are skipped): its code
/// and message.
pub async fn await_error(c: &mut Client) -> (u16, String) {
    loop {
        match c.next().await.expect("an error frame, not a broken socket") {
            Incoming::Msg(ServerMsg::Error { code, message }, _) => return (code, message),
            Incoming::Msg(..) => {}
            Incoming::Closed(close) => panic!("closed while waiting for an error: {close:?}"),
        }
    }
}

/// Reads until the next `Error` frame (snapshots and events on the way are skipped): its code.
pub async fn await_error_code(c: &mut Client) -> u16 {
    await_error(c).await.0
}

/// The connection still works: a ping is answered, with no `Error` before the pong.
pub async fn assert_alive(c: &mut Client, nonce: u64) {
    c.send(&ClientMsg::Ping { nonce }).await.unwrap();
    loop {
        match c.recv().await.expect("still connected") {
            ServerMsg::Pong { nonce: n } if n == nonce => return,
            ServerMsg::Error { code, message } => panic!("error {code} ({message}) for a ping"),
            _ => {}
        }
    }
}
