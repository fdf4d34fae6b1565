// Predicted own shots: where they appear, how they fly, where they stop, and what the server's view does to them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { arenaInfo } from "../src/games";
import { OwnShots, type ShotEnded, type ShotRules } from "../src/shots";

const rules: ShotRules = { move: arenaInfo(30).rules, speed: 750, lifeTicks: 27, muzzle: 24, hitRadius: 22 };
const none: Array<[number, number]> = [];

test("a shot appears at the drawn barrel, then settles onto the server's path", () => {
  const s = new OwnShots(rules);
  s.fire(1, { x: 100, y: 900 }, 0, none, 10);
  // The player is drawn a little behind its stepped position (between two steps).
  const barrel = (a: number) => ({ x: 95 + Math.cos(a) * 24, y: 900 + Math.sin(a) * 24 });
  const first = s.view(0.4, 10, barrel)[0];
  assert.ok(Math.abs(first.x - 119) < 1e-9 && Math.abs(first.y - 900) < 1e-9, JSON.stringify(first));
  // A quarter second later (alpha 0.4 into its 8th segment) it is on its path, to a fraction of a unit.
  for (let i = 0; i < 7; i++) s.tick(none, 10 + (i + 1) / 30);
  const later = s.view(0.4, 10.25, barrel)[0];
  assert.ok(Math.abs(later.x - (124 + 25 * 7.4)) < 0.2, JSON.stringify(later));
});

test("a shot flies its life and fizzles where the server removes it", () => {
  const s = new OwnShots(rules);
  s.fire(7, { x: 100, y: 900 }, 0, none, 0);
  let ended: ShotEnded[] = [];
  let ticks = 0;
  while (ended.length === 0 && ticks < 100) {
    ticks++;
    ended = s.tick(none, ticks / 30);
  }
  // 27 segments of 25 units, then gone on the tick after its last.
  assert.equal(ticks, 28);
  assert.equal(ended[0].why, "fizzle");
  assert.ok(Math.abs(ended[0].x - (124 + 27 * 25)) < 1e-9);
  assert.equal(s.count, 0);
  assert.ok(s.owns(7), "remembered, so the server's copy stays hidden");
});

test("pillars and players in its way stop it", () => {
  // The centre pillar (800, 500, r 80): a shot from (600, 500) along +x stops at x = 720.
  const s = new OwnShots(rules);
  s.fire(1, { x: 600, y: 500 }, 0, none, 0);
  let ended: ShotEnded[] = [];
  for (let i = 1; ended.length === 0 && i < 40; i++) ended = s.tick(none, i / 30);
  assert.equal(ended[0].why, "wall");
  assert.ok(Math.abs(ended[0].x - 720) < 1e-6, `${ended[0].x}`);

  // A player drawn at (300, 900): the shot stops 22 units short of its centre.
  const p = new OwnShots(rules);
  const target: Array<[number, number]> = [[300, 900]];
  p.fire(2, { x: 100, y: 900 }, 0, target, 0);
  let hit: ShotEnded[] = [];
  for (let i = 1; hit.length === 0 && i < 40; i++) hit = p.tick(target, i / 30);
  assert.equal(hit[0].why, "hit");
  assert.ok(Math.abs(hit[0].x - 278) < 1e-6, `${hit[0].x}`);
});

test("the server's view confirms, ends or drops predicted shots", () => {
  const s = new OwnShots(rules);
  s.fire(1, { x: 100, y: 900 }, 0, none, 0);
  s.fire(9, { x: 100, y: 900 }, 0, none, 0);
  // Shot 1 is shown by the server; shot 9 is not (yet).
  assert.deepEqual(s.confirm(new Set([1]), 0.1), []);
  // Shot 1 vanishes from the server's world while we still fly it: it hit something.
  const gone = s.confirm(new Set(), 0.2);
  assert.deepEqual(gone.map((e) => [e.seq, e.why]), [[1, "hit"]]);
  // Shot 9 was never shown: after a second it never happened.
  const lost = s.confirm(new Set(), 1.5);
  assert.deepEqual(lost.map((e) => [e.seq, e.why]), [[9, "lost"]]);
  assert.equal(s.count, 0);
});
