// Round-trip time from Ping/Pong samples: the lowest of the recent ones.
//
// In a lobby the server answers a Ping at its next tick (PROTOCOL.md section 3), so one sample is
// the network's round trip plus up to a tick of waiting. The lowest of a few recent samples is the
// network's; the mean shows how much waiting there was.

/** Samples remembered (with one Ping a second: the last eight seconds). */
export const RTT_WINDOW = 8;

export class RttEstimate {
  private samples: number[] = [];

  /** A Ping answered after `ms`. */
  add(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.samples.push(ms);
    if (this.samples.length > RTT_WINDOW) this.samples.shift();
  }

  /** The network's round trip: the lowest recent sample (0 before any). */
  get network(): number {
    return this.samples.length === 0 ? 0 : Math.min(...this.samples);
  }

  /** The mean of the recent samples, waiting included (0 before any). */
  get mean(): number {
    if (this.samples.length === 0) return 0;
    return this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
  }

  clear(): void {
    this.samples = [];
  }
}
