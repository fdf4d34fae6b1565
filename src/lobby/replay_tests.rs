//! Replays recorded through the real lobby path re-simulate bit for bit.
//!
//! Joins, leaves, drops and resumes, restarts and a thousand ticks of random inputs; a changed
//! input fails at its tick; a cut file reads up to the cut; the size cap keeps the file valid.

use super::ports::{SendError, Sink};
use super::settings::LobbySettings;
use super::state::LobbyState;
use crate::game::GameKind;
use crate::protocol::{CloseCode, Frame, LobbyId, PlayerInput, SessionId};
use crate::replay::{self, Record, RecordOptions, VerifyError, FRAME_HEAD};
use std::time::Duration;

/// Takes every frame.
struct Accept;

impl Sink for Accept {
    fn send(&mut self, _to: SessionId, _frame: &Frame) -> Result<(), SendError> {
        Ok(())
    }
    fn kick(&mut self, _to: SessionId, _code: CloseCode) {}
}

const TICK: Duration = Duration::from_millis(33);

fn settings(game: GameKind) -> LobbySettings {
    LobbySettings {
        id: LobbyId(7),
        code: "REPLAY".into(),
        name: "replayed".into(),
        game,
        max_players: 8,
        max_spectators: 2,
        public: true,
        tick_rate: 30,
        snapshot_every: 1,
        history: 8,
        empty_close: Duration::MAX,
        reconnect_grace: TICK * 40,
        slow_client: TICK * 30,
        chat_burst: 2,
        chat_refill: TICK * 30,
        seed: 99,
        kill_goal: 3,
        round_seconds: 20,
        max_rewind: Duration::from_millis(200),
    }
}

const OPTS: RecordOptions = RecordOptions {
    checksum_every: 30,
    flush_ticks: 30,
    max_match_bytes: 64 << 20,
};

/// Plays `ticks` ticks of a pseudo-random match (joins, leaves, drops and resumes, host restarts,
/// bursts of inputs) and returns the whole replay file and how many seats were resumed.
fn play_counting(game: GameKind, ticks: u32, opts: RecordOptions) -> (Vec<u8>, u32) {
    let mut resumes = 0;
    let mut rng = fastrand::Rng::with_seed(2024);
    let mut l = LobbyState::recorded(settings(game), opts, 1_700_000_000_000);
    assert_eq!(l.replay_file(), Some("1700000000000-7.trp"));
    let mut file = Vec::new();
    // (session, member key, seq, token, connected)
    let mut seated: Vec<(SessionId, usize, u32, String, bool)> = Vec::new();
    let mut next = 1u64;
    for t in 1..=ticks {
        match rng.u8(..40) {
            0 | 1 if seated.len() < 6 => {
                let sid = SessionId(next);
                let token = format!("tok{next}");
                next += 1;
                let ok = l
                    .join(sid, format!("p{}", sid.0), false, Some(token.clone()))
                    .unwrap();
                seated.push((sid, ok.member, 0, token, true));
            }
            // Nobody leaves in the last stretch, so there are scores at the end.
            2 if !seated.is_empty() && t + 100 < ticks => {
                let (sid, key, ..) = seated.swap_remove(rng.usize(..seated.len()));
                l.leave(key, sid);
            }
            3 if !seated.is_empty() => {
                // A drop, then (usually) a resume on a new connection within the grace.
                let i = rng.usize(..seated.len());
                let (sid, key, _, _, connected) = &mut seated[i];
                if *connected {
                    l.disconnected(*key, *sid);
                    *connected = false;
                }
            }
            4 => {
                if let Some(s) = seated.iter_mut().find(|s| !s.4) {
                    let sid = SessionId(next);
                    next += 1;
                    let token = format!("tok{}", sid.0);
                    let ok = l.resume(sid, &s.3, token.clone(), &mut Accept).unwrap();
                    *s = (sid, ok.member, s.2, token, true);
                    resumes += 1;
                }
            }
            5 if !seated.is_empty() => {
                let (sid, key, ..) = seated[0];
                l.restart(key, sid, &mut Accept);
            }
            _ => {}
        }
        for (sid, key, seq, _, connected) in &mut seated {
            if !*connected {
                continue;
            }
            // Now and then none (an idle step), now and then a burst (catch-up steps).
            let n = match rng.u8(..10) {
                0 => 0,
                1 => 4,
                _ => 1,
            };
            for _ in 0..n {
                *seq += 1;
                let input = PlayerInput {
                    seq: *seq,
                    dx: rng.i8(-1..=1),
                    dy: rng.i8(-1..=1),
                    aim: rng.f32() * 6.3,
                    buttons: rng.u8(..2),
                    view_tick: t.saturating_sub(rng.u32(0..5)),
                };
                l.input(*key, *sid, input, &[]);
            }
        }
        l.tick(TICK * t, &mut Accept);
        // Seats whose grace ran out are gone from the lobby: forget them here too.
        for e in l.take_effects() {
            if let super::Effect::UnbindToken(t) = e {
                seated.retain(|s| s.3 != t);
            }
        }
        file.extend(l.take_replay().map(|b| b.write()).unwrap_or_default());
    }
    l.finish_replay();
    // Nothing more when the size cap already ended it.
    file.extend(l.take_replay().map(|b| b.write()).unwrap_or_default());
    (file, resumes)
}

