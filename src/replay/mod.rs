//! Match replays (issue 11): record every call a lobby makes into its game, write them to a file
//! off the tick path, and re-simulate a file to check it bit for bit. docs/replay.md has the format.

mod checksum;
mod format;
mod record;
mod recorder;
mod verify;

pub use checksum::table_checksum;
pub use format::{
    file_name, file_start, open_chunk, read, seal, Header, ReadError, Replay, CHUNK_HEAD,
    FRAME_HEAD, MAGIC, VERSION,
};
pub use record::{tag, Record, Score};
pub use recorder::{RecordOptions, Recorded, FLUSH_BYTES, TRAILER_ROOM};
pub use verify::{summarize, verify, Summary, Verified, VerifyError};
