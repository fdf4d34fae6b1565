// The server's replay routes: list recent replays, describe one, fetch its frames from a tick.

import { decodeSnapshotBodies, type SnapshotBody } from "../protocol";

/** One replay in `GET /api/replays`. */
export interface ListedReplay {
  id: string;
  game: string;
  lobby: string;
  code: string;
  public: boolean;
  start_unix_ms: number;
  bytes: number;
}

/** `GET /api/replays/{id}`. */
export interface ReplayInfo {
  id: string;
  game: string;
  lobby: string;
  code: string;
  tick_rate: number;
  field_count: number;
  first_tick: number;
  last_tick: number;
  seconds: number;
  players: Array<{ id: number; name: string }>;
  ended: boolean;
  diverged_at: number | null;
  max_frames: number;
}

/** A replay id: `<start unix ms>-<lobby id>` (the file's name). */
export const REPLAY_ID = /^\d{1,20}-\d{1,20}$/;

/**
 * The operator's token, when the console in this tab has one (it embeds the game in a frame of the
 * same tab, which shares the tab's sessionStorage): private lobbies' replays need it.
 */
function auth(): HeadersInit {
  let token: string | null = null;
  try {
    token = sessionStorage.getItem("tickrelay.admin.token");
  } catch {
    // Storage may be off; public replays need no token.
  }
  return token === null ? {} : { Authorization: `Bearer ${token}` };
}

/** What went wrong, in the server's words when it gave any. */
async function failure(res: Response): Promise<Error> {
  let msg = `${res.status} ${res.statusText}`;
  try {
    const j = (await res.json()) as { error?: string };
    if (typeof j.error === "string") msg = j.error;
  } catch {
    // not JSON: the status says it
  }
  return new Error(msg);
}

export async function listReplays(): Promise<ListedReplay[]> {
  const res = await fetch("/api/replays", { headers: auth() });
  if (!res.ok) throw await failure(res);
  return ((await res.json()) as { replays: ListedReplay[] }).replays;
}

export async function describeReplay(id: string): Promise<ReplayInfo> {
  const res = await fetch(`/api/replays/${encodeURIComponent(id)}`, { headers: auth() });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as ReplayInfo;
}

export async function replayFrames(id: string, from: number, count: number): Promise<SnapshotBody[]> {
  const res = await fetch(`/api/replays/${encodeURIComponent(id)}/frames?from=${from}&count=${count}`, { headers: auth() });
  if (!res.ok) throw await failure(res);
  return decodeSnapshotBodies(new Uint8Array(await res.arrayBuffer()));
}
