// Virtual stick maths: a touch point to a vector, the move stick to the keyboard's 8 directions, the aim stick to an angle and a trigger. Pure.

/** Below this push (0..1) the move stick is at rest: a thumb resting on it does not walk. */
export const MOVE_DEAD_ZONE = 0.3;
/** Below this push the aim stick keeps the last aim (a touch that barely moved says nothing new). */
export const AIM_DEAD_ZONE = 0.2;
/** Past this push the aim stick fires, while held: a light touch aims without shooting. */
export const FIRE_THRESHOLD = 0.55;

/** Where a touch at (px, py) pushes a stick whose base is at (cx, cy) with radius r: x and y in -1..1, length at most 1. */
export function stickVector(px: number, py: number, cx: number, cy: number, r: number): { x: number; y: number } {
  const x = (px - cx) / r;
  const y = (py - cy) / r;
  const len = Math.hypot(x, y);
  return len > 1 ? { x: x / len, y: y / len } : { x, y };
}

/**
 * The move stick as the keyboard would say it: dx and dy each -1, 0 or 1, one of 8 directions
 * (the nearest, in 45° sectors), or none inside the dead zone. y grows downwards, as on screen.
 */
export function quantize(x: number, y: number, deadZone = MOVE_DEAD_ZONE): { dx: number; dy: number } {
  if (Math.hypot(x, y) < deadZone) return { dx: 0, dy: 0 };
  const sector = Math.round(Math.atan2(y, x) / (Math.PI / 4)); // -4..4, 0 = right
  const a = (sector * Math.PI) / 4;
  // Math.round(cos/sin) of multiples of 45° is exactly -1, 0 or 1 (0.7 rounds to 1).
  return { dx: Math.round(Math.cos(a)) + 0, dy: Math.round(Math.sin(a)) + 0 };
}

/** The aim stick: its angle (radians, screen axes) once past the dead zone, and whether it fires. */
export function aimStick(x: number, y: number): { angle: number | null; fire: boolean } {
  const len = Math.hypot(x, y);
  if (len < AIM_DEAD_ZONE) return { angle: null, fire: false };
  return { angle: Math.atan2(y, x), fire: len >= FIRE_THRESHOLD };
}
