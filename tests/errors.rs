//! Bad clients through the real server: every bad frame gets a clear `Error` (or a close code with
//! its reason), and the other players in the lobby miss no tick while it happens.

mod common;

use common::{assert_alive, await_error, await_error_code, close_of, within, TestServer};
use futures_util::SinkExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use tickrelay::client::{Client, World};
use tickrelay::protocol::{
    encode, ClientMsg, CreateLobby, ErrorCode, Hello, JoinedInfo, LobbyRef, PlayerInput, ServerMsg,
    PROTOCOL_VERSION,
};
use tokio_tungstenite::tungstenite::Message;

fn hello(version: u16) -> ClientMsg {
    ClientMsg::Hello(Hello {
        version,
        name: "old".into(),
        reconnect_token: None,
    })
}

/// `[7, seq, 0, 0, aim]` with `aim` written by hand (rmp would not let us pick the bytes).
fn input_with_aim(seq: u8, aim: &[u8]) -> Vec<u8> {
    let mut b = vec![0x95, 0x07, seq, 0x00, 0x00];
    b.extend_from_slice(aim);
    b
}

/// A client in a lobby that applies everything it reads to its mirror, so the mirror stays whole
/// however the reads are interleaved with the test's requests.
struct Seated {
    c: Client,
    w: World,
}

impl Seated {
    /// The next message, applied to the mirror unless it is an `Error`.
    async fn next(&mut self) -> ServerMsg {
        let m = self.c.recv().await.expect("still connected");
        if !matches!(m, ServerMsg::Error { .. }) {
            self.w.apply(&m).expect("applies to the mirror");
        }
        m
    }

    /// Reads until the next `Error` frame.
    async fn error(&mut self) -> (u16, String) {
        loop {
            if let ServerMsg::Error { code, message } = self.next().await {
                return (code, message);
            }
        }
    }

    /// Reads until the next snapshot, which must come before any `Error`; returns its tick.
    async fn tick(&mut self) -> u32 {
        loop {
            match self.next().await {
                ServerMsg::Snapshot(b) => return b.tick.0,
                ServerMsg::Error { code, message } => panic!("Error {code}: {message}"),
                _ => {}
            }
        }
    }