fn play(game: GameKind, ticks: u32, opts: RecordOptions) -> Vec<u8> {
    play_counting(game, ticks, opts).0
}

#[test]
fn a_recorded_arena_match_replays_bit_for_bit() {
    let (file, resumes) = play_counting(GameKind::Arena, 1000, OPTS);
    // A resumed seat keeps its entity: the game sees nothing, so nothing is recorded for it.
    assert!(resumes >= 3, "{resumes} resumes");
    let r = replay::read(&file).unwrap();
    assert_eq!(r.torn_bytes, 0);
    assert!(r.records.iter().any(|r| matches!(r, Record::CatchUp(_))));
    assert!(r.records.iter().any(|r| matches!(r, Record::Idle(_))));
    assert!(r.records.iter().any(|r| matches!(r, Record::Despawn(_))));
    assert!(r.records.iter().any(|r| matches!(r, Record::Restart(_))));
    let v = replay::verify(&r).unwrap();
    assert_eq!((v.steps, v.checksums, v.last_tick), (1000, 33, 1000));
    let s = replay::summarize(&r);
    assert_eq!((s.game.as_str(), s.ticks), ("arena", 1000));
    assert!(s.players.len() >= 3, "{:?}", s.players);
    assert!(s.players.values().all(|n| n.starts_with('p')));
    assert!(s.scores.is_some_and(|s| !s.is_empty()));
    assert!(!s.capped);
}

#[test]
fn a_recorded_walkers_match_replays_bit_for_bit() {
    let file = play(GameKind::Walkers, 300, OPTS);
    let v = replay::verify(&replay::read(&file).unwrap()).unwrap();
    assert_eq!((v.steps, v.checksums), (300, 10));
}

/// Recomputes every chunk's crc32 after the test changed bytes in place (a recording that lies,
/// rather than a damaged file, which the crc would catch).
fn refresh_crcs(file: &mut [u8]) {
    let mut at = replay::MAGIC.len() + 2;
    while at + FRAME_HEAD <= file.len() {
        let len = u32::from_le_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        let crc = crc32fast::hash(&file[at + FRAME_HEAD..at + FRAME_HEAD + len]);
        file[at + 4..at + FRAME_HEAD].copy_from_slice(&crc.to_le_bytes());
        at += FRAME_HEAD + len;
    }
}

