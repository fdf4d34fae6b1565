// Invite links: which address-bar fragments are lobby codes, and which are cleared as bad.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isCode, parseInvite } from "../src/invite";

test("no fragment, or an empty one, is no invite", () => {
  assert.deepEqual(parseInvite(""), { kind: "none" });
  assert.deepEqual(parseInvite("#"), { kind: "none" });
  assert.deepEqual(parseInvite("#%20"), { kind: "none" });
});

test("a code, in any case and with the dashes or spaces the server ignores too", () => {
  assert.deepEqual(parseInvite("#K7QM2X"), { kind: "code", code: "K7QM2X" });
  assert.deepEqual(parseInvite("#k7qm2x"), { kind: "code", code: "K7QM2X" });
  assert.deepEqual(parseInvite("#k7q-m2x"), { kind: "code", code: "K7QM2X" });
  assert.deepEqual(parseInvite("#K7Q%20M2X"), { kind: "code", code: "K7QM2X" });
});

test("wrong length, or characters no code has (0 O 1 I L, punctuation), is a bad invite", () => {
  assert.deepEqual(parseInvite("#abc"), { kind: "bad", raw: "abc" });
  assert.deepEqual(parseInvite("#K7QM2XY"), { kind: "bad", raw: "K7QM2XY" });
  assert.equal(parseInvite("#K7QM20").kind, "bad", "0 is not in the alphabet");
  assert.equal(parseInvite("#HELLO1").kind, "bad");
  assert.equal(parseInvite("#K7QM2!").kind, "bad");
  assert.equal(parseInvite("#%E0%A4%A").kind, "bad", "a broken escape is not a crash");
});

test("a long bad fragment is cut short for the message", () => {
  const got = parseInvite(`#${"x".repeat(100)}`);
  assert.equal(got.kind, "bad");
  assert.ok(got.kind === "bad" && got.raw.length === 16 && got.raw.endsWith("…"));
});

test("isCode: six characters of the alphabet", () => {
  assert.ok(isCode("ABCDEF"));
  assert.ok(isCode("234567"));
  assert.ok(!isCode("ABCDE"));
  assert.ok(!isCode("abcdef"), "callers upper-case first");
  assert.ok(!isCode("ABCDEO"));
});

test("#watch/CODE asks to spectate that lobby; a bad code there is a bad invite", () => {
  assert.deepEqual(parseInvite("#watch/k7qm2x"), { kind: "watch", code: "K7QM2X" });
  assert.deepEqual(parseInvite("#WATCH/K7Q-M2X"), { kind: "watch", code: "K7QM2X" });
  assert.equal(parseInvite("#watch/nope").kind, "bad");
});

test("#replay/ID plays that recorded match; anything else there is a bad link", () => {
  assert.deepEqual(parseInvite("#replay/1764800000000-12"), { kind: "replay", id: "1764800000000-12" });
  assert.equal(parseInvite("#replay/../etc").kind, "bad");
  assert.equal(parseInvite("#replay/12").kind, "bad");
  assert.equal(parseInvite("#replay/1-2-3").kind, "bad");
});