    /// Reads until the pong for `nonce`, which must come before any `Error`.
    async fn pong(&mut self, nonce: u64) {
        loop {
            match self.next().await {
                ServerMsg::Pong { nonce: n } if n == nonce => return,
                ServerMsg::Error { code, message } => panic!("Error {code}: {message}"),
                _ => {}
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_protocol_version_gets_bad_version_then_close_4000() {
    let server = TestServer::start().await;
    within(10, async {
        for version in [0, PROTOCOL_VERSION + 1, u16::MAX] {
            let mut c = Client::connect(&server.url()).await.unwrap();
            c.send(&hello(version)).await.unwrap();
            let (code, message) = await_error(&mut c).await;
            assert_eq!(code, ErrorCode::BadVersion.as_u16(), "{message}");
            assert!(
                message.contains(&PROTOCOL_VERSION.to_string())
                    && message.contains(&version.to_string()),
                "the message names both versions: {message}"
            );
            assert_eq!(
                close_of(&mut c).await,
                (4000, "protocol version mismatch".to_owned())
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anything_but_hello_first_is_not_allowed_and_closes_4001() {
    let server = TestServer::start().await;
    within(10, async {
        // A message other than Hello: Error 3 naming what to send, then 4001.
        let mut c = Client::connect(&server.url()).await.unwrap();
        c.send(&ClientMsg::Ping { nonce: 1 }).await.unwrap();
        let (code, message) = await_error(&mut c).await;
        assert_eq!(code, ErrorCode::NotAllowed.as_u16(), "{message}");
        assert!(message.to_lowercase().contains("hello"), "{message}");
        assert_eq!(
            close_of(&mut c).await,
            (4001, "protocol violation".to_owned())
        );
        // A frame that does not decode is no more a Hello: Error 2, then 4001.
        let mut c = Client::connect(&server.url()).await.unwrap();
        c.send_raw(vec![0xc1]).await.unwrap();
        let (code, message) = await_error(&mut c).await;
        assert_eq!(code, ErrorCode::Malformed.as_u16(), "{message}");
        assert_eq!(
            close_of(&mut c).await,
            (4001, "protocol violation".to_owned())
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_malformed_frames_close_with_4001() {
    let server = TestServer::with(|c| c.limits.max_decode_errors = 3).await;
    within(10, async {
        let (mut c, _) = server.client("noisy").await;
        for i in 0..4u8 {
            c.send_raw(vec![0xc1, i]).await.unwrap();
            let (code, message) = await_error(&mut c).await;
            assert_eq!(code, ErrorCode::Malformed.as_u16(), "{message}");
        }
        assert_eq!(
            close_of(&mut c).await,
            (4001, "protocol violation".to_owned())
        );
        assert_eq!(server.metric("tickrelay_decode_errors_total").await, 4.0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_do_not_fit_the_state_get_their_error_codes() {
    let server = TestServer::start().await;
    within(10, async {
        let (mut ann, _) = server.client("ann").await;
        let (mut bob, _) = server.client("bob").await;
        // Outside a lobby.
        for (msg, want) in [
            (ClientMsg::Chat { text: "hi".into() }, ErrorCode::NotAllowed),
            (ClientMsg::Leave, ErrorCode::NotAllowed),
            (ClientMsg::RestartRound, ErrorCode::NotAllowed),
            (
                ClientMsg::ListLobbies {
                    game: Some("chess".into()),
                },
                ErrorCode::BadRequest,
            ),
            (
                ClientMsg::CreateLobby(CreateLobby {
                    name: "x".into(),
                    game: "chess".into(),
                    max_players: 4,
                    public: true,
                    kill_goal: None,
                    round_seconds: None,
                }),
                ErrorCode::BadRequest,
            ),
            (
                ClientMsg::CreateLobby(CreateLobby {
                    name: "x".repeat(100),
                    game: "arena".into(),
                    max_players: 4,
                    public: true,
                    kill_goal: None,
                    round_seconds: None,
                }),
                ErrorCode::BadRequest,
            ),
            (
                ClientMsg::CreateLobby(CreateLobby {
                    name: "x".into(),
                    game: "arena".into(),
                    max_players: u16::MAX,
                    public: true,
                    kill_goal: None,
                    round_seconds: None,
                }),
                ErrorCode::BadRequest,
            ),
            (hello(PROTOCOL_VERSION), ErrorCode::NotAllowed),
        ] {
            ann.send(&msg).await.unwrap();
            let (code, message) = await_error(&mut ann).await;
            assert_eq!(code, want.as_u16(), "{} got: {message}", msg.kind());
            assert!(!message.is_empty());
        }
        // Inside one.
        let ja = ann.create("room", "arena", 4, false).await.unwrap();
        bob.join(LobbyRef::Code(ja.code.clone())).await.unwrap();
        for (from_ann, msg, want) in [
            (
                true,
                ClientMsg::Join(LobbyRef::Id(ja.lobby)),
                ErrorCode::AlreadyInLobby,
            ),
            (
                true,
                ClientMsg::QuickJoin {
                    game: "arena".into(),
                },
                ErrorCode::AlreadyInLobby,
            ),
            (false, ClientMsg::RestartRound, ErrorCode::NotHost),
            (
                false,
                ClientMsg::Chat {
                    text: " \u{7} ".into(),
                },
                ErrorCode::BadRequest,
            ),
            (
                false,
                ClientMsg::Chat {
                    text: "x".repeat(201),
                },
                ErrorCode::BadRequest,
            ),
        ] {
            let who = if from_ann { &mut ann } else { &mut bob };
            who.send(&msg).await.unwrap();
            let (code, message) = await_error(who).await;
            assert_eq!(code, want.as_u16(), "{} got: {message}", msg.kind());
            assert!(!message.is_empty());
        }
        assert_alive(&mut ann, 1).await;
        assert_alive(&mut bob, 2).await;
    })
    .await;
}

/// What the well-behaved client saw: every snapshot's (tick, base_delta), and its mirror.
struct Watched {
    ticks: Vec<(u32, u32)>,
    world: World,
}

/// Reads the good client's frames until it has applied a snapshot at or past `until` (which the
/// test raises once the misbehaving is over), keeping every snapshot's tick and base.
async fn watch(mut c: Client, joined: Box<JoinedInfo>, until: Arc<AtomicU32>) -> Watched {
    let mut ticks = vec![(joined.snapshot.tick.0, joined.snapshot.base_delta)];
    let mut world = World::default();
    world.apply(&ServerMsg::Joined(joined)).unwrap();
    loop {
        let m = c.recv().await.expect("the good client stays connected");
        if let ServerMsg::Error { code, message } = &m {
            panic!("the good client got Error {code}: {message}");
        }
        world.apply(&m).expect("every frame applies to the mirror");
        if let ServerMsg::Snapshot(b) = &m {
            ticks.push((b.tick.0, b.base_delta));
            if b.tick.0 >= until.load(Ordering::Relaxed) {
                return Watched { ticks, world };
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_get_clear_errors_and_the_rest_of_the_lobby_misses_no_tick() {
    let server = TestServer::with(|c| {
        // The good client reads in its own task; a deep queue keeps a busy test machine's
        // scheduling from being what skips a snapshot. What is under test is the bad client.
        c.limits.outbound_queue = 256;
        // Room for every kind of bad frame below on one connection (4001 is tested on its own).
        c.limits.max_decode_errors = 64;
    })
    .await;
    within(30, async {
        let (mut good, _) = server.client("good").await;
        let joined = good.create("steady", "walkers", 8, false).await.unwrap();
        let lobby_code = joined.code.clone();
        let until = Arc::new(AtomicU32::new(u32::MAX));
        let watcher = tokio::spawn(watch(good, joined, until.clone()));
        let decode_before = server.metric("tickrelay_decode_errors_total").await;

        let (mut bad, _) = server.client("bad").await;
        // Outside a lobby an input is not allowed.
        bad.input(PlayerInput {
            seq: 1,
            dx: 1,
            ..Default::default()
        })
        .await
        .unwrap();
        let (c, message) = await_error(&mut bad).await;
        assert_eq!(c, ErrorCode::NotAllowed.as_u16(), "{message}");
        let jb = bad.join(LobbyRef::Code(lobby_code.clone())).await.unwrap();
        let mut w = World::default();
        w.apply(&ServerMsg::Joined(jb)).unwrap();
        let mut bad = Seated { c: bad, w };
        let start = bad.tick().await;

        // Frames that are not messages of this protocol, sent from inside the lobby.
        let chat = encode(&ClientMsg::Chat {
            text: "hello there".into(),
        });
        // Nesting is only followed where a value is skipped: an extra trailing element of a ping.
        let mut deep = vec![0x93, 0x09, 0x01];
        deep.extend([0x91; 1000]);
        deep.push(0xc0);
        let mut eight = vec![0x93, 0x09, 0x01];
        eight.extend([0x91; 6]);
        eight.push(0x90);
        let malformed: Vec<(&str, Vec<u8>, ErrorCode, &str)> = vec![
            (
                "garbage bytes",
                vec![0xc1, 0xff, 0x00, 0x13, 0x37],
                ErrorCode::Malformed,
                "0xc1",
            ),
            (
                "garbage in an array",
                vec![0x93, 0xc1, 0xc1, 0xc1],
                ErrorCode::Malformed,
                "",
            ),
            ("an empty frame", vec![], ErrorCode::Malformed, "empty"),
            (
                "truncated msgpack",
                chat[..chat.len() - 3].to_vec(),
                ErrorCode::Malformed,
                "",
            ),
            (
                "a string, not an array",
                b"\xa5hello".to_vec(),
                ErrorCode::Malformed,
                "array",
            ),
            (
                "a map, not an array",
                vec![0x81, 0x00, 0x07],
                ErrorCode::Malformed,
                "array",
            ),
            (
                "unknown type 200",
                vec![0x91, 0xcc, 0xc8],
                ErrorCode::UnknownMessage,
                "200",
            ),
            (
                "unknown type 13 (the first after Redeem)",
                vec![0x91, 0x0d],
                ErrorCode::UnknownMessage,
                "13",
            ),
            (
                "dx 200 does not fit i8",
                vec![0x94, 0x07, 0x01, 0xcc, 0xc8, 0x00],
                ErrorCode::Malformed,
                "",
            ),
            (
                "input without dx, dy",
                vec![0x92, 0x07, 0x01],
                ErrorCode::Malformed,
                "",
            ),
            (
                "chat text that is an int",
                vec![0x92, 0x08, 0x05],
                ErrorCode::Malformed,
                "",
            ),
            (
                "a ping with trailing bytes",
                vec![0x92, 0x09, 0x01, 0xc0],
                ErrorCode::Malformed,
                "trailing",
            ),
            (
                "arrays nested 1000 deep",
                deep,
                ErrorCode::Malformed,
                "depth",
            ),
            ("arrays nested 8 deep", eight, ErrorCode::Malformed, "depth"),
            (
                "an array declaring 4 billion elements",
                vec![0xdd, 0xff, 0xff, 0xff, 0xff, 0x09, 0x01],
                ErrorCode::Malformed,
                "",
            ),
            (
                "a trailing bin declaring 64 KiB",
                vec![0x93, 0x09, 0x01, 0xc5, 0xff, 0xff],
                ErrorCode::Malformed,
                "",
            ),
            (
                "a chat declaring a 4 GiB string",
                vec![0x92, 0x08, 0xdb, 0xff, 0xff, 0xff, 0xff, b'h', b'i'],
                ErrorCode::Malformed,
                "",
            ),
        ];
        // Within the limit, so this connection is not closed for them.
        assert!(malformed.len() as u32 <= server.config.limits.max_decode_errors);
        // One a tick, so the misbehaving spans many of the good client's ticks.
        for (what, bytes, want, mentions) in &malformed {
            bad.c.send_raw(bytes.clone()).await.unwrap();
            let (code, message) = bad.error().await;
            assert_eq!(code, want.as_u16(), "{what}: {message}");
            assert!(!message.is_empty(), "{what}");
            assert!(message.contains(mentions), "{what}: {message}");
            bad.tick().await;
        }
        // Messages that decode but carry values out of range: Error 13, and not applied.
        bad.c
            .input(PlayerInput {
                seq: 100,
                dx: 5,
                ..Default::default()
            })
            .await
            .unwrap();
        let nan = input_with_aim(101, &[0xca, 0x7f, 0xc0, 0x00, 0x00]);
        let inf = input_with_aim(102, &[0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0]);
        bad.c.send_raw(nan).await.unwrap();
        bad.c.send_raw(inf).await.unwrap();
        for what in ["dx = 5", "NaN aim", "infinite aim"] {
            let (code, message) = bad.error().await;
            assert_eq!(code, ErrorCode::BadInput.as_u16(), "{what}: {message}");
        }
        // A second Hello, even with another version, is refused without closing.
        bad.c.send(&hello(PROTOCOL_VERSION + 1)).await.unwrap();
        let (code, message) = bad.error().await;
        assert_eq!(code, ErrorCode::NotAllowed.as_u16(), "{message}");
        bad.c.send(&ClientMsg::Ping { nonce: 42 }).await.unwrap();
        bad.pong(42).await;
        // Extra trailing elements are ignored, even nested 7 levels deep (counting the message).
        let mut seven = vec![0x93, 0x09, 0x07];
        seven.extend([0x91; 5]);
        seven.push(0x90);
        bad.c.send_raw(seven).await.unwrap();
        bad.pong(7).await;
        // None of the refused inputs was applied: had seq 100 been taken, seq 1 would be stale.
        bad.c
            .input(PlayerInput {
                seq: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        while bad.w.own_ack() == Some(0) {
            bad.tick().await;
        }
        assert_eq!(bad.w.own_ack(), Some(1));
        server.assert_mirror(&bad.w).await;
        let decoded_badly = server.metric("tickrelay_decode_errors_total").await - decode_before;
        assert_eq!(decoded_badly, malformed.len() as f64);

        // Misbehaviour that closes the connection, from players seated in the same lobby.
        let (mut texty, _) = server.client("texty").await;
        texty
            .join(LobbyRef::Code(lobby_code.clone()))
            .await
            .unwrap();
        texty
            .socket_mut()
            .send(Message::Text("{\"type\":\"hello\"}".into()))
            .await
            .unwrap();
        assert_eq!(
            close_of(&mut texty).await,
            (1003, "binary MessagePack frames only".to_owned())
        );
        let (mut big, _) = server.client("big").await;
        big.join(LobbyRef::Code(lobby_code.clone())).await.unwrap();
        let too_big = server.config.limits.max_message_bytes + 1;
        big.send_raw(vec![0xc0; too_big]).await.unwrap();
        assert_eq!(
            close_of(&mut big).await,
            (1009, "message too big".to_owned())
        );
        // And a client speaking another version, while all this goes on.
        let mut old = Client::connect(&server.url()).await.unwrap();
        old.send(&hello(PROTOCOL_VERSION + 1)).await.unwrap();
        assert_eq!(
            await_error_code(&mut old).await,
            ErrorCode::BadVersion.as_u16()
        );
        assert_eq!(
            close_of(&mut old).await,
            (4000, "protocol version mismatch".to_owned())
        );

        // The lobby's tick now; the good client must have had every one up to one past it.
        let end = bad.tick().await;
        assert!(end > start + malformed.len() as u32, "{start}..{end}");
        until.store(end + 1, Ordering::Relaxed);
        let watched = watcher.await.expect("watcher");
        let ticks = &watched.ticks;
        assert!(
            ticks[0].0 < end && ticks.last().unwrap().0 > end,
            "{ticks:?}"
        );
        for pair in ticks.windows(2) {
            let ((prev, _), (tick, base)) = (pair[0], pair[1]);
            assert!(
                tick == prev + 1 && base == 1,
                "tick {tick} (base_delta {base}) after tick {prev}: a tick was missed"
            );
        }
        server.assert_mirror(&watched.world).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn any_unknown_type_number_is_unknown_message() {
    let server = TestServer::start().await;
    within(10, async {
        let (mut c, _) = server.client("future").await;
        // [300] and [65535]: type numbers no version of this protocol knows yet.
        for frame in [vec![0x91, 0xcd, 0x01, 0x2c], vec![0x91, 0xcd, 0xff, 0xff]] {
            c.send_raw(frame).await.unwrap();
            let (code, message) = await_error(&mut c).await;
            assert_eq!(code, ErrorCode::UnknownMessage.as_u16(), "{message}");
        }
    })
    .await;
}
