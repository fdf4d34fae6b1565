// Interpolation of other entities: a buffer of timestamped snapshots sampled at render time, and the clock that picks that time. Pure.

/** One received world state, stamped with its server time (tick / tick_rate, in seconds). */
export interface Frame {
  time: number;
  tick: number;
  entities: Map<number, Int32Array>;
}

/** How to blend each field: linearly (positions), as an angle in `angleSteps` per turn, or not at all. */
export interface BlendSpec {
  lerpFields: number[];
  angleFields: number[];
  angleSteps: number;
  /** Whether an entity may be extrapolated past the newest frame (others hold there). */
  extrapolates?: (row: Int32Array) => boolean;
  /**
   * Keeps an extrapolated entity where the game allows it: `from` is its row in the newest frame,
   * `to` the extrapolated row, to be corrected in place (a shot stopped where it meets a wall, a
   * player kept out of a pillar); `frame` is the newest frame's rows. Only extrapolation guesses;
   * interpolated positions lie between two the server sent, so they are left alone.
   */
  constrain?: (id: number, from: Int32Array, to: Float64Array, frame: ReadonlyMap<number, Int32Array>) => void;
}

export interface Sample {
  /** Field values (still quantized units, now fractional) of the entities visible at that time. */
  entities: Map<number, Float64Array>;
  /** Server time that was sampled, after clamping and the extrapolation limit. */
  time: number;
  /** Seconds beyond the newest frame we extrapolated (0 when interpolating). */
  extrapolated: number;
}

/** Lerp along the shorter way round for an angle in 0..steps. */
export function lerpAngle(a: number, b: number, t: number, steps: number): number {
  let d = (b - a) % steps;
  if (d > steps / 2) d -= steps;
  if (d < -steps / 2) d += steps;
  const v = a + d * t;
  return ((v % steps) + steps) % steps;
}

/** Snapshots kept in time order, a couple of seconds' worth. */
export class InterpBuffer {
  private frames: Frame[] = [];

  constructor(private readonly keepSeconds = 2) {}

  get length(): number {
    return this.frames.length;
  }

  get newest(): Frame | undefined {
    return this.frames[this.frames.length - 1];
  }

  clear(): void {
    this.frames = [];
  }

  /** Adds a frame. One older than the newest (never expected) is dropped; a repeat replaces it. */
  push(frame: Frame): void {
    const last = this.newest;
    if (last !== undefined && frame.time < last.time) return;
    if (last !== undefined && frame.time === last.time) this.frames.pop();
    this.frames.push(frame);
    const cutoff = frame.time - this.keepSeconds;
    // Keep at least two frames so there is always something to interpolate between.
    while (this.frames.length > 2 && this.frames[1].time < cutoff) this.frames.shift();
  }

  /**
   * The world at server time `t`: blended between the two frames around it; clamped to the
   * oldest frame before the buffer starts; extrapolated from the last two frames past the
   * newest, but by at most `maxExtrapolation` seconds (then it holds still).
   */
  sample(t: number, spec: BlendSpec, maxExtrapolation: number): Sample {
    const n = this.frames.length;
    if (n === 0) return { entities: new Map(), time: t, extrapolated: 0 };
    const first = this.frames[0];
    if (t <= first.time || n === 1) {
      const f = t <= first.time ? first : this.frames[n - 1];
      return { entities: copyFrame(f), time: f.time, extrapolated: 0 };
    }
    const last = this.frames[n - 1];
    if (t >= last.time) return this.extrapolate(t, spec, maxExtrapolation);
    // Frames are few (a couple of seconds' worth): a backward scan finds the pair quickly.
    let i = n - 2;
    while (i > 0 && this.frames[i].time > t) i--;
    const a = this.frames[i];
    const b = this.frames[i + 1];
    const k = (t - a.time) / (b.time - a.time);
    const out = new Map<number, Float64Array>();
    for (const [id, fa] of a.entities) {
      const fb = b.entities.get(id);
      const v = Float64Array.from(fa);
      if (fb !== undefined) {
        for (const f of spec.lerpFields) v[f] = fa[f] + (fb[f] - fa[f]) * k;
        for (const f of spec.angleFields) v[f] = lerpAngle(fa[f], fb[f], k, spec.angleSteps);
      }
      // Gone by b: still shown where a had it until b's time. New in b: shown once b is reached.
      out.set(id, v);
    }
    return { entities: out, time: t, extrapolated: 0 };
  }

