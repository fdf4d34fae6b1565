// The in-game HUD (DOM over the canvas): lobby bar with code, kill feed, scoreboard, chat, banners, debug overlay.

import { STICK_ZONE, type Layout } from "./layout";
import { rgba, tint, type Rgb } from "./palette";
import { MAX_CHAT_LEN, clampUtf8 } from "./protocol";
import { TopBar } from "./topbar";

export interface HudActions {
  chat(text: string): void;
  leave(): void;
  restart(): void;
  /** The sound button or the M key. */
  toggleSound(): void;
}

export interface ScoreRow {
  id: number;
  name: string;
  colour: Rgb;
  kills: number;
  deaths: number;
  me: boolean;
  away: boolean;
  host: boolean;
}

/** Something drawn on the arena that a panel over it should not hide (CSS px, relative to the window). */
export interface Spot {
  x: number;
  y: number;
  /** Half its width; it reaches `up` above y (its label) and `down` below. */
  half: number;
  up: number;
  down: number;
  me: boolean;
}

const KILLFEED_MAX = 5;
const KILLFEED_MS = 6000;
const CHAT_MAX = 60;
/** The scoreboard lists this many players at most (and us, wherever we are). */
const SCORE_ROWS = 10;

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el as T;
}

export class Hud {
  private readonly root = $<HTMLElement>("game-screen");
  private readonly lobbyName = $<HTMLElement>("hud-lobby-name");
  private readonly code = $<HTMLElement>("hud-code");
  private readonly copy = $<HTMLButtonElement>("copy-code");
  private readonly role = $<HTMLElement>("hud-role");
  private readonly restart = $<HTMLButtonElement>("restart-round");
  private readonly sound = $<HTMLButtonElement>("toggle-sound");
  private readonly killfeed = $<HTMLOListElement>("killfeed");
  private readonly scoreBody = $<HTMLElement>("scoreboard").querySelector("tbody")!;
  private readonly chatBox = $<HTMLElement>("chat");
  private readonly chatLog = $<HTMLOListElement>("chat-log");
  private readonly chatInput = $<HTMLInputElement>("chat-input");
  private readonly center = $<HTMLElement>("center-msg");
  private readonly banner = $<HTMLElement>("banner");
  private readonly debug = $<HTMLElement>("debug");
  private readonly toastEl = $<HTMLElement>("toast");
  private readonly hudEl = $<HTMLElement>("hud");
  readonly topbar = new TopBar();
  /** The panels that can end up over the arena, faded while a player is under them. */
  private readonly panels: HTMLElement[];
  private readonly actions: HudActions;
  private toastTimer: ReturnType<typeof setTimeout> | undefined;
  private scoreKey = "";
  /** Watching a replay: the followed player's row says "view", not "you". */
  private replay = false;
  private centerKey = "";
  private layoutKey = "";

