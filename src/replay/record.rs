//! One replay record: a call the lobby made into its game (or a note beside them), as MessagePack.
//!
//! Written with `rmp`'s low-level encoders straight into the chunk buffer: the tick path pays a
//! few byte pushes per call, no serde and no allocation.

use crate::protocol::{EntityId, PlayerInput};
use rmp::decode as de;
use rmp::encode as en;

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
    Name(EntityId, String),
    /// The recording ended: at `tick`, `capped` when `replay.max_match_bytes` cut it short.
    End {
        tick: u32,
        capped: bool,
        scores: Vec<Score>,
    },
}

/// Writing into a `Vec` cannot fail.
fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) {
    r.expect("writing to a Vec cannot fail");
}

impl Record {
    pub fn encode(&self, out: &mut Vec<u8>) {
        let head = |out: &mut Vec<u8>, len: u32, t: u8| {
            ok(en::write_array_len(out, len));
            ok(en::write_uint(out, u64::from(t)));
        };
        match self {
            Record::Spawn(id) | Record::Despawn(id) | Record::Idle(id) | Record::CatchUp(id) => {
                let t = match self {
                    Record::Spawn(_) => tag::SPAWN,
                    Record::Despawn(_) => tag::DESPAWN,
                    Record::Idle(_) => tag::IDLE,
                    _ => tag::CATCH_UP,
                };
                head(out, 2, t);
                ok(en::write_uint(out, u64::from(id.0)));
            }
            Record::Input(id, i) => {
                head(out, 8, tag::INPUT);
                ok(en::write_uint(out, u64::from(id.0)));
                ok(en::write_uint(out, u64::from(i.seq)));
                ok(en::write_sint(out, i64::from(i.dx)));
                ok(en::write_sint(out, i64::from(i.dy)));
                // f32 as f32: the exact bits the game was given.
                ok(en::write_f32(out, i.aim));
                ok(en::write_uint(out, u64::from(i.buttons)));
                ok(en::write_uint(out, u64::from(i.view_tick)));
            }
            Record::Step(t) | Record::Restart(t) => {
                head(
                    out,
                    2,
                    if matches!(self, Record::Step(_)) {
                        tag::STEP
                    } else {
                        tag::RESTART
                    },
                );
                ok(en::write_uint(out, u64::from(*t)));
            }
            Record::Checksum { tick, hash } => {
                head(out, 3, tag::CHECKSUM);
                ok(en::write_uint(out, u64::from(*tick)));
                ok(en::write_uint(out, *hash));
            }
            Record::Name(id, name) => {
                head(out, 3, tag::NAME);
                ok(en::write_uint(out, u64::from(id.0)));
                ok(en::write_str(out, name));
            }
            Record::End {
                tick,
                capped,
                scores,
            } => {
                head(out, 4, tag::END);
                ok(en::write_uint(out, u64::from(*tick)));
                ok(en::write_bool(out, *capped));
                ok(en::write_array_len(out, scores.len() as u32));
                for s in scores {
                    ok(en::write_array_len(out, 3));
                    ok(en::write_uint(out, u64::from(s.player.0)));
                    ok(en::write_sint(out, i64::from(s.kills)));
                    ok(en::write_sint(out, i64::from(s.deaths)));
                }
            }
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
                let name = std::str::from_utf8(rest.get(..n)?).ok()?.to_owned();
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
                    scores,
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
                }],
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
}
