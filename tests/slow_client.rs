//! A client that stops reading: skipped (never queued behind), then recovered to the exact state.

mod common;

use common::{small_buffer_client, within, TestServer};
use std::time::Duration;
use tickrelay::client::{Applied, World};
use tickrelay::protocol::{LobbyRef, PlayerInput, ServerMsg};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_skipped_then_recovers_the_exact_state() {
    let server = TestServer::with(|c| {
        // Small kernel buffers so the stall reaches the lobby's queue within seconds, and a slow
        // limit far beyond the stall so this client is skipped, not kicked.
        c.limits.socket_send_buffer = 4096;
        c.lobby.slow_client_timeout = Duration::from_secs(60);
    })
    .await;
    within(60, async {
        let mut slow = small_buffer_client(server.addr).await;
        slow.hello("slow", None).await.unwrap();
        let joined = slow.create("stall", "walkers", 64, false).await.unwrap();
        let code = joined.code.clone();
        let mut world = World::default();
        world.apply(&ServerMsg::Joined(joined)).unwrap();

        // Forty walkers head for the far corners and keep walking on their one input; each reads
        // everything in the background so only the stalled client ever falls behind.
        let mut readers = Vec::new();
        for i in 0..40u32 {
            let (mut c, _) = server.client(&format!("w{i}")).await;
            c.join(LobbyRef::Code(code.clone())).await.unwrap();
            let dx = if i % 2 == 0 { 1 } else { -1 };
            let dy = if i % 3 == 0 { 1 } else { -1 };
            c.input(PlayerInput {
                seq: 1,
                dx,
                dy,
                ..Default::default()
            })
            .await
            .unwrap();
            readers.push(tokio::spawn(async move { while c.recv().await.is_ok() {} }));
        }
        // Read until the walkers are in and moving.
        loop {
            let m = slow.recv().await.unwrap();
            world.apply(&m).unwrap();
            if world.table.len() == 41 {
                break;
            }
        }
        let skipped_before = server.metric("tickrelay_snapshots_skipped_total").await;

        // The stall: this client reads nothing for four seconds (the behaviour under test).
        tokio::time::sleep(Duration::from_secs(4)).await;
        let skipped = server.metric("tickrelay_snapshots_skipped_total").await - skipped_before;
        assert!(
            skipped > 0.0,
            "the lobby never had to skip the stalled client"
        );

        // It reads again: what was queued drains, then a delta from the last tick it really got
        // (or a full snapshot when that is out of history) brings it back in step.
        let mut resynced = false;
        let mut after = 0;
        loop {
            let m = slow.recv().await.unwrap();
            if let ServerMsg::Snapshot(b) = &m {
                if b.base_delta != 1 {
                    resynced = true;
                }
            }
            if let Applied::Snapshot { .. } = world.apply(&m).expect("every frame applies in order")
            {
                if resynced {
                    after += 1;
                    // A few ticks past the resync the client is back to one delta per tick.
                    if after == 3 {
                        break;
                    }
                }
            }
        }
        server.assert_mirror(&world).await;
        for r in readers {
            r.abort();
        }
    })
    .await;
}
