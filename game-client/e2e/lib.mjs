// Shared by the browser end-to-end test (run.mjs) and the README screenshot script (screenshots.mjs):
// find Chromium, start the real tickrelay server on a free port, launch headless Chromium, clean up;
// for the cluster test, a throwaway redis-server.

import { execFile, spawn } from "node:child_process";
import { accessSync, constants, cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** game-client/ */
export const CLIENT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** the repository root */
export const REPO = resolve(CLIENT, "..");
export const DIST = join(CLIENT, "dist");
export const ARTIFACTS = join(CLIENT, "e2e", "artifacts");

/** Debian's `chromium` (Playwright cannot download its own browser here); CHROMIUM=/path overrides. */
export function findChromium() {
  return chromiumCandidates().find((p) => existsSync(p)) ?? null;
}

export function chromiumCandidates() {
  return process.env.CHROMIUM ? [process.env.CHROMIUM] : ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
}

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The server binary: TICKRELAY_BIN, else target/debug/tickrelay. Throws with the fix when missing. */
export function serverBinary() {
  const bin = process.env.TICKRELAY_BIN ? resolve(process.env.TICKRELAY_BIN) : join(REPO, "target", "debug", "tickrelay");
  if (!existsSync(bin)) {
    throw new Error(`server binary not found at ${bin}: run \`cargo build --bin tickrelay\` in ${REPO} (or set TICKRELAY_BIN)`);
  }
  if (!existsSync(join(DIST, "index.html"))) {
    throw new Error(`the browser game is not built (${join(DIST, "index.html")} is missing): run \`npm run build\` in ${CLIENT}`);
  }
  return bin;
}

/** The bots binary: TICKRELAY_BOTS_BIN, else target/debug/tickrelay-bots. Throws with the fix when missing. */
export function botsBinary() {
  const bin = process.env.TICKRELAY_BOTS_BIN
    ? resolve(process.env.TICKRELAY_BOTS_BIN)
    : join(REPO, "target", "debug", "tickrelay-bots");
  if (!existsSync(bin)) {
    throw new Error(`bots binary not found at ${bin}: run \`cargo build --bin tickrelay-bots\` in ${REPO} (or set TICKRELAY_BOTS_BIN)`);
  }
  return bin;
}

/**
 * Starts `tickrelay --bind 127.0.0.1:PORT` (0: any free port) serving dist/, and resolves once it
 * prints its address.
 * Returns { url, proc, log() } where log() is everything it wrote (for failure reports).
 */
export function startServer(bin, { timeoutMs = 15000, env = {}, port = 0 } = {}) {
  // A private copy of dist/: a `npm run build` elsewhere (it empties dist/ first) must not pull
  // the game out from under a running test.
  const copy = mkdtempSync(join(tmpdir(), "tickrelay-e2e-dist-"));
  cpSync(DIST, copy, { recursive: true });
  const proc = spawn(bin, ["--bind", `127.0.0.1:${port}`], {
    cwd: REPO, // so the default config/default.toml is read
    // config/default.toml records replays (for `make run`); the tests write none unless asked.
    env: {
      ...process.env,
      TICKRELAY__SERVER__CLIENT_DIR: copy,
      TICKRELAY__SERVER__LOG: "warn",
      TICKRELAY__REPLAY__ENABLED: "false",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.once("exit", () => rmSync(copy, { recursive: true, force: true }));
  let output = "";
  const log = () => output;
  return new Promise((resolvePromise, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`the server did not print its address within ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    proc.stdout.setEncoding("utf8");
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (d) => (output += d));
    proc.stdout.on("data", (d) => {
      output += d;
      out += d;
      const m = /tickrelay listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolvePromise({ url: m[1], proc, log });
      }
    });
    proc.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${bin}: ${e.message}`));
    });
    proc.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited early (code ${code}, signal ${signal})\n${output}`));
    });
  });
}

/** SIGTERM, then SIGKILL if it is still running after `graceMs`. */
export async function stopServer(proc, graceMs = 3000) {
  if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read, closed). Another
 * process may take it before the caller binds it; that caller's start then fails loudly.
 */
export function freePort() {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolvePromise(port));
    });
  });
}

/** `name`'s path on PATH (an executable file), or null. */
export function onPath(name) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** What `redis-cli -p PORT ping` answers (trimmed), or "" if it cannot say within 2 s. */
function redisPing(port) {
  return new Promise((r) =>
    execFile("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "ping"], { timeout: 2000 }, (err, out) => r(err ? "" : out.trim())),
  );
}

/**
 * Starts a throwaway `redis-server` (no persistence, a fresh temporary directory) on a free
 * 127.0.0.1 port and resolves once `redis-cli ping` answers PONG, within `timeoutMs`. Needs
 * redis-server and redis-cli on PATH (apt-get install redis-server). A port taken between the probe
 * and redis-server's bind is tried again with another, up to 3 times.
 * Returns { port, url, proc, dir, log() }; stop it with stopRedis.
 */
export async function startRedis({ timeoutMs = 10000 } = {}) {
  let last = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "tickrelay-e2e-redis-"));
    const proc = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning"],
      { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    proc.stdout.setEncoding("utf8");
    proc.stderr.setEncoding("utf8");
    proc.stdout.on("data", (d) => (output += d));
    proc.stderr.on("data", (d) => (output += d));
    let spawnError = null;
    proc.on("error", (e) => (spawnError = e));
    const redis = { port, url: `redis://127.0.0.1:${port}/`, proc, dir, log: () => output };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (spawnError !== null || proc.exitCode !== null || proc.signalCode !== null) break;
      if ((await redisPing(port)) === "PONG") return redis;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100)); // polling PING, bounded by the deadline
    }
    const exited = spawnError === null && (proc.exitCode !== null || proc.signalCode !== null);
    await stopRedis(redis);
    last = spawnError !== null
      ? `could not run redis-server: ${spawnError.message}`
      : exited
        ? `redis-server exited at start (code ${proc.exitCode}, signal ${proc.signalCode}) on port ${port}`
        : `redis-server did not answer PING on port ${port} within ${timeoutMs} ms`;
    last += output === "" ? "" : `\n${output}`;
    if (!exited) break; // not a lost race for the port: another try will not help
  }
  throw new Error(last);
}

