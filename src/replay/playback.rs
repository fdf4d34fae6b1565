//! Playback: a replay re-simulated into snapshots a browser can draw, from any tick. Pure.
//!
//! Built once per replay: one pass re-simulates the whole match and keeps a copy of the game
//! (a keyframe) every so many steps. Asking for frames from tick T then clones the keyframe at or
//! before T and re-simulates at most one keyframe interval before the first frame it writes, so
//! seeking costs the same anywhere in a match. The frames are the wire's own snapshot bodies
//! (PROTOCOL.md 5.3): the first one full, each next one a delta from the one before it, so the
//! browser draws them with the code that draws a live lobby and holds no copy of the rules.

use super::checksum::table_checksum;
use super::format::{Header, Replay};
use super::record::Record;
use super::verify::{summarize, Summary};
use crate::game::Game;
use crate::protocol::{EntityId, GameEvent, Tick};
use crate::snapshot::{DeltaEncoder, EntityTable};

/// Steps between keyframes in a short match; a long one spaces them so it keeps at most
/// [`MAX_KEYFRAMES`] (so a seek re-simulates at most `steps / MAX_KEYFRAMES` steps).
pub const KEYFRAME_EVERY: u32 = 150;
pub const MAX_KEYFRAMES: u32 = 256;
/// Frames one request may ask for (10 s at 30 Hz).
pub const MAX_FRAMES: u32 = 300;

/// The game as it was after the step of `tick`, and where the records go on from there.
struct Keyframe {
    tick: u32,
    next: usize,
    /// `Sync` so that a playback is shared by the requests reading it.
    game: Box<dyn Game + Sync>,
}

