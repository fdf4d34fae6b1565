//! Server metrics in one per-server Prometheus registry (tests run many servers in one process).

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Shards a [`ShardedCounter`] keeps apart (more wrap around and share slots).
const SLOTS: usize = 64;

/// One shard's share of a counter, alone on its cache line.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Slot(AtomicU64);

/// A counter bumped per message from every shard's thread: each shard adds to a slot of its own,
/// so two cores never fight over one cache line on the hot path; a scrape adds the slots up.
#[derive(Clone, Debug)]
pub struct ShardedCounter {
    slots: Arc<[Slot]>,
}

impl Default for ShardedCounter {
    fn default() -> Self {
        ShardedCounter {
            slots: (0..SLOTS).map(|_| Slot::default()).collect(),
        }
    }
}

impl ShardedCounter {
    pub fn inc_by(&self, shard: usize, n: u64) {
        self.slots[shard % SLOTS].0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.slots.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

impl TypedMetric for ShardedCounter {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for ShardedCounter {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.get(), None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// Every metric the server exports. Cloning a metric handle shares the same value.
pub struct Metrics {
    registry: Registry,
    pub tick_seconds: Histogram,
    pub tick_overruns: Counter,
    pub ticks_skipped: Counter,
    pub lobbies: Gauge,
    pub players: Gauge,
    pub connections: Gauge,
    pub frames_out: Counter,
    pub bytes_out: Counter,
    pub frames_in: ShardedCounter,
    pub bytes_in: ShardedCounter,
    pub snapshots_sent: Counter,
    pub snapshots_skipped: Counter,
    pub full_snapshots: Counter,
    pub decode_errors: ShardedCounter,
    pub inputs_dropped: ShardedCounter,
    pub stale_inputs: Counter,
    pub inputs_overflowed: Counter,
    pub slow_client_kicks: Counter,
    pub rejected_connections: Counter,
    pub lobby_panics: Counter,
    pub directory_seconds: Histogram,
    pub heartbeat_failures: Counter,
    pub redirects_issued: Counter,
    pub redirects_followed: Counter,
    pub tickets_refused: Counter,
    pub replays_written: Counter,
    pub replay_bytes: Counter,
    pub replay_write_errors: Counter,
    pub replay_verify_failures: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tickrelay");
        // 50 us .. ~100 ms: a tick is normally well under a millisecond; the top buckets catch overruns.
        let tick_seconds = Histogram::new(exponential_buckets(0.00005, 2.0, 12));
        let m = Metrics {
            tick_seconds,
            tick_overruns: Counter::default(),
            ticks_skipped: Counter::default(),
            lobbies: Gauge::default(),
            players: Gauge::default(),
            connections: Gauge::default(),
            frames_out: Counter::default(),
            bytes_out: Counter::default(),
            frames_in: ShardedCounter::default(),
            bytes_in: ShardedCounter::default(),
            snapshots_sent: Counter::default(),
            snapshots_skipped: Counter::default(),
            full_snapshots: Counter::default(),
            decode_errors: ShardedCounter::default(),
            inputs_dropped: ShardedCounter::default(),
            stale_inputs: Counter::default(),
            inputs_overflowed: Counter::default(),
            slow_client_kicks: Counter::default(),
            rejected_connections: Counter::default(),
            lobby_panics: Counter::default(),
            // 100 us .. ~400 ms: a directory round trip on a LAN is well under a millisecond.
            directory_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 13)),
            heartbeat_failures: Counter::default(),
            redirects_issued: Counter::default(),
            redirects_followed: Counter::default(),
            tickets_refused: Counter::default(),
            replays_written: Counter::default(),
            replay_bytes: Counter::default(),
            replay_write_errors: Counter::default(),
            replay_verify_failures: Counter::default(),
            registry: Registry::default(),
        };
        let reg = &mut registry;
        reg.register(
            "tick_duration_seconds",
            "Time one lobby tick took (step, encode, fan-out)",
            m.tick_seconds.clone(),
        );
        reg.register(
            "tick_overruns",
            "Ticks that took longer than the tick interval",
            m.tick_overruns.clone(),
        );
        reg.register(
            "ticks_skipped",
            "Ticks a lobby that fell too far behind did not run (its world slowed down)",
            m.ticks_skipped.clone(),
        );
        reg.register("lobbies", "Lobbies open", m.lobbies.clone());
        reg.register(
            "directory_round_trip_seconds",
            "Time one cluster directory request took (Redis), heartbeats included",
            m.directory_seconds.clone(),
        );
        reg.register(
            "heartbeat_failures",
            "Cluster heartbeats that could not reach the directory",
            m.heartbeat_failures.clone(),
        );
        reg.register(
            "redirects_issued",
            "Clients sent to another cluster node (Redirect)",
            m.redirects_issued.clone(),
        );
        reg.register(
            "redirects_followed",
            "Clients that arrived here with a seat ticket another node issued, and took the seat",
            m.redirects_followed.clone(),
        );
        reg.register(
            "tickets_refused",
            "Seat tickets refused: forged, expired, used twice or for a lobby not here",
            m.tickets_refused.clone(),
        );
        reg.register(
            "replays_written",
            "Replay files finished (their lobby closed)",
            m.replays_written.clone(),
        );
        reg.register(
            "replay_bytes",
            "Bytes written to replay files",
            m.replay_bytes.clone(),
        );
        reg.register(
            "replay_write_errors",
            "Replay writes that failed (that match's recording stops)",
            m.replay_write_errors.clone(),
        );
        reg.register(
            "replay_verify_failures",
            "Replays whose re-simulation did not match a recorded checksum",
            m.replay_verify_failures.clone(),
        );
        reg.register(
            "players",
            "Players seated in lobbies (connected or holding a seat)",
            m.players.clone(),
        );
        reg.register(
            "connections",
            "WebSocket connections open",
            m.connections.clone(),
        );
        reg.register(
            "frames_out",
            "WebSocket messages queued to clients",
            m.frames_out.clone(),
        );
        reg.register(
            "bytes_out",
            "Payload bytes queued to clients",
            m.bytes_out.clone(),
        );
        reg.register(
            "frames_in",
            "WebSocket messages received from clients",
            m.frames_in.clone(),
        );
        reg.register(
            "bytes_in",
            "Payload bytes received from clients",
            m.bytes_in.clone(),
        );
        reg.register(
            "snapshots_sent",
            "Snapshots queued to clients",
            m.snapshots_sent.clone(),
        );
        reg.register(
            "snapshots_skipped",
            "Snapshots skipped because a client's queue was full",
            m.snapshots_skipped.clone(),
        );
        reg.register(
            "full_snapshots",
            "Full snapshots sent (joins and clients that fell too far behind)",
            m.full_snapshots.clone(),
        );
        reg.register(
            "decode_errors",
            "Frames from clients that did not decode",
            m.decode_errors.clone(),
        );
        reg.register(
            "inputs_dropped",
            "Client messages dropped by rate limits or a full lobby inbox",
            m.inputs_dropped.clone(),
        );
        reg.register(
            "stale_inputs",
            "Inputs ignored because their sequence number was not newer than one already taken",
            m.stale_inputs.clone(),
        );
        reg.register(
            "inputs_overflowed",
            "Inputs dropped because a burst was longer than the input buffer (the oldest waiting went)",
            m.inputs_overflowed.clone(),
        );
        reg.register(
            "slow_client_kicks",
            "Clients closed for not reading their snapshots",
            m.slow_client_kicks.clone(),
        );
        reg.register(
            "rejected_connections",
            "Connections refused by limits or origin checks",
            m.rejected_connections.clone(),
        );
        reg.register(
            "lobby_panics",
            "Lobbies that stopped because their tick loop panicked",
            m.lobby_panics.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prefixed_metrics() {
        let m = Metrics::new();
        m.snapshots_skipped.inc_by(3);
        m.frames_in.inc_by(0, 2);
        m.frames_in.inc_by(1, 3);
        m.tick_seconds.observe(0.001);
        let text = m.render();
        assert!(
            text.contains("tickrelay_snapshots_skipped_total 3"),
            "{text}"
        );
        assert!(
            text.contains("tickrelay_tick_duration_seconds_count 1"),
            "{text}"
        );
        assert!(text.contains("tickrelay_frames_in_total 5"), "{text}");
    }
}
