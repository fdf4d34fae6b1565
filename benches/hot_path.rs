//! Criterion benches of the per-tick hot path: game step, delta encode, client apply, a whole
//! lobby tick with fan-out, and input decode. Setup stays outside the timed section; sizes sweep
//! 8, 64, 256 and 1024 players.
#![forbid(unsafe_code)]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tickrelay::game::{Game, GameKind, GameSetup};
use tickrelay::lobby::{LobbySettings, LobbyState, SendError, Sink};
use tickrelay::protocol::Frame;
use tickrelay::protocol::{
    decode_client, decode_server, encode, ClientMsg, CloseCode, EntityId, LobbyId, PlayerInput,
    ServerMsg, SessionId, SnapshotBody, Tick,
};
use tickrelay::snapshot::{apply, DeltaEncoder, EntityTable};

const SIZES: [usize; 4] = [8, 64, 256, 1024];
/// The server's default tick rate (config/default.toml): it sets how far a walker moves per tick,
/// and so how many bytes its position delta takes.
const TICK_RATE: u16 = 30;
/// In the game-step benches inputs change every this many ticks (a human's pace, ~270 ms at 30 Hz);
/// timing the steps between changes as one run keeps the clock's own cost out of small sizes.
const STEPS_PER_INPUT: u64 = 8;

/// A random input that always moves (so every walker's position changes every tick).
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

fn sized_group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g
}

/// Bench 1: `Game::step` alone, all players holding random inputs (re-rolled untimed every few ticks).
fn game_step(c: &mut Criterion) {
    for kind in [GameKind::Walkers, GameKind::Arena] {
        let mut g = sized_group(c, &format!("game_step/{kind}"));
        for &n in &SIZES {
            let mut game = kind.create(&GameSetup::new(TICK_RATE, 42));
            let ids: Vec<EntityId> = (0..n).map(|_| game.spawn_player()).collect();
            let mut rng = fastrand::Rng::with_seed(7);
            let mut events = Vec::new();
            let mut tick = 0u32;
            let mut seq = 0u32;
            let mut reroll = |game: &mut Box<dyn Game>| {
                seq += 1;
                for &id in &ids {
                    game.apply_input(id, &moving_input(&mut rng, seq));
                }
            };
            // Two seconds of play first, so arena has projectiles, hits and respawns in flight.
            for _ in 0..60 {
                if tick % STEPS_PER_INPUT as u32 == 0 {
                    reroll(&mut game);
                }
                tick += 1;
                events.clear();
                game.step(Tick(tick), &mut events);
            }
            g.throughput(Throughput::Elements(n as u64));
            g.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    let mut done = 0;
                    while done < iters {
                        reroll(&mut game);
                        let run = (iters - done).min(STEPS_PER_INPUT);
                        let start = Instant::now();
                        for _ in 0..run {
                            tick += 1;
                            // The lobby clears events after each snapshot; GameEvent is Copy,
                            // so this is a length reset.
                            events.clear();
                            game.step(Tick(tick), black_box(&mut events));
                        }
                        total += start.elapsed();
                        done += run;
                    }
                    total
                });
            });
        }
        g.finish();
    }
}

/// `Game::apply_input` for every player, as the lobby does once per tick before stepping.
fn game_apply_inputs(c: &mut Criterion) {
    for kind in [GameKind::Walkers, GameKind::Arena] {
        let mut g = sized_group(c, &format!("game_apply_inputs/{kind}"));
        for &n in &SIZES {
            let mut game = kind.create(&GameSetup::new(TICK_RATE, 42));
            let ids: Vec<EntityId> = (0..n).map(|_| game.spawn_player()).collect();
            let mut rng = fastrand::Rng::with_seed(7);
            let inputs: Vec<PlayerInput> = (0..n).map(|_| moving_input(&mut rng, 1)).collect();
            g.throughput(Throughput::Elements(n as u64));
            g.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter(|| {
                    for (id, input) in ids.iter().zip(&inputs) {
                        game.apply_input(*id, black_box(input));
                    }
                });
            });
        }
        g.finish();
    }
}

