//! WebSocket framing for the client side (RFC 6455 section 5): masked frames out, server frames
//! in, parsed in place from one reusable buffer.
//!
//! Why not tungstenite's codec after the handshake: per frame it zero-fills its spare read
//! buffer before every read, hands each payload out as a reference-counted `Bytes`, formats
//! every outgoing frame through an allocation and draws each mask from a CSPRNG. At 30 frames a
//! second each way for thousands of bots that was most of the bots' own user-space time. This
//! codec parses a frame where it lies and builds an input frame in a reused buffer. The tests
//! hold it to tungstenite's behaviour, which remains the reference.

use std::io;
use std::ops::Range;

pub const OP_CONTINUE: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// Largest message accepted from the server (tungstenite's default frame limit): far above any
/// snapshot, low enough that a broken length cannot take the machine's memory.
pub const MAX_MESSAGE: usize = 16 << 20;
/// The read buffer a connection starts with; a larger frame grows it.
const INITIAL_BUFFER: usize = 4 * 1024;
/// Below this much free room at the end, unread bytes move to the front before a read.
const MIN_READ: usize = 1024;

/// Why the server's byte stream is not valid WebSocket.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("a masked frame from the server")]
    Masked,
    #[error("reserved bits set")]
    Reserved,
    #[error("unknown opcode {0}")]
    Opcode(u8),
    #[error("a fragmented or oversized control frame")]
    BadControl,
    #[error("a message of {0} bytes")]
    TooBig(u64),
    #[error("a continuation frame out of place")]
    Continuation,
    #[error("a one-byte close payload")]
    BadClose,
}

/// Appends one final, masked frame carrying `payload` to `out`.
pub fn encode(out: &mut Vec<u8>, opcode: u8, payload: &[u8], mask: [u8; 4]) {
    out.push(0x80 | opcode);
    let n = payload.len();
    if n < 126 {
        out.push(0x80 | n as u8);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(0x80 | 126);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    let at = out.len();
    out.extend_from_slice(payload);
    for (i, b) in out[at..].iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

/// A frame header read from the front of a buffer.
#[derive(Debug, PartialEq, Eq)]
struct Header {
    fin: bool,
    opcode: u8,
    len: usize,
    payload_len: usize,
}

/// The header at the front of `b`, or `None` when `b` does not hold all of it yet.
fn header(b: &[u8]) -> Result<Option<Header>, FrameError> {
    let (Some(&b0), Some(&b1)) = (b.first(), b.get(1)) else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(FrameError::Reserved);
    }
    let (fin, opcode) = (b0 & 0x80 != 0, b0 & 0x0f);
    if !matches!(opcode, 0x0..=0x2 | 0x8..=0xA) {
        return Err(FrameError::Opcode(opcode));
    }
    if b1 & 0x80 != 0 {
        return Err(FrameError::Masked);
    }
    let (len, payload_len) = match b1 & 0x7f {
        126 => match b.get(2..4) {
            Some(l) => (4, u64::from(u16::from_be_bytes([l[0], l[1]]))),
            None => return Ok(None),
        },
        127 => match b.get(2..10).and_then(|l| <[u8; 8]>::try_from(l).ok()) {
            Some(l) => (10, u64::from_be_bytes(l)),
            None => return Ok(None),
        },
        n => (2, u64::from(n)),
    };
    if opcode >= OP_CLOSE && (!fin || payload_len > 125) {
        return Err(FrameError::BadControl);
    }
    if payload_len > MAX_MESSAGE as u64 {
        return Err(FrameError::TooBig(payload_len));
    }
    Ok(Some(Header {
        fin,
        opcode,
        len,
        payload_len: payload_len as usize,
    }))
}

/// Where a message's bytes are: in the read buffer, or put together from fragments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Span {
    Buffer(Range<usize>),
    Assembled,
}

/// What the server sent, as far as a bot cares (pongs and text messages are skipped).
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    Binary(Span),
    Ping(Span),
    /// The close frame's code, if it had one.
    Close(Option<u16>),
}

/// The server's byte stream: a read buffer and the messages in it.
pub struct Inbox {
    buf: Vec<u8>,
    /// Unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// The opcode of a fragmented message under way.
    partial: Option<u8>,
    assembled: Vec<u8>,
}

impl Default for Inbox {
    fn default() -> Self {
        Inbox::with_bytes(&[])
    }
}

impl Inbox {
    /// An inbox that starts with bytes already read (what followed the handshake's response).
    pub fn with_bytes(b: &[u8]) -> Inbox {
        // Zeroed once here, never again per read.
        let mut buf = vec![0; INITIAL_BUFFER.max(b.len())];
        buf[..b.len()].copy_from_slice(b);
        Inbox {
            buf,
            start: 0,
            end: b.len(),
            partial: None,
            assembled: Vec::new(),
        }
    }

