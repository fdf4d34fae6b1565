// Interpolation: sampling between snapshots, clamping, the extrapolation limit, angles, and the adaptive clock.
import assert from "node:assert/strict";
import { test } from "node:test";
import { InterpBuffer, InterpClock, lerpAngle, type BlendSpec, type Frame } from "../src/interpolation";

const spec: BlendSpec = { lerpFields: [0, 1], angleFields: [2], angleSteps: 1024 };

function frame(tick: number, rows: Array<[number, number[]]>, rate = 30): Frame {
  return { tick, time: tick / rate, entities: new Map(rows.map(([id, f]) => [id, Int32Array.from(f)])) };
}

function near(a: number, b: number, eps = 1e-9): void {
  assert.ok(Math.abs(a - b) <= eps, `${a} is not within ${eps} of ${b}`);
}

test("samples halfway between two snapshots", () => {
  const buf = new InterpBuffer();
  buf.push(frame(30, [[1, [0, 100, 0, 7]]]));
  buf.push(frame(31, [[1, [160, 80, 0, 9]]]));
  const s = buf.sample((30.5) / 30, spec, 0.1);
  const e = s.entities.get(1)!;
  near(e[0], 80);
  near(e[1], 90);
  assert.equal(e[3], 7, "step fields hold the older value");
  assert.equal(s.extrapolated, 0);
  // A quarter of the way.
  near(buf.sample(30.25 / 30, spec, 0.1).entities.get(1)![0], 40);
});

test("picks the right pair among many frames", () => {
  const buf = new InterpBuffer();
  for (let t = 1; t <= 10; t++) buf.push(frame(t, [[1, [t * 16, 0, 0]]]));
  near(buf.sample(4.5 / 30, spec, 0.1).entities.get(1)![0], 4.5 * 16, 1e-6);
  near(buf.sample(8.75 / 30, spec, 0.1).entities.get(1)![0], 8.75 * 16, 1e-6);
});

test("clamps to the oldest snapshot before the buffer starts", () => {
  const buf = new InterpBuffer();
  buf.push(frame(10, [[1, [16, 0, 0]]]));
  buf.push(frame(11, [[1, [32, 0, 0]]]));
  const s = buf.sample(0, spec, 0.1);
  assert.equal(s.entities.get(1)![0], 16);
  assert.equal(s.time, 10 / 30);
});

test("extrapolates past the newest snapshot, but only up to the limit", () => {
  const buf = new InterpBuffer();
  buf.push(frame(30, [[1, [0, 0, 0]]]));
  buf.push(frame(31, [[1, [30, 0, 0]]])); // 30 q-units per 1/30 s = 900 per second
  const a = buf.sample(31 / 30 + 0.05, spec, 0.1);
  near(a.entities.get(1)![0], 30 + 900 * 0.05, 1e-6);
  near(a.extrapolated, 0.05);
  // 0.5 s past the newest: held at the 0.1 s limit.
  const b = buf.sample(31 / 30 + 0.5, spec, 0.1);
  near(b.entities.get(1)![0], 30 + 900 * 0.1, 1e-6);
  near(b.extrapolated, 0.1);
  // With no extrapolation allowed it holds the newest values.
  assert.equal(buf.sample(31 / 30 + 0.5, spec, 0).entities.get(1)![0], 30);
});

test("entities: removed ones stay until their last frame, new ones appear from theirs", () => {
  const buf = new InterpBuffer();
  buf.push(frame(1, [[1, [0, 0, 0]], [2, [16, 16, 0]]]));
  buf.push(frame(2, [[1, [16, 0, 0]], [3, [48, 48, 0]]]));
  const mid = buf.sample(1.5 / 30, spec, 0.1);
  assert.deepEqual([...mid.entities.keys()].sort(), [1, 2]);
  assert.equal(mid.entities.get(2)![0], 16, "removed entity shown where it last was");
  const after = buf.sample(2 / 30, spec, 0.1);
  assert.deepEqual([...after.entities.keys()].sort(), [1, 3]);
});

test("angles blend the short way round", () => {
  near(lerpAngle(1000, 24, 0.5, 1024), 0);
  near(lerpAngle(24, 1000, 0.25, 1024), 12);
  near(lerpAngle(100, 300, 0.5, 1024), 200);
  const buf = new InterpBuffer();
  buf.push(frame(1, [[1, [0, 0, 1020]]]));
  buf.push(frame(2, [[1, [0, 0, 12]]]));
  near(buf.sample(1.5 / 30, spec, 0.1).entities.get(1)![2], 4, 1e-9); // 1020 -> 1028 = 4 (mod 1024)
});

test("older or repeated frames do not break time order", () => {
  const buf = new InterpBuffer();
  buf.push(frame(5, [[1, [0, 0, 0]]]));
  buf.push(frame(6, [[1, [16, 0, 0]]]));
  buf.push(frame(4, [[1, [99, 0, 0]]]));
  buf.push(frame(6, [[1, [32, 0, 0]]]));
  assert.equal(buf.length, 2);
  assert.equal(buf.newest!.entities.get(1)![0], 32);
});

