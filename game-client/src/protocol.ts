// The wire protocol (src/protocol/ in the server is the source of truth): message types, encode and decode.

import { Decoder, Encoder } from "@msgpack/msgpack";

/** Bumped by the server on any incompatible change; a Hello with another number is refused. */
export const PROTOCOL_VERSION = 1;
/** Bit 0 of `Input.buttons`. */
export const BUTTON_FIRE = 1;
/** Limits the server enforces, in bytes of UTF-8 (we trim to them before sending). */
export const MAX_NAME_LEN = 24;
export const MAX_LOBBY_NAME_LEN = 32;
export const MAX_CHAT_LEN = 200;
export const CODE_LEN = 6;
/** The characters of join codes: upper-case letters and digits without 0, O, 1, I and L. */
export const CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/** CreateLobby's optional round settings, as the server defaults them when they are left out. */
export const DEFAULT_KILL_GOAL = 10;
export const DEFAULT_ROUND_SECONDS = 300;

// ---------------------------------------------------------------------------------------------
// Client to server. Each is a flat MessagePack array [type, ...fields].

export const C = {
  HELLO: 0,
  LIST_LOBBIES: 1,
  CREATE_LOBBY: 2,
  JOIN: 3,
  SPECTATE: 4,
  QUICK_JOIN: 5,
  LEAVE: 6,
  INPUT: 7,
  CHAT: 8,
  PING: 9,
  RESTART_ROUND: 10,
  RESYNC: 11,
  REDEEM: 12,
} as const;

/** Most earlier inputs one `Input` may carry (the server refuses more). */
export const MAX_EARLIER_INPUTS = 8;

/** A lobby named by its numeric id or its 6-character join code. */
export type LobbyRef = number | string;

export interface PlayerInput {
  seq: number;
  /** Each -1, 0 or 1. */
  dx: number;
  dy: number;
  /** Radians. */
  aim: number;
  buttons: number;
  /** The server tick we were drawing the others at (lag compensation); 0 or absent: not said. */
  viewTick?: number;
}

export type ClientMsg =
  | { type: "hello"; version: number; name: string; token: string | null }
  | { type: "listLobbies"; game: string | null }
  | {
      type: "createLobby";
      name: string;
      game: string;
      maxPlayers: number;
      public: boolean;
      /** First to this many eliminations wins a round (0: no goal). Left out: the server's default. */
      killGoal?: number;
      /** A round's length in seconds (0: no clock). Left out: the server's default. */
      roundSeconds?: number;
    }
  | { type: "join"; lobby: LobbyRef }
  | { type: "spectate"; lobby: LobbyRef }
  | { type: "quickJoin"; game: string }
  | { type: "leave" }
  | ({ type: "input"; earlier?: PlayerInput[] } & PlayerInput)
  | { type: "chat"; text: string }
  | { type: "ping"; nonce: number }
  | { type: "restartRound" }
  | { type: "resync" }
  /** Takes the seat a `Redirect` reserved on this node: its ticket, byte for byte. */
  | { type: "redeem"; ticket: Uint8Array };

// ---------------------------------------------------------------------------------------------
// Server to client.

export const S = {
  WELCOME: 0,
  LOBBY_LIST: 1,
  JOINED: 2,
  SNAPSHOT: 3,
  LOBBY_EVENT: 4,
  CHAT: 5,
  PONG: 6,
  ERROR: 7,
  LEFT: 8,
  ROSTER: 9,
  REDIRECT: 10,
} as const;

export interface LobbySummary {
  id: number;
  code: string;
  name: string;
  game: string;
  players: number;
  maxPlayers: number;
  /** The WebSocket URL of the node the lobby runs on, in a cluster; null on a single server. */
  url: string | null;
}

export interface RosterEntry {
  id: number;
  name: string;
}

/** Something a tick's state alone does not show. In the arena: 1 hit [shooter, target], 2 kill, 3 respawn. */
export interface GameEvent {
  kind: number;
  a: number;
  b: number;
}

/** The world at `tick` as a delta from tick `tick - baseDelta` (0: a full snapshot). */
export interface SnapshotBody {
  tick: number;
  baseDelta: number;
  removed: number[];
  /** Per changed entity a header `(idGap << fieldCount) | mask`, then one int32 difference per set bit. */
  entities: number[];
  events: GameEvent[];
}

export interface JoinedInfo {
  lobby: number;
  code: string;
  name: string;
  game: string;
  /** Our player (entity) id; null when spectating. */
  you: number | null;
  host: number | null;
  tickRate: number;
  snapshotRate: number;
  maxPlayers: number;
  fieldCount: number;
  roster: RosterEntry[];
  snapshot: SnapshotBody;
}

