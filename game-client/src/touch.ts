// The touch sticks (left: move, right: aim, and fire while pushed far), shown on touch devices only.

import type { Controls } from "./input";
import { STICK_ZONE, type Sticks } from "./layout";
import { aimStick, quantize, stickVector } from "./stick";

/** One stick: its zone (where a thumb lands), the base ring and the knob that follows the thumb. */
class Stick {
  readonly el: HTMLElement;
  private readonly knob: HTMLElement;
  private cx = 0;
  private cy = 0;
  private r = 1;
  private pointer: number | null = null;

  /** `push(x, y)` gets the stick's vector (-1..1 each, length at most 1); (0, 0) when let go. */
  constructor(
    id: string,
    private readonly push: (x: number, y: number) => void,
  ) {
    this.el = document.getElementById(id)!;
    this.knob = this.el.querySelector<HTMLElement>(".knob")!;
    this.el.addEventListener("pointerdown", (e) => {
      if (this.pointer !== null) return; // a second thumb on the same stick is ignored
      e.preventDefault();
      this.pointer = e.pointerId;
      this.el.setPointerCapture(e.pointerId);
      this.el.classList.add("held");
      this.track(e);
    });
    this.el.addEventListener("pointermove", (e) => {
      if (e.pointerId === this.pointer) this.track(e);
    });
    for (const t of ["pointerup", "pointercancel", "lostpointercapture"]) {
      this.el.addEventListener(t, (e) => {
        if ((e as PointerEvent).pointerId === this.pointer) this.letGo();
      });
    }
  }

  /** Puts the stick's base at (cx, cy) with radius r (CSS px, window coordinates). */
  place(cx: number, cy: number, r: number): void {
    if (cx === this.cx && cy === this.cy && r === this.r) return;
    this.cx = cx;
    this.cy = cy;
    this.r = r;
    this.el.style.left = `${cx - STICK_ZONE / 2}px`;
    this.el.style.top = `${cy - STICK_ZONE / 2}px`;
    this.el.style.width = this.el.style.height = `${STICK_ZONE}px`;
    this.el.style.setProperty("--r", `${r}px`);
  }

  letGo(): void {
    this.pointer = null;
    this.el.classList.remove("held");
    this.knob.style.transform = "";
    this.push(0, 0);
  }

  private track(e: PointerEvent): void {
    const v = stickVector(e.clientX, e.clientY, this.cx, this.cy, this.r);
    this.knob.style.transform = `translate(${v.x * this.r}px, ${v.y * this.r}px)`;
    this.push(v.x, v.y);
  }
}

export class TouchSticks {
  /** True once this is known to be a touch device (a coarse pointer, or a first touch). */
  enabled = false;
  private readonly root = document.getElementById("sticks")!;
  private readonly move: Stick;
  private readonly aim: Stick;

  /** `onEnable` runs once, when the sticks are first wanted (to make room for them). */
  constructor(
    controls: Controls,
    private readonly onEnable: () => void,
  ) {
    this.move = new Stick("stick-move", (x, y) => {
      const { dx, dy } = quantize(x, y);
      controls.setTouchMove(dx, dy);
    });
    this.aim = new Stick("stick-aim", (x, y) => {
      const a = aimStick(x, y);
      controls.setTouchAim(a.angle, a.fire);
      this.aim.el.classList.toggle("firing", a.fire);
    });
    if (window.matchMedia?.("(pointer: coarse)").matches) this.enable();
    else window.addEventListener("touchstart", () => this.enable(), { once: true, passive: true });
  }

  /** Shows the sticks where the layout put them (null, or `show` false: hidden and let go). */
  place(s: Sticks | null, show: boolean): void {
    const visible = this.enabled && show && s !== null;
    if (this.root.hidden === visible) {
      this.root.hidden = !visible;
      if (!visible) this.release();
    }
    if (!visible || s === null) return;
    this.move.place(s.move.x, s.move.y, s.radius);
    this.aim.place(s.aim.x, s.aim.y, s.radius);
  }

  release(): void {
    this.move.letGo();
    this.aim.letGo();
  }

  private enable(): void {
    if (this.enabled) return;
    this.enabled = true;
    document.documentElement.classList.add("touch");
    this.onEnable();
  }
}
