// Player colours: the palette stays distinct under colour blindness, and players, shots and rows are coloured by seat.
import assert from "node:assert/strict";
import { test } from "node:test";
import { F, KIND_PLAYER, KIND_PROJECTILE, POS_SCALE } from "../src/games";
import { PALETTE, paletteColour, paletteSlot, type Rgb } from "../src/palette";
import type { JoinedInfo, SnapshotBody } from "../src/protocol";
import { GameSession } from "../src/session";

// ------------------------------------------------------------------------------ colour science (test-only)

const linear = (c: number): number => {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
};

/** Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB. */
const VISION: Record<string, number[][]> = {
  normal: [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ],
  protanopia: [
    [0.152286, 1.052583, -0.204868],
    [0.114503, 0.786281, 0.099216],
    [-0.003882, -0.048116, 1.051998],
  ],
  deuteranopia: [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.01182, 0.04294, 0.968881],
  ],
  tritanopia: [
    [1.255528, -0.076749, -0.178779],
    [-0.078411, 0.930809, 0.147602],
    [0.004733, 0.691367, 0.3039],
  ],
};

/** OKLab (Björn Ottosson) of `c` as seen with `vision`. */
function oklab(c: Rgb, vision: string): [number, number, number] {
  const v = c.map(linear);
  const [r, g, b] = VISION[vision].map((row) => Math.min(1, Math.max(0, row[0] * v[0] + row[1] * v[1] + row[2] * v[2])));
  const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [
    0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s,
    1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s,
    0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s,
  ];
}

/** The closest two of `colours` as seen with `vision`: their OKLab distance. */
function closest(colours: readonly Rgb[], vision: string): number {
  let min = Infinity;
  for (let i = 0; i < colours.length; i++) {
    for (let j = i + 1; j < colours.length; j++) {
      const a = oklab(colours[i], vision);
      const b = oklab(colours[j], vision);
      min = Math.min(min, Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]));
    }
  }
  return min;
}

// ------------------------------------------------------------------------------ the palette

test("the palette has 12 different colours", () => {
  assert.equal(PALETTE.length, 12);
  assert.equal(new Set(PALETTE.map((c) => c.join(","))).size, 12);
});

test("seats 0-7 (a default lobby) stay clearly apart with normal vision, protanopia and deuteranopia", () => {
  // 0.1 in OKLab is several times a just-noticeable difference (about 0.02).
  const eight = PALETTE.slice(0, 8);
  for (const v of ["normal", "protanopia", "deuteranopia"]) {
    const d = closest(eight, v);
    assert.ok(d >= 0.11, `${v}: the closest two of seats 0-7 are ${d.toFixed(3)} apart`);
  }
  // Tritanopia is rare; the palette was weighted less for it, but no two seats of 0-7 merge.
  assert.ok(closest(eight, "tritanopia") >= 0.055);
});

test("all 12 stay apart, less widely, under the same three visions", () => {
  for (const v of ["normal", "protanopia", "deuteranopia"]) {
    const d = closest(PALETTE, v);
    assert.ok(d >= 0.08, `${v}: the closest two of 12 are ${d.toFixed(3)} apart`);
  }
});

test("every colour is bright enough to stand out on the dark floor", () => {
  for (const c of PALETTE) {
    for (const v of Object.keys(VISION)) assert.ok(oklab(c, v)[0] >= 0.55, `${c} under ${v}`);
  }
});

test("palette slots wrap around; a seat wins over the id, the id is the fallback", () => {
  assert.deepEqual(paletteColour(12), PALETTE[0]);
  assert.deepEqual(paletteColour(13), PALETTE[1]);
  assert.deepEqual(paletteColour(-1), PALETTE[11]);
  assert.equal(paletteSlot(3, 40), 3);
  assert.equal(paletteSlot(0, 40), 0);
  assert.equal(paletteSlot(undefined, 40), 40);
  assert.equal(paletteSlot(-1, 40), 40, "no negative seats");
});

// ------------------------------------------------------------------------------ through a session

