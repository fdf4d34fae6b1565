//! `Recorded`: the lobby's game, with every call into it kept as a replay record.
//!
//! Pure: no file, no clock. The tick path only moves a 24-byte record into a `Vec` and adds a
//! constant to its byte count (the writer later says how much less it was: [`Measured`]); every
//! `flush_ticks` steps (or past [`FLUSH_RECORDS`]) the records are sealed into a chunk, which the
//! lobby's actor takes with [`Recorded::take`] and hands to the writer thread, which encodes it
//! and says what it really took ([`Batch::write_into`]).

use super::batch::{Batch, Measured};
use super::checksum::table_checksum;
use super::format::{file_start, Header, CHUNK_HEAD};
use super::record::{Record, Score};
use crate::game::arena::{field, KIND_PLAYER};
use crate::game::{Game, GameKind, InputPolicy};
use crate::protocol::{EntityId, GameEvent, PlayerInput, Tick};
use crate::snapshot::EntityTable;
use std::sync::Arc;

/// A chunk is sealed early past this many records (checked after each step; at most 448 KiB
/// encoded), so a busy lobby's buffer stays small.
pub const FLUSH_RECORDS: usize = 16 * 1024;
/// The standings kept of players who left, for the end record (the first this many).
const MAX_LEFT_SCORES: usize = 1024;
/// Room kept under `max_match_bytes` for the end record.
pub const TRAILER_ROOM: u64 = 16 * 1024;

/// How a lobby records (from `[replay]`, the flush interval already in ticks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordOptions {
    pub checksum_every: u32,
    pub flush_ticks: u32,
    pub max_match_bytes: u64,
}

/// The recording in progress.
struct Recording {
    /// The open chunk's records.
    recs: Vec<Record>,
    /// Sealed chunks (and the file's start) the actor has not taken yet.
    ready: Batch,
    /// Bytes counted for everything recorded so far, the open chunk's head included: exact for
    /// the file's start and the heads, [`Record::max_len`] for each record.
    counted: u64,
    /// `counted` when the open chunk began, before its head.
    opened_at: u64,
    /// What the writer found the batches it encoded really took.
    measured: Arc<Measured>,
    /// The most `counted` may reach: `max_match_bytes` less the end record's room, plus what
    /// the writer has shown was counted too much (read once a step).
    allow: u64,
    opts: RecordOptions,
    steps: u32,
    since_flush: u32,
    last_tick: u32,
    /// Scratch for checksums, kept so a checksum allocates nothing.
    table: EntityTable,
    /// The end record is written: nothing more is recorded.
    ended: bool,
    /// The standing of each player who left, as they left (a lobby closes empty, so the end's
    /// table alone would hold no one).
    left: Vec<Score>,
}

/// A game that may be recording. With no recording every call is one branch more.
pub struct Recorded {
    inner: Box<dyn Game>,
    rec: Option<Box<Recording>>,
}

impl Recorded {
    /// Not recording.
    pub fn plain(inner: Box<dyn Game>) -> Self {
        Recorded { inner, rec: None }
    }

    /// Recording from now on; the file starts with `header`.
    pub fn recording(inner: Box<dyn Game>, header: &Header, opts: RecordOptions) -> Self {
        let start = file_start(header);
        let table = EntityTable::new(inner.field_count());
        let measured = Arc::new(Measured::default());
        let start_len = start.len() as u64;
        Recorded {
            rec: Some(Box::new(Recording {
                recs: Vec::with_capacity(1024),
                counted: start_len + CHUNK_HEAD as u64,
                opened_at: start_len,
                ready: Batch {
                    start,
                    chunks: Vec::new(),
                    counted: start_len,
                    measured: Some(measured.clone()),
                },
                measured,
                allow: allow(&opts, 0),
                opts,
                steps: 0,
                since_flush: 0,
                last_tick: 0,
                table,
                ended: false,
                left: Vec::new(),
            })),
            inner,
        }
    }

    pub fn is_recording(&self) -> bool {
        self.rec.as_ref().is_some_and(|r| !r.ended)
    }

    /// Sealed chunks to encode and append to the file, if any.
    pub fn take(&mut self) -> Option<Batch> {
        let rec = self.rec.as_mut()?;
        if rec.ready.is_empty() {
            return None;
        }
        let next = Batch {
            measured: Some(rec.measured.clone()),
            ..Batch::default()
        };
        Some(std::mem::replace(&mut rec.ready, next))
    }

    /// Notes the name a player joined with (for `replay info`; re-simulation skips it).
    pub fn note_name(&mut self, player: EntityId, name: &str) {
        self.push(Record::Name(player, name.into()));
    }

    /// Ends the recording: the end record (with the final scores, when the game has them) goes
    /// into a last chunk for [`Recorded::take`].
    pub fn finish(&mut self) {
        self.end(false);
    }

    fn end(&mut self, capped: bool) {
        let Some(rec) = self.rec.as_mut().filter(|r| !r.ended) else {
            return;
        };
        rec.table.clear(Tick(rec.last_tick));
        let scores = if self.inner.kind() == GameKind::Arena {
            self.inner.write_table(&mut rec.table);
            let mut all = std::mem::take(&mut rec.left);
            all.extend(scores(&rec.table));
            all.sort_by_key(|s| s.player);
            all
        } else {
            Vec::new()
        };
        let mut end = Record::End {
            tick: rec.last_tick,
            capped,
            scores: scores.into(),
        };
        // The room kept is for the end record and the head of the chunk it goes into (counted
        // already, unchecked, when the last chunk was sealed).
        let mut len = end.encoded_len();
        if (len + CHUNK_HEAD) as u64 > TRAILER_ROOM {
            // Too many players to fit their scores: the end is still said.
            if let Record::End { scores, .. } = &mut end {
                *scores = Box::new([]);
            }
            len = end.encoded_len();
        }
        rec.counted += len as u64;
        rec.recs.push(end);
        rec.flush();
        rec.ended = true;
    }

