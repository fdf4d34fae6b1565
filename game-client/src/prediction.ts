// Own-player prediction: the server's movement rules, pending inputs, reconciliation, smoothing. Pure.

import type { MoveRules } from "./games";

export interface Vec {
  x: number;
  y: number;
}

/**
 * One tick of movement, as the server does it (src/game/arena.rs `step` + `resolve`):
 * pos += normalize(dx, dy) * speed * dt, pushed out of each pillar in order, then clamped to
 * the world minus the radius.
 */
export function moveStep(p: Vec, dx: number, dy: number, r: MoveRules): Vec {
  const len = Math.hypot(dx, dy);
  let x = p.x;
  let y = p.y;
  if (len > 0) {
    x += (dx / len) * r.speed * r.dt;
    y += (dy / len) * r.speed * r.dt;
  }
  for (const [cx, cy, pr] of r.pillars) {
    const ddx = x - cx;
    const ddy = y - cy;
    const min = pr + r.radius;
    const d2 = ddx * ddx + ddy * ddy;
    if (d2 < min * min) {
      const d = Math.sqrt(d2);
      // At the exact centre the server pushes along +x (glam's try_normalize fails, unwrap_or(X)).
      const nx = d > 0 ? ddx / d : 1;
      const ny = d > 0 ? ddy / d : 0;
      x = cx + nx * min;
      y = cy + ny * min;
    }
  }
  x = Math.min(Math.max(x, r.radius), r.worldW - r.radius);
  y = Math.min(Math.max(y, r.radius), r.worldH - r.radius);
  return { x, y };
}

/** An input sent but not yet acknowledged, with where it left our prediction. */
interface Pending {
  seq: number;
  dx: number;
  dy: number;
  x: number;
  y: number;
}

export interface PredictorOptions {
  /** A server position this close (units) to what we predicted for the same input needs no correction. */
  tolerance: number;
  /** A correction larger than this (a respawn, a teleport) is applied at once, not smoothed. */
  snapDistance: number;
  /** Time constant (s) with which a small correction is blended away. */
  smoothing: number;
  /** Most inputs kept unacknowledged; older ones are dropped (the server has long moved on). */
  maxPending: number;
}

const DEFAULTS: PredictorOptions = {
  // Snapshots carry positions in 1/16 unit: up to 1/32 off per axis, plus f32 versus f64 rounding.
  tolerance: 0.1,
  snapDistance: 96,
  smoothing: 0.1,
  maxPending: 240,
};

/**
 * Predicts our own player: each input moves it at once; each snapshot's ack drops the inputs the
 * server has applied and, if the server's position disagrees with what we predicted for that
 * input, rebases on the server position and replays the inputs it has not applied yet. The jump
 * that causes is kept as a visual offset that decays, so the player never snaps on a steady link.
 */
export class Predictor {
  readonly opts: PredictorOptions;
  /** Predicted position after the newest input. */
  pos: Vec = { x: 0, y: 0 };
  /** Predicted position before the newest input (rendering blends between the two). */
  prev: Vec = { x: 0, y: 0 };
  /** Visual offset still to blend away after a correction. */
  err: Vec = { x: 0, y: 0 };
  /** Size (units) of the last correction, and how many happened, for the debug overlay. */
  lastCorrection = 0;
  corrections = 0;
  private pending: Pending[] = [];
  /** The newest acknowledged input and where the server had us after it. */
  private base: Pending = { seq: 0, dx: 0, dy: 0, x: 0, y: 0 };

  constructor(
    private rules: MoveRules,
    opts: Partial<PredictorOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  setRules(rules: MoveRules): void {
    this.rules = rules;
  }

  /** Starts over at a server position (joined, resynced): nothing pending, nothing to smooth. */
  reset(at: Vec, ack: number): void {
    this.pos = { ...at };
    this.prev = { ...at };
    this.err = { x: 0, y: 0 };
    this.pending = [];
    this.base = { seq: ack, dx: 0, dy: 0, x: at.x, y: at.y };
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Applies one input we are sending now. `canMove` is false while we are dead. */
  apply(seq: number, dx: number, dy: number, canMove: boolean): void {
    this.prev = this.pos;
    if (canMove) this.pos = moveStep(this.pos, dx, dy, this.rules);
    this.pending.push({ seq, dx, dy, x: this.pos.x, y: this.pos.y });
    if (this.pending.length > this.opts.maxPending) this.pending.shift();
  }

  /**
   * Takes the server's view of us: its position after applying input `ack`.
   * Returns the size of the correction made (0 when the prediction held).
   */
  reconcile(server: Vec, ack: number, canMove: boolean): number {
    while (this.pending.length > 0 && this.pending[0].seq <= ack) {
      this.base = this.pending.shift()!;
    }
    if (this.base.seq === ack && near(this.base, server, this.opts.tolerance)) return 0;
    // The server disagrees: start from its position and replay what it has not applied yet.
    this.base = { seq: ack, dx: 0, dy: 0, x: server.x, y: server.y };
    let p: Vec = { ...server };
    for (const q of this.pending) {
      if (canMove) p = moveStep(p, q.dx, q.dy, this.rules);
      q.x = p.x;
      q.y = p.y;
    }
    const shiftX = p.x - this.pos.x;
    const shiftY = p.y - this.pos.y;
    this.pos = p;
    this.prev = { x: this.prev.x + shiftX, y: this.prev.y + shiftY };
    // Keep what is on screen where it was; the offset then decays.
    this.err = { x: this.err.x - shiftX, y: this.err.y - shiftY };
    const size = Math.hypot(shiftX, shiftY);
    if (size > this.opts.snapDistance || Math.hypot(this.err.x, this.err.y) > this.opts.snapDistance) {
      this.err = { x: 0, y: 0 };
    }
    this.lastCorrection = size;
    this.corrections++;
    return size;
  }

  /** Lets `dt` seconds of the correction offset decay. */
  decay(dt: number): void {
    const k = Math.exp(-Math.max(0, dt) / this.opts.smoothing);
    this.err = { x: this.err.x * k, y: this.err.y * k };
    if (Math.abs(this.err.x) < 0.01 && Math.abs(this.err.y) < 0.01) this.err = { x: 0, y: 0 };
  }

  /** Where to draw us: `alpha` (0..1) of the way through the newest input's tick, plus the offset. */
  renderPos(alpha: number): Vec {
    const a = Math.min(1, Math.max(0, alpha));
    return {
      x: this.prev.x + (this.pos.x - this.prev.x) * a + this.err.x,
      y: this.prev.y + (this.pos.y - this.prev.y) * a + this.err.y,
    };
  }
}

function near(a: Vec, b: Vec, tol: number): boolean {
  return Math.abs(a.x - b.x) <= tol && Math.abs(a.y - b.y) <= tol;
}
