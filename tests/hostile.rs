//! Hostile input: nothing a client sends panics the server or disturbs anyone else. Every bad
//! frame gets the error frame and/or close code PROTOCOL.md promises, and a fuzzer throwing
//! thousands of mutated frames at a live server leaves a player in the same lobby untouched.

mod common;

use common::process::ServerProcess;
use common::raw::{hello_bytes, hello_frame, raw_close, raw_frame, raw_upgrade};
use common::{assert_alive, close_of, next_error_code, within, TestServer};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tickrelay::client::{Client, World};
use tickrelay::protocol::{
    encode, ClientMsg, CreateLobby, Hello, LobbyRef, PlayerInput, ServerMsg, PROTOCOL_VERSION,
};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_frames_are_refused_with_1003() {
    let server = TestServer::start().await;
    within(10, async {
        let (mut c, _) = server.client("texter").await;
        c.socket_mut()
            .send(Message::Text("[9, 1]".into()))
            .await
            .unwrap();
        let want = (1003, "binary MessagePack frames only".to_owned());
        assert_eq!(close_of(&mut c).await, want);

        // A text frame that is not even UTF-8 is refused the same way.
        let mut s = raw_upgrade(server.addr).await;
        s.write_all(&raw_frame(0x81, &[0xff, 0xfe, 0xfd], true))
            .await
            .unwrap();
        assert_eq!(raw_close(&mut s).await, Some(want));
    })
    .await;
}

