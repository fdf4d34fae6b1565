// What each frame drew, recorded for the browser netcode test (window.__tickrelay.trace/traced). Pure.

import type { ProjectileView, PlayerView } from "./render";
import type { GameSession } from "./session";

/** One frame as drawn. */
export interface TraceFrame {
  t: number;
  /** The movement keys held: dx, dy. */
  held: [number, number];
  /** Our player as drawn, and where prediction has it after the newest input. */
  me: [number, number] | null;
  pos: [number, number];
  /** Prediction corrections so far, and the size of the last one. */
  fixes: number;
  fix: number;
  /** Other players as drawn: [id, x, y]; our predicted shots as drawn: [seq, x, y]. */
  others: Array<[number, number, number]>;
  shots: Array<[number, number, number]>;
  /** The server time the others were drawn at, and how far of it was extrapolated (s). */
  at: number;
  extrap: number;
  /** The newest snapshot's server time, the clock's delay and its guess of the server's now (s). */
  newest: number;
  delay: number;
  serverNow: number;
}

/** A bounded recording, off until started. */
export class FrameTrace {
  private frames: TraceFrame[] | null = null;
  /** About five minutes at 60 fps: a forgotten trace cannot grow without bound. */
  private static readonly MAX = 20_000;

  /** Starts a new recording (dropping any earlier one). */
  start(): void {
    this.frames = [];
  }

  /** What was recorded since `start` (nothing if it never was). */
  recorded(): TraceFrame[] {
    return this.frames ?? [];
  }

  /** Records one frame, if recording. */
  record(s: GameSession, now: number, held: { dx: number; dy: number }, players: PlayerView[], projectiles: ProjectileView[]): void {
    if (this.frames === null || this.frames.length >= FrameTrace.MAX) return;
    const me = players.find((p) => p.me);
    this.frames.push({
      t: now,
      held: [held.dx, held.dy],
      me: me === undefined ? null : [me.x, me.y],
      pos: [s.predictor.pos.x, s.predictor.pos.y],
      fixes: s.predictor.corrections,
      fix: s.predictor.lastCorrection,
      others: players.filter((p) => !p.me).map((p) => [p.id, p.x, p.y]),
      // Our predicted shots are the projectiles with negative ids (-seq).
      shots: projectiles.filter((p) => p.id < 0).map((p) => [-p.id, p.x, p.y]),
      at: s.lastRenderTime,
      extrap: s.extrapolated,
      newest: s.buffer.newest?.time ?? 0,
      delay: s.clock.delay(),
      serverNow: s.clock.serverNow(now),
    });
  }
}
