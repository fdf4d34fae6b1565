// GameSession as a player sees it: inputs predicted as steps, own shots at the barrel and never drawn twice, Resync for a broken mirror.
import assert from "node:assert/strict";
import { test } from "node:test";
import { F } from "../src/games";
import type { JoinedInfo, SnapshotBody } from "../src/protocol";
import { GameSession, type SessionHooks } from "../src/session";

const FIELDS = 10;
const ME = 2;
const OTHER = 3;

/** A full snapshot of `rows` ([id, ...fields]), encoded as the server does (mask = non-zero fields). */
function full(tick: number, rows: number[][]): SnapshotBody {
  const entities: number[] = [];
  let prev = 0;
  for (const [id, ...f] of rows) {
    let mask = 0;
    const vals: number[] = [];
    f.forEach((v, i) => {
      if (v !== 0) {
        mask |= 1 << i;
        vals.push(v);
      }
    });
    entities.push((id - prev) * 2 ** FIELDS + mask, ...vals);
    prev = id;
  }
  return { tick, baseDelta: 0, removed: [], entities, events: [] };
}

/** A player row: x, y in units, ack, hp 100, kind 0, seat. */
function player(id: number, x: number, y: number, ack = 0, seat = 0): number[] {
  const f = new Array<number>(FIELDS).fill(0);
  f[F.X] = x * 16;
  f[F.Y] = y * 16;
  f[F.ACK] = ack;
  f[F.HP] = 100;
  f[F.KIND] = 0;
  f[F.SEAT] = seat;
  return [id, ...f];
}

/** The round entity: live (phase 0) or over (1). */
function round(over: boolean): number[] {
  const f = new Array<number>(FIELDS).fill(0);
  f[F.HP] = over ? 1 : 0;
  f[F.KILLS] = 10;
  f[F.KIND] = 2;
  return [1, ...f];
}

function joined(rows: number[][]): JoinedInfo {
  return {
    lobby: 1,
    code: "ABCDEF",
    name: "t",
    game: "arena",
    you: ME,
    host: ME,
    tickRate: 30,
    snapshotRate: 30,
    maxPlayers: 8,
    fieldCount: FIELDS,
    roster: [
      { id: ME, name: "me" },
      { id: OTHER, name: "them" },
    ],
    snapshot: full(10, rows),
  };
}

function hooks(): SessionHooks & { resyncs: number; effects: string[] } {
  const h = {
    resyncs: 0,
    effects: [] as string[],
    effect: (kind: string) => void h.effects.push(kind),
    kill: () => {},
    hurt: () => {},
    resyncNeeded: () => void h.resyncs++,
  };
  return h;
}

test("each input is one predicted step; between rounds nothing moves", () => {
  const s = new GameSession(joined([round(false), player(ME, 100, 900), player(OTHER, 1000, 900, 0, 1)]), 0, hooks());
  for (let seq = 1; seq <= 3; seq++) s.makeInput(seq, 1, 0, false, { x: 500, y: 900 }, seq / 30);
  assert.ok(Math.abs(s.predictor.pos.x - (100 + 3 * 8)) < 1e-9, `${s.predictor.pos.x}`);
  // The round ends: the next inputs are steps that do not move.
  s.onSnapshot(full(20, [round(true), player(ME, 124, 900, 3), player(OTHER, 1000, 900, 0, 1)]), 0.5);
  s.makeInput(4, 1, 0, false, { x: 500, y: 900 }, 0.55);
  assert.ok(Math.abs(s.predictor.pos.x - 124) < 1e-9, `${s.predictor.pos.x}`);
});

test("an input says which tick the others were drawn at", () => {
  const s = new GameSession(joined([round(false), player(ME, 100, 900)]), 0, hooks());
  for (let t = 11; t <= 40; t++) s.onSnapshot(full(t, [round(false), player(ME, 100, 900)]), t / 30);
  s.view(40 / 30, null);
  const i = s.makeInput(1, 0, 0, false, { x: 0, y: 0 }, 40 / 30);
  // Drawn about 100 ms behind the newest snapshot, inside the data.
  assert.ok(s.lastRenderTime * 30 < 40, `render ${s.lastRenderTime}`);
  assert.equal(i.viewTick, Math.round(s.lastRenderTime * 30));
  assert.ok((i.viewTick ?? 0) > 30);
});

test("past the newest snapshot the view tick is the newest's: that is what the others are drawn at", () => {
  const s = new GameSession(joined([round(false), player(ME, 100, 900)]), 0, hooks());
  s.view(0.2, null);
  s.view(3, null); // no snapshot for seconds: the render clock runs on past the data
  const newest = s.buffer.newest!;
  assert.ok(s.lastRenderTime * 30 > newest.tick + 5, `render ${s.lastRenderTime}, newest ${newest.time}`);
  const i = s.makeInput(1, 0, 0, false, { x: 0, y: 0 }, 3);
  assert.equal(i.viewTick, newest.tick);
});

test("a shot is drawn at our barrel at once, fires every 8 steps, and its server copy is not drawn twice", () => {
  const h = hooks();
  const s = new GameSession(joined([round(false), player(ME, 100, 900)]), 0, h);
  const aim = { x: 500, y: 900 };
  const fired: number[] = [];
  for (let seq = 1; seq <= 17; seq++) {
    const before = s.shots.count;
    s.makeInput(seq, 0, 0, true, aim, seq / 30);
    if (s.shots.count > before) fired.push(seq);
  }
  assert.deepEqual(fired, [1, 9, 17], "the cooldown counts our steps");
  const drawn = s.view(1, aim);
  const me = drawn.players.find((p) => p.me)!;
  const shots = drawn.projectiles.filter((p) => p.id < 0);
  assert.equal(shots.length, 3);
  const newest = shots.find((p) => p.id === -17)!;
  assert.ok(Math.hypot(newest.x - me.x, newest.y - me.y) <= 30, "first drawn at the barrel");
  // The server shows shot 1 (field 2 = the input that fired it): still drawn once, from prediction.
  const serverShot = [100, 400 * 16, 900 * 16, 1, 0, 0, 0, 0, ME, 1, 0];
  s.onSnapshot(full(40, [round(false), player(ME, 100, 900, 17), serverShot]), 1.1);
  const again = s.view(1.12, aim).projectiles;
  assert.equal(again.filter((p) => p.id === 100).length, 0, "the server's copy is hidden");
  assert.equal(again.filter((p) => p.id < 0).length, 3);
});

test("a broken mirror asks for a Resync (not a reconnect) and a full snapshot repairs it", () => {
  const h = hooks();
  const s = new GameSession(joined([round(false), player(ME, 100, 900)]), 0, h);
  // Deltas from a base this client never held (tick 5): they cannot apply.
  const stray = (tick: number): SnapshotBody => ({ tick, baseDelta: tick - 5, removed: [], entities: [], events: [] });
  assert.equal(s.onSnapshot(stray(11), 0.1), false);
  assert.equal(h.resyncs, 0, "a moment's patience: the server may already be sending a full one");
  s.onSnapshot(stray(60), 1.7);
  assert.equal(h.resyncs, 1);
  s.onSnapshot(stray(61), 1.75);
  assert.equal(h.resyncs, 1, "asked once, not per frame");
  assert.equal(s.onSnapshot(full(62, [round(false), player(ME, 100, 900)]), 1.8), true);
  assert.equal(s.mirror.tick, 62);
});
