// Canvas drawing: fits the world to the window, then draws floor, pillars, players, projectiles and effects.

import { scatter, type Effect } from "./effects";
import { layout, type Layout } from "./layout";
import { rgba, shade, tint, type Rgb } from "./palette";

export interface PlayerView {
  id: number;
  x: number;
  y: number;
  /** Radians. */
  aim: number;
  hp: number;
  maxHp: number;
  name: string;
  colour: Rgb;
  me: boolean;
  /** The tag beside a `me` player's name: "YOU" unless said (a replay's followed player: "VIEW"). */
  tag?: string;
  /** 1 right after being hit, fading to 0. */
  hitFlash: number;
}

export interface ProjectileView {
  id: number;
  x: number;
  y: number;
  angle: number;
  colour: Rgb;
}

export interface Scene {
  worldW: number;
  worldH: number;
  pillars: ReadonlyArray<readonly [number, number, number]>;
  /** Player circle radius in world units. */
  radius: number;
  players: PlayerView[];
  projectiles: ProjectileView[];
  effects: Array<{ e: Effect; t: number }>;
  /** Screen shake strength 0..1 (we were just hit). */
  shake: number;
  /** Local time in seconds (for animated details). */
  now: number;
  /** Draw the aiming reticle at the mouse (CSS pixels), or not. */
  reticle: { x: number; y: number; colour: Rgb } | null;
}

/** A label's font, at a fixed on-screen size (scaled by 1/scale in world units). */
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

export class Renderer {
  private readonly ctx: CanvasRenderingContext2D;
  private cssW = 0;
  private cssH = 0;
  private dpr = 1;
  /** World-to-CSS-pixel transform: screen = world * scale + offset. */
  scale = 1;
  offX = 0;
  offY = 0;
  /** Where the world and the HUD's panels go (layout.ts), as of the last draw. */
  layout: Layout = { mode: "over", scale: 1, offX: 0, offY: 0, side: null, arena: { left: 0, top: 0, width: 0, height: 0 }, sticks: null };
  /** Leave room for the touch sticks (layout.ts). */
  touch = false;
  /** CSS px kept free along the bottom (a replay's controls sit there). */
  bottomReserve = 0;

  constructor(readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext("2d", { alpha: false });
    if (ctx === null) throw new Error("no 2D canvas");
    this.ctx = ctx;
  }

