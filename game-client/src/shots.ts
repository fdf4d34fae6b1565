// Our own shots, predicted: fired at the barrel the moment we fire, flown tick by tick as the server flies them, ended where the server will end them. Pure.

import { shotStop, type MoveRules } from "./games";

export interface ShotRules {
  move: MoveRules;
  /** Units per second. */
  speed: number;
  /** Ticks a shot flies before it fizzles. */
  lifeTicks: number;
  /** From the player's centre to where a shot appears. */
  muzzle: number;
  /** A shot meets a player within this of its centre. */
  hitRadius: number;
}

/** Why a predicted shot ended (what to show there). */
export type ShotEnd = "fizzle" | "wall" | "hit" | "lost";

interface Shot {
  seq: number;
  angle: number;
  /** Where it appeared (the muzzle after the firing step) and its velocity per tick. */
  x0: number;
  y0: number;
  vx: number;
  vy: number;
  /** Segments flown: during the next tick it travels segment `flown`. */
  flown: number;
  /** Where along the current segment (0..1) it stops, if it stops there. */
  stopAt: number | null;
  end: ShotEnd | null;
  /** Drawn offset still to blend away (it first appears at the drawn barrel). */
  offX: number;
  offY: number;
  drawn: boolean;
  /** Local time it was fired; the server has said it exists. */
  born: number;
  confirmed: boolean;
}

export interface ShotView {
  seq: number;
  x: number;
  y: number;
  angle: number;
}

export interface ShotEnded {
  seq: number;
  x: number;
  y: number;
  angle: number;
  why: ShotEnd;
}

/** How long (s) a drawn shot takes to settle from the barrel onto its exact path. */
const SETTLE = 0.05;
/** A predicted shot the server has not shown us this long after firing never happened. */
const UNCONFIRMED_AFTER = 1.0;
/** Ended shots are remembered this long, so the server's copy of them stays hidden. */
const REMEMBER = 3;

/**
 * The shots we fired, in the present like our own player. The server judges a shot against the
 * players as its shooter saw them (lag compensation), so a shot is ended here where it meets a
 * player as drawn at the moment each segment starts, which is what the server will check.
 */
export class OwnShots {
  private live: Shot[] = [];
  /** seq -> local time it ended, for hiding the server's copy. */
  private ended = new Map<number, number>();

  constructor(private readonly rules: ShotRules) {}

  get count(): number {
    return this.live.length;
  }

  /** Is `seq` one of ours, predicted (flying or recently ended)? */
  owns(seq: number): boolean {
    return this.ended.has(seq) || this.live.some((s) => s.seq === seq);
  }

  /**
   * Fires a shot from a player at `at` (its position after the firing step) toward `angle`: it
   * appears at the barrel, and its first segment, flown during the coming tick, is checked now
   * against `targets` (other live players as drawn now: [x, y]).
   */
  fire(
    seq: number,
    at: { x: number; y: number },
    angle: number,
    targets: ReadonlyArray<readonly [number, number]>,
    now: number,
  ): void {
    const cx = Math.cos(angle);
    const cy = Math.sin(angle);
    const v = this.rules.speed * this.rules.move.dt;
    const s: Shot = {
      seq,
      angle,
      x0: at.x + cx * this.rules.muzzle,
      y0: at.y + cy * this.rules.muzzle,
      vx: cx * v,
      vy: cy * v,
      flown: 0,
      stopAt: null,
      end: null,
      offX: 0,
      offY: 0,
      drawn: false,
      born: now,
      confirmed: false,
    };
    this.check(s, targets);
    this.live.push(s);
  }

  /**
   * A tick passes (called once per input we send, before any shot that input fires): each shot
   * has flown its segment; one that stopped on it ends, the others start the next, checked
   * against `targets` as drawn now. Returns the shots that ended.
   */
  tick(targets: ReadonlyArray<readonly [number, number]>, now: number): ShotEnded[] {
    const out: ShotEnded[] = [];
    const keep: Shot[] = [];
    for (const s of this.live) {
      if (s.stopAt !== null) {
        out.push(this.finish(s, now));
        continue;
      }
      s.flown++;
      this.check(s, targets);
      keep.push(s);
    }
    this.live = keep;
    return out;
  }

