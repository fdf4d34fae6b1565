// The WebSocket connection: Hello/Welcome handshake, reconnect with backoff and the seat token, ping, byte counters.

import {
  CloseCode,
  ErrorCode,
  PROTOCOL_VERSION,
  decodeServer,
  encodeClient,
  type ClientLimits,
  type ClientMsg,
  type ServerMsg,
} from "./protocol";
import { RttEstimate } from "./rtt";

/** connecting: first attempt; online: welcomed; reconnecting: lost it, trying again; failed: gave up for good. */
export type NetState = "connecting" | "online" | "reconnecting" | "failed";

export interface NetHandlers {
  message(msg: ServerMsg): void;
  state(state: NetState, reason: string): void;
}

/** Closes after which trying again cannot help. */
const FATAL_CLOSES = new Map<number, string>([
  [CloseCode.BAD_VERSION, "Version mismatch: this page does not match the server. Reload the page."],
  [CloseCode.REPLACED, "This game was opened in another tab or window."],
  [CloseCode.ORIGIN_NOT_ALLOWED, "The server does not accept connections from this page's address."],
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

  constructor(
    private readonly url: string,
    private readonly on: NetHandlers,
  ) {}

  /** Connects as `name` (closing any current connection first). */
  connect(name: string): void {
    this.name = name;
    this.attempt = 0;
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
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.lost(`could not open a WebSocket: ${(e as Error).message}`);
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      const token = this.resumeSeat ? this.token : null;
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
      if (fatal !== undefined) {
        this.setState("failed", fatal);
        return;
      }
      const why = ev.reason !== "" ? ev.reason : `connection closed (${ev.code})`;
      this.lost(why);
    };
    // onerror is always followed by onclose, which does the work.
    ws.onerror = () => {};
  }

  private received(msg: ServerMsg): void {
    switch (msg.type) {
      case "welcome":
        clearTimeout(this.helloTimer);
        if (msg.version !== PROTOCOL_VERSION) {
          this.drop();
          this.setState("failed", FATAL_CLOSES.get(CloseCode.BAD_VERSION)!);
          return;
        }
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

  /** The connection is gone: say so and try again after a backoff. */
  private lost(reason: string): void {
    this.setState(this.everOnline ? "reconnecting" : "connecting", reason);
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.retryTimer);
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] ?? MAX_BACKOFF_MS;
    const wait = Math.min(MAX_BACKOFF_MS, base) * (0.8 + Math.random() * 0.4);
    this.attempt++;
    this.retryTimer = setTimeout(() => this.open(), wait);
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