/** A full snapshot of `rows` (id -> fields), for a game with `fieldCount` fields. */
function full(fieldCount: number, rows: Array<[number, Partial<Record<keyof typeof F, number>>]>): SnapshotBody {
  const ints: number[] = [];
  let prev = 0;
  const pow = 2 ** fieldCount;
  for (const [id, f] of rows) {
    const row = new Array<number>(fieldCount).fill(0);
    for (const [k, v] of Object.entries(f)) row[F[k as keyof typeof F]] = v;
    ints.push((id - prev) * pow + (pow - 1), ...row);
    prev = id;
  }
  return { tick: 10, baseDelta: 0, removed: [], entities: ints, events: [] };
}

function session(fieldCount: number, snap: SnapshotBody, you: number | null = null): GameSession {
  const j: JoinedInfo = {
    lobby: 1,
    code: "ABCDEF",
    name: "t",
    game: "arena",
    you,
    host: null,
    tickRate: 30,
    snapshotRate: 30,
    maxPlayers: 8,
    fieldCount,
    roster: [],
    snapshot: snap,
  };
  const noop = (): void => {};
  return new GameSession(j, 0, { effect: noop, kill: noop, hurt: noop, resyncNeeded: noop });
}

const at = (x: number, y: number) => ({ X: x * POS_SCALE, Y: y * POS_SCALE });

test("players are coloured by seat, and their shots by the seat the shot carries", () => {
  // Seats chosen so that colouring by id would give other colours (slots 1 and 1).
  const s = session(
    10,
    full(10, [
      [1, { ...at(100, 100), KIND: KIND_PLAYER, SEAT: 5 }],
      [6, { ...at(300, 300), KIND: KIND_PROJECTILE, RESPAWN_OR_OWNER: 13, SEAT: 2 }],
      [13, { ...at(500, 500), KIND: KIND_PLAYER, SEAT: 2 }],
    ]),
  );
  assert.ok(s.hasSeat);
  assert.deepEqual(s.colourOf(1), PALETTE[5]);
  assert.deepEqual(s.colourOf(13), PALETTE[2]);
  const v = s.view(1, null);
  assert.deepEqual(v.players.find((p) => p.id === 1)?.colour, PALETTE[5]);
  assert.deepEqual(v.players.find((p) => p.id === 13)?.colour, PALETTE[2]);
  assert.deepEqual(v.projectiles[0].colour, PALETTE[2], "the shot wears its owner's colour");
  assert.deepEqual(s.scores().find((r) => r.id === 1)?.colour, PALETTE[5]);
});

test("two players whose ids fall in one slot still differ by seat", () => {
  const s = session(
    10,
    full(10, [
      [2, { ...at(100, 100), KIND: KIND_PLAYER, SEAT: 0 }],
      [14, { ...at(500, 500), KIND: KIND_PLAYER, SEAT: 1 }],
    ]),
  );
  assert.deepEqual(paletteColour(2), paletteColour(14), "by id they would clash");
  assert.notDeepEqual(s.colourOf(2), s.colourOf(14));
});

test("an older server without SEAT (9 fields): colours by id, shots by their owner's id", () => {
  const s = session(
    9,
    full(9, [
      [3, { ...at(100, 100), KIND: KIND_PLAYER }],
      [4, { ...at(300, 300), KIND: KIND_PROJECTILE, RESPAWN_OR_OWNER: 3 }],
    ]),
  );
  assert.equal(s.hasSeat, false);
  assert.deepEqual(s.colourOf(3), paletteColour(3));
  assert.deepEqual(s.view(1, null).projectiles[0].colour, paletteColour(3));
});

test("a player who left keeps their seat's colour (for the kill feed line that names them)", () => {
  const s = session(10, full(10, [[7, { ...at(100, 100), KIND: KIND_PLAYER, SEAT: 4 }]]));
  assert.deepEqual(s.colourOf(7), PALETTE[4]);
  s.onSnapshot({ tick: 11, baseDelta: 1, removed: [7], entities: [], events: [] }, 0.1);
  assert.equal(s.mirror.entities.has(7), false);
  assert.deepEqual(s.colourOf(7), PALETTE[4]);
});
