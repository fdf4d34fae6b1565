//! The shard's one timer for every connection on it: a periodic sweep that sends pings to quiet
//! clients and closes those that missed the hello deadline or went silent past the idle timeout.
//!
//! A timer per connection would wake each connection's task on its own schedule; one sweep every
//! fraction of a second walks a few thousand connections in microseconds and wakes only those it
//! has something to say to. Deadlines are therefore kept to within one sweep period.

use super::local::Shard;
use crate::protocol::CloseCode;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::time::MissedTickBehavior;

/// What a connection's times say at one sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    Nothing,
    /// Quiet for a third of the idle timeout and not pinged since: ask for a pong.
    Ping,
    /// Hello late, or silent for the whole idle timeout (pings unanswered, or a write stuck on
    /// a client that neither reads nor talks): close with 4004.
    Timeout,
}

/// A connection's clock readings, for [`judge`].
#[derive(Clone, Copy, Debug)]
pub struct Times {
    pub heard: Instant,
    pub hello_by: Option<Instant>,
    pub pinged: Option<Instant>,
}

/// Pure: what is due for a connection with `times` at `now`, given the idle timeout.
pub fn judge(now: Instant, t: Times, idle: Duration) -> Due {
    let silent = now.saturating_duration_since(t.heard);
    if t.hello_by.is_some_and(|by| now >= by) || silent >= idle {
        return Due::Timeout;
    }
    let ping_every = idle / 3;
    let ping_due = t
        .pinged
        .is_none_or(|p| now.saturating_duration_since(p) >= ping_every);
    if silent >= ping_every && ping_due {
        return Due::Ping;
    }
    Due::Nothing
}

/// How often the sweep runs: a quarter of the shortest deadline it keeps, within 5..=250 ms.
pub fn period(idle: Duration, handshake: Duration) -> Duration {
    ((idle / 3).min(handshake) / 4).clamp(Duration::from_millis(5), Duration::from_millis(250))
}

/// Runs the shard's sweep until the shard stops.
pub async fn sweep(shard: Rc<Shard>) {
    let limits = &shard.ctx.config.limits;
    let idle = limits.idle_timeout;
    let mut every = tokio::time::interval(period(idle, limits.handshake_timeout));
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let stop = shard.ctx.shutdown.clone();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        let now = Instant::now();
        shard.each_conn(|c| {
            let times = Times {
                heard: c.heard.get(),
                hello_by: c.hello_by.get(),
                pinged: c.pinged.get(),
            };
            match judge(now, times, idle) {
                Due::Nothing => {}
                Due::Ping => {
                    c.pinged.set(Some(now));
                    c.ping();
                }
                Due::Timeout => c.close_with(CloseCode::Timeout),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Duration = Duration::from_secs(30);

    fn at(t0: Instant, s: u64) -> Instant {
        t0 + Duration::from_secs(s)
    }

    #[test]
    fn a_talking_client_is_never_pinged() {
        let t0 = Instant::now();
        for s in 0..100 {
            let t = Times {
                heard: at(t0, s),
                hello_by: None,
                pinged: None,
            };
            assert_eq!(judge(at(t0, s), t, IDLE), Due::Nothing);
        }
    }

    #[test]
    fn a_quiet_client_is_pinged_every_third_then_closed() {
        let t0 = Instant::now();
        let mut t = Times {
            heard: t0,
            hello_by: None,
            pinged: None,
        };
        assert_eq!(judge(at(t0, 9), t, IDLE), Due::Nothing);
        assert_eq!(judge(at(t0, 10), t, IDLE), Due::Ping);
        t.pinged = Some(at(t0, 10));
        assert_eq!(judge(at(t0, 15), t, IDLE), Due::Nothing, "pinged already");
        assert_eq!(judge(at(t0, 20), t, IDLE), Due::Ping);
        t.pinged = Some(at(t0, 20));
        assert_eq!(judge(at(t0, 30), t, IDLE), Due::Timeout);
        // A pong (anything heard) puts it back to quiet-but-alive.
        t.heard = at(t0, 25);
        assert_eq!(judge(at(t0, 30), t, IDLE), Due::Nothing);
    }

    #[test]
    fn a_late_hello_times_out_whatever_else_was_heard() {
        let t0 = Instant::now();
        let t = Times {
            heard: at(t0, 5),
            hello_by: Some(at(t0, 5)),
            pinged: None,
        };
        assert_eq!(judge(at(t0, 4), t, IDLE), Due::Nothing);
        assert_eq!(judge(at(t0, 5), t, IDLE), Due::Timeout);
    }

    #[test]
    fn the_sweep_period_follows_the_shortest_deadline() {
        let s = Duration::from_secs;
        assert_eq!(period(s(30), s(5)), Duration::from_millis(250));
        assert_eq!(
            period(Duration::from_millis(600), s(5)),
            Duration::from_millis(50)
        );
        assert_eq!(
            period(s(30), Duration::from_millis(300)),
            Duration::from_millis(75)
        );
        assert_eq!(period(Duration::ZERO, s(5)), Duration::from_millis(5));
    }
}
