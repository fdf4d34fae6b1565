// Delta application: the server's own frames rebuild its tables; new, removed, wrapping, full, and broken snapshots.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeServer, type SnapshotBody } from "../src/protocol";
import { ApplyError, applySnapshot, newMirror, requiredBase, type Mirror } from "../src/snapshot";
import { rust, unhex } from "./helpers";

function rowsOf(m: Mirror): number[][] {
  return [...m.entities.entries()].sort((a, b) => a[0] - b[0]).map(([id, f]) => [id, ...f]);
}

function body(tick: number, baseDelta: number, entities: number[], removed: number[] = []): SnapshotBody {
  return { tick, baseDelta, removed, entities, events: [] };
}

function mirrorWith(tick: number, rows: Array<[number, number[]]>, fieldCount = 3): Mirror {
  const m = newMirror(fieldCount);
  m.tick = tick;
  for (const [id, f] of rows) m.entities.set(id, Int32Array.from(f));
  return m;
}

test("a recorded arena match, frame by frame, rebuilds exactly the server's tables", () => {
  const bodies = rust.match_frames.map((h) => {
    const msg = decodeServer(unhex(h));
    assert.ok(msg !== null && (msg.type === "joined" || msg.type === "snapshot"));
    return msg.type === "joined" ? { fieldCount: msg.fieldCount, b: msg.snapshot } : { fieldCount: 0, b: msg as SnapshotBody };
  });
  // A delta from two ticks back is what a client gets after the server skipped it for a tick:
  // so this client never sees the frame before such a delta.
  const skipped = new Set(bodies.flatMap(({ b }, i) => (b.baseDelta > 1 ? [i - 1] : [])));
  assert.ok(skipped.size > 0, "the recording has gaps");
  let m = newMirror(bodies[0].fieldCount);
  let sawNew = false;
  let sawRemoved = false;
  let events = 0;
  bodies.forEach(({ b }, i) => {
    if (skipped.has(i)) return;
    const expect = rust.match_expect[i];
    const before = new Set(m.entities.keys());
    applySnapshot(m, b);
    assert.equal(m.tick, expect.tick);
    assert.deepEqual(rowsOf(m), expect.rows, `table at tick ${expect.tick}`);
    if (i > 0 && [...m.entities.keys()].some((id) => !before.has(id))) sawNew = true;
    if (b.removed.length > 0) sawRemoved = true;
    events += b.events.length;
    assert.deepEqual(
      b.events.map((e) => [e.kind, e.a, e.b]),
      expect.events ?? [],
    );
  });
  assert.ok(sawNew && sawRemoved && events > 0, "the recording covers spawns, removals and events");
  // The same frames applied in order without skipping hit a base mismatch at the first gap.
  m = newMirror(9);
  const firstGap = Math.min(...skipped) + 1;
  assert.throws(() => {
    for (let i = 0; i <= firstGap; i++) applySnapshot(m, bodies[i].b);
  }, ApplyError);
});

test("a changed field is a header plus its difference", () => {
  const m = mirrorWith(1, [
    [1, [10, 20, 1]],
    [2, [30, 40, 1]],
  ]);
  // id 2 (gap 2 from 0), fields 0 and 2 changed: mask 0b101, diffs +5 and +1.
  applySnapshot(m, body(2, 1, [(2 << 3) | 0b101, 5, 1]));
  assert.deepEqual(rowsOf(m), [
    [1, 10, 20, 1],
    [2, 35, 40, 2],
  ]);
  assert.equal(m.tick, 2);
});

test("new entities start from zeros, removed ones go, gaps are from the previous id", () => {
  const m = mirrorWith(1, [
    [1, [1, 1, 1]],
    [2, [2, 2, 2]],
  ]);
  // Remove 1; 2 unchanged; new 5 with all-zero fields (mask 0); new 7 with field 1 = -3.
  applySnapshot(m, body(2, 1, [5 << 3, (2 << 3) | 0b010, -3], [1]));
  assert.deepEqual(rowsOf(m), [
    [2, 2, 2, 2],
    [5, 0, 0, 0],
    [7, 0, -3, 0],
  ]);
});

test("differences wrap as int32", () => {
  const m = mirrorWith(1, [[1, [0x7fffffff, -0x80000000, 0]]]);
  applySnapshot(m, body(2, 1, [(1 << 3) | 0b011, 1, -1]));
  assert.deepEqual(rowsOf(m), [[1, -0x80000000, 0x7fffffff, 0]]);
});

test("a full snapshot clears the mirror first, whatever it held", () => {
  const m = mirrorWith(50, [
    [1, [1, 1, 1]],
    [9, [9, 9, 9]],
  ]);
  applySnapshot(m, body(80, 0, [(3 << 3) | 0b001, 42]));
  assert.deepEqual(rowsOf(m), [[3, 42, 0, 0]]);
  assert.equal(m.tick, 80);
});

test("a delta from a tick the mirror does not hold is refused and leaves the mirror alone", () => {
  const m = mirrorWith(2, [[1, [1, 1, 1]]]);
  const b = body(3, 2, [(1 << 3) | 1, 1]);
  assert.equal(requiredBase(b), 1);
  assert.throws(
    () => applySnapshot(m, b),
    (e: unknown) => e instanceof ApplyError && e.kind === "baseMismatch" && /from tick 1 .* holds tick 2/.test(e.message),
  );
  assert.equal(m.tick, 2);
  assert.deepEqual(rowsOf(m), [[1, 1, 1, 1]]);
  assert.ok(m.valid);
  // The right base still applies.
  applySnapshot(m, body(4, 2, [(1 << 3) | 1, 1]));
  assert.deepEqual(rowsOf(m), [[1, 2, 1, 1]]);
});

test("base ticks wrap around u32 like the server's", () => {
  const m = mirrorWith(0xffffffff, [[1, [1, 1, 1]]]);
  applySnapshot(m, body(1, 2, [(1 << 3) | 1, 1]));
  assert.equal(m.tick, 1);
});

test("hostile entity lists error instead of corrupting silently", () => {
  const kinds: Array<[number[], string]> = [
    [[-1], "badHeader"],
    [[0b1111, 1], "truncated"],
    [[Number.MAX_SAFE_INTEGER], "idOverflow"],
    [[0b1001, 0x80000000], "badValue"],
    [[0b001, 5], "badHeader"],
    [[0b1001, 5, 0b001, 6], "badHeader"],
  ];
  for (const [ints, kind] of kinds) {
    const m = newMirror(3);
    assert.throws(
      () => applySnapshot(m, body(1, 0, ints)),
      (e: unknown) => e instanceof ApplyError && e.kind === kind,
      kind,
    );
    assert.equal(m.valid, false);
    // A broken mirror takes no more deltas, only a full snapshot.
    assert.throws(
      () => applySnapshot(m, body(2, 1, [])),
      (e: unknown) => e instanceof ApplyError && e.kind === "invalidMirror",
    );
    applySnapshot(m, body(3, 0, [(1 << 3) | 1, 5]));
    assert.ok(m.valid);
    assert.deepEqual(rowsOf(m), [[1, 5, 0, 0]]);
  }
});

test("headers wider than 32 bits (large id gaps with 9 fields) still split correctly", () => {
  const m = newMirror(9);
  const id = 0xfffffff0;
  applySnapshot(m, body(1, 0, [id * 2 ** 9 + 1, 7]));
  assert.deepEqual(rowsOf(m), [[id, 7, 0, 0, 0, 0, 0, 0, 0, 0]]);
});