    pub fn bytes(&self, span: &Span) -> &[u8] {
        match span {
            Span::Buffer(r) => &self.buf[r.clone()],
            Span::Assembled => &self.assembled,
        }
    }

    /// The next event in the bytes read so far; `None` when more bytes are needed.
    pub fn next(&mut self) -> Result<Option<Event>, FrameError> {
        loop {
            let Some(h) = header(&self.buf[self.start..self.end])? else {
                return Ok(None);
            };
            let total = h.len + h.payload_len;
            if self.end - self.start < total {
                self.make_room(total);
                return Ok(None);
            }
            let payload = self.start + h.len..self.start + total;
            self.start += total;
            match (h.opcode, self.partial) {
                (OP_PING, _) => return Ok(Some(Event::Ping(Span::Buffer(payload)))),
                (OP_PONG, _) => {}
                (OP_CLOSE, _) => {
                    let code = match &self.buf[payload] {
                        [] => None,
                        [_] => return Err(FrameError::BadClose),
                        [hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
                    };
                    return Ok(Some(Event::Close(code)));
                }
                (OP_TEXT | OP_BINARY, None) if h.fin => {
                    if h.opcode == OP_BINARY {
                        return Ok(Some(Event::Binary(Span::Buffer(payload))));
                    }
                }
                (OP_TEXT | OP_BINARY, None) => {
                    self.partial = Some(h.opcode);
                    self.assembled.clear();
                    self.assembled.extend_from_slice(&self.buf[payload]);
                }
                (OP_CONTINUE, Some(op)) => {
                    let size = self.assembled.len() + payload.len();
                    if size > MAX_MESSAGE {
                        return Err(FrameError::TooBig(size as u64));
                    }
                    self.assembled.extend_from_slice(&self.buf[payload]);
                    if h.fin {
                        self.partial = None;
                        if op == OP_BINARY {
                            return Ok(Some(Event::Binary(Span::Assembled)));
                        }
                    }
                }
                _ => return Err(FrameError::Continuation),
            }
        }
    }

    /// Reads once into the free room with `read`: the byte count and whether the read came
    /// back short (the source had nothing more at that moment).
    pub fn fill(
        &mut self,
        read: impl FnOnce(&mut [u8]) -> io::Result<usize>,
    ) -> io::Result<(usize, bool)> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.buf.len() - self.end < MIN_READ {
            self.make_room(0);
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let room = self.buf.len() - self.end;
        let n = read(&mut self.buf[self.end..])?;
        self.end += n.min(room);
        Ok((n, n < room))
    }

    /// Moves the unread bytes to the front, and grows the buffer to hold `frame` bytes.
    fn make_room(&mut self, frame: usize) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.buf.len() < frame {
            self.buf.resize(frame.next_power_of_two(), 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::{Cursor, Read, Write};
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketContext};
    use tokio_tungstenite::tungstenite::Message;

    /// A byte pipe for tungstenite: reads from `input`, writes to `output`.
    #[derive(Default)]
    struct Pipe {
        input: Cursor<Vec<u8>>,
        output: Vec<u8>,
    }

    impl Read for Pipe {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// What a tungstenite server reads from our client frames.
    fn server_reads(bytes: Vec<u8>) -> Vec<Message> {
        let mut pipe = Pipe {
            input: Cursor::new(bytes),
            ..Pipe::default()
        };
        let mut server = WebSocketContext::new(Role::Server, None);
        let mut got = Vec::new();
        while let Ok(m) = server.read(&mut pipe) {
            got.push(m);
        }
        got
    }

    /// The bytes a tungstenite server writes for `frames`.
    fn server_writes(frames: Vec<Frame>) -> Vec<u8> {
        let mut pipe = Pipe::default();
        let mut server = WebSocketContext::new(Role::Server, None);
        for f in frames {
            server.write(&mut pipe, Message::Frame(f)).unwrap();
        }
        server.flush(&mut pipe).unwrap();
        pipe.output
    }

    /// Everything our inbox makes of `bytes`, fed in chunks of `chunk` bytes.
    fn inbox_reads(bytes: &[u8], chunk: usize) -> Result<Vec<(char, Vec<u8>)>, FrameError> {
        let mut inbox = Inbox::default();
        let mut fed = 0;
        let mut got = Vec::new();
        loop {
            while let Some(e) = inbox.next()? {
                got.push(match e {
                    Event::Binary(s) => ('b', inbox.bytes(&s).to_vec()),
                    Event::Ping(s) => ('p', inbox.bytes(&s).to_vec()),
                    Event::Close(c) => ('c', c.map_or(vec![], |c| c.to_be_bytes().to_vec())),
                });
            }
            if fed == bytes.len() {
                return Ok(got);
            }
            let (n, _) = inbox
                .fill(|buf| {
                    let n = buf.len().min(chunk).min(bytes.len() - fed);
                    buf[..n].copy_from_slice(&bytes[fed..fed + n]);
                    Ok(n)
                })
                .unwrap();
            fed += n;
        }
    }

    #[test]
    fn a_tungstenite_server_reads_our_frames() {
        for size in [0, 1, 125, 126, 127, 65_535, 65_536, 70_000] {
            let payload: Vec<u8> = (0..size).map(|i| (i * 7) as u8).collect();
            let mut out = Vec::new();
            encode(&mut out, OP_BINARY, &payload, [1, 2, 3, 250]);
            assert_eq!(server_reads(out), vec![Message::Binary(payload.into())]);
        }
        let mut out = Vec::new();
        encode(&mut out, OP_PONG, b"hi", [9, 8, 7, 6]);
        encode(&mut out, OP_CLOSE, &1000u16.to_be_bytes(), [0, 0, 0, 1]);
        let got = server_reads(out);
        assert_eq!(got[0], Message::Pong(b"hi".to_vec().into()));
        let Message::Close(Some(CloseFrame { code, .. })) = &got[1] else {
            panic!("{got:?}");
        };
        assert_eq!(u16::from(*code), 1000);
    }

    #[test]
    fn reads_what_a_tungstenite_server_writes() {
        let big: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        let frag = |data: &[u8], op, fin| Frame::message(data.to_vec(), op, fin);
        let bytes = server_writes(vec![
            frag(b"one", OpCode::Data(Data::Binary), true),
            Frame::ping(b"are you there".to_vec()),
            frag(&big, OpCode::Data(Data::Binary), true),
            frag(b"ab", OpCode::Data(Data::Binary), false),
            Frame::ping(b"mid".to_vec()),
            frag(b"cd", OpCode::Data(Data::Continue), false),
            frag(b"e", OpCode::Data(Data::Continue), true),
            frag(b"text is skipped", OpCode::Data(Data::Text), true),
            Frame::pong(b"skipped".to_vec()),
            Frame::close(Some(CloseFrame {
                code: 4004.into(),
                reason: "idle".into(),
            })),
        ]);
        let want = vec![
            ('b', b"one".to_vec()),
            ('p', b"are you there".to_vec()),
            ('b', big.clone()),
            ('p', b"mid".to_vec()),
            ('b', b"abcde".to_vec()),
            ('c', 4004u16.to_be_bytes().to_vec()),
        ];
        for chunk in [1, 2, 7, 100, 4096, usize::MAX] {
            assert_eq!(inbox_reads(&bytes, chunk).unwrap(), want, "chunk {chunk}");
        }
    }

    #[test]
    fn refuses_what_a_server_must_not_send() {
        let refused = |b: &[u8]| inbox_reads(b, usize::MAX).unwrap_err();
        assert_eq!(refused(&[0x82, 0x81, 0, 0, 0, 0, 0]), FrameError::Masked);
        assert_eq!(refused(&[0xC2, 0x00]), FrameError::Reserved);
        assert_eq!(refused(&[0x83, 0x00]), FrameError::Opcode(3));
        assert_eq!(refused(&[0x09, 0x00]), FrameError::BadControl);
        assert_eq!(refused(&[0x80, 0x00]), FrameError::Continuation);
        assert_eq!(refused(&[0x02, 0x00, 0x82, 0x00]), FrameError::Continuation);
        assert_eq!(refused(&[0x88, 0x01, 0x03]), FrameError::BadClose);
        let mut huge = vec![0x82, 127];
        huge.extend_from_slice(&(1u64 << 40).to_be_bytes());
        assert_eq!(refused(&huge), FrameError::TooBig(1 << 40));
    }

    #[test]
    fn a_frame_cut_anywhere_waits_for_the_rest() {
        let bytes = server_writes(vec![Frame::message(
            vec![5; 300],
            OpCode::Data(Data::Binary),
            true,
        )]);
        for cut in 0..bytes.len() {
            let mut inbox = Inbox::with_bytes(&bytes[..cut]);
            assert_eq!(inbox.next(), Ok(None), "cut at {cut}");
        }
    }

    proptest! {
        /// Any mix of binary messages, in any chunking, comes out as tungstenite wrote it.
        #[test]
        fn binary_messages_survive_any_chunking(
            msgs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 1..20),
            chunk in 1usize..5000,
        ) {
            let frames = msgs
                .iter()
                .map(|m| Frame::message(m.clone(), OpCode::Data(Data::Binary), true))
                .collect();
            let got = inbox_reads(&server_writes(frames), chunk).unwrap();
            let want: Vec<_> = msgs.into_iter().map(|m| ('b', m)).collect();
            prop_assert_eq!(got, want);
        }
    }
}
