//! Several real nodes on 127.0.0.1:0 sharing a real `redis-server`: listing, joining and
//! quick-joining across nodes, capacity, seat tickets, and the faults of README "Running a
//! cluster" (a node killed, Redis lost and restarted empty, drain, a rolling restart).
//! Without `redis-server` these tests skip loudly (and fail when REQUIRE_REDIS=1).

mod common;

use common::process::ServerProcess;
use common::redis::{redis_or_skip, RedisServer};
use common::{await_error, http_get, within, TestServer};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tickrelay::client::{Applied, Client, World};
use tickrelay::cluster::{SeatKind, Ticket};
use tickrelay::config::Config;
use tickrelay::protocol::{
    ClientMsg, ErrorCode, JoinedInfo, LobbyId, LobbyRef, PlayerInput, RedirectThen, ServerMsg,
};

const SECRET: &str = "cluster-tests-secret-0123456789";

/// A cluster node's settings, with a short TTL and heartbeat so faults show quickly.
fn clustered(c: &mut Config, redis: &RedisServer, node: &str) {
    c.cluster.redis_url = redis.url();
    c.cluster.node_id = node.into();
    c.cluster.secret = SECRET.into();
    c.cluster.ttl = Duration::from_secs(2);
    c.cluster.heartbeat = Duration::from_millis(200);
}

async fn node(redis: &RedisServer, id: &str) -> TestServer {
    node_with(redis, id, |_| {}).await
}

async fn node_with(redis: &RedisServer, id: &str, f: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::with(|c| {
        clustered(c, redis, id);
        f(c);
    })
    .await
}

