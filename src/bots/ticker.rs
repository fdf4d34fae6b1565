//! One input clock per worker thread (per input rate), instead of a timer per bot.
//!
//! WORKLOAD.md has every bot send one input per tick. A bot's send time relative to the server's
//! tick decides its input-to-ack latency, so bots must not all send at the same instant (nor
//! would thousands of bots in lockstep be a fair load). Each bot draws one of [`GROUPS`] phase
//! groups at random; the ticker fires `GROUPS` times per tick and each firing sends the inputs of
//! one group, written straight to their sockets. That keeps a spread of send phases across the
//! tick for one timer wake-up per firing, shared by all the bots of the group.
//!
//! A thread that falls behind sends each late group once and skips firings it missed by more
//! than a whole tick, like a game loop that dropped frames (the server applies at most one
//! input per tick anyway).

use super::player::{self, Player};
use super::thread::Ctx;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use tokio::time::Instant;

/// Phase groups per tick: a send phase to within 1/8 of a tick (4 ms at 30 Hz, about the
/// timer's own 1 ms granularity plus scheduling noise), for 8 wake-ups per tick per thread.
pub const GROUPS: usize = 8;

/// The bots of one thread that send at one rate, by phase group.
pub struct Ticker {
    rate: u16,
    groups: RefCell<Vec<Vec<Rc<RefCell<Player>>>>>,
}

impl Ticker {
    pub fn new(rate: u16) -> Ticker {
        Ticker {
            rate,
            groups: RefCell::new(vec![Vec::new(); GROUPS]),
        }
    }

    pub fn rate(&self) -> u16 {
        self.rate
    }

    /// From the group's next firing on, `p` sends one input per firing.
    pub fn add(&self, p: Rc<RefCell<Player>>, group: usize) {
        self.groups.borrow_mut()[group % GROUPS].push(p);
    }

    /// Every bot still on this ticker.
    pub fn players(&self) -> Vec<Rc<RefCell<Player>>> {
        self.groups.borrow().iter().flatten().cloned().collect()
    }

    /// Fires until the run stops. Firings fall on a grid from the run's epoch, shifted by
    /// `offset` (0..1 of a firing interval), so that threads given different offsets take turns
    /// rather than writing at the same moment.
    pub async fn run(self: Rc<Self>, ctx: Rc<Ctx>, offset: f64) {
        let firing_s = 1.0 / (f64::from(self.rate.max(1)) * GROUPS as f64);
        let since = Instant::now()
            .saturating_duration_since(ctx.epoch)
            .as_secs_f64();
        let first = (since / firing_s).ceil() + offset;
        let start = ctx.epoch + Duration::from_secs_f64(firing_s * first);
        let at = |n: u64| start + Duration::from_secs_f64(firing_s * n as f64);
        let mut next: u64 = 0;
        let sleep = tokio::time::sleep_until(start);
        tokio::pin!(sleep);
        loop {
            sleep.as_mut().await;
            if ctx.stopping.get() {
                return;
            }
            let now = Instant::now();
            let due = (now.saturating_duration_since(start).as_secs_f64() / firing_s) as u64;
            let from = next.max((due + 1).saturating_sub(GROUPS as u64));
            for n in from..=due {
                self.fire((n % GROUPS as u64) as usize, &ctx);
            }
            next = due + 1;
            sleep.as_mut().reset(at(next));
        }
    }

    /// Sends the inputs of one group; bots that ended leave the group here.
    fn fire(&self, group: usize, ctx: &Rc<Ctx>) {
        let now = Instant::now();
        self.groups.borrow_mut()[group].retain(|p| player::send_input(p, now, ctx));
    }
}

/// A thread's tickers, one per input rate (all bots of a run share one rate unless a lobby
/// runs another tick rate).
pub struct Tickers {
    list: RefCell<Vec<Rc<Ticker>>>,
    /// This thread's ticker phase, as a fraction of a firing interval: threads take turns
    /// rather than all firing at once.
    offset: f64,
}

impl Tickers {
    pub fn new(offset: f64) -> Tickers {
        Tickers {
            list: RefCell::new(Vec::new()),
            offset,
        }
    }

    /// Puts a seated bot on this thread's ticker for `rate` inputs a second (started on first
    /// use), in phase group `group`.
    pub fn add_player(&self, ctx: &Rc<Ctx>, p: Rc<RefCell<Player>>, rate: u16, group: usize) {
        let found = self
            .list
            .borrow()
            .iter()
            .find(|t| t.rate() == rate)
            .cloned();
        let ticker = found.unwrap_or_else(|| {
            let t = Rc::new(Ticker::new(rate));
            self.list.borrow_mut().push(t.clone());
            tokio::task::spawn_local(t.clone().run(ctx.clone(), self.offset));
            t
        });
        ticker.add(p, group);
    }

    /// Every bot on any of these tickers.
    pub fn players(&self) -> Vec<Rc<RefCell<Player>>> {
        self.list
            .borrow()
            .iter()
            .flat_map(|t| t.players())
            .collect()
    }
}
