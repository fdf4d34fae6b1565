//! The arena's rules, played tick by tick: shots, kills, respawns, walls, rounds, seats and lag
//! compensation.

use super::*;

fn arena() -> Arena {
    Arena::new(ArenaRules::new(30), 99)
}

fn fire_at(aim: f32) -> PlayerInput {
    PlayerInput {
        seq: 1,
        dx: 0,
        dy: 0,
        aim,
        buttons: BUTTON_FIRE,
        view_tick: 0,
    }
}

fn run(g: &mut Arena, from: u32, to: u32) -> Vec<GameEvent> {
    let mut ev = Vec::new();
    for t in from..to {
        g.step(Tick(t), &mut ev);
    }
    ev
}

#[test]
fn shots_hit_kill_score_and_respawn() {
    let mut g = arena();
    let a = g.spawn_player();
    let b = g.spawn_player();
    // Open ground on the left, away from the pillars.
    g.place(a, Vec2::new(100.0, 500.0));
    g.place(b, Vec2::new(250.0, 500.0));
    g.apply_input(a, &fire_at(0.0));
    // 4 hits of 25 kill; the cooldown is 0.25 s, so 2 seconds is plenty.
    let ev = run(&mut g, 1, 60);
    let hits = ev.iter().filter(|e| e.kind == EVENT_HIT).count();
    let kills: Vec<_> = ev.iter().filter(|e| e.kind == EVENT_KILL).collect();
    assert!(hits >= 4, "{ev:?}");
    assert_eq!(kills.len(), 1);
    assert_eq!((kills[0].a, kills[0].b), (a.0, b.0));
    assert_eq!(g.player_state(a).unwrap().2, 1);
    let (_, hp, _) = g.player_state(b).unwrap();
    assert_eq!(hp, 0);
    // Dead players respawn after 3 s with full health.
    g.apply_input(a, &PlayerInput::default());
    let ev = run(&mut g, 60, 200);
    assert!(ev.iter().any(|e| e.kind == EVENT_RESPAWN && e.a == b.0));
    assert_eq!(g.player_state(b).unwrap().1, 100);
}

#[test]
fn players_cannot_leave_the_world_or_enter_pillars() {
    let mut g = arena();
    let a = g.spawn_player();
    g.place(a, Vec2::new(20.0, 20.0));
    g.apply_input(
        a,
        &PlayerInput {
            seq: 1,
            dx: -1,
            dy: -1,
            ..Default::default()
        },
    );
    run(&mut g, 1, 30);
    let (p, _, _) = g.player_state(a).unwrap();
    assert_eq!(p, Vec2::splat(18.0));
    // Walk straight into the centre pillar.
    g.place(a, Vec2::new(600.0, 500.0));
    g.apply_input(
        a,
        &PlayerInput {
            seq: 2,
            dx: 1,
            dy: 0,
            ..Default::default()
        },
    );
    run(&mut g, 30, 90);
    let (p, _, _) = g.player_state(a).unwrap();
    assert!(
        p.distance(Vec2::new(800.0, 500.0)) >= 80.0 + 18.0 - 0.01,
        "{p}"
    );
}

#[test]
fn pillars_stop_shots() {
    let mut g = arena();
    let a = g.spawn_player();
    let b = g.spawn_player();
    g.place(a, Vec2::new(600.0, 500.0));
    g.place(b, Vec2::new(1000.0, 500.0));
    g.apply_input(a, &fire_at(0.0));
    let ev = run(&mut g, 1, 60);
    assert!(ev.iter().all(|e| e.kind != EVENT_HIT), "{ev:?}");
}

#[test]
fn restart_resets_scores_and_table_is_sorted() {
    let mut g = arena();
    let a = g.spawn_player();
    let b = g.spawn_player();
    g.place(a, Vec2::new(100.0, 500.0));
    g.place(b, Vec2::new(250.0, 500.0));
    g.apply_input(a, &fire_at(0.0));
    run(&mut g, 1, 60);
    let mut t = EntityTable::new(field::COUNT);
    g.write_table(&mut t);
    assert!(t.rows().windows(2).all(|w| w[0].id < w[1].id));
    g.restart(Tick(60));
    assert_eq!(g.player_state(a).unwrap().2, 0);
    assert_eq!(g.player_state(b).unwrap().1, 100);
    assert_eq!(g.projectile_count(), 0);
}

