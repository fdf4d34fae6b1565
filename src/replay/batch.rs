//! `Batch`: what a recording hands its writer, still as records; encoded to file bytes off the tick.

use super::format::{seal, CHUNK_HEAD};
use super::record::Record;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Sealed chunks not yet written (and, first of all, the file's start). The tick only moves
/// record values into these; the writer thread turns them into bytes with [`Batch::write_into`].
#[derive(Debug, Default)]
pub struct Batch {
    /// The file's first bytes (magic, version, header), in the first batch only.
    pub(super) start: Vec<u8>,
    /// Each chunk's records, in order.
    pub(super) chunks: Vec<Vec<Record>>,
    /// The bytes the recorder counted for all of it: exact for the start and the chunk heads,
    /// each record's [`Record::max_len`].
    pub(super) counted: u64,
    /// Where the writer says what that really came to.
    pub(super) measured: Option<Arc<Measured>>,
}

/// What encoding has shown of one recording's size, shared by the recorder and the writer: the
/// recorder's counts never take more than a cheap bound per record, and this is how far over
/// they have been, so its size cap is exact but for what the writer has not encoded yet.
#[derive(Debug, Default)]
pub struct Measured {
    counted: AtomicU64,
    exact: AtomicU64,
}

impl Measured {
    /// Bytes counted beyond what was really written, over every batch encoded so far.
    pub fn overcount(&self) -> u64 {
        // `counted` is added last (Release), so whoever sees it also sees its `exact`; seeing an
        // `exact` without its `counted` only makes this smaller, which keeps the cap safe.
        let counted = self.counted.load(Ordering::Acquire);
        let exact = self.exact.load(Ordering::Relaxed);
        counted.saturating_sub(exact)
    }
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.start.is_empty() && self.chunks.is_empty()
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

    /// [`Batch::encode_into`], then tells the recording how many bytes that really was. What
    /// the writer does, once per batch.
    pub fn write_into(&self, out: &mut Vec<u8>) {
        let at = out.len();
        self.encode_into(out);
        if let Some(m) = &self.measured {
            m.exact
                .fetch_add((out.len() - at) as u64, Ordering::Relaxed);
            m.counted.fetch_add(self.counted, Ordering::Release);
        }
    }

    /// The batch's bytes in a new buffer, told to the recording as the writer would.
    pub fn write(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_into(&mut out);
        out
    }
}
