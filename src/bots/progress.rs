//! The live line on stderr while a run goes: phase, bots in, snapshots/s, kbit/s and p99 latency
//! of the last second, from what the bot threads last published. Hidden when stderr is not a
//! terminal.

use super::stats::{new_histogram, Shared, DONE, MEASURE, SETUP, WARMUP};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub async fn show(shared: Arc<Shared>, done: CancellationToken) {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4));
    if bar.is_hidden() {
        shared.live_latency.store(false, Relaxed);
        return;
    }
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}") {
        bar.set_style(style);
    }
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    // Rates and p99 over the last second (four updates): a quarter second holds only 7 or 8
    // snapshots per bot, too few for a steady figure.
    let mut counts: VecDeque<(Instant, u64, u64)> = VecDeque::new();
    let mut latencies: VecDeque<Histogram<u64>> = VecDeque::new();
    loop {
        tokio::select! {
            _ = done.cancelled() => break,
            _ = tick.tick() => {}
        }
        let now = Instant::now();
        let (snapshots, bytes) = shared.live_totals();
        counts.push_back((now, snapshots, bytes));
        if counts.len() > 5 {
            counts.pop_front();
        }
        latencies.push_back(shared.take_recent_latency());
        if latencies.len() > 4 {
            latencies.pop_front();
        }
        let (t0, s0, b0) = counts[0];
        let dt = now.duration_since(t0).as_secs_f64().max(1e-3);
        let (s, b) = (counts[counts.len() - 1].1, counts[counts.len() - 1].2);
        let connected = shared.connected.load(Relaxed);
        let per_bot = (s - s0) as f64 / dt / connected.max(1) as f64;
        let kbit = (b - b0) as f64 * 8.0 / 1000.0 / dt;
        let mut recent = new_histogram();
        for h in &latencies {
            let _ = recent.add(h);
        }
        let p99 = if recent.is_empty() {
            "-".to_owned()
        } else {
            format!("{:.1} ms", recent.value_at_quantile(0.99) as f64 / 1000.0)
        };
        let phase = match shared.phase() {
            SETUP => "connecting",
            WARMUP => "warm-up",
            MEASURE => "measuring",
            DONE => "stopping",
            _ => "",
        };
        bar.set_message(format!(
            "{phase:<10} bots {connected}/{} (failed {}) | {per_bot:5.1} snapshots/s per bot | {kbit:8.0} kbit/s | p99 {p99}",
            shared.total,
            shared.failed.load(Relaxed),
        ));
        bar.tick();
    }
    bar.finish_and_clear();
}