#[test]
fn a_replay_with_one_input_byte_flipped_fails_at_its_tick() {
    let mut file = play(GameKind::Arena, 1000, OPTS);
    let r = replay::read(&file).unwrap();
    // The first input after tick 500 that moves its player, and the tick it is stepped in.
    let mut tick = 0;
    let mut found = None;
    for rec in &r.records {
        match rec {
            Record::Step(t) => tick = *t,
            Record::Input(id, i) if tick >= 500 && i.dx == 1 => {
                found = Some((*id, *i, tick + 1));
                break;
            }
            _ => {}
        }
    }
    let (id, input, stepped_at) = found.expect("someone moves after tick 500");
    // Its bytes in the file: [0x98, 2, id, seq, dx, ...]; dx 1 (0x01) becomes -1 (0xff).
    let mut enc = Vec::new();
    Record::Input(id, input).encode(&mut enc);
    let at = file
        .windows(enc.len())
        .position(|w| w == enc)
        .expect("the record is in the file");
    let mut head = Vec::new();
    rmp::encode::write_array_len(&mut head, 8).unwrap();
    rmp::encode::write_uint(&mut head, 2).unwrap();
    rmp::encode::write_uint(&mut head, u64::from(id.0)).unwrap();
    rmp::encode::write_uint(&mut head, u64::from(input.seq)).unwrap();
    assert_eq!(file[at + head.len()], 0x01);
    file[at + head.len()] = 0xff;
    // Without a fresh crc the change is caught as damage before verification starts.
    assert!(matches!(
        replay::read(&file),
        Err(replay::ReadError::Corrupt(_))
    ));
    refresh_crcs(&mut file);
    let err = replay::verify(&replay::read(&file).unwrap()).unwrap_err();
    // The first checksum at or after the step that applied it.
    let due = stepped_at.div_ceil(30) * 30;
    println!(
        "input {} of player {id} flipped, stepped at tick {stepped_at}: {err}",
        input.seq
    );
    assert_eq!(err.tick(), Some(due), "{err}");
    assert!(matches!(err, VerifyError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains(&format!("tick {due}")), "{err}");
}

#[test]
fn a_replay_cut_in_the_middle_of_a_chunk_reads_and_verifies_up_to_the_cut() {
    let file = play(GameKind::Arena, 400, OPTS);
    let whole = replay::read(&file).unwrap();
    // Cut half-way into the chunk that holds tick 300's checksum.
    let mut at = replay::MAGIC.len() + 2;
    let mut starts = Vec::new();
    while at < file.len() {
        starts.push(at);
        at += FRAME_HEAD + u32::from_le_bytes(file[at..at + 4].try_into().unwrap()) as usize;
    }
    // starts[0] is the header; chunk k (1-based) holds ticks 30(k-1)+1 ..= 30k.
    let (start, end) = (starts[10], starts[11]);
    let cut = &file[..(start + end) / 2];
    let r = replay::read(cut).unwrap();
    assert_eq!(r.chunks, 9);
    assert_eq!(r.torn_bytes, cut.len() - start);
    assert_eq!(r.records[..], whole.records[..r.records.len()]);
    let v = replay::verify(&r).unwrap();
    assert_eq!((v.last_tick, v.checksums), (270, 9));
    // No end record: info says the scores are unknown.
    assert_eq!(replay::summarize(&r).scores, None);
}

#[test]
fn a_match_past_max_match_bytes_stops_recording_and_its_file_stays_valid() {
    let cap = 64 * 1024;
    let file = play(
        GameKind::Arena,
        2000,
        RecordOptions {
            max_match_bytes: cap,
            ..OPTS
        },
    );
    assert!(file.len() as u64 <= cap, "{} bytes", file.len());
    // The tick counts a bound per record and the writer's measure gives the excess back, so
    // the file ends near the cap, not at half of it: short of it by the end record's room and
    // at most what was recorded since the last chunk was encoded.
    assert!(
        file.len() as u64 >= cap - replay::TRAILER_ROOM - 4 * 1024,
        "{} bytes",
        file.len()
    );
    let r = replay::read(&file).unwrap();
    assert_eq!(r.torn_bytes, 0);
    let v = replay::verify(&r).unwrap();
    assert!(v.last_tick < 2000 && v.checksums > 0, "{v:?}");
    let s = replay::summarize(&r);
    assert!(s.capped);
}

/// The world after each step, re-simulated from the start with no keyframe (the reference).
fn tables_from_start(
    r: &replay::Replay,
) -> std::collections::BTreeMap<u32, crate::snapshot::EntityTable> {
    use crate::protocol::Tick;
    let kind: GameKind = r.header.game.parse().unwrap();
    let mut game = kind.create(&r.header.game_setup());
    let mut events = Vec::new();
    let mut out = std::collections::BTreeMap::new();
    for rec in &r.records {
        match rec {
            Record::Spawn(_) => {
                game.spawn_player();
            }
            Record::Despawn(id) => game.despawn_player(*id),
            Record::Input(id, i) => game.apply_input(*id, i),
            Record::Idle(id) => game.idle(*id),
            Record::CatchUp(id) => game.catch_up(*id),
            Record::Restart(t) => game.restart(Tick(*t)),
            Record::Step(t) => {
                game.step(Tick(*t), &mut events);
                let mut table = crate::snapshot::EntityTable::new(game.field_count());
                table.clear(Tick(*t));
                game.write_table(&mut table);
                out.insert(*t, table);
            }
            _ => {}
        }
    }
    out
}

#[test]
fn playback_from_any_tick_draws_the_world_re_simulation_from_the_start_has() {
    use crate::protocol::SnapshotBody;
    use crate::replay::{Playback, KEYFRAME_EVERY, MAX_FRAMES};
    for game in [GameKind::Arena, GameKind::Walkers] {
        let r = replay::read(&play(game, 1000, OPTS)).unwrap();
        let reference = tables_from_start(&r);
        let p = Playback::new(r).unwrap();
        assert_eq!(p.diverged(), None);
        assert_eq!((p.first_tick(), p.last_tick()), (1, 1000));
        assert!(p.keyframes() >= 6, "{} keyframes", p.keyframes());
        let first = p.first_tick();
        // The start, a keyframe's own tick, between keyframes, across one, and the very end.
        for from in [first, first + KEYFRAME_EVERY, 437, 590, 990] {
            let bytes = p.frames(from, 40);
            let bodies: Vec<SnapshotBody> = rmp_serde::from_slice(&bytes).unwrap();
            let want = 40.min(1000 - from + 1) as usize;
            assert_eq!(bodies.len(), want, "from {from}");
            assert_eq!(bodies[0].base_delta, 0, "the first frame is whole");
            let mut mirror = crate::snapshot::EntityTable::new(p.field_count());
            for (i, b) in bodies.iter().enumerate() {
                assert_eq!(b.tick.0, from + i as u32, "ticks follow one another");
                crate::snapshot::apply(&mut mirror, b).unwrap();
                let expect = &reference[&b.tick.0];
                assert_eq!(
                    mirror.rows(),
                    expect.rows(),
                    "{game} from {from}, tick {}",
                    b.tick.0
                );
            }
        }
        // Past the end: nothing; and never more than a request may ask.
        let none: Vec<SnapshotBody> = rmp_serde::from_slice(&p.frames(1001, 10)).unwrap();
        assert!(none.is_empty());
        let capped: Vec<SnapshotBody> = rmp_serde::from_slice(&p.frames(1, 10_000)).unwrap();
        assert_eq!(capped.len(), MAX_FRAMES as usize);
    }
}
