//! Reconnection: a player whose connection drops mid-game keeps its seat and entity for the
//! grace period, resumes with its single-use token, and loses the seat when the grace runs out.

mod common;

use common::raw::{raw_recv, raw_send, raw_upgrade};
use common::{await_error_code, within, TestServer};
use std::net::Shutdown;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tickrelay::client::{Client, Incoming, World};
use tickrelay::protocol::{
    ClientMsg, EntityId, Hello, LobbyEventKind, LobbyRef, PlayerInput, ServerMsg, PROTOCOL_VERSION,
};
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;

/// A client plus a second handle on its TCP socket, to cut it without a close frame.
async fn cuttable(server: &TestServer) -> (Client, std::net::TcpStream) {
    let std = std::net::TcpStream::connect(server.addr).unwrap();
    std.set_nonblocking(true).unwrap();
    let handle = std.try_clone().unwrap();
    let tcp = TcpStream::from_std(std).unwrap();
    let (ws, _) = tokio_tungstenite::client_async(server.url(), MaybeTlsStream::Plain(tcp))
        .await
        .unwrap();
    (Client::from_socket(ws), handle)
}

/// The cable is pulled: the server sees the TCP stream end, with no WebSocket close at all.
fn cut(client: Client, handle: std::net::TcpStream) {
    handle.shutdown(Shutdown::Both).unwrap();
    drop(client);
    drop(handle);
}

/// Reads (keeping `world` current) until a lobby event of `kind` about `player`.
async fn wait_event(c: &mut Client, world: &mut World, kind: LobbyEventKind, player: EntityId) {
    loop {
        let m = c.recv().await.expect("recv");
        world.apply(&m).expect("applies");
        if let ServerMsg::LobbyEvent {
            kind: k, player: p, ..
        } = m
        {
            if k == kind && p == player {
                return;
            }
        }
    }
}

/// Reads until the next snapshot has been applied, checking that our ack never goes back.
async fn next_snapshot(c: &mut Client, world: &mut World) {
    loop {
        let before = world.own_ack();
        let m = c.recv().await.expect("recv");
        if let ServerMsg::Error { code, message } = &m {
            panic!("error {code}: {message}");
        }
        let snapshot = matches!(m, ServerMsg::Snapshot(_));
        world.apply(&m).expect("applies");
        if let (Some(a), Some(b)) = (before, world.own_ack()) {
            assert!(b >= a, "the ack went back from {a} to {b}");
        }
        if snapshot {
            return;
        }
    }
}

