// Touch sticks: touch to vector, 8-direction quantization with a dead zone, aim and fire; and the touch layout keeps them off the arena and the panels.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MARGIN_TOP, STICK_ZONE, layout, type Box, type Layout } from "../src/layout";
import { AIM_DEAD_ZONE, FIRE_THRESHOLD, MOVE_DEAD_ZONE, aimStick, quantize, stickVector } from "../src/stick";

test("stickVector: relative to the base, in radii, clamped to the rim", () => {
  assert.deepEqual(stickVector(110, 100, 100, 100, 50), { x: 0.2, y: 0 });
  assert.deepEqual(stickVector(100, 75, 100, 100, 50), { x: 0, y: -0.5 });
  const far = stickVector(400, 500, 100, 100, 50);
  assert.ok(Math.abs(Math.hypot(far.x, far.y) - 1) < 1e-12, "a thumb past the rim is a full push");
  assert.ok(Math.abs(far.x - 0.6) < 1e-12 && Math.abs(far.y - 0.8) < 1e-12, "in the same direction");
});

test("quantize: the 8 directions as dx, dy in -1/0/1, y down", () => {
  const at = (deg: number, len = 1) => quantize(len * Math.cos((deg * Math.PI) / 180), len * Math.sin((deg * Math.PI) / 180));
  assert.deepEqual(at(0), { dx: 1, dy: 0 });
  assert.deepEqual(at(45), { dx: 1, dy: 1 });
  assert.deepEqual(at(90), { dx: 0, dy: 1 }, "down on screen");
  assert.deepEqual(at(135), { dx: -1, dy: 1 });
  assert.deepEqual(at(180), { dx: -1, dy: 0 });
  assert.deepEqual(at(-180), { dx: -1, dy: 0 });
  assert.deepEqual(at(-135), { dx: -1, dy: -1 });
  assert.deepEqual(at(-90), { dx: 0, dy: -1 });
  assert.deepEqual(at(-45), { dx: 1, dy: -1 });
});

test("quantize: nearest sector; boundaries at 22.5°", () => {
  const at = (deg: number) => quantize(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180));
  assert.deepEqual(at(20), { dx: 1, dy: 0 });
  assert.deepEqual(at(25), { dx: 1, dy: 1 });
  assert.deepEqual(at(67), { dx: 1, dy: 1 });
  assert.deepEqual(at(68), { dx: 0, dy: 1 });
  assert.deepEqual(at(-160), { dx: -1, dy: 0 });
  // Every answer is one the keyboard can give.
  for (let d = -180; d <= 180; d += 1) {
    const q = at(d);
    assert.ok([-1, 0, 1].includes(q.dx) && [-1, 0, 1].includes(q.dy) && (q.dx !== 0 || q.dy !== 0), `${d}°: ${JSON.stringify(q)}`);
    assert.ok(!Object.is(q.dx, -0) && !Object.is(q.dy, -0), "no -0 on the wire");
  }
});

test("quantize: the dead zone is rest", () => {
  assert.deepEqual(quantize(0, 0), { dx: 0, dy: 0 });
  assert.deepEqual(quantize(MOVE_DEAD_ZONE * 0.9, 0), { dx: 0, dy: 0 });
  assert.deepEqual(quantize(0, -MOVE_DEAD_ZONE * 1.1), { dx: 0, dy: -1 });
  assert.deepEqual(quantize(0.1, 0.1, 0.05), { dx: 1, dy: 1 }, "the dead zone is a parameter");
});

test("aimStick: no aim at rest, aim without fire for a light push, fire past the threshold", () => {
  assert.deepEqual(aimStick(0, 0), { angle: null, fire: false });
  assert.deepEqual(aimStick(AIM_DEAD_ZONE * 0.5, 0), { angle: null, fire: false });
  const light = aimStick(0, (AIM_DEAD_ZONE + FIRE_THRESHOLD) / 2);
  assert.equal(light.fire, false);
  assert.ok(Math.abs((light.angle ?? 0) - Math.PI / 2) < 1e-12, "pointing down");
  const hard = aimStick(-1, 0);
  assert.equal(hard.fire, true);
  assert.ok(Math.abs(Math.abs(hard.angle ?? 0) - Math.PI) < 1e-12);
});

// ------------------------------------------------------------------------------ where the sticks go

const W = 1600;
const H = 1000;

function overlaps(a: Box, b: Box): boolean {
  return a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;
}

/** The squares the sticks listen on. */
function zones(l: Layout): Box[] {
  const s = l.sticks!;
  return [s.move, s.aim].map((c) => ({ left: c.x - STICK_ZONE / 2, top: c.y - STICK_ZONE / 2, width: STICK_ZONE, height: STICK_ZONE }));
}

function checkSticks(l: Layout, w: number, h: number): void {
  assert.ok(l.sticks !== null, "a touch layout has sticks");
  const [a, b] = zones(l);
  for (const z of [a, b]) {
    assert.ok(z.left >= -1e-9 && z.top >= MARGIN_TOP && z.left + z.width <= w + 1e-9 && z.top + z.height <= h + 1e-9, `${w}x${h}: a stick's zone leaves the window or reaches the top bar: ${JSON.stringify(z)}`);
    assert.ok(!overlaps(z, l.arena), `${w}x${h}: a stick covers the arena`);
    if (l.side !== null) assert.ok(!overlaps(z, l.side), `${w}x${h}: a stick covers the panels' column`);
  }
  assert.ok(!overlaps(a, b), `${w}x${h}: the sticks overlap`);
  assert.ok(l.sticks!.move.x < l.sticks!.aim.x, "move on the left, aim on the right");
}

test("a 390x844 phone: arena at the top, panels under it, sticks in a band at the bottom", () => {
  const l = layout(390, 844, W, H, true);
  assert.equal(l.mode, "below");
  assert.equal(l.offY, MARGIN_TOP);
  const c = l.side!;
  assert.ok(c.top >= l.arena.top + l.arena.height, "the column starts under the arena");
  assert.ok(c.height >= 300, `a ${c.height} px column`);
  checkSticks(l, 390, 844);
});

test("phones on their side and tablets: the sticks never cover the arena or the panels", () => {
  for (const [w, h] of [[844, 390], [667, 375], [1024, 768], [768, 1024], [360, 640], [1280, 800], [600, 300]]) {
    const l = layout(w, h, W, H, true);
    checkSticks(l, w, h);
    // And the arena stays inside the window, under the top bar.
    assert.ok(l.arena.top >= MARGIN_TOP - 1e-9 && l.arena.left >= 0 && l.arena.left + l.arena.width <= w + 1e-9 && l.arena.top + l.arena.height <= h + 1e-9, `${w}x${h}`);
  }
});

test("844x390 (landscape): the sticks take the side gutters, not a band", () => {
  const l = layout(844, 390, W, H, true);
  assert.equal(l.mode, "over");
  assert.ok(l.arena.top + l.arena.height > l.sticks!.move.y - STICK_ZONE / 2, "the arena reaches down beside the sticks");
});

test("without touch, no sticks and the layouts are as before", () => {
  assert.equal(layout(390, 844, W, H).sticks, null);
  assert.equal(layout(390, 844, W, H).mode, "over");
});
