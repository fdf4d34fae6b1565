//! The replay file format (docs/replay.md): magic, version, a framed header, framed chunks.
//!
//! Pure: bytes in, bytes out; the writer and the CLI do the I/O.

use super::record::Record;
use crate::game::{GameKind, GameSetup};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const MAGIC: &[u8; 6] = b"TRPLAY";
/// Bumped on any change a reader of the old layout would misread.
pub const VERSION: u16 = 1;
/// A frame's head: u32 LE payload length, u32 LE crc32 of the payload.
pub const FRAME_HEAD: usize = 8;
/// A chunk starts with its frame head and then an array32 marker and count (filled in by
/// [`seal`]): the encoder reserves these bytes first so sealing a chunk never copies it.
pub const CHUNK_HEAD: usize = FRAME_HEAD + 5;

/// What a replay needs to rebuild its game, and what it says about the match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub game: String,
    pub tick_rate: u16,
    pub seed: u64,
    pub kill_goal: u16,
    pub round_seconds: u16,
    pub max_rewind_ms: u64,
    pub protocol: u16,
    pub lobby_id: u32,
    pub code: String,
    pub name: String,
    pub start_unix_ms: u64,
    /// A checksum record follows every this many steps.
    pub checksum_every: u32,
    /// The lobby was listed publicly: its replay is listed by `GET /api/replays` for anyone
    /// (a private lobby's only for the operator). Absent in files written before it: private.
    #[serde(default)]
    pub public: bool,
}

impl Header {
    pub fn game_kind(&self) -> Result<GameKind, String> {
        self.game.parse()
    }

    /// Exactly the setup the lobby built its game from.
    pub fn game_setup(&self) -> GameSetup {
        GameSetup {
            tick_rate: self.tick_rate,
            seed: self.seed,
            kill_goal: self.kill_goal,
            round_seconds: self.round_seconds,
            max_rewind: Duration::from_millis(self.max_rewind_ms),
        }
    }
}

/// A replay's file name: start time, then lobby id (ids restart with the server; the time sorts
/// files oldest first, which is the order the size cap deletes them in).
pub fn file_name(header: &Header) -> String {
    format!("{:013}-{}.trp", header.start_unix_ms, header.lobby_id)
}

