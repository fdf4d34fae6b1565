// Short-lived visual effects (muzzle flashes, hit sparks, death bursts, respawn rings): their state and lifetime. Pure.

import type { Rgb } from "./palette";

/** `fizzle`: a shot reached the end of its range; `spark`: a shot met a wall or pillar. */
export type EffectKind = "muzzle" | "hit" | "death" | "respawn" | "fizzle" | "spark";

export interface Effect {
  kind: EffectKind;
  x: number;
  y: number;
  /** Direction (radians) for muzzle flashes. */
  angle: number;
  colour: Rgb;
  /** Local time (s) it started, and how long it lasts. */
  born: number;
  life: number;
  /** Seeds the scatter of its particles, so a redraw does not reshuffle them. */
  seed: number;
}

const LIFE: Record<EffectKind, number> = {
  muzzle: 0.09,
  hit: 0.35,
  death: 0.9,
  respawn: 0.5,
  fizzle: 0.3,
  spark: 0.2,
};
const MAX_EFFECTS = 256;

export class Effects {
  private list: Effect[] = [];
  private seed = 1;

  add(kind: EffectKind, x: number, y: number, colour: Rgb, now: number, angle = 0): void {
    this.list.push({ kind, x, y, angle, colour, born: now, life: LIFE[kind], seed: this.seed++ });
    if (this.list.length > MAX_EFFECTS) this.list.shift();
  }

  /** Effects still running at `now`, each with its progress 0..1. */
  active(now: number): Array<{ e: Effect; t: number }> {
    this.list = this.list.filter((e) => now - e.born < e.life);
    return this.list.map((e) => ({ e, t: Math.max(0, (now - e.born) / e.life) }));
  }

  clear(): void {
    this.list = [];
  }
}

/** A deterministic pseudo-random number in 0..1 for (seed, i): particle directions and speeds. */
export function scatter(seed: number, i: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) / 0x100000000;
}