/// A replay ready to be played from any tick.
pub struct Playback {
    header: Header,
    records: Vec<Record>,
    summary: Summary,
    field_count: u8,
    first_tick: u32,
    last_tick: u32,
    /// The first tick whose recorded checksum re-simulation did not match (`None`: all matched).
    diverged: Option<u32>,
    keyframes: Vec<Keyframe>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlaybackError {
    #[error("unknown game {0:?}")]
    UnknownGame(String),
    #[error("the replay has no tick to play")]
    Empty,
}

impl Playback {
    /// Re-simulates `replay` once, keeping keyframes.
    pub fn new(replay: Replay) -> Result<Playback, PlaybackError> {
        let header = replay.header.clone();
        let summary = summarize(&replay);
        let records = replay.records;
        let kind = header
            .game_kind()
            .map_err(|_| PlaybackError::UnknownGame(header.game.clone()))?;
        let steps = records
            .iter()
            .filter(|r| matches!(r, Record::Step(_)))
            .count() as u32;
        if steps == 0 {
            return Err(PlaybackError::Empty);
        }
        let every = KEYFRAME_EVERY.max(steps.div_ceil(MAX_KEYFRAMES));
        let mut game = kind.create(&header.game_setup());
        let field_count = game.field_count();
        let mut table = EntityTable::new(field_count);
        let mut events = Vec::new();
        let mut keyframes = Vec::new();
        let (mut first_tick, mut last_tick, mut diverged) = (None, 0, None);
        let mut stepped = 0u32;
        for (i, r) in records.iter().enumerate() {
            match r {
                Record::Step(t) => {
                    first_tick.get_or_insert(*t);
                    last_tick = *t;
                    stepped += 1;
                }
                Record::Checksum { tick, hash } if diverged.is_none() => {
                    table.clear(Tick(*tick));
                    game.write_table(&mut table);
                    if table_checksum(&table) != *hash {
                        diverged = Some(*tick);
                    }
                    continue;
                }
                _ => {}
            }
            apply(&mut *game, r, &mut events);
            // The first keyframe is the world after the first step, so any tick is reachable.
            if matches!(r, Record::Step(_)) && (stepped - 1) % every == 0 {
                if let Some(copy) = game.clone_box() {
                    keyframes.push(Keyframe {
                        tick: last_tick,
                        next: i + 1,
                        game: copy,
                    });
                }
            }
        }
        Ok(Playback {
            header,
            records,
            summary,
            field_count,
            first_tick: first_tick.unwrap_or(0),
            last_tick,
            diverged,
            keyframes,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }
    pub fn summary(&self) -> &Summary {
        &self.summary
    }
    pub fn field_count(&self) -> u8 {
        self.field_count
    }
    pub fn first_tick(&self) -> u32 {
        self.first_tick
    }
    pub fn last_tick(&self) -> u32 {
        self.last_tick
    }
    pub fn diverged(&self) -> Option<u32> {
        self.diverged
    }
    pub fn keyframes(&self) -> usize {
        self.keyframes.len()
    }

    /// Snapshot bodies for up to `count` stepped ticks from `from` on (at most [`MAX_FRAMES`]),
    /// as one MessagePack array: `[tick, base_delta, removed, entities, events]` each, the first
    /// from nothing (`base_delta` 0), each next from the one before. Empty past the end.
    pub fn frames(&self, from: u32, count: u32) -> Vec<u8> {
        let count = count.min(MAX_FRAMES);
        // The newest keyframe at or before `from`; before the first one, the start of the match.
        let at = self.keyframes.partition_point(|k| k.tick <= from);
        let (mut game, start) = match at.checked_sub(1).map(|i| &self.keyframes[i]) {
            Some(k) => {
                let copy: Box<dyn Game> = k.game.clone_box().expect("keyframes clone");
                (copy, k.next)
            }
            None => (
                self.header
                    .game_kind()
                    .expect("checked in new")
                    .create(&self.header.game_setup()),
                0,
            ),
        };
        // A keyframe's own tick is already stepped: if it is the first frame, write it first.
        let mut body = Vec::new();
        let mut written = 0u32;
        let mut enc = DeltaEncoder::new();
        let mut prev = EntityTable::new(self.field_count);
        let mut cur = EntityTable::new(self.field_count);
        let mut events: Vec<GameEvent> = Vec::new();
        let mut have_prev = false;
        let mut emit = |game: &dyn Game, tick: u32, events: &[GameEvent]| {
            cur.clear(Tick(tick));
            game.write_table(&mut cur);
            enc.write_body(&mut body, have_prev.then_some(&prev), &cur, events);
            std::mem::swap(&mut prev, &mut cur);
            have_prev = true;
        };
        if let Some(k) = at.checked_sub(1).map(|i| &self.keyframes[i]) {
            if k.tick == from && count > 0 {
                emit(&*game, k.tick, &[]);
                written += 1;
            }
        }
        for r in &self.records[start..] {
            if written >= count {
                break;
            }
            if matches!(r, Record::Checksum { .. }) {
                continue;
            }
            events.clear();
            apply(&mut *game, r, &mut events);
            if let Record::Step(t) = r {
                if *t >= from {
                    emit(&*game, *t, &events);
                    written += 1;
                }
            }
        }
        let mut out = Vec::with_capacity(body.len() + 5);
        rmp::encode::write_array_len(&mut out, written).expect("a Vec takes any write");
        out.extend_from_slice(&body);
        out
    }
}

/// Makes the game call a record stands for (checksums, names and the end are not calls).
fn apply(game: &mut dyn Game, r: &Record, events: &mut Vec<GameEvent>) {
    match r {
        Record::Spawn(_) => {
            // Re-simulation makes the same ids (verify checks it); playback draws what it gets.
            let _: EntityId = game.spawn_player();
        }
        Record::Despawn(id) => game.despawn_player(*id),
        Record::Input(id, input) => game.apply_input(*id, input),
        Record::Idle(id) => game.idle(*id),
        Record::CatchUp(id) => game.catch_up(*id),
        Record::Step(t) => game.step(Tick(*t), events),
        Record::Restart(t) => game.restart(Tick(*t)),
        Record::Checksum { .. } | Record::Name(..) | Record::End { .. } => {}
    }
}