  private extrapolate(t: number, spec: BlendSpec, maxExtrapolation: number): Sample {
    const n = this.frames.length;
    const a = this.frames[n - 2];
    const b = this.frames[n - 1];
    const ahead = Math.min(t - b.time, Math.max(0, maxExtrapolation));
    const span = b.time - a.time;
    const out = new Map<number, Float64Array>();
    for (const [id, fb] of b.entities) {
      const v = Float64Array.from(fb);
      const fa = a.entities.get(id);
      if (fa !== undefined && span > 0 && ahead > 0 && (spec.extrapolates?.(fb) ?? true)) {
        for (const f of spec.lerpFields) v[f] = fb[f] + ((fb[f] - fa[f]) / span) * ahead;
        spec.constrain?.(id, fb, v, b.entities);
      }
      out.set(id, v);
    }
    return { entities: out, time: b.time + ahead, extrapolated: ahead };
  }
}

function copyFrame(f: Frame): Map<number, Float64Array> {
  const out = new Map<number, Float64Array>();
  for (const [id, v] of f.entities) out.set(id, Float64Array.from(v));
  return out;
}

export interface ClockOptions {
  /** Never draw less than this far (s) in the past. */
  minDelay: number;
  /** Draw at least this many snapshot intervals in the past (so a late one rarely starves us). */
  intervals: number;
  /** Never more than this far in the past. */
  maxDelay: number;
  /** How many recent snapshots the interval estimate looks at. */
  window: number;
  /**
   * How many recent snapshots the estimate of "now" (and the jitter) looks at. Short, because the
   * server's time is its tick count: a server that falls behind and skips ticks moves its time
   * back against ours for good, and "now" must follow within a second, not keep an old minimum.
   */
  lagWindow: number;
}

const CLOCK_DEFAULTS: ClockOptions = { minDelay: 0.1, intervals: 2, maxDelay: 0.5, window: 90, lagWindow: 30 };

/**
 * Picks the server time to draw at. It tracks the offset between our clock and the server's tick
 * times (the least delayed recent snapshot marks "now"), the snapshot interval and the arrival
 * jitter, and draws `delay` behind "now": about 100 ms, more when snapshots come slowly or unevenly.
 * The render time moves smoothly: it follows the local clock and drifts toward its target.
 */
export class InterpClock {
  readonly opts: ClockOptions;
  private lags: number[] = [];
  private intervals: number[] = [];
  private lastServer: number | undefined;
  private current: number | undefined;
  private lastLocal: number | undefined;

  constructor(opts: Partial<ClockOptions> = {}) {
    this.opts = { ...CLOCK_DEFAULTS, ...opts };
  }

  reset(): void {
    this.lags = [];
    this.intervals = [];
    this.lastServer = undefined;
    this.current = undefined;
    this.lastLocal = undefined;
  }

  /** A snapshot for server time `server` arrived at local time `local` (both seconds). */
  onSnapshot(server: number, local: number): void {
    if (this.lastServer !== undefined && server > this.lastServer) {
      push(this.intervals, server - this.lastServer, this.opts.window);
    }
    this.lastServer = server;
    push(this.lags, local - server, this.opts.lagWindow);
  }

  /** Seconds between snapshots (median of recent ones; 1/30 s before we know). */
  interval(): number {
    return this.intervals.length === 0 ? 1 / 30 : median(this.intervals);
  }

  /** How unevenly snapshots arrive: the spread of their delays above the least delayed one. */
  jitter(): number {
    if (this.lags.length < 2) return 0;
    const lo = Math.min(...this.lags);
    const spread = this.lags.map((l) => l - lo).sort((x, y) => x - y);
    return spread[Math.floor(spread.length * 0.9)];
  }

  /** The target interpolation delay in seconds. */
  delay(): number {
    const want = Math.max(this.opts.minDelay, this.interval() * this.opts.intervals + this.jitter());
    return Math.min(this.opts.maxDelay, want);
  }

  /** Our best guess of the server's time now, from local time `local`. */
  serverNow(local: number): number {
    return this.lags.length === 0 ? 0 : local - Math.min(...this.lags);
  }

  /** The server time to draw at local time `local`; call once per frame. */
  renderTime(local: number): number {
    const target = this.serverNow(local) - this.delay();
    const cur = this.current;
    const dt = this.lastLocal === undefined ? 0 : Math.max(0, local - this.lastLocal);
    this.lastLocal = local;
    if (cur === undefined || target - cur > 0.25) {
      // Far behind (a long hitch): jump ahead.
      this.current = target;
    } else if (cur - target > 1) {
      // Far ahead: the server's time fell back (it skipped a long stall's ticks). Hold until it
      // catches up, never going back: others stay where the newest snapshot has them meanwhile.
      this.current = cur;
    } else {
      // Follow the local clock, and close the gap to the target over about half a second, but
      // never faster than 1.5x or slower than 0.5x real time: the picture speeds up or slows
      // down, it never steps back (a frame that took long must not pull the others backward).
      const next = cur + dt;
      const want = next + (target - next) * Math.min(1, dt * 2);
      this.current = Math.min(Math.max(want, cur + dt * 0.5), cur + dt * 1.5);
    }
    return this.current;
  }
}

function push(a: number[], v: number, max: number): void {
  a.push(v);
  if (a.length > max) a.shift();
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}
