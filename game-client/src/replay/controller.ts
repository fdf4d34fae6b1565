// The game page's replay viewer: opens `#replay/ID`, runs the mode and its controls, and goes back to the lobby screen.

import type { Hud } from "../hud";
import type { Renderer } from "../render";
import type { GameSession, SessionHooks } from "../session";
import { ReplayBar, BAR_HEIGHT } from "./bar";
import { ReplayMode, type ReplayState } from "./mode";

/** What the viewer needs of the page around it. */
export interface ReplayPage {
  hud: Hud;
  renderer: Renderer;
  hooks: SessionHooks;
  /** Back to the lobby screen, with a message if something went wrong. */
  exit(message: string | null): void;
  /** The game screen is ours now (the lobby screen hides, effects and sounds start fresh). */
  enter(): void;
}

export class ReplayController {
  private mode: ReplayMode | null = null;
  private readonly bar: ReplayBar;

  constructor(private readonly page: ReplayPage) {
    this.bar = new ReplayBar({
      toggle: () => this.mode?.toggle(),
      seek: (tick) => this.mode?.seek(tick),
      speed: (s) => this.mode?.setSpeed(s),
      follow: (p) => this.mode?.follow(p),
    });
  }

  get active(): boolean {
    return this.mode !== null;
  }

  get session(): GameSession | null {
    return this.mode?.session ?? null;
  }

  /** Plays replay `id` (another one playing stops). */
  async open(id: string): Promise<void> {
    this.mode?.stop();
    const mode = new ReplayMode(id, this.page.hooks, (msg) => this.page.hud.toast(msg, true));
    this.mode = mode;
    let info;
    try {
      info = await mode.start();
    } catch (e) {
      if (this.mode === mode) this.close(`Could not open replay ${id}: ${(e as Error).message}`);
      return;
    }
    if (this.mode !== mode) return; // another opened meanwhile
    const { hud, renderer } = this.page;
    this.page.enter();
    hud.enter(`${info.lobby} · replay`, info.code);
    hud.setReplay(true);
    hud.system(
      `Replay of ${info.lobby} (${info.game}): ${info.players.map((p) => p.name).join(", ") || "nobody"} · ` +
        `${Math.round(info.seconds)} s${info.ended ? "" : " · still being played, or cut short"}`,
    );
    if (info.diverged_at !== null) hud.system(`This replay does not re-simulate as recorded from tick ${info.diverged_at} on.`);
    renderer.bottomReserve = BAR_HEIGHT;
    this.bar.show(info.first_tick, info.last_tick, info.tick_rate);
    hud.show();
  }

  /** Stops playing and returns to the lobby screen. */
  close(message: string | null = null): void {
    this.mode?.stop();
    this.mode = null;
    this.bar.hide();
    this.page.renderer.bottomReserve = 0;
    this.page.hud.setReplay(false);
    this.page.exit(message);
  }

  /** Once per animation frame, before drawing. */
  frame(now: number, dt: number): void {
    const m = this.mode;
    if (m === null) return;
    m.frame(now, dt);
    const s = m.state();
    if (s !== null) this.bar.update(s);
  }

  state(): ReplayState | null {
    return this.mode?.state() ?? null;
  }
}
