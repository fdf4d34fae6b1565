// Replay playback's clock and frame queue: speed, pause, seek, the end; what to fetch, stale fetches dropped.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameQueue, SPEEDS, Timeline } from "../src/replay/timeline";
import type { SnapshotBody } from "../src/protocol";

const body = (tick: number): SnapshotBody => ({ tick, baseDelta: tick === 0 ? 0 : 1, removed: [], entities: [], events: [] });
const bodies = (from: number, n: number) => Array.from({ length: n }, (_, i) => body(from + i));

test("the head moves at the tick rate times the speed, and stops at the end", () => {
  const t = new Timeline(10, 100, 30);
  t.advance(1);
  assert.equal(t.position, 40);
  t.setSpeed(4);
  t.advance(0.5);
  assert.equal(t.position, 100, "60 ticks at 4x in half a second, kept at the last tick");
  assert.ok(t.ended && !t.playing);
  t.toggle();
  assert.ok(t.playing);
  assert.equal(t.position, 10, "play at the end starts again");
  t.setSpeed(0.25);
  t.advance(2);
  assert.equal(t.position, 25);
  assert.equal(t.seconds, 0.5);
});

test("a head that stopped at the end plays on from a seek back; a paused one stays paused", () => {
  const t = new Timeline(1, 100, 30);
  t.setSpeed(4);
  t.advance(1);
  assert.ok(t.ended && !t.playing);
  t.seek(50);
  assert.ok(t.playing, "stopped by the end, not by the viewer: plays on");
  t.advance(0.1);
  assert.equal(t.position, 62);
  t.toggle();
  t.seek(10);
  assert.ok(!t.playing, "paused by the viewer: stays paused");
  t.toggle();
  t.advance(2);
  assert.ok(t.ended && !t.playing);
  t.seek(9999);
  assert.ok(!t.playing, "a seek to the end itself stays stopped");
});

test("paused, the head stays; speeds snap to the offered ones; seeks stay within the match", () => {
  const t = new Timeline(1, 300, 30);
  t.toggle();
  t.advance(5);
  assert.equal(t.position, 1);
  t.setSpeed(3.1);
  assert.equal(t.speed, 4);
  t.setSpeed(0.3);
  assert.equal(t.speed, 0.25);
  assert.deepEqual([...SPEEDS], [0.25, 0.5, 1, 2, 4]);
  assert.equal(t.seek(150.4), 150);
  assert.equal(t.seek(-5), 1);
  assert.equal(t.seek(9999), 300);
});

test("the queue asks for frames when little is buffered ahead, once at a time, and hands them out in order", () => {
  const q = new FrameQueue(1, 500);
  const w = q.want(1, 90);
  assert.deepEqual(w, { from: 1, generation: 0 });
  assert.equal(q.want(1, 90), null, "one fetch at a time");
  assert.ok(q.add(w!.generation, bodies(1, 100)));
  assert.equal(q.want(1, 90), null, "99 ticks ahead: enough");
  assert.deepEqual(q.take(5).map((b) => b.tick), [1, 2, 3, 4, 5]);
  assert.equal(q.buffered, 95);
  const w2 = q.want(20, 90);
  assert.deepEqual(w2, { from: 101, generation: 0 }, "only 80 ahead of 20: the next batch");
  q.failed(w2!.generation);
  assert.deepEqual(q.want(20, 90), { from: 101, generation: 0 }, "a failed fetch is asked again");
});

test("a seek drops what an older fetch brings back late; an empty batch ends the match", () => {
  const q = new FrameQueue(1, 500);
  const old = q.want(1, 90)!;
  const gen = q.reset(300);
  assert.equal(q.add(old.generation, bodies(1, 100)), false, "stale: from before the seek");
  assert.equal(q.buffered, 0);
  const w = q.want(300, 90)!;
  assert.deepEqual(w, { from: 300, generation: gen });
  q.add(gen, bodies(300, 50));
  const w2 = q.want(300, 90)!;
  assert.equal(w2.from, 350);
  q.add(gen, []);
  assert.equal(q.want(300, 1000), null, "nothing past the end");
});
