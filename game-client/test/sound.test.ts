// Sounds: which cue an event or a round change calls for, and the remembered mute switch.
import assert from "node:assert/strict";
import { test } from "node:test";
import { countdownCue, eventCues, killCue, roundCue } from "../src/cues";
import { EVENT_HIT, EVENT_KILL, EVENT_RESPAWN, EVENT_ROUND_OVER } from "../src/games";
import { readMuted, writeMuted, type MuteStore } from "../src/sound";

const ev = (kind: number, a: number, b: number) => ({ kind, a, b });

test("events: a hit we dealt and our respawn; hits on others, hits on us and kills are not these cues", () => {
  const me = 4;
  assert.deepEqual(eventCues([ev(EVENT_HIT, me, 7)], me), ["hitDealt"]);
  assert.deepEqual(eventCues([ev(EVENT_HIT, 7, me)], me), [], "a hit on us is the hurt hook's");
  assert.deepEqual(eventCues([ev(EVENT_HIT, 7, 9)], me), []);
  assert.deepEqual(eventCues([ev(EVENT_RESPAWN, me, 0)], me), ["respawn"]);
  assert.deepEqual(eventCues([ev(EVENT_RESPAWN, 7, 0)], me), []);
  assert.deepEqual(eventCues([ev(EVENT_KILL, me, 7), ev(EVENT_ROUND_OVER, me, 900)], me), []);
  assert.deepEqual(eventCues([ev(EVENT_HIT, me, 7)], null), [], "spectators hear no hits of theirs");
});

test("events: two hits in one snapshot are one tick, not a doubled one", () => {
  assert.deepEqual(eventCues([ev(EVENT_HIT, 1, 2), ev(EVENT_HIT, 1, 3), ev(EVENT_RESPAWN, 1, 0)], 1), ["hitDealt", "respawn"]);
});

test("kills: ours, our death (also by our own hand), others' are silent", () => {
  assert.equal(killCue(1, 2, 1), "kill");
  assert.equal(killCue(2, 1, 1), "death");
  assert.equal(killCue(1, 1, 1), "death");
  assert.equal(killCue(2, 3, 1), null);
  assert.equal(killCue(1, 2, null), null);
});

test("round: the fanfare as it ends, the start tone as the next begins, nothing on first sight", () => {
  assert.equal(roundCue(false, true), "roundOver");
  assert.equal(roundCue(true, false), "start");
  assert.equal(roundCue(false, false), null);
  assert.equal(roundCue(null, true), null, "joining between rounds is no fanfare");
  assert.equal(roundCue(true, null), null, "leaving is silent");
});

test("countdown: one beep each as 3, 2 and 1 appear, none before or after", () => {
  // A frame every 1/60 s from 5 s down to 0: the beeps come exactly at 3, 2, 1.
  const beeps: number[] = [];
  let before: number | null = null;
  for (let t = 5; t > -0.05; t -= 1 / 60) {
    if (countdownCue(before, Math.max(0, t)) !== null) beeps.push(Math.ceil(Math.max(0, t)));
    before = Math.max(0, t);
  }
  assert.deepEqual(beeps, [3, 2, 1]);
  assert.equal(countdownCue(null, 2.5), "beep", "a countdown seen first at 3 s left beeps at once");
  assert.equal(countdownCue(null, 4.5), null);
  assert.equal(countdownCue(2.5, null), null);
});

/** A MuteStore in memory (localStorage's shape). */
function memory(): MuteStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

test("mute: off at first, remembered both ways", () => {
  const store = memory();
  assert.equal(readMuted(store), false);
  writeMuted(store, true);
  assert.equal(readMuted(store), true);
  writeMuted(store, false);
  assert.equal(readMuted(store), false);
});

test("mute: no storage, or storage that throws, means sound on and no crash", () => {
  assert.equal(readMuted(null), false);
  writeMuted(null, true);
  const broken: MuteStore = {
    getItem: () => {
      throw new Error("denied");
    },
    setItem: () => {
      throw new Error("denied");
    },
  };
  assert.equal(readMuted(broken), false);
  assert.doesNotThrow(() => writeMuted(broken, true));
});
