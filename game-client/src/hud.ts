// The in-game HUD (DOM over the canvas): lobby bar with code, kill feed, scoreboard, chat, banners, debug overlay.

import { MAX_CHAT_LEN, clampUtf8 } from "./protocol";

export interface HudActions {
  chat(text: string): void;
  leave(): void;
  restart(): void;
}

export interface ScoreRow {
  id: number;
  name: string;
  hue: number;
  kills: number;
  deaths: number;
  me: boolean;
  away: boolean;
}

const KILLFEED_MAX = 5;
const KILLFEED_MS = 6000;
const CHAT_MAX = 60;

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
  private readonly killfeed = $<HTMLOListElement>("killfeed");
  private readonly scoreBody = $<HTMLElement>("scoreboard").querySelector("tbody")!;
  private readonly chatBox = $<HTMLElement>("chat");
  private readonly chatLog = $<HTMLOListElement>("chat-log");
  private readonly chatInput = $<HTMLInputElement>("chat-input");
  private readonly center = $<HTMLElement>("center-msg");
  private readonly banner = $<HTMLElement>("banner");
  private readonly debug = $<HTMLElement>("debug");
  private readonly toastEl = $<HTMLElement>("toast");
  private toastTimer: ReturnType<typeof setTimeout> | undefined;
  private scoreKey = "";
  private centerKey = "";

  constructor(actions: HudActions) {
    this.copy.addEventListener("click", () => void this.copyCode());
    this.restart.addEventListener("click", () => actions.restart());
    $("leave").addEventListener("click", () => actions.leave());
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

  setRole(isHost: boolean, spectating: boolean): void {
    this.restart.hidden = !isHost;
    this.role.textContent = spectating ? "Spectating" : isHost ? "Host" : "";
  }

  /** The "reconnecting" state: a banner, and the frozen world dimmed under it. */
  setBanner(text: string | null): void {
    this.root.classList.toggle("offline", text !== null);
    this.banner.hidden = text === null;
    if (text !== null && this.banner.textContent !== text) this.banner.textContent = text;
  }

  /** The big centred message (respawn countdown, spectating hint); `sub` is the smaller line under it. */
  setCenter(text: string | null, sub = ""): void {
    const key = `${text}|${sub}`;
    if (key === this.centerKey) return;
    this.centerKey = key;
    this.center.hidden = text === null;
    if (text === null) return;
    this.center.textContent = text;
    if (sub !== "") {
      const s = document.createElement("small");
      s.textContent = sub;
      this.center.append(s);
    }
  }

  kill(killer: string, killerHue: number, victim: string, victimHue: number, involvesMe: boolean): void {
    const li = document.createElement("li");
    if (involvesMe) li.className = "me";
    li.append(
      coloured(killer, killerHue),
      Object.assign(document.createElement("span"), { className: "verb", textContent: "eliminated" }),
      coloured(victim, victimHue),
    );
    this.killfeed.prepend(li);
    while (this.killfeed.children.length > KILLFEED_MAX) this.killfeed.lastElementChild!.remove();
    setTimeout(() => li.classList.add("fading"), KILLFEED_MS);
    setTimeout(() => li.remove(), KILLFEED_MS + 600);
  }

  clearKillfeed(): void {
    this.killfeed.replaceChildren();
  }

  chat(name: string, hue: number | null, text: string): void {
    const li = document.createElement("li");
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = `${name}:`;
    if (hue !== null) who.style.color = `hsl(${hue}, 80%, 72%)`;
    li.append(who, document.createTextNode(text));
    this.appendChat(li);
  }

  system(text: string): void {
    const li = document.createElement("li");
    li.className = "system";
    li.textContent = text;
    this.appendChat(li);
  }

  /** Redraws the scoreboard when something in it changed. */
  scores(rows: ScoreRow[]): void {
    const key = rows.map((r) => `${r.id}:${r.name}:${r.kills}:${r.deaths}:${r.me}:${r.away}`).join(",");
    if (key === this.scoreKey) return;
    this.scoreKey = key;
    this.scoreBody.replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement("tr");
        if (r.me) tr.className = "me";
        const name = tr.insertCell();
        const dot = document.createElement("span");
        dot.className = "swatch";
        dot.style.background = `hsl(${r.hue}, 75%, 60%)`;
        const label = document.createElement("span");
        label.textContent = r.name;
        if (r.away) label.className = "away";
        name.append(dot, label);
        const k = tr.insertCell();
        k.className = "num";
        k.textContent = String(r.kills);
        const d = tr.insertCell();
        d.className = "num";
        d.textContent = String(r.deaths);
        return tr;
      }),
    );
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
    }
  }
}

function coloured(text: string, hue: number): HTMLSpanElement {
  const s = document.createElement("span");
  s.textContent = text;
  s.style.color = `hsl(${hue}, 80%, 70%)`;
  return s;
}
