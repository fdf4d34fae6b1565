// Prediction: the movement rules against the server's own trace, reconciliation by replay, steady-link and smoothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { arenaInfo, POS_SCALE, type MoveRules } from "../src/games";
import { Predictor, moveStep, type Vec } from "../src/prediction";
import { rust } from "./helpers";

const rules: MoveRules = arenaInfo(30).rules;
const quant = (v: number): number => Math.round(v * POS_SCALE) / POS_SCALE;

test("one tick of movement matches the server's arena, pillars and walls included", () => {
  let p: Vec = { x: rust.move_start[0], y: rust.move_start[1] };
  let pushed = 0;
  for (const [i, [dx, dy, x, y]] of rust.move_trace.entries()) {
    const free = { x: p.x + (dx / Math.hypot(dx, dy)) * 8, y: p.y + (dy / Math.hypot(dx, dy)) * 8 };
    p = moveStep(p, dx, dy, rules);
    if (Math.abs(free.x - p.x) > 1e-3 || Math.abs(free.y - p.y) > 1e-3) pushed++;
    assert.ok(Math.abs(p.x - x) < 2e-3 && Math.abs(p.y - y) < 2e-3, `tick ${i + 1}: ${p.x},${p.y} vs server ${x},${y}`);
  }
  assert.ok(pushed > 5, "the trace runs into obstacles");
});

test("diagonals are normalized, zero input stays put, the world clamps at the radius", () => {
  const d = moveStep({ x: 100, y: 100 }, 1, 1, rules);
  assert.ok(Math.abs(Math.hypot(d.x - 100, d.y - 100) - 8) < 1e-9, "240 u/s over 1/30 s along the diagonal");
  assert.deepEqual(moveStep({ x: 100, y: 100 }, 0, 0, rules), { x: 100, y: 100 });
  assert.deepEqual(moveStep({ x: 20, y: 20 }, -1, -1, rules), { x: 18, y: 18 });
  assert.deepEqual(moveStep({ x: 1590, y: 990 }, 1, 1, rules), { x: 1582, y: 982 });
  // Inside a pillar: pushed to its rim along the line from its centre.
  const out = moveStep({ x: 800, y: 500 }, 0, 0, rules);
  assert.deepEqual(out, { x: 800 + 80 + 18, y: 500 });
});

test("after the server acks seq k, the prediction is the server position plus a replay of inputs after k", () => {
  const pr = new Predictor(rules);
  pr.reset({ x: 300, y: 500 }, 0);
  const inputs: Array<[number, number]> = [[1, 0], [1, 0], [1, 1], [0, 1], [-1, 0], [1, -1], [0, -1], [1, 0]];
  inputs.forEach(([dx, dy], i) => pr.apply(i + 1, dx, dy, true));
  // The server applied inputs 1..3 but has us somewhere else (we were pushed, say).
  const server = { x: 320, y: 510 };
  const shown = pr.renderPos(1);
  const fix = pr.reconcile(server, 3, true);
  let want: Vec = server;
  for (const [dx, dy] of inputs.slice(3)) want = moveStep(want, dx, dy, rules);
  assert.ok(Math.abs(pr.pos.x - want.x) < 1e-9 && Math.abs(pr.pos.y - want.y) < 1e-9);
  assert.equal(pr.pendingCount, inputs.length - 3);
  assert.ok(fix > 0);
  // Nothing jumps on screen: the correction becomes an offset that decays.
  const after = pr.renderPos(1);
  assert.ok(Math.abs(after.x - shown.x) < 1e-9 && Math.abs(after.y - shown.y) < 1e-9);
  for (let i = 0; i < 60; i++) pr.decay(1 / 60);
  assert.deepEqual(pr.err, { x: 0, y: 0 });
  assert.ok(Math.abs(pr.renderPos(1).x - want.x) < 1e-9);
  // A later ack that agrees with the replay needs no further correction.
  assert.equal(pr.reconcile(quantV(pr.pos), 8, true), 0);
});

test("a steady link never corrects: the server (quantized, lagging) agrees with every prediction", () => {
  const pr = new Predictor(rules);
  let server: Vec = { x: 560, y: 420 };
  pr.reset(server, 0);
  const latency = 4; // ticks between sending an input and seeing its ack
  const sent: Array<[number, number]> = [];
  let corrections = 0;
  for (let tick = 1; tick <= 600; tick++) {
    // Wander around the middle pillar, changing direction every 20 ticks.
    const phase = Math.floor(tick / 20) % 8;
    const dir: [number, number] = [[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]][phase] as [number, number];
    pr.apply(tick, dir[0], dir[1], true);
    sent.push(dir);
    const ack = tick - latency;
    if (ack >= 1) {
      server = moveStep(server, sent[ack - 1][0], sent[ack - 1][1], rules);
      corrections += pr.reconcile(quantV(server), ack, true) > 0 ? 1 : 0;
    }
    pr.decay(1 / 30);
    assert.deepEqual(pr.err, { x: 0, y: 0 }, `no correction offset at tick ${tick}`);
  }
  assert.equal(corrections, 0);
  assert.equal(pr.corrections, 0);
  assert.equal(pr.pendingCount, latency);
});

test("small corrections are smoothed, big ones (respawns) snap", () => {
  const pr = new Predictor(rules);
  pr.reset({ x: 200, y: 200 }, 0);
  pr.apply(1, 1, 0, true);
  pr.reconcile({ x: 205, y: 200 }, 1, true);
  assert.ok(Math.hypot(pr.err.x, pr.err.y) > 2.9, "a 3-unit correction is blended, not snapped");
  pr.decay(0.1);
  const half = Math.hypot(pr.err.x, pr.err.y);
  assert.ok(half < 3 * Math.exp(-0.9) && half > 0, `decayed to ${half}`);
  pr.reconcile({ x: 1400, y: 800 }, 1, true);
  assert.deepEqual(pr.err, { x: 0, y: 0 });
  assert.deepEqual(pr.renderPos(1), { x: 1400, y: 800 });
});

test("while dead, inputs do not move the prediction", () => {
  const pr = new Predictor(rules);
  pr.reset({ x: 500, y: 900 }, 10);
  pr.apply(11, 1, 0, false);
  pr.apply(12, 1, 0, false);
  assert.deepEqual(pr.pos, { x: 500, y: 900 });
  assert.equal(pr.reconcile({ x: 500, y: 900 }, 11, false), 0);
});

function quantV(v: Vec): Vec {
  return { x: quant(v.x), y: quant(v.y) };
}
