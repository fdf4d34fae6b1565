//! Every limit from the config, crossed on purpose: connections (in total and per address),
//! lobbies, seats, message size, message rate, the upgrade deadline, the idle timeout with pings,
//! slow readers, plus the upgrade policy (no compression, the Origin check).

mod common;

use common::raw::{
    client_frame, close_among, hello_frame, raw_recv, raw_upgrade, raw_upgrade_on, read_head,
    server_frames, upgrade_request,
};
use common::{await_error_code, close_of, small_buffer_client, within, TestServer};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tickrelay::client::{Client, Incoming, World};
use tickrelay::protocol::{ClientMsg, LobbyRef, PlayerInput, ServerMsg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::MaybeTlsStream;

/// A WebSocket client whose TCP socket starts from `local_ip` (127.0.0.x are all loopback).
async fn connect_from(server: &TestServer, local_ip: &str) -> Client {
    let sock = TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::new(local_ip.parse().unwrap(), 0))
        .unwrap();
    let stream = sock.connect(server.addr).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(server.url(), MaybeTlsStream::Plain(stream))
        .await
        .expect("upgrade");
    Client::from_socket(ws)
}

/// A WebSocket client that sends `Origin: origin`, as a browser would.
async fn connect_with_origin(server: &TestServer, origin: &str) -> Client {
    let mut req = server.url().into_client_request().unwrap();
    req.headers_mut()
        .insert("origin", HeaderValue::from_str(origin).unwrap());
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(stream))
        .await
        .expect("upgrade");
    Client::from_socket(ws)
}

