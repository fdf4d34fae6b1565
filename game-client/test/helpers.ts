// Shared test helpers: hex conversion and the frames the Rust server's own encoder produced.
import fixtures from "./fixtures/rust-frames.json";

export const rust = fixtures as {
  hello: string;
  input: string;
  welcome: string;
  lobby_list: string;
  chat: string;
  error: string;
  pong: string;
  redeem: string;
  redirect: string;
  match_frames: string[];
  match_expect: Array<{ tick: number; base?: number; rows: number[][]; events?: number[][] }>;
  move_start: [number, number];
  move_trace: Array<[number, number, number, number]>;
};

export function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function unhex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}
