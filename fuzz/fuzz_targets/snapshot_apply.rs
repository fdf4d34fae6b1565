//! `snapshot::apply` on structured input: a mirror of any mask width fed a sequence of arbitrary
//! snapshot bodies. It must never panic, its rows must stay sorted and unique, and whenever an
//! apply succeeds the server's own encoder must describe the result exactly: a full snapshot of
//! the mirror (through the wire bytes) rebuilds it, and so does the delta from the state before.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tickrelay::protocol::{decode_server, EntityId, GameEvent, ServerMsg, SnapshotBody, Tick};
use tickrelay::snapshot::{apply, encode_body, encode_snapshot_frame, EntityTable, MAX_FIELDS};

#[derive(Arbitrary, Debug)]
struct Body {
    tick: u32,
    base_delta: u32,
    removed: Vec<u32>,
    entities: Vec<i64>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    field_count: u8,
    start_tick: u32,
    bodies: Vec<Body>,
}

fuzz_target!(|input: Input| {
    let f = input.field_count % MAX_FIELDS as u8 + 1;
    let mut mirror = EntityTable::new(f);
    mirror.clear(Tick(input.start_tick));
    for b in input.bodies.iter().take(16) {
        let body = SnapshotBody {
            tick: Tick(b.tick),
            base_delta: b.base_delta,
            removed: b.removed.iter().map(|&id| EntityId(id)).collect(),
            entities: b.entities.clone(),
            events: Vec::new(),
        };
        let before = mirror.clone();
        let ok = apply(&mut mirror, &body).is_ok();
        assert!(
            mirror.rows().windows(2).all(|w| w[0].id < w[1].id),
            "rows out of order after {body:?}"
        );
        if !ok {
            continue;
        }

        // A full snapshot of the mirror, through the bytes a client would receive.
        let events = [GameEvent {
            kind: 1,
            a: 2,
            b: 3,
        }];
        let frame = encode_snapshot_frame(None, &mirror, &events);
        let Ok(ServerMsg::Snapshot(full)) = decode_server(&frame) else {
            panic!("our own snapshot frame does not decode: {frame:02x?}");
        };
        let mut rebuilt = EntityTable::new(f);
        apply(&mut rebuilt, &full).expect("a full snapshot of a valid table applies");
        assert_eq!(rebuilt, mirror, "full snapshot does not rebuild the mirror");

        // The delta from the previous state (a delta needs a tick that moved).
        if before.tick != mirror.tick {
            let delta = encode_body(Some(&before), &mirror, &[]);
            let mut moved = before.clone();
            apply(&mut moved, &delta).expect("a delta from the held tick applies");
            assert_eq!(moved, mirror, "delta does not rebuild the mirror");
        }
    }
});
