// Takes the README's screenshots with headless Chromium against the real server (not part of the tests):
//   docs/screenshots/lobby.png   the lobby screen with a few public lobbies listed
//   docs/screenshots/game.png    an arena match in progress: three players moving and firing
//   docs/screenshots/phone.png   the same match on a 390x844 touch phone, both sticks held
//   docs/screenshots/winner.png  a round's winner screen (a lobby whose kill goal is 1)
// (docs/screenshots/admin.png, the operator console watching a lobby, is the e2e test's
// e2e/artifacts/admin-console.png: `E2E_ONLY=admin npm run e2e`, then copy it.)
//
//   npm run build && cargo build --bin tickrelay && node e2e/screenshots.mjs

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  REPO,
  createLobby,
  findChromium,
  inGame,
  joinByCode,
  launchChromium,
  newPage,
  serverBinary,
  setName,
  startServer,
  stopServer,
} from "./lib.mjs";

const OUT = join(REPO, "docs", "screenshots");
const VIEWPORT = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844, touch: true };

const chromiumPath = findChromium();
if (chromiumPath === null) {
  console.error("screenshots: no Chromium (set CHROMIUM=/path/to/chromium)");
  process.exit(1);
}
mkdirSync(OUT, { recursive: true });

const server = await startServer(serverBinary());
const browser = await launchChromium(chromiumPath);
try {
  const url = server.url;

  // Three public lobbies with different games and head counts, made by other players.
  const host = await newPage(browser, url, VIEWPORT);
  await setName(host, "nova");
  const code = await createLobby(host, { name: "Friday night arena", maxPlayers: 8 });
  const second = await newPage(browser, url, VIEWPORT);
  await setName(second, "kestrel");
  await joinByCode(second, code);
  const walker = await newPage(browser, url, VIEWPORT);
  await setName(walker, "moss");
  await createLobby(walker, { name: "walkers sandbox", game: "walkers", maxPlayers: 16 });
  const third = await newPage(browser, url, VIEWPORT);
  await setName(third, "quill");
  await createLobby(third, { name: "1v1 practice", maxPlayers: 2 });

  // A newcomer's lobby screen, once the list shows them all.
  const me = await newPage(browser, url, VIEWPORT);
  await setName(me, "ember");
  await me.waitForFunction(() => document.querySelectorAll("#lobby-table tbody tr").length >= 3, null, { timeout: 10000 });
  await me.mouse.move(0, 0);
  await me.evaluate(() => document.activeElement?.blur());
  await me.screenshot({ path: join(OUT, "lobby.png") });
  console.log(`wrote ${join(OUT, "lobby.png")}`);

  // The newcomer joins the arena lobby from the table; then all three fight.
  await me.click(`#lobby-table tbody tr:has(td:text-is("Friday night arena")) button:text-is("Join")`);
  const got = await inGame(me);
  if (got !== code) throw new Error(`joined ${got}, wanted ${code}`);
  await me.waitForFunction(() => window.__tickrelay.players().length >= 3, null, { timeout: 5000 });

  // A little chat first (Enter opens the chat box, Enter sends).
  for (const [page, line] of [
    [host, "glhf"],
    [second, "gl! stay away from the middle pillar"],
    [me, "hi all, first time here"],
  ]) {
    await page.keyboard.press("Enter");
    await page.keyboard.type(line);
    await page.keyboard.press("Enter");
  }
  await me.waitForFunction(() => document.querySelectorAll("#chat-log li:not(.system)").length >= 3, null, { timeout: 5000 });

  const fighters = [host, second, me];
  let fighting = true;
  const loops = fighters.map((p, i) => fight(p, i, () => fighting));
  // Once the kill feed shows an elimination and all three are up, with the fight going on; the
  // fight goes on while the screenshot is taken, so check again after it and retry if someone fell.
  const ready = () => {
    const feed = document.querySelectorAll("#killfeed li:not(.fading)").length;
    const players = window.__tickrelay.players();
    return feed >= 1 && players.length >= 3 && players.every((p) => p.alive) && document.getElementById("center-msg").hidden;
  };
  for (let attempt = 1; ; attempt++) {
    await me.waitForFunction(ready, null, { timeout: 60000, polling: 50 });
    const png = await me.screenshot();
    if (await me.evaluate(ready)) {
      writeFileSync(join(OUT, "game.png"), png);
      break;
    }
    if (attempt === 10) throw new Error("no clean moment for the game screenshot");
  }
  console.log(`wrote ${join(OUT, "game.png")}`);

  // A phone joins the match; its thumbs push the move stick up-right and the aim stick far left (firing).
  const phone = await newPage(browser, url, PHONE);
  await setName(phone, "wren");
  await joinByCode(phone, code);
  await phone.waitForFunction(() => !document.getElementById("sticks").hidden && window.__tickrelay.players().length >= 4, null, { timeout: 5000 });
  const cdp = await phone.context().newCDPSession(phone);
  const centre = (id) =>
    phone.evaluate((id) => {
      const r = document.getElementById(id).getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    }, id);
  const m = await centre("stick-move");
  const f = await centre("stick-aim");
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x: m.x, y: m.y, id: 1 }, { x: f.x, y: f.y, id: 2 }] });
  await cdp.send("Input.dispatchTouchEvent", {
    type: "touchMove",
    touchPoints: [{ x: m.x + 30, y: m.y - 30, id: 1 }, { x: f.x - 48, y: f.y - 14, id: 2 }],
  });
  await phone.waitForTimeout(700); // long enough to walk a little and fire a shot or two
  await phone.screenshot({ path: join(OUT, "phone.png") });
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  console.log(`wrote ${join(OUT, "phone.png")}`);
  fighting = false;
  await Promise.all(loops);

  // A showdown lobby whose first elimination wins the round: one player hunts, two stand; the
  // winner screen, as a player who did not win sees it.
  const hunter = await newPage(browser, url, VIEWPORT);
  await setName(hunter, "nova");
  const showdown = await createLobby(hunter, { name: "Showdown", killGoal: 1, maxPlayers: 4 });
  const prey = await newPage(browser, url, VIEWPORT);
  await setName(prey, "kestrel");
  await joinByCode(prey, showdown);
  const witness = await newPage(browser, url, VIEWPORT);
  await setName(witness, "ember");
  await joinByCode(witness, showdown);
  await witness.waitForFunction(() => window.__tickrelay.players().length >= 3, null, { timeout: 5000 });
  let hunting = true;
  const hunt = fight(hunter, 0, () => hunting);
  try {
    await witness.waitForFunction(() => !document.getElementById("winner").hidden, null, { timeout: 60000, polling: 50 });
  } catch {
    throw new Error("no winner screen within 60 s: does this server run rounds (a round entity of kind 2, CreateLobby's kill goal)?");
  }
  hunting = false;
  await hunt;
  await witness.mouse.move(0, 0);
  await witness.waitForTimeout(400); // past the card's pop-in
  await witness.screenshot({ path: join(OUT, "winner.png") });
  console.log(`wrote ${join(OUT, "winner.png")}`);
} finally {
  await browser.close().catch(() => {});
  await stopServer(server.proc);
}