/// Frames that are not a message of this protocol, each answered with `Error` 2.
fn malformed_frames() -> Vec<(&'static str, Vec<u8>)> {
    let mut deep = vec![0x92, 0x09];
    deep.extend([0x91; 2000]);
    deep.push(0x01);
    vec![
        ("empty", vec![]),
        ("garbage", vec![0xff, 0x00, 0x13, 0x37, 0xc1]),
        ("a map, not an array", vec![0x81, 0x00, 0x09]),
        ("a bare integer", vec![0x09]),
        ("truncated hello", hello_bytes("ann")[..5].to_vec()),
        ("array of 3, one element", vec![0x93, 0x09]),
        ("trailing bytes", vec![0x92, 0x09, 0x01, 0x00]),
        ("nil type", vec![0x91, 0xc0]),
        ("type as a string", vec![0x92, 0xa1, 0x39, 0x01]),
        ("2000 nested arrays", deep),
        // Declared lengths far beyond the frame: must fail without allocating them.
        (
            "str32 of 4 GiB",
            vec![0x92, 0x08, 0xdb, 0xff, 0xff, 0xff, 0xff, 0x61, 0x62, 0x63],
        ),
        (
            "array32 of 2^32-1",
            vec![0xdd, 0xff, 0xff, 0xff, 0xff, 0x09, 0x01],
        ),
        ("array16 of 65535", vec![0xdc, 0xff, 0xff, 0x09, 0x01]),
        (
            "bin32 of 4 GiB",
            vec![0x92, 0x08, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00],
        ),
        (
            "map32 of 2^32-1",
            vec![0x92, 0x09, 0xdf, 0xff, 0xff, 0xff, 0xff, 0x00],
        ),
        // Extension types where a value belongs.
        ("fixext1", vec![0x92, 0x09, 0xd4, 0x01, 0x02]),
        ("ext8 truncated", vec![0x92, 0x09, 0xc7, 0xff, 0x01, 0x00]),
        (
            "ext32 of 4 GiB",
            vec![0x92, 0x09, 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
        ),
        (
            "timestamp ext",
            vec![0x92, 0x09, 0xd6, 0xff, 0x00, 0x00, 0x00, 0x01],
        ),
        ("never-used byte 0xc1", vec![0x92, 0x09, 0xc1]),
        ("invalid UTF-8", vec![0x92, 0x08, 0xa2, 0xff, 0xfe]),
        ("negative nonce", vec![0x92, 0x09, 0xff]),
        (
            "float nonce",
            vec![0x92, 0x09, 0xca, 0x3f, 0x80, 0x00, 0x00],
        ),
        (
            "hello with a string version",
            vec![0x93, 0x00, 0xa1, 0x31, 0xa1, 0x78],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_undecodable_frame_gets_error_2_and_the_connection_carries_on() {
    let server = TestServer::with(|c| c.limits.max_decode_errors = 1000).await;
    within(20, async {
        let (mut c, _) = server.client("fuzzy").await;
        for (i, (what, frame)) in malformed_frames().into_iter().enumerate() {
            c.send_raw(frame).await.unwrap();
            assert_eq!(next_error_code(&mut c).await, 2, "{what}");
            assert_alive(&mut c, i as u64).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nesting_is_allowed_to_seven_levels_and_refused_at_eight() {
    let server = TestServer::start().await;
    within(10, async {
        let (mut c, _) = server.client("nest").await;
        // [9, 5, [[[[[[0]]]]]]]: the ping, plus an extra element nested to depth 7 (ignored).
        let mut ok = vec![0x93, 0x09, 0x05];
        ok.extend([0x91; 6]);
        ok.push(0x00);
        c.send_raw(ok).await.unwrap();
        let pong = c.recv().await.unwrap();
        assert!(matches!(pong, ServerMsg::Pong { nonce: 5 }), "{pong:?}");
        let mut deep = vec![0x93, 0x09, 0x05];
        deep.extend([0x91; 7]);
        deep.push(0x00);
        c.send_raw(deep).await.unwrap();
        assert_eq!(next_error_code(&mut c).await, 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_message_types_get_error_14() {
    let server = TestServer::start().await;
    within(10, async {
        let (mut c, _) = server.client("future").await;
        for frame in [
            vec![0x91, 0x0d], // 13: the first after Redeem (12)
            vec![0x93, 0x7f, 0x01, 0x02],
            vec![0x91, 0xcc, 0xff],
            vec![0x91, 0xcd, 0x01, 0x2c],
        ] {
            c.send_raw(frame).await.unwrap();
            assert_eq!(next_error_code(&mut c).await, 14);
        }
        assert_alive(&mut c, 1).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_out_of_range_get_error_13_or_2_and_are_not_applied() {
    let server = TestServer::with(|c| c.limits.max_decode_errors = 100).await;
    within(20, async {
        let (mut c, _) = server.client("cheat").await;
        let mut world = World::default();
        world
            .apply(&ServerMsg::Joined(
                c.create("cheats", "arena", 2, false).await.unwrap(),
            ))
            .unwrap();
        let input = |seq, dx, dy, aim: f32| {
            encode(&ClientMsg::input(PlayerInput {
                seq,
                dx,
                dy,
                aim,
                buttons: 0,
                view_tick: 0,
            }))
        };
        let bad_input: Vec<(&str, Vec<u8>)> = vec![
            ("NaN aim", input(1, 0, 0, f32::NAN)),
            ("infinite aim", input(2, 0, 0, f32::INFINITY)),
            ("minus infinity", input(3, 0, 0, f32::NEG_INFINITY)),
            ("dx 2", input(4, 2, 0, 0.0)),
            ("dy -128", input(5, 0, -128, 0.0)),
            // A float64 NaN, as a JavaScript encoder would write it.
            (
                "float64 NaN",
                vec![
                    0x95, 0x07, 0x06, 0x00, 0x00, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0,
                ],
            ),
        ];
        for (what, frame) in bad_input {
            c.send_raw(frame).await.unwrap();
            loop {
                match c.recv().await.unwrap() {
                    ServerMsg::Error { code, .. } => {
                        assert_eq!(code, 13, "{what}");
                        break;
                    }
                    m => {
                        world.apply(&m).unwrap();
                    }
                }
            }
        }
        let out_of_type: Vec<(&str, Vec<u8>)> = vec![
            ("dx 200", vec![0x94, 0x07, 0x01, 0xcc, 0xc8, 0x00]),
            ("negative seq", vec![0x94, 0x07, 0xff, 0x00, 0x00]),
            (
                "seq 2^32",
                vec![0x94, 0x07, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0, 0x00, 0x00],
            ),
            (
                "buttons 256",
                vec![0x96, 0x07, 0x01, 0x00, 0x00, 0x00, 0xcd, 0x01, 0x00],
            ),
            (
                "aim a string",
                vec![0x95, 0x07, 0x01, 0x00, 0x00, 0xa1, 0x78],
            ),
        ];
        for (what, frame) in out_of_type {
            c.send_raw(frame).await.unwrap();
            loop {
                match c.recv().await.unwrap() {
                    ServerMsg::Error { code, .. } => {
                        assert_eq!(code, 2, "{what}");
                        break;
                    }
                    m => {
                        world.apply(&m).unwrap();
                    }
                }
            }
        }
        // None of them was applied: a few ticks later the ack is still 0.
        let t = world.tick().0 + 3;
        c.sync_to(&mut world, t).await.unwrap();
        assert_eq!(world.own_ack(), Some(0));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lobby_messages_outside_a_lobby_or_from_a_spectator_get_error_3() {
    let server = TestServer::start().await;
    within(20, async {
        let (mut c, _) = server.client("lost").await;
        let outside = [
            ClientMsg::input(PlayerInput {
                seq: 1,
                ..Default::default()
            }),
            ClientMsg::Chat { text: "hi".into() },
            ClientMsg::Leave,
            ClientMsg::RestartRound,
            ClientMsg::Resync,
        ];
        for m in &outside {
            c.send(m).await.unwrap();
            assert_eq!(next_error_code(&mut c).await, 3, "{m:?}");
        }
        // A spectator is in the lobby but has no seat to send input for.
        let (mut host, _) = server.client("host").await;
        let j = host.create("watched", "walkers", 2, false).await.unwrap();
        c.spectate(LobbyRef::Id(j.lobby)).await.unwrap();
        c.input(PlayerInput {
            seq: 1,
            dx: 1,
            ..Default::default()
        })
        .await
        .unwrap();
        let code = c
            .recv_until("error", |m| match m {
                ServerMsg::Error { code, .. } => Some(*code),
                _ => None,
            })
            .await
            .unwrap();
        assert_eq!(code, 3);
        assert_alive(&mut c, 9).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anything_before_hello_is_refused_with_4001() {
    let server = TestServer::start().await;
    within(20, async {
        let firsts: Vec<(&str, Vec<u8>, u16)> = vec![
            ("a ping", encode(&ClientMsg::Ping { nonce: 1 }), 3),
            (
                "an input",
                encode(&ClientMsg::input(PlayerInput::default())),
                3,
            ),
            (
                "a create",
                encode(&ClientMsg::CreateLobby(CreateLobby {
                    name: "x".into(),
                    game: "arena".into(),
                    max_players: 2,
                    public: true,
                    kill_goal: None,
                    round_seconds: None,
                })),
                3,
            ),
            ("garbage", vec![0xc1, 0xc1], 2),
            ("an unknown type", vec![0x91, 0x63], 14),
        ];
        for (what, frame, error) in firsts {
            let mut c = Client::connect(&server.url()).await.unwrap();
            c.send_raw(frame).await.unwrap();
            assert_eq!(next_error_code(&mut c).await, error, "{what}");
            assert_eq!(
                close_of(&mut c).await,
                (4001, "protocol violation".to_owned()),
                "{what}"
            );
        }
        // The wrong version: Error 1, then 4000.
        let mut c = Client::connect(&server.url()).await.unwrap();
        c.send(&ClientMsg::Hello(Hello {
            version: PROTOCOL_VERSION + 1,
            name: "old".into(),
            reconnect_token: None,
        }))
        .await
        .unwrap();
        assert_eq!(next_error_code(&mut c).await, 1);
        assert_eq!(
            close_of(&mut c).await,
            (4000, "protocol version mismatch".to_owned())
        );
        // A second hello is refused and otherwise ignored.
        let (mut c, _) = server.client("twice").await;
        c.send_raw(hello_bytes("twice")).await.unwrap();
        assert_eq!(next_error_code(&mut c).await, 3);
        assert_alive(&mut c, 2).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_malformed_frame_too_many_closes_with_4001() {
    let server = TestServer::with(|c| c.limits.max_decode_errors = 3).await;
    within(10, async {
        let (mut c, _) = server.client("sloppy").await;
        for _ in 0..3 {
            c.send_raw(vec![0xc1]).await.unwrap();
            assert_eq!(next_error_code(&mut c).await, 2);
        }
        c.send_raw(vec![0xc1]).await.unwrap();
        assert_eq!(next_error_code(&mut c).await, 2);
        assert_eq!(
            close_of(&mut c).await,
            (4001, "protocol violation".to_owned())
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_websocket_framing_closes_with_a_code() {
    let server = TestServer::start().await;
    within(20, async {
        let ping = encode(&ClientMsg::Ping { nonce: 1 });
        let broken: Vec<(&str, Vec<u8>)> = vec![
            ("a reserved data opcode", raw_frame(0x83, &ping, true)),
            ("a reserved control opcode", raw_frame(0x8b, &[], true)),
            ("RSV1 without an extension", raw_frame(0xc2, &ping, true)),
            ("an unmasked frame", raw_frame(0x82, &ping, false)),
            (
                "a control frame over 125 bytes",
                raw_frame(0x89, &[0; 126], true),
            ),
            ("a fragmented ping", raw_frame(0x09, &[], true)),
            (
                "a continuation with nothing to continue",
                raw_frame(0x80, &ping, true),
            ),
        ];
        for (what, frame) in broken {
            let mut s = raw_upgrade(server.addr).await;
            s.write_all(&hello_frame("raw")).await.unwrap();
            s.write_all(&frame).await.unwrap();
            assert_eq!(
                raw_close(&mut s).await,
                Some((4001, "protocol violation".to_owned())),
                "{what}"
            );
        }
        // A frame header declaring 2^63 bytes: refused at the header, nothing allocated.
        let mut s = raw_upgrade(server.addr).await;
        let mut huge = vec![0x82, 0x80 | 127];
        huge.extend((1u64 << 63).to_be_bytes());
        huge.extend([0, 0, 0, 0, 0x91]);
        s.write_all(&huge).await.unwrap();
        assert_eq!(
            raw_close(&mut s).await,
            Some((1009, "message too big".to_owned()))
        );
        // And the server is fine.
        let (status, body) = server.get("/healthz").await;
        assert_eq!((status, body.as_str()), (200, "ok\n"));
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// The fuzzer, against the real binary so its memory can be measured from outside.

/// A valid encoding of every kind of client message, with random fields.
fn valid_frame(rng: &mut fastrand::Rng, code: &str) -> Vec<u8> {
    let text = |rng: &mut fastrand::Rng| -> String {
        (0..rng.usize(..40))
            .map(|_| rng.char('\u{0}'..'\u{2fff}'))
            .collect()
    };
    let msg = match rng.u8(..12) {
        0 => ClientMsg::Hello(Hello {
            version: PROTOCOL_VERSION,
            name: text(rng),
            reconnect_token: rng.bool().then(|| text(rng)),
        }),
        1 => ClientMsg::ListLobbies {
            game: rng.bool().then(|| "arena".into()),
        },
        2 => ClientMsg::CreateLobby(CreateLobby {
            name: text(rng),
            game: if rng.bool() { "arena" } else { "walkers" }.into(),
            max_players: rng.u16(..),
            public: rng.bool(),
            kill_goal: None,
            round_seconds: None,
        }),
        3 => ClientMsg::Join(LobbyRef::Code(code.into())),
        4 => ClientMsg::Spectate(LobbyRef::Id(tickrelay::protocol::LobbyId(rng.u32(..4)))),
        5 => ClientMsg::QuickJoin {
            game: "walkers".into(),
        },
        6 => ClientMsg::Leave,
        7 | 8 => ClientMsg::input(PlayerInput {
            seq: rng.u32(..),
            dx: rng.i8(..),
            dy: rng.i8(-1..=1),
            aim: f32::from_bits(rng.u32(..)),
            buttons: rng.u8(..),
            view_tick: 0,
        }),
        9 => ClientMsg::Chat { text: text(rng) },
        10 => ClientMsg::Ping { nonce: rng.u64(..) },
        _ => {
            if rng.bool() {
                ClientMsg::RestartRound
            } else {
                ClientMsg::Resync
            }
        }
    };
    encode(&msg)
}

/// Bytes that make decoders work hard: huge lengths, extension types, the unused byte.
const NASTY: [u8; 14] = [
    0xdb, 0xdd, 0xdc, 0xdf, 0xc6, 0xc9, 0xc7, 0xd4, 0xc1, 0xca, 0xcb, 0xff, 0x00, 0x91,
];

/// A mutated valid frame, or garbage.
fn fuzz_frame(rng: &mut fastrand::Rng, code: &str) -> Vec<u8> {
    let mut f = valid_frame(rng, code);
    for _ in 0..rng.usize(1..4) {
        match rng.u8(..8) {
            // Flip a byte.
            0 if !f.is_empty() => {
                let i = rng.usize(..f.len());
                f[i] ^= 1 << rng.u8(..8);
            }
            // A nasty byte somewhere.
            1 if !f.is_empty() => {
                let i = rng.usize(..f.len());
                f[i] = NASTY[rng.usize(..NASTY.len())];
            }
            // Truncate.
            2 if !f.is_empty() => f.truncate(rng.usize(..f.len())),
            // Extend with random bytes.
            3 => f.extend((0..rng.usize(..16)).map(|_| rng.u8(..))),
            // Splice in part of another message.
            4 => {
                let other = valid_frame(rng, code);
                let at = rng.usize(..=f.len());
                let from = rng.usize(..=other.len());
                f.splice(at..at, other[from..].iter().copied());
            }
            // Wrap it in arrays.
            5 => {
                let n = rng.usize(1..20);
                let mut w = vec![0x91; n];
                w.extend(&f);
                f = w;
            }
            // Pure garbage.
            6 => f = (0..rng.usize(..64)).map(|_| rng.u8(..)).collect(),
            _ => {}
        }
    }
    f
}

/// One hostile connection after another until `frames` frames are out; returns reconnects.
async fn hostile(url: String, code: String, seed: u64, frames: usize) -> usize {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut sent = 0;
    let mut connections = 0;
    while sent < frames {
        let Ok((ws, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        connections += 1;
        let (mut tx, mut rx) = ws.split();
        // Read everything (a hostile that does not read is a slow client, tested elsewhere).
        let reader = tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
        if rng.u8(..10) > 0 {
            let _ = tx.send(Message::Binary(hello_bytes("fuzz").into())).await;
            if rng.u8(..10) > 1 {
                let join = encode(&ClientMsg::Join(LobbyRef::Code(code.clone())));
                let _ = tx.send(Message::Binary(join.into())).await;
            }
        }
        while sent < frames {
            sent += 1;
            let msg = match rng.u16(..1000) {
                0..=4 => Message::Text("hostile".into()),
                5..=7 => Message::Binary(vec![0x91; 5000].into()),
                8..=20 => Message::Ping(vec![1; rng.usize(..100)].into()),
                _ => Message::Binary(fuzz_frame(&mut rng, &code).into()),
            };
            if tx.send(msg).await.is_err() || reader.is_finished() {
                break;
            }
            if sent % 64 == 0 {
                // Pace the fuzzer a little so the test measures robustness, not a CPU race.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        let _ = tx.close().await;
        reader.abort();
    }
    connections
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_hostile_frames_leave_a_player_and_the_memory_untouched() {
    let server = ServerProcess::start(&[
        ("TICKRELAY__LIMITS__MESSAGES_PER_SECOND", "3000"),
        ("TICKRELAY__LIMITS__MESSAGE_BURST", "300"),
        ("TICKRELAY__LIMITS__FLOOD_GRACE", "1s"),
        ("TICKRELAY__LIMITS__MAX_DECODE_ERRORS", "200"),
        ("TICKRELAY__LIMITS__HANDSHAKE_TIMEOUT", "1s"),
        ("TICKRELAY__LIMITS__IDLE_TIMEOUT", "2s"),
        ("TICKRELAY__LOBBY__RECONNECT_GRACE", "300ms"),
        ("TICKRELAY__LOBBY__EMPTY_CLOSE_AFTER", "300ms"),
        ("TICKRELAY__LOBBY__MAX_PLAYERS", "64"),
        ("TICKRELAY__LOBBY__DEFAULT_MAX_PLAYERS", "16"),
    ]);
    within(120, async {
        let mut player = Client::connect(&server.url()).await.unwrap();
        player.hello("player", None).await.unwrap();
        let joined = player.create("target", "walkers", 16, false).await.unwrap();
        let code = joined.code.clone();
        let mut world = World::default();
        world.apply(&ServerMsg::Joined(joined)).unwrap();

        // The player plays: one input per snapshot, and every snapshot must be the next tick,
        // a delta from the one before.
        let (stop_tx, mut stop) = tokio::sync::watch::channel(false);
        let play = tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(7);
            let mut last = world.tick().0;
            let mut seq = 0;
            let mut snapshots = 0u32;
            // What the player read lately, for the failure message.
            let mut recent: std::collections::VecDeque<String> = Default::default();
            let t0 = std::time::Instant::now();
            loop {
                let m = tokio::select! {
                    _ = stop.changed() => break,
                    m = player.recv() => m.expect("the player stays connected"),
                };
                if let ServerMsg::Error { code, message } = &m {
                    panic!("the player got error {code}: {message}");
                }
                let kind = match &m {
                    ServerMsg::Snapshot(b) => format!("S{}", b.tick.0),
                    ServerMsg::LobbyEvent { kind, .. } => format!("E{kind:?}"),
                    ServerMsg::Chat { .. } => "C".into(),
                    ServerMsg::Roster { .. } => "R".into(),
                    other => format!("{other:?}").chars().take(10).collect(),
                };
                if recent.len() == 40 {
                    recent.pop_front();
                }
                recent.push_back(format!("{kind}@{}ms", t0.elapsed().as_millis()));
                if let ServerMsg::Snapshot(b) = &m {
                    assert_eq!(
                        b.base_delta, 1,
                        "a skipped snapshot at tick {}; lately: {recent:?}",
                        b.tick.0
                    );
                    assert_eq!(b.tick.0, last + 1, "a missed tick; lately: {recent:?}");
                    last = b.tick.0;
                    snapshots += 1;
                    seq += 1;
                    player
                        .input(PlayerInput {
                            seq,
                            dx: rng.i8(-1..=1),
                            dy: rng.i8(-1..=1),
                            ..Default::default()
                        })
                        .await
                        .unwrap();
                }
                world.apply(&m).expect("the mirror applies");
            }
            (player, world, snapshots)
        });

        // Wait until the server settles, then take its baseline.
        while server.metric("tickrelay_players").await < 1.0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let baseline = server.rss_kib();

        let frames_each = 5000;
        let hostiles: Vec<_> = (0..4)
            .map(|i| tokio::spawn(hostile(server.url(), code.clone(), 1000 + i, frames_each)))
            .collect();
        let fuzz = async {
            let mut reconnects = 0;
            for h in hostiles {
                reconnects += h.await.unwrap();
            }
            // Every hostile connection ends and every lobby it opened closes.
            loop {
                let conns = server.metric("tickrelay_connections").await;
                let lobbies = server.metric("tickrelay_lobbies").await;
                let players = server.metric("tickrelay_players").await;
                if conns == 1.0 && lobbies == 1.0 && players == 1.0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            reconnects
        };
        tokio::pin!(play);
        // The player must last the whole fuzz: if it fails, fail now.
        let reconnects = tokio::select! {
            r = &mut play => panic!("the player stopped under fire: {:?}", r.err()),
            n = fuzz => n,
        };
        assert!(reconnects > 4, "the fuzzer never got a connection closed");
        let after = server.rss_kib();
        assert!(
            after <= baseline + 20 * 1024,
            "memory grew from {baseline} KiB to {after} KiB"
        );

        stop_tx.send(true).unwrap();
        let (mut player, world, snapshots) = (&mut play).await.expect("the player saw every tick");
        assert!(
            snapshots >= 10,
            "only {snapshots} snapshots while under fire"
        );
        // The player is still in its lobby, still served.
        player.send(&ClientMsg::Ping { nonce: 42 }).await.unwrap();
        let mut w = world;
        loop {
            let m = player.recv().await.unwrap();
            if let ServerMsg::Pong { nonce: 42 } = m {
                break;
            }
            w.apply(&m).unwrap();
        }
        let (status, body) = common::http_get(server.addr, "/healthz", &[]).await;
        assert_eq!((status, body.as_str()), (200, "ok\n"));
        assert_eq!(server.metric("tickrelay_lobby_panics_total").await, 0.0);
        let stderr = server.stderr();
        assert!(
            !stderr.contains("panicked"),
            "the server panicked:\n{stderr}"
        );
    })
    .await;
}
