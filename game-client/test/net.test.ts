// The connection against fake sockets and a fake clock: a cluster's Redirect is followed quietly (Hello with the
// same name, then Redeem, the same request again, or the seat's token), at most 3 in a row for one request, and
// reconnects go to the node we are on.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { decode, encode } from "@msgpack/msgpack";
import { MAX_REDIRECTS, Net, tokenNode, type NetState } from "../src/net";
import { RedirectThen, encodeClient, type ClientMsg, type ServerMsg } from "../src/protocol";
import { hex, rust, unhex } from "./helpers";

/** A WebSocket the test plays the server's side of. */
class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static made: FakeSocket[] = [];

  readyState = FakeSocket.CONNECTING;
  binaryType = "blob";
  /** Every frame the client sent, as bytes. */
  raw: Uint8Array[] = [];
  /** The close code the client closed with (null: it did not). */
  closedWith: number | null = null;
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: ArrayBuffer }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }

  send(bytes: Uint8Array): void {
    this.raw.push(bytes.slice());
  }

  close(code = 1005): void {
    if (this.readyState === FakeSocket.CLOSED) return;
    this.readyState = FakeSocket.CLOSED;
    this.closedWith = code;
    this.onclose?.({ code, reason: "" });
  }

  // The server's side.
  accept(): void {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }

  receive(frame: Uint8Array): void {
    this.onmessage?.({ data: frame.slice().buffer });
  }

  /** The connection breaks (not closed by the client). */
  fail(code = 1006): void {
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code, reason: "" });
  }

  /** What the client sent, decoded, pings left out. */
  get sent(): unknown[][] {
    return this.raw.map((b) => decode(b) as unknown[]).filter((m) => m[0] !== 9);
  }
}

/** setTimeout and setInterval on a clock the test moves. */
class FakeClock {
  private now = 0;
  private nextId = 1;
  private timers = new Map<number, { at: number; fn: () => void; every: number | null }>();
  private saved: Record<string, unknown> = {};

  install(): void {
    const g = globalThis as unknown as Record<string, unknown>;
    for (const k of ["setTimeout", "setInterval", "clearTimeout", "clearInterval", "WebSocket"]) this.saved[k] = g[k];
    g.setTimeout = (fn: () => void, ms = 0) => this.add(fn, ms, null);
    g.setInterval = (fn: () => void, ms = 0) => this.add(fn, ms, Math.max(1, ms));
    g.clearTimeout = g.clearInterval = (id: number | undefined) => {
      if (id !== undefined) this.timers.delete(id);
    };
    g.WebSocket = FakeSocket;
  }

  restore(): void {
    Object.assign(globalThis, this.saved);
  }

  private add(fn: () => void, ms: number, every: number | null): number {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + ms, fn, every });
    return id;
  }

  /** Runs every timer due in the next `ms`, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void; every: number | null }] | null = null;
      for (const e of this.timers) if (e[1].at <= end && (due === null || e[1].at < due[1].at)) due = e;
      if (due === null) break;
      const [id, t] = due;
      this.now = t.at;
      if (t.every === null) this.timers.delete(id);
      else t.at += t.every;
      t.fn();
    }
    this.now = end;
  }
}

const HOME = "ws://home.example/ws";
let clock: FakeClock;

beforeEach(() => {
  FakeSocket.made = [];
  clock = new FakeClock();
  clock.install();
});

afterEach(() => clock.restore());

function latest(): FakeSocket {
  const ws = FakeSocket.made.at(-1);
  assert.ok(ws !== undefined, "a socket was opened");
  return ws;
}

/** `[0, 1, session, token, 30, 30, serverId, limits]` */
function welcome(token: string, serverId: string): Uint8Array {
  return encode([0, 1, 7, token, 30, 30, serverId, [4096, 120, 60, 5, 1000, 30000, 5000, 30000, 16]]);
}

/** `[10, url, then, lobby, ticket]` */
function redirect(url: string, then: number, lobby = 0, ticket: number[] = []): Uint8Array {
  return encode([10, url, then, lobby, new Uint8Array(ticket)]);
}

/** A Net connected to HOME as `name` and welcomed there (token `node1.t0`). */
function online(name = "ann", token = "node1.t0") {
  const seen = { states: [] as NetState[], messages: [] as ServerMsg[], failed: [] as string[] };
  const net = new Net(HOME, {
    message: (m) => void seen.messages.push(m),
    state: (s) => void seen.states.push(s),
    redirectFailed: (why) => void seen.failed.push(why),
  });
  net.connect(name);
  const ws = latest();
  ws.accept();
  ws.receive(welcome(token, "id-home"));
  assert.equal(net.state, "online");
  return { net, ws, seen };
}

