// The operator console (/admin): asks for the admin token (kept in sessionStorage), then every second shows this
// node's lobbies with their players and tick figures, and the server's last five minutes; kicks, closes, and
// watches a lobby in the same page (the game itself, spectating, in a frame).

import { Api, ApiError, explain, type LobbyView, type Overview } from "./api";
import { Chart } from "./chart";

const TOKEN_KEY = "tickrelay.admin.token";
const REFRESH_MS = 1000;
/** Per-lobby history kept by the page (the server publishes only the latest second). */
const LOBBY_SAMPLES = 300;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

interface LobbyHistory {
  p50: number[];
  p99: number[];
  bytes: number[];
}

class Console {
  private api: Api | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private selected: number | null = null;
  /** What the pane shows: `watch/CODE` or `replay/ID` (the game page's fragment), or nothing. */
  private watching: string | null = null;
  private last: Overview | null = null;
  private readonly history = new Map<number, LobbyHistory>();
  private readonly players = new Chart($("chart-players"), "Players and connections", (v) => v.toFixed(0));
  private readonly cpu = new Chart($("chart-cpu"), "Process CPU", (v) => `${v.toFixed(0)}%`);
  private readonly overruns = new Chart($("chart-overruns"), "Tick overruns / s", (v) => v.toFixed(0));
  private readonly tick = new Chart($("chart-tick"), "Tick time", (v) => `${(v / 1000).toFixed(2)} ms`);
  private readonly bytes = new Chart($("chart-bytes"), "Sent to members", (v) => `${(v / 1024).toFixed(1)} KiB/s`);

