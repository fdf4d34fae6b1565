//! `decode_server` on arbitrary bytes: never panics, round-trips whatever it accepts, and a
//! client mirror fed the decoded message (a `Joined` or `Snapshot` body above all) never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickrelay::client::World;
use tickrelay::protocol::{decode_server, encode, ServerMsg};
use tickrelay::snapshot::{apply, EntityTable, MAX_FIELDS};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = decode_server(data) else {
        return;
    };
    let bytes = encode(&msg);
    let again = decode_server(&bytes).unwrap_or_else(|e| {
        panic!("re-encoding of {msg:?} does not decode: {e} (bytes {bytes:02x?})")
    });
    assert_eq!(
        msg, again,
        "round trip changed the message (bytes {bytes:02x?})"
    );
    assert_eq!(
        bytes,
        encode(&again),
        "re-encoding is not stable for {msg:?}"
    );

    // What the bots and tests do with every frame: a fresh mirror, then the same message twice
    // (the second time a delta meets a mirror that already moved on).
    let mut world = World::default();
    let _ = world.apply(&msg);
    let _ = world.apply(&msg);
    let _ = world.own_ack();

    // Snapshot bodies against every mask width a game may use, from an empty mirror and from
    // the mirror the body itself built.
    let body = match &msg {
        ServerMsg::Snapshot(b) => b,
        ServerMsg::Joined(j) => &j.snapshot,
        _ => return,
    };
    for f in 1..=MAX_FIELDS as u8 {
        let mut mirror = EntityTable::new(f);
        let _ = apply(&mut mirror, body);
        let _ = apply(&mut mirror, body);
        assert!(
            mirror.rows().windows(2).all(|w| w[0].id < w[1].id),
            "mirror rows out of order after {body:?}"
        );
    }
});
