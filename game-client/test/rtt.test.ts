// Round-trip time: the lowest recent Pong sample, since a lobby answers Pings at its next tick.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RTT_WINDOW, RttEstimate } from "../src/rtt";

test("the network round trip is the lowest recent sample", () => {
  const r = new RttEstimate();
  assert.equal(r.network, 0);
  // 40 ms of network plus 0..33 ms waiting for the server's tick.
  for (const wait of [20, 33, 5, 12, 30]) r.add(40 + wait);
  assert.equal(r.network, 45);
  assert.equal(r.mean, (60 + 73 + 45 + 52 + 70) / 5);
});

test("old samples fall out of the window", () => {
  const r = new RttEstimate();
  r.add(10);
  for (let i = 0; i < RTT_WINDOW; i++) r.add(80);
  assert.equal(r.network, 80, "the 10 ms sample is older than the window");
  r.add(Number.NaN);
  r.add(-1);
  assert.equal(r.network, 80, "nonsense is ignored");
  r.clear();
  assert.equal(r.network, 0);
});
