//! MessagePack codec over rmp-serde: bounded depth, whole-frame consumption, errors a client can read.

use super::messages::{ClientMsg, ServerMsg};
use serde::Serialize;

/// Nesting limit handed to rmp-serde (a frame may nest at most 7 levels). Our deepest message,
/// `Joined` (message, snapshot, events, event), is 4 levels; the margin lets
/// later versions append fields, while a hostile `[[[[...]]]]` fails fast instead of recursing.
pub const MAX_DEPTH: usize = 8;

/// Why a frame did not decode. The `Display` text is what the client sees in the `Error` frame.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("empty frame")]
    Empty,
    #[error("a message is a MessagePack array; this frame starts with byte 0x{0:02x}")]
    NotAnArray(u8),
    #[error("unknown message type {0}")]
    UnknownType(u64),
    #[error("{0} trailing bytes after the message")]
    Trailing(usize),
    #[error("malformed message: {0}")]
    Invalid(String),
}

fn is_array_marker(b: u8) -> bool {
    matches!(b, 0x90..=0x9f | 0xdc | 0xdd)
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let first = *bytes.first().ok_or(DecodeError::Empty)?;
    if !is_array_marker(first) {
        return Err(DecodeError::NotAnArray(first));
    }
    // A `&[u8]` reader advances as it is read, so what is left afterwards is the trailing part.
    // (rmp-serde copies strings out through `take`, so a huge declared length cannot over-allocate.)
    let mut rest: &[u8] = bytes;
    let mut de = rmp_serde::Deserializer::new(&mut rest);
    de.set_max_depth(MAX_DEPTH);
    let value = T::deserialize(&mut de).map_err(|e| {
        let text = e.to_string();
        // Surface the unknown-type case on its own so the server can answer with its own code.
        match text
            .strip_prefix("unknown message type ")
            .and_then(|n| n.parse().ok())
        {
            Some(n) => DecodeError::UnknownType(n),
            None => DecodeError::Invalid(text),
        }
    })?;
    drop(de);
    if !rest.is_empty() {
        return Err(DecodeError::Trailing(rest.len()));
    }
    Ok(value)
}

/// Decodes one client-to-server frame.
pub fn decode_client(bytes: &[u8]) -> Result<ClientMsg, DecodeError> {
    decode(bytes)
}

/// Decodes one server-to-client frame.
pub fn decode_server(bytes: &[u8]) -> Result<ServerMsg, DecodeError> {
    decode(bytes)
}

/// Encodes any message; our types never fail to serialize, so this returns the bytes directly.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    encode_into(&mut out, msg);
    out
}

/// Appends the encoding of `msg` to `out` (lets the hot path reuse a buffer).
pub fn encode_into<T: Serialize>(out: &mut Vec<u8>, msg: &T) {
    // Writing into a Vec cannot fail, and none of our Serialize impls return errors.
    let _ = msg.serialize(&mut rmp_serde::Serializer::new(out));
}
