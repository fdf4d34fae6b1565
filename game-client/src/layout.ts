// Where the arena goes on screen, and where the HUD's panels and the touch sticks go around it. Pure.
//
// Three layouts:
// - "side": the scoreboard, kill feed and chat stack in a column left of the arena, so nothing
//   covers the world. Used when the window is wide enough that the column costs the world little
//   (at most SIDE_COST of its scale; none at all on wide screens, where the arena is height-bound).
// - "over": the world takes the whole window under the top bar and the panels float over its
//   corners, translucent, fading while a player is under them (hud.ts). Squarer and small windows.
// - "below" (touch, portrait): the arena right under the top bar, the panels in a column under
//   it, and the two sticks in a band along the bottom.
//
// With touch sticks the world gives up either a band along the bottom or a gutter on each side
// (whichever costs it less scale), and the sticks go there: never over the arena or a panel.

/** Space kept around the world (CSS px). */
export const MARGIN = 16;
/** The top bar's row (lobby name, code, buttons): the world starts below it. */
export const MARGIN_TOP = 56;
/** The panels' distance from the window's edges (CSS px; style.css uses the same 12px). */
export const EDGE = 12;
/** The side column's width (CSS px): at least MIN, more when the window has room to spare, at most MAX. */
export const SIDE_MIN = 220;
export const SIDE_MAX = 320;
/** Take the side layout when it keeps at least this share of the world's "over" scale. */
export const SIDE_COST = 0.85;
/** Below this height the column would be too short for scoreboard, kill feed and chat. */
const SIDE_MIN_HEIGHT = 420;
/** A touch stick's base radius, and its distance from the window's edges (CSS px). */
export const STICK_RADIUS = 52;
export const STICK_MARGIN = 16;
/** The square a stick takes (and listens on), its base centred in it. */
export const STICK_ZONE = 2 * (STICK_RADIUS + STICK_MARGIN);
/** The band along the bottom that holds the sticks (portrait), a little taller than their zone. */
export const STICK_BAND = STICK_ZONE + 12;
/** The panel column under the arena ("below") needs at least this height; else the panels go over it. */
const BELOW_MIN_HEIGHT = 120;

export interface Layout {
  mode: "side" | "over" | "below";
  /** World-to-CSS-pixel transform: screen = world * scale + offset. */
  scale: number;
  offX: number;
  offY: number;
  /** The panels' column (CSS px from the window's left and top): beside the arena ("side") or under it ("below"). */
  side: Box | null;
  /** Where the world is drawn (CSS px): worldW * scale by worldH * scale at (offX, offY). */
  arena: Box;
  /** The touch sticks' centres and base radius, when asked for (CSS px). */
  sticks: Sticks | null;
}

export interface Sticks {
  radius: number;
  move: { x: number; y: number };
  aim: { x: number; y: number };
}

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Lays a worldW x worldH world out in a w x h (CSS px) window; `touch`: with room for two sticks. */
export function layout(w: number, h: number, worldW: number, worldH: number, touch = false): Layout {
  if (touch) return touchLayout(w, h, worldW, worldH);
  const availH = h - MARGIN_TOP - MARGIN;
  const over = Math.max(0.05, Math.min((w - 2 * MARGIN) / worldW, availH / worldH));
  const reserve = EDGE + SIDE_MIN + EDGE;
  const side = Math.max(0.05, Math.min((w - reserve - MARGIN) / worldW, availH / worldH));
  if (side >= over * SIDE_COST && h >= SIDE_MIN_HEIGHT && w - reserve - MARGIN > 0) {
    const ww = worldW * side;
    const wh = worldH * side;
    // Centred in what the minimal column leaves; the column then takes the gutter (up to its max).
    const offX = reserve + (w - reserve - MARGIN - ww) / 2;
    const offY = MARGIN_TOP + (availH - wh) / 2;
    const width = Math.min(SIDE_MAX, offX - 2 * EDGE);
    // The column lines up with the arena's top and bottom, unless the arena is too flat for it.
    const column = wh >= SIDE_MIN_HEIGHT - MARGIN_TOP - MARGIN ? { top: offY, height: wh } : { top: MARGIN_TOP, height: availH };
    return {
      mode: "side",
      scale: side,
      offX,
      offY,
      side: { left: offX - EDGE - width, width, ...column },
      arena: { left: offX, top: offY, width: ww, height: wh },
      sticks: null,
    };
  }
  const ww = worldW * over;
  const wh = worldH * over;
  const offX = (w - ww) / 2;
  const offY = MARGIN_TOP + (availH - wh) / 2;
  return { mode: "over", scale: over, offX, offY, side: null, arena: { left: offX, top: offY, width: ww, height: wh }, sticks: null };
}

function touchLayout(w: number, h: number, worldW: number, worldH: number): Layout {
  const sy = h - STICK_ZONE / 2; // both sticks sit at the bottom, each in its corner's zone
  // A band along the bottom (portrait), or a gutter each side (landscape): the larger world wins.
  const band = Math.max(0.05, Math.min((w - 2 * MARGIN) / worldW, (h - MARGIN_TOP - STICK_BAND) / worldH));
  const gutter = Math.max(0.05, Math.min((w - 2 * STICK_ZONE) / worldW, (h - MARGIN_TOP - MARGIN) / worldH));
  const sticks = (inset: number): Sticks => ({
    radius: STICK_RADIUS,
    move: { x: inset, y: sy },
    aim: { x: w - inset, y: sy },
  });
  if (band >= gutter) {
    const ww = worldW * band;
    const wh = worldH * band;
    const offX = (w - ww) / 2;
    const top = MARGIN_TOP + wh + EDGE;
    const height = h - STICK_BAND - top;
    if (height >= BELOW_MIN_HEIGHT) {
      // The arena under the top bar, the panels under the arena, the sticks under the panels.
      const arena = { left: offX, top: MARGIN_TOP, width: ww, height: wh };
      return { mode: "below", scale: band, offX, offY: MARGIN_TOP, side: { left: EDGE, top, width: w - 2 * EDGE, height }, arena, sticks: sticks(STICK_ZONE / 2) };
    }
    const offY = MARGIN_TOP + (h - STICK_BAND - MARGIN_TOP - wh) / 2;
    return { mode: "over", scale: band, offX, offY, side: null, arena: { left: offX, top: offY, width: ww, height: wh }, sticks: sticks(STICK_ZONE / 2) };
  }
  const ww = worldW * gutter;
  const wh = worldH * gutter;
  const offX = (w - ww) / 2;
  const offY = MARGIN_TOP + (h - MARGIN_TOP - MARGIN - wh) / 2;
  // Each stick in the middle of its gutter (at least a zone wide).
  return { mode: "over", scale: gutter, offX, offY, side: null, arena: { left: offX, top: offY, width: ww, height: wh }, sticks: sticks(offX / 2) };
}
