//! Replay files from disk for the CLI and the tests: read, then verify or summarize.

use super::format::{read, ReadError, Replay};
use super::verify::{summarize, verify, Summary, Verified, VerifyError};
use crate::metrics::Metrics;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("reading {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("{0}")]
    Verify(#[from] VerifyError),
}

fn load(path: &Path) -> Result<Replay, FileError> {
    let bytes = std::fs::read(path).map_err(|error| FileError::Io {
        path: path.display().to_string(),
        error,
    })?;
    Ok(read(&bytes)?)
}

/// Re-simulates the replay at `path` against every checksum it recorded. A failure counts in
/// `metrics` (`tickrelay_replay_verify_failures`) when given.
pub fn verify_file(
    path: &Path,
    metrics: Option<&Metrics>,
) -> Result<(Replay, Verified), FileError> {
    let r = load(path).and_then(|replay| {
        let v = verify(&replay)?;
        Ok((replay, v))
    });
    if let (Err(_), Some(m)) = (&r, metrics) {
        m.replay_verify_failures.inc();
    }
    r
}

/// What `replay info` prints: the game, who joined, how long, the final scores if recorded.
pub fn info_file(path: &Path) -> Result<(Replay, Summary), FileError> {
    let replay = load(path)?;
    let s = summarize(&replay);
    Ok((replay, s))
}