/// Two consecutive walkers tables, every player moved by a random input between them, with
/// the ack field filled as the lobby fills it (one new input per player per tick).
fn walkers_tables(n: usize) -> (EntityTable, EntityTable) {
    let mut game = GameKind::Walkers.create(&GameSetup::new(TICK_RATE, 42));
    let ids: Vec<EntityId> = (0..n).map(|_| game.spawn_player()).collect();
    let mut rng = fastrand::Rng::with_seed(7);
    let ack = game.ack_field();
    let mut table_at = |game: &mut Box<dyn Game>, tick: u32| {
        for &id in &ids {
            game.apply_input(id, &moving_input(&mut rng, tick));
        }
        game.step(Tick(tick), &mut Vec::new());
        let mut t = EntityTable::new(game.field_count());
        t.clear(Tick(tick));
        game.write_table(&mut t);
        t.finish();
        for id in &ids {
            if let Some(row) = t.get_mut(*id) {
                row.fields[ack] = tick as i32;
            }
        }
        t
    };
    let a = table_at(&mut game, 100);
    let b = table_at(&mut game, 101);
    (a, b)
}

/// Bench 2: `DeltaEncoder::write_frame` (diff + MessagePack) into a reused buffer.
fn delta_encode(c: &mut Criterion) {
    let mut g = sized_group(c, "delta_encode/walkers");
    for &n in &SIZES {
        let (a, b) = walkers_tables(n);
        let mut encoder = DeltaEncoder::new();
        let mut out = Vec::with_capacity(16 * n + 64);
        encoder.write_frame(&mut out, Some(&a), &b, &[]);
        let ServerMsg::Snapshot(body) = decode_server(&out).expect("our own frame decodes") else {
            panic!("write_frame wrote something other than a Snapshot");
        };
        let changed = changed_entities(&body, b.field_count());
        eprintln!(
            "walkers delta, {n} players: frame {} bytes, {} entities changed, {:.2} bytes/entity \
             (frame / players), {:.2} bytes/entity in the entity list alone",
            out.len(),
            changed,
            out.len() as f64 / n as f64,
            entity_list_bytes(&body) as f64 / changed.max(1) as f64,
        );
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| {
                out.clear();
                encoder.write_frame(black_box(&mut out), Some(&a), black_box(&b), &[]);
            });
        });
    }
    g.finish();
}

/// How many entity headers the flat `entities` ints hold.
fn changed_entities(body: &SnapshotBody, field_count: u8) -> usize {
    let f = u32::from(field_count);
    let mut ints = body.entities.iter();
    let mut count = 0;
    while let Some(&h) = ints.next() {
        count += 1;
        let mask = (h as u64 & ((1u64 << f) - 1)) as u32;
        for _ in 0..mask.count_ones() {
            ints.next();
        }
    }
    count
}

/// The MessagePack size of the `entities` ints alone (without the array header).
fn entity_list_bytes(body: &SnapshotBody) -> usize {
    let mut buf = Vec::new();
    for &v in &body.entities {
        let _ = rmp::encode::write_sint(&mut buf, v);
    }
    buf.len()
}

