// Layout: where the arena goes and whether the HUD's panels go beside it or over it; where labels go.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EDGE, MARGIN, MARGIN_TOP, SIDE_MAX, SIDE_MIN, layout, type Layout } from "../src/layout";
import { labelBelow } from "../src/render";

const W = 1600;
const H = 1000;

/** The arena's box on screen. */
function arena(l: Layout): { left: number; top: number; right: number; bottom: number } {
  return { left: l.offX, top: l.offY, right: l.offX + W * l.scale, bottom: l.offY + H * l.scale };
}

function inside(l: Layout, w: number, h: number): void {
  const a = arena(l);
  assert.ok(a.left >= MARGIN - 1e-9, `arena starts at x ${a.left}`);
  assert.ok(a.right <= w - MARGIN + 1e-9, `arena ends at x ${a.right} in a ${w} px window`);
  assert.ok(a.top >= MARGIN_TOP - 1e-9, `arena starts at y ${a.top}, in the top bar's row`);
  assert.ok(a.bottom <= h - MARGIN + 1e-9, `arena ends at y ${a.bottom} in a ${h} px window`);
}

test("1280x800 (the review's window): the panels go in a column beside the arena, not over it", () => {
  const l = layout(1280, 800, W, H);
  assert.equal(l.mode, "side");
  inside(l, 1280, 800);
  const c = l.side!;
  assert.ok(c.left >= EDGE - 1e-9, `column starts at ${c.left}`);
  assert.ok(c.width >= SIDE_MIN && c.width <= SIDE_MAX, `column is ${c.width} px wide`);
  assert.ok(c.left + c.width + EDGE <= arena(l).left + 1e-9, "the column ends before the arena starts");
  assert.ok(Math.abs(c.top - l.offY) < 1e-9 && Math.abs(c.height - H * l.scale) < 1e-9, "the column lines up with the arena");
  // It costs the world some scale, but not much.
  const over = Math.min((1280 - 2 * MARGIN) / W, (800 - MARGIN - MARGIN_TOP) / H);
  assert.ok(l.scale >= over * 0.85 && l.scale < over, `scale ${l.scale} vs ${over} without the column`);
});

test("wide screens: the column sits in the spare width and costs nothing", () => {
  for (const [w, h] of [[1920, 1080], [2560, 1080], [2560, 1440]]) {
    const l = layout(w, h, W, H);
    assert.equal(l.mode, "side", `${w}x${h}`);
    inside(l, w, h);
    assert.ok(Math.abs(l.scale - (h - MARGIN - MARGIN_TOP) / H) < 1e-9, `${w}x${h}: the arena keeps the full height`);
    assert.ok(l.side!.left + l.side!.width + EDGE <= l.offX + 1e-9);
  }
});

test("squarer or small windows: the arena takes the whole window and the panels float over it", () => {
  for (const [w, h] of [[1024, 768], [1024, 700], [800, 560], [600, 900], [1280, 1000], [1200, 400]]) {
    const l = layout(w, h, W, H);
    assert.equal(l.mode, "over", `${w}x${h}`);
    assert.equal(l.side, null);
    inside(l, w, h);
    const a = arena(l);
    // Centred, and as large as the window allows.
    assert.ok(Math.abs(a.left - (w - a.right)) < 1e-9, `${w}x${h}: centred`);
    const s = Math.min((w - 2 * MARGIN) / W, (h - MARGIN - MARGIN_TOP) / H);
    assert.ok(Math.abs(l.scale - s) < 1e-9);
  }
});

test("1366x768: the column, for under 1% of the world's scale", () => {
  const l = layout(1366, 768, W, H);
  assert.equal(l.mode, "side");
  inside(l, 1366, 768);
  assert.ok(l.scale > 0.99 * ((768 - MARGIN - MARGIN_TOP) / H));
});

test("a square world (walkers) fits beside the column at no cost", () => {
  const l = layout(1280, 800, 2000, 2000);
  assert.equal(l.mode, "side");
  assert.ok(Math.abs(l.scale - (800 - MARGIN - MARGIN_TOP) / 2000) < 1e-9);
  assert.ok(l.side!.left + l.side!.width <= l.offX);
});

test("a tiny window still gets a positive scale", () => {
  const l = layout(10, 10, W, H);
  assert.ok(l.scale > 0 && Number.isFinite(l.offX) && Number.isFinite(l.offY));
});

test("labels go below a player near the top wall, above one anywhere else", () => {
  const scale = 0.64;
  // The label reaches 34 px (53 world units at this scale) above the player's edge.
  assert.equal(labelBelow(18, 18, scale, true), true, "touching the top wall");
  assert.equal(labelBelow(60, 18, scale, true), true, "label would poke out of the arena");
  assert.equal(labelBelow(18 + 34 / scale + 1, 18, scale, true), false, "just enough room above");
  assert.equal(labelBelow(500, 18, scale, true), false);
  // No health bar (walkers): a shorter label.
  assert.equal(labelBelow(10 + 30 / scale, 10, scale, false), false);
  assert.equal(labelBelow(10 + 20 / scale, 10, scale, false), true);
});
