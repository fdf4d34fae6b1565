//! One replay record: a call the lobby made into its game (or a note beside them), as MessagePack.
//!
//! Encoded by hand in MessagePack's shortest forms straight into the chunk buffer (by the writer
//! thread; only a name or the end is also encoded on the lobby's side, to size it). Read back
//! with `rmp`.

use crate::protocol::{EntityId, PlayerInput};
use rmp::decode as de;

/// Record tags: the first element of every record array (docs/replay.md lists the fields).
pub mod tag {
    pub const SPAWN: u8 = 0;
    pub const DESPAWN: u8 = 1;
    pub const INPUT: u8 = 2;
    pub const IDLE: u8 = 3;
    pub const CATCH_UP: u8 = 4;
    pub const STEP: u8 = 5;
    pub const RESTART: u8 = 6;
    pub const CHECKSUM: u8 = 7;
    pub const NAME: u8 = 8;
    pub const END: u8 = 9;
}

/// One player's standing at the end (arena: kills and deaths; other games record none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Score {
    pub player: EntityId,
    pub kills: i32,
    pub deaths: i32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// `spawn_player` returned this id.
    Spawn(EntityId),
    Despawn(EntityId),
    Input(EntityId, PlayerInput),
    Idle(EntityId),
    CatchUp(EntityId),
    Step(u32),
    Restart(u32),
    /// The game's table after the step of `tick` hashes to this.
    Checksum {
        tick: u32,
        hash: u64,
    },
    /// The name a player joined with (not a game call: for `replay info`).
    Name(EntityId, Box<str>),
    /// The recording ended: at `tick`, `capped` when `replay.max_match_bytes` cut it short.
    End {
        tick: u32,
        capped: bool,
        scores: Box<[Score]>,
    },
}

// The recorder keeps a tick's records as values until the writer thread encodes them: boxing
// the two rare long ones keeps every record (an input above all) in 24 bytes.
const _: () = assert!(std::mem::size_of::<Record>() == 24);

/// Where records are encoded: the chunk buffer itself, or (for the small records written every
/// tick) a stack buffer copied into it in one go, so each byte costs no capacity check.
trait Out {
    fn push(&mut self, b: u8);
    fn extend_from_slice(&mut self, s: &[u8]);
}

impl Out for Vec<u8> {
    #[inline(always)]
    fn push(&mut self, b: u8) {
        Vec::push(self, b);
    }
    #[inline(always)]
    fn extend_from_slice(&mut self, s: &[u8]) {
        Vec::extend_from_slice(self, s);
    }
}

/// Room for the longest small record (an input: at most 1 + 1 + 5 + 5 + 2 + 2 + 5 + 2 + 5 bytes).
struct Small {
    b: [u8; 40],
    n: usize,
}

impl Out for Small {
    #[inline(always)]
    fn push(&mut self, b: u8) {
        self.b[self.n] = b;
        self.n += 1;
    }
    #[inline(always)]
    fn extend_from_slice(&mut self, s: &[u8]) {
        self.b[self.n..self.n + s.len()].copy_from_slice(s);
        self.n += s.len();
    }
}