/**
 * A crude bot on one page: aims the mouse at the nearest other player, holds Space to fire,
 * walks towards them when far and circles them when near.
 */
async function fight(page, n, go) {
  const held = new Set();
  const hold = async (keys) => {
    for (const k of held) if (!keys.includes(k)) (await page.keyboard.up(k), held.delete(k));
    for (const k of keys) if (!held.has(k)) (await page.keyboard.down(k), held.add(k));
  };
  await page.keyboard.down("Space");
  while (go()) {
    const s = await page.evaluate(() => {
      const h = window.__tickrelay;
      const r = document.getElementById("canvas").getBoundingClientRect();
      // Where the renderer draws the world (screen = world * scale + offset), whatever the layout.
      const v = h.view();
      return { you: h.you(), players: h.players(), scale: v.scale, offX: r.left + v.offX, offY: r.top + v.offY };
    });
    const self = s.players.find((p) => p.id === s.you);
    const others = s.players.filter((p) => p.id !== s.you && p.alive);
    if (self !== undefined && others.length > 0) {
      const target = others.reduce((a, b) => (dist(self, a) <= dist(self, b) ? a : b));
      await page.mouse.move(s.offX + target.x * s.scale, s.offY + target.y * s.scale);
      const d = dist(self, target);
      const ang = Math.atan2(target.y - self.y, target.x - self.x) + (d > 320 ? 0 : (n % 2 === 0 ? 1 : -1) * Math.PI / 2);
      const keys = [];
      if (Math.cos(ang) > 0.38) keys.push("d");
      if (Math.cos(ang) < -0.38) keys.push("a");
      if (Math.sin(ang) > 0.38) keys.push("s");
      if (Math.sin(ang) < -0.38) keys.push("w");
      await hold(keys);
    }
    await new Promise((r) => setTimeout(r, 80));
  }
  await hold([]);
  await page.keyboard.up("Space");
}

function dist(a, b) {
  return Math.hypot(a.x - b.x, a.y - b.y);
}
