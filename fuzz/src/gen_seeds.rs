//! Writes the seed corpus: the encoding of every client message (each variant, with short and
//! long forms, empty and maximal fields), every server message (snapshots from the real delta
//! encoder among them) and a few structured inputs, one file each, into `<dir>/<target>/`.
//!
//! `gen_seeds DIR` (scripts/fuzz.sh passes `fuzz/corpus`). Files are named after their contents'
//! purpose, so rerunning overwrites rather than piles up.

use std::fs;
use std::path::Path;
use tickrelay::protocol::*;
use tickrelay::snapshot::{encode_body, encode_snapshot_frame, EntityTable, MAX_FIELDS};

fn client_msgs() -> Vec<(&'static str, ClientMsg)> {
    let long_name = "n".repeat(MAX_NAME_LEN);
    vec![
        (
            "hello",
            ClientMsg::Hello(Hello {
                version: PROTOCOL_VERSION,
                name: "ada".into(),
                reconnect_token: None,
            }),
        ),
        (
            "hello_token",
            ClientMsg::Hello(Hello {
                version: PROTOCOL_VERSION,
                name: long_name.clone(),
                reconnect_token: Some("0123456789abcdef0123456789abcdef".into()),
            }),
        ),
        ("list_lobbies", ClientMsg::ListLobbies { game: None }),
        (
            "list_lobbies_game",
            ClientMsg::ListLobbies {
                game: Some("walkers".into()),
            },
        ),
        (
            "create_lobby",
            ClientMsg::CreateLobby(CreateLobby {
                name: "x".repeat(MAX_LOBBY_NAME_LEN),
                game: "arena".into(),
                max_players: 16,
                public: true,
                kill_goal: None,
                round_seconds: None,
            }),
        ),
        ("join_id", ClientMsg::Join(LobbyRef::Id(LobbyId(u32::MAX)))),
        (
            "join_code",
            ClientMsg::Join(LobbyRef::Code("ABC234".into())),
        ),
        ("spectate_id", ClientMsg::Spectate(LobbyRef::Id(LobbyId(7)))),
        (
            "spectate_code",
            ClientMsg::Spectate(LobbyRef::Code("XYZ789".into())),
        ),
        (
            "quick_join",
            ClientMsg::QuickJoin {
                game: "walkers".into(),
            },
        ),
        ("leave", ClientMsg::Leave),
        (
            "input_short",
            ClientMsg::input(PlayerInput {
                seq: 1,
                dx: -1,
                dy: 1,
                ..Default::default()
            }),
        ),
        (
            "input_long",
            ClientMsg::input(PlayerInput {
                seq: u32::MAX,
                dx: 1,
                dy: 0,
                aim: -1.5,
                buttons: BUTTON_FIRE,
                view_tick: 0,
            }),
        ),
        (
            "chat",
            ClientMsg::Chat {
                text: "héllo ☃".repeat(8),
            },
        ),
        ("ping", ClientMsg::Ping { nonce: u64::MAX }),
        ("restart_round", ClientMsg::RestartRound),
        ("resync", ClientMsg::Resync),
        (
            "redeem",
            ClientMsg::Redeem {
                ticket: vec![0x96, 1, 7, 0xa3, b'a', b'n', b'n'],
            },
        ),
    ]
}

fn table(tick: u32, f: u8, rows: &[(u32, [i32; 3])]) -> EntityTable {
    let mut t = EntityTable::new(f);
    t.clear(Tick(tick));
    for (id, v) in rows {
        let mut fields = [0; MAX_FIELDS];
        fields[..3].copy_from_slice(v);
        t.push(EntityId(*id), fields);
    }
    t.finish();
    t
}

