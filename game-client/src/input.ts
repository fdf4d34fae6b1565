// Keyboard, mouse and touch sticks: which way to move, where we aim, whether we are firing.

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
  /**
   * The aim stick's last direction (radians, screen axes), while it aims rather than the mouse:
   * it stays after the thumb lifts, so the player keeps facing where they last aimed.
   */
  touchAim: number | null = null;
  private keys = new Set<string>();
  private mouseDown = false;
  private touchMove = { dx: 0, dy: 0 };
  private touchFire = false;
  private lastTouch = -Infinity;
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
      if (this.touchEmulated(e as MouseEvent)) return; // a tap on the arena is not a trigger pull
      if ((e as MouseEvent).button === 0) this.mouseDown = true;
      this.move(e as MouseEvent);
    });
    this.listen(window, "mouseup", (e) => {
      if ((e as MouseEvent).button === 0) this.mouseDown = false;
    });
    this.listen(canvas, "contextmenu", (e) => e.preventDefault());
    this.listen(window, "touchstart", (e) => (this.lastTouch = e.timeStamp));
  }

  /** Movement direction, each -1, 0 or 1 (opposite keys cancel); the move stick when no key is held. */
  direction(): { dx: number; dy: number } {
    if (!this.enabled()) return { dx: 0, dy: 0 };
    const held = (set: Set<string>) => [...set].some((k) => this.keys.has(k));
    const dx = (held(RIGHT) ? 1 : 0) - (held(LEFT) ? 1 : 0);
    const dy = (held(DOWN) ? 1 : 0) - (held(UP) ? 1 : 0);
    return dx !== 0 || dy !== 0 ? { dx, dy } : { ...this.touchMove };
  }

  firing(): boolean {
    return this.enabled() && (this.mouseDown || this.keys.has("Space") || this.touchFire);
  }

  /** The move stick, already quantized to the keyboard's directions (stick.ts). */
  setTouchMove(dx: number, dy: number): void {
    this.touchMove = { dx, dy };
  }

  /** The aim stick: a new direction (null: keep the last one) and whether it is pushed far enough to fire. */
  setTouchAim(angle: number | null, fire: boolean): void {
    if (angle !== null) this.touchAim = angle;
    this.touchFire = fire;
  }

  /** Forgets every held key and button (the window lost focus, chat opened, ...). */
  release(): void {
    this.keys.clear();
    this.mouseDown = false;
    this.touchMove = { dx: 0, dy: 0 };
    this.touchFire = false;
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
    // A tap on the canvas sends mouse events too; a real mouse aims, a finger leaves the stick's aim.
    if (this.touchEmulated(e)) return;
    const r = this.canvas.getBoundingClientRect();
    this.mouseX = e.clientX - r.left;
    this.mouseY = e.clientY - r.top;
    this.mouseSeen = true;
    this.touchAim = null; // the mouse aims from now on
  }

  /** Mouse events a browser makes up after a touch (they carry no pointer type): within 800 ms of the last touch. */
  private touchEmulated(e: MouseEvent): boolean {
    return e.timeStamp - this.lastTouch < 800;
  }

  private listen(t: EventTarget, type: string, fn: EventListener): void {
    t.addEventListener(type, fn);
    this.listeners.push([t, type, fn]);
  }
}