fn x_of(world: &World, id: EntityId) -> i32 {
    world.table.get(id).expect("the entity is there").fields[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_player_keeps_its_seat_and_resumes_with_its_token() {
    let server = TestServer::with(|c| c.lobby.reconnect_grace = Duration::from_secs(30)).await;
    within(30, async {
        let (mut ann, handle) = cuttable(&server).await;
        let token = ann.hello("ann", None).await.unwrap().reconnect_token;
        let joined = ann.create("drops", "walkers", 4, false).await.unwrap();
        let (lobby, me) = (joined.lobby, joined.you.unwrap());
        let mut aw = World::default();
        aw.apply(&ServerMsg::Joined(joined)).unwrap();
        let (mut bob, _) = server.client("bob").await;
        let mut bw = World::default();
        bw.apply(&ServerMsg::Joined(
            bob.join(LobbyRef::Id(lobby)).await.unwrap(),
        ))
        .unwrap();

        // Ann walks for a while, then stands still (input 10), and sees all ten acked.
        let toward_centre = if x_of(&aw, me) < 16_000 { 1 } else { -1 };
        for seq in 1..=10u32 {
            ann.input(PlayerInput {
                seq,
                dx: if seq < 10 { toward_centre } else { 0 },
                ..Default::default()
            })
            .await
            .unwrap();
            next_snapshot(&mut ann, &mut aw).await;
        }
        while aw.own_ack() != Some(10) {
            next_snapshot(&mut ann, &mut aw).await;
        }

        // Mid-game, the connection is cut. Bob sees her go away, but her seat and entity stay.
        cut(ann, handle);
        wait_event(&mut bob, &mut bw, LobbyEventKind::Away, me).await;
        let seat = server.registry.get(lobby).unwrap();
        for _ in 0..5 {
            next_snapshot(&mut bob, &mut bw).await;
        }
        assert!(bw.table.get(me).is_some(), "her entity was removed");
        assert_eq!(seat.players.load(Ordering::Relaxed), 2);

        // She comes back with her token: a fresh token, and the same seat with a full snapshot.
        let mut ann = Client::connect(&server.url()).await.unwrap();
        let welcome = ann.hello("ann", Some(token.clone())).await.unwrap();
        assert_ne!(welcome.reconnect_token, token, "tokens are single-use");
        let back = ann.joined().await.unwrap();
        assert_eq!((back.lobby, back.you), (lobby, Some(me)));
        let mut aw = World::default();
        aw.apply(&ServerMsg::Joined(back)).unwrap();
        assert_eq!(aw.own_ack(), Some(10), "the ack survived the reconnect");
        wait_event(&mut bob, &mut bw, LobbyEventKind::Back, me).await;

        // An input numbered from before the drop changes nothing: no ack, no movement.
        let x = x_of(&aw, me);
        ann.input(PlayerInput {
            seq: 5,
            dx: toward_centre,
            ..Default::default()
        })
        .await
        .unwrap();
        for _ in 0..5 {
            next_snapshot(&mut ann, &mut aw).await;
        }
        assert_eq!(aw.own_ack(), Some(10));
        assert_eq!(x_of(&aw, me), x, "a stale input moved her");
        // The next number does.
        ann.input(PlayerInput {
            seq: 11,
            dx: toward_centre,
            ..Default::default()
        })
        .await
        .unwrap();
        while aw.own_ack() != Some(11) {
            next_snapshot(&mut ann, &mut aw).await;
        }
        next_snapshot(&mut ann, &mut aw).await;
        assert_ne!(x_of(&aw, me), x, "the new input did not apply");
        server.assert_mirror(&aw).await;

        // The old token was used up: Error 9, and the connection carries on lobby-less.
        let mut thief = Client::connect(&server.url()).await.unwrap();
        thief.hello("thief", Some(token)).await.unwrap();
        assert_eq!(await_error_code(&mut thief).await, 9);
        assert!(thief.list(None).await.is_ok());
        assert_eq!(seat.players.load(Ordering::Relaxed), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_grace_period_the_seat_is_freed_and_the_token_fails() {
    let server = TestServer::with(|c| c.lobby.reconnect_grace = Duration::from_millis(300)).await;
    within(20, async {
        let (mut ann, handle) = cuttable(&server).await;
        let token = ann.hello("ann", None).await.unwrap().reconnect_token;
        let joined = ann.create("expires", "arena", 4, false).await.unwrap();
        let (lobby, me) = (joined.lobby, joined.you.unwrap());
        let (mut bob, _) = server.client("bob").await;
        let mut bw = World::default();
        bw.apply(&ServerMsg::Joined(
            bob.join(LobbyRef::Id(lobby)).await.unwrap(),
        ))
        .unwrap();
        ann.recv().await.unwrap();

        cut(ann, handle);
        wait_event(&mut bob, &mut bw, LobbyEventKind::Away, me).await;
        wait_event(&mut bob, &mut bw, LobbyEventKind::Left, me).await;
        next_snapshot(&mut bob, &mut bw).await;
        assert!(bw.table.get(me).is_none(), "her entity outlived her seat");
        let seat = server.registry.get(lobby).unwrap();
        while seat.players.load(Ordering::Relaxed) != 1 {
            next_snapshot(&mut bob, &mut bw).await;
        }

        let mut late = Client::connect(&server.url()).await.unwrap();
        late.hello("ann", Some(token)).await.unwrap();
        assert_eq!(await_error_code(&mut late).await, 9);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_while_the_old_connection_is_open_closes_it_with_4005() {
    let server = TestServer::start().await;
    within(20, async {
        let (mut old, w) = server.client("ann").await;
        let joined = old.create("twice", "walkers", 2, false).await.unwrap();
        let mut new = Client::connect(&server.url()).await.unwrap();
        new.hello("ann", Some(w.reconnect_token)).await.unwrap();
        let back = new.joined().await.unwrap();
        assert_eq!((back.lobby, back.you), (joined.lobby, joined.you));
        let close = loop {
            match old.next().await.unwrap() {
                Incoming::Msg(..) => continue,
                Incoming::Closed(c) => break c,
            }
        };
        assert_eq!(
            close,
            Some((4005, "resumed from another connection".to_owned()))
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_player_is_found_by_the_idle_timeout_and_can_come_back() {
    let server = TestServer::with(|c| c.limits.idle_timeout = Duration::from_millis(600)).await;
    within(20, async {
        let (mut bob, _) = server.client("bob").await;
        let joined = bob.create("ghosts", "walkers", 4, false).await.unwrap();
        let mut bw = World::default();
        bw.apply(&ServerMsg::Joined(joined.clone())).unwrap();

        // The ghost says hello, joins, and is never heard from again (not even a pong).
        let mut ghost = raw_upgrade(server.addr).await;
        raw_send(
            &mut ghost,
            &ClientMsg::Hello(Hello {
                version: PROTOCOL_VERSION,
                name: "ghost".into(),
                reconnect_token: None,
            }),
        )
        .await;
        let ServerMsg::Welcome {
            reconnect_token, ..
        } = raw_recv(&mut ghost).await
        else {
            panic!("expected Welcome");
        };
        raw_send(&mut ghost, &ClientMsg::Join(LobbyRef::Id(joined.lobby))).await;
        let ghost_id = loop {
            let m = bob.recv().await.unwrap();
            bw.apply(&m).unwrap();
            if let ServerMsg::LobbyEvent {
                kind: LobbyEventKind::Joined,
                player,
                ..
            } = m
            {
                break player;
            }
        };
        // The server pings, hears nothing back, and lets the connection go: the seat stays.
        wait_event(&mut bob, &mut bw, LobbyEventKind::Away, ghost_id).await;
        let seat = server.registry.get(joined.lobby).unwrap();
        assert_eq!(seat.players.load(Ordering::Relaxed), 2);
        drop(ghost);

        let mut back = Client::connect(&server.url()).await.unwrap();
        back.hello("ghost", Some(reconnect_token)).await.unwrap();
        assert_eq!(back.joined().await.unwrap().you, Some(ghost_id));
        wait_event(&mut bob, &mut bw, LobbyEventKind::Back, ghost_id).await;
    })
    .await;
}

/// Says hello with `token` and returns the next two messages the server sends.
async fn hello_then(c: &mut Client, token: Option<&str>) -> (ServerMsg, ServerMsg) {
    c.send(&ClientMsg::Hello(Hello {
        version: PROTOCOL_VERSION,
        name: "ann".into(),
        reconnect_token: token.map(str::to_owned),
    }))
    .await
    .unwrap();
    c.send(&ClientMsg::Ping { nonce: 77 }).await.unwrap();
    (c.recv().await.unwrap(), c.recv().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_resume_is_welcome_then_error_9_and_an_empty_token_is_no_token() {
    let server = TestServer::start().await;
    within(20, async {
        // A token no seat holds: Welcome first (a fresh session), then Error 9, then the pong.
        let mut c = Client::connect(&server.url()).await.unwrap();
        let (first, second) = hello_then(&mut c, Some("0123456789abcdef0123456789abcdef")).await;
        assert!(matches!(first, ServerMsg::Welcome { .. }), "{first:?}");
        assert!(
            matches!(second, ServerMsg::Error { code: 9, .. }),
            "{second:?}"
        );
        assert!(matches!(
            c.recv().await.unwrap(),
            ServerMsg::Pong { nonce: 77 }
        ));
        // The session is in no lobby and can do what any fresh one can.
        assert!(c.list(None).await.is_ok());

        // The empty string is no token: Welcome, then straight to the pong, no Error 9.
        let mut c = Client::connect(&server.url()).await.unwrap();
        let (first, second) = hello_then(&mut c, Some("")).await;
        assert!(matches!(first, ServerMsg::Welcome { .. }), "{first:?}");
        assert!(
            matches!(second, ServerMsg::Pong { nonce: 77 }),
            "{second:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_away_host_hands_the_lobby_to_a_connected_player_and_does_not_take_it_back() {
    let server = TestServer::with(|c| c.lobby.reconnect_grace = Duration::from_secs(30)).await;
    within(30, async {
        let (mut ann, handle) = cuttable(&server).await;
        let token = ann.hello("ann", None).await.unwrap().reconnect_token;
        let ja = ann.create("hosts", "arena", 4, false).await.unwrap();
        let (lobby, ida) = (ja.lobby, ja.you.unwrap());
        let (mut bob, _) = server.client("bob").await;
        let jb = bob.join(LobbyRef::Id(lobby)).await.unwrap();
        let idb = jb.you.unwrap();
        assert_eq!(jb.host, Some(ida));
        let mut bw = World::default();
        bw.apply(&ServerMsg::Joined(jb)).unwrap();
        // Before: Bob may not restart the round.
        bob.send(&ClientMsg::RestartRound).await.unwrap();
        assert_eq!(await_error_code(&mut bob).await, 10);

        // Ann's connection drops: her seat is held, but Bob hosts at once.
        cut(ann, handle);
        wait_event(&mut bob, &mut bw, LobbyEventKind::Away, ida).await;
        wait_event(&mut bob, &mut bw, LobbyEventKind::HostChanged, idb).await;
        assert_eq!(bw.host, Some(idb));
        bob.send(&ClientMsg::RestartRound).await.unwrap();
        wait_event(&mut bob, &mut bw, LobbyEventKind::RoundRestarted, idb).await;

        // Ann comes back to her seat; Bob keeps the lobby.
        let mut ann = Client::connect(&server.url()).await.unwrap();
        ann.hello("ann", Some(token)).await.unwrap();
        let back = ann.joined().await.unwrap();
        assert_eq!((back.you, back.host), (Some(ida), Some(idb)));
        wait_event(&mut bob, &mut bw, LobbyEventKind::Back, ida).await;
        ann.send(&ClientMsg::RestartRound).await.unwrap();
        assert_eq!(await_error_code(&mut ann).await, 10);
        assert_eq!(bw.host, Some(idb));
    })
    .await;
}
