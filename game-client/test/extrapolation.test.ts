// Shots are never drawn past a wall, inside a pillar or through a player, even when extrapolated; players are not extrapolated.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ARENA_FIELD_COUNT, F, KIND_PLAYER, KIND_PROJECTILE, POS_SCALE, shotStop } from "../src/games";
import { InterpBuffer, type BlendSpec } from "../src/interpolation";
import type { JoinedInfo, SnapshotBody } from "../src/protocol";
import { GameSession } from "../src/session";

function near(a: number, b: number, eps = 1e-6): void {
  assert.ok(Math.abs(a - b) <= eps, `${a} is not within ${eps} of ${b}`);
}

test("shotStop: a clear path ends where it was going", () => {
  const p = shotStop({ x: 100, y: 100 }, { x: 160, y: 130 }, 1600, 1000, [[800, 500, 80]]);
  near(p.x, 160);
  near(p.y, 130);
});

test("shotStop: stops at each wall it would cross", () => {
  let p = shotStop({ x: 1590, y: 500 }, { x: 1650, y: 500 }, 1600, 1000, []);
  near(p.x, 1600);
  near(p.y, 500);
  p = shotStop({ x: 20, y: 10 }, { x: -40, y: -50 }, 1600, 1000, []);
  near(p.x, 10);
  near(p.y, 0);
  p = shotStop({ x: 800, y: 980 }, { x: 840, y: 1060 }, 1600, 1000, []);
  near(p.x, 810);
  near(p.y, 1000);
});

test("shotStop: stops at the first circle in the way, not one behind it or beside it", () => {
  const circles: Array<[number, number, number]> = [
    [800, 500, 80],
    [700, 500, 10],
    [650, 600, 20],
  ];
  const p = shotStop({ x: 600, y: 500 }, { x: 900, y: 500 }, 1600, 1000, circles);
  near(p.x, 690);
  near(p.y, 500);
  // Passing by, and moving away, hit nothing.
  const q = shotStop({ x: 600, y: 650 }, { x: 700, y: 650 }, 1600, 1000, circles);
  near(q.x, 700);
  const r = shotStop({ x: 675, y: 600 }, { x: 700, y: 600 }, 1600, 1000, [[650, 600, 20]]);
  near(r.x, 700);
  // Starting inside: it stays put.
  const s = shotStop({ x: 790, y: 500 }, { x: 850, y: 500 }, 1600, 1000, circles);
  near(s.x, 790);
});

test("the interpolation buffer hands extrapolated rows to the constraint, and only those", () => {
  const calls: number[] = [];
  const spec: BlendSpec = {
    lerpFields: [0, 1],
    angleFields: [],
    angleSteps: 1024,
    constrain: (id, _from, to) => {
      calls.push(id);
      to[0] = Math.min(to[0], 100);
    },
  };
  const buf = new InterpBuffer();
  buf.push({ tick: 30, time: 1, entities: new Map([[1, Int32Array.from([0, 0])]]) });
  buf.push({ tick: 31, time: 1 + 1 / 30, entities: new Map([[1, Int32Array.from([90, 0])]]) });
  near(buf.sample(1.02, spec, 0.1).entities.get(1)![0], 54);
  assert.deepEqual(calls, []);
  const s = buf.sample(1 + 1 / 30 + 0.05, spec, 0.1);
  assert.equal(s.entities.get(1)![0], 100, "extrapolated to 225, held at 100");
  assert.deepEqual(calls, [1]);
});

// ------------------------------------------------------------------------------ through a session

const TICK_RATE = 30;

/** A full arena snapshot holding `rows` (id -> fields in world units; positions get quantized). */
function full(tick: number, rows: Array<[number, Partial<Record<keyof typeof F, number>>]>): SnapshotBody {
  const ints: number[] = [];
  let prev = 0;
  const pow = 2 ** ARENA_FIELD_COUNT;
  for (const [id, f] of [...rows].sort((a, b) => a[0] - b[0])) {
    const row = new Array<number>(ARENA_FIELD_COUNT).fill(0);
    for (const [k, v] of Object.entries(f)) {
      const i = F[k as keyof typeof F];
      row[i] = i === F.X || i === F.Y ? Math.round(v * POS_SCALE) : v;
    }
    ints.push((id - prev) * pow + (pow - 1), ...row);
    prev = id;
  }
  return { tick, baseDelta: 0, removed: [], entities: ints, events: [] };
}