export const LobbyEventKind = {
  JOINED: 0,
  LEFT: 1,
  HOST_CHANGED: 2,
  AWAY: 3,
  BACK: 4,
  ROUND_RESTARTED: 5,
} as const;

/** What the server allows a client, from `Welcome` (durations in milliseconds). */
export interface ClientLimits {
  /** Largest message we may send, in bytes (more: close 1009). */
  maxMessageBytes: number;
  /** The shared rate limit on everything we send: per second, and the burst. */
  messagesPerSecond: number;
  messageBurst: number;
  /** Chat: a burst of lines, then one more every `chatRefillMs`. */
  chatBurst: number;
  chatRefillMs: number;
  /** How long our seat is held after a drop (0: not held). */
  reconnectGraceMs: number;
  /** How long we may fail to take our snapshots before close 4002. */
  slowClientTimeoutMs: number;
  /** Silence (not even a pong) longer than this: close 4004. */
  idleTimeoutMs: number;
  /** Malformed frames tolerated; one more: close 4001. */
  maxDecodeErrors: number;
}

/** What to do on the node a `Redirect` names, once it has welcomed us (PROTOCOL.md 5.11). */
export const RedirectThen = {
  /** Send `Redeem` with the ticket: the seat we asked for is waiting there. */
  REDEEM: 0,
  /** Send the same request (CreateLobby or QuickJoin) again there. */
  RETRY: 1,
  /** Our seat is there: the Hello carries our reconnect token. */
  RESUME: 2,
} as const;

/** Who spoke a `Chat` line (its last field): tell lines apart by this, never by the name. */
export const ChatRole = {
  PLAYER: 0,
  SPECTATOR: 1,
  SERVER: 2,
} as const;

export type ServerMsg =
  | {
      type: "welcome";
      version: number;
      session: number;
      token: string;
      tickRate: number;
      snapshotRate: number;
      /** Random per server process start: a new one means the server restarted. */
      serverId: string;
      limits: ClientLimits;
    }
  | { type: "lobbyList"; lobbies: LobbySummary[] }
  | ({ type: "joined" } & JoinedInfo)
  | ({ type: "snapshot" } & SnapshotBody)
  | { type: "lobbyEvent"; kind: number; player: number; name: string }
  | { type: "chat"; from: number | null; name: string; text: string; role: number }
  | { type: "pong"; nonce: number }
  | { type: "error"; code: number; message: string }
  | { type: "left"; lobby: number; reason: string }
  | { type: "roster"; host: number | null; roster: RosterEntry[] }
  /** Only a cluster node sends it: go to `url`, Hello there, then do what `then` says. */
  | { type: "redirect"; url: string; then: number; lobby: number; ticket: Uint8Array };

/** Error codes in `Error` frames (src/protocol/codes.rs). */
export const ErrorCode = {
  BAD_VERSION: 1,
  MALFORMED: 2,
  NOT_ALLOWED: 3,
  LOBBY_NOT_FOUND: 4,
  LOBBY_FULL: 5,
  LOBBY_LIMIT: 6,
  BAD_REQUEST: 7,
  RATE_LIMITED: 8,
  RECONNECT_FAILED: 9,
  NOT_HOST: 10,
  ALREADY_IN_LOBBY: 11,
  SHUTTING_DOWN: 12,
  BAD_INPUT: 13,
  UNKNOWN_MESSAGE: 14,
  OVERLOADED: 15,
  CLUSTER_UNAVAILABLE: 16,
  TICKET_REFUSED: 17,
} as const;

/** WebSocket close codes the server uses (src/protocol/codes.rs). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  ORIGIN_NOT_ALLOWED: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  BAD_VERSION: 4000,
  PROTOCOL_VIOLATION: 4001,
  TOO_SLOW: 4002,
  RATE_LIMITED: 4003,
  TIMEOUT: 4004,
  REPLACED: 4005,
  SERVER_FULL: 4006,
  /** An operator removed this player; the `Left` just before says why. */
  KICKED: 4007,
} as const;

// ---------------------------------------------------------------------------------------------
// Encoding.

// forceFloat32: the only non-integer we send is `aim`, which the server reads as an f32 anyway.
const encoder = new Encoder({ forceFloat32: true });

/**
 * `aim` always goes out as a MessagePack float. @msgpack/msgpack writes any JS number that is an
 * integer (0, 3, -0 ...) as a MessagePack int. rmp-serde does accept an int for an f32 field (its
 * `deserialize_f32` takes any number), but we keep the wire type uniform and independent of that
 * leniency: an integral aim is nudged by 1e-6 rad (far below the 1/1024-turn precision snapshots carry).
 */
export function floatAim(aim: number): number {
  if (!Number.isFinite(aim)) return 1e-6;
  return Number.isInteger(aim) ? aim + 1e-6 : aim;
}