  constructor(actions: HudActions) {
    this.copy.addEventListener("click", () => void this.copyCode());
    this.restart.addEventListener("click", () => actions.restart());
    $("leave").addEventListener("click", () => actions.leave());
    this.sound.addEventListener("click", (e) => {
      actions.toggleSound();
      (e.currentTarget as HTMLElement).blur(); // so Space (fire) does not press it again
    });
    this.actions = actions;
    $("toggle-debug").addEventListener("click", (e) => {
      this.toggleDebug();
      (e.currentTarget as HTMLElement).blur();
    });
    $("chat-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const text = clampUtf8(this.chatInput.value.trim(), MAX_CHAT_LEN);
      if (text !== "") actions.chat(text);
      this.chatInput.value = "";
      this.chatInput.blur();
    });
    this.chatInput.addEventListener("focus", () => this.chatBox.classList.add("typing"));
    this.chatInput.addEventListener("blur", () => this.chatBox.classList.remove("typing"));
    window.addEventListener("keydown", (e) => this.key(e));
    this.panels = [$("scoreboard"), this.killfeed, this.chatBox, this.debug];
  }

  get visible(): boolean {
    return !this.root.hidden;
  }

  /** True while the chat box has the keyboard (game keys are then ignored). */
  get typing(): boolean {
    return document.activeElement === this.chatInput;
  }

  show(): void {
    this.root.hidden = false;
  }

  hide(): void {
    this.root.hidden = true;
    this.chatInput.blur();
  }

  /** Starts a fresh lobby view. */
  enter(lobbyName: string, code: string): void {
    this.lobbyName.textContent = lobbyName;
    this.code.textContent = code;
    this.killfeed.replaceChildren();
    this.chatLog.replaceChildren();
    this.scoreKey = "";
    this.setCenter(null);
    this.setBanner(null);
  }

  /** The badge next to the code: "Host" (we can restart the round) or "Spectating"; none otherwise. */
  setRole(isHost: boolean, spectating: boolean): void {
    this.restart.hidden = !isHost;
    const kind = spectating ? "spectating" : isHost ? "host" : "";
    this.role.className = `role ${kind}`;
    this.role.textContent = spectating ? "Spectating" : isHost ? "Host" : "";
    this.role.title = spectating ? "Watching: you are not in the game" : isHost ? "You host this lobby: you can restart the round" : "";
  }

  /** Watching a replay: the badge says so, and there is no one to chat with. */
  setReplay(on: boolean): void {
    this.replay = on;
    this.scoreKey = "";
    this.chatBox.hidden = on;
    this.copy.hidden = on;
    if (on) {
      this.restart.hidden = true;
      this.role.className = "role spectating";
      this.role.textContent = "Replay";
      this.role.title = "A recorded match, re-simulated by the server";
    }
  }

  /**
   * Places the panels for the renderer's layout: in a column beside the arena ("side"), or over
   * its corners ("over").
   */
  setLayout(l: Layout): void {
    const c = l.side;
    const a = l.arena;
    const key = `${l.mode}|${l.sticks !== null}|${c === null ? "" : `${c.left}|${c.top}|${c.width}|${c.height}`}|${a.left}|${a.top}|${a.width}|${a.height}`;
    if (key === this.layoutKey) return;
    this.layoutKey = key;
    // "below" (touch, portrait) stacks the same column under the arena: the side styles serve both.
    this.hudEl.classList.toggle("side", c !== null);
    this.hudEl.classList.toggle("below", l.mode === "below");
    const st = this.hudEl.style;
    // Over the arena with touch sticks, the bottom panels keep above the sticks' zones.
    st.setProperty("--stick-clear", l.sticks !== null && c === null ? `${STICK_ZONE}px` : "0px");
    // The arena's box, for what is centred on it (the winner screen).
    st.setProperty("--arena-left", `${Math.round(a.left)}px`);
    st.setProperty("--arena-top", `${Math.round(a.top)}px`);
    st.setProperty("--arena-width", `${Math.round(a.width)}px`);
    st.setProperty("--arena-height", `${Math.round(a.height)}px`);
    if (c === null) {
      for (const v of ["--side-left", "--side-top", "--side-width", "--side-height"]) st.removeProperty(v);
      return;
    }
    st.setProperty("--side-left", `${Math.round(c.left)}px`);
    st.setProperty("--side-top", `${Math.round(c.top)}px`);
    st.setProperty("--side-width", `${Math.round(c.width)}px`);
    st.setProperty("--side-height", `${Math.round(c.height)}px`);
  }

  /**
   * Fades each panel that covers one of `spots` (players on the arena): almost away while our own
   * player is under it, half while someone else is. The chat stays while we type in it.
   */
  reveal(spots: Spot[]): void {
    const side = this.hudEl.classList.contains("side");
    for (const el of this.panels) {
      let mine = false;
      let other = false;
      // In the side layout every panel (the debug overlay too) is in the column beside the arena.
      if (!side && !el.hidden && !(el === this.chatBox && this.typing)) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.height > 0) {
          for (const s of spots) {
            if (s.x + s.half < r.left || s.x - s.half > r.right || s.y + s.down < r.top || s.y - s.up > r.bottom) continue;
            if (s.me) mine = true;
            else other = true;
          }
        }
      }
      el.classList.toggle("under-me", mine);
      el.classList.toggle("under", other && !mine);
    }
  }

  /** The "reconnecting" state: a banner, and the frozen world dimmed under it. */
  setBanner(text: string | null): void {
    this.root.classList.toggle("offline", text !== null);
    this.banner.hidden = text === null;
    if (text !== null && this.banner.textContent !== text) this.banner.textContent = text;
  }

  /**
   * The big centred message (respawn countdown, spectating hint); `sub` is the smaller line under
   * it. `dead`: we were eliminated, so it says so above and the arena is dimmed under it.
   */
  setCenter(text: string | null, sub = "", dead = false): void {
    const key = `${text}|${sub}|${dead}`;
    if (key === this.centerKey) return;
    this.centerKey = key;
    this.center.hidden = text === null;
    this.root.classList.toggle("dead", text !== null && dead);
    this.center.classList.toggle("dead", dead);
    if (text === null) return;
    this.center.replaceChildren();
    if (dead) {
      const k = document.createElement("span");
      k.className = "kicker";
      k.textContent = "Eliminated";
      this.center.append(k);
    }
    const main = document.createElement("span");
    main.className = "main";
    main.textContent = text;
    this.center.append(main);
    if (sub !== "") {
      const s = document.createElement("small");
      s.textContent = sub;
      this.center.append(s);
    }
  }

  kill(killer: string, killerColour: Rgb, victim: string, victimColour: Rgb, involvesMe: boolean): void {
    const li = document.createElement("li");
    if (involvesMe) li.className = "me";
    li.append(
      coloured(killer, killerColour),
      Object.assign(document.createElement("span"), { className: "verb", textContent: "eliminated" }),
      coloured(victim, victimColour),
    );
    this.killfeed.prepend(li);
    while (this.killfeed.children.length > KILLFEED_MAX) this.killfeed.lastElementChild!.remove();
    setTimeout(() => li.classList.add("fading"), KILLFEED_MS);
    setTimeout(() => li.remove(), KILLFEED_MS + 600);
  }

  clearKillfeed(): void {
    this.killfeed.replaceChildren();
  }

  chat(name: string, colour: Rgb | null, text: string): void {
    const li = document.createElement("li");
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = `${name}:`;
    if (colour !== null) who.style.color = rgba(tint(colour, 0.2));
    li.append(who, document.createTextNode(text));
    this.appendChat(li);
  }

  system(text: string): void {
    const li = document.createElement("li");
    li.className = "system";
    li.textContent = text;
    this.appendChat(li);
  }

  /** Redraws the scoreboard when something in it changed: the best SCORE_ROWS, and us. */
  scores(all: ScoreRow[]): void {
    let rows = all;
    if (all.length > SCORE_ROWS) {
      rows = all.slice(0, SCORE_ROWS);
      const me = all.findIndex((r) => r.me);
      if (me >= SCORE_ROWS) rows[SCORE_ROWS - 1] = all[me];
    }
    const more = all.length - rows.length;
    const key =
      rows.map((r) => `${r.id}:${r.name}:${r.colour.join(".")}:${r.kills}:${r.deaths}:${r.me}:${r.away}:${r.host}`).join(",") + `+${more}`;
    if (key === this.scoreKey) return;
    this.scoreKey = key;
    const trs = rows.map((r) => {
      const tr = document.createElement("tr");
      if (r.me) tr.className = "me";
      const cell = tr.insertCell();
      cell.className = "name";
      const name = document.createElement("div");
      name.className = "who";
      cell.append(name);
      const dot = document.createElement("span");
      dot.className = "swatch";
      dot.style.background = rgba(r.colour);
      const label = document.createElement("span");
      label.className = r.away ? "player away" : "player";
      label.textContent = r.name;
      if (r.away) label.title = "away (reconnecting)";
      // The name and its tags wrap as a group (tags to the next line first): a name is never cut.
      const words = document.createElement("span");
      words.className = "words";
      words.append(label);
      if (r.host) words.append(tag("host", "host", "hosts this lobby"));
      if (r.me) words.append(this.replay ? tag("you", "view", "whose view the replay follows") : tag("you", "you", "you"));
      name.append(dot, words);
      const k = tr.insertCell();
      k.className = "num";
      k.textContent = String(r.kills);
      const d = tr.insertCell();
      d.className = "num";
      d.textContent = String(r.deaths);
      return tr;
    });
    if (more > 0) {
      const tr = document.createElement("tr");
      tr.className = "more";
      const td = tr.insertCell();
      td.colSpan = 3;
      td.textContent = `+ ${more} more`;
      trs.push(tr);
    }
    this.scoreBody.replaceChildren(...trs);
  }

  /** On a touch device: the chat box says "tap", not "press Enter". */
  touchMode(): void {
    this.chatInput.placeholder = "Tap to chat";
  }

  /** The sound button shows whether sound is on. */
  setMuted(muted: boolean): void {
    this.sound.classList.toggle("muted", muted);
    this.sound.setAttribute("aria-pressed", String(muted));
    this.sound.setAttribute("aria-label", muted ? "Unmute sounds (M)" : "Mute sounds (M)");
    this.sound.title = muted ? "Sound is off: unmute (M)" : "Mute sounds (M)";
    this.sound.querySelector(".label")!.textContent = muted ? "Sound off" : "Sound on";
  }

  get debugVisible(): boolean {
    return !this.debug.hidden;
  }

  toggleDebug(): void {
    this.debug.hidden = !this.debug.hidden;
  }

  setDebug(lines: string[]): void {
    const text = lines.join("\n");
    if (this.debug.textContent !== text) this.debug.textContent = text;
  }

  toast(text: string, bad = false, ms = 3500): void {
    this.toastEl.textContent = text;
    this.toastEl.className = bad ? "bad" : "";
    this.toastEl.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => (this.toastEl.hidden = true), ms);
  }

  private appendChat(li: HTMLLIElement): void {
    this.chatLog.append(li);
    while (this.chatLog.children.length > CHAT_MAX) this.chatLog.firstElementChild!.remove();
  }

  private async copyCode(): Promise<void> {
    const code = this.code.textContent ?? "";
    try {
      await navigator.clipboard.writeText(code);
    } catch {
      // No clipboard permission (plain http on another host): select the code so Ctrl+C works.
      const range = document.createRange();
      range.selectNodeContents(this.code);
      const sel = window.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
      this.toast("Press Ctrl+C to copy the code");
      return;
    }
    this.copy.textContent = "Copied!";
    setTimeout(() => (this.copy.textContent = "Copy"), 1500);
    this.copy.blur();
  }

  private key(e: KeyboardEvent): void {
    if (!this.visible) return;
    if (e.code === "F3") {
      e.preventDefault();
      this.toggleDebug();
      return;
    }
    if (this.typing) {
      if (e.key === "Escape") {
        this.chatInput.value = "";
        this.chatInput.blur();
      }
      return;
    }
    if (e.key === "Enter" && !(document.activeElement instanceof HTMLInputElement)) {
      e.preventDefault();
      this.chatInput.focus();
      return;
    }
    if (e.code === "KeyM" && !e.repeat && !e.ctrlKey && !e.metaKey && !e.altKey && !(document.activeElement instanceof HTMLInputElement)) {
      this.actions.toggleSound();
    }
  }
}

function tag(kind: string, text: string, title: string): HTMLSpanElement {
  const s = document.createElement("span");
  s.className = `tag ${kind}`;
  s.textContent = text;
  s.title = title;
  return s;
}

function coloured(text: string, colour: Rgb): HTMLSpanElement {
  const s = document.createElement("span");
  s.textContent = text;
  s.style.color = rgba(tint(colour, 0.15));
  return s;
}
