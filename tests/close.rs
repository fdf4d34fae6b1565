//! The close handshake on `/ws` (RFC 6455 section 5.5.1): a close the client starts is answered
//! with a close frame echoing its code, after every frame already sent, so a browser sees a clean
//! close (`wasClean`, its own code) instead of 1006.

mod common;

use common::raw::{
    client_frame, close_among, hello_frame, raw_recv, raw_send, raw_upgrade, server_frames,
};
use common::{within, TestServer};
use tickrelay::protocol::{ClientMsg, CreateLobby, ServerMsg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A close frame from a client: code 1000 and a reason.
fn client_close(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    client_frame(8, &payload)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_from_a_player_in_a_lobby_is_answered_with_its_code() {
    let server = TestServer::start().await;
    within(20, async {
        let mut s = raw_upgrade(server.addr).await;
        s.write_all(&hello_frame("closer")).await.unwrap();
        assert!(matches!(raw_recv(&mut s).await, ServerMsg::Welcome { .. }));
        raw_send(
            &mut s,
            &ClientMsg::CreateLobby(CreateLobby {
                name: "bye".into(),
                game: "walkers".into(),
                max_players: 2,
                public: false,
                kill_goal: None,
                round_seconds: None,
            }),
        )
        .await;
        // In the lobby, with snapshots streaming to this socket straight from the tick.
        let mut snapshots = 0;
        while snapshots < 3 {
            if let ServerMsg::Snapshot(_) = raw_recv(&mut s).await {
                snapshots += 1;
            }
        }
        s.write_all(&client_close(1000, "bye")).await.unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).await.unwrap();
        let frames = server_frames(&rest);
        assert_eq!(close_among(&frames), Some((1000, "bye".to_owned())));
        let (last_op, _) = frames.last().expect("frames after the close");
        assert_eq!(*last_op, 8, "nothing follows the close frame");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_before_hello_is_answered_too() {
    let server = TestServer::start().await;
    within(20, async {
        let mut s = raw_upgrade(server.addr).await;
        s.write_all(&client_close(1001, "going away"))
            .await
            .unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).await.unwrap();
        assert_eq!(
            close_among(&server_frames(&rest)),
            Some((1001, "going away".to_owned()))
        );
        // The connection was let go: the gauge is back to nothing.
        while server.metric("tickrelay_connections").await != 0.0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_player_of_a_churning_lobby_gets_its_close_answered() {
    let server = TestServer::start().await;
    within(30, async {
        let (mut host, _) = server.client("host").await;
        let code = host
            .create("churn", "walkers", 64, false)
            .await
            .unwrap()
            .code;
        let mut churners = Vec::new();
        for i in 0..24u16 {
            let code = code.clone();
            let addr = server.addr;
            churners.push(tokio::spawn(async move {
                let mut s = raw_upgrade(addr).await;
                // Hello, join and close in one write: the close arrives while the join is still
                // being carried out (the session may be on its way to the lobby's shard).
                let mut burst = hello_frame(&format!("c{i}"));
                burst.extend(client_frame(
                    2,
                    &tickrelay::protocol::encode(&ClientMsg::Join(
                        tickrelay::protocol::LobbyRef::Code(code),
                    )),
                ));
                if i % 2 == 0 {
                    s.write_all(&burst).await.unwrap();
                    burst.clear();
                    // Half of them play a little first.
                    let mut snapshots = 0;
                    while snapshots < 2 {
                        if let ServerMsg::Snapshot(_) = raw_recv(&mut s).await {
                            snapshots += 1;
                        }
                    }
                }
                burst.extend(client_close(1000 + i % 2, "done"));
                s.write_all(&burst).await.unwrap();
                let mut rest = Vec::new();
                s.read_to_end(&mut rest).await.unwrap();
                close_among(&server_frames(&rest))
            }));
        }
        for (i, c) in churners.into_iter().enumerate() {
            assert_eq!(
                c.await.unwrap(),
                Some((1000 + i as u16 % 2, "done".to_owned())),
                "client {i}"
            );
        }
    })
    .await;
}
