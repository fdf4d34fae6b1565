// What the client knows of each bundled game: field layouts, world sizes, movement rules (mirrors src/game/).

/** Positions travel in 1/16 of a world unit (src/snapshot/quant.rs). */
export const POS_SCALE = 16;
/** Angles travel in 1/1024 of a turn, 0..1024. */
export const ANGLE_STEPS = 1024;

export const posFromQ = (q: number): number => q / POS_SCALE;
export const angleFromQ = (q: number): number => (q / ANGLE_STEPS) * Math.PI * 2;

/** Arena entity fields (src/game/arena.rs `field`). */
export const F = {
  X: 0,
  Y: 1,
  ACK: 2,
  AIM: 3,
  HP: 4,
  KILLS: 5,
  DEATHS: 6,
  /** Players: the tick they respawn at (0 while alive). Projectiles: the shooter's id. */
  RESPAWN_OR_OWNER: 7,
  KIND: 8,
  /**
   * Players: their seat, 0..max_players-1 (the lowest free one at join, kept while they stay).
   * Projectiles: their owner's seat. Older servers send 9 fields and no seat (`Joined.field_count`).
   */
  SEAT: 9,
} as const;
export const ARENA_FIELD_COUNT = 10;

export const KIND_PLAYER = 0;
export const KIND_PROJECTILE = 1;
/**
 * The one round entity: HP = phase (ROUND_LIVE / ROUND_OVER), KILLS = kill goal (0: none),
 * DEATHS = the tick the round's clock runs out (0: no clock), RESPAWN_OR_OWNER = while over, the
 * tick the next round starts, ACK = while over, the winner's id (0: a draw). round.ts reads it.
 */
export const KIND_ROUND = 2;

export const EVENT_HIT = 1;
export const EVENT_KILL = 2;
export const EVENT_RESPAWN = 3;
/** a = the winner's id (0: none), b = the tick the next round starts. */
export const EVENT_ROUND_OVER = 4;
export const EVENT_ROUND_START = 5;

/** Round pillars that block movement and shots: [x, y, radius] (arena.rs PILLARS). */
export const PILLARS: ReadonlyArray<readonly [number, number, number]> = [
  [400, 300, 50],
  [1200, 300, 50],
  [400, 700, 50],
  [1200, 700, 50],
  [800, 500, 80],
  [800, 150, 30],
];

/** How a game moves a player for one input, so the client can predict its own movement. */
export interface MoveRules {
  worldW: number;
  worldH: number;
  /** The player is kept this far inside the world and outside pillars. */
  radius: number;
  /** Units per second along normalize(dx, dy). */
  speed: number;
  pillars: ReadonlyArray<readonly [number, number, number]>;
  /** Seconds per tick: one input moves the player for one tick. */
  dt: number;
}

/** Per-game facts the renderer and the HUD need. */
export interface GameInfo {
  name: string;
  rules: MoveRules;
  maxHp: number;
  /** The field carrying a player's last applied input sequence. */
  ackField: number;
  /** Fields interpolated linearly (positions) and as angles; the rest step. */
  lerpFields: number[];
  angleFields: number[];
}

export function arenaInfo(tickRate: number): GameInfo {
  return {
    name: "arena",
    rules: {
      worldW: 1600,
      worldH: 1000,
      radius: 18,
      speed: 240,
      pillars: PILLARS,
      dt: 1 / Math.max(1, tickRate),
    },
    maxHp: 100,
    ackField: F.ACK,
    lerpFields: [F.X, F.Y],
    angleFields: [F.AIM],
  };
}

/** walkers: the benchmark workload (src/game/walkers.rs): 2000 x 2000, 200 units/s, fields x, y, ack. */
export function walkersInfo(tickRate: number): GameInfo {
  return {
    name: "walkers",
    rules: {
      worldW: 2000,
      worldH: 2000,
      radius: 0,
      speed: 200,
      pillars: [],
      dt: 1 / Math.max(1, tickRate),
    },
    maxHp: 0,
    ackField: 2,
    lerpFields: [0, 1],
    angleFields: [],
  };
}

export function gameInfo(game: string, tickRate: number): GameInfo {
  return game === "walkers" ? walkersInfo(tickRate) : arenaInfo(tickRate);
}

/** A projectile's hit radius around a player (arena.rs: player_radius + 4). */
export const SHOT_HIT_EXTRA = 4;

/**
 * Where a shot moving in a straight line from `from` to `to` stops: the first point where it
 * leaves the world (0..w, 0..h) or enters one of `circles` ([x, y, r]: pillars, and players'
 * hit circles); `to` when nothing is in the way. The server removes a shot there (arena.rs), so
 * the client never draws one further on.
 */
export function shotStop(
  from: { x: number; y: number },
  to: { x: number; y: number },
  w: number,
  h: number,
  circles: Iterable<readonly [number, number, number]>,
): { x: number; y: number } {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  let t = 1;
  // The walls: the first crossing of each bound the segment goes past.
  if (to.x < 0 && dx < 0) t = Math.min(t, (0 - from.x) / dx);
  if (to.x > w && dx > 0) t = Math.min(t, (w - from.x) / dx);
  if (to.y < 0 && dy < 0) t = Math.min(t, (0 - from.y) / dy);
  if (to.y > h && dy > 0) t = Math.min(t, (h - from.y) / dy);
  // Circles: the smaller root of |from + t d - c|^2 = r^2 in 0..t.
  const a = dx * dx + dy * dy;
  for (const [cx, cy, r] of circles) {
    const fx = from.x - cx;
    const fy = from.y - cy;
    const c = fx * fx + fy * fy - r * r;
    if (c <= 0) {
      t = 0; // already inside: it stops where it is
      break;
    }
    if (a === 0) continue;
    const b = fx * dx + fy * dy;
    const disc = b * b - a * c;
    if (b >= 0 || disc < 0) continue; // moving away, or passing by
    const hit = (-b - Math.sqrt(disc)) / a;
    if (hit < t) t = hit;
  }
  t = Math.max(0, Math.min(1, t));
  return { x: from.x + dx * t, y: from.y + dy * t };
}
