//! Re-simulation: rebuild the game, make every recorded call again, check each checksum. Pure.
//!
//! Also the summary `replay info` prints.

use super::checksum::table_checksum;
use super::format::Replay;
use super::record::{Record, Score};
use crate::protocol::{EntityId, Tick};
use crate::snapshot::EntityTable;
use std::collections::BTreeMap;

/// A replay that re-simulated to every recorded checksum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub steps: u64,
    pub checksums: u64,
    pub last_tick: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("unknown game {0:?}")]
    UnknownGame(String),
    #[error(
        "checksum differs at tick {tick}: recorded {recorded:#018x}, re-simulated {got:#018x}"
    )]
    Mismatch { tick: u32, recorded: u64, got: u64 },
    #[error("spawn diverged after tick {tick}: recorded entity {recorded}, re-simulated {got}")]
    Spawn { tick: u32, recorded: u32, got: u32 },
}

impl VerifyError {
    /// The tick at which re-simulation first disagreed with the recording.
    pub fn tick(&self) -> Option<u32> {
        match self {
            VerifyError::UnknownGame(_) => None,
            VerifyError::Mismatch { tick, .. } | VerifyError::Spawn { tick, .. } => Some(*tick),
        }
    }
}

/// Re-simulates `replay` and checks every checksum it recorded.
pub fn verify(replay: &Replay) -> Result<Verified, VerifyError> {
    let h = &replay.header;
    let kind = h
        .game_kind()
        .map_err(|_| VerifyError::UnknownGame(h.game.clone()))?;
    let mut game = kind.create(&h.game_setup());
    let mut table = EntityTable::new(game.field_count());
    let mut events = Vec::new();
    let mut done = Verified {
        steps: 0,
        checksums: 0,
        last_tick: 0,
    };
    for r in &replay.records {
        match r {
            Record::Spawn(id) => {
                let got = game.spawn_player();
                if got != *id {
                    return Err(VerifyError::Spawn {
                        tick: done.last_tick,
                        recorded: id.0,
                        got: got.0,
                    });
                }
            }
            Record::Despawn(id) => game.despawn_player(*id),
            Record::Input(id, input) => game.apply_input(*id, input),
            Record::Idle(id) => game.idle(*id),
            Record::CatchUp(id) => game.catch_up(*id),
            Record::Step(t) => {
                events.clear();
                game.step(Tick(*t), &mut events);
                done.steps += 1;
                done.last_tick = *t;
            }
            Record::Restart(t) => game.restart(Tick(*t)),
            Record::Checksum { tick, hash } => {
                table.clear(Tick(*tick));
                game.write_table(&mut table);
                let got = table_checksum(&table);
                if got != *hash {
                    return Err(VerifyError::Mismatch {
                        tick: *tick,
                        recorded: *hash,
                        got,
                    });
                }
                done.checksums += 1;
            }
            Record::Name(..) | Record::End { .. } => {}
        }
    }
    Ok(done)
}

/// What `replay info` says about a match.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub game: String,
    pub lobby: String,
    /// Everyone who joined, by entity id, with the name they joined with.
    pub players: BTreeMap<u32, String>,
    pub ticks: u32,
    pub seconds: f64,
    /// From the end record (`None`: none recorded, e.g. the server crashed).
    pub scores: Option<Vec<Score>>,
    /// The recording hit `replay.max_match_bytes` and stopped.
    pub capped: bool,
    /// The file has its end record (`false`: the match is still on, or the server crashed).
    pub ended: bool,
}

pub fn summarize(replay: &Replay) -> Summary {
    let h = &replay.header;
    let mut players = BTreeMap::new();
    let (mut first, mut last) = (None, 0);
    let (mut scores, mut capped, mut ended) = (None, false, false);
    for r in &replay.records {
        match r {
            Record::Spawn(EntityId(id)) => {
                players.entry(*id).or_insert_with(String::new);
            }
            Record::Name(EntityId(id), name) => {
                players.insert(*id, name.to_string());
            }
            Record::Step(t) => {
                first.get_or_insert(*t);
                last = *t;
            }
            Record::End {
                scores: s,
                capped: c,
                ..
            } => {
                scores = Some(s.to_vec()).filter(|s| !s.is_empty());
                capped = *c;
                ended = true;
            }
            _ => {}
        }
    }
    // Ticks stepped, first to last (a lobby that fell behind skips none of the numbers).
    let ticks = first.map_or(0, |f| last.wrapping_sub(f).wrapping_add(1));
    Summary {
        game: h.game.clone(),
        lobby: format!("{} ({}, id {})", h.name, h.code, h.lobby_id),
        players,
        ticks,
        seconds: f64::from(ticks) / f64::from(h.tick_rate.max(1)),
        scores,
        capped,
        ended,
    }
}
