//! `Batch`: what a recording hands its writer, still as records; encoded to file bytes off the tick.

use super::format::{seal, CHUNK_HEAD};
use super::record::Record;

/// Sealed chunks not yet written (and, first of all, the file's start). The tick only moves
/// record values into these; the writer thread turns them into bytes with [`Batch::encode_into`].
#[derive(Debug, Default)]
pub struct Batch {
    /// The file's first bytes (magic, version, header), in the first batch only.
    pub(super) start: Vec<u8>,
    /// Each chunk's records, in order.
    pub(super) chunks: Vec<Vec<Record>>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.start.is_empty() && self.chunks.is_empty()
    }

    /// How many records the batch holds.
    pub fn records(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    /// Appends the batch's bytes, as they go into the file: the start, then each chunk framed
    /// and checksummed (docs/replay.md).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.start);
        for chunk in &self.chunks {
            let at = out.len();
            out.resize(at + CHUNK_HEAD, 0);
            for r in chunk {
                r.encode(out);
            }
            seal(&mut out[at..], chunk.len() as u32);
        }
    }

    /// The batch's bytes in a new buffer.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
}
