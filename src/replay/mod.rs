//! Match replays (issue 11): record a lobby's game calls, write them off the tick path, re-simulate.
//!
//! The pure parts: `format` (the file, byte by byte: docs/replay.md), `record` (one call),
//! `checksum`, `recorder` (the `Recorded` game wrapper), `batch` (its records, encoded by the writer), `verify` (re-simulation) and
//! `playback` (re-simulation into snapshots from any tick, for the browser). The I/O:
//! `writer` (one thread per server owns the files) and `files` (what the CLI calls).

mod batch;
mod checksum;
mod files;
mod format;
mod playback;
mod record;
mod recorder;
mod verify;
mod writer;

pub use batch::Batch;
pub use checksum::table_checksum;
pub use files::{info_file, verify_file, FileError};
pub use format::{
    file_name, file_start, read, read_header, seal, Header, ReadError, Replay, CHUNK_HEAD,
    FRAME_HEAD, MAGIC, VERSION,
};
pub use playback::{Playback, PlaybackError, KEYFRAME_EVERY, MAX_FRAMES, MAX_KEYFRAMES};
pub use record::{tag, Record, Score};
pub use recorder::{RecordOptions, Recorded, FLUSH_RECORDS, TRAILER_ROOM};
pub use verify::{summarize, verify, Summary, Verified, VerifyError};
pub use writer::{ReplayWriter, Store, EXTENSION};
