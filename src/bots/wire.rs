//! A light, allocation-free reader for the one server frame a bot gets 30 times a second
//! (`Snapshot`), and writer for the one it sends as often (`Input`).
//!
//! The serde path (`protocol::decode_server`) builds a `Vec<i64>` of every entity int and a
//! `Vec` of removals per frame; a walkers bot only needs the tick, the base and its own ack, so it
//! walks the MessagePack bytes in place. It still checks the whole frame (types, int32 range,
//! truncation, trailing bytes), so a malformed frame is reported as a decode error, not ignored.
//! The input writer produces exactly the bytes `protocol::encode` does (a test holds it to that),
//! without serde's per-field calls.

use crate::protocol::ServerMsg;
use crate::snapshot::MAX_FIELDS;

/// Why a frame did not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("frame ends early")]
    Truncated,
    #[error("unexpected MessagePack byte 0x{0:02x} for {1}")]
    Unexpected(u8, &'static str),
    #[error("value out of range for {0}")]
    Range(&'static str),
    #[error("{0} trailing bytes after the message")]
    Trailing(usize),
    #[error("nesting too deep")]
    TooDeep,
    #[error("snapshot is missing fields")]
    Short,
}

/// A cursor over one frame.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn byte(&mut self) -> Result<u8, WireError> {
        let b = *self.buf.get(self.pos).ok_or(WireError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let s = self
            .buf
            .get(self.pos..self.pos + N)
            .ok_or(WireError::Truncated)?;
        self.pos += N;
        // The slice has exactly N bytes.
        Ok(s.try_into().unwrap_or([0; N]))
    }

    fn skip_bytes(&mut self, n: usize) -> Result<(), WireError> {
        if self.remaining() < n {
            return Err(WireError::Truncated);
        }
        self.pos += n;
        Ok(())
    }

    /// An array header: its element count.
    pub fn array_len(&mut self) -> Result<usize, WireError> {
        match self.byte()? {
            b @ 0x90..=0x9f => Ok((b & 0x0f) as usize),
            0xdc => Ok(u16::from_be_bytes(self.take()?) as usize),
            0xdd => Ok(u32::from_be_bytes(self.take()?) as usize),
            b => Err(WireError::Unexpected(b, "an array")),
        }
    }

    /// Any MessagePack integer format, as i64 (a uint 64 above i64::MAX is out of range).
    #[inline]
    pub fn int(&mut self) -> Result<i64, WireError> {
        let (v, pos) = int_fast(self.buf, self.pos)?;
        self.pos = pos;
        Ok(v)
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, WireError> {
        u32::try_from(self.int()?).map_err(|_| WireError::Range(what))
    }

    /// Skips one value of any kind (events, fields a later version appends), depth-limited like
    /// the real codec so a hostile `[[[[...` cannot recurse without bound.
    pub fn skip(&mut self, depth: usize) -> Result<(), WireError> {
        let b = self.byte()?;
        let (items, bytes) = match b {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (2 * (b & 0x0f) as usize, 0),
            0x90..=0x9f => ((b & 0x0f) as usize, 0),
            0xa0..=0xbf => (0, (b & 0x1f) as usize),
            0xcc | 0xd0 => (0, 1),
            0xcd | 0xd1 => (0, 2),
            0xce | 0xd2 | 0xca => (0, 4),
            0xcf | 0xd3 | 0xcb => (0, 8),
            0xd9 | 0xc4 => (0, self.byte()? as usize),
            0xda | 0xc5 => (0, u16::from_be_bytes(self.take()?) as usize),
            0xdb | 0xc6 => (0, u32::from_be_bytes(self.take()?) as usize),
            0xdc => (u16::from_be_bytes(self.take()?) as usize, 0),
            0xdd => (u32::from_be_bytes(self.take()?) as usize, 0),
            0xde => (2 * u16::from_be_bytes(self.take()?) as usize, 0),
            0xdf => (2 * u32::from_be_bytes(self.take()?) as usize, 0),
            0xd4 => (0, 2),
            0xd5 => (0, 3),
            0xd6 => (0, 5),
            0xd7 => (0, 9),
            0xd8 => (0, 17),
            0xc7 => (0, self.byte()? as usize + 1),
            0xc8 => (0, u16::from_be_bytes(self.take()?) as usize + 1),
            0xc9 => (0, u32::from_be_bytes(self.take()?) as usize + 1),
            _ => return Err(WireError::Unexpected(b, "a value")),
        };
        self.skip_bytes(bytes)?;
        let container = matches!(b, 0x80..=0x9f | 0xdc..=0xdf);
        // `depth` counts the outer array as 0; MAX_DEPTH levels is one too many.
        if container && depth + 1 >= crate::protocol::MAX_DEPTH {
            return Err(WireError::TooDeep);
        }
        for _ in 0..items {
            self.skip(depth + 1)?;
        }
        Ok(())
    }
}

// The hot loop works on (bytes, position) pairs passed by value rather than on a `&mut Reader`,
// so the position stays in a register instead of a stack slot stored and reloaded per byte.

/// The int at `pos`: small non-negative ints (every walkers header) inline, the rest out of line.
#[inline(always)]
fn int_fast(buf: &[u8], pos: usize) -> Result<(i64, usize), WireError> {
    match buf.get(pos) {
        Some(&b) if b <= 0x7f => Ok((i64::from(b), pos + 1)),
        _ => int_at(buf, pos),
    }
}

/// Steps over an int that must fit in i32 without computing it: other entities' field
/// differences are most of a snapshot's bytes and a bot never looks at them. The formats that
/// always fit are a length lookup; the rest are decoded and range-checked.
#[inline(always)]
fn skip_i32(buf: &[u8], pos: usize) -> Result<usize, WireError> {
    let len = match buf.get(pos).copied() {
        Some(0x00..=0x7f | 0xe0..=0xff) => 1,
        Some(0xcc | 0xd0) => 2,
        Some(0xcd | 0xd1) => 3,
        Some(0xd2) => 5,
        _ => {
            let (d, next) = int_at(buf, pos)?;
            i32::try_from(d).map_err(|_| WireError::Range("a field difference"))?;
            return Ok(next);
        }
    };
    if buf.len() - pos < len {
        return Err(WireError::Truncated);
    }
    Ok(pos + len)
}

/// Decodes the int at `pos` in any MessagePack integer format: its value and the next position.
#[inline(never)]
fn int_at(buf: &[u8], pos: usize) -> Result<(i64, usize), WireError> {
    let mut r = Reader { buf, pos };
    let b = r.byte()?;
    let v = match b {
        0x00..=0x7f => i64::from(b),
        0xe0..=0xff => i64::from(b as i8),
        0xcc => i64::from(r.byte()?),
        0xcd => i64::from(u16::from_be_bytes(r.take()?)),
        0xce => i64::from(u32::from_be_bytes(r.take()?)),
        0xcf => {
            i64::try_from(u64::from_be_bytes(r.take()?)).map_err(|_| WireError::Range("an int"))?
        }
        0xd0 => i64::from(r.byte()? as i8),
        0xd1 => i64::from(i16::from_be_bytes(r.take()?)),
        0xd2 => i64::from(i32::from_be_bytes(r.take()?)),
        0xd3 => i64::from_be_bytes(r.take()?),
        _ => return Err(WireError::Unexpected(b, "an int")),
    };
    Ok((v, r.pos))
}

/// The message type of a frame, read from its first two bytes without decoding the rest
/// (`None` when the frame does not even start like a message; let the full decoder say why).
pub fn frame_type(frame: &[u8]) -> Option<u8> {
    let mut r = Reader::new(frame);
    r.array_len().ok()?;
    u8::try_from(r.int().ok()?).ok()
}

/// Set bits of every mask a snapshot can carry (at most `MAX_FIELDS` bits wide).
const POPCOUNT: [u8; 1 << MAX_FIELDS] = {
    let mut t = [0u8; 1 << MAX_FIELDS];
    let mut i = 0;
    while i < t.len() {
        t[i] = (i as u32).count_ones() as u8;
        i += 1;
    }
    t
};

/// What a bot needs from one snapshot: where it sits in the tick stream and its own entity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SnapInfo {
    pub tick: u32,
    pub base_delta: u32,
    /// Our own entity was listed: its mask had the ack bit with this difference (wrapping i32).
    pub own_ack_diff: Option<i32>,
    /// Our own entity was listed at all (a full snapshot lists every entity).
    pub own_listed: bool,
    /// Our own entity was in `removed`.
    pub own_removed: bool,
    /// Entities listed in this snapshot.
    pub entities: u32,
}

