//! Lobbies through the real server: create, list, join by code, quick-join, capacity, the lobby
//! limit, spectators, chat, host hand-over, empty-lobby closure, and the HTTP views of them.

mod common;

use common::{await_error, await_error_code, within, TestServer};
use std::time::Duration;
use tickrelay::client::{Client, ClientError, World};
use tickrelay::protocol::{
    encode, ChatRole, ClientMsg, EntityId, ErrorCode, JoinedInfo, LobbyEventKind, LobbyId,
    LobbyRef, LobbySummary, PlayerInput, ServerMsg, CODE_ALPHABET, CODE_LEN,
};

/// The `Error` frame a request was refused with.
fn refused<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (ErrorCode, String) {
    match r {
        Err(ClientError::Server {
            code: Some(code),
            message,
        }) => (code, message),
        other => panic!("expected an Error frame, got {other:?}"),
    }
}

/// Reads until a lobby event of `kind`; returns its player and name.
async fn lobby_event(c: &mut Client, kind: LobbyEventKind) -> (EntityId, String) {
    c.recv_until("lobby event", |m| match m {
        ServerMsg::LobbyEvent {
            kind: k,
            player,
            name,
        } if *k == kind => Some((*player, name.clone())),
        _ => None,
    })
    .await
    .expect("lobby event")
}

/// Reads until the next chat line: (from, name, text, role).
async fn next_chat(c: &mut Client) -> (Option<EntityId>, String, String, ChatRole) {
    c.recv_until("chat", |m| match m {
        ServerMsg::Chat {
            from,
            name,
            text,
            role,
        } => Some((*from, name.clone(), text.clone(), *role)),
        _ => None,
    })
    .await
    .expect("chat")
}

/// Leaves the lobby and waits for the server's `Left`.
async fn leave(c: &mut Client) {
    c.send(&ClientMsg::Leave).await.unwrap();
    c.recv_until("left", |m| match m {
        ServerMsg::Left { reason, .. } => Some(reason.clone()),
        _ => None,
    })
    .await
    .expect("left");
}

fn names(j: &JoinedInfo) -> Vec<&str> {
    j.roster.iter().map(|r| r.name.as_str()).collect()
}

