//! `ReplayCache`: the last few replays re-simulated for playback, and how many are built at once.

use crate::replay::Playback;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Replays kept re-simulated in memory: at most this many, and files of at most this many bytes
/// together (records in memory take a few times their file's size), the newest always kept.
const CACHED: usize = 4;
const CACHED_BYTES: u64 = 64 << 20;
/// Playbacks built at once (each re-simulates a whole match on a blocking thread).
const BUILDING: usize = 2;
/// Frame requests computed at once (each re-simulates up to a keyframe interval and 300 ticks).
const FRAMES_AT_ONCE: usize = 4;

/// The last few playbacks, keyed by replay id and the file's length when read.
pub struct ReplayCache {
    entries: Mutex<Vec<(String, u64, Arc<Playback>)>>,
    /// Held while a playback is built.
    pub(super) building: Semaphore,
    /// Held while frames are computed.
    pub(super) framing: Semaphore,
}

impl Default for ReplayCache {
    fn default() -> Self {
        ReplayCache {
            entries: Mutex::new(Vec::new()),
            building: Semaphore::new(BUILDING),
            framing: Semaphore::new(FRAMES_AT_ONCE),
        }
    }
}

impl ReplayCache {
    pub(super) fn get(&self, id: &str, len: u64) -> Option<Arc<Playback>> {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let i = e.iter().position(|(i, l, _)| i == id && *l == len)?;
        let hit = e.remove(i);
        let p = hit.2.clone();
        e.push(hit); // most recently used last
        Some(p)
    }

    pub(super) fn put(&self, id: &str, len: u64, p: Arc<Playback>) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.retain(|(i, ..)| i != id);
        e.push((id.to_owned(), len, p));
        // Least recently used first out.
        while e.len() > 1
            && (e.len() > CACHED || e.iter().map(|(_, l, _)| l).sum::<u64>() > CACHED_BYTES)
        {
            e.remove(0);
        }
    }
}