/// Parses a `Snapshot` frame (`[3, tick, base_delta, removed, entities, events, ...]`), following
/// only entity `me` and its field `ack_field`. `field_count` is the lobby's mask width.
pub fn parse_snapshot(
    frame: &[u8],
    field_count: u32,
    me: u32,
    ack_field: u32,
) -> Result<SnapInfo, WireError> {
    let mut r = Reader::new(frame);
    let len = r.array_len()?;
    if len < 6 {
        return Err(WireError::Short);
    }
    if r.int()? != i64::from(ServerMsg::SNAPSHOT) {
        return Err(WireError::Range("the snapshot type"));
    }
    let mut info = SnapInfo {
        tick: r.u32("tick")?,
        base_delta: r.u32("base_delta")?,
        ..SnapInfo::default()
    };
    for _ in 0..r.array_len()? {
        if r.u32("a removed id")? == me {
            info.own_removed = true;
        }
    }
    let n = r.array_len()?;
    if field_count as usize > MAX_FIELDS {
        return Err(WireError::Range("field_count"));
    }
    let mask_bits = (1u64 << field_count) - 1;
    let (buf, mut pos) = (r.buf, r.pos);
    let mut prev: u32 = 0;
    let mut i = 0;
    while i < n {
        let (h, next) = int_fast(buf, pos)?;
        pos = next;
        i += 1;
        if h < 0 {
            return Err(WireError::Range("an entity header"));
        }
        let h = h as u64;
        let gap = u32::try_from(h >> field_count).map_err(|_| WireError::Range("an entity id"))?;
        // Ids strictly ascend from 0: a gap of 0 is malformed, as `snapshot::apply` says.
        if gap == 0 {
            return Err(WireError::Range("an entity id gap"));
        }
        let id = prev
            .checked_add(gap)
            .ok_or(WireError::Range("an entity id"))?;
        prev = id;
        info.entities += 1;
        let mut mask = h & mask_bits;
        // A table, not count_ones: without a target-cpu flag that is a dozen instructions.
        let count = usize::from(POPCOUNT[mask as usize]);
        if n - i < count {
            return Err(WireError::Truncated);
        }
        i += count;
        if id != me {
            for _ in 0..count {
                pos = skip_i32(buf, pos)?;
            }
            continue;
        }
        info.own_listed = true;
        while mask != 0 {
            let bit = mask.trailing_zeros();
            mask &= mask - 1;
            let (d, next) = int_fast(buf, pos)?;
            pos = next;
            let d = i32::try_from(d).map_err(|_| WireError::Range("a field difference"))?;
            if bit == ack_field {
                info.own_ack_diff = Some(d);
            }
        }
    }
    r.pos = pos;
    r.skip(1)?; // events
    for _ in 6..len {
        r.skip(1)?;
    }
    if r.remaining() != 0 {
        return Err(WireError::Trailing(r.remaining()));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{encode, EntityId, GameEvent, Tick};
    use crate::snapshot::{apply, encode_body, EntityTable, MAX_FIELDS};
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    #[test]
    fn reads_the_protocol_doc_walkers_delta() {
        // PROTOCOL.md 5.4: tick 101, base 1, removed [4], entity 1 x+107 ack+1, entity 2, new 5.
        let f = hex("96 03 65 01 91 04 99 0d 6b 01 0b d0 b5 10 1b cc c4 30 90");
        assert_eq!(frame_type(&f), Some(3));
        let one = parse_snapshot(&f, 3, 1, 2).unwrap();
        assert_eq!(
            one,
            SnapInfo {
                tick: 101,
                base_delta: 1,
                own_ack_diff: Some(1),
                own_listed: true,
                own_removed: false,
                entities: 3
            }
        );
        let two = parse_snapshot(&f, 3, 2, 2).unwrap();
        assert_eq!((two.own_listed, two.own_ack_diff), (true, None));
        assert!(parse_snapshot(&f, 3, 4, 2).unwrap().own_removed);
    }

    #[test]
    fn refuses_broken_frames() {
        let f = hex("96 03 65 01 91 04 99 0d 6b 01 0b d0 b5 10 1b cc c4 30 90");
        for cut in 1..f.len() {
            assert!(parse_snapshot(&f[..cut], 3, 1, 2).is_err(), "cut at {cut}");
        }
        let mut trailing = f.clone();
        trailing.push(0);
        assert_eq!(
            parse_snapshot(&trailing, 3, 1, 2),
            Err(WireError::Trailing(1))
        );
        // A header that promises a field the list does not hold.
        let short = hex("96 03 65 01 90 91 0d 90");
        assert!(parse_snapshot(&short, 3, 1, 2).is_err());
        // An id gap of 0 (here entity 0, mask 0b001) is malformed.
        let zero_gap = hex("96 03 65 01 90 92 01 05 90");
        assert_eq!(
            parse_snapshot(&zero_gap, 3, 1, 2),
            Err(WireError::Range("an entity id gap"))
        );
        // Extra trailing elements (a later protocol version) are fine.
        let longer = hex("97 03 65 01 90 90 90 a2 68 69");
        assert_eq!(parse_snapshot(&longer, 3, 1, 2).unwrap().tick, 101);
    }

    fn table(tick: u32, rows: &[(u32, i32, i32, i32)]) -> EntityTable {
        let mut t = EntityTable::new(3);
        t.clear(Tick(tick));
        for &(id, x, y, ack) in rows {
            let mut f = [0; MAX_FIELDS];
            (f[0], f[1], f[2]) = (x, y, ack);
            t.push(EntityId(id), f);
        }
        t.finish();
        t
    }

    proptest! {
        /// Following one entity's ack through the light path gives what applying the same
        /// frames to a full mirror gives.
        #[test]
        fn own_ack_matches_a_full_mirror(
            steps in proptest::collection::vec(
                proptest::collection::btree_map(1u32..40, (any::<i32>(), any::<i32>(), any::<i32>()), 0..12),
                1..6),
            me in 1u32..40,
            full_every in 1usize..4,
        ) {
            let mut mirror = EntityTable::new(3);
            let mut prev = EntityTable::new(3);
            let mut ack: Option<i32> = None;
            for (i, rows) in steps.iter().enumerate() {
                let rows: Vec<_> = rows.iter().map(|(&id, &(x, y, a))| (id, x, y, a)).collect();
                let cur = table(i as u32 + 1, &rows);
                let full = i % full_every == 0;
                let body = encode_body(if full { None } else { Some(&prev) }, &cur, &[] as &[GameEvent]);
                let frame = encode(&ServerMsg::Snapshot(body.clone()));
                apply(&mut mirror, &body).unwrap();
                let info = parse_snapshot(&frame, 3, me, 2).unwrap();
                if body.base_delta == 0 || info.own_removed {
                    ack = None;
                }
                if info.own_listed {
                    let base = ack.unwrap_or(0);
                    ack = Some(base.wrapping_add(info.own_ack_diff.unwrap_or(0)));
                }
                let want = mirror.get(EntityId(me)).map(|r| r.fields[2]);
                prop_assert_eq!(ack, want);
                prev = cur;
            }
        }
    }
}
