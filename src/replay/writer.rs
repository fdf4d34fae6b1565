//! The replay writer: one thread per server that owns every replay file.
//!
//! Lobbies hand it whole chunks over a channel (a send never blocks a tick); it encodes and
//! appends them, closes a file when its lobby ends, and keeps the directory under
//! `replay.max_bytes` by deleting the oldest files.

use super::batch::Batch;
use crate::metrics::Metrics;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use tracing::{debug, warn};

/// Replay files end in this.
pub const EXTENSION: &str = "trp";

struct Chunk {
    file: String,
    batch: Batch,
    /// The lobby ended: close the file after these bytes.
    last: bool,
}

/// A handle to the writer thread; clones share it. The thread ends when every handle is gone.
#[derive(Clone)]
pub struct ReplayWriter {
    tx: mpsc::Sender<Chunk>,
}

impl ReplayWriter {
    /// Opens (creates) `dir` and starts the writer thread. `done` is dropped when the thread has
    /// written everything it was sent (the server waits for it at shutdown).
    pub fn start<T: Send + 'static>(
        dir: &Path,
        max_bytes: u64,
        metrics: Arc<Metrics>,
        done: T,
    ) -> io::Result<ReplayWriter> {
        let mut store = Store::open(dir, max_bytes, metrics)?;
        let (tx, rx) = mpsc::channel::<Chunk>();
        std::thread::Builder::new()
            .name("tickrelay-replay".into())
            .spawn(move || {
                // Encoding happens here, off every lobby's tick, into one buffer kept for all.
                let mut bytes = Vec::new();
                for c in rx {
                    bytes.clear();
                    c.batch.write_into(&mut bytes);
                    drop(c.batch);
                    store.append(&c.file, &bytes, c.last);
                    // A big lobby's chunk need not stay allocated for every small one after it.
                    if bytes.capacity() > 1 << 20 {
                        bytes = Vec::new();
                    }
                }
                drop(done);
            })?;
        Ok(ReplayWriter { tx })
    }

    /// Hands `batch` (whole chunks) for `file` to the writer. Never blocks.
    pub fn send(&self, file: &str, batch: Batch, last: bool) {
        let _ = self.tx.send(Chunk {
            file: file.to_owned(),
            batch,
            last,
        });
    }
}

/// The replay directory as the writer keeps it. Synchronous, so tests drive it directly.
pub struct Store {
    dir: PathBuf,
    max_bytes: u64,
    /// Every replay file in the directory and its size. Names start with the match's start time
    /// (zero-padded), so the first is the oldest.
    sizes: BTreeMap<String, u64>,
    total: u64,
    open: HashMap<String, File>,
    /// Files given up on (deleted for the cap while open, or a write failed): later chunks for
    /// them are dropped.
    dropped: HashSet<String>,
    metrics: Arc<Metrics>,
}

