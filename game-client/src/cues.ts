// Which sound a game event or a change of the round calls for (sound.ts plays them). Pure.

import { EVENT_HIT, EVENT_RESPAWN } from "./games";
import type { GameEvent } from "./protocol";

export type Cue =
  | "shot" // we fired
  | "hitDealt" // our shot hit someone
  | "hitTaken" // we were hit
  | "kill" // we eliminated someone
  | "death" // we were eliminated
  | "respawn" // we are back
  | "roundOver" // a short fanfare
  | "beep" // 3, 2, 1 before the next round
  | "start"; // the next round is on

/**
 * The cues in a snapshot's events that the session's hooks cannot tell apart: a hit we dealt
 * (the effect hook shows every hit alike) and our own respawn. Our kills and deaths come from the
 * kill hook, hits on us from the hurt hook, our shots from the muzzle flash at input time.
 */
export function eventCues(events: readonly GameEvent[], you: number | null): Cue[] {
  if (you === null) return [];
  const out: Cue[] = [];
  for (const ev of events) {
    if (ev.kind === EVENT_HIT && ev.a === you && ev.b !== you) out.push("hitDealt");
    else if (ev.kind === EVENT_RESPAWN && ev.a === you) out.push("respawn");
  }
  // Several hits in one snapshot (a 60 Hz tick sent at 30 Hz) would stack into one loud click.
  return out.filter((c, i) => out.indexOf(c) === i);
}

/** Our kill or our death, from the kill hook's (killer, victim); null when neither was us. */
export function killCue(killer: number, victim: number, you: number | null): Cue | null {
  if (you === null) return null;
  if (victim === you) return "death";
  return killer === you ? "kill" : null;
}

/**
 * The round's phase changing: live to over is the fanfare, over to live the start tone. Nothing
 * for the first look (`was` null: we just joined, mid-round or between rounds).
 */
export function roundCue(was: boolean | null, over: boolean | null): Cue | null {
  if (was === null || over === null || was === over) return null;
  return over ? "roundOver" : "start";
}

/**
 * A beep as the next round's countdown shows 3, 2 and 1: when the whole seconds left (rounded up)
 * drop from `before` to `now` and `now` is 1..3. `before` null (the countdown just appeared) beeps
 * only if it appears inside the last three seconds.
 */
export function countdownCue(before: number | null, now: number | null): Cue | null {
  if (now === null) return null;
  const n = Math.ceil(now);
  if (n < 1 || n > 3) return null;
  if (before !== null && Math.ceil(before) <= n) return null;
  return "beep";
}