/// The public list as a client sees it, polled until `done` holds (seat counts are published by
/// the lobby after its tick, so they can trail a `Joined` by a moment).
async fn list_until(
    c: &mut Client,
    game: Option<&str>,
    done: impl Fn(&[LobbySummary]) -> bool,
) -> Vec<LobbySummary> {
    loop {
        let list = c.list(game).await.expect("lobby list");
        if done(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls the registry until the lobby is gone.
async fn until_closed(server: &TestServer, lobby: LobbyId) {
    while server.registry.get(lobby).is_some() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_list_and_join_by_code_in_any_case_or_by_id() {
    let server = TestServer::start().await;
    within(10, async {
        let (mut ann, _) = server.client("ann").await;
        let (mut bob, _) = server.client("bob").await;
        let (mut cy, _) = server.client("cy").await;
        let ja = ann.create("Ann's room", "walkers", 4, true).await.unwrap();
        let ida = ja.you.expect("the creator is a player");
        assert_eq!(
            (ja.name.as_str(), ja.game.as_str(), ja.max_players),
            ("Ann's room", "walkers", 4)
        );
        assert_eq!(ja.host, Some(ida), "the creator hosts");
        assert_eq!(names(&ja), ["ann"]);
        assert_eq!(ja.code.len(), CODE_LEN);
        assert!(
            ja.code.bytes().all(|b| CODE_ALPHABET.contains(&b)),
            "{}",
            ja.code
        );
        let jc = cy.create("secret", "arena", 2, false).await.unwrap();
        assert_eq!((jc.game.as_str(), jc.field_count), ("arena", 10));

        // Bob sees Ann's public lobby with her seat taken, and not Cy's private one.
        let list = list_until(&mut bob, None, |l| {
            l.iter().any(|s| s.id == ja.lobby && s.players == 1)
        })
        .await;
        let entry = list.iter().find(|s| s.id == ja.lobby).unwrap();
        assert_eq!(
            (
                entry.code.as_str(),
                entry.name.as_str(),
                entry.game.as_str(),
                entry.max_players
            ),
            (ja.code.as_str(), "Ann's room", "walkers", 4)
        );
        assert!(
            list.iter().all(|s| s.id != jc.lobby),
            "private lobby listed: {list:?}"
        );
        assert!(bob.list(Some("arena")).await.unwrap().is_empty());
        assert_eq!(bob.list(Some("walkers")).await.unwrap().len(), 1);

        // Join by the code as a person might type it: lower case, with a dash in the middle.
        let typed = format!("{}-{}", &ja.code[..3], &ja.code[3..]).to_lowercase();
        let jb = bob.join(LobbyRef::Code(typed)).await.unwrap();
        let idb = jb.you.expect("bob is a player");
        assert_eq!((jb.lobby, jb.code.as_str()), (ja.lobby, ja.code.as_str()));
        assert_ne!(idb, ida);
        assert_eq!(jb.host, Some(ida));
        assert_eq!(names(&jb), ["ann", "bob"]);
        assert_eq!(
            lobby_event(&mut ann, LobbyEventKind::Joined).await,
            (idb, "bob".to_owned())
        );
        // Bob's mirror holds both walkers, exactly as the server has them.
        let mut wb = World::default();
        wb.apply(&ServerMsg::Joined(jb)).unwrap();
        assert!(wb.table.get(ida).is_some() && wb.table.get(idb).is_some());
        server.assert_mirror(&wb).await;

        // A private lobby is unlisted but open to whoever has its id or code.
        let (mut dee, _) = server.client("dee").await;
        let jd = dee.join(LobbyRef::Id(jc.lobby)).await.unwrap();
        assert_eq!((jd.lobby, names(&jd)), (jc.lobby, vec!["cy", "dee"]));
        let list = list_until(&mut bob, None, |l| {
            l.iter().any(|s| s.id == ja.lobby && s.players == 2)
        })
        .await;
        assert_eq!(list.len(), 1, "{list:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_lobbies_are_lobby_not_found_with_a_readable_message() {
    let server = TestServer::start().await;
    within(10, async {
        let (mut ann, _) = server.client("ann").await;
        let ja = ann.create("here", "walkers", 4, true).await.unwrap();
        let (mut bob, _) = server.client("bob").await;
        // A well-formed code nobody has, one that cannot be a code at all, and an unknown id.
        let unused = if ja.code == "ZZZZZZ" {
            "yyyyyy"
        } else {
            "zzzzzz"
        };
        for typed in [unused, "nope!"] {
            let (code, message) = refused(bob.join(LobbyRef::Code(typed.into())).await);
            assert_eq!(code, ErrorCode::LobbyNotFound, "{message}");
            assert!(
                message.contains(typed),
                "the message names the code: {message}"
            );
            let (code, _) = refused(bob.spectate(LobbyRef::Code(typed.into())).await);
            assert_eq!(code, ErrorCode::LobbyNotFound);
        }
        let (code, message) = refused(bob.join(LobbyRef::Id(LobbyId(ja.lobby.0 + 1000))).await);
        assert_eq!(code, ErrorCode::LobbyNotFound);
        assert!(
            message.contains(&(ja.lobby.0 + 1000).to_string()),
            "{message}"
        );
        // Bob is still in no lobby and free to join the real one.
        let jb = bob.join(LobbyRef::Code(ja.code.clone())).await.unwrap();
        assert_eq!(jb.lobby, ja.lobby);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_lobby_refuses_players_until_a_seat_frees() {
    // No held seats: see `an_explicit_leave_always_frees_the_seat` for why.
    let server = TestServer::with(|c| c.lobby.reconnect_grace = Duration::ZERO).await;
    within(10, async {
        let (mut ann, _) = server.client("ann").await;
        let (mut bob, _) = server.client("bob").await;
        let (mut cy, _) = server.client("cy").await;
        let ja = ann.create("pair", "arena", 2, true).await.unwrap();
        let code = LobbyRef::Code(ja.code.clone());
        let jb = bob.join(code.clone()).await.unwrap();
        let idb = jb.you.unwrap();

        let (err, message) = refused(cy.join(code.clone()).await);
        assert_eq!(err, ErrorCode::LobbyFull, "{message}");
        assert!(message.to_lowercase().contains("full"), "{message}");
        let list = list_until(&mut cy, None, |l| {
            l.iter().any(|s| s.id == ja.lobby && s.players == 2)
        })
        .await;
        assert_eq!(list[0].max_players, 2);

        // Bob leaves; once the lobby has seen it, the seat is Cy's.
        leave(&mut bob).await;
        assert_eq!(lobby_event(&mut ann, LobbyEventKind::Left).await.0, idb);
        let jc = cy.join(code.clone()).await.unwrap();
        assert_eq!(names(&jc), ["ann", "cy"]);
        // And full again.
        let (err, _) = refused(bob.join(code).await);
        assert_eq!(err, ErrorCode::LobbyFull);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_wide_lobby_limit_is_lobby_limit() {
    let server = TestServer::with(|c| {
        c.lobby.max_lobbies = 2;
        c.lobby.empty_close_after = Duration::from_millis(300);
        // No held seats: see `an_explicit_leave_always_frees_the_seat` for why.
        c.lobby.reconnect_grace = Duration::ZERO;
    })
    .await;
    within(10, async {
        let (mut ann, _) = server.client("ann").await;
        let (mut bob, _) = server.client("bob").await;
        let (mut cy, _) = server.client("cy").await;
        let ja = ann.create("one", "walkers", 4, false).await.unwrap();
        bob.create("two", "arena", 4, false).await.unwrap();
        let (err, message) = refused(cy.create("three", "walkers", 4, true).await);
        assert_eq!(err, ErrorCode::LobbyLimit, "{message}");
        assert!(
            message.contains('2'),
            "the message gives the limit: {message}"
        );
        // Quick-join finds no public lobby with room, and may not open one either.
        let (err, _) = refused(cy.quick_join("walkers").await);
        assert_eq!(err, ErrorCode::LobbyLimit);
        assert_eq!(server.metric("tickrelay_lobbies").await, 2.0);

        // The limit counts open lobbies: once one closes there is room again.
        leave(&mut ann).await;
        until_closed(&server, ja.lobby).await;
        let jc = cy.create("three", "walkers", 4, true).await.unwrap();
        assert_eq!(jc.name, "three");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spectator_has_no_entity_but_sees_every_player() {
    let server = TestServer::with(|c| c.lobby.max_spectators = 1).await;
    within(10, async {
        let (mut ann, _) = server.client("ann").await;
        let (mut bob, _) = server.client("bob").await;
        let ja = ann.create("watched", "walkers", 2, true).await.unwrap();
        let jb = bob.join(LobbyRef::Code(ja.code.clone())).await.unwrap();
        let (ida, idb) = (ja.you.unwrap(), jb.you.unwrap());

        // The lobby is full of players, but spectator seats are separate.
        let (mut sam, _) = server.client("sam").await;
        let js = sam
            .spectate(LobbyRef::Code(ja.code.to_lowercase()))
            .await
            .unwrap();
        assert_eq!(js.lobby, ja.lobby);
        assert_eq!(js.you, None, "a spectator has no entity");
        assert_eq!(js.host, Some(ida));
        assert_eq!(
            names(&js),
            ["ann", "bob"],
            "spectators are not on the roster"
        );
        let mut ws = World::default();
        ws.apply(&ServerMsg::Joined(js)).unwrap();
        assert_eq!(ws.table.len(), 2);
        assert!(ws.table.get(ida).is_some() && ws.table.get(idb).is_some());

        // Ann moves; the spectator's mirror follows the server's world tick by tick.
        ann.input(PlayerInput {
            seq: 1,
            dx: 1,
            dy: 1,
            ..Default::default()
        })
        .await
        .unwrap();
        while ws.table.get(ida).unwrap().fields[2] < 1 {
            let m = sam.recv().await.unwrap();
            ws.apply(&m).unwrap();
        }
        server.assert_mirror(&ws).await;

        // A spectator sends no input.
        sam.input(PlayerInput {
            seq: 1,
            dx: 1,
            ..Default::default()
        })
        .await
        .unwrap();
        assert_eq!(
            await_error_code(&mut sam).await,
            ErrorCode::NotAllowed.as_u16()
        );
        // Watching takes no seat: still two players listed.
        let list = list_until(&mut sam, None, |l| l.iter().any(|s| s.id == ja.lobby)).await;
        assert_eq!(list[0].players, 2);
        // Spectator seats are bounded too.
        let (mut tom, _) = server.client("tom").await;
        let (err, _) = refused(tom.spectate(LobbyRef::Id(ja.lobby)).await);
        assert_eq!(err, ErrorCode::LobbyFull);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_reaches_the_whole_lobby_with_the_senders_name_and_is_rate_limited() {
    let server = TestServer::with(|c| {
        c.lobby.chat_burst = 3;
        // No refill during the test, so the burst is exactly what gets through.
        c.lobby.chat_refill = Duration::from_secs(600);
    })
    .await;
    within(10, async {
        let (mut ann, _) = server.client("ann").await;
        let (mut bob, _) = server.client("bob").await;
        let (mut sam, _) = server.client("sam").await;
        let ja = ann.create("talk", "arena", 4, false).await.unwrap();
        let code = LobbyRef::Code(ja.code.clone());
        bob.join(code.clone()).await.unwrap();
        sam.spectate(code).await.unwrap();
        let ida = ja.you.unwrap();

        ann.send(&ClientMsg::Chat {
            text: "hello".into(),
        })
        .await
        .unwrap();
        let hello = (
            Some(ida),
            "ann".to_owned(),
            "hello".to_owned(),
            ChatRole::Player,
        );
        assert_eq!(next_chat(&mut ann).await, hello);
        assert_eq!(next_chat(&mut bob).await, hello);
        assert_eq!(next_chat(&mut sam).await, hello);
        // A spectator's line has no player id but carries its name, and says it is a spectator's.
        sam.send(&ClientMsg::Chat {
            text: "go ann".into(),
        })
        .await
        .unwrap();
        let go = (
            None,
            "sam".to_owned(),
            "go ann".to_owned(),
            ChatRole::Spectator,
        );
        assert_eq!(next_chat(&mut ann).await, go);
        assert_eq!(next_chat(&mut bob).await, go);

        // Ann's burst is 3 lines: the fourth is refused with Error 8, to her alone.
        for text in ["two", "three", "four"] {
            ann.send(&ClientMsg::Chat { text: text.into() })
                .await
                .unwrap();
        }
        let (code, message) = await_error(&mut ann).await;
        assert_eq!(code, ErrorCode::RateLimited.as_u16(), "{message}");
        // Bob's own bucket is untouched; his line marks the end of what Ann's burst produced.
        bob.send(&ClientMsg::Chat { text: "end".into() })
            .await
            .unwrap();
        let mut from_ann = Vec::new();
        loop {
            let (_, name, text, _) = next_chat(&mut bob).await;
            if text == "end" {
                assert_eq!(name, "bob");
                break;
            }
            from_ann.push(text);
        }
        assert_eq!(from_ann, ["two", "three"], "the fourth line was dropped");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spectator_named_server_never_reads_as_the_server() {
    let server = TestServer::start().await;
    within(10, async {
        let (mut ann, _) = server.client("ann").await;
        let (mut imp, _) = server.client("server").await;
        let ja = ann.create("talk", "walkers", 4, false).await.unwrap();
        imp.spectate(LobbyRef::Id(ja.lobby)).await.unwrap();
        imp.send(&ClientMsg::Chat {
            text: "restarting".into(),
        })
        .await
        .unwrap();
        let line = ann
            .recv_until("chat", |m| matches!(m, ServerMsg::Chat { .. }).then(|| m.clone()))
            .await
            .unwrap();
        let announcement = ServerMsg::Chat {
            from: None,
            name: "server".into(),
            text: "restarting".into(),
            role: ChatRole::Server,
        };
        assert!(
            matches!(&line, ServerMsg::Chat { from: None, name, role: ChatRole::Spectator, .. } if name == "server"),
            "{line:?}"
        );
        assert_ne!(encode(&line), encode(&announcement), "the same bytes");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_leaving_hands_the_lobby_to_the_longest_seated_player() {
    // No held seats: see `an_explicit_leave_always_frees_the_seat` for why.
    let server = TestServer::with(|c| c.lobby.reconnect_grace = Duration::ZERO).await;
    within(10, async {
        let (mut ann, _) = server.client("ann").await;
        let (mut bob, _) = server.client("bob").await;
        let (mut cy, _) = server.client("cy").await;
        let ja = ann.create("relay", "walkers", 8, false).await.unwrap();
        let code = LobbyRef::Code(ja.code.clone());
        let jb = bob.join(code.clone()).await.unwrap();
        let jc = cy.join(code.clone()).await.unwrap();
        let (ida, idb, idc) = (ja.you.unwrap(), jb.you.unwrap(), jc.you.unwrap());
        assert_eq!((jb.host, jc.host), (Some(ida), Some(ida)));
        let mut wc = World::default();
        wc.apply(&ServerMsg::Joined(jc)).unwrap();

        // Ann leaves: the others hear her go, then that Bob (seated before Cy) hosts.
        leave(&mut ann).await;
        for (c, mut world) in [(&mut bob, None), (&mut cy, Some(&mut wc))] {
            let mut events = Vec::new();
            loop {
                let m = c.recv().await.unwrap();
                if let Some(w) = world.as_mut() {
                    w.apply(&m).unwrap();
                }
                if let ServerMsg::LobbyEvent { kind, player, name } = &m {
                    events.push((*kind, *player, name.clone()));
                    if *kind == LobbyEventKind::HostChanged {
                        break;
                    }
                }
            }
            assert_eq!(
                events[events.len() - 2..],
                [
                    (LobbyEventKind::Left, ida, "ann".to_owned()),
                    (LobbyEventKind::HostChanged, idb, "bob".to_owned())
                ]
            );
        }
        // A newcomer's Joined names the new host; a mirror applying the events agrees.
        let (mut dee, _) = server.client("dee").await;
        let jd = dee.join(code.clone()).await.unwrap();
        assert_eq!(jd.host, Some(idb));
        assert_eq!(names(&jd), ["bob", "cy", "dee"]);

        // Bob leaves too: Cy has been seated longer than Dee.
        leave(&mut bob).await;
        assert_eq!(
            lobby_event(&mut dee, LobbyEventKind::HostChanged).await,
            (idc, "cy".to_owned())
        );
        loop {
            let m = cy.recv().await.unwrap();
            wc.apply(&m).unwrap();
            if wc.host == Some(idc) {
                break;
            }
        }
        assert_eq!(
            wc.roster.iter().map(|r| r.id).collect::<Vec<_>>(),
            [idc, jd.you.unwrap()]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_lobby_closes_and_its_code_then_finds_nothing() {
    let server = TestServer::with(|c| {
        c.lobby.empty_close_after = Duration::from_millis(300);
        // No held seats: see `an_explicit_leave_always_frees_the_seat` for why.
        c.lobby.reconnect_grace = Duration::ZERO;
    })
    .await;
    within(10, async {
        let (mut ann, _) = server.client("ann").await;
        let (mut sam, _) = server.client("sam").await;
        let (mut bob, _) = server.client("bob").await;
        // One lobby keeps a spectator after its player leaves; the other is left empty.
        let watched = ann.create("watched", "walkers", 4, true).await.unwrap();
        sam.spectate(LobbyRef::Id(watched.lobby)).await.unwrap();
        leave(&mut ann).await;
        let empty = bob.create("empty", "walkers", 4, true).await.unwrap();
        assert_eq!(server.metric("tickrelay_lobbies").await, 2.0);
        leave(&mut bob).await;

        until_closed(&server, empty.lobby).await;
        let list = bob.list(None).await.unwrap();
        assert!(list.iter().all(|s| s.id != empty.lobby), "{list:?}");
        let (_, body) = server.get("/api/lobbies").await;
        assert!(!body.contains(&empty.code), "{body}");
        assert_eq!(server.metric("tickrelay_lobbies").await, 1.0);
        let (err, message) = refused(bob.join(LobbyRef::Code(empty.code.clone())).await);
        assert_eq!(err, ErrorCode::LobbyNotFound, "{message}");
        let (err, _) = refused(bob.join(LobbyRef::Id(empty.lobby)).await);
        assert_eq!(err, ErrorCode::LobbyNotFound);

        // A spectator is somebody: that lobby, empty of players for longer, is still open.
        let jb = bob
            .join(LobbyRef::Code(watched.code.clone()))
            .await
            .unwrap();
        assert_eq!(jb.lobby, watched.lobby);

        // Once the spectator goes too, it closes as well.
        leave(&mut bob).await;
        leave(&mut sam).await;
        until_closed(&server, watched.lobby).await;
        assert_eq!(server.metric("tickrelay_lobbies").await, 0.0);
        let (err, _) = refused(sam.spectate(LobbyRef::Code(watched.code.clone())).await);
        assert_eq!(err, ErrorCode::LobbyNotFound);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_join_fills_a_public_lobby_then_opens_one_when_none_has_room() {
    let server = TestServer::with(|c| c.lobby.default_max_players = 2).await;
    within(10, async {
        // Lobbies quick-join must pass over: a private one with room, and another game's.
        let (mut pat, _) = server.client("pat").await;
        let private = pat.create("mine", "walkers", 8, false).await.unwrap();
        let (mut art, _) = server.client("art").await;
        let arena = art.create("arena", "arena", 8, true).await.unwrap();

        let (mut ann, _) = server.client("ann").await;
        let ja = ann.quick_join("walkers").await.unwrap();
        assert!(ja.lobby != private.lobby && ja.lobby != arena.lobby);
        assert_eq!((ja.game.as_str(), ja.max_players), ("walkers", 2));
        let (mut bob, _) = server.client("bob").await;
        let jb = bob.quick_join("walkers").await.unwrap();
        assert_eq!(jb.lobby, ja.lobby, "the second player joins the first");
        assert_eq!(names(&jb), ["ann", "bob"]);
        // That lobby is full now, so the third opens another public one.
        let (mut cy, _) = server.client("cy").await;
        let jc = cy.quick_join("walkers").await.unwrap();
        assert!(![ja.lobby, private.lobby, arena.lobby].contains(&jc.lobby));
        assert_eq!(names(&jc), ["cy"]);
        assert_eq!(server.registry.lobby_count(), 4);
        let listed = list_until(&mut cy, Some("walkers"), |l| l.len() == 2).await;
        assert!(listed.iter().any(|s| s.id == jc.lobby));
        // And the next one fills it up rather than opening a third.
        let (mut dee, _) = server.client("dee").await;
        assert_eq!(dee.quick_join("walkers").await.unwrap().lobby, jc.lobby);
        // Quick-join for arena finds the public arena lobby.
        let (mut eve, _) = server.client("eve").await;
        assert_eq!(eve.quick_join("arena").await.unwrap().lobby, arena.lobby);
        // An unknown game is a bad request.
        let (mut fay, _) = server.client("fay").await;
        let (err, message) = refused(fay.quick_join("chess").await);
        assert_eq!(err, ErrorCode::BadRequest, "{message}");
        assert_eq!(server.registry.lobby_count(), 4);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_lists_public_lobbies_as_json_and_reports_health_and_metrics() {
    let server = TestServer::start().await;
    within(10, async {
        let (status, body) = server.get("/healthz").await;
        assert_eq!((status, body.trim()), (200, "ok"));
        let (status, body) = server.get("/api/lobbies").await;
        assert_eq!(status, 200);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            serde_json::json!([])
        );

        let (mut ann, _) = server.client("ann").await;
        let (mut cy, _) = server.client("cy").await;
        let ja = ann.create("Ann's room", "walkers", 4, true).await.unwrap();
        let jc = cy.create("secret", "arena", 4, false).await.unwrap();
        // Seat counts are published after the lobby's tick: poll until Ann's shows.
        let list = loop {
            let (status, body) = server.get("/api/lobbies").await;
            assert_eq!(status, 200, "{body}");
            let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            let list = v.as_array().expect("a JSON array").clone();
            if list.iter().any(|l| l["players"] == 1) {
                break list;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(list.len(), 1, "only the public lobby: {list:?}");
        let l = &list[0];
        assert_eq!(l["id"], ja.lobby.0);
        assert_eq!(l["code"], ja.code.as_str());
        assert_eq!(l["name"], "Ann's room");
        assert_eq!(l["game"], "walkers");
        assert_eq!(l["players"], 1);
        assert_eq!(l["max_players"], 4);
        assert!(!list.iter().any(|l| l["id"] == jc.lobby.0));
        // Filtered by game; an unknown game is a 400.
        let (_, body) = server.get("/api/lobbies?game=arena").await;
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            serde_json::json!([])
        );
        let (_, body) = server.get("/api/lobbies?game=walkers").await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 1);
        assert_eq!(server.get("/api/lobbies?game=chess").await.0, 400);
        // The game must match exactly; an empty one is no game.
        assert_eq!(server.get("/api/lobbies?game=WALKERS").await.0, 400);
        assert_eq!(server.get("/api/lobbies?game=").await.0, 400);
        // GET only (PROTOCOL.md section 16).
        let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let req = "POST /api/lobbies HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        tokio::io::AsyncWriteExt::write_all(&mut s, req.as_bytes())
            .await
            .unwrap();
        let mut reply = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut s, &mut reply)
            .await
            .unwrap();
        assert!(reply.starts_with("HTTP/1.1 405"), "{reply}");

        // /metrics: the lobby gauge, and counters that move with traffic.
        let (status, text) = server.get("/metrics").await;
        assert_eq!(status, 200);
        assert!(text.contains("# TYPE tickrelay_lobbies gauge"), "{text}");
        assert_eq!(server.metric("tickrelay_lobbies").await, 2.0);
        let frames_in = server.metric("tickrelay_frames_in_total").await;
        let snapshots = server.metric("tickrelay_snapshots_sent_total").await;
        assert!(frames_in >= 4.0, "two hellos and two creates: {frames_in}");
        ann.send(&ClientMsg::Ping { nonce: 7 }).await.unwrap();
        ann.recv_until("pong", |m| {
            matches!(m, ServerMsg::Pong { nonce: 7 }).then_some(())
        })
        .await
        .unwrap();
        assert!(server.metric("tickrelay_frames_in_total").await > frames_in);
        // Snapshots keep going out to Ann and Cy; wait for the counter to move on.
        while server.metric("tickrelay_snapshots_sent_total").await <= snapshots {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// A `Leave` must free the seat at once, whenever it arrives. When it reaches the lobby's inbox
/// while a tick is under way (after the inbox was drained, before the fan-out), the session has
/// already dropped its frame queue, so the fan-out finds the queue closed and takes it for a
/// dropped connection (the seat held, `Away`); the `Leave` drained next tick must still free it
/// (it once did not: `LobbyState::leave` acted only on connected members). The window is small, so
/// this test widens it (a fast tick with many members to fan out to) and leaves many times from a
/// two-seat lobby: a held seat makes the next join `LobbyFull`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_leave_always_frees_the_seat() {
    let server = TestServer::with(|c| {
        c.lobby.tick_rate = 240;
        c.lobby.snapshot_rate = 240;
        c.lobby.max_spectators = 64;
        c.limits.messages_per_second = 100_000;
        c.limits.message_burst = 100_000;
    })
    .await;
    within(60, async {
        let (mut ann, _) = server.client("ann").await;
        let ja = ann
            .create("revolving door", "walkers", 2, false)
            .await
            .unwrap();
        let mut readers = vec![tokio::spawn(
            async move { while ann.recv().await.is_ok() {} },
        )];
        for i in 0..40 {
            let (mut s, _) = server.client(&format!("watcher{i}")).await;
            s.spectate(LobbyRef::Id(ja.lobby)).await.unwrap();
            readers.push(tokio::spawn(async move { while s.recv().await.is_ok() {} }));
        }
        let (mut bob, _) = server.client("bob").await;
        for round in 0..300 {
            // The lobby handles bob's Leave before this Join (one inbox, in order): his seat must
            // be free again, or there is no second seat for him.
            bob.join(LobbyRef::Id(ja.lobby)).await.unwrap_or_else(|e| {
                panic!("round {round}: bob's previous seat is still held: {e}")
            });
            leave(&mut bob).await;
        }
        for r in readers {
            r.abort();
        }
    })
    .await;
}
