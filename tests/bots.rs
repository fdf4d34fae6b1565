//! The load-test bots against a real server: lobbies formed, snapshots and acks counted, AI fill,
//! and the `tickrelay-bots` binary's report and exit status. Assertions are on counts only.

mod common;

use common::{within, TestServer};
use std::time::Duration;
use tickrelay::bots::{run, BotConfig, Game, Mode, Report};
use tickrelay::client::World;
use tickrelay::protocol::{LobbyId, ServerMsg};
use tokio_util::sync::CancellationToken;

fn short(url: String, mode: Mode) -> BotConfig {
    let mut cfg = BotConfig::new(url, mode);
    cfg.warmup = Duration::from_millis(500);
    cfg.duration = Duration::from_millis(1500);
    cfg.seed = Some(7);
    cfg
}

/// What every healthy run shows, whatever the machine's speed.
fn assert_healthy(r: &Report, bots: usize) {
    assert_eq!(r.bots_connected, bots, "{}", r.table());
    assert_eq!(r.bots_failed, 0, "{}", r.table());
    assert_eq!(r.decode_errors, 0, "{}", r.table());
    assert!(!r.errors.contains_key("decode"), "{}", r.table());
    assert!(r.snapshots_per_bot_s > 0.0, "{}", r.table());
    assert!(r.bytes_per_bot_s > 0.0, "{}", r.table());
    assert!(r.latency_ms.count > 0, "{}", r.table());
    assert!(r.latency_ms.p50 <= r.latency_ms.max);
    assert!(r.ok());
}

