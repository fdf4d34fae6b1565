// Keyboard and mouse: which movement keys are held, where the mouse points, whether we are firing.

const UP = new Set(["KeyW", "ArrowUp"]);
const DOWN = new Set(["KeyS", "ArrowDown"]);
const LEFT = new Set(["KeyA", "ArrowLeft"]);
const RIGHT = new Set(["KeyD", "ArrowRight"]);
const GAME_KEYS = new Set([...UP, ...DOWN, ...LEFT, ...RIGHT, "Space"]);

export class Controls {
  /** Mouse position in CSS pixels relative to the canvas. */
  mouseX = 0;
  mouseY = 0;
  /** False until the mouse has moved over the canvas (no reticle in a corner before that). */
  mouseSeen = false;
  private keys = new Set<string>();
  private mouseDown = false;
  private readonly listeners: Array<[EventTarget, string, EventListener]> = [];

  /**
   * `enabled()` says whether game keys should be read now (false while typing in chat or on the
   * lobby screen), so those keystrokes go where the player meant them.
   */
  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly enabled: () => boolean,
  ) {
    this.listen(window, "keydown", (e) => this.key(e as KeyboardEvent, true));
    this.listen(window, "keyup", (e) => this.key(e as KeyboardEvent, false));
    this.listen(window, "blur", () => this.release());
    this.listen(canvas, "mousemove", (e) => this.move(e as MouseEvent));
    this.listen(canvas, "mousedown", (e) => {
      if ((e as MouseEvent).button === 0) this.mouseDown = true;
      this.move(e as MouseEvent);
    });
    this.listen(window, "mouseup", (e) => {
      if ((e as MouseEvent).button === 0) this.mouseDown = false;
    });
    this.listen(canvas, "contextmenu", (e) => e.preventDefault());
  }

  /** Movement direction, each -1, 0 or 1 (opposite keys cancel). */
  direction(): { dx: number; dy: number } {
    if (!this.enabled()) return { dx: 0, dy: 0 };
    const held = (set: Set<string>) => [...set].some((k) => this.keys.has(k));
    return {
      dx: (held(RIGHT) ? 1 : 0) - (held(LEFT) ? 1 : 0),
      dy: (held(DOWN) ? 1 : 0) - (held(UP) ? 1 : 0),
    };
  }

  firing(): boolean {
    return this.enabled() && (this.mouseDown || this.keys.has("Space"));
  }

  /** Forgets every held key and button (the window lost focus, chat opened, ...). */
  release(): void {
    this.keys.clear();
    this.mouseDown = false;
  }

  dispose(): void {
    for (const [t, type, fn] of this.listeners) t.removeEventListener(type, fn);
  }

  private key(e: KeyboardEvent, down: boolean): void {
    if (!down) {
      this.keys.delete(e.code);
      return;
    }
    if (!this.enabled() || !GAME_KEYS.has(e.code)) return;
    // Arrows and space would otherwise scroll the page.
    e.preventDefault();
    this.keys.add(e.code);
  }

  private move(e: MouseEvent): void {
    const r = this.canvas.getBoundingClientRect();
    this.mouseX = e.clientX - r.left;
    this.mouseY = e.clientY - r.top;
    this.mouseSeen = true;
  }

  private listen(t: EventTarget, type: string, fn: EventListener): void {
    t.addEventListener(type, fn);
    this.listeners.push([t, type, fn]);
  }
}
