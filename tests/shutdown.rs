//! Graceful shutdown of the real binary on SIGTERM and on Ctrl-C (SIGINT): every client is told
//! 1001 "server shutting down", no new connection gets in, and the process exits 0 in time.

mod common;

use common::{close_of, within, TestServer};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;
use tickrelay::client::Client;
use tickrelay::game::GameKind;
use tickrelay::lobby::RegistryError;
use tickrelay::protocol::{ClientMsg, ServerMsg};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::MaybeTlsStream;

/// The server binary as a child process, killed on drop if still running.
struct Proc {
    child: Child,
    addr: SocketAddr,
}

impl Proc {
    fn start(env: &[(&str, &str)]) -> Proc {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickrelay"));
        cmd.args(["--bind", "127.0.0.1:0"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("RUST_LOG")
            .env("TICKRELAY__SERVER__LOG", "error")
            .env(
                "TICKRELAY__SERVER__CLIENT_DIR",
                "/nonexistent-tickrelay-client",
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start the server binary");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("tickrelay listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        std::thread::spawn(move || {
            let mut sink = String::new();
            while out.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Proc { child, addr }
    }

    fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to exit (bounded by the caller's `within`).
    async fn exited(&mut self) -> ExitStatus {
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn shuts_down_cleanly_on(signal: &str) {
    let mut server = Proc::start(&[
        ("TICKRELAY__SERVER__SHUTDOWN_DEADLINE", "2s"),
        ("TICKRELAY__LIMITS__SOCKET_SEND_BUFFER", "4096"),
        ("TICKRELAY__LOBBY__SLOW_CLIENT_TIMEOUT", "60s"),
        ("TICKRELAY__LOBBY__CHAT_BURST", "1000"),
        ("TICKRELAY__LIMITS__MESSAGES_PER_SECOND", "10000"),
        ("TICKRELAY__LIMITS__MESSAGE_BURST", "10000"),
    ]);
    within(30, async {
        // One player in a lobby, one client in no lobby, one that has stopped reading.
        let mut seated = Client::connect(&server.url()).await.unwrap();
        seated.hello("seated", None).await.unwrap();
        let joined = seated.create("last game", "arena", 4, false).await.unwrap();
        let mut lobbyless = Client::connect(&server.url()).await.unwrap();
        lobbyless.hello("idle", None).await.unwrap();
        let sock = TcpSocket::new_v4().unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        let stream = sock.connect(server.addr).await.unwrap();
        let (ws, _) = tokio_tungstenite::client_async(server.url(), MaybeTlsStream::Plain(stream))
            .await
            .unwrap();
        let mut stalled = Client::from_socket(ws);
        stalled.hello("stalled", None).await.unwrap();
        stalled
            .join(tickrelay::protocol::LobbyRef::Id(joined.lobby))
            .await
            .unwrap();
        // It asks for 40 KB of chat echoes it will never read: the server's writes to it stall.
        for _ in 0..200 {
            let chat = ClientMsg::Chat {
                text: "z".repeat(200),
            };
            stalled.send(&chat).await.unwrap();
        }
        // The game is running.
        let mut snapshots = 0;
        while snapshots < 3 {
            if let ServerMsg::Snapshot(_) = seated.recv().await.unwrap() {
                snapshots += 1;
            }
        }

        server.signal(signal);
        let going = (1001, "server shutting down".to_owned());
        assert_eq!(close_of(&mut seated).await, going);
        assert_eq!(close_of(&mut lobbyless).await, going);

        // Once clients are being told, nobody new gets in.
        let refused = match TcpStream::connect(server.addr).await {
            Err(_) => true,
            Ok(s) => {
                let r =
                    tokio_tungstenite::client_async(server.url(), MaybeTlsStream::Plain(s)).await;
                match r {
                    Err(_) => true,
                    Ok((ws, _)) => Client::from_socket(ws).hello("late", None).await.is_err(),
                }
            }
        };
        assert!(refused, "a connection after the signal got a session");

        // The stalled client does not hold the process past its deadline.
        let status = server.exited().await;
        assert!(status.success(), "exit status {status:?}");
        drop(stalled);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_every_client_with_1001_and_exits_0() {
    shuts_down_cleanly_on("TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_closes_every_client_with_1001_and_exits_0() {
    shuts_down_cleanly_on("INT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_shutdown_begins_no_lobby_is_created() {
    let server = TestServer::start().await;
    server.shutdown.cancel();
    let r = server
        .registry
        .create("too late".into(), GameKind::Arena, 0, true);
    assert_eq!(r.err(), Some(RegistryError::ShuttingDown));
    within(10, server.stop()).await.unwrap();
}
