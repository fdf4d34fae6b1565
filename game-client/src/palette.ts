// Player colours: one per seat from a fixed palette chosen to stay apart under colour blindness. Pure.
//
// Why a palette and not hues by id: player ids share a counter with projectiles, so id-based hues
// often landed two players on the same green. Seats are small and dense (0..max_players-1), so
// each of the first 12 players in a lobby gets a colour of its own.
//
// How the colours were chosen: start from named, easy-to-tell colours (Okabe-Ito's blue, orange,
// yellow, reddish purple, bluish green, vermillion, then more), then nudge each (never far from its
// name) to maximise the smallest OKLab distance between any two, as seen with normal vision and as
// simulated for protanopia and deuteranopia (Machado et al. 2009, full severity), and tritanopia at
// half weight; every colour is bright enough (OKLab L >= 0.64) to stand out on the dark floor.
// Seats 0-7 (the default lobby size) were favoured; test/palette.test.ts checks the distances.
//
//  seat  colour    name           seat  colour    name
//  0     #00C8FF   sky blue       6     #D6691D   rust
//  1     #FF8F1B   orange         7     #B162FF   violet
//  2     #EDFC55   lemon          8     #B2E17F   lime
//  3     #C568B3   orchid         9     #5BE3F5   cyan
//  4     #00C78C   jade           10    #FF9FBA   pink
//  5     #D1F9E4   mint white     11    #938E70   khaki
//
// Seats past 11 (lobbies can hold more) reuse the palette from the start.

/** An sRGB colour, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

export const PALETTE: readonly Rgb[] = [
  [0x00, 0xc8, 0xff],
  [0xff, 0x8f, 0x1b],
  [0xed, 0xfc, 0x55],
  [0xc5, 0x68, 0xb3],
  [0x00, 0xc7, 0x8c],
  [0xd1, 0xf9, 0xe4],
  [0xd6, 0x69, 0x1d],
  [0xb1, 0x62, 0xff],
  [0xb2, 0xe1, 0x7f],
  [0x5b, 0xe3, 0xf5],
  [0xff, 0x9f, 0xba],
  [0x93, 0x8e, 0x70],
];

/** The colour of palette slot `i` (any integer: wraps around). */
export function paletteColour(i: number): Rgb {
  const n = PALETTE.length;
  return PALETTE[(((Math.trunc(i) % n) + n) % n) | 0];
}

/**
 * Which palette slot an entity gets: its seat when the game sends one (`seat` is the SEAT field's
 * value, or undefined when the server has no such field or the row is gone), else its id. By id is
 * the fallback for walkers (3 fields) and older arena servers: stable and the same on every
 * client, though two ids can then share a colour.
 */
export function paletteSlot(seat: number | undefined, id: number): number {
  return seat !== undefined && Number.isInteger(seat) && seat >= 0 ? seat : id;
}

/** `c` moved towards white by `t` (0..1). */
export function tint(c: Rgb, t: number): Rgb {
  return [c[0] + (255 - c[0]) * t, c[1] + (255 - c[1]) * t, c[2] + (255 - c[2]) * t];
}

/** `c` moved towards black by `t` (0..1). */
export function shade(c: Rgb, t: number): Rgb {
  return [c[0] * (1 - t), c[1] * (1 - t), c[2] * (1 - t)];
}

/** A CSS colour for `c` at opacity `a`. */
export function rgba(c: Rgb, a = 1): string {
  const r = Math.round(c[0]);
  const g = Math.round(c[1]);
  const b = Math.round(c[2]);
  return a >= 1 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${Math.max(0, a).toFixed(3)})`;
}