  /** Matches the backing store to the canvas's CSS size and the device pixel ratio. */
  resize(): void {
    const r = this.canvas.getBoundingClientRect();
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    const w = Math.max(1, Math.round(r.width * dpr));
    const h = Math.max(1, Math.round(r.height * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.cssW = r.width;
    this.cssH = r.height;
    this.dpr = dpr;
  }

  /** Scales the world to fit the window, keeping its aspect ratio, in the space the HUD's panels leave. */
  fit(worldW: number, worldH: number): void {
    this.layout = layout(this.cssW, this.cssH - this.bottomReserve, worldW, worldH, this.touch);
    this.scale = this.layout.scale;
    this.offX = this.layout.offX;
    this.offY = this.layout.offY;
  }

  /** World units to CSS pixels (relative to the canvas). */
  toScreen(x: number, y: number): { x: number; y: number } {
    return { x: x * this.scale + this.offX, y: y * this.scale + this.offY };
  }

  /** CSS pixels (relative to the canvas) to world units. */
  toWorld(px: number, py: number): { x: number; y: number } {
    return { x: (px - this.offX) / this.scale, y: (py - this.offY) / this.scale };
  }

  draw(scene: Scene): void {
    this.resize();
    this.fit(scene.worldW, scene.worldH);
    const c = this.ctx;
    c.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    c.fillStyle = "#07090d";
    c.fillRect(0, 0, this.cssW, this.cssH);

    const shake = scene.shake > 0 ? scene.shake * 6 : 0;
    const sx = shake * (Math.sin(scene.now * 91) + Math.sin(scene.now * 53)) * 0.5;
    const sy = shake * (Math.cos(scene.now * 77) + Math.sin(scene.now * 61)) * 0.5;
    c.setTransform(
      this.dpr * this.scale,
      0,
      0,
      this.dpr * this.scale,
      this.dpr * (this.offX + sx),
      this.dpr * (this.offY + sy),
    );
    this.floor(scene);
    for (const [x, y, r] of scene.pillars) this.pillarShadow(x, y, r);
    for (const p of scene.players) this.shadow(p, scene.radius);
    for (const [x, y, r] of scene.pillars) this.pillar(x, y, r);
    for (const pr of scene.projectiles) this.projectile(pr);
    for (const p of scene.players) this.player(p, scene.radius, scene.now);
    for (const { e, t } of scene.effects) this.effect(e, t);
    for (const p of scene.players) this.label(p, scene.radius, scene.worldW);

    c.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    if (scene.reticle !== null) this.reticle(scene.reticle.x, scene.reticle.y, scene.reticle.colour);
  }

  private floor(s: Scene): void {
    const c = this.ctx;
    const g = c.createLinearGradient(0, 0, 0, s.worldH);
    g.addColorStop(0, "#111723");
    g.addColorStop(1, "#0c111a");
    c.fillStyle = g;
    c.fillRect(0, 0, s.worldW, s.worldH);
    // A fine grid and a coarser one over it.
    c.lineWidth = 1 / this.scale;
    c.strokeStyle = "rgba(120, 150, 200, 0.06)";
    this.grid(s.worldW, s.worldH, 50);
    c.strokeStyle = "rgba(120, 150, 200, 0.12)";
    this.grid(s.worldW, s.worldH, 200);
    // The bounds: a glowing rim.
    c.lineWidth = 3;
    c.strokeStyle = "rgba(90, 170, 255, 0.55)";
    c.shadowColor = "rgba(90, 170, 255, 0.6)";
    c.shadowBlur = 18 * this.scale * this.dpr;
    c.strokeRect(1.5, 1.5, s.worldW - 3, s.worldH - 3);
    c.shadowBlur = 0;
  }

  private grid(w: number, h: number, step: number): void {
    const c = this.ctx;
    c.beginPath();
    for (let x = step; x < w; x += step) {
      c.moveTo(x, 0);
      c.lineTo(x, h);
    }
    for (let y = step; y < h; y += step) {
      c.moveTo(0, y);
      c.lineTo(w, y);
    }
    c.stroke();
  }

  private pillarShadow(x: number, y: number, r: number): void {
    const c = this.ctx;
    const g = c.createRadialGradient(x + 8, y + 12, r * 0.6, x + 8, y + 12, r * 1.35);
    g.addColorStop(0, "rgba(0,0,0,0.55)");
    g.addColorStop(1, "rgba(0,0,0,0)");
    c.fillStyle = g;
    c.beginPath();
    c.arc(x + 8, y + 12, r * 1.35, 0, Math.PI * 2);
    c.fill();
  }

  private pillar(x: number, y: number, r: number): void {
    const c = this.ctx;
    const body = c.createRadialGradient(x - r * 0.35, y - r * 0.4, r * 0.1, x, y, r);
    body.addColorStop(0, "#4a566e");
    body.addColorStop(0.7, "#2a3245");
    body.addColorStop(1, "#1c2232");
    c.fillStyle = body;
    c.beginPath();
    c.arc(x, y, r, 0, Math.PI * 2);
    c.fill();
    c.lineWidth = 2.5;
    c.strokeStyle = "rgba(140, 180, 255, 0.35)";
    c.stroke();
    // An inner ring gives it a top face.
    c.lineWidth = 1.5;
    c.strokeStyle = "rgba(255, 255, 255, 0.07)";
    c.beginPath();
    c.arc(x, y, r * 0.62, 0, Math.PI * 2);
    c.stroke();
  }

  private shadow(p: PlayerView, r: number): void {
    const c = this.ctx;
    c.fillStyle = "rgba(0, 0, 0, 0.35)";
    c.beginPath();
    c.ellipse(p.x + 4, p.y + 7, r * 1.05, r * 0.9, 0, 0, Math.PI * 2);
    c.fill();
  }

  private player(p: PlayerView, r: number, now: number): void {
    const c = this.ctx;
    if (p.me) {
      // "You": a soft glow in our colour under everything else of ours.
      const glow = c.createRadialGradient(p.x, p.y, r * 0.8, p.x, p.y, r + 22);
      glow.addColorStop(0, rgba(tint(p.colour, 0.2), 0.45));
      glow.addColorStop(1, rgba(p.colour, 0));
      c.fillStyle = glow;
      c.beginPath();
      c.arc(p.x, p.y, r + 22, 0, Math.PI * 2);
      c.fill();
    }
    // The barrel, under the body.
    c.save();
    c.translate(p.x, p.y);
    c.rotate(p.aim);
    c.fillStyle = rgba(shade(p.colour, 0.62));
    roundRect(c, r * 0.4, -4.5, r + 10, 9, 3);
    c.fill();
    c.fillStyle = rgba(tint(p.colour, 0.25));
    roundRect(c, r + 6, -4.5, 4, 9, 1.5);
    c.fill();
    c.restore();

    const body = this.ctx.createRadialGradient(p.x - r * 0.35, p.y - r * 0.4, r * 0.15, p.x, p.y, r);
    body.addColorStop(0, rgba(tint(p.colour, 0.4)));
    body.addColorStop(1, rgba(shade(p.colour, 0.22)));
    c.fillStyle = body;
    c.beginPath();
    c.arc(p.x, p.y, r, 0, Math.PI * 2);
    c.fill();
    c.lineWidth = 2;
    c.strokeStyle = rgba(shade(p.colour, 0.65));
    c.stroke();
    if (p.me) {
      // A bright ring with a dark edge (visible on any floor), breathing slowly.
      const px = 1 / this.scale;
      const ring = r + 5 * px + 1.5 * px * Math.sin(now * 4);
      c.lineWidth = 5 * px;
      c.strokeStyle = "rgba(0, 0, 0, 0.55)";
      c.beginPath();
      c.arc(p.x, p.y, ring, 0, Math.PI * 2);
      c.stroke();
      c.lineWidth = 2.5 * px;
      c.strokeStyle = "#ffffff";
      c.stroke();
    }
    if (p.hitFlash > 0) {
      c.fillStyle = `rgba(255, 255, 255, ${0.75 * p.hitFlash})`;
      c.beginPath();
      c.arc(p.x, p.y, r, 0, Math.PI * 2);
      c.fill();
    }
  }

  /**
   * Name and health bar (and a "YOU" tag on ours), at a fixed on-screen size whatever the world's
   * scale. Above the player, or below when above would leave the arena (near the top wall); kept
   * inside the arena's left and right walls too.
   */
  private label(p: PlayerView, r: number, worldW: number): void {
    const c = this.ctx;
    const px = 1 / this.scale;
    const bar = p.maxHp > 0;
    c.font = `600 ${13 * px}px ${FONT}`;
    const nameW = c.measureText(p.name).width;
    const tagW = p.me ? (p.tag === undefined ? 30 : 38) * px : 0;
    const tagGap = p.me ? 5 * px : 0;
    const lineW = tagW + tagGap + nameW;
    const below = labelBelow(p.y, r, this.scale, bar);
    const half = Math.max(lineW, bar ? 46 * px : 0) / 2;
    const cx = Math.min(Math.max(p.x, half), Math.max(half, worldW - half));
    const barTop = below ? p.y + r + 9 * px : p.y - r - 9 * px - 5 * px;
    const lineTop = below ? (bar ? barTop + 9 * px : p.y + r + 8 * px) : (bar ? barTop - 4 * px : p.y - r - 8 * px) - 16 * px;
    if (bar) {
      const w = 44 * px;
      const h = 5 * px;
      const frac = Math.max(0, Math.min(1, p.hp / p.maxHp));
      c.fillStyle = "rgba(0, 0, 0, 0.6)";
      c.fillRect(cx - w / 2 - px, barTop - px, w + 2 * px, h + 2 * px);
      c.fillStyle = frac > 0.5 ? "#3ddc84" : frac > 0.25 ? "#f5c542" : "#ff5b5b";
      c.fillRect(cx - w / 2, barTop, w * frac, h);
    }
    const left = cx - lineW / 2;
    const mid = lineTop + 8 * px;
    if (p.me) {
      c.fillStyle = "#ffffff";
      roundRect(c, left, mid - 7 * px, tagW, 14 * px, 4 * px);
      c.fill();
      c.font = `800 ${9.5 * px}px ${FONT}`;
      c.textAlign = "center";
      c.textBaseline = "middle";
      c.fillStyle = "#0b0f18";
      c.fillText(p.tag ?? "YOU", left + tagW / 2, mid + 0.5 * px);
      c.font = `600 ${13 * px}px ${FONT}`;
    }
    c.textAlign = "left";
    c.textBaseline = "middle";
    c.lineWidth = 3 * px;
    c.lineJoin = "round";
    c.strokeStyle = "rgba(0, 0, 0, 0.7)";
    c.strokeText(p.name, left + tagW + tagGap, mid);
    c.fillStyle = p.me ? "#ffffff" : rgba(tint(p.colour, 0.45));
    c.fillText(p.name, left + tagW + tagGap, mid);
  }

  private projectile(p: ProjectileView): void {
    const c = this.ctx;
    const tx = Math.cos(p.angle);
    const ty = Math.sin(p.angle);
    const trail = c.createLinearGradient(p.x, p.y, p.x - tx * 26, p.y - ty * 26);
    trail.addColorStop(0, rgba(tint(p.colour, 0.25), 0.8));
    trail.addColorStop(1, rgba(p.colour, 0));
    c.strokeStyle = trail;
    c.lineWidth = 5;
    c.lineCap = "round";
    c.beginPath();
    c.moveTo(p.x, p.y);
    c.lineTo(p.x - tx * 26, p.y - ty * 26);
    c.stroke();
    c.fillStyle = rgba(p.colour, 0.3);
    c.beginPath();
    c.arc(p.x, p.y, 9, 0, Math.PI * 2);
    c.fill();
    c.fillStyle = "#fffbe8";
    c.beginPath();
    c.arc(p.x, p.y, 4, 0, Math.PI * 2);
    c.fill();
  }

  private effect(e: Effect, t: number): void {
    const c = this.ctx;
    const fade = 1 - t;
    switch (e.kind) {
      case "muzzle": {
        c.save();
        c.translate(e.x, e.y);
        c.rotate(e.angle);
        const g = c.createRadialGradient(0, 0, 0, 0, 0, 22);
        g.addColorStop(0, `rgba(255, 250, 220, ${fade})`);
        g.addColorStop(0.4, rgba(e.colour, 0.7 * fade));
        g.addColorStop(1, rgba(e.colour, 0));
        c.fillStyle = g;
        c.beginPath();
        c.ellipse(8, 0, 22, 11, 0, 0, Math.PI * 2);
        c.fill();
        c.restore();
        break;
      }
      case "hit": {
        c.strokeStyle = `rgba(255, 255, 255, ${fade})`;
        c.lineWidth = 2;
        c.beginPath();
        c.arc(e.x, e.y, 10 + 26 * t, 0, Math.PI * 2);
        c.stroke();
        this.sparks(e, t, 8, 46, 2.5, rgba(tint(e.colour, 0.3), fade));
        break;
      }
      case "death": {
        c.strokeStyle = rgba(tint(e.colour, 0.15), fade);
        c.lineWidth = 4 * fade + 1;
        c.beginPath();
        c.arc(e.x, e.y, 18 + 70 * easeOut(t), 0, Math.PI * 2);
        c.stroke();
        const g = c.createRadialGradient(e.x, e.y, 0, e.x, e.y, 40);
        g.addColorStop(0, `rgba(255, 255, 255, ${0.8 * fade * fade})`);
        g.addColorStop(1, rgba(e.colour, 0));
        c.fillStyle = g;
        c.beginPath();
        c.arc(e.x, e.y, 40, 0, Math.PI * 2);
        c.fill();
        this.sparks(e, t, 16, 90, 4.5, rgba(e.colour, fade));
        break;
      }
      case "respawn": {
        c.strokeStyle = rgba(tint(e.colour, 0.3), fade);
        c.lineWidth = 3;
        c.beginPath();
        c.arc(e.x, e.y, 18 + 40 * (1 - easeOut(t)), 0, Math.PI * 2);
        c.stroke();
        break;
      }
      case "fizzle": {
        // The end of a shot's range: it puffs out where it stopped, so the range is learnable.
        c.strokeStyle = rgba(tint(e.colour, 0.6), 0.7 * fade);
        c.lineWidth = 1.5;
        c.setLineDash([3, 4]);
        c.beginPath();
        c.arc(e.x, e.y, 4 + 12 * easeOut(t), 0, Math.PI * 2);
        c.stroke();
        c.setLineDash([]);
        break;
      }
      case "spark":
        this.sparks(e, t, 5, 18, 2, rgba(tint(e.colour, 0.6), fade));
        break;
    }
  }

  /** Fragments flying out from an effect's centre. */
  private sparks(e: Effect, t: number, n: number, dist: number, size: number, color: string): void {
    const c = this.ctx;
    c.fillStyle = color;
    const d = easeOut(t);
    for (let i = 0; i < n; i++) {
      const a = (i / n) * Math.PI * 2 + scatter(e.seed, i) * 0.8;
      const r = dist * d * (0.5 + scatter(e.seed, i + 100) * 0.6);
      const s = size * (1 - t * 0.7);
      c.fillRect(e.x + Math.cos(a) * r - s / 2, e.y + Math.sin(a) * r - s / 2, s, s);
    }
  }

  private reticle(x: number, y: number, colour: Rgb): void {
    const c = this.ctx;
    c.strokeStyle = rgba(tint(colour, 0.4), 0.9);
    c.lineWidth = 1.5;
    c.beginPath();
    c.arc(x, y, 9, 0, Math.PI * 2);
    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
      c.moveTo(x + dx * 5, y + dy * 5);
      c.lineTo(x + dx * 14, y + dy * 14);
    }
    c.stroke();
  }
}

/** How far a player's label reaches from its edge (CSS px): 9, the bar (5), 4, the name line (16); 8 and the line without a bar. */
export function labelHeight(bar: boolean): number {
  return bar ? 34 : 24;
}

/** A label goes below its player when above would leave the arena (world y < 0, into the top bar's row). */
export function labelBelow(y: number, r: number, scale: number, bar: boolean): boolean {
  return y - r - labelHeight(bar) / scale < 0;
}

function easeOut(t: number): number {
  return 1 - (1 - t) * (1 - t);
}

function roundRect(c: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, r: number): void {
  c.beginPath();
  c.moveTo(x + r, y);
  c.arcTo(x + w, y, x + w, y + h, r);
  c.arcTo(x + w, y + h, x, y + h, r);
  c.arcTo(x, y + h, x, y, r);
  c.arcTo(x, y, x + w, y, r);
  c.closePath();
}