/// Bench 3: the client side of bench 2: `snapshot::apply` of the decoded delta onto a mirror of the base,
/// and separately decode + apply from the frame bytes (what a client does per snapshot).
fn client_apply(c: &mut Criterion) {
    let mut g = sized_group(c, "client_apply/walkers");
    for &n in &SIZES {
        let (a, b) = walkers_tables(n);
        let frame = tickrelay::snapshot::encode_snapshot_frame(Some(&a), &b, &[]);
        let ServerMsg::Snapshot(body) = decode_server(&frame).expect("our own frame decodes")
        else {
            panic!("encode_snapshot_frame wrote something other than a Snapshot");
        };
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter_batched(
                || a.clone(),
                |mut mirror| {
                    apply(&mut mirror, black_box(&body)).expect("delta applies to its base");
                    // Returned, so dropping the mirror is not timed.
                    mirror
                },
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();

    let mut g = sized_group(c, "client_decode_apply/walkers");
    for &n in &SIZES {
        let (a, b) = walkers_tables(n);
        let frame = tickrelay::snapshot::encode_snapshot_frame(Some(&a), &b, &[]);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter_batched(
                || a.clone(),
                |mut mirror| {
                    let msg = decode_server(black_box(&frame)).expect("our own frame decodes");
                    let ServerMsg::Snapshot(body) = &msg else {
                        unreachable!("checked above")
                    };
                    apply(&mut mirror, body).expect("delta applies to its base");
                    (mirror, msg)
                },
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

/// A sink that accepts every frame and keeps a clone, as a bounded channel's `try_send` would
/// (a refcount bump and a push). Emptied between ticks, outside the timed section.
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

fn lobby_settings(game: GameKind, n: usize) -> LobbySettings {
    LobbySettings {
        id: LobbyId(1),
        code: "BENCH2".into(),
        name: "bench".into(),
        game,
        max_players: n as u16,
        max_spectators: 0,
        public: true,
        tick_rate: TICK_RATE,
        snapshot_every: 1,
        // config/default.toml's history and timeouts at 30 Hz.
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

/// Bench 4: a whole `LobbyState::tick` with N players: inputs applied, step, table, delta encoded once
/// and fanned out to every member. Each player's input is queued untimed before each tick.
fn lobby_tick(c: &mut Criterion) {
    for kind in [GameKind::Walkers, GameKind::Arena] {
        let mut g = sized_group(c, &format!("lobby_tick/{kind}"));
        for &n in &SIZES {
            let mut state = LobbyState::new(lobby_settings(kind, n));
            let members: Vec<(usize, SessionId)> = (0..n)
                .map(|i| {
                    let s = SessionId(i as u64 + 1);
                    let ok = state
                        .join(s, format!("p{i}"), false, None)
                        .expect("a seat is free");
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
            // Past the Joined frames and once round the history ring, so its tables are
            // allocated: what follows is the steady state.
            for _ in 0..100 {
                feed(&mut state);
                sink.frames.clear();
                state.tick(Duration::ZERO, &mut sink);
            }
            let frame = &sink.frames[0].1;
            eprintln!(
                "lobby_tick/{kind} {n} players: shared snapshot frame {} bytes, {:.2} bytes/entity, \
                 {} frames per tick",
                frame.payload_len(),
                frame.payload_len() as f64 / n as f64,
                sink.frames.len()
            );
            g.throughput(Throughput::Elements(n as u64));
            g.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        feed(&mut state);
                        sink.frames.clear();
                        let start = Instant::now();
                        state.tick(Duration::ZERO, black_box(&mut sink));
                        total += start.elapsed();
                    }
                    total
                });
            });
        }
        g.finish();
    }
}

/// Bench 5: decoding one walkers input frame, as the connection task does for every client message.
fn input_decode(c: &mut Criterion) {
    let frame = encode(&ClientMsg::input(PlayerInput {
        seq: 123_456,
        dx: -1,
        dy: 1,
        aim: 0.0,
        buttons: 0,
        view_tick: 0,
    }));
    let mut g = c.benchmark_group("input_decode");
    g.sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(1));
    g.bench_function(format!("walkers_{}_bytes", frame.len()), |b| {
        b.iter(|| decode_client(black_box(&frame)).expect("valid input frame"));
    });
    g.finish();
}

criterion_group!(
    benches,
    game_step,
    game_apply_inputs,
    delta_encode,
    client_apply,
    lobby_tick,
    input_decode
);
criterion_main!(benches);
