//! Replays through the real server: a match played over WebSockets is on disk and verifies.
//!
//! Two clients play arena, leave, the lobby closes; its file is whole and re-simulates to every
//! checksum it recorded, through the library and through `tickrelay replay verify|info`.

mod common;

use common::{within, TestServer};
use std::path::PathBuf;
use std::time::Duration;
use tickrelay::client::Client;
use tickrelay::protocol::{ClientMsg, LobbyRef, PlayerInput, ServerMsg};

async fn leave(c: &mut Client) {
    c.send(&ClientMsg::Leave).await.unwrap();
    c.recv_until("left", |m| {
        matches!(m, ServerMsg::Left { .. }).then_some(())
    })
    .await
    .expect("left");
}

/// Reads until the next snapshot: its tick.
async fn next_snapshot(c: &mut Client) -> u32 {
    c.recv_until("a snapshot", |m| match m {
        ServerMsg::Snapshot(b) => Some(b.tick.0),
        _ => None,
    })
    .await
    .expect("a snapshot")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_match_played_over_websockets_is_recorded_and_verifies() {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "tickrelay-replay-it-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let d = dir.clone();
    let server = TestServer::with(move |c| {
        c.replay.enabled = true;
        c.replay.dir = d;
        // Several chunks in a short match.
        c.replay.flush_every = Duration::from_millis(200);
        c.replay.checksum_every = 10;
        c.lobby.empty_close_after = Duration::ZERO;
        c.lobby.reconnect_grace = Duration::ZERO;
    })
    .await;
    let lobby = within(20, async {
        let (mut ann, _) = server.client("ann").await;
        let (mut bob, _) = server.client("bob").await;
        let ja = ann.create("recorded", "arena", 4, true).await.unwrap();
        bob.join(LobbyRef::Code(ja.code.clone())).await.unwrap();
        let mut rng = fastrand::Rng::with_seed(5);
        let mut last = 0;
        for seq in 1..=45u32 {
            for c in [&mut ann, &mut bob] {
                c.input(PlayerInput {
                    seq,
                    dx: rng.i8(-1..=1),
                    dy: rng.i8(-1..=1),
                    aim: rng.f32() * 6.0,
                    buttons: rng.u8(..2),
                    view_tick: last,
                })
                .await
                .unwrap();
            }
            last = next_snapshot(&mut ann).await;
            next_snapshot(&mut bob).await;
        }
        leave(&mut ann).await;
        leave(&mut bob).await;
        while server.registry.get(ja.lobby).is_some() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The writer closes the file a moment after the lobby ends.
        while server.metrics.replays_written.get() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ja.lobby
    })
    .await;
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with(&format!("-{}.trp", lobby.0)), "{name}");

    // What `tickrelay replay verify` runs.
    let (replay, v) = tickrelay::replay::verify_file(&files[0], Some(&server.metrics)).unwrap();
    assert_eq!(replay.torn_bytes, 0);
    assert!(replay.chunks >= 3, "{} chunks", replay.chunks);
    assert!(v.steps >= 45, "{v:?}");
    assert!(v.checksums >= 4, "{v:?}");
    assert_eq!(server.metrics.replay_verify_failures.get(), 0);
    let (_, s) = tickrelay::replay::info_file(&files[0]).unwrap();
    assert_eq!(s.game, "arena");
    let names: Vec<&str> = s.players.values().map(String::as_str).collect();
    assert_eq!(names, ["ann", "bob"]);
    assert_eq!(s.scores.map(|s| s.len()), Some(2));
    assert!(server.metric("tickrelay_replay_bytes_total").await > 0.0);
    assert_eq!(server.metric("tickrelay_replays_written_total").await, 1.0);

    // The CLI on the same file: verify exits 0 with a summary, info names who played.
    let cli = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tickrelay"))
            .args(args)
            .output()
            .unwrap()
    };
    let (replay_arg, file_arg) = (std::ffi::OsStr::new("replay"), files[0].as_os_str());
    let out = cli(&[replay_arg, "verify".as_ref(), file_arg]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with("ok: ") && text.contains("checksums match"),
        "{text}"
    );
    let out = cli(&[replay_arg, "info".as_ref(), file_arg]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("ann (#") && text.contains("bob (#"), "{text}");
    assert!(text.contains("final scores:"), "{text}");

    // A file cut short is still verified up to the cut; a mismatch counts as a failure.
    let bytes = std::fs::read(&files[0]).unwrap();
    let cut = dir.join("cut.trp");
    std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
    assert!(tickrelay::replay::verify_file(&cut, Some(&server.metrics)).is_ok());
    std::fs::write(&cut, b"not a replay").unwrap();
    let out = cli(&[replay_arg, "verify".as_ref(), cut.as_os_str()]);
    assert_eq!(out.status.code(), Some(2), "unreadable: exit 2");
    assert!(tickrelay::replay::verify_file(&cut, Some(&server.metrics)).is_err());
    assert_eq!(server.metrics.replay_verify_failures.get(), 1);
    server.stop().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Plays `ticks` snapshots' worth of inputs from both clients.