/// The file's first bytes: magic, version, and the header as a frame.
pub fn file_start(header: &Header) -> Vec<u8> {
    let body = rmp_serde::to_vec_named(header).expect("a header always encodes");
    let mut out = Vec::with_capacity(MAGIC.len() + 2 + FRAME_HEAD + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Fills in the head of a chunk of `count` records that starts with [`CHUNK_HEAD`] bytes left
/// for it.
pub fn seal(chunk: &mut [u8], count: u32) {
    chunk[FRAME_HEAD] = 0xdd; // array32
    chunk[FRAME_HEAD + 1..CHUNK_HEAD].copy_from_slice(&count.to_be_bytes());
    let len = (chunk.len() - FRAME_HEAD) as u32;
    let crc = crc32fast::hash(&chunk[FRAME_HEAD..]);
    chunk[..4].copy_from_slice(&len.to_le_bytes());
    chunk[4..FRAME_HEAD].copy_from_slice(&crc.to_le_bytes());
}

/// A replay as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    pub header: Header,
    pub records: Vec<Record>,
    /// Whole chunks read.
    pub chunks: usize,
    /// Bytes at the end that were not a whole chunk (a write cut short by a crash): ignored.
    pub torn_bytes: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    #[error("not a tickrelay replay (no TRPLAY magic)")]
    NotAReplay,
    #[error("replay format version {0}; this build reads {VERSION}")]
    Version(u16),
    #[error("the replay's header is cut short or damaged")]
    BadHeader,
    #[error("the chunk at byte {0} is damaged (bad crc32 or records), and more follows it")]
    Corrupt(usize),
}

/// One frame at `at`: `Ok(Some((payload, next)))`, `Ok(None)` when the bytes end inside it (or it
/// is the last and its crc fails: a torn write), `Err` for a bad frame with more behind it.
fn frame(bytes: &[u8], at: usize) -> Result<Option<(&[u8], usize)>, usize> {
    let Some(head) = bytes.get(at..at + FRAME_HEAD) else {
        return Ok(None);
    };
    let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
    let start = at + FRAME_HEAD;
    let Some(payload) = bytes.get(start..start.saturating_add(len)) else {
        return Ok(None);
    };
    let next = start + len;
    if crc32fast::hash(payload) != crc {
        return if next == bytes.len() {
            Ok(None)
        } else {
            Err(at)
        };
    }
    Ok(Some((payload, next)))
}

/// The header, and where the chunks start: all a listing reads of a file.
pub fn read_header(bytes: &[u8]) -> Result<(Header, usize), ReadError> {
    if bytes.get(..MAGIC.len()) != Some(MAGIC) {
        return Err(ReadError::NotAReplay);
    }
    let version = bytes
        .get(6..8)
        .map(|v| u16::from_le_bytes([v[0], v[1]]))
        .ok_or(ReadError::BadHeader)?;
    if version != VERSION {
        return Err(ReadError::Version(version));
    }
    let (body, at) = match frame(bytes, 8) {
        Ok(Some(f)) => f,
        _ => return Err(ReadError::BadHeader),
    };
    let header: Header = rmp_serde::from_slice(body).map_err(|_| ReadError::BadHeader)?;
    Ok((header, at))
}

/// Reads a whole replay. A torn tail is ignored; damage before the tail is an error.
pub fn read(bytes: &[u8]) -> Result<Replay, ReadError> {
    let (header, mut at) = read_header(bytes)?;
    let mut records = Vec::new();
    let mut chunks = 0;
    loop {
        let (payload, next) = match frame(bytes, at) {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(at) => return Err(ReadError::Corrupt(at)),
        };
        let mut rd = payload;
        let count = rmp::decode::read_array_len(&mut rd).map_err(|_| ReadError::Corrupt(at))?;
        for _ in 0..count {
            records.push(Record::decode(&mut rd).ok_or(ReadError::Corrupt(at))?);
        }
        chunks += 1;
        at = next;
    }
    Ok(Replay {
        header,
        records,
        chunks,
        torn_bytes: bytes.len() - at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::EntityId;

    pub fn header() -> Header {
        Header {
            game: "arena".into(),
            tick_rate: 30,
            seed: 7,
            kill_goal: 10,
            round_seconds: 300,
            max_rewind_ms: 200,
            protocol: 1,
            lobby_id: 3,
            code: "ABCDEF".into(),
            name: "test".into(),
            start_unix_ms: 1_700_000_000_000,
            checksum_every: 30,
            public: true,
        }
    }

    fn chunk(recs: &[Record]) -> Vec<u8> {
        let mut buf = vec![0; CHUNK_HEAD];
        for r in recs {
            r.encode(&mut buf);
        }
        seal(&mut buf, recs.len() as u32);
        buf
    }

    #[test]
    fn a_file_reads_back_and_a_cut_anywhere_in_a_chunk_reads_up_to_it() {
        let mut file = file_start(&header());
        let a = [Record::Spawn(EntityId(1)), Record::Step(1)];
        let b = [Record::Step(2), Record::Step(3)];
        file.extend(chunk(&a));
        let first_end = file.len();
        file.extend(chunk(&b));
        let r = read(&file).unwrap();
        assert_eq!(r.header, header());
        assert_eq!(r.records, [&a[..], &b[..]].concat());
        assert_eq!((r.chunks, r.torn_bytes), (2, 0));
        for cut in first_end + 1..file.len() {
            let r = read(&file[..cut]).unwrap();
            assert_eq!(r.records, a, "cut at {cut}");
            assert_eq!(r.torn_bytes, cut - first_end);
        }
        // A last chunk whose bytes all arrived but not as written: torn too.
        let mut bad = file.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(read(&bad).unwrap().records, a);
        // The same damage with a chunk behind it is no torn tail: refused.
        let mut bad = file.clone();
        bad[first_end - 1] ^= 1;
        let start_of_a = first_end - chunk(&a).len();
        assert_eq!(read(&bad), Err(ReadError::Corrupt(start_of_a)));
        assert_eq!(read(b"TRPLAX"), Err(ReadError::NotAReplay));
        assert_eq!(read(&file[..12]), Err(ReadError::BadHeader));
    }
}
