// The input clock: one input per server tick of real time, whatever the frame rate; after a stall, the ticks it missed (bounded). Pure.

/**
 * Counts ticks of real time so the client samples its controls once per tick, as the server
 * steps. A frame that took several ticks (a busy machine, a hitch) owes several inputs, all sent
 * at once: the server applies each as one step, so nothing the player did is lost or doubled and
 * prediction stays exact. A stall longer than `maxBurst` ticks (a hidden tab) is not made up: the
 * server's input buffer would drop the excess anyway, and the player did nothing meanwhile.
 */
export class InputClock {
  private acc = 0;

  constructor(
    private readonly tickRate: number,
    private readonly maxBurst = 6,
  ) {}

  /** Seconds per tick. */
  get period(): number {
    return 1 / Math.max(1, this.tickRate);
  }

  /** Lets `dt` seconds pass; returns how many inputs are due now (0 when the tick is not up). */
  advance(dt: number): number {
    this.acc += Math.max(0, dt);
    const due = Math.floor(this.acc / this.period);
    this.acc -= due * this.period;
    if (due > this.maxBurst) {
      // Too long to make up: start the clock over from now.
      this.acc = 0;
      return this.maxBurst;
    }
    return due;
  }

  /** How far (0..1) into the current tick we are: where to draw between the last two steps. */
  get alpha(): number {
    return Math.min(1, Math.max(0, this.acc / this.period));
  }

  reset(): void {
    this.acc = 0;
  }
}