/// Polls `check` until it holds, for at most `secs` (what it waits for happens on a clock the
/// test does not drive: heartbeats, TTLs).
async fn until<F: Future<Output = bool>>(what: &str, secs: u64, mut check: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up after {secs}s waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `/api/lobbies` of a node, as JSON.
async fn api_lobbies(addr: SocketAddr) -> Vec<serde_json::Value> {
    let (status, body) = http_get(addr, "/api/lobbies", &[]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("JSON")
}

async fn listed_code(addr: SocketAddr, code: &str) -> Option<serde_json::Value> {
    api_lobbies(addr)
        .await
        .into_iter()
        .find(|l| l["code"] == code)
}

async fn client(url: &str, name: &str) -> Client {
    let mut c = Client::connect(url).await.expect("connect");
    c.hello(name, None).await.expect("hello");
    c
}

/// Sends `msg` and returns the `Redirect` it is answered with.
async fn redirected(c: &mut Client, msg: ClientMsg) -> (String, RedirectThen, LobbyId, Vec<u8>) {
    c.send(&msg).await.unwrap();
    c.recv_until("redirect", |m| match m {
        ServerMsg::Redirect {
            url,
            then,
            lobby,
            ticket,
        } => Some((url.clone(), *then, *lobby, ticket.clone())),
        _ => None,
    })
    .await
    .expect("a redirect")
}

/// What a client does with a `Redeem` redirect: connect there, hello with the same name, redeem.
async fn follow(url: &str, name: &str, ticket: Vec<u8>) -> (Client, Box<JoinedInfo>) {
    let mut c = client(url, name).await;
    c.send(&ClientMsg::Redeem { ticket }).await.unwrap();
    let j = c.joined().await.expect("joined with the ticket");
    (c, j)
}

/// Reads until the next snapshot has been applied.
async fn next_tick(c: &mut Client, w: &mut World) {
    loop {
        let m = c.recv().await.expect("recv");
        if let Applied::Snapshot { .. } = w.apply(&m).expect("applies") {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lobby_on_one_node_is_listed_and_joined_from_another_and_both_players_move() {
    let Some(redis) = redis_or_skip("cluster: listed and joined across nodes") else {
        return;
    };
    let n1 = node(&redis, "n1").await;
    let n2 = node(&redis, "n2").await;
    within(30, async {
        let mut ann = client(&n1.url(), "ann").await;
        let ja = ann.create("duel", "walkers", 4, true).await.unwrap();
        // Listed by the other node, over HTTP and over the protocol, with the owner's URL.
        let listed = listed_code(n2.addr, &ja.code).await.expect("n2 lists it");
        assert_eq!(listed["url"], n1.url());
        let mut eve = client(&n2.url(), "eve").await;
        let list = eve.list(None).await.unwrap();
        let l = list
            .iter()
            .find(|l| l.code == ja.code)
            .expect("ListLobbies on n2");
        assert_eq!(l.url.as_deref(), Some(n1.url().as_str()));
        // Joining its code on n2 redirects to n1 with a ticket; following it seats bob there.
        let mut bob0 = client(&n2.url(), "bob").await;
        let (url, then, lobby, ticket) = redirected(
            &mut bob0,
            ClientMsg::Join(LobbyRef::Code(ja.code.to_lowercase())),
        )
        .await;
        assert_eq!(
            (url.as_str(), then, lobby),
            (n1.url().as_str(), RedirectThen::Redeem, ja.lobby)
        );
        let (mut bob, jb) = follow(&url, "bob", ticket).await;
        assert_eq!(jb.lobby, ja.lobby);
        assert_eq!(n1.metric("tickrelay_redirects_followed_total").await, 1.0);
        assert_eq!(n2.metric("tickrelay_redirects_issued_total").await, 1.0);
        // The lookup (and every heartbeat) went through the timed directory.
        assert!(
            n2.metric("tickrelay_directory_round_trip_seconds_count")
                .await
                >= 1.0
        );
        // Both walk; each sees the other move.
        let (ida, idb) = (ja.you.unwrap(), jb.you.unwrap());
        let (mut wa, mut wb) = (World::default(), World::default());
        wa.apply(&ServerMsg::Joined(ja)).unwrap();
        wb.apply(&ServerMsg::Joined(jb)).unwrap();
        next_tick(&mut bob, &mut wb).await;
        next_tick(&mut ann, &mut wa).await;
        let (a0, b0) = (
            wb.table.get(ida).unwrap().fields[0],
            wa.table.get(idb).unwrap().fields[0],
        );
        let dir = |q: i32| if q < 16000 { 1i8 } else { -1 };
        let (da, db) = (dir(a0), dir(b0));
        for seq in 1..=10 {
            let step = |dx| PlayerInput {
                seq,
                dx,
                ..Default::default()
            };
            ann.input(step(da)).await.unwrap();
            bob.input(step(db)).await.unwrap();
            next_tick(&mut ann, &mut wa).await;
            next_tick(&mut bob, &mut wb).await;
        }
        while wb.table.get(ida).unwrap().fields[2] < 10 {
            next_tick(&mut bob, &mut wb).await;
        }
        while wa.table.get(idb).unwrap().fields[2] < 10 {
            next_tick(&mut ann, &mut wa).await;
        }
        let moved_a = (wb.table.get(ida).unwrap().fields[0] - a0) * i32::from(da);
        let moved_b = (wa.table.get(idb).unwrap().fields[0] - b0) * i32::from(db);
        // 200 units/s at 30 Hz in sixteenths: about 106 per tick.
        assert!(moved_a > 9 * 100, "bob saw ann move {moved_a}");
        assert!(moved_b > 9 * 100, "ann saw bob move {moved_b}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_join_across_nodes_fills_the_fullest_public_lobby_first() {
    let Some(redis) = redis_or_skip("cluster: quick-join across nodes") else {
        return;
    };
    let n1 = node(&redis, "n1").await;
    let n2 = node(&redis, "n2").await;
    within(30, async {
        // Two players in a lobby on n1, one in a lobby on n2.
        let mut a = client(&n1.url(), "a").await;
        let full = a.create("busy", "arena", 8, true).await.unwrap();
        let mut b = client(&n1.url(), "b").await;
        b.join(LobbyRef::Id(full.lobby)).await.unwrap();
        let mut c = client(&n2.url(), "c").await;
        let thin = c.create("quiet", "arena", 8, true).await.unwrap();
        until("n2 sees the busy lobby's two players", 10, || async {
            listed_code(n2.addr, &full.code)
                .await
                .is_some_and(|l| l["players"] == 2)
        })
        .await;
        // A quick-join on n2 goes to n1's fuller lobby, not to its own.
        let mut d = client(&n2.url(), "d").await;
        let (url, then, lobby, ticket) = redirected(
            &mut d,
            ClientMsg::QuickJoin {
                game: "arena".into(),
            },
        )
        .await;
        assert_eq!((then, lobby), (RedirectThen::Redeem, full.lobby));
        let (_d, jd) = follow(&url, "d", ticket).await;
        assert_eq!(jd.lobby, full.lobby);
        assert_ne!(jd.lobby, thin.lobby);
        // A quick-join on n1 stays there (its own lobby is the fullest).
        let mut e = client(&n1.url(), "e").await;
        assert_eq!(e.quick_join("arena").await.unwrap().lobby, full.lobby);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_lobby_refuses_the_joiner_from_any_node() {
    let Some(redis) = redis_or_skip("cluster: a full lobby") else {
        return;
    };
    let n1 = node(&redis, "n1").await;
    let n2 = node(&redis, "n2").await;
    within(30, async {
        let mut a = client(&n1.url(), "a").await;
        let j = a.create("solo", "arena", 1, true).await.unwrap();
        let mut b = client(&n1.url(), "b").await;
        b.send(&ClientMsg::Join(LobbyRef::Code(j.code.clone())))
            .await
            .unwrap();
        assert_eq!(await_error(&mut b).await.0, ErrorCode::LobbyFull.as_u16());
        // From n2: the redirect, then n1 itself refuses (capacity is checked where the lobby is).
        let mut c = client(&n2.url(), "c").await;
        let (url, _, _, ticket) = redirected(&mut c, ClientMsg::Join(LobbyRef::Code(j.code))).await;
        let mut c = client(&url, "c").await;
        c.send(&ClientMsg::Redeem { ticket }).await.unwrap();
        assert_eq!(await_error(&mut c).await.0, ErrorCode::LobbyFull.as_u16());
        assert_eq!(
            n1.registry
                .get(j.lobby)
                .unwrap()
                .players
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seat_tickets_are_single_use_named_expiring_and_for_one_lobby() {
    let Some(redis) = redis_or_skip("cluster: seat tickets") else {
        return;
    };
    let n1 = node(&redis, "n1").await;
    let n2 = node(&redis, "n2").await;
    within(30, async {
        let mut a = client(&n1.url(), "a").await;
        let j = a.create("open", "arena", 8, false).await.unwrap();
        let mut z = client(&n2.url(), "z").await;
        let theirs = z.create("elsewhere", "arena", 8, false).await.unwrap();
        let mut b = client(&n2.url(), "bob").await;
        let (url, _, _, ticket) =
            redirected(&mut b, ClientMsg::Join(LobbyRef::Code(j.code.clone()))).await;
        // Another name cannot use bob's ticket.
        let mut mallory = client(&url, "mallory").await;
        mallory
            .send(&ClientMsg::Redeem {
                ticket: ticket.clone(),
            })
            .await
            .unwrap();
        let (code, msg) = await_error(&mut mallory).await;
        assert_eq!(code, ErrorCode::TicketRefused.as_u16(), "{msg}");
        // Bob can, once.
        let (_bob, jb) = follow(&url, "bob", ticket.clone()).await;
        assert_eq!(jb.lobby, j.lobby);
        let mut again = client(&url, "bob").await;
        again.send(&ClientMsg::Redeem { ticket }).await.unwrap();
        let (code, msg) = await_error(&mut again).await;
        assert_eq!(code, ErrorCode::TicketRefused.as_u16());
        assert!(msg.contains("already used"), "{msg}");
        // Signed by the cluster but expired; and one for a lobby that is not on this node.
        let now = tickrelay::cluster::now_ms();
        let ticket = |lobby: LobbyId, expires_ms: u64| {
            Ticket {
                lobby,
                name: "carol".into(),
                expires_ms,
                nonce: fastrand::u64(..),
                kind: SeatKind::Play,
            }
            .sign(SECRET.as_bytes())
        };
        for (t, why) in [
            (ticket(j.lobby, now - 1), "expired"),
            (ticket(theirs.lobby, now + 60_000), "not on this node"),
        ] {
            let mut carol = client(&n1.url(), "carol").await;
            carol.send(&ClientMsg::Redeem { ticket: t }).await.unwrap();
            let (code, msg) = await_error(&mut carol).await;
            assert_eq!(code, ErrorCode::TicketRefused.as_u16(), "{msg}");
            assert!(msg.contains(why), "{msg}");
        }
        // Forged with another key.
        let forged = Ticket {
            lobby: j.lobby,
            name: "carol".into(),
            expires_ms: now + 60_000,
            nonce: 1,
            kind: SeatKind::Play,
        }
        .sign(b"not the cluster's secret at all");
        let mut carol = client(&n1.url(), "carol").await;
        carol
            .send(&ClientMsg::Redeem { ticket: forged })
            .await
            .unwrap();
        assert_eq!(
            await_error(&mut carol).await.0,
            ErrorCode::TicketRefused.as_u16()
        );
        assert_eq!(n1.metric("tickrelay_tickets_refused_total").await, 5.0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_create_close_cycles_leave_redis_as_it_was() {
    let Some(redis) = redis_or_skip("cluster: no leaks") else {
        return;
    };
    // Lobbies close as soon as they are empty, and tick fast: a cycle is a few ticks long.
    let n1 = node_with(&redis, "n1", |c| {
        c.lobby.empty_close_after = Duration::ZERO;
        c.lobby.tick_rate = 240;
        c.lobby.snapshot_rate = 240;
        c.limits.messages_per_second = 100_000;
        c.limits.message_burst = 100_000;
    })
    .await;
    within(120, async {
        until("n1 registered", 5, || async {
            redis.cli(&["EXISTS", "tr:node:n1"]) == "1"
        })
        .await;
        let before = redis.cli(&["DBSIZE"]);
        let mut c = client(&n1.url(), "cycler").await;
        for i in 0..1000 {
            let j = c
                .create(
                    "cycle",
                    if i % 2 == 0 { "arena" } else { "walkers" },
                    4,
                    true,
                )
                .await
                .unwrap();
            c.send(&ClientMsg::Leave).await.unwrap();
            c.recv_until("left", |m| {
                matches!(m, ServerMsg::Left { .. }).then_some(())
            })
            .await
            .unwrap();
            let _ = j;
        }
        until("every closed lobby withdrawn", 20, || async {
            n1.registry.lobby_count() == 0 && redis.cli(&["DBSIZE"]) == before
        })
        .await;
        let keys = redis.cli(&["KEYS", "*"]);
        assert_eq!(redis.cli(&["DBSIZE"]), before, "keys left: {keys}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_with_sigkill_leaves_listings_and_frees_its_codes_within_its_ttl() {
    let Some(redis) = redis_or_skip("cluster: a node killed") else {
        return;
    };
    let url = redis.url();
    let doomed = ServerProcess::start(&[
        ("TICKRELAY__CLUSTER__REDIS_URL", url.as_str()),
        ("TICKRELAY__CLUSTER__NODE_ID", "doomed"),
        ("TICKRELAY__CLUSTER__SECRET", SECRET),
        ("TICKRELAY__CLUSTER__TTL", "2s"),
        ("TICKRELAY__CLUSTER__HEARTBEAT", "200ms"),
    ]);
    let n2 = node(&redis, "n2").await;
    within(30, async {
        let mut a = client(&doomed.url(), "a").await;
        let j = a.create("doomed", "arena", 8, true).await.unwrap();
        let listed = listed_code(n2.addr, &j.code).await.expect("n2 lists it");
        assert_eq!(listed["url"], doomed.url());
        doomed.signal("KILL");
        // Gone from the other node's list, its code and node record gone from Redis, within
        // the 2 s TTL (and a heartbeat's slack).
        until("the dead node's lobby leaves n2's list", 4, || async {
            listed_code(n2.addr, &j.code).await.is_none()
        })
        .await;
        assert_eq!(redis.cli(&["EXISTS", &format!("tr:code:{}", j.code)]), "0");
        until("the dead node's record expires", 4, || async {
            redis.cli(&["EXISTS", "tr:node:doomed"]) == "0"
        })
        .await;
        // Its code is free: joining it finds nothing, and quick-join opens a lobby here instead.
        let mut b = client(&n2.url(), "b").await;
        b.send(&ClientMsg::Join(LobbyRef::Code(j.code.clone())))
            .await
            .unwrap();
        assert_eq!(
            await_error(&mut b).await.0,
            ErrorCode::LobbyNotFound.as_u16()
        );
        let q = b.quick_join("arena").await.unwrap();
        assert!(
            n2.registry.get(q.lobby).is_some(),
            "quick-join stayed on the live node"
        );
        // And the indexes no longer name the dead lobby.
        assert_eq!(
            redis.cli(&["ZSCORE", "tr:public:arena", &j.lobby.0.to_string()]),
            ""
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_loses_redis_plays_on_and_re_registers_when_redis_restarts_empty() {
    let Some(mut redis) = redis_or_skip("cluster: Redis lost") else {
        return;
    };
    let n1 = node(&redis, "n1").await;
    let n2 = node(&redis, "n2").await;
    within(60, async {
        let mut ann = client(&n1.url(), "ann").await;
        let l1 = ann.create("here", "arena", 8, true).await.unwrap();
        let mut zed = client(&n2.url(), "zed").await;
        let l2 = zed.create("there", "arena", 8, true).await.unwrap();
        let mut w = World::default();
        w.apply(&ServerMsg::Joined(l1.clone())).unwrap();
        redis.stop();
        // Ann plays on: snapshots keep coming while the directory is away.
        for _ in 0..30 {
            next_tick(&mut ann, &mut w).await;
        }
        until("n1 notices its heartbeat failing", 10, || async {
            n1.metric("tickrelay_heartbeat_failures_total").await > 0.0
        })
        .await;
        // n1 lists what it has, opens lobbies, and refuses a join it cannot look up, clearly.
        let mut bob = client(&n1.url(), "bob").await;
        let list = bob.list(None).await.unwrap();
        assert!(list.iter().any(|l| l.code == l1.code), "{list:?}");
        bob.send(&ClientMsg::Join(LobbyRef::Code(l2.code.clone())))
            .await
            .unwrap();
        let (code, msg) = await_error(&mut bob).await;
        assert_eq!(code, ErrorCode::ClusterUnavailable.as_u16(), "{msg}");
        assert!(msg.contains("cannot reach the cluster directory"), "{msg}");
        let mut cat = client(&n1.url(), "cat").await;
        let l3 = cat.create("made offline", "arena", 8, true).await.unwrap();
        // Redis comes back with nothing in it: both nodes register everything again.
        redis.restart();
        until("n2 lists n1's lobbies again", 15, || async {
            let l = api_lobbies(n2.addr).await;
            [&l1.code, &l3.code]
                .iter()
                .all(|c| l.iter().any(|x| x["code"] == **c))
        })
        .await;
        until("n1 lists n2's lobby again", 15, || async {
            listed_code(n1.addr, &l2.code).await.is_some()
        })
        .await;
        // Cross-node joins work again.
        let (url, _, _, ticket) =
            redirected(&mut bob, ClientMsg::Join(LobbyRef::Code(l2.code.clone()))).await;
        let (_bob, j) = follow(&url, "bob", ticket).await;
        assert_eq!(j.lobby, l2.lobby);
    })
    .await;
}

/// A POST with an optional bearer token: the status.
async fn post(addr: SocketAddr, path: &str, token: Option<&str>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n{auth}Connection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_node_sends_newcomers_elsewhere_plays_on_and_stops_when_empty() {
    let Some(redis) = redis_or_skip("cluster: drain") else {
        return;
    };
    const TOKEN: &str = "admin-token-for-tests";
    let mut n1 = node_with(&redis, "n1", |c| {
        c.admin.token = TOKEN.into();
        c.server.shutdown_deadline = Duration::from_secs(60);
    })
    .await;
    let n2 = node(&redis, "n2").await;
    within(60, async {
        let mut ann = client(&n1.url(), "ann").await;
        let l1 = ann.create("last game", "arena", 8, true).await.unwrap();
        let mut w = World::default();
        w.apply(&ServerMsg::Joined(l1.clone())).unwrap();
        assert_eq!(post(n1.addr, "/admin/drain", None).await, 401);
        assert_eq!(post(n1.addr, "/admin/drain", Some("wrong")).await, 401);
        assert_eq!(post(n1.addr, "/admin/drain", Some(TOKEN)).await, 202);
        until("n1 leaves the node index", 5, || async {
            redis.cli(&["ZSCORE", "tr:nodes", "n1"]).is_empty()
        })
        .await;
        // New lobbies and quick-joins asked of n1 go to n2.
        let mut bob = client(&n1.url(), "bob").await;
        let create = ClientMsg::CreateLobby(tickrelay::protocol::CreateLobby {
            name: "new".into(),
            game: "arena".into(),
            max_players: 4,
            public: true,
            kill_goal: None,
            round_seconds: None,
        });
        let (url, then, ..) = redirected(&mut bob, create).await;
        assert_eq!(
            (url.as_str(), then),
            (n2.url().as_str(), RedirectThen::Retry)
        );
        let (url, then, ..) = redirected(
            &mut bob,
            ClientMsg::QuickJoin {
                game: "arena".into(),
            },
        )
        .await;
        assert_eq!(
            (url.as_str(), then),
            (n2.url().as_str(), RedirectThen::Retry)
        );
        // A quick-join on n2 does not land in n1's lobby either.
        let mut cat = client(&n2.url(), "cat").await;
        let q = cat.quick_join("arena").await.unwrap();
        assert_ne!(q.lobby, l1.lobby);
        // Ann plays on until she leaves; then n1 stops by itself.
        for _ in 0..10 {
            next_tick(&mut ann, &mut w).await;
        }
        assert!(!n1.handle.as_ref().unwrap().is_finished());
        ann.send(&ClientMsg::Leave).await.unwrap();
        let stopped = n1.handle.take().unwrap().await.expect("server task");
        assert!(stopped.is_ok());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_three_nodes_keeps_the_lobby_with_players_on_a_surviving_node() {
    let Some(redis) = redis_or_skip("cluster: rolling restart") else {
        return;
    };
    let draining = |c: &mut Config| c.cluster.drain = true;
    let mut a = node_with(&redis, "a", draining).await;
    let b = node_with(&redis, "b", draining).await;
    let mut c = node_with(&redis, "c", draining).await;
    within(60, async {
        let mut p1 = client(&b.url(), "p1").await;
        let l = p1.create("survivor", "arena", 8, true).await.unwrap();
        let mut p2 = client(&a.url(), "p2").await;
        let (url, _, _, ticket) =
            redirected(&mut p2, ClientMsg::Join(LobbyRef::Code(l.code.clone()))).await;
        let (mut p2, _) = follow(&url, "p2", ticket).await;
        let mut w = World::default();
        w.apply(&ServerMsg::Joined(l.clone())).unwrap();
        for name in ["a", "c"] {
            let old = if name == "a" { &mut a } else { &mut c };
            // SIGTERM with cluster.drain: nobody plays on this node, so it stops at once.
            old.shutdown.cancel();
            old.handle.take().unwrap().await.unwrap().unwrap();
            let new = node_with(&redis, name, draining).await;
            let listed = listed_code(new.addr, &l.code)
                .await
                .expect("the new node lists it");
            assert_eq!(listed["players"], 2);
            // The lobby never noticed.
            for _ in 0..5 {
                next_tick(&mut p1, &mut w).await;
            }
            assert_alive_in(&mut p2).await;
            *old = new;
        }
        assert!(b.registry.get(l.lobby).is_some());
    })
    .await;
}

/// A player still gets snapshots.
async fn assert_alive_in(c: &mut Client) {
    c.recv_until("a snapshot", |m| {
        matches!(m, ServerMsg::Snapshot(_)).then_some(())
    })
    .await
    .expect("still playing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_module_follows_redirects_by_itself_and_a_token_leads_back_to_its_node() {
    let Some(redis) = redis_or_skip("cluster: the client follows redirects") else {
        return;
    };
    let n1 = node(&redis, "n1").await;
    let n2 = node(&redis, "n2").await;
    within(30, async {
        let mut ann = client(&n1.url(), "ann").await;
        let l = ann.create("home", "arena", 8, true).await.unwrap();
        // `join` on n2 ends in the lobby on n1, and the client now talks to n1.
        let mut bob = client(&n2.url(), "bob").await;
        let jb = bob.join(LobbyRef::Code(l.code.clone())).await.unwrap();
        assert_eq!(jb.lobby, l.lobby);
        assert_eq!(bob.url(), Some(n1.url().as_str()));
        assert_eq!(bob.redirects_followed(), 1);
        let token = bob.reconnect_token().unwrap().to_owned();
        assert!(token.starts_with("n1."), "a token names its node: {token}");
        // Bob's connection drops; he comes back through n2 with his token, and is sent home to
        // his own seat (held for the reconnect grace, or taken over from the old connection).
        drop(bob);
        let mut back = Client::connect(&n2.url()).await.unwrap();
        back.hello("bob", Some(token)).await.unwrap();
        let again = back.joined().await.expect("resumed through the redirect");
        assert_eq!((again.lobby, again.you), (l.lobby, jb.you));
        assert_eq!(back.url(), Some(n1.url().as_str()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_pointed_at_one_node_fill_a_lobby_that_lives_on_another() {
    let Some(redis) = redis_or_skip("cluster: bots fill across nodes") else {
        return;
    };
    let n1 = node(&redis, "n1").await;
    let n2 = node(&redis, "n2").await;
    within(60, async {
        let mut host = client(&n1.url(), "host").await;
        let l = host.create("fill me", "arena", 4, false).await.unwrap();
        // The host reads its socket all along and remembers the most players it saw seated.
        let stop = tokio_util::sync::CancellationToken::new();
        let watcher = tokio::spawn({
            let (stop, l) = (stop.clone(), l.clone());
            async move {
                let mut world = World::default();
                world.apply(&ServerMsg::Joined(l)).unwrap();
                let mut most = world.roster.len();
                loop {
                    let m = tokio::select! {
                        _ = stop.cancelled() => return most,
                        m = host.recv() => m,
                    };
                    let Ok(m) = m else { return most };
                    if !matches!(m, ServerMsg::Error { .. }) {
                        world.apply(&m).expect("the host's mirror applies");
                        most = most.max(world.roster.len());
                    }
                }
            }
        });
        let mut cfg = tickrelay::bots::BotConfig::new(
            n2.url(),
            tickrelay::bots::Mode::Fill {
                code: l.code.clone(),
                players: 3,
            },
        );
        cfg.duration = Duration::from_millis(1500);
        cfg.seed = Some(7);
        let r = tickrelay::bots::run(cfg, tokio_util::sync::CancellationToken::new())
            .await
            .expect("run");
        assert_eq!((r.bots_connected, r.bots_failed), (3, 0), "{}", r.table());
        assert_eq!(r.redirects_followed, 3, "{}", r.table());
        assert!(r.snapshots_per_bot_s > 0.0, "{}", r.table());
        stop.cancel();
        // They sat on n1, in that lobby, beside the host.
        assert_eq!(watcher.await.unwrap(), 4);
        assert_eq!(n1.metric("tickrelay_redirects_followed_total").await, 3.0);
        assert_eq!(n2.metric("tickrelay_redirects_issued_total").await, 3.0);
    })
    .await;
}