  /** Checks the segment a shot travels during the coming tick: where, if anywhere, it stops. */
  private check(s: Shot, targets: ReadonlyArray<readonly [number, number]>): void {
    const r = this.rules;
    if (s.flown >= r.lifeTicks) {
      s.stopAt = 0;
      s.end = "fizzle";
      return;
    }
    const from = { x: s.x0 + s.vx * s.flown, y: s.y0 + s.vy * s.flown };
    const to = { x: from.x + s.vx, y: from.y + s.vy };
    const walls = shotStop(from, to, r.move.worldW, r.move.worldH, r.move.pillars);
    const players = shotStop(from, to, Infinity, Infinity, targets.map(([x, y]) => [x, y, r.hitRadius] as const));
    const len = Math.hypot(s.vx, s.vy) || 1;
    const tWall = Math.hypot(walls.x - from.x, walls.y - from.y) / len;
    const tHit = Math.hypot(players.x - from.x, players.y - from.y) / len;
    if (tHit < 1 && tHit <= tWall) {
      s.stopAt = tHit;
      s.end = "hit";
    } else if (tWall < 1) {
      s.stopAt = tWall;
      s.end = "wall";
    }
  }

  private finish(s: Shot, now: number): ShotEnded {
    const t = s.flown + (s.stopAt ?? 0);
    this.ended.set(s.seq, now);
    return { seq: s.seq, x: s.x0 + s.vx * t, y: s.y0 + s.vy * t, angle: s.angle, why: s.end ?? "fizzle" };
  }

  /**
   * Where to draw each shot: `alpha` (0..1) of the way through the current tick, on the same clock
   * as our own player. A shot drawn for the first time starts at `barrel(angle)` (the barrel of our
   * player as drawn) and settles onto its path within a few frames.
   */
  view(alpha: number, now: number, barrel: (angle: number) => { x: number; y: number }): ShotView[] {
    const out: ShotView[] = [];
    for (const s of this.live) {
      const t = s.flown + Math.min(alpha, s.stopAt ?? 1);
      let x = s.x0 + s.vx * t;
      let y = s.y0 + s.vy * t;
      if (!s.drawn) {
        s.drawn = true;
        const b = barrel(s.angle);
        s.offX = b.x - x;
        s.offY = b.y - y;
      }
      const k = Math.exp(-(now - s.born) / SETTLE);
      x += s.offX * k;
      y += s.offY * k;
      out.push({ seq: s.seq, x, y, angle: s.angle });
    }
    return out;
  }

  /**
   * What the server has shown of our shots: the seqs of our projectiles in its latest snapshot.
   * A shot it shows is confirmed; one it never showed is dropped after a while (we thought we
   * fired, the server did not: we were dead, or the round ended); one it has removed while we
   * still fly it (it hit something we could not know of) ends now. Returns the shots that ended.
   */
  confirm(server: ReadonlySet<number>, now: number): ShotEnded[] {
    const out: ShotEnded[] = [];
    const keep: Shot[] = [];
    for (const s of this.live) {
      if (server.has(s.seq)) {
        s.confirmed = true;
        keep.push(s);
      } else if (s.confirmed) {
        out.push(this.finish({ ...s, end: "hit", stopAt: 0 }, now));
      } else if (now - s.born > UNCONFIRMED_AFTER) {
        out.push(this.finish({ ...s, end: "lost", stopAt: 0 }, now));
      } else {
        keep.push(s);
      }
    }
    this.live = keep;
    for (const [seq, at] of this.ended) {
      if (now - at > REMEMBER) this.ended.delete(seq);
    }
    return out;
  }

  clear(): void {
    this.live = [];
    this.ended.clear();
  }
}
