// The arena's round (goal, clock, winner, next round) read out of the entity mirror, and its times in words. Pure.

import { F, KIND_ROUND } from "./games";

/** The round entity's phase field (F.HP). */
export const ROUND_LIVE = 0;
export const ROUND_OVER = 1;

export interface RoundState {
  /** The round entity's id. */
  id: number;
  over: boolean;
  /** First to this many eliminations wins; 0: no goal. */
  killGoal: number;
  /** The tick the round's clock runs out; 0: no clock. */
  endTick: number;
  /** While over: the tick the next round starts; 0 while live (or no next round announced). */
  nextTick: number;
  /** While over: the winner's player id; null for a draw (and while live). */
  winner: number | null;
}

/**
 * The round as the newest snapshot has it: the one entity of kind KIND_ROUND (fields by the
 * contract in games.ts), or null when there is none (walkers, or a server without rounds).
 * Ticks and ids travel as wrapping int32s; they are read back as the u32s they are.
 */
export function readRound(entities: ReadonlyMap<number, Int32Array>): RoundState | null {
  for (const [id, v] of entities) {
    if (v.length <= F.KIND || v[F.KIND] !== KIND_ROUND) continue;
    const over = v[F.HP] === ROUND_OVER;
    const winner = v[F.ACK] >>> 0;
    return {
      id,
      over,
      killGoal: Math.max(0, v[F.KILLS]),
      endTick: v[F.DEATHS] >>> 0,
      nextTick: over ? v[F.RESPAWN_OR_OWNER] >>> 0 : 0,
      winner: over && winner !== 0 ? winner : null,
    };
  }
  return null;
}

/** Seconds from server tick `now` (fractional) until `tick`, never below 0. */
export function secondsUntil(tick: number, now: number, tickRate: number): number {
  return Math.max(0, (tick - now) / Math.max(1, tickRate));
}

/** While live with a clock: the seconds left. Null when over or without a clock. */
export function timeLeft(r: RoundState | null, now: number, tickRate: number): number | null {
  if (r === null || r.over || r.endTick === 0) return null;
  return secondsUntil(r.endTick, now, tickRate);
}

/** While over with a next round announced: the seconds until it starts. */
export function nextRoundIn(r: RoundState | null, now: number, tickRate: number): number | null {
  if (r === null || !r.over || r.nextTick === 0) return null;
  return secondsUntil(r.nextTick, now, tickRate);
}

/** "4:05" for 245 s (whole seconds rounded up, so 0:00 shows only when the time is up). */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds - 1e-9));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, "0")}`;
}

/** The goal in words for the HUD: "First to 10"; "Most kills" when only the clock ends a round; else null. */
export function goalText(r: RoundState | null): string | null {
  if (r === null) return null;
  if (r.killGoal > 0) return `First to ${r.killGoal}`;
  return r.endTick !== 0 ? "Most kills" : null;
}
