//! A simulated bad network on one connection's outgoing frames (every one, pongs and control
//! frames included, so order holds and a measured ping is true): delay, jitter, and loss.
//!
//! A WebSocket runs over TCP, so a lost packet is not a missing frame: it is a stall until the
//! retransmission, and everything behind it waits (head-of-line blocking). That is what "drop"
//! does here, so the delta stream stays intact and the client sees what a real lossy link does.

use crate::config;
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a "lost" frame waits for its retransmission (a typical minimum TCP RTO).
const RETRANSMIT: Duration = Duration::from_millis(200);
/// Frames one connection may have in flight on the simulated link: past it snapshots and events
/// are refused as if the socket were full, and the client's messages are no longer read (the
/// connection's writer keeps to it; nothing already queued is dropped, which would break the
/// client's deltas).
const CAPACITY: usize = 256;

pub struct NetSim {
    delay: Duration,
    jitter: Duration,
    drop: f64,
    rng: fastrand::Rng,
    queue: VecDeque<(Instant, Bytes)>,
}

impl NetSim {
    pub fn new(cfg: &config::NetSim, seed: u64) -> Self {
        NetSim {
            delay: cfg.delay,
            jitter: cfg.jitter,
            drop: cfg.drop,
            rng: fastrand::Rng::with_seed(seed),
            queue: VecDeque::new(),
        }
    }

    /// Queues a frame; it becomes due after the delay, a random jitter and maybe a retransmission,
    /// and never before the frame ahead of it (TCP keeps order).
    pub fn push(&mut self, frame: Bytes) {
        self.push_at(frame, Instant::now());
    }

    pub fn push_at(&mut self, frame: Bytes, now: Instant) {
        let jitter = self.jitter.mul_f64(self.rng.f64());
        let mut due = now + self.delay + jitter;
        if self.rng.f64() < self.drop {
            due += RETRANSMIT;
        }
        if let Some((last, _)) = self.queue.back() {
            due = due.max(*last);
        }
        self.queue.push_back((due, frame));
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// No room for a frame that may be skipped instead (a snapshot).
    pub fn is_full(&self) -> bool {
        self.queue.len() >= CAPACITY
    }

    /// Everything still on the simulated link, in order, due or not.
    pub fn take_all(&mut self) -> Vec<Bytes> {
        self.queue.drain(..).map(|(_, f)| f).collect()
    }

    pub fn next_due(&self) -> Option<Instant> {
        self.queue.front().map(|(t, _)| *t)
    }

    pub fn take_due(&mut self, now: Instant) -> Vec<Bytes> {
        let mut out = Vec::new();
        while self.queue.front().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, f)) = self.queue.pop_front() {
                out.push(f);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(delay_ms: u64, jitter_ms: u64, drop: f64) -> NetSim {
        NetSim::new(
            &config::NetSim {
                enabled: true,
                delay: Duration::from_millis(delay_ms),
                jitter: Duration::from_millis(jitter_ms),
                drop,
            },
            3,
        )
    }

    #[test]
    fn frames_come_out_in_order_after_the_delay() {
        let mut s = sim(50, 30, 0.0);
        let t0 = Instant::now();
        for i in 0..20u8 {
            s.push_at(
                Bytes::from(vec![i]),
                t0 + Duration::from_millis(u64::from(i)),
            );
        }
        assert!(s.take_due(t0 + Duration::from_millis(49)).is_empty());
        let all = s.take_due(t0 + Duration::from_secs(1));
        let order: Vec<u8> = all.iter().map(|b| b[0]).collect();
        assert_eq!(order, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn loss_becomes_a_stall_not_a_gap() {
        let mut s = sim(0, 0, 1.0);
        let t0 = Instant::now();
        s.push_at(Bytes::from_static(b"a"), t0);
        assert!(s.take_due(t0 + Duration::from_millis(199)).is_empty());
        assert_eq!(s.take_due(t0 + RETRANSMIT).len(), 1);
    }
}
