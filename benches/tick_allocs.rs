//! Heap allocations per lobby tick, counted by a wrapping global allocator (the one unsafe block
//! here: `GlobalAlloc` cannot be implemented without it). Prints a table; times nothing.
//! A separate bench target so the counter's atomics stay out of the criterion timings.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tickrelay::game::{GameKind, GameSetup};
use tickrelay::lobby::{LobbySettings, LobbyState, SendError, Sink};
use tickrelay::protocol::Frame;
use tickrelay::protocol::{CloseCode, LobbyId, PlayerInput, SessionId, Tick};

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting every allocation and reallocation.
struct Counting;

// SAFETY: every call is forwarded unchanged to `System`, which upholds `GlobalAlloc`'s contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: same layout the caller gave us.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(new_size as u64, Relaxed);
        // SAFETY: `ptr` came from `System` with `layout`; the caller checked `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SIZES: [usize; 4] = [8, 64, 256, 1024];
const TICKS: u64 = 200;

struct AcceptSink(Vec<(SessionId, Frame)>);

impl Sink for AcceptSink {
    fn send(&mut self, to: SessionId, frame: &Frame) -> Result<(), SendError> {
        self.0.push((to, frame.clone()));
        Ok(())
    }

    fn kick(&mut self, _to: SessionId, _code: CloseCode) {}
}

fn settings(game: GameKind, n: usize) -> LobbySettings {
    LobbySettings {
        id: LobbyId(1),
        code: "BENCH2".into(),
        name: "bench".into(),
        game,
        max_players: n as u16,
        max_spectators: 0,
        public: true,
        tick_rate: 30,
        snapshot_every: 1,
        history: 64,
        empty_close: Duration::from_secs(30),
        reconnect_grace: Duration::from_secs(30),
        slow_client: Duration::from_secs(5),
        chat_burst: 5,
        chat_refill: Duration::from_secs(1),
        seed: 42,
        kill_goal: 0,
        round_seconds: 0,
        max_rewind: Duration::from_millis(200),
    }
}

fn input(rng: &mut fastrand::Rng, seq: u32) -> PlayerInput {
    let (dx, dy) = loop {
        let d = (rng.i8(-1..=1), rng.i8(-1..=1));
        if d != (0, 0) {
            break d;
        }
    };
    PlayerInput {
        seq,
        dx,
        dy,
        aim: rng.f32() * std::f32::consts::TAU,
        buttons: rng.u8(..2),
        view_tick: 0,
    }
}

/// Average (allocations, bytes) per call of `f` over `TICKS` calls, `prepare` running uncounted.
fn count(mut prepare: impl FnMut(), mut f: impl FnMut()) -> (f64, f64) {
    let (mut n, mut bytes) = (0, 0);
    for _ in 0..TICKS {
        prepare();
        let (a0, b0) = (ALLOCS.load(Relaxed), ALLOC_BYTES.load(Relaxed));
        f();
        n += ALLOCS.load(Relaxed) - a0;
        bytes += ALLOC_BYTES.load(Relaxed) - b0;
    }
    (n as f64 / TICKS as f64, bytes as f64 / TICKS as f64)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and then there is nothing to do.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!("heap allocations per call, steady state (after 100 warm-up ticks), mean of {TICKS}");
    println!(
        "{:<10} {:>7} {:>16} {:>16} {:>16}",
        "game", "players", "game.step", "lobby.tick", "tick bytes"
    );
    for kind in [GameKind::Walkers, GameKind::Arena] {
        for n in SIZES {
            let mut state = LobbyState::new(settings(kind, n));
            let members: Vec<(usize, SessionId)> = (0..n)
                .map(|i| {
                    let s = SessionId(i as u64 + 1);
                    (
                        state.join(s, format!("p{i}"), false, None).unwrap().member,
                        s,
                    )
                })
                .collect();
            let mut sink = AcceptSink(Vec::with_capacity(4 * n));
            let mut rng = fastrand::Rng::with_seed(7);
            let mut seq = 0;
            let mut feed = |state: &mut LobbyState, sink: &mut AcceptSink| {
                seq += 1;
                for &(m, s) in &members {
                    state.input(m, s, input(&mut rng, seq), &[]);
                }
                sink.0.clear();
            };
            for _ in 0..100 {
                feed(&mut state, &mut sink);
                state.tick(Duration::ZERO, &mut sink);
            }
            let state = std::cell::RefCell::new(state);
            let sink = std::cell::RefCell::new(sink);
            let (tick_allocs, tick_bytes) = count(
                || feed(&mut state.borrow_mut(), &mut sink.borrow_mut()),
                || {
                    state
                        .borrow_mut()
                        .tick(Duration::ZERO, &mut *sink.borrow_mut())
                },
            );

            // The game alone, with the same kind of inputs held.
            let mut game = kind.create(&GameSetup::new(30, 42));
            let ids: Vec<_> = (0..n).map(|_| game.spawn_player()).collect();
            let mut rng = fastrand::Rng::with_seed(7);
            for &id in &ids {
                game.apply_input(id, &input(&mut rng, 1));
            }
            let mut events = Vec::new();
            let mut tick = 0;
            let mut step = || {
                tick += 1;
                events.clear();
                game.step(Tick(tick), &mut events);
            };
            for _ in 0..100 {
                step();
            }
            let (step_allocs, _) = count(|| {}, step);
            println!(
                "{:<10} {:>7} {:>16.2} {:>16.2} {:>16.0}",
                kind.name(),
                n,
                step_allocs,
                tick_allocs,
                tick_bytes
            );
        }
    }
}
