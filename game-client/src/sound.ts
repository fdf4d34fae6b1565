// Sound effects synthesised with WebAudio (no audio files), and the remembered mute switch.

import type { Cue } from "./cues";

const MUTED_KEY = "tickrelay.muted";

/** Where the mute switch is remembered: localStorage in the page, a stand-in in tests. */
export type MuteStore = Pick<Storage, "getItem" | "setItem">;

/** Whether the player muted the game last time (sound is on unless they said otherwise). */
export function readMuted(store: MuteStore | null): boolean {
  try {
    return store?.getItem(MUTED_KEY) === "1";
  } catch {
    return false; // storage disabled: sound on, as for a first visit
  }
}

export function writeMuted(store: MuteStore | null, muted: boolean): void {
  try {
    store?.setItem(MUTED_KEY, muted ? "1" : "0");
  } catch {
    // Not remembered; the switch still works for this visit.
  }
}

/** A note: an oscillator from `freq` (gliding to `to`) for `dur` seconds, starting `at` seconds from now. */
interface Note {
  type: OscillatorType;
  freq: number;
  to?: number;
  at?: number;
  dur: number;
  gain: number;
}

/** A burst of filtered noise (the body of a hit or a shot). */
interface Noise {
  at?: number;
  dur: number;
  gain: number;
  filter: BiquadFilterType;
  freq: number;
}

/** Each cue as notes and noise: short, and quiet enough to sit under a voice chat. */
const SOUNDS: Record<Cue, { notes: Note[]; noise?: Noise[] }> = {
  shot: {
    notes: [{ type: "square", freq: 880, to: 240, dur: 0.07, gain: 0.05 }],
    noise: [{ dur: 0.04, gain: 0.06, filter: "highpass", freq: 2500 }],
  },
  // A bright double tick: "you got them".
  hitDealt: {
    notes: [
      { type: "sine", freq: 1560, dur: 0.04, gain: 0.16 },
      { type: "sine", freq: 2080, at: 0.035, dur: 0.05, gain: 0.12 },
    ],
  },
  // A low thump: "you got hit" (never confused with the tick above).
  hitTaken: {
    notes: [{ type: "sine", freq: 170, to: 55, dur: 0.16, gain: 0.45 }],
    noise: [{ dur: 0.09, gain: 0.22, filter: "lowpass", freq: 700 }],
  },
  kill: {
    notes: [
      { type: "triangle", freq: 660, dur: 0.09, gain: 0.2 },
      { type: "triangle", freq: 990, at: 0.08, dur: 0.16, gain: 0.2 },
    ],
  },
  death: {
    notes: [{ type: "sawtooth", freq: 440, to: 90, dur: 0.5, gain: 0.09 }],
    noise: [{ dur: 0.3, gain: 0.12, filter: "lowpass", freq: 500 }],
  },
  respawn: { notes: [{ type: "sine", freq: 300, to: 900, dur: 0.25, gain: 0.14 }] },
  // C E G, then a held high C.
  roundOver: {
    notes: [
      { type: "triangle", freq: 523.25, dur: 0.12, gain: 0.2 },
      { type: "triangle", freq: 659.25, at: 0.12, dur: 0.12, gain: 0.2 },
      { type: "triangle", freq: 783.99, at: 0.24, dur: 0.12, gain: 0.2 },
      { type: "triangle", freq: 1046.5, at: 0.36, dur: 0.55, gain: 0.22 },
      { type: "sine", freq: 523.25, at: 0.36, dur: 0.55, gain: 0.1 },
    ],
  },
  beep: { notes: [{ type: "sine", freq: 660, dur: 0.12, gain: 0.22 }] },
  start: { notes: [{ type: "sine", freq: 1320, dur: 0.35, gain: 0.22 }] },
};

/**
 * Plays cues. The AudioContext is made on the first user gesture (browsers keep audio from
 * pages the user has not touched), so cues before that are silently skipped.
 */
export class Sound {
  private ctx: AudioContext | null = null;
  private master: GainNode | null = null;
  private noiseBuf: AudioBuffer | null = null;
  private mutedNow: boolean;

  constructor(private readonly store: MuteStore | null = safeLocalStorage()) {
    this.mutedNow = readMuted(store);
    const unlock = (): void => {
      this.unlock();
      if (this.ctx?.state === "running") for (const t of GESTURES) window.removeEventListener(t, unlock, true);
    };
    for (const t of GESTURES) window.addEventListener(t, unlock, true);
  }

  get muted(): boolean {
    return this.mutedNow;
  }

  /** Mutes or unmutes (at once, even mid-sound), and remembers it for the next visit. */
  setMuted(muted: boolean): void {
    this.mutedNow = muted;
    writeMuted(this.store, muted);
    if (this.master !== null && this.ctx !== null) this.master.gain.setValueAtTime(muted ? 0 : 1, this.ctx.currentTime);
  }

  play(cue: Cue): void {
    const ctx = this.ctx;
    if (ctx === null || this.master === null || this.mutedNow || ctx.state !== "running") return;
    const now = ctx.currentTime;
    const s = SOUNDS[cue];
    for (const n of s.notes) this.note(ctx, this.master, now, n);
    for (const n of s.noise ?? []) this.noise(ctx, this.master, now, n);
  }

  private unlock(): void {
    try {
      if (this.ctx === null) {
        this.ctx = new AudioContext();
        this.master = this.ctx.createGain();
        this.master.gain.value = this.mutedNow ? 0 : 1;
        this.master.connect(this.ctx.destination);
      }
      if (this.ctx.state === "suspended") void this.ctx.resume();
    } catch {
      // No WebAudio here: the game stays silent.
    }
  }

  private note(ctx: AudioContext, out: AudioNode, now: number, n: Note): void {
    const t = now + (n.at ?? 0);
    const osc = ctx.createOscillator();
    osc.type = n.type;
    osc.frequency.setValueAtTime(n.freq, t);
    if (n.to !== undefined) osc.frequency.exponentialRampToValueAtTime(n.to, t + n.dur);
    osc.connect(envelope(ctx, out, t, n.dur, n.gain));
    osc.start(t);
    osc.stop(t + n.dur + 0.02);
  }

  private noise(ctx: AudioContext, out: AudioNode, now: number, n: Noise): void {
    const t = now + (n.at ?? 0);
    this.noiseBuf ??= whiteNoise(ctx);
    const src = ctx.createBufferSource();
    src.buffer = this.noiseBuf;
    const filter = ctx.createBiquadFilter();
    filter.type = n.filter;
    filter.frequency.value = n.freq;
    src.connect(filter).connect(envelope(ctx, out, t, n.dur, n.gain));
    src.start(t);
    src.stop(t + n.dur + 0.02);
  }
}

/** The user gestures that may start audio. */
const GESTURES = ["pointerdown", "keydown", "touchend"];

/** A gain that rises in 5 ms (no click) and decays to silence over `dur`. */
function envelope(ctx: AudioContext, out: AudioNode, t: number, dur: number, gain: number): GainNode {
  const g = ctx.createGain();
  g.gain.setValueAtTime(0.0001, t);
  g.gain.exponentialRampToValueAtTime(gain, t + 0.005);
  g.gain.exponentialRampToValueAtTime(0.0001, t + dur);
  g.connect(out);
  return g;
}

/** Half a second of white noise, made once and reused by every burst. */
function whiteNoise(ctx: AudioContext): AudioBuffer {
  const buf = ctx.createBuffer(1, Math.ceil(ctx.sampleRate * 0.5), ctx.sampleRate);
  const data = buf.getChannelData(0);
  for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
  return buf;
}

function safeLocalStorage(): MuteStore | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
