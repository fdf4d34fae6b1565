//! Graceful shutdown of the real binary on SIGTERM and on Ctrl-C (SIGINT): every client is told
//! 1001 "server shutting down", no new connection gets in, and the process exits 0 in time.

mod common;

use common::process::ServerProcess;
use common::{close_of, small_buffer_client, within, TestServer};
use tickrelay::client::{Client, Incoming};
use tickrelay::game::GameKind;
use tickrelay::lobby::RegistryError;
use tickrelay::protocol::{ClientMsg, ServerMsg};
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;

async fn shuts_down_cleanly_on(signal: &str) {
    let mut server = ServerProcess::start(&[
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
        let mut stalled = small_buffer_client(server.addr).await;
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
        // The close is what tells a seated player, with no `Left` before it: a client takes a
        // `Left` for its lobby's end, and would not learn on reconnecting that the server restarted.
        let seated_close = loop {
            match seated.next().await {
                Ok(Incoming::Msg(ServerMsg::Left { reason, .. }, _)) => {
                    panic!("told Left ({reason}) before the server's close")
                }
                Ok(Incoming::Msg(..)) => continue,
                Ok(Incoming::Closed(Some(cr))) => break cr,
                other => panic!("no close frame: {other:?}"),
            }
        };
        assert_eq!(seated_close, going);
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
    let r = server.registry.create(
        "too late".into(),
        GameKind::Arena,
        0,
        true,
        Default::default(),
    );
    assert_eq!(r.err(), Some(RegistryError::ShuttingDown));
    within(10, server.stop()).await.unwrap();
}
