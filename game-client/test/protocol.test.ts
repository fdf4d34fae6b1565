// Codec tests: our encoder against known bytes (some written by the Rust server's encoder), our decoder on server frames.
import assert from "node:assert/strict";
import { test } from "node:test";
import { encode } from "@msgpack/msgpack";
import { ChatRole, ProtocolError, RedirectThen, decodeServer, encodeClient, floatAim } from "../src/protocol";
import { hex, rust, unhex } from "./helpers";

test("Hello [0, 1, \"ann\", nil] encodes to 94 00 01 a3 61 6e 6e c0", () => {
  const bytes = encodeClient({ type: "hello", version: 1, name: "ann", token: null });
  assert.equal(hex(bytes), "940001a3616e6ec0");
  assert.equal(hex(bytes), rust.hello, "same bytes as the server's encoder");
});

test("Hello with a reconnect token carries it as a string", () => {
  const bytes = encodeClient({ type: "hello", version: 1, name: "a", token: "tk" });
  assert.equal(hex(bytes), "940001a161a2746b");
});

test("Input is byte-identical to the server's encoding of the same input", () => {
  const bytes = encodeClient({ type: "input", seq: 5, dx: 1, dy: -1, aim: 1.5, buttons: 1 });
  // [7, 5, 1, -1, float32 1.5, 1]
  assert.equal(hex(bytes), "96070501ffca3fc0000001");
  assert.equal(hex(bytes), rust.input);
});

test("an input with its view tick and the earlier inputs of a stall is PROTOCOL.md's input-earlier", () => {
  const bytes = encodeClient({
    type: "input",
    seq: 302,
    dx: 0,
    dy: 1,
    aim: 1.5,
    buttons: 1,
    viewTick: 118,
    earlier: [{ seq: 301, dx: 0, dy: 1, aim: 1.5, buttons: 1, viewTick: 117 }],
  });
  assert.equal(hex(bytes), "9807cd012e0001ca3fc00000017691" + "96cd012d0001ca3fc000000175");
  // No earlier inputs and no view: the old 6-element layout, byte for byte.
  const plain = encodeClient({ type: "input", seq: 5, dx: 1, dy: -1, aim: 1.5, buttons: 1, earlier: [] });
  assert.equal(hex(plain), "96070501ffca3fc0000001");
  // Earlier inputs without a view still put the view's slot in (0: not said).
  const noView = encodeClient({ type: "input", seq: 2, dx: 0, dy: 0, aim: 1.5, buttons: 0, earlier: [{ seq: 1, dx: 0, dy: 0, aim: 1.5, buttons: 0 }] });
  assert.equal(hex(noView), "98070200" + "00ca3fc000000000" + "9195010000ca3fc0000000");
});

test("an integral aim still goes out as a float, never an int", () => {
  const bytes = encodeClient({ type: "input", seq: 1, dx: 0, dy: 0, aim: 0, buttons: 0 });
  assert.equal(bytes[0], 0x96);
  assert.equal(bytes[5], 0xca, "aim (after type, seq, dx, dy) must be a float32 marker");
  assert.notEqual(floatAim(3), 3);
  assert.ok(Math.abs(floatAim(3) - 3) < 1e-5);
  assert.equal(floatAim(0.25), 0.25);
  assert.ok(Number.isFinite(floatAim(Number.NaN)), "NaN never reaches the wire");
});

test("other client messages", () => {
  const cases: Array<[Parameters<typeof encodeClient>[0], string]> = [
    [{ type: "listLobbies", game: null }, "9201c0"],
    [{ type: "createLobby", name: "x", game: "arena", maxPlayers: 8, public: true }, "9502a178a56172656e6108c3"],
    [{ type: "join", lobby: "ABCDEF" }, "9203a6414243444546"],
    [{ type: "join", lobby: 7 }, "920307"],
    [{ type: "spectate", lobby: "ABCDEF" }, "9204a6414243444546"],
    [{ type: "quickJoin", game: "arena" }, "9205a56172656e61"],
    [{ type: "leave" }, "9106"],
    [{ type: "chat", text: "hi" }, "9208a26869"],
    [{ type: "ping", nonce: 300 }, "9209cd012c"],
    [{ type: "restartRound" }, "910a"],
    [{ type: "resync" }, "910b"],
  ];
  for (const [msg, want] of cases) assert.equal(hex(encodeClient(msg)), want, msg.type);
});

test("CreateLobby: the round settings are elements 5 and 6, and only when set", () => {
  const base = { type: "createLobby", name: "x", game: "arena", maxPlayers: 8, public: true } as const;
  // [2, "x", "arena", 8, true] unchanged without them (the test above has the same bytes).
  assert.equal(hex(encodeClient(base)), "9502a178a56172656e6108c3");
  // [2, "x", "arena", 8, true, 10, 300]
  assert.equal(hex(encodeClient({ ...base, killGoal: 10, roundSeconds: 300 })), "9702a178a56172656e6108c30acd012c");
  // Kill goal 1 alone: six elements.
  assert.equal(hex(encodeClient({ ...base, killGoal: 1 })), "9602a178a56172656e6108c301");
  // Round length alone: the kill goal goes out as the default to hold element 5.
  assert.equal(hex(encodeClient({ ...base, roundSeconds: 60 })), "9702a178a56172656e6108c30a3c");
  // Zeros (no goal, no clock) are sent, not dropped; values are clamped to u16.
  assert.equal(hex(encodeClient({ ...base, killGoal: 0, roundSeconds: 0 })), "9702a178a56172656e6108c30000");
  assert.equal(hex(encodeClient({ ...base, killGoal: -5, roundSeconds: 1e9 })), "9702a178a56172656e6108c300cdffff");
});

