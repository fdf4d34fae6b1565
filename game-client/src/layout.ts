// Where the arena goes on screen, and where the HUD's panels go around it. Pure.
//
// Two layouts:
// - "side": the scoreboard, kill feed and chat stack in a column left of the arena, so nothing
//   covers the world. Used when the window is wide enough that the column costs the world little
//   (at most SIDE_COST of its scale; none at all on wide screens, where the arena is height-bound).
// - "over": the world takes the whole window under the top bar and the panels float over its
//   corners, translucent, fading while a player is under them (hud.ts). Squarer and small windows.

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

export interface Layout {
  mode: "side" | "over";
  /** World-to-CSS-pixel transform: screen = world * scale + offset. */
  scale: number;
  offX: number;
  offY: number;
  /** The side column (CSS px from the window's left and top), when mode is "side". */
  side: Box | null;
  /** Where the world is drawn (CSS px): worldW * scale by worldH * scale at (offX, offY). */
  arena: Box;
}

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Lays a worldW x worldH world out in a w x h (CSS px) window. */
export function layout(w: number, h: number, worldW: number, worldH: number): Layout {
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
    };
  }
  const ww = worldW * over;
  const wh = worldH * over;
  const offX = (w - ww) / 2;
  const offY = MARGIN_TOP + (availH - wh) / 2;
  return { mode: "over", scale: over, offX, offY, side: null, arena: { left: offX, top: offY, width: ww, height: wh } };
}