#[test]
fn same_seed_same_match() {
    let play = |seed| {
        let mut g = Arena::new(ArenaRules::new(30), seed);
        let ids: Vec<_> = (0..4).map(|_| g.spawn_player()).collect();
        for (k, id) in ids.iter().enumerate() {
            g.apply_input(
                *id,
                &PlayerInput {
                    seq: 1,
                    dx: 1,
                    dy: (k as i8 % 3) - 1,
                    aim: k as f32,
                    buttons: BUTTON_FIRE,
                    view_tick: 0,
                },
            );
        }
        let ev = run(&mut g, 1, 120);
        let mut t = EntityTable::new(field::COUNT);
        g.write_table(&mut t);
        (t, ev)
    };
    assert_eq!(play(5), play(5));
}

fn moving(seq: u32, dx: i8, dy: i8) -> PlayerInput {
    PlayerInput {
        seq,
        dx,
        dy,
        ..Default::default()
    }
}

fn table(g: &Arena) -> EntityTable {
    let mut t = EntityTable::new(field::COUNT);
    g.write_table(&mut t);
    t
}

#[test]
fn an_idle_tick_moves_nobody_and_a_catch_up_is_one_more_step() {
    let mut g = arena();
    let a = g.spawn_player();
    g.place(a, Vec2::new(100.0, 500.0));
    g.apply_input(a, &moving(1, 1, 0));
    run(&mut g, 1, 2);
    let step = g.rules.player_speed * g.rules.dt;
    assert_eq!(g.player_state(a).unwrap().0.x, 100.0 + step);
    // No input came for tick 2: the player waits instead of repeating its last input.
    g.idle(a);
    run(&mut g, 2, 3);
    assert_eq!(g.player_state(a).unwrap().0.x, 100.0 + step);
    // Two inputs in one tick: two steps, exactly as the client predicted them.
    g.apply_input(a, &moving(2, 1, 0));
    g.catch_up(a);
    g.apply_input(a, &moving(3, 1, 0));
    run(&mut g, 3, 4);
    assert!((g.player_state(a).unwrap().0.x - (100.0 + 3.0 * step)).abs() < 1e-3);
}

#[test]
fn the_fire_cooldown_counts_the_shooters_steps_not_ticks() {
    let mut g = arena();
    let a = g.spawn_player();
    g.place(a, Vec2::new(100.0, 900.0));
    g.apply_input(a, &fire_at(0.0));
    run(&mut g, 1, 2);
    assert_eq!(g.projectile_count(), 1);
    // Idle ticks do not count toward the cooldown: a client that stalled fires on the same
    // input it predicted, not earlier.
    for t in 2..20 {
        g.idle(a);
        run(&mut g, t, t + 1);
    }
    let cooldown = g.rules.fire_cooldown_ticks;
    let mut shots_at = Vec::new();
    let mut seen = 0;
    for t in 20..20 + 2 * cooldown {
        run(&mut g, t, t + 1);
        let rows = table(&g);
        let newest = rows
            .rows()
            .iter()
            .filter(|r| r.fields[field::KIND] == KIND_PROJECTILE)
            .map(|r| r.id.0)
            .max()
            .unwrap_or(0);
        if newest > seen {
            seen = newest;
            shots_at.push(t);
        }
    }
    // The first shot's projectile is still flying at 20 (life 27 ticks); the next come after
    // cooldown - 1 more steps (one was taken at tick 1), then every cooldown steps.
    assert_eq!(shots_at[0], 20);
    assert_eq!(shots_at[1], 20 + cooldown - 1);
    assert_eq!(shots_at[2], 20 + 2 * cooldown - 1);
}

