//! What recording a replay costs a lobby tick: the same lobby ticked plain and recorded.
//!
//! At 64 and 1024 players, as benches/hot_path.rs's lobby_tick, plus taking the sealed chunks;
//! and what the writer thread then spends encoding 100 ticks of them.
#![forbid(unsafe_code)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tickrelay::game::GameKind;
use tickrelay::lobby::{LobbySettings, LobbyState, SendError, Sink};
use tickrelay::protocol::{CloseCode, Frame, LobbyId, PlayerInput, SessionId};
use tickrelay::replay::RecordOptions;

const SIZES: [usize; 2] = [64, 1024];
const TICK_RATE: u16 = 30;

/// Takes every frame, as a bounded channel's `try_send` would (emptied untimed between ticks).
struct AcceptSink {
    frames: Vec<(SessionId, Frame)>,
}

impl Sink for AcceptSink {
    fn send(&mut self, to: SessionId, frame: &Frame) -> Result<(), SendError> {
        self.frames.push((to, frame.clone()));
        Ok(())
    }
    fn kick(&mut self, _to: SessionId, _code: CloseCode) {}
}

fn settings(game: GameKind, n: usize) -> LobbySettings {
    LobbySettings {
        id: LobbyId(1),
        code: "BENCH3".into(),
        name: "bench".into(),
        game,
        max_players: n as u16,
        max_spectators: 0,
        public: true,
        tick_rate: TICK_RATE,
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

/// config/default.toml's [replay] at 30 Hz, with no size cap in the way of a long bench.
const OPTS: RecordOptions = RecordOptions {
    checksum_every: 30,
    flush_ticks: 30,
    max_match_bytes: u64::MAX / 2,
};

fn moving_input(rng: &mut fastrand::Rng, seq: u32) -> PlayerInput {
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

fn lobby_tick_recorded(c: &mut Criterion) {
    for kind in [GameKind::Walkers, GameKind::Arena] {
        let mut g = c.benchmark_group(format!("replay_tick/{kind}"));
        g.sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for &n in &SIZES {
            for recorded in [false, true] {
                let mut state = if recorded {
                    LobbyState::recorded(settings(kind, n), OPTS, 0)
                } else {
                    LobbyState::new(settings(kind, n))
                };
                let members: Vec<(usize, SessionId)> = (0..n)
                    .map(|i| {
                        let s = SessionId(i as u64 + 1);
                        let ok = state.join(s, format!("p{i}"), false, None).unwrap();
                        (ok.member, s)
                    })
                    .collect();
                let mut sink = AcceptSink {
                    frames: Vec::with_capacity(4 * n),
                };
                let mut rng = fastrand::Rng::with_seed(7);
                let mut seq = 0u32;
                let mut feed = |state: &mut LobbyState| {
                    seq += 1;
                    for &(member, session) in &members {
                        state.input(member, session, moving_input(&mut rng, seq), &[]);
                    }
                };
                let mut bytes = 0usize;
                let mut batches = Vec::new();
                for _ in 0..100 {
                    feed(&mut state);
                    sink.frames.clear();
                    state.tick(Duration::ZERO, &mut sink);
                    if let Some(b) = state.take_replay() {
                        bytes += b.write().len();
                        batches.push(b);
                    }
                }
                if recorded {
                    eprintln!(
                        "replay_tick/{kind} {n} players: {:.0} replay bytes per tick",
                        bytes as f64 / 100.0
                    );
                    // What the writer thread spends turning those 100 ticks into file bytes.
                    let mut out = Vec::with_capacity(bytes);
                    g.bench_function(BenchmarkId::new("writer_encode_100_ticks", n), |b| {
                        b.iter(|| {
                            out.clear();
                            for batch in &batches {
                                batch.encode_into(&mut out);
                            }
                            black_box(out.len())
                        });
                    });
                }
                let label = if recorded { "recorded" } else { "plain" };
                g.throughput(Throughput::Elements(n as u64));
                g.bench_function(BenchmarkId::new(label, n), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            feed(&mut state);
                            sink.frames.clear();
                            let start = Instant::now();
                            state.tick(Duration::ZERO, black_box(&mut sink));
                            // The actor's hand-off: the sealed chunk (about one a second) moves
                            // out; sending it is one channel push.
                            let batch = black_box(state.take_replay());
                            total += start.elapsed();
                            // Encoded and freed by the writer thread, not the tick (timed apart
                            // above as writer_encode_100_ticks).
                            drop(batch);
                        }
                        total
                    });
                });
            }
        }
        g.finish();
    }
}

criterion_group!(benches, lobby_tick_recorded);
criterion_main!(benches);