test("decodes Welcome, LobbyList, Chat, Error and Pong as the server encodes them", () => {
  assert.deepEqual(decodeServer(unhex(rust.welcome)), {
    type: "welcome",
    version: 1,
    session: 42,
    token: "tok-abc",
    tickRate: 30,
    snapshotRate: 30,
    serverId: "0123456789abcdef",
    limits: {
      maxMessageBytes: 4096,
      messagesPerSecond: 120,
      messageBurst: 60,
      chatBurst: 5,
      chatRefillMs: 1000,
      reconnectGraceMs: 30000,
      slowClientTimeoutMs: 5000,
      idleTimeoutMs: 20000,
      maxDecodeErrors: 16,
    },
  });
  assert.deepEqual(decodeServer(unhex(rust.lobby_list)), {
    type: "lobbyList",
    lobbies: [{ id: 3, code: "ABCDEF", name: "fun", game: "arena", players: 2, maxPlayers: 8, url: null }],
  });
  assert.deepEqual(decodeServer(unhex(rust.chat)), { type: "chat", from: 2, name: "bob", text: "hi", role: 0 });
  // A spectator's line and the server's own differ only in the role.
  assert.deepEqual(decodeServer(unhex("95 05 c0 a3 73 61 6d a2 68 69 01")), {
    type: "chat",
    from: null,
    name: "sam",
    text: "hi",
    role: ChatRole.SPECTATOR,
  });
  assert.deepEqual(decodeServer(unhex(rust.error)), { type: "error", code: 5, message: "lobby is full" });
  assert.deepEqual(decodeServer(unhex(rust.pong)), { type: "pong", nonce: 2 ** 40 });
});

test("decodes Joined with its roster and embedded full snapshot", () => {
  const m = decodeServer(unhex(rust.match_frames[0]));
  assert.ok(m !== null && m.type === "joined");
  assert.equal(m.code, "QWERTY");
  assert.equal(m.name, "test lobby");
  assert.equal(m.game, "arena");
  assert.equal(m.you, 1);
  assert.equal(m.host, 1);
  assert.equal(m.tickRate, 30);
  assert.equal(m.fieldCount, 9);
  assert.deepEqual(m.roster, [
    { id: 1, name: "ann" },
    { id: 2, name: "bob" },
    { id: 3, name: "cy" },
  ]);
  assert.equal(m.snapshot.tick, 1);
  assert.equal(m.snapshot.baseDelta, 0);
});

test("decodes nil you/host (a spectator), Left, Roster and LobbyEvent", () => {
  // [8, 9, "kicked"]
  assert.deepEqual(decodeServer(unhex("930809a66b69636b6564")), { type: "left", lobby: 9, reason: "kicked" });
  // [9, nil, [[1, "a"]]]
  assert.deepEqual(decodeServer(unhex("9309c0919201a161")), { type: "roster", host: null, roster: [{ id: 1, name: "a" }] });
  // [4, 3, 2, "bob"]
  assert.deepEqual(decodeServer(unhex("94040302a3626f62")), { type: "lobbyEvent", kind: 3, player: 2, name: "bob" });
});

test("malformed frames are refused; unknown types are skipped", () => {
  assert.throws(() => decodeServer(unhex("c1")), ProtocolError);
  assert.throws(() => decodeServer(unhex("a3616263")), ProtocolError, "not an array");
  assert.throws(() => decodeServer(unhex("9206a161")), ProtocolError, "pong nonce must be an int");
  assert.equal(decodeServer(unhex("9163")), null, "type 99 is unknown to this client");
});

test("LobbySummary's url: a cluster node's ws URL, nil on a single server, absent from an older one", () => {
  const summary = (...extra: unknown[]) => decodeServer(encode([1, [[3, "ABCDEF", "fun", "arena", 2, 8, ...extra]]]));
  const url = (m: ReturnType<typeof decodeServer>) => (m !== null && m.type === "lobbyList" ? m.lobbies[0].url : "not a list");
  assert.equal(url(summary("ws://10.0.0.2:8080/ws")), "ws://10.0.0.2:8080/ws");
  assert.equal(url(summary(null)), null);
  assert.equal(url(summary()), null);
  assert.throws(() => summary(7), ProtocolError);
});

test("Redirect decodes as the server encodes it, and its ticket goes back in Redeem byte for byte", () => {
  const m = decodeServer(unhex(rust.redirect));
  assert.ok(m !== null && m.type === "redirect");
  assert.equal(m.url, "ws://127.0.0.1:8082/ws");
  assert.equal(m.then, RedirectThen.REDEEM);
  assert.equal(m.lobby, 3);
  assert.deepEqual([...m.ticket], [1, 2, 3]);
  // [12, bin 01 02 03]: the same bytes as the server's encoder writes for that Redeem.
  const redeem = encodeClient({ type: "redeem", ticket: m.ticket });
  assert.equal(hex(redeem), "920cc403010203");
  assert.equal(hex(redeem), rust.redeem);
});

test("Redirect: Retry and Resume carry an empty ticket; a ticket that is not bin is refused", () => {
  // [10, url, 1, 0, bin ""]
  const retry = decodeServer(encode([10, "ws://b/ws", RedirectThen.RETRY, 0, new Uint8Array(0)]));
  assert.ok(retry !== null && retry.type === "redirect");
  assert.equal(retry.then, RedirectThen.RETRY);
  assert.equal(retry.ticket.length, 0);
  assert.throws(() => decodeServer(encode([10, "ws://b/ws", 0, 3, [1, 2, 3]])), ProtocolError, "an array of ints is not bin");
  assert.throws(() => decodeServer(encode([10, "ws://b/ws", 0, 3])), ProtocolError, "the ticket is required");
});