/// A MessagePack array header (records are short: fixarray; the end's scores may be long).
#[inline(always)]
fn put_array(out: &mut impl Out, len: u32) {
    match len {
        0..=15 => out.push(0x90 | len as u8),
        16..=0xffff => {
            out.push(0xdc);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0xdd);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
}

/// An unsigned int in MessagePack's shortest form. By hand rather than `rmp::encode`: this runs
/// for every input of every player every tick, and the generic writer's error plumbing cost more
/// than the rest of the encoding.
#[inline(always)]
fn put_uint(out: &mut impl Out, v: u64) {
    match v {
        0..=0x7f => out.push(v as u8),
        0x80..=0xff => out.extend_from_slice(&[0xcc, v as u8]),
        0x100..=0xffff => {
            out.push(0xcd);
            out.extend_from_slice(&(v as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xce);
            out.extend_from_slice(&(v as u32).to_be_bytes());
        }
        _ => {
            out.push(0xcf);
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

/// A signed int in MessagePack's shortest form (non-negative ones as unsigned).
#[inline(always)]
fn put_int(out: &mut impl Out, v: i64) {
    match v {
        0.. => put_uint(out, v as u64),
        -32..=-1 => out.push(v as i8 as u8),
        -128..=-33 => out.extend_from_slice(&[0xd0, v as i8 as u8]),
        -32768..=-129 => {
            out.push(0xd1);
            out.extend_from_slice(&(v as i16).to_be_bytes());
        }
        -2_147_483_648..=-32769 => {
            out.push(0xd2);
            out.extend_from_slice(&(v as i32).to_be_bytes());
        }
        _ => {
            out.push(0xd3);
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

/// Bytes [`put_uint`] writes for `v`, counted without a branch.
#[inline(always)]
const fn uint_len(v: u64) -> usize {
    1 + (v > 0x7f) as usize
        + (v > 0xff) as usize
        + 2 * (v > 0xffff) as usize
        + 4 * (v > 0xffff_ffff) as usize
}

/// A record's array header and tag.
#[inline(always)]
fn head(out: &mut impl Out, len: u32, t: u8) {
    put_array(out, len);
    out.push(t);
}

impl Record {
    /// At most how many bytes [`Record::encode`] writes for a record like this one: what the
    /// tick counts (a constant for the records written every tick), the writer then telling the
    /// recording how much less it really was.
    #[inline(always)]
    pub fn max_len(&self) -> usize {
        match self {
            Record::Spawn(_)
            | Record::Despawn(_)
            | Record::Idle(_)
            | Record::CatchUp(_)
            | Record::Step(_)
            | Record::Restart(_) => 2 + 5,
            // Array, tag, id, seq, dx, dy, f32, buttons, view tick.
            Record::Input(..) => 2 + 5 + 5 + 2 + 2 + 5 + 2 + 5,
            Record::Checksum { .. } => 2 + 5 + 9,
            Record::Name(..) | Record::End { .. } => self.encoded_len(),
        }
    }

    /// How many bytes [`Record::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        match self {
            Record::Spawn(id) | Record::Despawn(id) | Record::Idle(id) | Record::CatchUp(id) => {
                2 + uint_len(u64::from(id.0))
            }
            Record::Input(id, i) => {
                // Array and tag, the f32 with its marker, the u32s, and the three small ints
                // (an i8 takes two bytes below -32, a u8 two above 127).
                2 + 5
                    + 3
                    + uint_len(u64::from(id.0))
                    + uint_len(u64::from(i.seq))
                    + uint_len(u64::from(i.view_tick))
                    + usize::from(i.dx < -32)
                    + usize::from(i.dy < -32)
                    + usize::from(i.buttons > 127)
            }
            Record::Step(t) | Record::Restart(t) => 2 + uint_len(u64::from(*t)),
            Record::Checksum { tick, hash } => 2 + uint_len(u64::from(*tick)) + uint_len(*hash),
            Record::Name(..) | Record::End { .. } => {
                let mut out = Vec::new();
                self.encode_long(&mut out);
                out.len()
            }
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        if let Record::Name(..) | Record::End { .. } = self {
            self.encode_long(out);
        } else {
            let mut small = Small { b: [0; 40], n: 0 };
            self.encode_short(&mut small);
            // All 40 bytes, then cut back: a copy of a constant size is a few vector moves, where
            // one of `n` bytes was a call to memmove per record.
            let end = out.len() + small.n;
            out.extend_from_slice(&small.b);
            out.truncate(end);
        }
    }

    /// The records written every tick, into a stack buffer.
    #[inline(always)]
    fn encode_short(&self, out: &mut Small) {
        match self {
            Record::Spawn(id) | Record::Despawn(id) | Record::Idle(id) | Record::CatchUp(id) => {
                let t = match self {
                    Record::Spawn(_) => tag::SPAWN,
                    Record::Despawn(_) => tag::DESPAWN,
                    Record::Idle(_) => tag::IDLE,
                    _ => tag::CATCH_UP,
                };
                head(out, 2, t);
                put_uint(out, u64::from(id.0));
            }
            Record::Input(id, i) => {
                head(out, 8, tag::INPUT);
                put_uint(out, u64::from(id.0));
                put_uint(out, u64::from(i.seq));
                put_int(out, i64::from(i.dx));
                put_int(out, i64::from(i.dy));
                // f32 as f32: the exact bits the game was given.
                out.push(0xca);
                out.extend_from_slice(&i.aim.to_bits().to_be_bytes());
                put_uint(out, u64::from(i.buttons));
                put_uint(out, u64::from(i.view_tick));
            }
            Record::Step(t) | Record::Restart(t) => {
                let tag = if matches!(self, Record::Step(_)) {
                    tag::STEP
                } else {
                    tag::RESTART
                };
                head(out, 2, tag);
                put_uint(out, u64::from(*t));
            }
            Record::Checksum { tick, hash } => {
                head(out, 3, tag::CHECKSUM);
                put_uint(out, u64::from(*tick));
                put_uint(out, *hash);
            }
            Record::Name(..) | Record::End { .. } => unreachable!("encoded by encode_long"),
        }
    }

    /// The rare records of any length (names, the end's scores), straight into the buffer.
    fn encode_long(&self, out: &mut Vec<u8>) {
        match self {
            Record::Name(id, name) => {
                head(out, 3, tag::NAME);
                put_uint(out, u64::from(id.0));
                rmp::encode::write_str(out, name).expect("writing to a Vec cannot fail");
            }
            Record::End {
                tick,
                capped,
                scores,
            } => {
                head(out, 4, tag::END);
                put_uint(out, u64::from(*tick));
                out.push(if *capped { 0xc3 } else { 0xc2 });
                put_array(out, scores.len() as u32);
                for s in scores {
                    put_array(out, 3);
                    put_uint(out, u64::from(s.player.0));
                    put_int(out, i64::from(s.kills));
                    put_int(out, i64::from(s.deaths));
                }
            }
            _ => self.encode(out),
        }
    }

    /// Reads one record from the front of `rd`. `None`: not a record this version knows.
    pub fn decode(rd: &mut &[u8]) -> Option<Record> {
        let len = de::read_array_len(rd).ok()?;
        let t: u8 = de::read_int(rd).ok()?;
        let id = |rd: &mut &[u8]| de::read_int(rd).ok().map(EntityId);
        let want = match t {
            tag::INPUT => 8,
            tag::CHECKSUM | tag::NAME => 3,
            tag::END => 4,
            _ => 2,
        };
        if len != want {
            return None;
        }
        Some(match t {
            tag::SPAWN => Record::Spawn(id(rd)?),
            tag::DESPAWN => Record::Despawn(id(rd)?),
            tag::IDLE => Record::Idle(id(rd)?),
            tag::CATCH_UP => Record::CatchUp(id(rd)?),
            tag::INPUT => {
                let p = id(rd)?;
                let input = PlayerInput {
                    seq: de::read_int(rd).ok()?,
                    dx: de::read_int(rd).ok()?,
                    dy: de::read_int(rd).ok()?,
                    aim: de::read_f32(rd).ok()?,
                    buttons: de::read_int(rd).ok()?,
                    view_tick: de::read_int(rd).ok()?,
                };
                Record::Input(p, input)
            }
            tag::STEP => Record::Step(de::read_int(rd).ok()?),
            tag::RESTART => Record::Restart(de::read_int(rd).ok()?),
            tag::CHECKSUM => Record::Checksum {
                tick: de::read_int(rd).ok()?,
                hash: de::read_int(rd).ok()?,
            },
            tag::NAME => {
                let p = id(rd)?;
                let n = de::read_str_len(rd).ok()? as usize;
                let rest: &[u8] = rd;
                let name = std::str::from_utf8(rest.get(..n)?).ok()?.into();
                *rd = &rest[n..];
                Record::Name(p, name)
            }
            tag::END => {
                let tick = de::read_int(rd).ok()?;
                let capped = de::read_bool(rd).ok()?;
                let n = de::read_array_len(rd).ok()?;
                let mut scores = Vec::with_capacity(n.min(4096) as usize);
                for _ in 0..n {
                    if de::read_array_len(rd).ok()? != 3 {
                        return None;
                    }
                    scores.push(Score {
                        player: id(rd)?,
                        kills: de::read_int(rd).ok()?,
                        deaths: de::read_int(rd).ok()?,
                    });
                }
                Record::End {
                    tick,
                    capped,
                    scores: scores.into(),
                }
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_round_trips() {
        let recs = vec![
            Record::Spawn(EntityId(3)),
            Record::Despawn(EntityId(4)),
            Record::Input(
                EntityId(5),
                PlayerInput {
                    seq: 70_000,
                    dx: -1,
                    dy: 1,
                    aim: -2.5e-3,
                    buttons: 1,
                    view_tick: 99,
                },
            ),
            Record::Idle(EntityId(6)),
            Record::CatchUp(EntityId(7)),
            Record::Step(123_456),
            Record::Restart(8),
            Record::Checksum {
                tick: 30,
                hash: u64::MAX - 5,
            },
            Record::Name(EntityId(9), "zoë".into()),
            Record::End {
                tick: 1000,
                capped: true,
                scores: vec![Score {
                    player: EntityId(1),
                    kills: 3,
                    deaths: -1,
                }]
                .into(),
            },
        ];
        let mut buf = Vec::new();
        for r in &recs {
            r.encode(&mut buf);
        }
        let mut rd = &buf[..];
        for r in &recs {
            assert_eq!(Record::decode(&mut rd).as_ref(), Some(r));
        }
        assert!(rd.is_empty());
    }

    #[test]
    fn encoded_len_is_what_encode_writes_and_max_len_bounds_it() {
        let mut rng = fastrand::Rng::with_seed(11);
        // Values at every width's edges, and random ones.
        let edges = [0u32, 1, 127, 128, 255, 256, 65_535, 65_536, u32::MAX];
        let pick = |rng: &mut fastrand::Rng| {
            if rng.bool() {
                edges[rng.usize(..edges.len())]
            } else {
                rng.u32(..) >> rng.u32(0..32)
            }
        };
        for _ in 0..20_000 {
            let id = EntityId(pick(&mut rng));
            let r = match rng.u8(..8) {
                0 => Record::Spawn(id),
                1 => Record::Despawn(id),
                2 => Record::Idle(id),
                3 => Record::CatchUp(id),
                4 => Record::Step(pick(&mut rng)),
                5 => Record::Restart(pick(&mut rng)),
                6 => Record::Checksum {
                    tick: pick(&mut rng),
                    hash: rng.u64(..) >> rng.u32(0..64),
                },
                _ => Record::Input(
                    id,
                    PlayerInput {
                        seq: pick(&mut rng),
                        dx: rng.i8(..),
                        dy: rng.i8(..),
                        aim: rng.f32(),
                        buttons: rng.u8(..),
                        view_tick: pick(&mut rng),
                    },
                ),
            };
            let mut out = Vec::new();
            r.encode(&mut out);
            assert_eq!(r.encoded_len(), out.len(), "{r:?}");
            assert!(r.max_len() >= out.len(), "{r:?}");
        }
        for r in [
            Record::Name(EntityId(1), "zoë".into()),
            Record::End {
                tick: 5,
                capped: false,
                scores: Box::new([]),
            },
        ] {
            let mut out = Vec::new();
            r.encode(&mut out);
            assert_eq!(r.encoded_len(), out.len(), "{r:?}");
        }
    }

    #[test]
    fn hand_written_ints_are_what_rmp_writes() {
        for v in [
            0u64,
            1,
            127,
            128,
            255,
            256,
            65_535,
            65_536,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            put_uint(&mut a, v);
            rmp::encode::write_uint(&mut b, v).unwrap();
            assert_eq!(a, b, "{v}");
        }
        for v in [
            -1i64,
            -32,
            -33,
            -128,
            -129,
            -32_768,
            -32_769,
            i32::MIN as i64,
            i64::MIN,
            5,
        ] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            put_int(&mut a, v);
            rmp::encode::write_sint(&mut b, v).unwrap();
            assert_eq!(a, b, "{v}");
        }
        for n in [0u32, 15, 16, 65_535, 65_536] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            put_array(&mut a, n);
            rmp::encode::write_array_len(&mut b, n).unwrap();
            assert_eq!(a, b, "{n}");
        }
    }
}