fn assert_json_keys(json: &serde_json::Value) {
    for key in [
        "bots_connected",
        "bots_failed",
        "snapshots_per_bot_s",
        "missed_ticks",
        "bytes_per_bot_s",
        "latency_ms",
        "errors",
    ] {
        assert!(json.get(key).is_some(), "JSON report lacks {key}: {json}");
    }
    for key in ["p50", "p90", "p99", "max"] {
        assert!(json["latency_ms"][key].is_number(), "latency_ms.{key}");
    }
    assert!(json["errors"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkers_bots_form_exactly_the_lobbies_asked_for_and_measure() {
    let server = TestServer::start().await;
    let mode = Mode::Lobbies {
        lobbies: 2,
        players: 3,
        game: Game::Walkers,
    };
    let r = within(60, run(short(server.url(), mode), CancellationToken::new()))
        .await
        .expect("run");
    assert_healthy(&r, 6);
    assert_eq!((r.lobbies, r.players, r.bots), (2, 3, 6));
    assert_eq!(r.game, "walkers");
    assert_eq!(
        (r.lobbies_formed, r.bots_per_lobby_min, r.bots_per_lobby_max),
        (2, 3, 3)
    );
    assert_eq!(server.registry.lobby_count(), 2);
    assert_eq!(r.tick_rate, Some(server.config.lobby.tick_rate));
    assert!(r.inputs_per_bot_s > 0.0);
    assert_json_keys(&serde_json::to_value(&r).unwrap());
}

/// Polls `cond` every 10 ms until it holds (bounded by the caller's `within`).
async fn until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_run_frees_every_seat_without_waiting_for_the_grace() {
    let server = TestServer::start().await;
    let grace = server.config.lobby.reconnect_grace;
    let mode = Mode::Lobbies {
        lobbies: 2,
        players: 3,
        game: Game::Walkers,
    };
    let r = within(60, run(short(server.url(), mode), CancellationToken::new()))
        .await
        .expect("run");
    assert_healthy(&r, 6);
    // The test server's lobbies are the bots' only ones, numbered from 1; they stay open for
    // their own grace once empty, so they are still there to ask.
    assert_eq!(server.registry.lobby_count(), 2);
    let seated = || -> u32 {
        (1..=2)
            .filter_map(|id| server.registry.get(LobbyId(id)))
            .map(|l| u32::from(l.players.load(std::sync::atomic::Ordering::Relaxed)))
            .sum()
    };
    // Bots that only dropped their sockets would hold their seats for the reconnect grace;
    // bots that said `Leave` free them within a tick or two. Wait well short of the grace.
    assert!(grace >= Duration::from_secs(20), "the grace is {grace:?}");
    within(grace.as_secs() / 3, until(|| seated() == 0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arena_bots_play_with_a_full_mirror() {
    let server = TestServer::start().await;
    let mode = Mode::Lobbies {
        lobbies: 1,
        players: 3,
        game: Game::Arena,
    };
    let r = within(60, run(short(server.url(), mode), CancellationToken::new()))
        .await
        .expect("run");
    assert_healthy(&r, 3);
    assert_eq!(r.game, "arena");
}

/// A person's client: drains its socket into a mirror, and reports the most seated players seen.
async fn watch_roster(
    mut c: tickrelay::client::Client,
    joined: Box<tickrelay::protocol::JoinedInfo>,
    stop: CancellationToken,
) -> usize {
    let mut world = World::default();
    world.apply(&ServerMsg::Joined(joined)).unwrap();
    let mut most = world.roster.len();
    loop {
        let m = tokio::select! {
            _ = stop.cancelled() => return most,
            m = c.recv() => m,
        };
        let Ok(m) = m else { return most };
        if let ServerMsg::Error { .. } = m {
            continue;
        }
        world.apply(&m).expect("the person's mirror applies");
        most = most.max(world.roster.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fill_joins_bots_into_a_lobby_a_person_created() {
    let server = TestServer::start().await;
    let (mut person, _) = server.client("person").await;
    let joined = within(10, person.create("friday", "arena", 4, false))
        .await
        .expect("create");
    let stop = CancellationToken::new();
    let watcher = tokio::spawn(watch_roster(person, joined.clone(), stop.clone()));

    let mode = Mode::Fill {
        code: joined.code.to_lowercase(),
        players: 3,
    };
    let r = within(60, run(short(server.url(), mode), CancellationToken::new()))
        .await
        .expect("run");
    assert_healthy(&r, 3);
    assert_eq!(r.game, "arena", "fill plays the lobby's game");
    assert_eq!((r.lobbies_formed, r.bots_per_lobby_max), (1, 3));
    stop.cancel();
    let most = within(10, watcher).await.unwrap();
    assert_eq!(most, 4, "the person saw three bots take the free seats");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fill_past_the_free_seats_counts_failures() {
    let server = TestServer::start().await;
    let (mut person, _) = server.client("person").await;
    let joined = within(10, person.create("small", "walkers", 2, false))
        .await
        .expect("create");
    let stop = CancellationToken::new();
    let watcher = tokio::spawn(watch_roster(person, joined.clone(), stop.clone()));
    let mut cfg = short(
        server.url(),
        Mode::Fill {
            code: joined.code.clone(),
            players: 3,
        },
    );
    cfg.duration = Duration::from_millis(300);
    let r = within(60, run(cfg, CancellationToken::new()))
        .await
        .expect("run");
    assert_eq!((r.bots_connected, r.bots_failed), (1, 2), "{}", r.table());
    assert_eq!(r.errors.get("join:LobbyFull"), Some(&2), "{}", r.table());
    assert!(!r.ok());
    stop.cancel();
    within(10, watcher).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_not_there_fails_every_bot() {
    // Bind and drop a listener so the port is (almost certainly) closed.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mode = Mode::Lobbies {
        lobbies: 2,
        players: 2,
        game: Game::Walkers,
    };
    let r = within(
        60,
        run(
            short(format!("ws://{addr}/ws"), mode),
            CancellationToken::new(),
        ),
    )
    .await
    .expect("run");
    assert_eq!((r.bots_connected, r.bots_failed), (0, 4), "{}", r.table());
    // The creators fail to connect; their joiners either fail to connect too or find no lobby.
    let total: u64 = r.errors.values().sum();
    assert_eq!(total, 4, "{}", r.table());
    assert!(!r.ok());
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tickrelay-bots-{}-{name}.json", std::process::id()))
}

/// Runs the real binary with `args` (blocking, off the runtime so the server keeps serving).
async fn bots_binary(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_tickrelay-bots"))
            .args(args)
            .output()
            .expect("run tickrelay-bots")
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_writes_its_json_report_and_exit_status() {
    let server = TestServer::start().await;
    let json = temp_path("ok");
    let args = [
        "--url",
        &server.url(),
        "--lobbies",
        "2",
        "--players",
        "2",
        "--game",
        "walkers",
        "--warmup",
        "300ms",
        "--duration",
        "1s",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
    ];
    let out = within(
        60,
        bots_binary(args.iter().map(|s| s.to_string()).collect()),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("input-to-ack"), "the table: {stdout}");
    let text = std::fs::read_to_string(&json).expect("the JSON report was written");
    let _ = std::fs::remove_file(&json);
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_json_keys(&v);
    assert_eq!(v["bots_connected"], 4);
    assert_eq!(v["bots_failed"], 0);
    assert!(v["latency_ms"]["p99"].as_f64().unwrap() > 0.0);

    // A lobby code that does not exist: every bot fails to join, and the exit status says so.
    let json = temp_path("fail");
    let args = [
        "--url",
        &server.url(),
        "--fill",
        "ZZZZZZ",
        "--players",
        "2",
        "--duration",
        "100ms",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
    ];
    let out = within(
        60,
        bots_binary(args.iter().map(|s| s.to_string()).collect()),
    )
    .await;
    assert!(!out.status.success());
    let text = std::fs::read_to_string(&json).expect("the JSON report is written on failure too");
    let _ = std::fs::remove_file(&json);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["bots_failed"], 2);
    assert_eq!(v["errors"]["join:LobbyNotFound"], 2);
}
