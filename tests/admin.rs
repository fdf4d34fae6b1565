//! The operator console's routes: `/admin/api/...` behind `admin.token` (404 when off, 401
//! without the right token, 403 for a cross-origin POST), the overview of this node's lobbies,
//! and the kick (close 4007, the seat freed) and close (`Left` with the reason) actions, with
//! real WebSocket clients on a real server.

mod common;

use common::{close_of, within, TestServer};
use std::net::SocketAddr;
use std::time::Duration;
use tickrelay::client::{Client, Incoming};
use tickrelay::protocol::{CloseCode, LobbyEventKind, LobbyId, LobbyRef, ServerMsg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "console-token-for-tests";

async fn admin_server() -> TestServer {
    TestServer::with(|c| c.admin.token = TOKEN.into()).await
}

/// One HTTP/1.1 request: (status, body).
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    origin: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(o) = origin {
        req.push_str(&format!("Origin: {o}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

async fn overview(addr: SocketAddr) -> serde_json::Value {
    let (status, body) = request(addr, "GET", "/admin/api/overview", Some(TOKEN), None, "").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("overview is JSON")
}

async fn post(addr: SocketAddr, path: &str, body: &str) -> (u16, String) {
    request(addr, "POST", path, Some(TOKEN), None, body).await
}

/// Every admin route, as (method, path).
fn routes(lobby: u32) -> Vec<(&'static str, String)> {
    vec![
        ("GET", "/admin/api/overview".to_owned()),
        ("POST", format!("/admin/api/lobbies/{lobby}/kick")),
        ("POST", format!("/admin/api/lobbies/{lobby}/close")),
        ("POST", "/admin/drain".to_owned()),
        ("GET", "/admin/api/nothing-here".to_owned()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_route_wants_the_token_and_is_off_without_one() {
    let s = admin_server().await;
    let kick = r#"{"player":1,"reason":"x"}"#;
    for (method, path) in routes(1) {
        for token in [None, Some("wrong"), Some("console-token-for-test")] {
            let (status, _) = request(s.addr, method, &path, token, None, kick).await;
            assert_eq!(status, 401, "{method} {path} with {token:?}");
        }
    }
    // The page itself is public: it asks for the token.
    assert_eq!(s.get("/admin").await.0, 200);
    let off = TestServer::start().await;
    for (method, path) in routes(1) {
        for token in [None, Some(TOKEN)] {
            let (status, _) = request(off.addr, method, &path, token, None, kick).await;
            assert_eq!(status, 404, "{method} {path} with admin off");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_origin_post_is_refused() {
    let s = admin_server().await;
    let (mut a, _) = s.client("alice").await;
    let j = a.create("room", "arena", 4, true).await.unwrap();
    let me = j.you.unwrap().0;
    let kick = format!(r#"{{"player":{me},"reason":"x"}}"#);
    let path = format!("/admin/api/lobbies/{}/kick", j.lobby.0);
    let evil = Some("http://evil.example");
    let (status, _) = request(s.addr, "POST", &path, Some(TOKEN), evil, &kick).await;
    assert_eq!(status, 403);
    let close = format!("/admin/api/lobbies/{}/close", j.lobby.0);
    let (status, _) = request(s.addr, "POST", &close, Some(TOKEN), evil, "{}").await;
    assert_eq!(status, 403);
    let (status, _) = request(s.addr, "POST", "/admin/drain", Some(TOKEN), evil, "").await;
    assert_eq!(status, 403);
    // The same origin may.
    let own = format!("http://{}", s.addr);
    let (status, body) = request(s.addr, "POST", &path, Some(TOKEN), Some(&own), &kick).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_lists_each_lobby_with_its_players_and_the_server_series() {
    let s = admin_server().await;
    let (mut a, _) = s.client("alice").await;
    let j = a.create("alices room", "arena", 4, false).await.unwrap();
    let (mut b, _) = s.client("bob").await;
    let jb = b.join(LobbyRef::Code(j.code.clone())).await.unwrap();
    let (mut w, _) = s.client("watcher").await;
    w.spectate(LobbyRef::Id(j.lobby)).await.unwrap();
    // A couple of seconds: the lobby publishes its tick figures and the sampler samples.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let (lobby, o) = loop {
        let o = overview(s.addr).await;
        let lobby = o["lobbies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == j.lobby.0)
            .cloned()
            .expect("the lobby is listed");
        if lobby["tick_p99_us"].as_u64().unwrap() > 0
            && lobby["bytes_per_sec"].as_u64().unwrap() > 0
            && o["series"].as_array().unwrap().len() >= 2
        {
            break (lobby, o);
        }
        assert!(tokio::time::Instant::now() < deadline, "no figures: {o}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(o["lobby_count"], 1);
    assert_eq!(lobby["code"], j.code.as_str());
    assert_eq!(lobby["name"], "alices room");
    assert_eq!(lobby["game"], "arena");
    assert_eq!(lobby["public"], false);
    assert_eq!(lobby["spectators"], 1);
    let players = lobby["players"].as_array().unwrap();
    assert_eq!(players.len(), 2);
    assert_eq!(players[0]["id"], j.you.unwrap().0);
    assert_eq!(players[0]["name"], "alice");
    assert_eq!(players[0]["away"], false);
    assert_eq!(players[1]["id"], jb.you.unwrap().0);
    assert_eq!(players[1]["name"], "bob");
    assert!(lobby["tick_p50_us"].as_u64().unwrap() <= lobby["tick_p99_us"].as_u64().unwrap());
    let last = o["series"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["players"], 2);
    assert!(last["connections"].as_i64().unwrap() >= 3);
    assert!(last["overruns"].is_u64());
    #[cfg(target_os = "linux")]
    assert!(last["cpu"].is_number(), "{last}");
    let _ = (&mut a, &mut b, &mut w);
}

/// Reads until the `Left` for `lobby`, then the close frame: the Left's reason and the close.
async fn left_then_close(c: &mut Client, lobby: LobbyId) -> (String, (u16, String)) {
    let reason = loop {
        match c.next().await.expect("Left, then the close") {
            Incoming::Msg(ServerMsg::Left { lobby: l, reason }, _) if l == lobby => break reason,
            Incoming::Msg(..) => {}
            Incoming::Closed(close) => panic!("closed before Left: {close:?}"),
        }
    };
    (reason, close_of(c).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kick_closes_the_player_with_4007_and_its_reason_and_frees_the_seat() {
    let s = admin_server().await;
    let (mut a, _) = s.client("alice").await;
    let j = a.create("full room", "arena", 2, true).await.unwrap();
    let (mut b, _) = s.client("bob").await;
    let jb = b.join(LobbyRef::Id(j.lobby)).await.unwrap();
    let bob = jb.you.unwrap();
    let path = format!("/admin/api/lobbies/{}/kick", j.lobby.0);
    // Someone who is not there, and a lobby that is not.
    let (status, _) = post(s.addr, &path, r#"{"player":999,"reason":"x"}"#).await;
    assert_eq!(status, 404);
    let (status, _) = post(s.addr, "/admin/api/lobbies/4242/kick", r#"{"player":1}"#).await;
    assert_eq!(status, 404);
    let (status, _) = post(s.addr, &path, "not json").await;
    assert_eq!(status, 400);

    let body = format!(r#"{{"player":{},"reason":"griefing the spawn"}}"#, bob.0);
    let (status, text) = post(s.addr, &path, &body).await;
    assert_eq!(status, 200, "{text}");
    let (reason, (code, close_reason)) = within(5, left_then_close(&mut b, j.lobby)).await;
    assert_eq!(reason, "kicked by an operator: griefing the spawn");
    assert_eq!(code, 4007);
    assert_eq!(close_reason, CloseCode::Kicked.reason());

    // Alice plays on: she hears Bob left, and her snapshots keep coming.
    within(5, async {
        loop {
            if let ServerMsg::LobbyEvent {
                kind: LobbyEventKind::Left,
                player,
                ..
            } = a.recv().await.unwrap()
            {
                assert_eq!(player, bob);
                break;
            }
        }
        let mut snapshots = 0;
        while snapshots < 5 {
            if let ServerMsg::Snapshot(_) = a.recv().await.unwrap() {
                snapshots += 1;
            }
        }
    })
    .await;
    // The seat is free at once (not held for a reconnect): a newcomer takes it.
    let o = overview(s.addr).await;
    let players = o["lobbies"][0]["players"].as_array().unwrap().len();
    assert_eq!(players, 1, "{o}");
    let (mut c, _) = s.client("carol").await;
    within(5, c.join(LobbyRef::Id(j.lobby)))
        .await
        .expect("the freed seat");
    // Bob's token no longer resumes anything.
    let token = b.reconnect_token().map(str::to_owned);
    let mut again = Client::connect(&s.url()).await.unwrap();
    again.hello("bob", token).await.unwrap();
    let got = within(5, async {
        loop {
            match again.recv().await.unwrap() {
                ServerMsg::Error { code, .. } => break Some(code),
                ServerMsg::Joined(_) => break None,
                _ => {}
            }
        }
    })
    .await;
    assert_eq!(got, Some(9), "a kicked player's seat cannot be resumed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_gives_every_member_left_with_the_reason() {
    let s = admin_server().await;
    let (mut a, _) = s.client("alice").await;
    let j = a.create("doomed", "arena", 4, true).await.unwrap();
    let (mut b, _) = s.client("bob").await;
    b.join(LobbyRef::Id(j.lobby)).await.unwrap();
    let (mut w, _) = s.client("watcher").await;
    w.spectate(LobbyRef::Id(j.lobby)).await.unwrap();
    let path = format!("/admin/api/lobbies/{}/close", j.lobby.0);
    let (status, text) = post(s.addr, &path, r#"{"reason":"maintenance"}"#).await;
    assert_eq!(status, 200, "{text}");
    for c in [&mut a, &mut b, &mut w] {
        let reason = within(5, async {
            loop {
                if let ServerMsg::Left { lobby, reason } = c.recv().await.unwrap() {
                    assert_eq!(lobby, j.lobby);
                    break reason;
                }
            }
        })
        .await;
        assert_eq!(reason, "an operator closed the lobby: maintenance");
        // Back outside any lobby, still connected: it can list lobbies, and this one is gone.
        let list = within(5, c.list(None)).await.unwrap();
        assert!(list.iter().all(|l| l.id != j.lobby));
    }
    within(5, async {
        while s.registry.get(j.lobby).is_some() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let (status, _) = post(s.addr, &path, r#"{"reason":"again"}"#).await;
    assert_eq!(status, 404, "a closed lobby is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_away_player_shows_as_away_and_a_kick_frees_its_held_seat() {
    let s = admin_server().await;
    let (mut a, _) = s.client("alice").await;
    let j = a.create("room", "arena", 4, true).await.unwrap();
    let (mut b, _) = s.client("bob").await;
    let bob = b.join(LobbyRef::Id(j.lobby)).await.unwrap().you.unwrap();
    drop(b); // the connection drops without a Leave: the seat is held
    let away = within(5, async {
        loop {
            let o = overview(s.addr).await;
            let p = o["lobbies"][0]["players"].as_array().unwrap().clone();
            if p.iter().any(|p| p["id"] == bob.0 && p["away"] == true) {
                break p;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(away.len(), 2);
    let path = format!("/admin/api/lobbies/{}/kick", j.lobby.0);
    let (status, _) = post(s.addr, &path, &format!(r#"{{"player":{}}}"#, bob.0)).await;
    assert_eq!(status, 200);
    let o = overview(s.addr).await;
    assert_eq!(o["lobbies"][0]["players"].as_array().unwrap().len(), 1);
    let _ = &mut a;
}
