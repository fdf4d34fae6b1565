// The WebSocket connection: Hello/Welcome handshake, reconnect with backoff and the seat token, ping, byte counters,
// and a cluster's redirects, followed quietly (at most MAX_REDIRECTS in a row for one request).

import {
  CloseCode,
  ErrorCode,
  PROTOCOL_VERSION,
  RedirectThen,
  decodeServer,
  encodeClient,
  type ClientLimits,
  type ClientMsg,
  type ServerMsg,
} from "./protocol";
import { RttEstimate } from "./rtt";

/**
 * connecting: first attempt; online: welcomed; reconnecting: lost it, trying again; redirecting: following a
 * cluster's Redirect to another node (not a drop: nothing to show the player); failed: gave up for good.
 */
export type NetState = "connecting" | "online" | "reconnecting" | "redirecting" | "failed";

export interface NetHandlers {
  /** Every server message but Redirect, which the connection follows by itself. */
  message(msg: ServerMsg): void;
  state(state: NetState, reason: string): void;
  /**
   * A request we were redirected for came to nothing: too many redirects in a row, or the node they named could
   * not be reached. Say so: nothing else will answer that request.
   */
  redirectFailed(reason: string): void;
}

/** A client follows at most this many Redirects in a row for one request (PROTOCOL.md 5.11). */
export const MAX_REDIRECTS = 3;
/**
 * After this many failed attempts in a row at a node a redirect took us to, try the page's own server again: a
 * node that stopped answering took its lobbies with it, and any node knows where a seat is.
 */
const HOME_AFTER = 3;

/** The requests a cluster node may answer with a Redirect (a resume is the fourth: a Hello with a token). */
type Request = Extract<ClientMsg, { type: "join" | "spectate" | "quickJoin" | "createLobby" }>;

function isRequest(m: ClientMsg): m is Request {
  return m.type === "join" || m.type === "spectate" || m.type === "quickJoin" || m.type === "createLobby";
}

/** What to do on the node a Redirect sent us to, once it has welcomed us. */
type FollowUp = { then: "redeem"; ticket: Uint8Array } | { then: "retry"; request: Request } | { then: "resume" };

/** The node a cluster node's reconnect token names (`node1.<hex>`); null for a single server's (no node part). */
export function tokenNode(token: string | null): string | null {
  if (token === null) return null;
  const dot = token.indexOf(".");
  return dot < 0 ? null : token.slice(0, dot);
}

/** What the page says after close 4007 (the operator's reason, from the `Left` before it, follows). */
export const KICKED_TEXT = "An operator removed you from the game. Reload the page to play again.";

/** Closes after which trying again cannot help. */
const FATAL_CLOSES = new Map<number, string>([
  [CloseCode.BAD_VERSION, "Version mismatch: this page does not match the server. Reload the page."],
  [CloseCode.REPLACED, "This game was opened in another tab or window."],
  [CloseCode.ORIGIN_NOT_ALLOWED, "The server does not accept connections from this page's address."],
  [CloseCode.KICKED, KICKED_TEXT],
]);

const BACKOFF_MS = [250, 500, 1000, 2000, 4000];
const MAX_BACKOFF_MS = 5000;
const HELLO_TIMEOUT_MS = 5000;
const PING_EVERY_MS = 1000;

export class Net {
  state: NetState = "connecting";
  /** Latest reconnect token from Welcome; sent in Hello to get our seat back after a drop. */
  token: string | null = null;
  /** Send the token on the next Hello (only while we hold a seat worth resuming). */
  resumeSeat = false;
  session = 0;
  tickRate = 30;
  snapshotRate = 30;
  /** The server's id from the latest Welcome ("" before the first): another id than before means
   * the server restarted (our lobby is gone), not that our seat expired. */
  serverId = "";
  /**
   * Whether the latest Welcome says the server restarted: another id than the previous Welcome's, from the same
   * node. Ids are per process, so one at the end of a redirect (or from another cluster node) says nothing.
   */
  restarted = false;
  /** The latest Welcome came on a connection opened to follow a Redirect. */
  redirected = false;
  /** What the server allows us, from the latest Welcome (null before the first). */
  limits: ClientLimits | null = null;
  /** Round trip (ms): the network's (the lowest recent Ping), and the recent mean with the
   * server's wait for its tick included. */
  readonly rtt = new RttEstimate();
  /** Totals since the page loaded, for the debug overlay's per-second rates. */
  bytesIn = 0;
  framesIn = 0;