/** The flat array for one client message, before MessagePack. */
export function clientArray(msg: ClientMsg): unknown[] {
  switch (msg.type) {
    case "hello":
      return [C.HELLO, msg.version, msg.name, msg.token];
    case "listLobbies":
      return [C.LIST_LOBBIES, msg.game];
    case "createLobby": {
      const a: unknown[] = [C.CREATE_LOBBY, msg.name, msg.game, msg.maxPlayers | 0, msg.public];
      // Optional trailing u16s: the kill goal, then the round length (a server without rounds
      // skips them). Without either the message is byte-identical to the five-element one.
      if (msg.killGoal !== undefined || msg.roundSeconds !== undefined) a.push(u16(msg.killGoal ?? DEFAULT_KILL_GOAL));
      if (msg.roundSeconds !== undefined) a.push(u16(msg.roundSeconds));
      return a;
    }
    case "join":
      return [C.JOIN, msg.lobby];
    case "spectate":
      return [C.SPECTATE, msg.lobby];
    case "quickJoin":
      return [C.QUICK_JOIN, msg.game];
    case "leave":
      return [C.LEAVE];
    case "input": {
      const out = [C.INPUT, ...inputFields(msg)];
      const earlier = (msg.earlier ?? []).slice(-MAX_EARLIER_INPUTS);
      if (earlier.length > 0) {
        if (out.length === 6) out.push(0);
        out.push(earlier.map(inputFields));
      }
      return out;
    }
    case "chat":
      return [C.CHAT, msg.text];
    case "ping":
      return [C.PING, msg.nonce];
    case "restartRound":
      return [C.RESTART_ROUND];
    case "resync":
      return [C.RESYNC];
    case "redeem":
      // A Uint8Array is written as MessagePack bin, which is what the server reads.
      return [C.REDEEM, msg.ticket];
  }
}

/** `[seq, dx, dy, aim, buttons, view_tick?]`: an input's fields, as `Input` and its `earlier` carry them. */
function inputFields(i: PlayerInput): unknown[] {
  const out: unknown[] = [i.seq >>> 0, i.dx | 0, i.dy | 0, floatAim(i.aim), i.buttons & 0xff];
  if (i.viewTick !== undefined && i.viewTick > 0) out.push(i.viewTick >>> 0);
  return out;
}

/** A whole number in 0..65535 (a u16 on the wire). */
function u16(n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.min(0xffff, Math.round(n))) : 0;
}

export function encodeClient(msg: ClientMsg): Uint8Array<ArrayBuffer> {
  return encoder.encode(clientArray(msg));
}

// ---------------------------------------------------------------------------------------------
// Decoding: strict about shapes, so a bad frame is one clear error rather than undefined fields later.

export class ProtocolError extends Error {}

// Frames come from our own server; the shape checks below catch anything unexpected.
const decoder = new Decoder();

function fail(what: string): never {
  throw new ProtocolError(what);
}

function int(v: unknown, field: string): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  return fail(`${field}: expected an integer, got ${typeof v}`);
}

function optInt(v: unknown, field: string): number | null {
  return v === null || v === undefined ? null : int(v, field);
}

function str(v: unknown, field: string): string {
  if (typeof v === "string") return v;
  return fail(`${field}: expected a string, got ${typeof v}`);
}

function optStr(v: unknown, field: string): string | null {
  return v === null || v === undefined ? null : str(v, field);
}

/** MessagePack bin, copied (the decoder hands out a view into the frame's buffer). */
function bin(v: unknown, field: string): Uint8Array {
  if (v instanceof Uint8Array) return v.slice();
  return fail(`${field}: expected bytes (bin), got ${typeof v}`);
}

function arr(v: unknown, field: string): unknown[] {
  if (Array.isArray(v)) return v;
  return fail(`${field}: expected an array, got ${typeof v}`);
}

function ints(v: unknown, field: string): number[] {
  const a = arr(v, field);
  for (const x of a) int(x, field);
  return a as number[];
}

function limits(v: unknown): ClientLimits {
  const l = arr(v, "limits");
  return {
    maxMessageBytes: int(l[0], "max_message_bytes"),
    messagesPerSecond: int(l[1], "messages_per_second"),
    messageBurst: int(l[2], "message_burst"),
    chatBurst: int(l[3], "chat_burst"),
    chatRefillMs: int(l[4], "chat_refill_ms"),
    reconnectGraceMs: int(l[5], "reconnect_grace_ms"),
    slowClientTimeoutMs: int(l[6], "slow_client_timeout_ms"),
    idleTimeoutMs: int(l[7], "idle_timeout_ms"),
    maxDecodeErrors: int(l[8], "max_decode_errors"),
  };
}