fn server_frames() -> Vec<(&'static str, Vec<u8>)> {
    let a = table(7, 3, &[(1, [100, -200, 5]), (9, [i32::MAX, i32::MIN, -1])]);
    let b = table(
        9,
        3,
        &[
            (1, [90, -190, 6]),
            (9, [i32::MIN, i32::MAX, 0]),
            (10, [1, 2, 3]),
        ],
    );
    let events = [GameEvent {
        kind: 1,
        a: 2,
        b: 3,
    }];
    let roster = vec![
        RosterEntry {
            id: EntityId(1),
            name: "ada".into(),
        },
        RosterEntry {
            id: EntityId(9),
            name: "bob".into(),
        },
    ];
    let msgs = vec![
        (
            "welcome",
            ServerMsg::Welcome {
                version: PROTOCOL_VERSION,
                session: SessionId(42),
                reconnect_token: "0123456789abcdef".into(),
                tick_rate: 30,
                snapshot_rate: 30,
                server_id: "fedcba9876543210".into(),
                limits: ClientLimits {
                    max_message_bytes: 4096,
                    messages_per_second: 120,
                    message_burst: 60,
                    chat_burst: 5,
                    chat_refill_ms: 1000,
                    reconnect_grace_ms: 30_000,
                    slow_client_timeout_ms: 5000,
                    idle_timeout_ms: 30_000,
                    max_decode_errors: 16,
                },
            },
        ),
        (
            "lobby_list",
            ServerMsg::LobbyList(vec![LobbySummary {
                id: LobbyId(1),
                code: "ABC234".into(),
                name: "room".into(),
                game: "walkers".into(),
                players: 2,
                max_players: 16,
                url: Some("ws://127.0.0.1:8082/ws".into()),
            }]),
        ),
        (
            "joined",
            ServerMsg::Joined(Box::new(JoinedInfo {
                lobby: LobbyId(1),
                code: "ABC234".into(),
                name: "room".into(),
                game: "walkers".into(),
                you: Some(EntityId(1)),
                host: Some(EntityId(1)),
                tick_rate: 30,
                snapshot_rate: 30,
                max_players: 16,
                field_count: 3,
                roster: roster.clone(),
                snapshot: encode_body(None, &a, &events),
            })),
        ),
        (
            "snapshot_delta",
            ServerMsg::Snapshot(encode_body(Some(&a), &b, &events)),
        ),
        (
            "snapshot_full",
            ServerMsg::Snapshot(encode_body(None, &b, &[])),
        ),
        (
            "lobby_event",
            ServerMsg::LobbyEvent {
                kind: LobbyEventKind::HostChanged,
                player: EntityId(9),
                name: "bob".into(),
            },
        ),
        (
            "chat",
            ServerMsg::Chat {
                from: Some(EntityId(1)),
                name: "ada".into(),
                text: "hi".into(),
                role: ChatRole::Player,
            },
        ),
        (
            "chat_system",
            ServerMsg::Chat {
                from: None,
                name: String::new(),
                text: "x".into(),
                role: ChatRole::Server,
            },
        ),
        ("pong", ServerMsg::Pong { nonce: 1 }),
        (
            "error",
            ServerMsg::error(ErrorCode::BadInput, "aim must be a finite number"),
        ),
        (
            "left",
            ServerMsg::Left {
                lobby: LobbyId(1),
                reason: "kicked".into(),
            },
        ),
        ("roster", ServerMsg::Roster { host: None, roster }),
        (
            "redirect",
            ServerMsg::Redirect {
                url: "ws://127.0.0.1:8082/ws".into(),
                then: tickrelay::protocol::RedirectThen::Redeem,
                lobby: LobbyId(7),
                ticket: vec![1, 2, 3],
            },
        ),
    ];
    let mut out: Vec<(&'static str, Vec<u8>)> =
        msgs.into_iter().map(|(n, m)| (n, encode(&m))).collect();
    // The hand-written hot-path encoder, byte for byte what the server sends.
    out.push((
        "snapshot_frame",
        encode_snapshot_frame(Some(&a), &b, &events),
    ));
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::write(dir.join(format!("seed_{name}")), bytes)
        .unwrap_or_else(|e| panic!("writing {}: {e}", dir.display()));
}

// Built by `cargo fuzz build` with the targets' coverage instrumentation, whose callbacks live in
// libFuzzer: an empty target links libFuzzer in, while `main` below stays this program's own (the
// linker then never pulls in libFuzzer's `main`).
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});

fn main() {
    let root = std::env::args_os()
        .nth(1)
        .expect("usage: gen_seeds CORPUS_DIR (writes CORPUS_DIR/<target>/seed_*)");
    let root = Path::new(&root);
    let mk = |target: &str| {
        let d = root.join(target);
        fs::create_dir_all(&d).unwrap_or_else(|e| panic!("creating {}: {e}", d.display()));
        d
    };

    let client = mk("decode_client");
    let msgs = client_msgs();
    for (name, msg) in &msgs {
        let bytes = encode(msg);
        // The seeds must be valid, or they teach the fuzzer nothing.
        assert_eq!(decode_client(&bytes).as_ref(), Ok(msg), "seed {name}");
        write(&client, name, &bytes);
    }

    let server = mk("decode_server");
    let frames = server_frames();
    for (name, bytes) in &frames {
        assert!(decode_server(bytes).is_ok(), "seed {name}");
        write(&server, name, bytes);
    }

    // snapshot_apply takes structured input (arbitrary's byte layout); a few byte patterns give
    // it a start: a mirror of 3 fields, ticks that move by one, short entity lists.
    let apply = mk("snapshot_apply");
    write(&apply, "zeros", &[0u8; 64]);
    write(&apply, "ramp", &(0u8..=255).collect::<Vec<_>>());
    write(&apply, "frame", &frames[3].1);

    println!(
        "gen_seeds: {} client, {} server, 3 snapshot_apply seeds in {}",
        msgs.len(),
        frames.len(),
        root.display()
    );
}