test("the buffer keeps only a couple of seconds", () => {
  const buf = new InterpBuffer(2);
  for (let t = 1; t <= 300; t++) buf.push(frame(t, [[1, [t, 0, 0]]]));
  assert.ok(buf.length <= 2 * 30 + 2, `kept ${buf.length}`);
});

test("the clock draws about 100 ms in the past at 30 snapshots/s", () => {
  const clock = new InterpClock();
  const lag = 0.04;
  for (let t = 1; t <= 60; t++) clock.onSnapshot(t / 30, t / 30 + lag);
  near(clock.interval(), 1 / 30, 1e-9);
  near(clock.delay(), 0.1, 1e-9);
  const local = 60 / 30 + lag + 0.01;
  near(clock.serverNow(local), 60 / 30 + 0.01, 1e-9);
  near(clock.renderTime(local), 60 / 30 + 0.01 - 0.1, 1e-9);
});

test("the clock adapts its delay to a slower snapshot rate and to jitter", () => {
  const slow = new InterpClock();
  for (let t = 1; t <= 40; t++) slow.onSnapshot(t / 10, t / 10 + 0.03);
  near(slow.delay(), 0.2, 1e-9);
  const jittery = new InterpClock();
  for (let t = 1; t <= 60; t++) jittery.onSnapshot(t / 30, t / 30 + 0.03 + (t % 3 === 0 ? 0.06 : 0));
  assert.ok(jittery.delay() > 0.12, `delay ${jittery.delay()}`);
  assert.ok(jittery.delay() <= 0.5);
});

test("render time advances smoothly with the local clock", () => {
  const clock = new InterpClock();
  for (let t = 1; t <= 30; t++) clock.onSnapshot(t / 30, t / 30 + 0.02);
  let prev = clock.renderTime(1.0);
  for (let i = 1; i <= 60; i++) {
    const local = 1.0 + i / 60;
    if (i % 2 === 0) clock.onSnapshot(30 / 30 + i / 60, local + 0.02);
    const t = clock.renderTime(local);
    assert.ok(t > prev, "never goes backwards");
    assert.ok(t - prev < 2 / 60, "never jumps ahead");
    prev = t;
  }
});

test("render time never steps back when the network's delay grows, even on a hitchy page", () => {
  // A short window so the clock's estimate of "now" moves within the test: the delay grows by
  // 300 ms at once (a congested link), which makes the target render time fall back by 300 ms.
  const clock = new InterpClock({ lagWindow: 5 });
  let server = 0;
  let local = 0;
  let prev = -Infinity;
  let nextSnap = 0;
  let slowed = false;
  for (let frame = 0; frame < 400; frame++) {
    const dt = frame % 7 === 0 ? 0.12 : 1 / 30;
    local += dt;
    const extra = local > 3 ? 0.3 : 0;
    while (nextSnap <= local) {
      server += 1 / 30;
      clock.onSnapshot(server, nextSnap + 0.05 + extra);
      nextSnap += 1 / 30;
    }
    const t = clock.renderTime(local);
    assert.ok(t >= prev, `frame ${frame}: ${t} after ${prev}`);
    if (prev > -Infinity && t - prev < dt * 0.9) slowed = true;
    prev = t;
  }
  assert.ok(slowed, "it caught up with the new delay by slowing down");
});

test("a server that skips ticks: the clock follows its time back and draws behind the newest snapshot again", () => {
  // 30 snapshots/s, 50 ms of network; at 2 s the server stalls and skips 0.6 s of ticks, so its
  // time falls 0.6 s behind ours for good.
  const clock = new InterpClock();
  let local = 0;
  let newest = 0;
  for (let frame = 0; frame < 6 * 60; frame++) {
    local = frame / 60;
    if (frame % 2 === 0) {
      newest = local - (local >= 2 ? 0.6 : 0);
      clock.onSnapshot(newest, local + 0.05);
    }
    const t = clock.renderTime(local);
    if (local > 4.5) assert.ok(t <= newest, `at ${local.toFixed(2)} s drawing ${t.toFixed(3)}, past the newest ${newest.toFixed(3)}`);
  }
});

test("a server that skips a long stall's ticks: render time holds, never steps back", () => {
  // At 2 s the server skips 1.7 s of ticks: its time falls 1.7 s behind ours for good.
  const clock = new InterpClock();
  let prev = -Infinity;
  let newest = 0;
  for (let frame = 0; frame < 8 * 60; frame++) {
    const local = frame / 60;
    if (frame % 2 === 0) {
      newest = local - (local >= 2 ? 1.7 : 0);
      clock.onSnapshot(newest, local + 0.05);
    }
    const t = clock.renderTime(local);
    assert.ok(t >= prev, `at ${local.toFixed(2)} s: ${t.toFixed(3)} after ${prev.toFixed(3)}`);
    prev = t;
    if (local > 6) assert.ok(t <= newest, `at ${local.toFixed(2)} s drawing ${t.toFixed(3)}, past the newest ${newest.toFixed(3)}`);
  }
});
