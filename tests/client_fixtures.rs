//! The browser client's codec tests check against frames in `game-client/test/fixtures/
//! rust-frames.json`, said to be the server's own encodings. This keeps them so: each simple
//! message there is rebuilt here from the values `generate-fixtures.rs` uses and must match byte for
//! byte, so a change to a message's layout cannot leave the browser tests checking the old bytes.

use tickrelay::protocol::*;

fn fixtures() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/game-client/test/fixtures/rust-frames.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).expect("the fixtures are JSON")
}

/// Distinct numbers, so a field read from the wrong position shows.
fn fixture_limits() -> ClientLimits {
    ClientLimits {
        max_message_bytes: 4096,
        messages_per_second: 120,
        message_burst: 60,
        chat_burst: 5,
        chat_refill_ms: 1000,
        reconnect_grace_ms: 30000,
        slow_client_timeout_ms: 5000,
        idle_timeout_ms: 20000,
        max_decode_errors: 16,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn the_simple_fixture_frames_are_what_the_server_encodes() {
    let f = fixtures();
    let client = [
        (
            "hello",
            encode(&ClientMsg::Hello(Hello {
                version: 1,
                name: "ann".into(),
                reconnect_token: None,
            })),
        ),
        (
            "input",
            encode(&ClientMsg::input(PlayerInput {
                seq: 5,
                dx: 1,
                dy: -1,
                aim: 1.5,
                buttons: 1,
                view_tick: 0,
            })),
        ),
        (
            "redeem",
            encode(&ClientMsg::Redeem {
                ticket: vec![1, 2, 3],
            }),
        ),
    ];
    let server = [
        (
            "welcome",
            encode(&ServerMsg::Welcome {
                version: 1,
                session: SessionId(42),
                reconnect_token: "tok-abc".into(),
                tick_rate: 30,
                snapshot_rate: 30,
                server_id: "0123456789abcdef".into(),
                limits: fixture_limits(),
            }),
        ),
        (
            "lobby_list",
            encode(&ServerMsg::LobbyList(vec![LobbySummary {
                id: LobbyId(3),
                code: "ABCDEF".into(),
                name: "fun".into(),
                game: "arena".into(),
                players: 2,
                max_players: 8,
                url: None,
            }])),
        ),
        (
            "chat",
            encode(&ServerMsg::Chat {
                from: Some(EntityId(2)),
                name: "bob".into(),
                text: "hi".into(),
                role: ChatRole::Player,
            }),
        ),
        (
            "error",
            encode(&ServerMsg::error(ErrorCode::LobbyFull, "lobby is full")),
        ),
        ("pong", encode(&ServerMsg::Pong { nonce: 1u64 << 40 })),
        (
            "redirect",
            encode(&ServerMsg::Redirect {
                url: "ws://127.0.0.1:8082/ws".into(),
                then: RedirectThen::Redeem,
                lobby: LobbyId(3),
                ticket: vec![1, 2, 3],
            }),
        ),
    ];
    for (name, bytes) in client.iter().chain(server.iter()) {
        assert_eq!(
            f[*name].as_str(),
            Some(hex(bytes).as_str()),
            "fixture {name:?} is not what the server encodes; update rust-frames.json"
        );
    }
}
