//! `Input.earlier` through the real server: a gap left by lost messages is filled, one step per
//! input; an input not carried is a step not taken; a malformed `earlier` is refused whole.

mod common;

use common::{within, TestServer};
use tickrelay::client::{Applied, Client, World};
use tickrelay::game::arena::{field, ArenaRules, PILLARS};
use tickrelay::protocol::{ClientMsg, EntityId, PlayerInput, ServerMsg};
use tickrelay::snapshot::POS_SCALE;

fn step(seq: u32, dx: i8, dy: i8) -> PlayerInput {
    PlayerInput {
        seq,
        dx,
        dy,
        ..Default::default()
    }
}

/// Reads snapshots until our own ack reaches `seq`; our position (world units) then.
async fn position_at_ack(c: &mut Client, w: &mut World, me: EntityId, seq: u32) -> (f32, f32) {
    loop {
        let m = c.recv().await.expect("recv");
        assert!(
            !matches!(m, ServerMsg::Error { .. }),
            "unexpected error {m:?}"
        );
        if let Applied::Snapshot { .. } = w.apply(&m).expect("applies") {
            let row = w.table.get(me).expect("our own entity");
            if row.fields[field::ACK] as u32 >= seq {
                let q = |i: usize| row.fields[i] as f32 / POS_SCALE;
                return (q(field::X), q(field::Y));
            }
        }
    }
}

/// The axis direction with at least `need` units free of walls and pillars from `p`.
fn free_direction(p: (f32, f32), need: f32) -> (i8, i8) {
    let rules = ArenaRules::new(30);
    let r = rules.player_radius;
    let dirs = [(1i8, 0i8), (-1, 0), (0, 1), (0, -1)];
    *dirs
        .iter()
        .find(|(dx, dy)| {
            let (dx, dy) = (f32::from(*dx), f32::from(*dy));
            let end = (p.0 + dx * need, p.1 + dy * need);
            let inside = end.0 >= r
                && end.0 <= rules.world.x - r
                && end.1 >= r
                && end.1 <= rules.world.y - r;
            // Every point of the way keeps clear of every pillar (sampled finely enough).
            let clear = (0..=20).all(|i| {
                let t = need * i as f32 / 20.0;
                let (x, y) = (p.0 + dx * t, p.1 + dy * t);
                PILLARS.iter().all(|&(px, py, pr)| {
                    ((x - px).powi(2) + (y - py).powi(2)).sqrt() > pr + r + 1.0
                })
            });
            inside && clear
        })
        .expect("some direction has room")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earlier_inputs_fill_a_gap_and_a_missing_one_is_a_step_not_taken() {
    let server = TestServer::start().await;
    within(30, async {
        let (mut c, _) = server.client("gap").await;
        let joined = c.create("gaps", "arena", 2, true).await.unwrap();
        let me = joined.you.unwrap();
        let mut w = World::default();
        w.apply(&ServerMsg::Joined(joined)).unwrap();
        let start = position_at_ack(&mut c, &mut w, me, 0).await;
        let per_step = ArenaRules::new(30).player_speed / 30.0;
        let (dx, dy) = free_direction(start, per_step * 8.0);
        let along = |p: (f32, f32), q: (f32, f32)| {
            (q.0 - p.0) * f32::from(dx) + (q.1 - p.1) * f32::from(dy)
        };

        // Inputs 1 and 2 arrive; 3 and 4 are lost; 5 brings them along: five steps.
        c.input(step(1, dx, dy)).await.unwrap();
        c.input(step(2, dx, dy)).await.unwrap();
        c.send(&ClientMsg::Input {
            input: step(5, dx, dy),
            earlier: vec![step(3, dx, dy), step(4, dx, dy)],
        })
        .await
        .unwrap();
        let filled = position_at_ack(&mut c, &mut w, me, 5).await;
        let moved = along(start, filled);
        assert!(
            (moved - 5.0 * per_step).abs() < 0.2,
            "five inputs, five steps of {per_step}: moved {moved}"
        );

        // 6 and 7 are lost and nothing brings them: 8 alone is one step.
        c.input(step(8, dx, dy)).await.unwrap();
        let gap = position_at_ack(&mut c, &mut w, me, 8).await;
        let moved = along(filled, gap);
        assert!(
            (moved - per_step).abs() < 0.2,
            "one input, one step of {per_step}: moved {moved}"
        );

        // An `earlier` numbered at or above the input it rides with: refused, none of it applied.
        c.send(&ClientMsg::Input {
            input: step(9, dx, dy),
            earlier: vec![step(9, dx, dy)],
        })
        .await
        .unwrap();
        // Snapshots may come first: they are applied, so the mirror stays whole.
        let code = loop {
            let m = c.recv().await.expect("recv");
            if let ServerMsg::Error { code, .. } = m {
                break code;
            }
            w.apply(&m).expect("applies");
        };
        assert_eq!(code, 13, "BadInput");
        // The next good input is still the next step: 9 was never applied, so 9 itself counts.
        c.input(step(9, dx, dy)).await.unwrap();
        let after = position_at_ack(&mut c, &mut w, me, 9).await;
        let moved = along(gap, after);
        assert!(
            (moved - per_step).abs() < 0.2,
            "after the refusal, one step: moved {moved}"
        );
    })
    .await;
    server.stop().await.unwrap();
}