  constructor() {
    $<HTMLFormElement>("login").addEventListener("submit", (e) => {
      e.preventDefault();
      const token = $<HTMLInputElement>("token").value.trim();
      if (token !== "") this.start(token);
    });
    $("logout").addEventListener("click", () => this.logout(null));
    $("close-lobby").addEventListener("click", () => void this.closeLobby());
    $("watch").addEventListener("click", () => this.toggleWatch("watch"));
    $("open-replay").addEventListener("click", () => this.toggleWatch("replay"));
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved !== null && saved !== "") this.start(saved);
    else this.probe();
  }

  /** Without a token: ask the server anyway, to say up front when admin is off. */
  private probe(): void {
    new Api("")
      .overview()
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 404) this.showLogin(e.message, true);
      });
    this.showLogin(null, false);
  }

  private start(token: string): void {
    this.api = new Api(token);
    sessionStorage.setItem(TOKEN_KEY, token);
    clearInterval(this.timer);
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  private logout(why: string | null, off = false): void {
    clearInterval(this.timer);
    this.api = null;
    sessionStorage.removeItem(TOKEN_KEY);
    this.showLogin(why, off);
  }

  private showLogin(why: string | null, off: boolean): void {
    $("login-screen").hidden = false;
    $("console").hidden = true;
    $("logout").hidden = true;
    const msg = $("login-msg");
    msg.hidden = why === null;
    msg.textContent = why ?? "";
    msg.classList.toggle("off", off);
    $<HTMLInputElement>("token").disabled = off;
  }

  private async refresh(): Promise<void> {
    const api = this.api;
    if (api === null) return;
    let o: Overview;
    try {
      o = await api.overview();
    } catch (e) {
      if (api !== this.api) return;
      if (e instanceof ApiError && (e.status === 401 || e.status === 404)) {
        this.logout(e.message, e.status === 404);
      } else {
        this.status(e instanceof Error ? e.message : String(e), true);
      }
      return;
    }
    if (api !== this.api) return;
    this.last = o;
    $("login-screen").hidden = true;
    $("console").hidden = false;
    $("logout").hidden = false;
    const shown = o.lobby_count > o.lobbies.length ? ` (the fullest ${o.lobbies.length} shown)` : "";
    this.status(`${o.lobby_count} ${o.lobby_count === 1 ? "lobby" : "lobbies"}${shown} · updated ${new Date().toLocaleTimeString()}`, false);
    this.remember(o.lobbies);
    this.drawServer(o);
    this.drawLobbies(o.lobbies);
    this.drawSelected();
  }

  private status(text: string, bad: boolean): void {
    const el = $("status");
    el.textContent = text;
    el.classList.toggle("bad", bad);
  }

  private remember(lobbies: LobbyView[]): void {
    const live = new Set(lobbies.map((l) => l.id));
    for (const id of [...this.history.keys()]) if (!live.has(id)) this.history.delete(id);
    for (const l of lobbies) {
      let h = this.history.get(l.id);
      if (h === undefined) {
        h = { p50: [], p99: [], bytes: [] };
        this.history.set(l.id, h);
      }
      h.p50.push(l.tick_p50_us);
      h.p99.push(l.tick_p99_us);
      h.bytes.push(l.bytes_per_sec);
      for (const a of [h.p50, h.p99, h.bytes]) if (a.length > LOBBY_SAMPLES) a.shift();
    }
  }

  private drawServer(o: Overview): void {
    const s = o.series;
    this.players.draw([
      { label: "players", colour: "#5aaaff", values: s.map((x) => x.players) },
      { label: "connections", colour: "#7c5cff", values: s.map((x) => x.connections) },
    ]);
    this.cpu.draw([{ label: "cpu", colour: "#3ddc84", values: s.map((x) => x.cpu) }]);
    this.overruns.draw([{ label: "overruns", colour: "#ff6b6b", values: s.map((x) => x.overruns) }]);
  }

  private drawLobbies(lobbies: LobbyView[]): void {
    const body = $("lobbies");
    if (lobbies.length === 0) {
      const tr = document.createElement("tr");
      const td = cell("No lobbies on this node.");
      td.colSpan = 6;
      td.className = "muted";
      tr.append(td);
      body.replaceChildren(tr);
    } else {
      body.replaceChildren(
        ...lobbies.map((l) => {
          const tr = document.createElement("tr");
          tr.dataset.lobby = String(l.id);
          tr.classList.toggle("selected", l.id === this.selected);
          const names = l.players.map((p) => p.name + (p.away ? " (away)" : "")).join(", ");
          tr.append(
            cell(`${l.name}`, `#${l.id} · ${l.code}${l.public ? "" : " · private"}`),
            cell(l.game),
            cell(`${l.players.length}/${l.max_players}`, names),
            cell(String(l.spectators)),
            cell(`${ms(l.tick_p50_us)} / ${ms(l.tick_p99_us)}`),
            cell(`${(l.bytes_per_sec / 1024).toFixed(1)} KiB/s`),
          );
          tr.addEventListener("click", () => {
            this.selected = l.id;
            this.drawLobbies(this.last?.lobbies ?? []);
            this.drawSelected();
          });
          return tr;
        }),
      );
    }
  }

  private lobby(): LobbyView | null {
    return this.last?.lobbies.find((l) => l.id === this.selected) ?? null;
  }

  private drawSelected(): void {
    const l = this.lobby();
    $("detail").hidden = l === null;
    if (l === null) {
      if (this.watching !== null) this.stopWatching();
      return;
    }
    $("detail-title").textContent = `${l.name} (${l.code})`;
    $("detail-sub").textContent =
      `#${l.id} · ${l.game} · ${l.public ? "public" : "private"} · ${l.players.length}/${l.max_players} players · ${l.spectators} watching`;
    const list = $("players");
    list.replaceChildren(
      ...l.players.map((p) => {
        const li = document.createElement("li");
        li.dataset.player = String(p.id);
        const name = document.createElement("span");
        name.className = "player-name";
        name.textContent = `${p.name}${p.id === l.host ? " ★" : ""}`;
        const meta = document.createElement("span");
        meta.className = "muted";
        meta.textContent = `id ${p.id}${p.away ? " · away" : ""}`;
        const kick = document.createElement("button");
        kick.className = "danger small";
        kick.textContent = "Kick";
        kick.addEventListener("click", () => void this.kick(l.id, p.id, p.name));
        li.append(name, meta, kick);
        return li;
      }),
    );
    if (l.players.length === 0) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "No players seated.";
      list.append(li);
    }
    const h = this.history.get(l.id);
    if (h !== undefined) {
      this.tick.draw([
        { label: "p50", colour: "#5aaaff", values: h.p50 },
        { label: "p99", colour: "#f5c542", values: h.p99 },
      ]);
      this.bytes.draw([{ label: "bytes", colour: "#3ddc84", values: h.bytes }]);
    }
    $("watch").textContent = this.watching === `watch/${l.code}` ? "Stop watching" : "Watch";
    const replay = $("open-replay");
    replay.hidden = l.replay === null;
    replay.textContent = l.replay !== null && this.watching === `replay/${l.replay}` ? "Close replay" : "Replay";
    if (this.watching !== null && this.watching !== `watch/${l.code}` && this.watching !== `replay/${l.replay}`) this.stopWatching();
  }

  private reason(): string {
    return $<HTMLInputElement>("reason").value.trim();
  }

  private async kick(lobby: number, player: number, name: string): Promise<void> {
    await this.act(() => this.api!.kick(lobby, player, this.reason()), `Kicked ${name}.`);
  }

  private async closeLobby(): Promise<void> {
    const l = this.lobby();
    if (l === null) return;
    await this.act(() => this.api!.close(l.id, this.reason()), `Closed ${l.name}.`);
  }

  private async act(f: () => Promise<unknown>, done: string): Promise<void> {
    if (this.api === null) return;
    const out = $("action-msg");
    try {
      await f();
      out.textContent = done;
      out.classList.remove("bad");
    } catch (e) {
      out.textContent = e instanceof Error ? e.message : String(e);
      out.classList.add("bad");
    }
    await this.refresh();
  }

  /**
   * The pane below shows the game: spectating the lobby live (`watch`), or playing its recording
   * from the start (`replay`); the same button again closes it.
   */
  private toggleWatch(kind: "watch" | "replay"): void {
    const l = this.lobby();
    if (l === null) return;
    const what = kind === "watch" ? `watch/${l.code}` : l.replay === null ? null : `replay/${l.replay}`;
    if (what === null) return;
    if (this.watching === what) {
      this.stopWatching();
    } else {
      this.watching = what;
      const frame = $<HTMLIFrameElement>("watch-frame");
      frame.src = `/#${what}`;
      $("watch-pane").hidden = false;
    }
    this.drawSelected();
  }

  private stopWatching(): void {
    this.watching = null;
    const frame = $<HTMLIFrameElement>("watch-frame");
    frame.src = "about:blank";
    $("watch-pane").hidden = true;
  }
}

function cell(text: string, sub?: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.textContent = text;
  if (sub !== undefined && sub !== "") {
    const s = document.createElement("div");
    s.className = "muted sub";
    s.textContent = sub;
    td.append(s);
  }
  return td;
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(2)} ms`;
}

// Read by e2e/run.mjs.
(window as unknown as { __explain: unknown }).__explain = explain;
new Console();
