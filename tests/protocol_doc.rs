//! Keeps PROTOCOL.md true.
//!
//! Every example frame in PROTOCOL.md is built here from values, encoded with the crate's own encoders,
//! and compared with the hex block under its `<!-- frame: NAME -->` marker, character for character.
//! The hex read back from the document is then decoded again and must give the same message, so the
//! document's bytes are valid frames. The tables of message types, error codes, close codes and lobby
//! event kinds must list exactly the numbers the code knows, and the worked delta example must decode
//! to the mirrors the document prints.
//!
//! When a frame changes on purpose, run
//! `PROTOCOL_DOC_DUMP=1 cargo test --test protocol_doc -- --nocapture dump` to print every block.

use std::collections::{BTreeMap, BTreeSet};
use tickrelay::game::{Arena, ArenaRules, Game, GameKind, GameSetup, WALKERS_SPEED, WALKERS_WORLD};
use tickrelay::protocol::*;
use tickrelay::snapshot::*;

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/PROTOCOL.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Hex blocks.

/// The one hex format of the document: lowercase bytes, one space apart, 16 to a line.
fn hex_block(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|line| {
            line.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn parse_hex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|t| {
            assert_eq!(t.len(), 2, "hex byte {t:?} is not two digits");
            u8::from_str_radix(t, 16).unwrap_or_else(|_| panic!("bad hex byte {t:?}"))
        })
        .collect()
}

/// The body of the fenced block that follows `<!-- KIND: NAME -->` (one per name).
fn blocks(doc: &str, kind: &str) -> BTreeMap<String, (String, String)> {
    let prefix = format!("<!-- {kind}: ");
    let lines: Vec<&str> = doc.lines().collect();
    let mut out = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim().strip_prefix(&prefix) else {
            continue;
        };
        let name = rest
            .strip_suffix("-->")
            .unwrap_or_else(|| panic!("marker line {line:?} does not end in -->"))
            .trim()
            .to_owned();
        let mut j = i + 1;
        while lines.get(j).is_some_and(|l| l.trim().is_empty()) {
            j += 1;
        }
        let fence = lines.get(j).copied().unwrap_or("").trim();
        assert!(
            fence.starts_with("```"),
            "marker {kind}: {name} is not followed by a fenced block"
        );
        let tag = fence.trim_start_matches('`').to_owned();
        let mut body = Vec::new();
        j += 1;
        while let Some(l) = lines.get(j) {
            if l.trim() == "```" {
                break;
            }
            body.push(*l);
            j += 1;
        }
        assert!(j < lines.len(), "block {kind}: {name} is not closed");
        let prev = out.insert(name.clone(), (tag, body.join("\n")));
        assert!(prev.is_none(), "marker {kind}: {name} appears twice");
    }
    out
}

/// Rows of the markdown table right after `<!-- table: NAME -->`, header and rule dropped,
/// each split into trimmed cells.
fn table(doc: &str, name: &str) -> Vec<Vec<String>> {
    let marker = format!("<!-- table: {name} -->");
    let start = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("PROTOCOL.md has no {marker}"));
    let rows: Vec<Vec<String>> = doc[start + marker.len()..]
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| l.trim_start().starts_with('|'))
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect();
    assert!(rows.len() >= 2, "table {name} has no header and rule");
    assert!(
        rows[1]
            .iter()
            .all(|c| c.chars().all(|ch| "-: ".contains(ch))),
        "table {name}: second line is not a rule"
    );
    rows[2..].to_vec()
}