#[test]
fn seats_are_the_lowest_free_and_projectiles_carry_their_seq_and_seat() {
    let mut g = arena();
    let a = g.spawn_player();
    let b = g.spawn_player();
    let c = g.spawn_player();
    g.despawn_player(b);
    let d = g.spawn_player();
    let seat = |g: &Arena, id: EntityId| table(g).get(id).unwrap().fields[field::SEAT];
    assert_eq!((seat(&g, a), seat(&g, c), seat(&g, d)), (0, 2, 1));
    g.place(c, Vec2::new(100.0, 900.0));
    g.apply_input(
        c,
        &PlayerInput {
            seq: 41,
            ..fire_at(0.0)
        },
    );
    run(&mut g, 1, 2);
    let t = table(&g);
    let shot = t
        .rows()
        .iter()
        .find(|r| r.fields[field::KIND] == KIND_PROJECTILE)
        .unwrap();
    assert_eq!(shot.fields[field::ACK], 41, "the input that fired it");
    assert_eq!(shot.fields[field::SEAT], 2, "its shooter's seat");
    assert_eq!(shot.fields[field::RESPAWN_OR_OWNER], c.0 as i32);
}

#[test]
fn the_kill_goal_ends_the_round_freezes_it_and_the_next_one_starts_fresh() {
    let mut g = Arena::new(ArenaRules::new(30).with_round(1, 0), 99);
    let a = g.spawn_player();
    let b = g.spawn_player();
    g.place(a, Vec2::new(100.0, 500.0));
    g.place(b, Vec2::new(250.0, 500.0));
    g.apply_input(a, &fire_at(0.0));
    let mut over = None;
    let mut t = 1;
    while over.is_none() && t < 200 {
        let ev = run(&mut g, t, t + 1);
        over = ev.into_iter().find(|e| e.kind == EVENT_ROUND_OVER);
        t += 1;
    }
    let over = over.expect("the round ends when a reaches 1 kill");
    assert_eq!(over.a, a.0, "the winner");
    let next_at = over.b;
    assert_eq!(next_at, t - 1 + g.rules.round_over_ticks);
    assert_eq!(
        g.phase(),
        Phase::Over {
            winner: Some(a),
            next_at
        }
    );
    let round = table(&g).get(EntityId(1)).unwrap().fields;
    assert_eq!(round[field::KIND], KIND_ROUND);
    assert_eq!(
        (
            round[field::HP],
            round[field::ACK],
            round[field::KILLS],
            round[field::RESPAWN_OR_OWNER]
        ),
        (1, a.0 as i32, 1, next_at as i32)
    );
    assert_eq!(g.projectile_count(), 0, "the round's shots go with it");
    // Between rounds nobody moves or fires.
    let before = g.player_state(a).unwrap().0;
    g.apply_input(a, &moving(2, 1, 0));
    run(&mut g, t, t + 10);
    assert_eq!(g.player_state(a).unwrap().0, before);
    assert_eq!(g.projectile_count(), 0);
    // The next round: scores reset, everyone alive, the clock and the goal as before.
    let ev = run(&mut g, t + 10, next_at + 1);
    assert!(ev.iter().any(|e| e.kind == EVENT_ROUND_START));
    assert!(matches!(g.phase(), Phase::Live { ends_at: 0 }));
    assert_eq!(g.player_state(a).unwrap().2, 0);
    assert_eq!(g.player_state(b).unwrap().1, 100);
}

#[test]
fn the_round_clock_decides_by_kills() {
    let mut g = Arena::new(ArenaRules::new(30).with_round(0, 2), 99);
    let a = g.spawn_player();
    let b = g.spawn_player();
    g.place(a, Vec2::new(100.0, 500.0));
    g.place(b, Vec2::new(250.0, 500.0));
    g.apply_input(a, &fire_at(0.0));
    let ev = run(&mut g, 1, 62);
    let over: Vec<_> = ev.iter().filter(|e| e.kind == EVENT_ROUND_OVER).collect();
    assert_eq!(over.len(), 1, "{ev:?}");
    assert_eq!(over[0].a, a.0, "a has the kill when 2 s run out");
    let _ = b;
}

