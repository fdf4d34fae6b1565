// The round in the HUD: goal and clock above the scoreboard while live; the winner screen and the next round's countdown while over.

import type { ScoreRow } from "./hud";
import { rgba, tint, type Rgb } from "./palette";
import { formatClock } from "./round";

/** What the HUD shows of the round this frame (main.ts builds it from round.ts and the session). */
export interface RoundView {
  /** "First to 10", or null without a goal. */
  goal: string | null;
  /** Seconds left while live with a clock, else null. */
  clock: number | null;
  over: boolean;
  /** While over: the winner (null for a draw). */
  winner: { name: string; colour: Rgb; me: boolean } | null;
  /** While over: the round's scores, best first. */
  rows: ScoreRow[];
  /** While over: seconds until the next round, or null when none was announced. */
  nextIn: number | null;
}

/** The winner screen lists this many players (and us, wherever we are). */
const WINNER_ROWS = 8;
/** The clock turns amber, then red, this close to the end (s). */
const CLOCK_WARN = 30;
const CLOCK_URGENT = 10;

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el as T;
}

export class RoundHud {
  private readonly screen = $<HTMLElement>("game-screen");
  private readonly info = $<HTMLElement>("round-info");
  private readonly goal = $<HTMLElement>("round-goal");
  private readonly clock = $<HTMLElement>("round-clock");
  private readonly card = $<HTMLElement>("winner");
  private readonly title = $<HTMLElement>("winner-title");
  private readonly body = $<HTMLElement>("winner-table").querySelector("tbody")!;
  private readonly next = $<HTMLElement>("winner-next");
  private infoKey = "";
  private cardKey = "";

  /** Shows `v` (null: no rounds in this lobby). Cheap when nothing changed: DOM writes only on change. */
  update(v: RoundView | null): void {
    this.showInfo(v);
    this.showCard(v !== null && v.over ? v : null);
  }

  private showInfo(v: RoundView | null): void {
    const clock = v === null || v.over || v.clock === null ? null : formatClock(v.clock);
    const level = v?.clock == null ? "" : v.clock <= CLOCK_URGENT ? "urgent" : v.clock <= CLOCK_WARN ? "warn" : "";
    const key = `${v?.goal}|${clock}|${level}`;
    if (key === this.infoKey) return;
    this.infoKey = key;
    const goal = v?.goal ?? null;
    this.info.hidden = goal === null && clock === null;
    this.goal.textContent = goal ?? "";
    this.clock.textContent = clock ?? "";
    this.clock.className = level;
  }

  private showCard(v: RoundView | null): void {
    this.screen.classList.toggle("round-over", v !== null);
    if (v === null) {
      this.card.hidden = true;
      this.cardKey = "";
      return;
    }
    const n = v.nextIn === null ? null : Math.ceil(v.nextIn);
    const rows = topRows(v.rows);
    const who = v.winner === null ? "draw" : `${v.winner.name}|${v.winner.me}|${v.winner.colour.join(",")}`;
    const key = `${who}|${n}|${rows.map((r) => `${r.id}:${r.name}:${r.kills}:${r.deaths}:${r.colour.join(",")}`).join(",")}`;
    if (key === this.cardKey) return;
    this.cardKey = key;
    this.card.hidden = false;

    this.title.replaceChildren();
    if (v.winner === null) {
      this.title.textContent = "Draw";
    } else {
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = v.winner.me ? "You" : v.winner.name;
      name.style.color = rgba(tint(v.winner.colour, 0.1));
      this.title.append(name, document.createTextNode(v.winner.me ? " win!" : " wins!"));
    }

    this.body.replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement("tr");
        if (r.me) tr.className = "me";
        const who = tr.insertCell();
        const dot = document.createElement("span");
        dot.className = "swatch";
        dot.style.background = rgba(r.colour);
        const name = document.createElement("span");
        name.className = "player";
        name.textContent = r.name;
        who.append(dot, name);
        for (const x of [r.kills, r.deaths]) {
          const td = tr.insertCell();
          td.className = "num";
          td.textContent = String(x);
        }
        return tr;
      }),
    );

    this.next.replaceChildren();
    if (n === null) {
      this.next.textContent = "Next round soon";
    } else if (n <= 0) {
      this.next.textContent = "Next round starting…";
    } else {
      const big = document.createElement("b");
      big.textContent = String(n);
      this.next.append("Next round in ", big);
    }
  }
}

/** The best WINNER_ROWS, with us in the last row when we are further down. */
function topRows(all: ScoreRow[]): ScoreRow[] {
  if (all.length <= WINNER_ROWS) return all;
  const rows = all.slice(0, WINNER_ROWS);
  const me = all.findIndex((r) => r.me);
  if (me >= WINNER_ROWS) rows[WINNER_ROWS - 1] = all[me];
  return rows;
}
