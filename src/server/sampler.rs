//! The operator console's per-server series: one task samples players, connections, process CPU
//! and tick overruns once a second into a bounded ring (the last five minutes).

use crate::lobby::Registry;
use crate::metrics::Metrics;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

/// Samples kept: five minutes at one a second.
pub const SAMPLES: usize = 300;

/// One second of the server, as the console charts it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Sample {
    /// Unix time, milliseconds.
    pub t: u64,
    pub players: i64,
    pub connections: i64,
    /// Process CPU over the last second, percent of one core (Linux only: `None` elsewhere).
    pub cpu: Option<f64>,
    /// Ticks that took longer than the tick interval, in the last second.
    pub overruns: u64,
}

/// The ring of samples, oldest first.
#[derive(Default)]
pub struct Series(Mutex<VecDeque<Sample>>);

impl Series {
    pub fn snapshot(&self) -> Vec<Sample> {
        self.lock().iter().copied().collect()
    }

    fn push(&self, s: Sample) {
        let mut q = self.lock();
        if q.len() >= SAMPLES {
            q.pop_front();
        }
        q.push_back(s);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Sample>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// This process's user plus system CPU time, from `/proc/self/stat` (Linux).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // Clock ticks: USER_HZ is 100 on every Linux architecture the server is built for.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Samples once a second until `stop`.
pub async fn run(
    series: Arc<Series>,
    metrics: Arc<Metrics>,
    registry: Arc<Registry>,
    stop: CancellationToken,
) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_cpu = cpu_time().map(|c| (c, Instant::now()));
    let mut last_overruns = metrics.tick_overruns.get();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        let now = Instant::now();
        let cpu = match (cpu_time(), last_cpu) {
            (Some(c), Some((was, at))) => {
                last_cpu = Some((c, now));
                let wall = now.saturating_duration_since(at).as_secs_f64();
                (wall > 0.0).then(|| c.saturating_sub(was).as_secs_f64() / wall * 100.0)
            }
            (c, _) => {
                last_cpu = c.map(|c| (c, now));
                None
            }
        };
        let overruns = metrics.tick_overruns.get();
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        series.push(Sample {
            t,
            players: registry.player_total() as i64,
            connections: metrics.connections.get(),
            cpu,
            overruns: overruns.saturating_sub(last_overruns),
        });
        last_overruns = overruns;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_last_five_minutes() {
        let s = Series::default();
        for t in 0..(SAMPLES as u64 + 10) {
            s.push(Sample {
                t,
                players: 0,
                connections: 0,
                cpu: None,
                overruns: 0,
            });
        }
        let all = s.snapshot();
        assert_eq!(all.len(), SAMPLES);
        assert_eq!(all[0].t, 10);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn cpu_time_reads_proc() {
        assert!(cpu_time().is_some());
    }
}