    /// Appends a record, unless that could take the file past `max_match_bytes`: then the
    /// recording ends there (whole chunks and an end record: the file stays valid).
    #[inline(always)]
    fn push(&mut self, r: Record) {
        let Some(rec) = self.rec.as_mut().filter(|r| !r.ended) else {
            return;
        };
        // A constant for every record but a name: counting exactly here cost a 1024-player
        // walkers tick about 3%; the writer's measure gives the difference back.
        let total = rec.counted + r.max_len() as u64;
        if total > rec.allow {
            self.end(true);
            return;
        }
        rec.counted = total;
        rec.recs.push(r);
    }

    /// After a step: the checksum when one is due, and a chunk when the interval is up.
    fn stepped(&mut self, tick: Tick) {
        let Some(rec) = self.rec.as_mut().filter(|r| !r.ended) else {
            return;
        };
        rec.steps += 1;
        rec.since_flush += 1;
        rec.last_tick = tick.0;
        rec.allow = allow(&rec.opts, rec.measured.overcount());
        if rec.steps % rec.opts.checksum_every.max(1) == 0 {
            rec.table.clear(tick);
            self.inner.write_table(&mut rec.table);
            let hash = table_checksum(&rec.table);
            self.push(Record::Checksum { tick: tick.0, hash });
        }
        let Some(rec) = self.rec.as_mut().filter(|r| !r.ended) else {
            return;
        };
        if rec.since_flush >= rec.opts.flush_ticks.max(1) || rec.recs.len() >= FLUSH_RECORDS {
            rec.flush();
        }
    }

    fn recording_mut(&mut self) -> Option<&mut Recording> {
        self.rec.as_deref_mut().filter(|r| !r.ended)
    }
}

impl Recording {
    /// Seals the open chunk onto `ready` and starts the next.
    fn flush(&mut self) {
        self.since_flush = 0;
        if self.recs.is_empty() {
            return;
        }
        // Room for a chunk like this one and a quarter more, so the next rarely grows (each
        // growth copies the whole buffer), up to what a chunk can reach.
        let len = self.recs.len();
        let cap = (len + len / 4 + 64).min(FLUSH_RECORDS + 1024);
        let chunk = std::mem::replace(&mut self.recs, Vec::with_capacity(cap));
        self.ready.chunks.push(chunk);
        self.ready.counted += self.counted - self.opened_at;
        self.opened_at = self.counted;
        self.counted += CHUNK_HEAD as u64;
    }
}

/// The most a recording may count: `max_match_bytes` less the end record's room, plus what the
/// writer has shown was counted too much.
fn allow(opts: &RecordOptions, overcount: u64) -> u64 {
    opts.max_match_bytes
        .saturating_sub(TRAILER_ROOM)
        .saturating_add(overcount)
}

/// Each arena player's kills and deaths (this round's), from its table.
fn scores(table: &EntityTable) -> Vec<Score> {
    table
        .rows()
        .iter()
        .filter(|r| r.fields[field::KIND] == KIND_PLAYER)
        .map(|r| Score {
            player: r.id,
            kills: r.fields[field::KILLS],
            deaths: r.fields[field::DEATHS],
        })
        .collect()
}

impl Game for Recorded {
    fn kind(&self) -> GameKind {
        self.inner.kind()
    }
    fn field_count(&self) -> u8 {
        self.inner.field_count()
    }
    fn ack_field(&self) -> usize {
        self.inner.ack_field()
    }
    fn spawn_player(&mut self) -> EntityId {
        let id = self.inner.spawn_player();
        if self.recording_mut().is_some() {
            self.push(Record::Spawn(id));
        }
        id
    }
    fn despawn_player(&mut self, player: EntityId) {
        if let Some(rec) = self.rec.as_deref_mut().filter(|r| !r.ended) {
            // Bounded: past this many, an end record could not hold their scores anyway.
            if self.inner.kind() == GameKind::Arena && rec.left.len() < MAX_LEFT_SCORES {
                // Rare (a leave), so a whole table for one row is fine.
                rec.table.clear(Tick(rec.last_tick));
                self.inner.write_table(&mut rec.table);
                rec.left.extend(
                    scores(&rec.table)
                        .into_iter()
                        .filter(|s| s.player == player),
                );
            }
        }
        self.inner.despawn_player(player);
        if self.recording_mut().is_some() {
            self.push(Record::Despawn(player));
        }
    }
    fn apply_input(&mut self, player: EntityId, input: &PlayerInput) {
        self.inner.apply_input(player, input);
        if self.recording_mut().is_some() {
            self.push(Record::Input(player, *input));
        }
    }
    fn step(&mut self, tick: Tick, events: &mut Vec<GameEvent>) {
        self.inner.step(tick, events);
        if self.recording_mut().is_some() {
            self.push(Record::Step(tick.0));
            self.stepped(tick);
        }
    }
    fn write_table(&self, table: &mut EntityTable) {
        self.inner.write_table(table);
    }
    fn restart(&mut self, tick: Tick) {
        self.inner.restart(tick);
        if self.recording_mut().is_some() {
            self.push(Record::Restart(tick.0));
        }
    }
    fn input_policy(&self) -> InputPolicy {
        self.inner.input_policy()
    }
    fn idle(&mut self, player: EntityId) {
        self.inner.idle(player);
        if self.recording_mut().is_some() {
            self.push(Record::Idle(player));
        }
    }
    fn catch_up(&mut self, player: EntityId) {
        self.inner.catch_up(player);
        if self.recording_mut().is_some() {
            self.push(Record::CatchUp(player));
        }
    }
}
