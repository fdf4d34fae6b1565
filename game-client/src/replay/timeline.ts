// Replay playback's clock and its queue of fetched frames: where the play head is, how fast it moves, what to fetch next. Pure.

import type { SnapshotBody } from "../protocol";

/** The speeds the player offers, slowest first. */
export const SPEEDS = [0.25, 0.5, 1, 2, 4] as const;
/** Fetch the next frames when fewer than this many seconds of match are buffered ahead. */
export const PREFETCH_SECONDS = 3;

/** The play head, in ticks (fractional: it is drawn between two frames), from `first` to `last`. */
export class Timeline {
  position: number;
  playing = true;
  speed = 1;
  /** The head stopped because it reached the end, not because the viewer paused: a seek back plays on. */
  private stoppedAtEnd = false;

  constructor(
    readonly first: number,
    readonly last: number,
    readonly tickRate: number,
  ) {
    this.position = first;
  }

  get ended(): boolean {
    return this.position >= this.last;
  }

  /** Moves the head by `dt` seconds of real time (at the speed, while playing); it stops at the end. */
  advance(dt: number): void {
    if (!this.playing) return;
    this.position = Math.min(this.last, this.position + dt * this.speed * this.tickRate);
    if (this.ended) {
      this.playing = false;
      this.stoppedAtEnd = true;
    }
  }

  /** Plays, or pauses; playing at the end starts again from the start. */
  toggle(): void {
    if (!this.playing && this.ended) this.position = this.first;
    this.playing = !this.playing;
    this.stoppedAtEnd = false;
  }

  /** One of `SPEEDS` (anything else is taken to the nearest). */
  setSpeed(s: number): void {
    this.speed = SPEEDS.reduce((best, v) => (Math.abs(v - s) < Math.abs(best - s) ? v : best), 1);
  }

  /**
   * Moves the head to `tick` (kept within the match); the whole tick it landed on. A head that had
   * stopped at the end plays on from there, as it was playing; a paused one stays paused.
   */
  seek(tick: number): number {
    this.position = Math.round(Math.min(this.last, Math.max(this.first, tick)));
    if (this.stoppedAtEnd && !this.ended) {
      this.playing = true;
      this.stoppedAtEnd = false;
    }
    return this.position;
  }

  /** Seconds from the start to the head. */
  get seconds(): number {
    return (this.position - this.first) / this.tickRate;
  }
}

/**
 * Frames fetched ahead of the head, in tick order, until the session takes them. Every seek starts
 * a new generation: frames of an older one that arrive late are dropped.
 */
export class FrameQueue {
  private frames: SnapshotBody[] = [];
  private next: number;
  private generation = 0;
  private inFlight = false;

  constructor(
    from: number,
    private readonly last: number,
  ) {
    this.next = from;
  }

  /** Forgets everything fetched and fetches from `from` next; returns the new generation. */
  reset(from: number): number {
    this.frames = [];
    this.next = from;
    this.inFlight = false;
    return ++this.generation;
  }

  get buffered(): number {
    return this.frames.length;
  }

  /**
   * The tick to fetch from now, if any (then it counts as asked until `add` or `failed`): when
   * less than `ahead` ticks are queued past `head` and the match goes on.
   */
  want(head: number, ahead: number): { from: number; generation: number } | null {
    if (this.inFlight || this.next > this.last) return null;
    const end = this.frames.length > 0 ? this.frames[this.frames.length - 1].tick : this.next - 1;
    if (end - head >= ahead) return null;
    this.inFlight = true;
    return { from: this.next, generation: this.generation };
  }

  /** Frames fetched for `generation`: false if a seek made them stale. An empty batch ends the match. */
  add(generation: number, bodies: SnapshotBody[]): boolean {
    if (generation !== this.generation) return false;
    this.inFlight = false;
    if (bodies.length === 0) {
      this.next = this.last + 1;
      return true;
    }
    this.frames.push(...bodies);
    this.next = bodies[bodies.length - 1].tick + 1;
    return true;
  }

  /** A fetch for `generation` failed: it may be asked again. */
  failed(generation: number): void {
    if (generation === this.generation) this.inFlight = false;
  }

  /** The queued frames up to tick `upTo`, in order, taken off the queue. */
  take(upTo: number): SnapshotBody[] {
    let n = 0;
    while (n < this.frames.length && this.frames[n].tick <= upTo) n++;
    return this.frames.splice(0, n);
  }
}
