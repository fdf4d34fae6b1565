//! A server message framed once as a whole unmasked WebSocket binary frame, so the same bytes can
//! be written to every socket that gets it.
//!
//! Server-to-client frames are never masked (RFC 6455 section 5.1), so header and payload are
//! identical on every connection: a snapshot shared by a lobby is framed once per tick and each
//! member's socket gets one `write` of the same buffer, with no per-connection copy or framing.

use super::codec::encode_into;
use bytes::Bytes;
use serde::Serialize;

/// Room kept in front of a payload for the largest header a server frame needs
/// (2 bytes, then a 64-bit length: RFC 6455 section 5.2; servers never add a mask key).
pub const MAX_HEADER: usize = 10;

/// FIN set, opcode 2 (binary): every message of this protocol is one such frame.
const FIN_BINARY: u8 = 0x82;

/// One complete binary WebSocket frame: header then payload, cheap to clone (shared bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    bytes: Bytes,
    header: u8,
}

impl Frame {
    /// Frames one message (allocates; the per-tick path reuses a [`FrameBuf`] instead).
    pub fn encode<T: Serialize>(msg: &T) -> Frame {
        let mut b = FrameBuf::new();
        encode_into(b.start(), msg);
        b.finish()
    }

    /// Frames an already encoded payload.
    pub fn from_payload(payload: &[u8]) -> Frame {
        let mut b = FrameBuf::new();
        b.start().extend_from_slice(payload);
        b.finish()
    }

    /// The whole frame, as written to a socket.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The message inside (the WebSocket payload).
    pub fn payload(&self) -> &[u8] {
        &self.bytes[usize::from(self.header)..]
    }

    pub fn payload_len(&self) -> usize {
        self.bytes.len() - usize::from(self.header)
    }
}

/// A reusable buffer that encodes a payload behind reserved header room and writes the header
/// right-aligned into that room, so the payload is never moved to make room for it; the finished
/// frame is then copied out once, into the shared bytes every socket gets.
#[derive(Debug)]
pub struct FrameBuf {
    buf: Vec<u8>,
}

impl Default for FrameBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameBuf {
    pub fn new() -> Self {
        FrameBuf {
            buf: Vec::with_capacity(256),
        }
    }

    /// Clears the buffer and returns it to append one payload to (the header room is already in).
    pub fn start(&mut self) -> &mut Vec<u8> {
        self.buf.clear();
        self.buf.resize(MAX_HEADER, 0);
        &mut self.buf
    }

    /// Frames what was appended since [`FrameBuf::start`] and copies it out as one shared frame;
    /// the buffer keeps its capacity for the next payload.
    pub fn finish(&mut self) -> Frame {
        let len = self.buf.len().saturating_sub(MAX_HEADER);
        let mut header = [0u8; MAX_HEADER];
        let n = write_header(&mut header, len);
        let at = MAX_HEADER - n;
        self.buf[at..MAX_HEADER].copy_from_slice(&header[..n]);
        Frame {
            bytes: Bytes::copy_from_slice(&self.buf[at..]),
            header: n as u8,
        }
    }
}

/// Writes the header of an unmasked final binary frame carrying `len` payload bytes; returns its
/// length (2, 4 or 10).
fn write_header(out: &mut [u8; MAX_HEADER], len: usize) -> usize {
    out[0] = FIN_BINARY;
    match len {
        0..=125 => {
            out[1] = len as u8;
            2
        }
        126..=0xffff => {
            out[1] = 126;
            out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            4
        }
        _ => {
            out[1] = 127;
            out[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            10
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{decode_server, ServerMsg};

    /// Reads a frame back the way RFC 6455 section 5.2 describes it: (opcode, fin, payload).
    fn parse(b: &[u8]) -> (u8, bool, &[u8]) {
        let (len, at) = match b[1] & 0x7f {
            126 => (usize::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 => (
                u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (usize::from(n), 2),
        };
        assert_eq!(b[1] & 0x80, 0, "server frames are never masked");
        assert_eq!(b.len(), at + len, "one whole frame");
        (b[0] & 0x0f, b[0] & 0x80 != 0, &b[at..])
    }

    #[test]
    fn every_length_class_frames_as_rfc_6455_reads_it() {
        for len in [0, 1, 125, 126, 127, 65_535, 65_536, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let f = Frame::from_payload(&payload);
            let (op, fin, body) = parse(f.bytes());
            assert_eq!((op, fin), (2, true), "len {len}");
            assert_eq!(body, &payload[..]);
            assert_eq!(f.payload(), &payload[..]);
            assert_eq!(f.payload_len(), len);
        }
    }

    #[test]
    fn a_reused_buffer_frames_each_message_on_its_own() {
        let mut b = FrameBuf::new();
        encode_into(b.start(), &ServerMsg::Pong { nonce: 7 });
        let first = b.finish();
        encode_into(b.start(), &ServerMsg::Pong { nonce: 1 << 40 });
        let second = b.finish();
        assert_eq!(
            decode_server(first.payload()).unwrap(),
            ServerMsg::Pong { nonce: 7 }
        );
        assert_eq!(
            decode_server(second.payload()).unwrap(),
            ServerMsg::Pong { nonce: 1 << 40 }
        );
        assert_eq!(first, Frame::encode(&ServerMsg::Pong { nonce: 7 }));
    }
}
