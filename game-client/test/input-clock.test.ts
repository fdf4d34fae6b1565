// The input clock: one input per tick of real time at any frame rate, bursts after a stall, and a cap.
import assert from "node:assert/strict";
import { test } from "node:test";
import { InputClock } from "../src/input-clock";

test("one input per tick at 60 fps, and every tick of a stall made up at once", () => {
  const c = new InputClock(30);
  let sent = 0;
  // 3 seconds at 60 fps: 90 ticks, 90 inputs, never more than one a frame.
  for (let i = 0; i < 180; i++) {
    const n = c.advance(1 / 60);
    assert.ok(n <= 1);
    sent += n;
  }
  assert.ok(Math.abs(sent - 90) <= 1, `${sent}`);
  // A 100 ms frame owes three inputs (about 3 ticks).
  const burst = c.advance(0.1);
  assert.ok(burst === 3 || burst === 2, `${burst}`);
});

test("at 24 fps with hitches the count still follows real time", () => {
  const c = new InputClock(30);
  let sent = 0;
  let t = 0;
  const frames = [0.042, 0.042, 0.09, 0.042, 0.13, 0.042, 0.042];
  for (let i = 0; i < 100; i++) {
    const dt = frames[i % frames.length];
    t += dt;
    sent += c.advance(dt);
  }
  assert.ok(Math.abs(sent - t * 30) < 1, `${sent} inputs in ${t.toFixed(2)} s`);
});

test("a long stall is capped and the clock starts over", () => {
  const c = new InputClock(30, 6);
  assert.equal(c.advance(5), 6);
  assert.equal(c.alpha, 0);
  assert.equal(c.advance(0.01), 0);
  assert.ok(c.alpha > 0.29 && c.alpha < 0.31);
});