const join: ClientMsg = { type: "join", lobby: "ABCDEF" };

test("a Join answered by Redirect (then 0): Hello with the same name on the node it names, then Redeem with the ticket as received", () => {
  const { net, ws, seen } = online("ann");
  assert.ok(net.send(join));
  ws.receive(unhex(rust.redirect)); // the server's own encoding: ws://127.0.0.1:8082/ws, then 0, lobby 3, ticket 01 02 03
  assert.equal(ws.closedWith, 1000, "the old connection is closed normally");
  const b = latest();
  assert.notEqual(b, ws);
  assert.equal(b.url, "ws://127.0.0.1:8082/ws");
  assert.equal(net.send({ type: "chat", text: "early" }), false, "nothing goes out before the new node's Welcome");
  b.accept();
  assert.equal(hex(b.raw[0]), rust.hello, "Hello [0, 1, \"ann\", nil]: the same name, no token");
  b.receive(welcome("node2.t1", "id-node2"));
  const redeem = b.raw.map(hex).filter((h) => h.startsWith("920c"));
  assert.deepEqual(redeem, [rust.redeem], "Redeem [12, bin 01 02 03], the server's own bytes for it");
  assert.deepEqual(b.sent, [
    [0, 1, "ann", null],
    [12, new Uint8Array([1, 2, 3])],
  ]);
  // Quiet: no drop was shown, the Redirect itself is not the app's business, and a new server id is no restart.
  assert.deepEqual(seen.states, ["connecting", "online", "redirecting", "online"]);
  assert.deepEqual(
    seen.messages.map((m) => m.type),
    ["welcome", "welcome"],
  );
  assert.equal(net.restarted, false);
  assert.equal(net.redirected, true);
  assert.equal(net.url, "ws://127.0.0.1:8082/ws");
  assert.equal(net.token, "node2.t1", "the new node's token is the one to keep");
});

test("after a redirect, a drop reconnects to the node we are on, with its token", () => {
  const { net, ws } = online("ann");
  net.send(join);
  ws.receive(redirect("ws://node2.example/ws", RedirectThen.REDEEM, 3, [9]));
  const b = latest();
  b.accept();
  b.receive(welcome("node2.seat", "id-node2"));
  b.receive(encode([2, 3, "ABCDEF", "fun", "arena", 2, 1, 30, 30, 8, 10, [[2, "ann"]], [1, 0, [], [], []]]));
  net.resumeSeat = true; // what the app does once Joined
  b.fail();
  assert.equal(net.state, "reconnecting");
  clock.advance(2000);
  const again = latest();
  assert.equal(again.url, "ws://node2.example/ws", "not the page's server");
  again.accept();
  assert.deepEqual(again.sent[0], [0, 1, "ann", "node2.seat"]);
  // Same node, same token node, another id: that is a restart again (the check for reconnects still holds).
  again.receive(welcome("node2.other", "id-node2-restarted"));
  assert.equal(net.restarted, true);
});

test("a node that stays unreachable: after a few tries, back to the page's server (it knows where the seat is)", () => {
  const { net, ws } = online("ann");
  net.send(join);
  ws.receive(redirect("ws://node2.example/ws", RedirectThen.REDEEM, 3, [9]));
  latest().accept();
  latest().receive(welcome("node2.seat", "id-node2"));
  latest().fail();
  const urls: string[] = [];
  for (let i = 0; i < 3; i++) {
    clock.advance(6000);
    urls.push(latest().url);
    latest().fail();
  }
  assert.deepEqual(urls, ["ws://node2.example/ws", "ws://node2.example/ws", HOME]);
});

test("then 1 (Retry): the same CreateLobby again on the new node", () => {
  const { net, ws } = online("ann");
  const create: ClientMsg = { type: "createLobby", name: "x", game: "arena", maxPlayers: 8, public: true, killGoal: 5 };
  assert.ok(net.send(create));
  ws.receive(redirect("ws://node3.example/ws", RedirectThen.RETRY));
  const c = latest();
  assert.equal(c.url, "ws://node3.example/ws");
  c.accept();
  c.receive(welcome("node3.t", "id-node3"));
  assert.deepEqual(
    c.raw.map(hex).filter((h) => !h.startsWith("9209")),
    [hex(encodeClient({ type: "hello", version: 1, name: "ann", token: null })), hex(encodeClient(create))],
  );
});

