//! `decode_client` on arbitrary bytes: it must never panic, and whatever it accepts must survive
//! a round trip (encode the message, decode it again: the same message, and the same bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickrelay::protocol::{decode_client, encode, ClientMsg};

/// `aim` is an f32 straight off the wire, so NaN decodes (the session refuses it later); NaN is
/// not equal to itself, so messages carrying it are compared through their bytes only.
fn has_nan(msg: &ClientMsg) -> bool {
    match msg {
        ClientMsg::Input { input, earlier } => {
            input.aim.is_nan() || earlier.iter().any(|e| e.aim.is_nan())
        }
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = decode_client(data) else {
        return;
    };
    let _ = msg.kind();
    let bytes = encode(&msg);
    let again = decode_client(&bytes).unwrap_or_else(|e| {
        panic!("re-encoding of {msg:?} does not decode: {e} (bytes {bytes:02x?})")
    });
    if !has_nan(&msg) {
        assert_eq!(
            msg, again,
            "round trip changed the message (bytes {bytes:02x?})"
        );
    }
    // The canonical encoding is a fixed point.
    assert_eq!(
        bytes,
        encode(&again),
        "re-encoding is not stable for {msg:?}"
    );
});