/// The numbers in a table's first column (backticks allowed), checked to be unique.
fn first_column_numbers(rows: &[Vec<String>], name: &str) -> BTreeMap<u64, Vec<String>> {
    let mut out = BTreeMap::new();
    for row in rows {
        let n: u64 = row[0]
            .trim_matches('`')
            .parse()
            .unwrap_or_else(|_| panic!("table {name}: first cell {:?} is not a number", row[0]));
        assert!(
            out.insert(n, row.clone()).is_none(),
            "table {name}: {n} twice"
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The example values. Everything the document shows is built here.

enum Msg {
    Client(ClientMsg),
    Server(ServerMsg),
}

struct Example {
    name: &'static str,
    bytes: Vec<u8>,
    msg: Msg,
}

fn client(name: &'static str, m: ClientMsg) -> Example {
    Example {
        name,
        bytes: encode(&m),
        msg: Msg::Client(m),
    }
}

fn server(name: &'static str, m: ServerMsg) -> Example {
    Example {
        name,
        bytes: encode(&m),
        msg: Msg::Server(m),
    }
}

const TOKEN: &str = "3f9a1c2e7b8d4f60a5e1c9b27d3e8f41";
const SERVER_ID: &str = "5c1d0e8a7f3b2964";
/// The node the redirect examples send the client to.
const NODE_URL: &str = "ws://10.0.0.2:8080/ws";

/// The seat ticket of the redirect examples, signed as a node signs one (with the example's own key):
/// a seat in lobby 17 for "ada".
fn example_ticket() -> Vec<u8> {
    tickrelay::cluster::Ticket {
        lobby: LobbyId(17),
        name: "ada".into(),
        expires_ms: 1_700_000_010_123,
        nonce: 0x7a3c_91e0_5b2d_48f6,
        kind: tickrelay::cluster::SeatKind::Play,
    }
    .sign(b"the example cluster secret")
}

fn fields(v: &[i32]) -> [i32; MAX_FIELDS] {
    let mut f = [0; MAX_FIELDS];
    f[..v.len()].copy_from_slice(v);
    f
}

fn walkers_table(tick: u32, rows: &[(u32, f32, f32, u32)]) -> EntityTable {
    let mut t = EntityTable::new(3);
    t.clear(Tick(tick));
    for &(id, x, y, ack) in rows {
        // The ack field carries the u32 input sequence as a wrapping i32.
        t.push(
            EntityId(id),
            fields(&[pos_to_q(x), pos_to_q(y), ack as i32]),
        );
    }
    t.finish();
    t
}

/// One walkers step as the game does it: normalize(dx, dy) * speed * dt, clamped to the world.
fn walk(x: f32, y: f32, dx: f32, dy: f32) -> (f32, f32) {
    let len = (dx * dx + dy * dy).sqrt();
    let step = WALKERS_SPEED / 30.0;
    let (nx, ny) = if len > 0.0 {
        (dx / len, dy / len)
    } else {
        (0.0, 0.0)
    };
    (
        (x + nx * step).clamp(0.0, WALKERS_WORLD),
        (y + ny * step).clamp(0.0, WALKERS_WORLD),
    )
}

/// The walkers worked example: tick 100 (what `Joined` carries) and tick 101 (the delta).
fn walkers_tables() -> (EntityTable, EntityTable) {
    let t100 = walkers_table(
        100,
        &[
            (1, 1000.0, 500.0, 41),
            (2, 250.5, 1999.0, 7),
            (4, 1800.0, 40.0, 12),
        ],
    );
    // Player 1 walks right (input 42 arrived), player 2 walks down-left into the bottom edge
    // (no new input), player 4 left, player 5 joined.
    let (x1, y1) = walk(1000.0, 500.0, 1.0, 0.0);
    let (x2, y2) = walk(250.5, 1999.0, -1.0, 1.0);
    let t101 = walkers_table(101, &[(1, x1, y1, 42), (2, x2, y2, 7), (5, 12.25, 3.0, 0)]);
    (t100, t101)
}

/// The arena example, played by the real game: player 2 at (100, 500) holds fire aiming right at
/// player 3 at (350, 500) (entity 1 is the round). The first shot (entity 4) hits at tick 9, when
/// the second (entity 5) leaves.
fn arena_tables() -> (EntityTable, EntityTable, Vec<GameEvent>) {
    let mut g = Arena::new(ArenaRules::new(30), 1);
    let a = g.spawn_player();
    let b = g.spawn_player();
    assert_eq!((a, b), (EntityId(2), EntityId(3)));
    g.place(a, glam::Vec2::new(100.0, 500.0));
    g.place(b, glam::Vec2::new(350.0, 500.0));
    g.apply_input(
        a,
        &PlayerInput {
            seq: 1,
            dx: 0,
            dy: 0,
            aim: 0.0,
            buttons: BUTTON_FIRE,
            view_tick: 0,
        },
    );
    let mut tables = Vec::new();
    let mut events = Vec::new();
    for tick in 1..=9 {
        events.clear();
        g.step(Tick(tick), &mut events);
        let mut t = EntityTable::new(g.field_count());
        t.clear(Tick(tick));
        g.write_table(&mut t);
        // What the lobby adds: each player's ack (player 2 sent input 1, player 3 nothing yet).
        let ack = g.ack_field();
        if let Some(r) = t.get_mut(a) {
            r.fields[ack] = 1;
        }
        tables.push(t);
    }
    let t9 = tables.pop().unwrap();
    let t8 = tables.pop().unwrap();
    (t8, t9, events)
}

fn roster() -> Vec<RosterEntry> {
    vec![
        RosterEntry {
            id: EntityId(1),
            name: "ada".into(),
        },
        RosterEntry {
            id: EntityId(2),
            name: "bob".into(),
        },
    ]
}

fn examples() -> Vec<Example> {
    let (w100, w101) = walkers_tables();
    let (a8, a9, a_events) = arena_tables();
    let walkers_full = encode_body(None, &w100, &[]);
    let mut ex = vec![
        // Client to server.
        client(
            "hello",
            ClientMsg::Hello(Hello {
                version: PROTOCOL_VERSION,
                name: "ada".into(),
                reconnect_token: None,
            }),
        ),
        client(
            "hello-resume",
            ClientMsg::Hello(Hello {
                version: PROTOCOL_VERSION,
                name: "ada".into(),
                reconnect_token: Some(TOKEN.into()),
            }),
        ),
        client(
            "list-lobbies",
            ClientMsg::ListLobbies {
                game: Some("arena".into()),
            },
        ),
        client("list-lobbies-all", ClientMsg::ListLobbies { game: None }),
        client(
            "create-lobby",
            ClientMsg::CreateLobby(CreateLobby {
                name: "Friday fights".into(),
                game: "arena".into(),
                max_players: 8,
                public: true,
                kill_goal: None,
                round_seconds: None,
            }),
        ),
        client(
            "create-lobby-rounds",
            ClientMsg::CreateLobby(CreateLobby {
                name: "Friday fights".into(),
                game: "arena".into(),
                max_players: 8,
                public: true,
                kill_goal: Some(5),
                round_seconds: Some(120),
            }),
        ),
        client(
            "join-code",
            ClientMsg::Join(LobbyRef::Code("K7QX2M".into())),
        ),
        client("join-id", ClientMsg::Join(LobbyRef::Id(LobbyId(17)))),
        client(
            "spectate",
            ClientMsg::Spectate(LobbyRef::Code("K7QX2M".into())),
        ),
        client(
            "quick-join",
            ClientMsg::QuickJoin {
                game: "walkers".into(),
            },
        ),
        client("leave", ClientMsg::Leave),
        client(
            "input-walkers",
            ClientMsg::input(PlayerInput {
                seq: 42,
                dx: 1,
                dy: -1,
                aim: 0.0,
                buttons: 0,
                view_tick: 0,
            }),
        ),
        client(
            "input-arena",
            ClientMsg::input(PlayerInput {
                seq: 300,
                dx: 0,
                dy: 1,
                aim: 1.5,
                buttons: BUTTON_FIRE,
                view_tick: 0,
            }),
        ),
        client(
            "input-earlier",
            ClientMsg::Input {
                input: PlayerInput {
                    seq: 302,
                    dx: 0,
                    dy: 1,
                    aim: 1.5,
                    buttons: BUTTON_FIRE,
                    view_tick: 118,
                },
                earlier: vec![PlayerInput {
                    seq: 301,
                    dx: 0,
                    dy: 1,
                    aim: 1.5,
                    buttons: BUTTON_FIRE,
                    view_tick: 117,
                }],
            },
        ),
        client("chat", ClientMsg::Chat { text: "gg".into() }),
        client(
            "ping",
            ClientMsg::Ping {
                nonce: 1_700_000_000_123,
            },
        ),
        client("restart-round", ClientMsg::RestartRound),
        client("resync", ClientMsg::Resync),
        client(
            "redeem",
            ClientMsg::Redeem {
                ticket: example_ticket(),
            },
        ),
        // Server to client.
        server(
            "welcome",
            ServerMsg::Welcome {
                version: PROTOCOL_VERSION,
                session: SessionId(7),
                reconnect_token: TOKEN.into(),
                tick_rate: 30,
                snapshot_rate: 30,
                server_id: SERVER_ID.into(),
                // The shipped defaults, so the example shows what an unconfigured server sends.
                limits: tickrelay::config::Config::default().client_limits(),
            },
        ),
        server(
            "lobby-list",
            ServerMsg::LobbyList(vec![LobbySummary {
                id: LobbyId(17),
                code: "K7QX2M".into(),
                name: "Friday fights".into(),
                game: "arena".into(),
                players: 3,
                max_players: 8,
                url: None,
            }]),
        ),
        server(
            "joined",
            ServerMsg::Joined(Box::new(JoinedInfo {
                lobby: LobbyId(17),
                code: "K7QX2M".into(),
                name: "walk".into(),
                game: "walkers".into(),
                you: Some(EntityId(2)),
                host: Some(EntityId(1)),
                tick_rate: 30,
                snapshot_rate: 30,
                max_players: 16,
                field_count: 3,
                roster: roster(),
                snapshot: walkers_full,
            })),
        ),
        server(
            "lobby-event",
            ServerMsg::LobbyEvent {
                kind: LobbyEventKind::Joined,
                player: EntityId(5),
                name: "cy".into(),
            },
        ),
        server(
            "chat-server",
            ServerMsg::Chat {
                from: Some(EntityId(1)),
                name: "ada".into(),
                text: "gg".into(),
                role: ChatRole::Player,
            },
        ),
        server(
            "chat-spectator",
            ServerMsg::Chat {
                from: None,
                name: "server".into(),
                text: "restarting".into(),
                role: ChatRole::Spectator,
            },
        ),
        server(
            "chat-system",
            ServerMsg::Chat {
                from: None,
                name: "server".into(),
                text: "restarting".into(),
                role: ChatRole::Server,
            },
        ),
        server(
            "pong",
            ServerMsg::Pong {
                nonce: 1_700_000_000_123,
            },
        ),
        server(
            "error",
            ServerMsg::error(ErrorCode::BadInput, "dx and dy must be -1, 0 or 1"),
        ),
        server(
            "error-version",
            ServerMsg::error(
                ErrorCode::BadVersion,
                "this server speaks protocol version 1; the client sent 2",
            ),
        ),
        server(
            "left",
            ServerMsg::Left {
                lobby: LobbyId(17),
                reason: "you left".into(),
            },
        ),
        server(
            "roster",
            ServerMsg::Roster {
                host: Some(EntityId(1)),
                roster: roster(),
            },
        ),
        server(
            "redirect",
            ServerMsg::Redirect {
                url: NODE_URL.into(),
                then: RedirectThen::Redeem,
                lobby: LobbyId(17),
                ticket: example_ticket(),
            },
        ),
        server(
            "redirect-retry",
            ServerMsg::Redirect {
                url: NODE_URL.into(),
                then: RedirectThen::Retry,
                lobby: LobbyId(0),
                ticket: Vec::new(),
            },
        ),
        server(
            "lobby-list-cluster",
            ServerMsg::LobbyList(vec![LobbySummary {
                id: LobbyId(17),
                code: "K7QX2M".into(),
                name: "Friday fights".into(),
                game: "arena".into(),
                players: 3,
                max_players: 8,
                url: Some(NODE_URL.into()),
            }]),
        ),
    ];
    // Snapshots come from the delta encoder's hand-written path, as the server sends them.
    let snap = |name, base: Option<&EntityTable>, cur: &EntityTable, events: &[GameEvent]| {
        let bytes = encode_snapshot_frame(base, cur, events);
        let msg = ServerMsg::Snapshot(encode_body(base, cur, events));
        assert_eq!(encode(&msg), bytes, "{name}: serde and hand-written differ");
        Example {
            name,
            bytes,
            msg: Msg::Server(msg),
        }
    };
    ex.push(snap("snapshot-walkers-delta", Some(&w100), &w101, &[]));
    ex.push(snap("snapshot-walkers-full", None, &w101, &[]));
    ex.push(snap("snapshot-arena-delta", Some(&a8), &a9, &a_events));
    ex.push(snap("snapshot-arena-full", None, &a9, &a_events));
    ex
}

// ---------------------------------------------------------------------------------------------
// The checks.

#[test]
fn every_example_frame_is_in_the_doc_byte_for_byte() {
    let doc = doc();
    let found = blocks(&doc, "frame");
    let mut missing = Vec::new();
    for ex in examples() {
        let want = hex_block(&ex.bytes);
        match found.get(ex.name) {
            None => missing.push(format!("<!-- frame: {} -->\n```hex\n{want}\n```", ex.name)),
            Some((tag, got)) => {
                assert_eq!(tag, "hex", "frame {}: block must be tagged hex", ex.name);
                assert_eq!(
                    got, &want,
                    "frame {} in PROTOCOL.md differs from what the code encodes; the code says:\n{want}",
                    ex.name
                );
            }
        }
    }
    assert!(
        missing.is_empty(),
        "PROTOCOL.md lacks these frames:\n{}",
        missing.join("\n\n")
    );
}

#[test]
fn every_frame_in_the_doc_is_an_example_and_decodes_to_it() {
    let doc = doc();
    let examples: BTreeMap<&str, Example> = examples().into_iter().map(|e| (e.name, e)).collect();
    let found = blocks(&doc, "frame");
    assert!(!found.is_empty());
    for (name, (_, text)) in &found {
        let ex = examples
            .get(name.as_str())
            .unwrap_or_else(|| panic!("PROTOCOL.md shows frame {name:?} that no test builds"));
        let bytes = parse_hex(text);
        match &ex.msg {
            Msg::Client(m) => assert_eq!(&decode_client(&bytes).unwrap(), m, "frame {name}"),
            Msg::Server(m) => assert_eq!(&decode_server(&bytes).unwrap(), m, "frame {name}"),
        }
    }
}

#[test]
fn every_message_gets_an_example() {
    // Exhaustive matches: a new variant does not compile until it has an example name here.
    let client_name = |m: &ClientMsg| match m {
        ClientMsg::Hello(_) => "Hello",
        ClientMsg::ListLobbies { .. } => "ListLobbies",
        ClientMsg::CreateLobby(_) => "CreateLobby",
        ClientMsg::Join(_) => "Join",
        ClientMsg::Spectate(_) => "Spectate",
        ClientMsg::QuickJoin { .. } => "QuickJoin",
        ClientMsg::Leave => "Leave",
        ClientMsg::Input { .. } => "Input",
        ClientMsg::Chat { .. } => "Chat",
        ClientMsg::Ping { .. } => "Ping",
        ClientMsg::RestartRound => "RestartRound",
        ClientMsg::Resync => "Resync",
        ClientMsg::Redeem { .. } => "Redeem",
    };
    let server_name = |m: &ServerMsg| match m {
        ServerMsg::Welcome { .. } => "Welcome",
        ServerMsg::LobbyList(_) => "LobbyList",
        ServerMsg::Joined(_) => "Joined",
        ServerMsg::Snapshot(_) => "Snapshot",
        ServerMsg::LobbyEvent { .. } => "LobbyEvent",
        ServerMsg::Chat { .. } => "Chat",
        ServerMsg::Pong { .. } => "Pong",
        ServerMsg::Error { .. } => "Error",
        ServerMsg::Left { .. } => "Left",
        ServerMsg::Roster { .. } => "Roster",
        ServerMsg::Redirect { .. } => "Redirect",
    };
    let mut c = BTreeSet::new();
    let mut s = BTreeSet::new();
    for ex in examples() {
        match &ex.msg {
            Msg::Client(m) => c.insert(client_name(m)),
            Msg::Server(m) => s.insert(server_name(m)),
        };
    }
    assert_eq!(c.len(), known_types(false).len(), "client examples: {c:?}");
    assert_eq!(s.len(), known_types(true).len(), "server examples: {s:?}");
}

/// The type numbers the decoder knows, found by asking it about every u8.
fn known_types(server_side: bool) -> BTreeSet<u64> {
    (0..=255u8)
        .filter(|&t| {
            let frame = [0x91, 0xcc, t];
            let r = if server_side {
                decode_server(&frame).map(|_| ())
            } else {
                decode_client(&frame).map(|_| ())
            };
            !matches!(r, Err(DecodeError::UnknownType(_)))
        })
        .map(u64::from)
        .collect()
}

#[test]
fn message_type_tables_list_exactly_the_known_types() {
    let doc = doc();
    let client_consts = [
        (ClientMsg::HELLO, "Hello"),
        (ClientMsg::LIST_LOBBIES, "ListLobbies"),
        (ClientMsg::CREATE_LOBBY, "CreateLobby"),
        (ClientMsg::JOIN, "Join"),
        (ClientMsg::SPECTATE, "Spectate"),
        (ClientMsg::QUICK_JOIN, "QuickJoin"),
        (ClientMsg::LEAVE, "Leave"),
        (ClientMsg::INPUT, "Input"),
        (ClientMsg::CHAT, "Chat"),
        (ClientMsg::PING, "Ping"),
        (ClientMsg::RESTART_ROUND, "RestartRound"),
        (ClientMsg::RESYNC, "Resync"),
        (ClientMsg::REDEEM, "Redeem"),
    ];
    let server_consts = [
        (ServerMsg::WELCOME, "Welcome"),
        (ServerMsg::LOBBY_LIST, "LobbyList"),
        (ServerMsg::JOINED, "Joined"),
        (ServerMsg::SNAPSHOT, "Snapshot"),
        (ServerMsg::LOBBY_EVENT, "LobbyEvent"),
        (ServerMsg::CHAT, "Chat"),
        (ServerMsg::PONG, "Pong"),
        (ServerMsg::ERROR, "Error"),
        (ServerMsg::LEFT, "Left"),
        (ServerMsg::ROSTER, "Roster"),
        (ServerMsg::REDIRECT, "Redirect"),
    ];
    for (table_name, consts, server_side) in [
        ("client-messages", &client_consts[..], false),
        ("server-messages", &server_consts[..], true),
    ] {
        let rows = first_column_numbers(&table(&doc, table_name), table_name);
        let want: BTreeSet<u64> = consts.iter().map(|(n, _)| u64::from(*n)).collect();
        assert_eq!(
            want,
            known_types(server_side),
            "the constants and the decoder disagree"
        );
        assert_eq!(
            rows.keys().copied().collect::<BTreeSet<_>>(),
            want,
            "table {table_name} must list exactly these type numbers"
        );
        for (n, name) in consts {
            let row = &rows[&u64::from(*n)];
            assert!(
                row[1].contains(name),
                "table {table_name}: type {n} should be {name}, row is {row:?}"
            );
        }
    }
}

#[test]
fn error_code_table_lists_exactly_the_codes() {
    let doc = doc();
    let rows = first_column_numbers(&table(&doc, "error-codes"), "error-codes");
    let codes: Vec<ErrorCode> = (0..=u16::MAX).filter_map(ErrorCode::from_u16).collect();
    assert_eq!(
        rows.keys().copied().collect::<Vec<_>>(),
        codes
            .iter()
            .map(|c| u64::from(c.as_u16()))
            .collect::<Vec<_>>(),
        "table error-codes must list exactly the ErrorCode numbers"
    );
    for c in codes {
        let row = &rows[&u64::from(c.as_u16())];
        assert_eq!(row[1], format!("{c:?}"), "error code {}", c.as_u16());
    }
}

#[test]
fn close_code_table_lists_exactly_the_codes_and_reasons() {
    let doc = doc();
    let rows = first_column_numbers(&table(&doc, "close-codes"), "close-codes");
    let codes: Vec<CloseCode> = (0..=u16::MAX).filter_map(CloseCode::from_code).collect();
    assert_eq!(
        rows.keys().copied().collect::<Vec<_>>(),
        codes
            .iter()
            .map(|c| u64::from(c.code()))
            .collect::<Vec<_>>(),
        "table close-codes must list exactly the CloseCode numbers"
    );
    for c in codes {
        let row = &rows[&u64::from(c.code())];
        assert_eq!(row[1], format!("{c:?}"), "close code {}", c.code());
        assert_eq!(
            row[2],
            format!("`{}`", c.reason()),
            "close code {} reason",
            c.code()
        );
    }
}

#[test]
fn lobby_event_kind_table_lists_exactly_the_kinds() {
    let doc = doc();
    let rows = first_column_numbers(&table(&doc, "lobby-event-kinds"), "lobby-event-kinds");
    let kinds: Vec<LobbyEventKind> = (0..=255).filter_map(LobbyEventKind::from_u8).collect();
    assert_eq!(rows.len(), kinds.len());
    for k in kinds {
        let row = &rows[&u64::from(k as u8)];
        assert_eq!(row[1], format!("{k:?}"));
    }
}

#[test]
fn welcome_limits_table_is_the_wire_order_with_the_shipped_defaults() {
    let doc = doc();
    let rows = first_column_numbers(&table(&doc, "welcome-limits"), "welcome-limits");
    let l = tickrelay::config::Config::default().client_limits();
    // The order `ClientLimits` is written in (the welcome frame above pins the bytes).
    let want = [
        ("max_message_bytes", l.max_message_bytes),
        ("messages_per_second", l.messages_per_second),
        ("message_burst", l.message_burst),
        ("chat_burst", l.chat_burst),
        ("chat_refill_ms", l.chat_refill_ms),
        ("reconnect_grace_ms", l.reconnect_grace_ms),
        ("slow_client_timeout_ms", l.slow_client_timeout_ms),
        ("idle_timeout_ms", l.idle_timeout_ms),
        ("max_decode_errors", l.max_decode_errors),
    ];
    assert_eq!(rows.len(), want.len(), "welcome-limits rows");
    for (i, (name, default)) in want.iter().enumerate() {
        let row = &rows[&(i as u64)];
        assert_eq!(
            (row[1].as_str(), row[2].as_str()),
            (*name, default.to_string().as_str())
        );
    }
    // And a limits array longer than this version's reads as if the extra elements were absent.
    let mut frame = encode(&ServerMsg::Welcome {
        version: 1,
        session: SessionId(1),
        reconnect_token: "t".into(),
        tick_rate: 30,
        snapshot_rate: 30,
        server_id: "s".into(),
        limits: l.clone(),
    });
    let at = frame.iter().rposition(|&b| b == 0x99).unwrap();
    frame[at] = 0x9a;
    frame.push(0x07);
    let Ok(ServerMsg::Welcome { limits, .. }) = decode_server(&frame) else {
        panic!("a longer limits array does not decode");
    };
    assert_eq!(limits, l);
}

#[test]
fn the_http_lobby_list_example_is_what_the_server_serializes() {
    // /api/lobbies answers with `Json(registry.list(..))`: the serde form of `LobbySummary`.
    let doc = doc();
    let found = blocks(&doc, "json");
    let (tag, text) = &found["api-lobbies"];
    assert_eq!(tag, "json");
    let shown: serde_json::Value = serde_json::from_str(text).expect("the example is JSON");
    let list = vec![LobbySummary {
        id: LobbyId(17),
        code: "K7QX2M".into(),
        name: "Friday fights".into(),
        game: "arena".into(),
        players: 3,
        max_players: 8,
        url: None,
    }];
    assert_eq!(shown, serde_json::to_value(&list).unwrap());
}

#[test]
fn chat_role_table_lists_exactly_the_roles() {
    let doc = doc();
    let rows = first_column_numbers(&table(&doc, "chat-roles"), "chat-roles");
    let roles: Vec<ChatRole> = (0..=255).filter_map(ChatRole::from_u8).collect();
    assert_eq!(rows.len(), roles.len());
    for r in roles {
        let row = &rows[&u64::from(r as u8)];
        assert_eq!(row[1], format!("{r:?}"));
    }
}

/// A mirror printed in the doc: a table of `| id | f0 | f1 | ... |`.
fn doc_mirror(doc: &str, name: &str, field_count: u8) -> EntityTable {
    let mut t = EntityTable::new(field_count);
    for row in table(doc, name) {
        let nums: Vec<i64> = row
            .iter()
            .map(|c| c.parse().unwrap_or_else(|_| panic!("table {name}: {c:?}")))
            .collect();
        assert_eq!(
            nums.len(),
            1 + usize::from(field_count),
            "table {name}: {row:?}"
        );
        let f: Vec<i32> = nums[1..].iter().map(|&v| v as i32).collect();
        t.push(EntityId(nums[0] as u32), fields(&f));
    }
    t
}

fn doc_frame(doc: &str, name: &str) -> SnapshotBody {
    let found = blocks(doc, "frame");
    let bytes = parse_hex(&found[name].1);
    match decode_server(&bytes).unwrap() {
        ServerMsg::Snapshot(b) => b,
        ServerMsg::Joined(j) => j.snapshot,
        other => panic!("{name} is {other:?}"),
    }
}

#[test]
fn worked_example_mirrors_are_what_applying_the_doc_frames_gives() {
    let doc = doc();
    let (w100, w101) = walkers_tables();
    // Join: the full snapshot inside the doc's Joined frame rebuilds tick 100.
    let mut mirror = EntityTable::new(3);
    apply(&mut mirror, &doc_frame(&doc, "joined")).unwrap();
    assert_eq!(mirror, w100);
    let mut printed = doc_mirror(&doc, "mirror-walkers-100", 3);
    printed.tick = Tick(100);
    assert_eq!(printed, mirror, "mirror-walkers-100 in PROTOCOL.md");
    // Then the doc's delta turns it into tick 101.
    apply(&mut mirror, &doc_frame(&doc, "snapshot-walkers-delta")).unwrap();
    assert_eq!(mirror, w101);
    let mut printed = doc_mirror(&doc, "mirror-walkers-101", 3);
    printed.tick = Tick(101);
    assert_eq!(printed, mirror, "mirror-walkers-101 in PROTOCOL.md");
    // The full snapshot of tick 101 rebuilds it from nothing too.
    let mut fresh = EntityTable::new(3);
    apply(&mut fresh, &doc_frame(&doc, "snapshot-walkers-full")).unwrap();
    assert_eq!(fresh, w101);
    // A delta applies only to the mirror of tick - base_delta.
    assert!(matches!(
        apply(&mut fresh, &doc_frame(&doc, "snapshot-walkers-delta")),
        Err(ApplyError::BaseMismatch {
            base: 100,
            held: 101
        })
    ));

    // Arena: the delta from tick 8 to 9 and the full tick 9.
    let (a8, a9, _) = arena_tables();
    let mut m = a8.clone();
    apply(&mut m, &doc_frame(&doc, "snapshot-arena-delta")).unwrap();
    assert_eq!(m, a9);
    let mut printed = doc_mirror(&doc, "mirror-arena-9", 10);
    printed.tick = Tick(9);
    assert_eq!(printed, a9, "mirror-arena-9 in PROTOCOL.md");
    let mut fresh = EntityTable::new(10);
    apply(&mut fresh, &doc_frame(&doc, "snapshot-arena-full")).unwrap();
    assert_eq!(fresh, a9);
}

#[test]
fn game_constants_in_the_doc_match_the_games() {
    let doc = doc();
    assert_eq!(
        GameKind::Walkers
            .create(&GameSetup::new(30, 1))
            .field_count(),
        3
    );
    assert_eq!(
        GameKind::Walkers.create(&GameSetup::new(30, 1)).ack_field(),
        2
    );
    assert_eq!(
        GameKind::Arena.create(&GameSetup::new(30, 1)).field_count(),
        10
    );
    assert_eq!(
        GameKind::Arena.create(&GameSetup::new(30, 1)).ack_field(),
        2
    );
    assert_eq!(
        table(&doc, "walkers-fields").len(),
        3,
        "walkers-fields rows"
    );
    assert_eq!(table(&doc, "arena-fields").len(), 10, "arena-fields rows");
    let r = ArenaRules::new(30);
    let want = [
        format!("| world | {} × {} units |", r.world.x, r.world.y),
        format!("| player radius | {} units |", r.player_radius),
        format!("| player speed | {} units/s |", r.player_speed),
        format!("| max hp | {} |", r.max_hp),
        format!("| damage per hit | {} |", r.damage),
        format!("| projectile speed | {} units/s |", r.projectile_speed),
        format!(
            "| projectile life | 0.9 s ({} ticks at 30 Hz) |",
            r.projectile_life_ticks
        ),
        format!(
            "| fire cooldown | 0.25 s ({} ticks at 30 Hz) |",
            r.fire_cooldown_ticks
        ),
        format!(
            "| respawn delay | 3 s ({} ticks at 30 Hz) |",
            r.respawn_ticks
        ),
        format!(
            "| kill goal | {} (the default; `CreateLobby` sets it) |",
            r.kill_goal
        ),
        format!(
            "| round length | 300 s ({} ticks at 30 Hz; the default; `CreateLobby` sets it) |",
            r.round_ticks
        ),
        format!(
            "| between rounds | 8 s ({} ticks at 30 Hz) |",
            r.round_over_ticks
        ),
        format!(
            "| lag compensation | at most 200 ms back ({} ticks at 30 Hz; the server's `lobby.max_rewind`) |",
            r.max_rewind_ticks
        ),
        format!("| world | {WALKERS_WORLD} × {WALKERS_WORLD} units |"),
        format!("| speed | {WALKERS_SPEED} units/s |"),
        format!("| `PROTOCOL_VERSION` | {PROTOCOL_VERSION} |"),
        format!("| `MAX_NAME_LEN` | {MAX_NAME_LEN} |"),
        format!("| `MAX_LOBBY_NAME_LEN` | {MAX_LOBBY_NAME_LEN} |"),
        format!("| `MAX_CHAT_LEN` | {MAX_CHAT_LEN} |"),
        format!("| `CODE_LEN` | {CODE_LEN} |"),
        format!(
            "| `CODE_ALPHABET` | `{}` |",
            std::str::from_utf8(CODE_ALPHABET).unwrap()
        ),
        format!("| `BUTTON_FIRE` | {BUTTON_FIRE} |"),
        format!("| `MAX_EARLIER_INPUTS` | {MAX_EARLIER_INPUTS} |"),
        format!("| `MAX_DEPTH` | {MAX_DEPTH} |"),
    ];
    for w in want {
        assert!(
            doc.contains(&w),
            "PROTOCOL.md should contain the line {w:?}"
        );
    }
    // Quantization as documented.
    assert_eq!(POS_SCALE, 16.0);
    assert_eq!(pos_to_q(1.0), 16);
    assert_eq!(pos_to_q(-0.03125), -1); // -0.5 rounds away from zero
    assert_eq!(angle_to_q(std::f32::consts::PI), 512);
    assert_eq!(angle_to_q(-std::f32::consts::FRAC_PI_2), 768);
    assert_eq!(angle_to_q(std::f32::consts::TAU - 0.0001), 0);
    assert_eq!(pos_to_q(f32::NAN), 0);
}

#[test]
fn arena_field_and_event_numbers_are_what_the_game_writes() {
    // arena::field and the KIND_/EVENT_ constants are not public; check them through the game.
    let (_, a9, events) = arena_tables();
    let kinds: Vec<u8> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![1], "a hit is event kind 1");
    assert_eq!(
        (events[0].a, events[0].b),
        (2, 3),
        "hit: a = shooter, b = victim"
    );
    let round = a9.get(EntityId(1)).unwrap().fields;
    let p1 = a9.get(EntityId(2)).unwrap().fields;
    let p2 = a9.get(EntityId(3)).unwrap().fields;
    let shot = a9.get(EntityId(5)).unwrap().fields;
    assert_eq!(p1[4], 100, "field 4 is hp");
    assert_eq!(p2[4], 75, "one hit took 25");
    assert_eq!(
        (round[8], p1[8], p2[8], shot[8]),
        (2, 0, 0, 1),
        "field 8 is kind"
    );
    assert_eq!(shot[7], 2, "field 7 of a projectile is its owner");
    assert_eq!(
        shot[2], 1,
        "field 2 of a projectile is the input that fired it"
    );
    assert_eq!((p1[9], p2[9], shot[9]), (0, 1, 0), "field 9 is the seat");
    assert_eq!(p1[2], 1, "field 2 is the ack");
    assert_eq!(
        (round[4], round[5], round[6]),
        (0, 10, 9000),
        "round: live, first to 10, the clock runs out at tick 9000"
    );
}

/// The same opening as [`arena_tables`], played on until player 2 dies and respawns.
/// Returns every event and the table of the tick of the kill.
fn arena_kill_run() -> (Vec<(u32, GameEvent)>, EntityTable) {
    let mut g = Arena::new(ArenaRules::new(30), 1);
    let a = g.spawn_player();
    let b = g.spawn_player();
    g.place(a, glam::Vec2::new(100.0, 500.0));
    g.place(b, glam::Vec2::new(350.0, 500.0));
    g.apply_input(
        a,
        &PlayerInput {
            seq: 1,
            aim: 0.0,
            buttons: BUTTON_FIRE,
            ..Default::default()
        },
    );
    // Player 2 looks straight down (+y): a quarter turn.
    g.apply_input(
        b,
        &PlayerInput {
            seq: 1,
            aim: std::f32::consts::FRAC_PI_2,
            ..Default::default()
        },
    );
    let mut all = Vec::new();
    let mut at_kill = None;
    for tick in 1..=130 {
        let mut ev = Vec::new();
        g.step(Tick(tick), &mut ev);
        if ev.iter().any(|e| e.kind == 2) {
            let mut t = EntityTable::new(g.field_count());
            t.clear(Tick(tick));
            g.write_table(&mut t);
            at_kill = Some(t);
        }
        all.extend(ev.into_iter().map(|e| (tick, e)));
    }
    (all, at_kill.expect("player 2 dies"))
}

#[test]
fn arena_tables_in_the_doc_match_the_game() {
    let doc = doc();
    // Fields: the doc's names, checked against what the game writes.
    let fields = first_column_numbers(&table(&doc, "arena-fields"), "arena-fields");
    let names: Vec<&str> = fields.values().map(|r| r[1].as_str()).collect();
    assert_eq!(
        fields.keys().copied().collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    assert_eq!(
        names,
        [
            "x",
            "y",
            "ack",
            "aim",
            "hp",
            "kills",
            "deaths",
            "respawn / owner",
            "kind",
            "seat"
        ]
    );
    let walkers = first_column_numbers(&table(&doc, "walkers-fields"), "walkers-fields");
    let names: Vec<&str> = walkers.values().map(|r| r[1].as_str()).collect();
    assert_eq!(names, ["x", "y", "ack"]);

    let (events, t) = arena_kill_run();
    let (kill_tick, kill) = *events.iter().find(|(_, e)| e.kind == 2).unwrap();
    let respawn_at = kill_tick + ArenaRules::new(30).respawn_ticks;
    let p1 = t.get(EntityId(2)).unwrap().fields;
    let p2 = t.get(EntityId(3)).unwrap().fields;
    assert_eq!(p2[3], 256, "field 3 is aim, 1/1024 turn");
    assert_eq!(
        (p2[4], p2[6], p2[7]),
        (0, 1, respawn_at as i32),
        "dead: hp 0, deaths, respawn tick"
    );
    assert_eq!((p1[5], p1[6], p1[7]), (1, 0, 0), "killer: kills 1, alive");

    // Kinds.
    let kinds = first_column_numbers(&table(&doc, "arena-kinds"), "arena-kinds");
    let names: Vec<&str> = kinds.values().map(|r| r[1].as_str()).collect();
    assert_eq!(names, ["player", "projectile", "round"]);

    // Events: 4 hits from 2 on 3, then a kill, then a respawn of 3.
    let evs = first_column_numbers(&table(&doc, "arena-events"), "arena-events");
    assert_eq!(evs.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    let names: Vec<&str> = evs.values().map(|r| r[1].as_str()).collect();
    assert_eq!(
        names,
        ["hit", "kill", "respawn", "round over", "round start"]
    );
    let seen: Vec<(u8, u32, u32)> = events.iter().map(|(_, e)| (e.kind, e.a, e.b)).collect();
    assert_eq!(
        seen,
        vec![
            (1, 2, 3),
            (1, 2, 3),
            (1, 2, 3),
            (1, 2, 3),
            (2, 2, 3),
            (3, 3, 0)
        ]
    );
    assert_eq!((kill.a, kill.b), (2, 3));
    assert_eq!(
        events.last().unwrap().0,
        respawn_at,
        "respawn happens at the respawn tick"
    );
}

#[test]
fn arena_pillars_in_the_doc_are_the_games() {
    let doc = doc();
    let pillars: Vec<(f32, f32, f32)> = table(&doc, "arena-pillars")
        .iter()
        .map(|r| {
            let v: Vec<f32> = r.iter().map(|c| c.parse().unwrap()).collect();
            (v[0], v[1], v[2])
        })
        .collect();
    assert_eq!(pillars.len(), 6);
    let rules = ArenaRules::new(30);
    let r = rules.player_radius;
    // A player standing still is pushed out of a pillar exactly when it overlaps one of the doc's
    // pillars: probe the whole world on a grid (thousands of ticks: no round clock to run out).
    let mut g = Arena::new(ArenaRules::new(30).with_round(0, 0), 1);
    let p = g.spawn_player();
    let mut tick = 1;
    let mut y = r + 1.0;
    while y < rules.world.y - r {
        let mut x = r + 1.0;
        while x < rules.world.x - r {
            let at = glam::Vec2::new(x, y);
            // Skip points right at a boundary, where float rounding could go either way.
            let near_edge = pillars.iter().any(|&(px, py, pr)| {
                (at.distance(glam::Vec2::new(px, py)) - (pr + r)).abs() < 0.01
            });
            if !near_edge {
                let inside = pillars
                    .iter()
                    .any(|&(px, py, pr)| at.distance(glam::Vec2::new(px, py)) < pr + r);
                g.place(p, at);
                g.step(Tick(tick), &mut Vec::new());
                tick += 1;
                let moved = g.player_state(p).unwrap().0 != at;
                assert_eq!(
                    moved, inside,
                    "at {at}: pushed {moved}, doc pillar overlap {inside}"
                );
            }
            x += 7.0;
        }
        y += 7.0;
    }
}

#[test]
fn decoder_accepts_what_the_doc_promises_and_refuses_the_rest() {
    // Trailing extra elements are ignored (forward compatibility).
    assert_eq!(
        decode_client(&[0x93, 0x09, 0x05, 0xa1, b'x']).unwrap(),
        ClientMsg::Ping { nonce: 5 }
    );
    // Any MessagePack int encoding is fine for an int field; floats may be float32 or float64.
    let wide = [
        0x96, 0xcc, 0x07, 0xce, 0, 0, 0, 42, 0xd0, 0xff, 0xd1, 0, 1, // [7, 42, -1, 1,
        0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x01, // 1.5 as float64, 1]
    ];
    assert_eq!(
        decode_client(&wide).unwrap(),
        ClientMsg::input(PlayerInput {
            seq: 42,
            dx: -1,
            dy: 1,
            aim: 1.5,
            buttons: 1,
            view_tick: 0,
        })
    );
    // Nil for an optional trailing field means absent; an int aim is a float too.
    assert_eq!(
        decode_client(&[0x96, 0x07, 0x01, 0x00, 0x00, 0x02, 0xc0]).unwrap(),
        ClientMsg::input(PlayerInput {
            seq: 1,
            aim: 2.0,
            ..Default::default()
        })
    );
    // At most MAX_EARLIER_INPUTS earlier inputs ride along; one more is a malformed frame.
    let with_earlier = |n: u32| {
        let earlier = (1..=n)
            .map(|seq| PlayerInput {
                seq,
                ..Default::default()
            })
            .collect();
        encode(&ClientMsg::Input {
            input: PlayerInput {
                seq: n + 1,
                ..Default::default()
            },
            earlier,
        })
    };
    let eight = u32::try_from(MAX_EARLIER_INPUTS).unwrap();
    assert!(matches!(
        decode_client(&with_earlier(eight)),
        Ok(ClientMsg::Input { ref earlier, .. }) if earlier.len() == MAX_EARLIER_INPUTS
    ));
    assert!(matches!(
        decode_client(&with_earlier(eight + 1)),
        Err(DecodeError::Invalid(_))
    ));
    // Hello without the token element.
    assert!(matches!(
        decode_client(&[0x93, 0x00, 0x01, 0xa1, b'a']).unwrap(),
        ClientMsg::Hello(Hello {
            reconnect_token: None,
            ..
        })
    ));
    // Unknown types, missing fields, out-of-range values, trailing bytes, non-arrays.
    assert_eq!(
        decode_client(&[0x91, 0x0d]),
        Err(DecodeError::UnknownType(13))
    );
    assert!(matches!(
        decode_client(&[0x91, 0x07]),
        Err(DecodeError::Invalid(_))
    ));
    assert!(matches!(
        decode_client(&[0x94, 0x07, 0x01, 0xcc, 0xc8, 0x00]),
        Err(DecodeError::Invalid(_))
    ));
    assert_eq!(
        decode_client(&[0x91, 0x06, 0x00]),
        Err(DecodeError::Trailing(1))
    );
    assert_eq!(
        decode_client(&[0x81, 0x00, 0x00]),
        Err(DecodeError::NotAnArray(0x81))
    );
    assert_eq!(decode_client(&[]), Err(DecodeError::Empty));
    // Join takes an id (uint) or a code (str), nothing else.
    assert!(decode_client(&[0x92, 0x03, 0xff]).is_err());
}

/// `[9, 1, [[...[]...]]]`: a Ping whose ignored third element nests `inner` arrays.
fn nested_ping(inner: usize) -> Vec<u8> {
    let mut f = vec![0x93, 0x09, 0x01];
    f.extend(std::iter::repeat_n(0x91, inner - 1));
    f.push(0x90);
    f
}

#[test]
fn depth_limit_is_as_documented() {
    // The doc says: counting the outer array, at most MAX_DEPTH - 1 arrays/maps may nest.
    let ok_levels = MAX_DEPTH - 1;
    assert_eq!(
        decode_client(&nested_ping(ok_levels - 1)),
        Ok(ClientMsg::Ping { nonce: 1 })
    );
    match decode_client(&nested_ping(ok_levels)) {
        Err(DecodeError::Invalid(text)) => assert!(text.contains("depth"), "{text}"),
        other => panic!("{} levels should be refused, got {other:?}", ok_levels + 1),
    }
}

#[test]
fn dump() {
    // Prints every block for pasting into PROTOCOL.md after an intended change.
    if std::env::var_os("PROTOCOL_DOC_DUMP").is_none() {
        return;
    }
    for ex in examples() {
        println!(
            "<!-- frame: {} -->\n```hex\n{}\n```\n",
            ex.name,
            hex_block(&ex.bytes)
        );
    }
    let (w100, w101) = walkers_tables();
    let (_, a9, ev) = arena_tables();
    for (name, t) in [
        ("mirror-walkers-100", &w100),
        ("mirror-walkers-101", &w101),
        ("mirror-arena-9", &a9),
    ] {
        println!("<!-- table: {name} -->");
        for r in t.rows() {
            let f: Vec<String> = r.fields[..usize::from(t.field_count())]
                .iter()
                .map(|v| v.to_string())
                .collect();
            println!("| {} | {} |", r.id.0, f.join(" | "));
        }
        println!();
    }
    println!("arena events at tick 9: {ev:?}");
    let b = encode_body(Some(&w100), &w101, &[]);
    println!("walkers delta body: {b:?}");
    let (a8, a9, ev) = arena_tables();
    println!("arena delta body: {:?}", encode_body(Some(&a8), &a9, &ev));
    println!("arena full body: {:?}", encode_body(None, &a9, &ev));
    println!("walkers full 100: {:?}", encode_body(None, &w100, &[]));
    println!("walkers full 101: {:?}", encode_body(None, &w101, &[]));
}
