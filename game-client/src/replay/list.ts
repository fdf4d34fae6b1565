// The lobby screen's "Recent replays": the server's newest recorded matches, each a link that plays it.

import { listReplays, type ListedReplay } from "./api";

/** Rows shown; the server lists up to 100. */
const SHOWN = 10;

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

/** "3 min ago", "2 h ago", or the date. */
export function ago(ms: number, now: number): string {
  const s = Math.max(0, (now - ms) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

export class ReplayList {
  private readonly root = $<HTMLDetailsElement>("replays");
  private readonly body = $<HTMLTableElement>("replay-table").tBodies[0];
  private readonly count = $<HTMLElement>("replay-count");
  private key = "";

  /** Fetches the list again (quietly: a server that records nothing shows no section). */
  async refresh(): Promise<void> {
    let all: ListedReplay[];
    try {
      all = await listReplays();
    } catch {
      return;
    }
    this.render(all);
  }

  private render(all: ListedReplay[]): void {
    const shown = all.slice(0, SHOWN);
    const now = Date.now();
    const key = shown.map((r) => `${r.id}:${ago(r.start_unix_ms, now)}`).join(",");
    this.root.hidden = all.length === 0;
    this.count.textContent = all.length > 0 ? `(${all.length}${all.length >= 100 ? "+" : ""})` : "";
    if (key === this.key) return;
    this.key = key;
    this.body.replaceChildren(
      ...shown.map((r) => {
        const tr = document.createElement("tr");
        tr.dataset.replay = r.id;
        const name = document.createElement("td");
        name.textContent = r.lobby;
        const game = document.createElement("td");
        game.textContent = r.game;
        const when = document.createElement("td");
        when.textContent = ago(r.start_unix_ms, now);
        when.title = new Date(r.start_unix_ms).toLocaleString();
        const act = document.createElement("td");
        const a = Object.assign(document.createElement("a"), { href: `#replay/${r.id}`, textContent: "Watch" });
        act.append(a);
        tr.append(name, game, when, act);
        return tr;
      }),
    );
  }
}