  private ws: WebSocket | null = null;
  private name = "";
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private helloTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private nonce = 1;
  private pings = new Map<number, number>();
  private everOnline = false;
  /** Where we connect: the page's own server, or the cluster node a Redirect sent us to (we stay there). */
  private nodeUrl: string;
  /** The latest request that a node may redirect, and how many Redirects in a row followed it. */
  private request: Request | null = null;
  private hops = 0;
  /** Set while we follow a Redirect: what to send once the new node welcomes us. */
  private followUp: FollowUp | null = null;
  /** The node we left to follow the current Redirect: back there if the new one cannot be reached. */
  private cameFrom: string | null = null;
  /** The reconnect token the latest Hello carried (a Resume redirect takes it on to the seat's node). */
  private helloToken: string | null = null;

  constructor(
    private readonly home: string,
    private readonly on: NetHandlers,
  ) {
    this.nodeUrl = home;
  }

  /** The WebSocket URL we are connected (or connecting) to. */
  get url(): string {
    return this.nodeUrl;
  }

  /** Connects as `name` (closing any current connection first). */
  connect(name: string): void {
    this.name = name;
    this.attempt = 0;
    this.followUp = null;
    this.cameFrom = null;
    this.hops = 0;
    this.drop();
    this.setState(this.everOnline ? "reconnecting" : "connecting", "");
    this.open();
  }

  get online(): boolean {
    return this.state === "online";
  }

  get helloName(): string {
    return this.name;
  }

  /** Sends a message if the socket is welcomed; false if it could not be sent. */
  send(msg: ClientMsg): boolean {
    if (!this.write(msg)) return false;
    if (isRequest(msg)) {
      // A new request: its redirects are counted afresh.
      this.request = msg;
      this.hops = 0;
    }
    return true;
  }

  private write(msg: ClientMsg): boolean {
    if (this.ws === null || this.ws.readyState !== WebSocket.OPEN || this.state !== "online") return false;
    this.ws.send(encodeClient(msg));
    return true;
  }

  /** Drops the connection and reconnects (with the token when `resumeSeat`), as after a network drop. */
  resync(): void {
    this.drop();
    this.setState("reconnecting", "resynchronising");
    this.schedule();
  }

