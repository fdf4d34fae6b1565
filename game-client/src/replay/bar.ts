// The replay's controls along the bottom of the game screen: play/pause, the seek bar, the time, the speed, whose view to follow.

import { SPEEDS } from "./timeline";
import type { ReplayState } from "./mode";

/** Its height (CSS px), kept free of the arena (render.ts `bottomReserve`). */
export const BAR_HEIGHT = 60;

export interface BarActions {
  toggle(): void;
  seek(tick: number): void;
  speed(s: number): void;
  follow(player: number | null): void;
}

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

/** m:ss */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export class ReplayBar {
  private readonly root = $<HTMLElement>("replay-bar");
  private readonly play = $<HTMLButtonElement>("replay-play");
  private readonly seekBar = $<HTMLInputElement>("replay-seek");
  private readonly time = $<HTMLElement>("replay-time");
  private readonly speedSel = $<HTMLSelectElement>("replay-speed");
  private readonly followSel = $<HTMLSelectElement>("replay-follow");
  private dragging = false;
  private playersKey = "";
  private tickRate = 30;

  constructor(actions: BarActions) {
    this.speedSel.replaceChildren(...SPEEDS.map((s) => new Option(`${s}x`, String(s), s === 1, s === 1)));
    this.play.addEventListener("click", (e) => {
      actions.toggle();
      (e.currentTarget as HTMLElement).blur();
    });
    // While dragging the head follows the thumb only when let go: each seek costs a fetch.
    this.seekBar.addEventListener("input", () => (this.dragging = true));
    this.seekBar.addEventListener("change", () => {
      this.dragging = false;
      actions.seek(Number(this.seekBar.value));
    });
    this.speedSel.addEventListener("change", () => actions.speed(Number(this.speedSel.value)));
    this.followSel.addEventListener("change", () => actions.follow(this.followSel.value === "" ? null : Number(this.followSel.value)));
  }

  show(first: number, last: number, tickRate: number): void {
    this.root.hidden = false;
    this.seekBar.min = String(first);
    this.seekBar.max = String(last);
    this.seekBar.value = String(first);
    this.tickRate = Math.max(1, tickRate);
    this.speedSel.value = "1";
    this.playersKey = "";
  }

  hide(): void {
    this.root.hidden = true;
  }

  update(s: ReplayState): void {
    this.play.textContent = s.playing ? "Pause" : "Play";
    this.play.setAttribute("aria-pressed", String(!s.playing));
    if (!this.dragging) this.seekBar.value = String(s.tick);
    const at = (s.tick - s.first) / this.tickRate;
    const all = (s.last - s.first) / this.tickRate;
    this.time.textContent = `${clock(at)} / ${clock(all)}${s.waiting ? " · loading" : ""}`;
    const key = s.players.map((p) => `${p.id}:${p.name}`).join(",") + `|${s.following}`;
    if (key !== this.playersKey) {
      this.playersKey = key;
      const opts = [new Option("Everyone", "", s.following === null, s.following === null)];
      const names = new Map(s.players.map((p) => [p.id, p.name]));
      // One who left is still listed while followed, so the choice does not vanish under the viewer.
      if (s.following !== null && !names.has(s.following)) names.set(s.following, `player ${s.following} (left)`);
      for (const [id, name] of names) opts.push(new Option(name, String(id), id === s.following, id === s.following));
      this.followSel.replaceChildren(...opts);
    }
  }
}
