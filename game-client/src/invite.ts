// Invite links (…/#K7QM2X): what the address bar's fragment asks for. Pure.

import { CODE_ALPHABET, CODE_LEN } from "./protocol";

export type Invite =
  /** No fragment: an ordinary visit. */
  | { kind: "none" }
  /** A well-formed lobby code (upper-cased, as the server normalizes it). */
  | { kind: "code"; code: string }
  /** `#watch/CODE`: spectate that lobby at once (the operator console embeds the game so). */
  | { kind: "watch"; code: string }
  /** `#replay/ID`: play that recorded match (its id: `<start unix ms>-<lobby id>`). */
  | { kind: "replay"; id: string }
  /** A fragment that cannot be a lobby code; `raw` is what it said, cut short for display. */
  | { kind: "bad"; raw: string };

/** How much of a bad fragment to quote back to the player. */
const RAW_SHOWN = 16;

/** Reads `location.hash`. Like the server (lobby/code.rs), case, spaces and dashes do not matter. */
export function parseInvite(hash: string): Invite {
  let text = hash.startsWith("#") ? hash.slice(1) : hash;
  try {
    text = decodeURIComponent(text);
  } catch {
    // A stray "%": keep the text as it came; it will not be a code either way.
  }
  text = text.trim();
  if (text === "") return { kind: "none" };
  const watch = /^watch\/(.*)$/i.exec(text);
  if (watch !== null) {
    const code = watch[1]!.replace(/[\s-]/g, "").toUpperCase();
    if (isCode(code)) return { kind: "watch", code };
  }
  const replay = /^replay\/(\d{1,20}-\d{1,20})$/i.exec(text);
  if (replay !== null) return { kind: "replay", id: replay[1]! };
  const code = text.replace(/[\s-]/g, "").toUpperCase();
  if (isCode(code)) return { kind: "code", code };
  const raw = text.length > RAW_SHOWN ? `${text.slice(0, RAW_SHOWN - 1)}…` : text;
  return { kind: "bad", raw };
}

/** `CODE_LEN` characters of the server's code alphabet (no 0, O, 1, I, L). */
export function isCode(s: string): boolean {
  return s.length === CODE_LEN && [...s].every((ch) => CODE_ALPHABET.includes(ch));
}