impl Store {
    /// Creates `dir` if needed and counts the replay files already in it.
    pub fn open(dir: &Path, max_bytes: u64, metrics: Arc<Metrics>) -> io::Result<Store> {
        std::fs::create_dir_all(dir)?;
        let mut sizes = BTreeMap::new();
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if Path::new(&name).extension().is_some_and(|x| x == EXTENSION) {
                sizes.insert(name, e.metadata()?.len());
            }
        }
        let total = sizes.values().sum();
        let mut store = Store {
            dir: dir.to_owned(),
            max_bytes,
            sizes,
            total,
            open: HashMap::new(),
            dropped: HashSet::new(),
            metrics,
        };
        store.enforce_cap();
        Ok(store)
    }

    /// Total bytes of the replay files in the directory.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Appends `bytes` to `file` (created on its first chunk); `last` closes it.
    pub fn append(&mut self, file: &str, bytes: &[u8], last: bool) {
        if self.dropped.contains(file) {
            if last {
                self.dropped.remove(file);
            }
            return;
        }
        if !bytes.is_empty() {
            if let Err(e) = self.write(file, bytes) {
                warn!(file, error = %e, "writing a replay failed; that match stops recording");
                self.metrics.replay_write_errors.inc();
                self.open.remove(file);
                if !last {
                    self.dropped.insert(file.to_owned());
                }
                return;
            }
            self.enforce_cap();
        }
        if last && self.open.remove(file).is_some() {
            debug!(file, "replay written");
            self.metrics.replays_written.inc();
        }
    }

    fn write(&mut self, file: &str, bytes: &[u8]) -> io::Result<()> {
        if !self.open.contains_key(file) {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join(file))?;
            self.open.insert(file.to_owned(), f);
            self.sizes.entry(file.to_owned()).or_insert(0);
        }
        let f = self.open.get_mut(file).expect("opened above");
        // One write per chunk, no buffer of our own: what a crash of this process can lose is
        // what the lobby had not handed over yet. No fsync: a chunk a second per lobby would cost
        // more than a power cut's last second is worth.
        f.write_all(bytes)?;
        let n = bytes.len() as u64;
        *self.sizes.entry(file.to_owned()).or_insert(0) += n;
        self.total += n;
        self.metrics.replay_bytes.inc_by(n);
        Ok(())
    }

    /// Deletes the oldest files until the directory fits `max_bytes`.
    fn enforce_cap(&mut self) {
        while self.total > self.max_bytes {
            let Some((name, size)) = self.sizes.pop_first() else {
                return;
            };
            self.total -= size;
            if self.open.remove(&name).is_some() {
                self.dropped.insert(name.clone());
            }
            if let Err(e) = std::fs::remove_file(self.dir.join(&name)) {
                warn!(file = %name, error = %e, "could not delete an old replay");
            } else {
                debug!(file = %name, "old replay deleted (replay.max_bytes)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "tickrelay-replay-{name}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_replay_size_cap_deletes_the_oldest_files_first() {
        let dir = temp_dir("cap");
        std::fs::create_dir_all(&dir).unwrap();
        // A file from an earlier run counts, and is the oldest; other files are not ours.
        std::fs::write(dir.join("0000000000001-1.trp"), [0u8; 300]).unwrap();
        std::fs::write(dir.join("notes.txt"), [0u8; 5000]).unwrap();
        let metrics = Arc::new(Metrics::new());
        let mut s = Store::open(&dir, 1000, metrics.clone()).unwrap();
        assert_eq!(s.total(), 300);
        s.append("0000000000002-2.trp", &[1; 300], true);
        s.append("0000000000003-3.trp", &[2; 300], false);
        assert_eq!(s.total(), 900);
        // Past 1000: the oldest goes, not the one being written.
        s.append("0000000000003-3.trp", &[2; 200], true);
        assert_eq!(
            names(&dir),
            ["0000000000002-2.trp", "0000000000003-3.trp", "notes.txt"]
        );
        assert_eq!(s.total(), 800);
        s.append("0000000000004-4.trp", &[3; 250], false);
        assert_eq!(
            names(&dir),
            ["0000000000003-3.trp", "0000000000004-4.trp", "notes.txt"]
        );
        assert_eq!(
            std::fs::read(dir.join("0000000000003-3.trp"))
                .unwrap()
                .len(),
            500
        );
        // An open file that becomes the oldest past the cap is deleted too, and later chunks
        // for it are dropped rather than starting a fresh, headless file.
        s.append("0000000000005-5.trp", &[4; 800], true);
        assert_eq!(names(&dir), ["0000000000005-5.trp", "notes.txt"]);
        s.append("0000000000004-4.trp", &[3; 10], true);
        assert_eq!(names(&dir), ["0000000000005-5.trp", "notes.txt"]);
        assert_eq!(metrics.replays_written.get(), 3);
        assert_eq!(metrics.replay_bytes.get(), 300 + 500 + 250 + 800);
        assert_eq!(metrics.replay_write_errors.get(), 0);
        // A new store over the same directory sees what is left.
        let s = Store::open(&dir, 1000, metrics).unwrap();
        assert_eq!(s.total(), 800);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_replay_writer_thread_writes_what_it_is_sent_and_ends_with_its_handles() {
        let dir = temp_dir("thread");
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let w = ReplayWriter::start(&dir, 1 << 20, Arc::new(Metrics::new()), done_tx).unwrap();
        let raw = |b: &[u8]| Batch {
            start: b.to_vec(),
            ..Batch::default()
        };
        w.send("0000000000001-9.trp", raw(&[1, 2, 3]), false);
        w.clone().send("0000000000001-9.trp", raw(&[4]), true);
        drop(w);
        // The thread drops `done` once everything is written and every handle is gone.
        assert!(done_rx.recv().is_err());
        assert_eq!(
            std::fs::read(dir.join("0000000000001-9.trp")).unwrap(),
            [1, 2, 3, 4]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