function roster(v: unknown): RosterEntry[] {
  return arr(v, "roster").map((e) => {
    const r = arr(e, "roster entry");
    return { id: int(r[0], "roster id"), name: str(r[1], "roster name") };
  });
}

export function snapshotBody(v: unknown[], at: number): SnapshotBody {
  return {
    tick: int(v[at], "tick"),
    baseDelta: int(v[at + 1], "base_delta"),
    removed: ints(v[at + 2], "removed"),
    entities: ints(v[at + 3], "entities"),
    events: arr(v[at + 4], "events").map((e) => {
      const x = arr(e, "event");
      return { kind: int(x[0], "event kind"), a: int(x[1], "event a"), b: int(x[2], "event b") };
    }),
  };
}

/** Turns one decoded array into a typed message; `null` for a type number this client does not know. */
export function serverFromArray(v: unknown): ServerMsg | null {
  const m = arr(v, "message");
  const tag = int(m[0], "type");
  switch (tag) {
    case S.WELCOME:
      return {
        type: "welcome",
        version: int(m[1], "version"),
        session: int(m[2], "session"),
        token: str(m[3], "reconnect_token"),
        tickRate: int(m[4], "tick_rate"),
        snapshotRate: int(m[5], "snapshot_rate"),
        serverId: str(m[6], "server_id"),
        limits: limits(m[7]),
      };
    case S.LOBBY_LIST:
      return {
        type: "lobbyList",
        lobbies: arr(m[1], "lobbies").map((e) => {
          const l = arr(e, "lobby");
          return {
            id: int(l[0], "lobby id"),
            code: str(l[1], "lobby code"),
            name: str(l[2], "lobby name"),
            game: str(l[3], "lobby game"),
            players: int(l[4], "players"),
            maxPlayers: int(l[5], "max_players"),
            // Appended within version 1: absent from an older server, nil on a single server.
            url: optStr(l[6], "lobby url"),
          };
        }),
      };
    case S.JOINED:
      return {
        type: "joined",
        lobby: int(m[1], "lobby"),
        code: str(m[2], "code"),
        name: str(m[3], "name"),
        game: str(m[4], "game"),
        you: optInt(m[5], "you"),
        host: optInt(m[6], "host"),
        tickRate: int(m[7], "tick_rate"),
        snapshotRate: int(m[8], "snapshot_rate"),
        maxPlayers: int(m[9], "max_players"),
        fieldCount: int(m[10], "field_count"),
        roster: roster(m[11]),
        snapshot: snapshotBody(arr(m[12], "snapshot"), 0),
      };
    case S.SNAPSHOT:
      return { type: "snapshot", ...snapshotBody(m, 1) };
    case S.LOBBY_EVENT:
      return {
        type: "lobbyEvent",
        kind: int(m[1], "kind"),
        player: int(m[2], "player"),
        name: str(m[3], "name"),
      };
    case S.CHAT:
      return {
        type: "chat",
        from: optInt(m[1], "from"),
        name: str(m[2], "name"),
        text: str(m[3], "text"),
        role: int(m[4], "role"),
      };
    case S.PONG:
      return { type: "pong", nonce: int(m[1], "nonce") };
    case S.ERROR:
      return { type: "error", code: int(m[1], "code"), message: str(m[2], "message") };
    case S.LEFT:
      return { type: "left", lobby: int(m[1], "lobby"), reason: str(m[2], "reason") };
    case S.ROSTER:
      return { type: "roster", host: optInt(m[1], "host"), roster: roster(m[2]) };
    case S.REDIRECT:
      return {
        type: "redirect",
        url: str(m[1], "url"),
        then: int(m[2], "then"),
        lobby: int(m[3], "lobby"),
        ticket: bin(m[4], "ticket"),
      };
    default:
      return null;
  }
}

/** Decodes one binary frame. Throws `ProtocolError` (or the codec's error) on a malformed frame. */
export function decodeServer(bytes: Uint8Array): ServerMsg | null {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (e) {
    throw new ProtocolError(`not a MessagePack frame: ${(e as Error).message}`);
  }
  return serverFromArray(value);
}

/**
 * A replay's frames (`GET /api/replays/{id}/frames`): a MessagePack array of snapshot bodies, the
 * first whole, each next a delta from the one before.
 */
export function decodeSnapshotBodies(bytes: Uint8Array): SnapshotBody[] {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (e) {
    throw new ProtocolError(`not MessagePack: ${(e as Error).message}`);
  }
  return arr(value, "frames").map((b) => snapshotBody(arr(b, "frame"), 0));
}

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function clampUtf8(s: string, maxBytes: number): string {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= maxBytes) return s;
  let out = "";
  let used = 0;
  for (const ch of s) {
    const n = enc.encode(ch).length;
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}
