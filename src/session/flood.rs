//! The flood guard: a token bucket on every message a client sends, and the judgement of when
//! dropping turns into closing. Pure: the caller passes `now`, so every rule is unit-tested.

use std::time::{Duration, Instant};

/// A flood ends once the client has gone this long without a message dropped.
const FLOOD_QUIET: Duration = Duration::from_secs(1);
/// The client is told about drops at most this often: the answer to a flood must not be a flood.
const TELL_EVERY: Duration = Duration::from_secs(1);

/// What to do with one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Within the rate: handle it.
    Admit,
    /// Dropped without a word (the client was told within the last second).
    Drop,
    /// Dropped: send the client a rate-limit error.
    DropAndTell,
    /// Flooding without a quiet second for longer than the grace: close the connection.
    Close,
}

/// Per connection: the bucket (as GCRA: one theoretical arrival time instead of a token count)
/// and the state of the current flood.
#[derive(Clone, Debug)]
pub struct FloodGuard {
    /// Time one message costs: 1 / rate.
    cost: Duration,
    /// How far ahead of now the bucket may run: `burst - 1` messages' worth.
    slack: Duration,
    grace: Duration,
    /// When the bucket will be full again if nothing more arrives.
    tat: Option<Instant>,
    flooding_since: Option<Instant>,
    last_drop: Option<Instant>,
    told: Option<Instant>,
}

impl FloodGuard {
    /// `rate` messages a second, bursts of `burst`; a flood lasting `grace` closes.
    pub fn new(rate: u32, burst: u32, grace: Duration) -> FloodGuard {
        let cost = Duration::from_secs(1) / rate.max(1);
        FloodGuard {
            cost,
            slack: cost * burst.max(1).saturating_sub(1),
            grace,
            tat: None,
            flooding_since: None,
            last_drop: None,
            told: None,
        }
    }

    /// Judges one message arriving at `now`.
    ///
    /// A flooder still gets a message through whenever a token refills, so "flooding" is not
    /// reset by an admitted message: it lasts until the client has gone [`FLOOD_QUIET`] without
    /// a drop. Otherwise any grace longer than one refill period would never run out.
    pub fn check(&mut self, now: Instant) -> Verdict {
        let tat = self.tat.map_or(now, |t| t.max(now));
        if tat.saturating_duration_since(now) <= self.slack {
            self.tat = Some(tat + self.cost);
            return Verdict::Admit;
        }
        if self
            .last_drop
            .is_none_or(|t| now.saturating_duration_since(t) >= FLOOD_QUIET)
        {
            self.flooding_since = Some(now);
        }
        self.last_drop = Some(now);
        let since = self.flooding_since.unwrap_or(now);
        if now.saturating_duration_since(since) >= self.grace {
            return Verdict::Close;
        }
        if self
            .told
            .is_none_or(|t| now.saturating_duration_since(t) >= TELL_EVERY)
        {
            self.told = Some(now);
            return Verdict::DropAndTell;
        }
        Verdict::Drop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t0: Instant, n: u64) -> Instant {
        t0 + Duration::from_millis(n)
    }

    #[test]
    fn a_burst_fits_then_one_message_per_refill() {
        let t0 = Instant::now();
        let mut g = FloodGuard::new(10, 5, Duration::from_secs(60));
        for _ in 0..5 {
            assert_eq!(g.check(t0), Verdict::Admit);
        }
        assert_eq!(g.check(t0), Verdict::DropAndTell);
        assert_eq!(g.check(ms(t0, 50)), Verdict::Drop, "told a moment ago");
        assert_eq!(g.check(ms(t0, 100)), Verdict::Admit, "a token refilled");
        assert_eq!(g.check(ms(t0, 100)), Verdict::Drop);
        // Quiet for long enough, the whole burst is back.
        for _ in 0..5 {
            assert_eq!(g.check(ms(t0, 2000)), Verdict::Admit);
        }
    }

    #[test]
    fn at_the_sustained_rate_nothing_is_dropped() {
        let t0 = Instant::now();
        let mut g = FloodGuard::new(30, 1, Duration::from_secs(1));
        for i in 0..300u32 {
            let at = t0 + Duration::from_secs(1) / 30 * i;
            assert_eq!(g.check(at), Verdict::Admit, "message {i}");
        }
    }

    #[test]
    fn the_client_is_told_at_most_once_a_second() {
        let t0 = Instant::now();
        let mut g = FloodGuard::new(1, 1, Duration::from_secs(600));
        assert_eq!(g.check(t0), Verdict::Admit);
        let told = (1..3000u64)
            .filter(|i| g.check(ms(t0, *i)) == Verdict::DropAndTell)
            .count();
        assert_eq!(told, 3, "once in each of the three seconds");
    }

    #[test]
    fn a_flood_that_trickles_through_still_closes_after_the_grace() {
        let t0 = Instant::now();
        let mut g = FloodGuard::new(5, 5, Duration::from_millis(300));
        let mut closed_at = None;
        // Ten messages a millisecond: some get through as tokens refill; the flood goes on.
        for i in 0..5000u64 {
            if g.check(ms(t0, i / 10)) == Verdict::Close {
                closed_at = Some(i / 10);
                break;
            }
        }
        let at = closed_at.expect("the flood was never closed");
        assert!((300..=301).contains(&at), "closed at {at} ms");
    }

    #[test]
    fn a_quiet_second_ends_a_flood() {
        let t0 = Instant::now();
        let mut g = FloodGuard::new(1, 1, Duration::from_millis(1500));
        assert_eq!(g.check(t0), Verdict::Admit);
        assert_eq!(g.check(ms(t0, 10)), Verdict::DropAndTell);
        // A message a second is exactly the rate: admitted, no drops, so the flood is over and
        // a drop 1.2 s into the flood's would-be life starts a new one instead of closing.
        assert_eq!(g.check(ms(t0, 1000)), Verdict::Admit);
        assert_eq!(g.check(ms(t0, 1100)), Verdict::DropAndTell);
        assert_eq!(g.check(ms(t0, 2100)), Verdict::Admit);
        assert_eq!(g.check(ms(t0, 2200)), Verdict::DropAndTell);
        assert_eq!(g.check(ms(t0, 2250)), Verdict::Drop);
    }
}
