// The operator console's chart maths: scales and line paths.
import assert from "node:assert/strict";
import { test } from "node:test";
import { linePath, niceMax } from "../src/admin/chart";
import { explain } from "../src/admin/api";

test("a chart's top is a nice number at or above the largest value", () => {
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(0.3), 0.5);
  assert.equal(niceMax(7), 10);
  assert.equal(niceMax(12), 20);
  assert.equal(niceMax(4321), 5000);
  assert.equal(niceMax(Number.NaN), 1);
});

test("a line runs oldest to newest, right-aligned, 0 at the bottom; gaps break it", () => {
  assert.equal(linePath([0, 10], 2, 100, 50, 10), "M0.0,50.0L100.0,0.0");
  // Two samples of five slots sit at the right edge.
  assert.equal(linePath([5, 5], 5, 100, 50, 10), "M75.0,25.0L100.0,25.0");
  assert.equal(linePath([1, null, 1], 3, 100, 10, 1), "M0.0,0.0M100.0,0.0");
  // Values past the top are drawn at the top.
  assert.equal(linePath([20, 20], 2, 10, 10, 10), "M0.0,0.0L10.0,0.0");
});

test("the console says why it cannot show anything", () => {
  assert.match(explain(401), /needs the server's admin token \(admin\.token\)/);
  assert.match(explain(404, "admin routes are off (no admin.token)\n"), /admin is off/i);
  assert.equal(explain(404, "no lobby 3 on this node"), "no lobby 3 on this node");
  assert.match(explain(403), /origin/);
});