/// Polls `cond` every 10 ms until it holds (bounded by the caller's `within`).
async fn until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reads from a raw socket until the server closes it: true on EOF (or a reset), false if the
/// server sent bytes instead.
async fn server_closes(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    match s.read(&mut buf).await {
        Ok(0) | Err(_) => true,
        Ok(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_connection_limit_a_client_is_told_server_full() {
    let server = TestServer::with(|c| c.limits.max_connections = 2).await;
    within(20, async {
        let (a, _) = server.client("a").await;
        let (_b, _) = server.client("b").await;
        let mut c = Client::connect(&server.url()).await.unwrap();
        assert_eq!(close_of(&mut c).await, (4006, "server full".to_owned()));
        // A slot given back is a slot to take.
        a.close().await;
        loop {
            let mut d = Client::connect(&server.url()).await.unwrap();
            match d.hello("d", None).await {
                Ok(_) => break,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_per_address_limit_a_client_is_told_server_full_and_others_still_get_in() {
    let server = TestServer::with(|c| c.limits.max_connections_per_ip = 1).await;
    within(20, async {
        let mut a = connect_from(&server, "127.0.0.1").await;
        a.hello("a", None).await.unwrap();
        let mut b = connect_from(&server, "127.0.0.1").await;
        assert_eq!(close_of(&mut b).await, (4006, "server full".to_owned()));
        let mut c = connect_from(&server, "127.0.0.2").await;
        c.hello("c", None)
            .await
            .expect("another address has its own quota");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lobby_limit_is_error_6_and_a_full_lobby_is_error_5() {
    let server = TestServer::with(|c| {
        c.lobby.max_lobbies = 1;
        c.lobby.max_players = 8;
        c.lobby.default_max_players = 8;
    })
    .await;
    within(20, async {
        let (mut a, _) = server.client("a").await;
        let j = a.create("one", "walkers", 2, true).await.unwrap();
        let (mut b, _) = server.client("b").await;
        b.send(&ClientMsg::CreateLobby(tickrelay::protocol::CreateLobby {
            name: "two".into(),
            game: "arena".into(),
            max_players: 2,
            public: true,
            kill_goal: None,
            round_seconds: None,
        }))
        .await
        .unwrap();
        assert_eq!(await_error_code(&mut b).await, 6, "LobbyLimit");
        // Quick-join finds no arena lobby and may not open one either.
        b.send(&ClientMsg::QuickJoin {
            game: "arena".into(),
        })
        .await
        .unwrap();
        assert_eq!(await_error_code(&mut b).await, 6, "LobbyLimit");
        // More seats than the server allows is a bad request, not a lobby.
        b.send(&ClientMsg::CreateLobby(tickrelay::protocol::CreateLobby {
            name: "big".into(),
            game: "walkers".into(),
            max_players: 9,
            public: true,
            kill_goal: None,
            round_seconds: None,
        }))
        .await
        .unwrap();
        assert_eq!(await_error_code(&mut b).await, 7, "BadRequest");

        b.join(LobbyRef::Code(j.code.clone())).await.unwrap();
        let (mut c, _) = server.client("c").await;
        c.send(&ClientMsg::Join(LobbyRef::Id(j.lobby)))
            .await
            .unwrap();
        assert_eq!(await_error_code(&mut c).await, 5, "LobbyFull");
        // Still connected and able to ask again.
        assert!(c.list(None).await.is_ok());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_closes_with_1009_whole_or_in_fragments() {
    let server = TestServer::with(|c| c.limits.max_message_bytes = 256).await;
    within(20, async {
        // At the limit: read and answered (here: malformed, the connection stays).
        let (mut a, _) = server.client("a").await;
        let mut at_limit = vec![0x91, 0x09];
        at_limit.resize(256, 0xc0);
        a.send_raw(at_limit).await.unwrap();
        assert_eq!(await_error_code(&mut a).await, 2);
        // One byte over: closed.
        a.send_raw(vec![0xc0; 257]).await.unwrap();
        assert_eq!(close_of(&mut a).await, (1009, "message too big".to_owned()));

        // Small fragments that add up to too much: closed just the same.
        let (mut b, _) = server.client("b").await;
        let ws = b.socket_mut();
        let first = Frame::message(vec![0x91; 100], OpCode::Data(Data::Binary), false);
        ws.send(Message::Frame(first)).await.unwrap();
        for _ in 0..3 {
            let more = Frame::message(vec![0x91; 100], OpCode::Data(Data::Continue), false);
            if ws.send(Message::Frame(more)).await.is_err() {
                break;
            }
        }
        assert_eq!(close_of(&mut b).await, (1009, "message too big".to_owned()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_past_the_rate_is_dropped_with_at_most_one_error_a_second() {
    let server = TestServer::with(|c| {
        c.limits.messages_per_second = 5;
        c.limits.message_burst = 5;
        c.limits.flood_grace = Duration::from_secs(600);
    })
    .await;
    within(30, async {
        let (mut a, _) = server.client("a").await;
        let mut world = World::default();
        world
            .apply(&ServerMsg::Joined(
                a.create("flood", "walkers", 2, false).await.unwrap(),
            ))
            .unwrap();
        let started = Instant::now();
        // Forty inputs at once: the first five fit the burst, the rest are dropped.
        for seq in 1..=40 {
            a.input(PlayerInput {
                seq,
                ..Default::default()
            })
            .await
            .unwrap();
        }
        // Then a ping now and then until one gets through: everything before it has been judged.
        let mut errors = 0;
        let mut nonce = 1000;
        let mut probe = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                m = a.recv() => match m.unwrap() {
                    ServerMsg::Error { code, .. } => {
                        assert_eq!(code, 8, "RateLimited");
                        errors += 1;
                    }
                    ServerMsg::Pong { .. } => break,
                    m => {
                        world.apply(&m).unwrap();
                    }
                },
                _ = probe.tick() => {
                    nonce += 1;
                    a.send(&ClientMsg::Ping { nonce }).await.unwrap();
                }
            }
        }
        let secs = started.elapsed().as_secs() as usize;
        assert!(errors >= 1, "the client was never told");
        assert!(
            errors <= secs + 1,
            "{errors} rate-limit errors in {secs}s: the answer to a flood became a flood"
        );
        // A few ticks later the ack shows what reached the lobby: not the forty.
        let until_tick = world.tick().0 + 5;
        while world.tick().0 < until_tick {
            match a.recv().await.unwrap() {
                ServerMsg::Error { code, .. } => assert_eq!(code, 8),
                m => {
                    world.apply(&m).unwrap();
                }
            }
        }
        let ack = world.own_ack().unwrap();
        // (Hello and CreateLobby took two of the five tokens.)
        assert!(
            (1..40).contains(&ack),
            "ack {ack}: the excess was not dropped"
        );
    })
    .await;
}

/// Sends `make()` messages as fast as the socket takes them until the server closes; returns the
/// close and how many `Error` 8 frames came before it.
async fn flood_until_closed(
    c: &mut Client,
    mut make: impl FnMut() -> Message,
) -> ((u16, String), usize) {
    let mut errors = 0;
    let mut pace = tokio::time::interval(Duration::from_millis(1));
    let mut sending = true;
    loop {
        tokio::select! {
            m = c.next() => match m {
                Ok(Incoming::Msg(ServerMsg::Error { code, .. }, _)) => {
                    assert_eq!(code, 8, "RateLimited");
                    errors += 1;
                }
                Ok(Incoming::Msg(..)) => {}
                Ok(Incoming::Closed(Some(cr))) => return (cr, errors),
                Ok(Incoming::Closed(None)) => panic!("closed without a close frame"),
                Err(e) => panic!("a socket error instead of a close frame: {e}"),
            },
            _ = pace.tick(), if sending => {
                for _ in 0..10 {
                    if c.socket_mut().send(make()).await.is_err() {
                        sending = false;
                        break;
                    }
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooding_past_the_grace_period_closes_with_4003() {
    let server = TestServer::with(|c| {
        c.limits.messages_per_second = 5;
        c.limits.message_burst = 5;
        c.limits.flood_grace = Duration::from_millis(300);
    })
    .await;
    within(20, async {
        let (mut a, _) = server.client("a").await;
        let started = Instant::now();
        let ping = tickrelay::protocol::encode(&ClientMsg::Ping { nonce: 1 });
        let (close, errors) =
            flood_until_closed(&mut a, || Message::Binary(ping.clone().into())).await;
        assert_eq!(close, (4003, "rate limit exceeded".to_owned()));
        let secs = started.elapsed().as_secs() as usize;
        assert!(
            errors >= 1 && errors <= secs + 1,
            "{errors} errors in {secs}s"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_covers_websocket_pings_too() {
    let server = TestServer::with(|c| {
        c.limits.messages_per_second = 5;
        c.limits.message_burst = 5;
        c.limits.flood_grace = Duration::from_millis(300);
    })
    .await;
    within(20, async {
        let (mut a, _) = server.client("a").await;
        let (close, _) = flood_until_closed(&mut a, || Message::Ping(vec![1, 2, 3].into())).await;
        assert_eq!(close, (4003, "rate limit exceeded".to_owned()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_or_dripping_socket_is_closed_at_the_upgrade_deadline_and_its_slot_freed() {
    let server = TestServer::with(|c| {
        c.limits.handshake_timeout = Duration::from_millis(300);
        c.limits.max_connections = 2;
    })
    .await;
    within(20, async {
        // Sends nothing at all.
        let mut silent = TcpStream::connect(server.addr).await.unwrap();
        // Sends a valid upgrade request one byte every 50 ms: it would take seconds to finish.
        let mut dripping = TcpStream::connect(server.addr).await.unwrap();
        let request = upgrade_request(server.addr, "");
        // While both hold their slots, the server is full.
        let mut c = Client::connect(&server.url()).await.unwrap();
        assert_eq!(close_of(&mut c).await, (4006, "server full".to_owned()));

        let drip = async {
            let mut buf = [0u8; 64];
            for byte in request.bytes() {
                if dripping.write_all(&[byte]).await.is_err() {
                    return true;
                }
                tokio::select! {
                    r = dripping.read(&mut buf) => return matches!(r, Ok(0) | Err(_)),
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
            false
        };
        let (silent_closed, drip_closed) = tokio::join!(server_closes(&mut silent), drip);
        assert!(
            silent_closed,
            "the silent socket got bytes instead of a close"
        );
        assert!(
            drip_closed,
            "the dripping socket finished its request before the deadline"
        );

        // Both slots are free again: a real client gets in.
        loop {
            let mut d = Client::connect(&server.url()).await.unwrap();
            match d.hello("d", None).await {
                Ok(_) => break,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_answers_pings_is_closed_with_4004() {
    let server = TestServer::with(|c| c.limits.idle_timeout = Duration::from_millis(600)).await;
    within(20, async {
        // Says hello, then never writes again: not a message, not a pong.
        let mut half_open = raw_upgrade(server.addr).await;
        half_open.write_all(&hello_frame("raw")).await.unwrap();
        let mut got = Vec::new();
        half_open.read_to_end(&mut got).await.unwrap();
        let frames = server_frames(&got);
        assert!(
            frames.iter().any(|(op, _)| *op == 9),
            "the server never pinged"
        );
        assert_eq!(close_among(&frames), Some((4004, "timed out".to_owned())));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_asks_but_never_reads_is_closed_at_the_idle_timeout() {
    let server = TestServer::with(|c| {
        c.limits.idle_timeout = Duration::from_millis(600);
        c.limits.socket_send_buffer = 4096;
        c.limits.messages_per_second = 10_000;
        c.limits.message_burst = 10_000;
    })
    .await;
    within(20, async {
        // Enough public lobbies that one list is a kilobyte or two.
        for i in 0..30 {
            server
                .registry
                .create(
                    format!("a lobby with a long name, {i:04}"),
                    tickrelay::game::GameKind::Walkers,
                    0,
                    true,
                    tickrelay::lobby::Rounds::default(),
                )
                .unwrap();
        }
        let sock = TcpSocket::new_v4().unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        let mut greedy = raw_upgrade_on(server.addr, sock).await;
        greedy.write_all(&hello_frame("raw")).await.unwrap();
        let list = client_frame(
            2,
            &tickrelay::protocol::encode(&ClientMsg::ListLobbies { game: None }),
        );
        for _ in 0..200 {
            greedy.write_all(&list).await.unwrap();
        }
        // It reads nothing, so the server's writes to it stall; the idle timeout still ends it.
        let metrics = server.metrics.clone();
        until(|| metrics.connections.get() == 0).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_its_answers_late_still_gets_every_one() {
    // No pings to stir anything: only the client reading may get the rest answered. One held
    // frame is enough to stop reading the client.
    let server = TestServer::with(|c| {
        c.limits.idle_timeout = Duration::from_secs(120);
        c.limits.socket_send_buffer = 4096;
        c.limits.outbound_queue = 1;
        c.limits.messages_per_second = 10_000;
        c.limits.message_burst = 10_000;
    })
    .await;
    within(30, async {
        // A hundred public lobbies: each list is about 5 KB.
        for i in 0..100 {
            server
                .registry
                .create(
                    format!("a lobby with a long name, {i:04}"),
                    tickrelay::game::GameKind::Walkers,
                    0,
                    true,
                    tickrelay::lobby::Rounds::default(),
                )
                .unwrap();
        }
        let sock = TcpSocket::new_v4().unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        let mut late = raw_upgrade_on(server.addr, sock).await;
        // Forty requests in one small write: the server takes them off the socket in one read,
        // so what it has not answered yet waits in its buffer, not on the socket.
        let list = client_frame(
            2,
            &tickrelay::protocol::encode(&ClientMsg::ListLobbies { game: None }),
        );
        let mut burst = hello_frame("late");
        for _ in 0..40 {
            burst.extend_from_slice(&list);
        }
        assert!(burst.len() < 512);
        late.write_all(&burst).await.unwrap();
        // Nothing read until the server has queued two answers (10 KB, more than the sockets
        // take): it holds the rest of one back, and so stops reading the requests.
        while server.metric("tickrelay_frames_out_total").await < 3.0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Reading now is all it takes: every request is answered, none waits for more input.
        assert!(matches!(
            raw_recv(&mut late).await,
            ServerMsg::Welcome { .. }
        ));
        for i in 0..40 {
            match raw_recv(&mut late).await {
                ServerMsg::LobbyList(l) => assert_eq!(l.len(), 100),
                other => panic!("answer {i}: {other:?}"),
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_client_that_answers_pings_stays_connected() {
    let server = TestServer::with(|c| c.limits.idle_timeout = Duration::from_millis(600)).await;
    within(20, async {
        let (mut quiet, _) = server.client("quiet").await;
        // Reading answers the server's pings (tungstenite pongs on its own); sending nothing else,
        // it outlives the idle timeout twice over.
        let mut pings = 0;
        while pings < 6 {
            match quiet.socket_mut().next().await {
                Some(Ok(Message::Ping(_))) => pings += 1,
                other => panic!("expected pings, got {other:?}"),
            }
        }
        quiet.send(&ClientMsg::Ping { nonce: 7 }).await.unwrap();
        let pong = quiet
            .recv_until("pong", |m| match m {
                ServerMsg::Pong { nonce } => Some(*nonce),
                _ => None,
            })
            .await
            .unwrap();
        assert_eq!(pong, 7);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_behind_for_longer_than_the_slow_limit_is_closed_with_4002() {
    let server = TestServer::with(|c| {
        c.limits.socket_send_buffer = 4096;
        c.limits.messages_per_second = 10_000;
        c.limits.message_burst = 10_000;
        c.lobby.slow_client_timeout = Duration::from_millis(300);
        c.lobby.chat_burst = 1000;
    })
    .await;
    within(20, async {
        let mut slow = small_buffer_client(server.addr).await;
        slow.hello("slow", None).await.unwrap();
        let j = slow.create("slow", "walkers", 4, false).await.unwrap();
        // Long chat lines come back to it as frames it never reads, until the lobby gives up.
        let line = "x".repeat(200);
        let metrics = server.metrics.clone();
        while metrics.slow_client_kicks.get() == 0 {
            let chat = ClientMsg::Chat { text: line.clone() };
            if slow.send(&chat).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        until(|| metrics.slow_client_kicks.get() >= 1).await;
        assert_eq!(
            close_of(&mut slow).await,
            (4002, "too slow: snapshots not read in time".to_owned())
        );
        // Like any dropped player, its seat is held for a reconnect.
        let lobby = server
            .registry
            .get(j.lobby)
            .expect("the lobby is still open");
        assert_eq!(lobby.players.load(std::sync::atomic::Ordering::Relaxed), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permessage_deflate_is_never_negotiated() {
    let server = TestServer::start().await;
    within(10, async {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        let offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
        s.write_all(upgrade_request(server.addr, offer).as_bytes())
            .await
            .unwrap();
        let head = read_head(&mut s).await.to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 101"), "{head}");
        assert!(!head.contains("sec-websocket-extensions"), "{head}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_from_another_origin_is_refused_with_1008() {
    let server = TestServer::start().await;
    within(10, async {
        let mut evil = connect_with_origin(&server, "http://evil.example").await;
        assert_eq!(
            close_of(&mut evil).await,
            (1008, "origin not allowed".to_owned())
        );
        // The page the server itself serves connects from its own origin.
        let mut same = connect_with_origin(&server, &format!("http://{}", server.addr)).await;
        same.hello("same", None)
            .await
            .expect("same origin is allowed");
    })
    .await;

    let server = TestServer::with(|c| {
        c.server.allowed_origins = vec!["https://game.example".into()];
    })
    .await;
    within(10, async {
        let mut listed = connect_with_origin(&server, "https://game.example").await;
        listed
            .hello("listed", None)
            .await
            .expect("a listed origin is allowed");
        let mut evil = connect_with_origin(&server, "http://evil.example").await;
        assert_eq!(
            close_of(&mut evil).await,
            (1008, "origin not allowed".to_owned())
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_flood_is_dropped_with_at_most_one_error_a_second() {
    let server = TestServer::with(|c| {
        c.limits.messages_per_second = 10_000;
        c.limits.message_burst = 10_000;
        c.lobby.chat_burst = 3;
        c.lobby.chat_refill = Duration::from_secs(60);
    })
    .await;
    within(20, async {
        let (mut a, _) = server.client("a").await;
        a.create("chatty", "walkers", 2, false).await.unwrap();
        let started = Instant::now();
        for i in 0..50 {
            a.send(&ClientMsg::Chat {
                text: format!("line {i}"),
            })
            .await
            .unwrap();
        }
        // The lobby takes its whole inbox every tick: a few snapshots later every line is judged.
        let (mut errors, mut chats, mut snapshots) = (0, 0, 0);
        while snapshots < 5 {
            match a.recv().await.unwrap() {
                ServerMsg::Error { code, .. } => {
                    assert_eq!(code, 8);
                    errors += 1;
                }
                ServerMsg::Chat { .. } => chats += 1,
                ServerMsg::Snapshot(_) => snapshots += 1,
                _ => {}
            }
        }
        let secs = started.elapsed().as_secs() as usize;
        assert_eq!(chats, 3, "the burst gets through, the rest is dropped");
        assert!(
            errors >= 1 && errors <= secs + 1,
            "{errors} errors in {secs}s"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_http_is_closed_and_a_full_server_still_answers_one_request() {
    let server = TestServer::with(|c| {
        c.limits.handshake_timeout = Duration::from_millis(300);
        c.limits.max_connections = 1;
    })
    .await;
    within(20, async {
        let get = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
        // A keep-alive connection that asks once and then says nothing more is closed.
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(get.as_bytes()).await.unwrap();
        let head = read_head(&mut s).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"ok\n");

        // With the only slot taken by a player, /healthz still answers, once per connection.
        let (_player, _) = server.client("player").await;
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(get.as_bytes()).await.unwrap();
        let head = read_head(&mut s).await.to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(head.contains("connection: close"), "{head}");
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"ok\n");
    })
    .await;
}
