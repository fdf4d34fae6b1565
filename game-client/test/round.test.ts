// The round read out of a mirror (the round entity's fields as the contract in games.ts lays them out), and its times.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ARENA_FIELD_COUNT, F, KIND_PLAYER, KIND_PROJECTILE, KIND_ROUND } from "../src/games";
import { ROUND_LIVE, ROUND_OVER, formatClock, goalText, nextRoundIn, readRound, secondsUntil, timeLeft } from "../src/round";

/** An arena row with `fields` set (the rest 0). */
function row(fields: Partial<Record<keyof typeof F, number>>, width = ARENA_FIELD_COUNT): Int32Array {
  const r = new Int32Array(width);
  for (const [k, v] of Object.entries(fields)) r[F[k as keyof typeof F]] = v;
  return r;
}

function mirror(rows: Array<[number, Int32Array]>): Map<number, Int32Array> {
  return new Map(rows);
}

const player = (kills: number) => row({ KIND: KIND_PLAYER, KILLS: kills, DEATHS: 2 });

test("no round entity (walkers, an older server): no round", () => {
  assert.equal(readRound(mirror([])), null);
  assert.equal(readRound(mirror([[1, player(3)], [2, row({ KIND: KIND_PROJECTILE })]])), null);
  // Walkers rows have 3 fields: nothing there is a kind.
  assert.equal(readRound(mirror([[1, new Int32Array([10, 20, 5])]])), null);
});

test("a live round: goal and clock; no winner, no next round", () => {
  const m = mirror([
    [1, player(4)],
    [2, row({ KIND: KIND_ROUND, HP: ROUND_LIVE, KILLS: 10, DEATHS: 9000 })],
    [3, player(1)],
  ]);
  assert.deepEqual(readRound(m), { id: 2, over: false, killGoal: 10, endTick: 9000, nextTick: 0, winner: null });
});

test("a live round ignores leftovers in the over-only fields", () => {
  const r = readRound(mirror([[7, row({ KIND: KIND_ROUND, HP: ROUND_LIVE, ACK: 3, RESPAWN_OR_OWNER: 500 })]]));
  assert.equal(r?.winner, null);
  assert.equal(r?.nextTick, 0);
});

test("an over round: the winner's id and the next round's tick", () => {
  const r = readRound(mirror([[2, row({ KIND: KIND_ROUND, HP: ROUND_OVER, KILLS: 1, ACK: 5, RESPAWN_OR_OWNER: 1234 })]]));
  assert.deepEqual(r, { id: 2, over: true, killGoal: 1, endTick: 0, nextTick: 1234, winner: 5 });
});

test("an over round with winner 0 is a draw", () => {
  const r = readRound(mirror([[2, row({ KIND: KIND_ROUND, HP: ROUND_OVER, ACK: 0, RESPAWN_OR_OWNER: 99 })]]));
  assert.equal(r?.over, true);
  assert.equal(r?.winner, null);
});

test("ticks and ids past 2^31 come back as the u32s they are", () => {
  const big = 0x9000_0000;
  const r = readRound(mirror([[2, row({ KIND: KIND_ROUND, HP: ROUND_OVER, ACK: big | 0, DEATHS: big | 0, RESPAWN_OR_OWNER: (big + 5) | 0 })]]));
  assert.equal(r?.winner, big);
  assert.equal(r?.endTick, big);
  assert.equal(r?.nextTick, big + 5);
});

test("no goal and no clock are zeros", () => {
  const r = readRound(mirror([[2, row({ KIND: KIND_ROUND })]]));
  assert.equal(goalText(r), null);
  assert.equal(timeLeft(r, 100, 30), null);
});

test("time left while live, from the server's tick (fractional) and the tick rate", () => {
  const r = readRound(mirror([[2, row({ KIND: KIND_ROUND, KILLS: 10, DEATHS: 3000 })]]));
  assert.equal(timeLeft(r, 2700, 30), 10);
  assert.equal(timeLeft(r, 2985.5, 30), 14.5 / 30);
  assert.equal(timeLeft(r, 3100, 30), 0, "never negative");
  assert.equal(nextRoundIn(r, 2700, 30), null, "no next round while live");
  assert.equal(goalText(r), "First to 10");
});

test("next round in, while over; no clock then", () => {
  const r = readRound(mirror([[2, row({ KIND: KIND_ROUND, HP: ROUND_OVER, DEATHS: 3000, RESPAWN_OR_OWNER: 3090 })]]));
  assert.equal(nextRoundIn(r, 3000, 30), 3);
  assert.equal(nextRoundIn(r, 3089, 30), 1 / 30);
  assert.equal(timeLeft(r, 3000, 30), null, "the clock is not shown once the round is over");
  assert.equal(nextRoundIn(null, 0, 30), null);
});

test("without a goal but with a clock, the most kills win", () => {
  assert.equal(goalText(readRound(mirror([[2, row({ KIND: KIND_ROUND, DEATHS: 3000 })]]))), "Most kills");
});

test("secondsUntil guards a zero tick rate", () => {
  assert.equal(secondsUntil(10, 0, 0), 10);
});

test("the clock in words rounds up to whole seconds", () => {
  assert.equal(formatClock(300), "5:00");
  assert.equal(formatClock(299.2), "5:00");
  assert.equal(formatClock(245), "4:05");
  assert.equal(formatClock(0.01), "0:01");
  assert.equal(formatClock(0), "0:00");
  assert.equal(formatClock(-3), "0:00");
  assert.equal(formatClock(3600), "60:00");
});