async fn play_a_while(a: &mut Client, b: &mut Client, ticks: u32) {
    let mut rng = fastrand::Rng::with_seed(9);
    for seq in 1..=ticks {
        for c in [&mut *a, &mut *b] {
            let (dx, dy) = (rng.i8(-1..=1), rng.i8(-1..=1));
            c.input(PlayerInput {
                seq,
                dx,
                dy,
                aim: 0.5,
                buttons: 0,
                view_tick: 0,
            })
            .await
            .unwrap();
        }
        next_snapshot(a).await;
        next_snapshot(b).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_are_listed_described_and_played_over_http_private_ones_only_for_the_operator() {
    use common::{http_get, http_get_bytes};
    use tickrelay::protocol::SnapshotBody;
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "tickrelay-replay-http-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let d = dir.clone();
    let server = TestServer::with(move |c| {
        c.replay.enabled = true;
        c.replay.dir = d;
        c.replay.flush_every = Duration::from_millis(100);
        c.admin.token = "op-secret".into();
        c.lobby.empty_close_after = Duration::ZERO;
        c.lobby.reconnect_grace = Duration::ZERO;
    })
    .await;
    let (public, private) = within(30, async {
        let (mut ann, _) = server.client("ann").await;
        let (mut bob, _) = server.client("bob").await;
        let open = ann.create("open match", "arena", 4, true).await.unwrap();
        bob.join(LobbyRef::Code(open.code.clone())).await.unwrap();
        play_a_while(&mut ann, &mut bob, 60).await;
        leave(&mut ann).await;
        leave(&mut bob).await;
        let hidden = ann
            .create("secret match", "walkers", 4, false)
            .await
            .unwrap();
        bob.join(LobbyRef::Code(hidden.code.clone())).await.unwrap();
        play_a_while(&mut ann, &mut bob, 20).await;
        leave(&mut ann).await;
        leave(&mut bob).await;
        while server.metrics.replays_written.get() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (open.lobby, hidden.lobby)
    })
    .await;
    let op = [("Authorization", "Bearer op-secret")];
    let ids = |body: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["replays"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Anyone sees the public match only; the operator sees both, newest first.
    let (status, body) = server.get("/api/replays").await;
    assert_eq!(status, 200, "{body}");
    let seen = ids(&body);
    assert_eq!(seen.len(), 1, "{body}");
    assert!(seen[0].ends_with(&format!("-{}", public.0)), "{body}");
    let (_, body) = http_get(server.addr, "/api/replays", &op).await;
    let all = ids(&body);
    assert_eq!(all.len(), 2, "{body}");
    assert!(
        all[0].ends_with(&format!("-{}", private.0)) && all[1] == seen[0],
        "{body}"
    );
    let (_, body) = http_get(
        server.addr,
        &format!("/api/replays?lobby={}", private.0),
        &op,
    )
    .await;
    assert_eq!(ids(&body), [all[0].clone()]);

    // Described: the game, its ticks, who played.
    let (status, body) = server.get(&format!("/api/replays/{}", seen[0])).await;
    assert_eq!(status, 200, "{body}");
    let d: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(d["game"], "arena");
    assert_eq!(d["ended"], true);
    assert_eq!(d["diverged_at"], serde_json::Value::Null);
    let names: Vec<&str> = d["players"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ann", "bob"]);
    let (first, last) = (
        d["first_tick"].as_u64().unwrap() as u32,
        d["last_tick"].as_u64().unwrap() as u32,
    );
    assert!(last >= first + 59, "{body}");

    // Frames from the middle: the first whole, then one per tick, both players in each.
    let from = first + 30;
    let (status, bytes) = http_get_bytes(
        server.addr,
        &format!("/api/replays/{}/frames?from={from}&count=20", seen[0]),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let bodies: Vec<SnapshotBody> = rmp_serde::from_slice(&bytes).unwrap();
    assert_eq!(bodies.len(), 20);
    assert_eq!(bodies[0].base_delta, 0);
    let mut mirror =
        tickrelay::snapshot::EntityTable::new(d["field_count"].as_u64().unwrap() as u8);
    for (i, b) in bodies.iter().enumerate() {
        assert_eq!(b.tick.0, from + i as u32);
        tickrelay::snapshot::apply(&mut mirror, b).unwrap();
    }
    let players = mirror
        .rows()
        .iter()
        .filter(|r| {
            r.fields[tickrelay::game::arena::field::KIND] == tickrelay::game::arena::KIND_PLAYER
        })
        .count();
    assert_eq!(players, 2);

    // The private match: not found for anyone else, played for the operator.
    let (status, _) = server.get(&format!("/api/replays/{}", all[0])).await;
    assert_eq!(status, 404);
    let (status, _) = http_get_bytes(
        server.addr,
        &format!("/api/replays/{}/frames?from=1", all[0]),
        &[],
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = http_get(server.addr, &format!("/api/replays/{}", all[0]), &op).await;
    assert_eq!(status, 200, "{body}");
    // Names that are no replay id are refused before any file is touched.
    for bad in ["..%2F..%2Fetc%2Fpasswd", "123", "1-2-3", "abc-1"] {
        let (status, _) = server.get(&format!("/api/replays/{bad}")).await;
        assert_eq!(status, 404, "{bad}");
    }
    let (status, _) = server
        .get(&format!("/api/replays/{}/frames", seen[0]))
        .await;
    assert_eq!(status, 400, "frames need from=");
    server.stop().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