test("then 2 (Resume): the Hello there carries the token we came with, not the one the Welcome before gave", () => {
  const seen: NetState[] = [];
  const net = new Net(HOME, { message: () => {}, state: (s) => void seen.push(s), redirectFailed: () => {} });
  // Our seat is on node2 (its token says so); we come back through the page's server, node1.
  net.token = "node2.seat";
  net.resumeSeat = true;
  net.connect("ann");
  const a = latest();
  a.accept();
  assert.deepEqual(a.sent[0], [0, 1, "ann", "node2.seat"]);
  a.receive(welcome("node1.fresh", "id-node1")); // a fresh session on node1 ...
  a.receive(redirect("ws://node2.example/ws", RedirectThen.RESUME)); // ... and where the seat is
  const b = latest();
  assert.equal(b.url, "ws://node2.example/ws");
  b.accept();
  assert.deepEqual(b.sent, [[0, 1, "ann", "node2.seat"]]);
  b.receive(welcome("node2.next", "id-node2"));
  assert.deepEqual(b.sent, [[0, 1, "ann", "node2.seat"]], "nothing after Hello: the token asks for the seat");
  assert.equal(net.restarted, false);
  assert.equal(seen.includes("reconnecting"), false);
});

test(`a ${MAX_REDIRECTS + 1}th redirect in a row is not followed: we stay where we are and say the request failed`, () => {
  const { net, ws, seen } = online("ann");
  net.send(join);
  let at = ws;
  for (let i = 1; i <= MAX_REDIRECTS; i++) {
    at.receive(redirect(`ws://node${i}.example/ws`, RedirectThen.REDEEM, 3, [i]));
    const next = latest();
    assert.notEqual(next, at, `redirect ${i} is followed`);
    next.accept();
    next.receive(welcome(`node${i}.t`, `id-${i}`));
    assert.deepEqual(next.sent.at(-1), [12, new Uint8Array([i])]);
    at = next;
  }
  const sockets = FakeSocket.made.length;
  at.receive(redirect("ws://node9.example/ws", RedirectThen.REDEEM, 3, [9]));
  assert.equal(FakeSocket.made.length, sockets, "no new connection");
  assert.equal(at.closedWith, null, "the connection we are on stays open");
  assert.equal(net.online, true);
  assert.equal(seen.failed.length, 1);
  assert.match(seen.failed[0], /3 redirects in a row/);
  // A new request is counted afresh.
  net.send(join);
  at.receive(redirect("ws://node9.example/ws", RedirectThen.REDEEM, 3, [9]));
  assert.equal(FakeSocket.made.length, sockets + 1);
});

test("the node a redirect names cannot be reached: the request fails, said once, and we reconnect where we were", () => {
  const { net, ws, seen } = online("ann");
  net.send(join);
  ws.receive(redirect("ws://gone.example/ws", RedirectThen.REDEEM, 3, [1]));
  latest().fail(); // refused before any Welcome
  assert.equal(seen.failed.length, 1);
  assert.match(seen.failed[0], /Could not reach the server that lobby is on/);
  clock.advance(2000);
  assert.equal(latest().url, HOME);
  latest().accept();
  assert.deepEqual(latest().sent, [[0, 1, "ann", null]], "a plain Hello: the ticket is not tried again");
});

test("a redirect's node that refuses this page's origin (1008): the request fails, and back where we were, still online", () => {
  const { net, ws, seen } = online("ann");
  net.send(join);
  ws.receive(redirect("ws://elsewhere.example/ws", RedirectThen.REDEEM, 3, [1]));
  latest().fail(1008);
  assert.notEqual(net.state, "failed", "not fatal: the page's own server still takes us");
  assert.equal(seen.failed.length, 1);
  assert.match(seen.failed[0], /does not accept connections from this page's address/);
  clock.advance(2000);
  assert.equal(latest().url, HOME);
  latest().accept();
  latest().receive(welcome("node1.t1", "id-home"));
  assert.equal(net.state, "online");
  // Once welcomed somewhere, 1008 is final as before.
  latest().fail(1008);
  assert.equal(net.state, "failed");
});

test("a redirect to something that is no WebSocket address is not followed", () => {
  const { ws, seen } = online("ann");
  ws.receive(redirect("javascript:alert(1)", RedirectThen.REDEEM, 3, [1]));
  assert.equal(FakeSocket.made.length, 1);
  assert.equal(seen.failed.length, 1);
});

test("tokens name their node in a cluster, none on a single server", () => {
  assert.equal(tokenNode("node1.3f9a1c2e7b8d4f60a5e1c9b27d3e8f41"), "node1");
  assert.equal(tokenNode("3f9a1c2e7b8d4f60a5e1c9b27d3e8f41"), null);
  assert.equal(tokenNode(null), null);
});