function session(first: SnapshotBody): GameSession {
  const j: JoinedInfo = {
    lobby: 1,
    code: "ABC123",
    name: "test",
    game: "arena",
    you: null,
    host: null,
    tickRate: TICK_RATE,
    snapshotRate: TICK_RATE,
    maxPlayers: 8,
    fieldCount: ARENA_FIELD_COUNT,
    roster: [],
    snapshot: first,
  };
  const noop = (): void => {};
  return new GameSession(j, first.tick / TICK_RATE, { effect: noop, kill: noop, hurt: noop, resyncNeeded: noop });
}

/** Two snapshots a tick apart (arriving on time), then the view 80 ms past the newest. */
function extrapolatedShot(
  a: Array<[number, Partial<Record<keyof typeof F, number>>]>,
  b: Array<[number, Partial<Record<keyof typeof F, number>>]>,
  id: number,
): { x: number; y: number } {
  const s = session(full(30, a));
  assert.ok(s.onSnapshot(full(31, b), 31 / TICK_RATE));
  const now = 31 / TICK_RATE + s.clock.delay() + 0.08;
  const { projectiles } = s.view(now, null);
  assert.ok(s.extrapolated > 0.05, `extrapolating (${s.extrapolated} s)`);
  const p = projectiles.find((q) => q.id === id);
  assert.ok(p !== undefined, "the shot is still drawn");
  return p;
}

const shot = (x: number, y: number, owner = 1) => ({ X: x, Y: y, KIND: KIND_PROJECTILE, RESPAWN_OR_OWNER: owner });
const player = (x: number, y: number) => ({ X: x, Y: y, KIND: KIND_PLAYER, HP: 100 });

test("a shot flying at the right wall is drawn at the wall, not past it", () => {
  // 750 u/s: 25 units a tick; 80 ms on from 1590 would be 1650.
  const p = extrapolatedShot([[1, player(1000, 900)], [9, shot(1565, 500)]], [[1, player(1000, 900)], [9, shot(1590, 500)]], 9);
  near(p.x, 1600, 1 / POS_SCALE);
  near(p.y, 500, 1 / POS_SCALE);
});

test("a shot flying at a pillar is drawn at its edge, not inside it", () => {
  // The middle pillar: (800, 500), radius 80; its left edge is x 720.
  const p = extrapolatedShot([[1, player(100, 900)], [9, shot(690, 500)]], [[1, player(100, 900)], [9, shot(715, 500)]], 9);
  near(p.x, 720, 1 / POS_SCALE);
});

test("a shot flying at another player stops at that player; its owner does not stop it", () => {
  // Player 2 at (1000, 200): hit radius 18 + 4 = 22, so the shot stops at x 978.
  const rows = (x: number) => [[1, player(900, 200)], [2, player(1000, 200)], [9, shot(x, 200, 1)]] as Array<[number, Partial<Record<keyof typeof F, number>>]>;
  near(extrapolatedShot(rows(940), rows(965), 9).x, 978, 1 / POS_SCALE);
  // The same shot fired by player 2 flies on through 2.
  const own = (x: number) => [[1, player(100, 900)], [2, player(1000, 200)], [9, shot(x, 200, 2)]] as Array<[number, Partial<Record<keyof typeof F, number>>]>;
  assert.ok(extrapolatedShot(own(940), own(965), 9).x > 1000);
});

test("past the newest snapshot a player holds where it was last seen (no guess to take back)", () => {
  const s = session(full(30, [[1, player(1500, 500)], [2, player(640, 500)]]));
  s.onSnapshot(full(31, [[1, player(1520, 500)], [2, player(660, 500)]]), 31 / TICK_RATE);
  const { players } = s.view(31 / TICK_RATE + s.clock.delay() + 0.09, null);
  near(players.find((p) => p.id === 1)!.x, 1520, 1 / POS_SCALE);
  near(players.find((p) => p.id === 2)!.x, 660, 1 / POS_SCALE);
});
