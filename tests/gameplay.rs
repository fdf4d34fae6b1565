//! Playing through the real server: movement seen by others, mirrors equal to the server's world.

mod common;

use common::{within, TestServer};
use proptest::prelude::*;
use tickrelay::client::{Applied, Client, World};
use tickrelay::protocol::{ClientMsg, LobbyRef, PlayerInput, ServerMsg};

/// Reads until the next snapshot has been applied; returns its tick.
async fn next_tick(c: &mut Client, w: &mut World) -> u32 {
    loop {
        let m = c.recv().await.expect("recv");
        if let Applied::Snapshot { tick, .. } = w.apply(&m).expect("applies") {
            return tick.0;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_players_see_each_other_move_as_their_inputs_say() {
    let server = TestServer::start().await;
    within(30, async {
        let (mut a, _) = server.client("ann").await;
        let (mut b, _) = server.client("bob").await;
        let joined_a = a.create("duel", "walkers", 2, false).await.unwrap();
        let joined_b = b
            .join(LobbyRef::Code(joined_a.code.to_lowercase()))
            .await
            .unwrap();
        let (ida, idb) = (joined_a.you.unwrap(), joined_b.you.unwrap());
        let (mut wa, mut wb) = (World::default(), World::default());
        wa.apply(&ServerMsg::Joined(joined_a)).unwrap();
        wb.apply(&ServerMsg::Joined(joined_b)).unwrap();
        // Each walks toward the far side of the world in x; Ann also in y.
        let mut tick_b = next_tick(&mut b, &mut wb).await;
        let start_a = *wb.table.get(ida).expect("bob sees ann");
        let start_b = *wb.table.get(idb).unwrap();
        let dir = |q: i32| if q < 16000 { 1i8 } else { -1 };
        let (dxa, dya, dxb) = (
            dir(start_a.fields[0]),
            dir(start_a.fields[1]),
            dir(start_b.fields[0]),
        );
        let ticks = 20u32;
        for seq in 1..=ticks {
            a.input(PlayerInput {
                seq,
                dx: dxa,
                dy: dya,
                ..Default::default()
            })
            .await
            .unwrap();
            b.input(PlayerInput {
                seq,
                dx: dxb,
                dy: 0,
                ..Default::default()
            })
            .await
            .unwrap();
            tick_b = next_tick(&mut b, &mut wb).await;
            next_tick(&mut a, &mut wa).await;
        }
        // Wait until Bob's view acks all of Ann's inputs, then measure what he saw her do.
        while wb.table.get(ida).unwrap().fields[2] < ticks as i32 {
            tick_b = next_tick(&mut b, &mut wb).await;
        }
        let end_a = *wb.table.get(ida).unwrap();
        let moved_x = (end_a.fields[0] - start_a.fields[0]) * i32::from(dxa);
        let moved_y = (end_a.fields[1] - start_a.fields[1]) * i32::from(dya);
        // Diagonal speed is 200/sqrt(2) units/s: about 75 sixteenths per tick on each axis.
        let per_tick = (200.0 / 2f64.sqrt() / 30.0 * 16.0) as i32;
        assert!(
            moved_x >= per_tick * (ticks as i32 - 1),
            "x moved {moved_x} at tick {tick_b}"
        );
        assert!(
            moved_x <= per_tick * (ticks as i32 + 2) + 2,
            "x moved {moved_x}"
        );
        assert!(
            (moved_x - moved_y).abs() <= 2 * per_tick,
            "diagonal: {moved_x} vs {moved_y}"
        );
        // And Ann sees Bob walk straight along x at the full 200 units/s.
        while wa.table.get(idb).unwrap().fields[2] < ticks as i32 {
            next_tick(&mut a, &mut wa).await;
        }
        let seen_b = *wa.table.get(idb).unwrap();
        let moved_b = (seen_b.fields[0] - start_b.fields[0]) * i32::from(dxb);
        let straight = (200.0 / 30.0 * 16.0) as i32;
        assert!(
            moved_b >= straight * (ticks as i32 - 1),
            "bob moved {moved_b}"
        );
        assert_eq!(seen_b.fields[1], start_b.fields[1], "bob did not move in y");
        server.assert_mirror(&wa).await;
        server.assert_mirror(&wb).await;
    })
    .await;
}

/// One step of a generated scenario.
#[derive(Clone, Debug)]
enum Op {
    Join,
    Leave(usize),
    Input {
        who: usize,
        dx: i8,
        dy: i8,
        fire: bool,
        aim: f32,
    },
    Wait,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Join),
        1 => (0usize..8).prop_map(Op::Leave),
        6 => (0usize..8, -1i8..=1, -1i8..=1, any::<bool>(), -4.0f32..4.0)
            .prop_map(|(who, dx, dy, fire, aim)| Op::Input { who, dx, dy, fire, aim }),
        2 => Just(Op::Wait),
    ]
}

struct Player {
    client: Client,
    world: World,
    seq: u32,
}

async fn run_scenario(ops: Vec<Op>, game: &'static str) {
    let server = TestServer::with(|c| {
        c.lobby.tick_rate = 60;
        // The checks ask for the table of the tick a client holds; a deep history keeps it there
        // even when a loaded test machine stalls this task for a few seconds.
        c.lobby.history = 1024;
    })
    .await;
    let (mut observer, _) = server.client("observer").await;
    let j = observer.create("prop", game, 8, false).await.unwrap();
    let code = j.code.clone();
    let mut obs_world = World::default();
    obs_world.apply(&ServerMsg::Joined(j)).unwrap();
    let mut players: Vec<Player> = Vec::new();
    for op in ops {
        match op {
            Op::Join if players.len() < 7 => {
                let (mut c, _) = server.client("p").await;
                c.send(&ClientMsg::Join(LobbyRef::Code(code.clone())))
                    .await
                    .unwrap();
                players.push(Player {
                    client: c,
                    world: World::default(),
                    seq: 0,
                });
            }
            Op::Leave(i) if !players.is_empty() => {
                // A proper leave frees the seat at once (a dropped socket would hold it for a
                // reconnect), so later joins in the scenario find room.
                let mut p = players.remove(i % players.len());
                p.client.send(&ClientMsg::Leave).await.unwrap();
                p.client.close().await;
            }
            Op::Input {
                who,
                dx,
                dy,
                fire,
                aim,
            } if !players.is_empty() => {
                let n = players.len();
                let p = &mut players[who % n];
                p.seq += 1;
                let input = PlayerInput {
                    seq: p.seq,
                    dx,
                    dy,
                    aim,
                    buttons: u8::from(fire),
                    view_tick: 0,
                };
                p.client.input(input).await.unwrap();
            }
            _ => {}
        }
        // One tick passes for everyone; every mirror must then equal the server's world.
        let t = next_tick(&mut observer, &mut obs_world).await;
        server.assert_mirror(&obs_world).await;
        for p in &mut players {
            p.client.sync_to(&mut p.world, t).await.unwrap();
            server.assert_mirror(&p.world).await;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, max_shrink_iters: 8, ..ProptestConfig::default() })]

    #[test]
    fn every_client_mirror_equals_the_server_world(ops in proptest::collection::vec(op(), 20..80), arena in any::<bool>()) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(within(30, run_scenario(ops, if arena { "arena" } else { "walkers" })));
    }
}