/** Stops a redis from startRedis (SIGTERM, then SIGKILL) and removes its directory. Safe to repeat. */
export async function stopRedis(redis) {
  if (redis === null || redis === undefined) return;
  if (redis.proc.pid !== undefined) await stopServer(redis.proc); // (no pid: it never started)
  rmSync(redis.dir, { recursive: true, force: true });
}

export async function launchChromium(executablePath) {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 20000 });
}

/**
 * A page in a fresh browser context (its own storage, so its own saved name), with its errors and
 * console recorded. `touch`: a phone's touch screen (touch events, a coarse pointer).
 */
export async function newPage(browser, url, { width = 1024, height = 700, track, touch = false } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, ...(touch ? { hasTouch: true, isMobile: true } : {}) });
  const page = await context.newPage();
  page.errors = [];
  page.console = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => page.console.push(`${m.type()}: ${m.text()}`));
  track?.(page); // before loading, so a page that never comes up is still reported
  await page.goto(url);
  await page.waitForSelector("#conn-status.online", { state: "attached", timeout: 10000 });
  return page;
}

/** Sets the player name on the lobby screen. */
export async function setName(page, name) {
  await page.fill("#name-input", name);
}

/**
 * Creates a lobby from the lobby screen's create form and resolves with its code once in it.
 * `killGoal` and `roundSeconds` (one of the form's lengths: 0, 60, 120, 180, 300, 600, 900, 1200)
 * are the arena's round settings; left out, the form's defaults (10, 300) go.
 */
export async function createLobby(page, { name, game = "arena", maxPlayers = 8, isPrivate = false, killGoal, roundSeconds }) {
  const open = await page.$eval("#create-panel", (d) => d.open);
  if (!open) await page.click("#create-panel > summary");
  await page.fill("#create-name", name);
  await page.selectOption("#create-game", game);
  await page.fill("#create-max", String(maxPlayers));
  await page.setChecked("#create-private", isPrivate);
  if (killGoal !== undefined) await page.fill("#create-goal", String(killGoal));
  if (roundSeconds !== undefined) await page.selectOption("#create-length", String(roundSeconds));
  await page.click("#create-btn");
  return inGame(page);
}

/** Joins by code from the lobby screen and resolves once in the lobby. */
export async function joinByCode(page, code) {
  await page.fill("#join-code", code);
  await page.click("#join-code-btn");
  const got = await inGame(page);
  if (got !== code) throw new Error(`joined ${got}, wanted ${code}`);
  return got;
}

/** Waits for the game screen and the session, and returns the lobby code the HUD shows. */
export async function inGame(page, timeout = 10000) {
  await page.waitForFunction(
    () => !document.getElementById("game-screen").hidden && window.__tickrelay?.code() != null,
    null,
    { timeout },
  );
  const code = (await page.textContent("#hud-code")).trim();
  const hook = await page.evaluate(() => window.__tickrelay.code());
  if (code !== hook) throw new Error(`#hud-code says ${code} but the session is in ${hook}`);
  return code;
}

/** This page's own player id in its lobby. */
export function you(page) {
  return page.evaluate(() => window.__tickrelay.you());
}

/** Where `page` has been told player `id` is (from the snapshots it applied), or null. */
export function positionOf(page, id) {
  return page.evaluate((id) => window.__tickrelay.players().find((p) => p.id === id) ?? null, id);
}

/** What a page was doing, for a failure report: address, screen, connection, errors, console. */
export async function describePage(page) {
  let state;
  try {
    state = await page.evaluate(() => ({
      url: location.href,
      screen: document.getElementById("game-screen").hidden ? "lobby" : "game",
      status: document.getElementById("conn-status").textContent,
      lobbyError: document.getElementById("lobby-error").textContent,
      hud: document.getElementById("banner").hidden ? "" : document.getElementById("banner").textContent,
      players: window.__tickrelay?.players() ?? null,
    }));
  } catch (e) {
    state = { unavailable: String(e) };
  }
  const lines = [JSON.stringify(state)];
  for (const e of page.errors) lines.push(`pageerror: ${e}`);
  for (const c of page.console.slice(-20)) lines.push(`console ${c}`);
  return lines.join("\n");
}