  private open(): void {
    const follow = this.followUp;
    // Following a Redeem or Retry redirect we hold no seat there; a Resume (and a reconnect to a held seat)
    // carries the token.
    const token = follow !== null ? (follow.then === "resume" ? this.token : null) : this.resumeSeat ? this.token : null;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.nodeUrl);
    } catch (e) {
      this.lost(`could not open a WebSocket: ${(e as Error).message}`);
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.helloToken = token;
      ws.send(encodeClient({ type: "hello", version: PROTOCOL_VERSION, name: this.name, token }));
      this.helloTimer = setTimeout(() => {
        if (this.ws === ws && this.state !== "online") {
          this.drop();
          this.lost("the server did not answer Hello in time");
        }
      }, HELLO_TIMEOUT_MS);
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws !== ws) return;
      if (!(ev.data instanceof ArrayBuffer)) return; // the protocol is binary only
      this.bytesIn += ev.data.byteLength;
      this.framesIn++;
      let msg: ServerMsg | null;
      try {
        msg = decodeServer(new Uint8Array(ev.data));
      } catch (e) {
        console.warn("tickrelay: dropped a malformed frame:", (e as Error).message);
        return;
      }
      if (msg !== null) this.received(msg);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopTimers();
      const fatal = FATAL_CLOSES.get(ev.code);
      if (fatal !== undefined && this.followUp === null) {
        this.setState("failed", fatal);
        return;
      }
      // A node a Redirect sent us to that refuses us (its allowed origins lack this page, say) is not the end:
      // lost() says the request failed and takes us back to the node we came from.
      const why = fatal ?? (ev.reason !== "" ? ev.reason : `connection closed (${ev.code})`);
      this.lost(why);
    };
    // onerror is always followed by onclose, which does the work.
    ws.onerror = () => {};
  }

  private received(msg: ServerMsg): void {
    switch (msg.type) {
      case "welcome": {
        clearTimeout(this.helloTimer);
        if (msg.version !== PROTOCOL_VERSION) {
          this.drop();
          this.setState("failed", FATAL_CLOSES.get(CloseCode.BAD_VERSION)!);
          return;
        }
        const follow = this.followUp;
        this.followUp = null;
        this.cameFrom = null;
        this.redirected = follow !== null;
        // Server ids are per process: they tell a restart only between two Welcomes of one node.
        this.restarted =
          !this.redirected && this.serverId !== "" && msg.serverId !== this.serverId && tokenNode(this.token) === tokenNode(msg.token);
        // A connection of our own (not a redirect's): whatever it leads to is a new chain.
        if (!this.redirected) this.hops = 0;
        this.token = msg.token;
        this.session = msg.session;
        this.tickRate = msg.tickRate;
        this.snapshotRate = msg.snapshotRate;
        this.serverId = msg.serverId;
        this.limits = msg.limits;
        this.attempt = 0;
        this.everOnline = true;
        this.setState("online", "");
        this.startPing();
        // Then what the Redirect said to do here (the Welcome still goes to the app, after it).
        if (follow?.then === "redeem") this.write({ type: "redeem", ticket: follow.ticket });
        else if (follow?.then === "retry") this.write(follow.request);
        break;
      }
      case "redirect":
        this.follow(msg);
        return;
      case "joined":
        // The request got its answer: the next redirect starts a new count.
        this.hops = 0;
        break;
      case "pong": {
        const sent = this.pings.get(msg.nonce);
        if (sent !== undefined) {
          this.pings.delete(msg.nonce);
          this.rtt.add(performance.now() - sent);
        }
        return;
      }
      case "error":
        if (msg.code === ErrorCode.BAD_VERSION) {
          this.drop();
          this.setState("failed", FATAL_CLOSES.get(CloseCode.BAD_VERSION)!);
          return;
        }
        if (msg.code === ErrorCode.RECONNECT_FAILED) this.resumeSeat = false;
        break;
    }
    this.on.message(msg);
  }

  private startPing(): void {
    clearInterval(this.pingTimer);
    const ping = () => {
      const nonce = this.nonce++ >>> 0;
      this.pings.set(nonce, performance.now());
      if (this.pings.size > 16) this.pings.delete(this.pings.keys().next().value!);
      this.send({ type: "ping", nonce });
    };
    ping();
    this.pingTimer = setInterval(ping, PING_EVERY_MS);
  }

  /**
   * A cluster node sends us to another: close this connection quietly (we are leaving, not lost), connect to
   * the one it names with the same name, and once welcomed there do what it says. The 4th in a row for one
   * request is not followed: we stay here and say the request failed.
   */
  private follow(r: Extract<ServerMsg, { type: "redirect" }>): void {
    if (this.hops >= MAX_REDIRECTS) {
      this.giveUp(`The servers kept sending us elsewhere (${MAX_REDIRECTS} redirects in a row), so we stopped. Try again in a moment.`);
      return;
    }
    const next = this.followUpFor(r);
    if (typeof next === "string") {
      this.giveUp(next);
      return;
    }
    this.hops++;
    this.followUp = next;
    // A Resume takes the token we came with to its node (the Welcome just before gave us another).
    if (next.then === "resume") this.token = this.helloToken;
    this.cameFrom = this.nodeUrl;
    this.nodeUrl = r.url;
    this.drop();
    this.attempt = 0;
    this.setState("redirecting", `to ${r.url}`);
    this.open();
  }

  private followUpFor(r: Extract<ServerMsg, { type: "redirect" }>): FollowUp | string {
    if (!/^wss?:\/\//i.test(r.url)) return `The server sent us to "${r.url}", which is not a WebSocket address.`;
    switch (r.then) {
      case RedirectThen.REDEEM:
        return { then: "redeem", ticket: r.ticket };
      case RedirectThen.RETRY:
        return this.request !== null ? { then: "retry", request: this.request } : "The server sent us elsewhere to ask again, but we had asked nothing.";
      case RedirectThen.RESUME:
        return this.helloToken !== null ? { then: "resume" } : "The server sent us elsewhere for a seat we did not ask back.";
      default:
        return `The server sent us elsewhere with an instruction this page does not know (${r.then}). Reload the page.`;
    }
  }

  private giveUp(reason: string): void {
    this.hops = 0;
    this.on.redirectFailed(reason);
  }

  /** The connection is gone: say so and try again after a backoff. */
  private lost(reason: string): void {
    if (this.followUp !== null) {
      // The node a Redirect named did not welcome us: that request is lost. Reconnect where we were.
      this.followUp = null;
      if (this.cameFrom !== null) this.nodeUrl = this.cameFrom;
      this.cameFrom = null;
      this.giveUp(`Could not reach the server that lobby is on (${reason.replace(/\.$/, "")}).`);
    }
    this.setState(this.everOnline ? "reconnecting" : "connecting", reason);
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.retryTimer);
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] ?? MAX_BACKOFF_MS;
    const wait = Math.min(MAX_BACKOFF_MS, base) * (0.8 + Math.random() * 0.4);
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      if (this.attempt >= HOME_AFTER && this.nodeUrl !== this.home) this.nodeUrl = this.home;
      this.open();
    }, wait);
  }

  /** Closes the current socket (if any) without triggering a reconnect. */
  private drop(): void {
    clearTimeout(this.retryTimer);
    this.stopTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws !== null && ws.readyState <= WebSocket.OPEN) ws.close(1000);
  }

  private stopTimers(): void {
    clearTimeout(this.helloTimer);
    clearInterval(this.pingTimer);
    this.pings.clear();
    this.rtt.clear();
  }

  /** How many attempts since we last were online (the UI says "unreachable" after a few). */
  get attempts(): number {
    return this.attempt;
  }

  private setState(s: NetState, reason: string): void {
    this.state = s;
    this.on.state(s, reason);
  }
}