/// A lane for lag-compensation tests: the shooter at (100, 500) aims along +x; the target walks
/// down (+y) along x = 300 at 8 units a tick. The shot passes x = 300 on its 6th and 7th tick.
fn lane(seed: u64, target_y_at_0: f32) -> (Arena, EntityId, EntityId) {
    let mut g = Arena::new(ArenaRules::new(30), seed);
    let shooter = g.spawn_player();
    let target = g.spawn_player();
    g.place(shooter, Vec2::new(100.0, 500.0));
    g.place(target, Vec2::new(300.0, target_y_at_0));
    g.apply_input(target, &moving(1, 0, 1));
    (g, shooter, target)
}

/// Fires at tick `fire` with the shooter's view `lag` ticks behind; the hits that follow.
fn shoot(g: &mut Arena, shooter: EntityId, target: EntityId, fire: u32, lag: u32) -> usize {
    run(g, 1, fire);
    g.apply_input(
        shooter,
        &PlayerInput {
            seq: 1,
            aim: 0.0,
            buttons: BUTTON_FIRE,
            view_tick: fire - lag,
            ..Default::default()
        },
    );
    let ev = run(g, fire, fire + 1);
    g.apply_input(shooter, &moving(2, 0, 0));
    let ev2 = run(g, fire + 1, fire + 12);
    ev.iter()
        .chain(&ev2)
        .filter(|e| e.kind == EVENT_HIT && e.a == shooter.0 && e.b == target.0)
        .count()
}

#[test]
fn a_shooter_with_150ms_rtt_hits_the_target_it_aimed_at_in_its_own_view() {
    // 150 ms round trip plus 50 ms of interpolation: the shooter sees the world 200 ms (6 ticks)
    // late. It fires at tick 20 when, in its view, the target will cross the shot's path: the
    // target it sees at tick t is where the server had it at t - 6, so it times the shot for
    // the target's position 6 ticks before the shot arrives (tick 26 or 27).
    let lag = 6;
    let fire = 20;
    // Target y at tick t is y0 + 8 t: in the shooter's view at the shot's 7th tick (27) it is
    // at y0 + 8 * 21; put that on the shot's line (y = 500).
    let y0 = 500.0 - 8.0 * f32::from((fire + 7 - lag) as u16);
    let (mut g, shooter, target) = lane(1, y0);
    assert_eq!(
        shoot(&mut g, shooter, target, fire, lag),
        1,
        "judged as the shooter saw it"
    );
    // The same shot without lag compensation (a client that says nothing of its view): by the
    // time the shot arrives the target has walked 48 units on, and it misses.
    let (mut g, shooter, target) = lane(1, y0);
    assert_eq!(
        shoot(&mut g, shooter, target, fire, fire),
        0,
        "view_tick 0: no rewind"
    );
}

#[test]
fn a_shooter_with_150ms_rtt_misses_what_it_did_not_aim_at() {
    // Same lane, but the shot is timed for where the target really is at the server when the
    // shot arrives: in the shooter's own view the target was 48 units short of the path, so the
    // shot passes behind it and misses.
    let lag = 6;
    let fire = 20;
    let y0 = 500.0 - 8.0 * f32::from((fire + 7) as u16);
    let (mut g, shooter, target) = lane(1, y0);
    assert_eq!(shoot(&mut g, shooter, target, fire, lag), 0);
}

#[test]
fn rewind_is_capped_at_the_configured_limit() {
    let fire = 40;
    // A client that claims to look 30 ticks back is judged at most 6 (200 ms) back: aimed at
    // where the target was 30 ticks ago, the shot misses.
    let y0 = 500.0 - 8.0 * f32::from((fire + 7 - 30) as u16);
    let (mut g, shooter, target) = lane(1, y0);
    assert_eq!(shoot(&mut g, shooter, target, fire, 30), 0);
    // And the cap is configurable: with 1 s allowed, the same shot hits.
    let mut g = Arena::new(
        ArenaRules::new(30).with_max_rewind(std::time::Duration::from_secs(1)),
        1,
    );
    let shooter = g.spawn_player();
    let target = g.spawn_player();
    g.place(shooter, Vec2::new(100.0, 500.0));
    g.place(target, Vec2::new(300.0, y0));
    g.apply_input(target, &moving(1, 0, 1));
    assert_eq!(shoot(&mut g, shooter, target, fire, 30), 1);
}
