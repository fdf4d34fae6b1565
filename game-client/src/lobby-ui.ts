// The lobby screen (DOM): name, live public lobby list, create, join by code, quick play, spectate, errors.

import { CODE_LEN, DEFAULT_KILL_GOAL, MAX_LOBBY_NAME_LEN, MAX_NAME_LEN, clampUtf8, type LobbyRef, type LobbySummary } from "./protocol";

export interface CreateOptions {
  name: string;
  game: string;
  maxPlayers: number;
  public: boolean;
  /** Arena only: first to this many eliminations wins (0: no goal). */
  killGoal?: number;
  /** Arena only: a round's length in seconds (0: no clock). */
  roundSeconds?: number;
}

export interface LobbyActions {
  quickPlay(): void;
  join(lobby: LobbyRef): void;
  spectate(lobby: LobbyRef): void;
  create(opts: CreateOptions): void;
  /** Forget the invite on screen (the page's address still names it). */
  dismissInvite(): void;
}

const NAME_KEY = "tickrelay.name";

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el as T;
}

export class LobbyScreen {
  private readonly root = $<HTMLElement>("lobby-screen");
  private readonly nameInput = $<HTMLInputElement>("name-input");
  private readonly status = $<HTMLElement>("conn-status");
  private readonly error = $<HTMLElement>("lobby-error");
  private readonly tbody = $<HTMLTableElement>("lobby-table").tBodies[0];
  private readonly empty = $<HTMLElement>("lobby-empty");
  private readonly count = $<HTMLElement>("lobby-count");
  private readonly codeInput = $<HTMLInputElement>("join-code");
  private readonly createName = $<HTMLInputElement>("create-name");
  private readonly invite = $<HTMLElement>("invite");
  private readonly inviteJoin = $<HTMLButtonElement>("invite-join");
  private readonly buttons: HTMLButtonElement[];
  /** The code of the invite on screen, or null. */
  private inviteCode: string | null = null;
  private lobbies: LobbySummary[] = [];
  private connectionError = false;

  constructor(private readonly actions: LobbyActions) {
    this.nameInput.value = loadName();
    this.nameInput.addEventListener("input", () => saveName(this.name));
    this.createName.placeholder = `${this.name}'s lobby`;
    this.nameInput.addEventListener("input", () => (this.createName.placeholder = `${this.name}'s lobby`));

    $("quick-play").addEventListener("click", () => this.act(() => actions.quickPlay()));
    this.inviteJoin.addEventListener("click", () => this.joinInvite());
    $("invite-dismiss").addEventListener("click", () => {
      this.setInvite(null);
      actions.dismissInvite();
    });
    // Enter in the name field, with an invite on screen, is the same as its Join button.
    this.nameInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && this.inviteCode !== null) {
        e.preventDefault();
        this.joinInvite();
      }
    });
    $("join-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const code = this.code();
      if (code !== null) this.act(() => actions.join(code));
    });
    $("spectate-code-btn").addEventListener("click", () => {
      const code = this.code();
      if (code !== null) this.act(() => actions.spectate(code));
    });
    this.codeInput.addEventListener("input", () => {
      this.codeInput.value = this.codeInput.value.toUpperCase().replace(/[^A-Z0-9]/g, "");
    });
    const game = $<HTMLSelectElement>("create-game");
    // The round settings are the arena's; walkers has no rounds.
    const rounds = $<HTMLElement>("create-rounds");
    game.addEventListener("change", () => (rounds.hidden = game.value !== "arena"));
    $("create-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const max = Number($<HTMLInputElement>("create-max").value);
      const name = this.createName.value.trim() || this.createName.placeholder;
      const arena = game.value === "arena";
      const goal = Number($<HTMLInputElement>("create-goal").value);
      this.act(() =>
        actions.create({
          name: clampUtf8(name, MAX_LOBBY_NAME_LEN),
          game: game.value,
          maxPlayers: Number.isFinite(max) ? Math.max(1, Math.min(64, Math.round(max))) : 8,
          public: !$<HTMLInputElement>("create-private").checked,
          killGoal: arena ? (Number.isFinite(goal) ? Math.max(0, Math.min(999, Math.round(goal))) : DEFAULT_KILL_GOAL) : undefined,
          roundSeconds: arena ? Number($<HTMLSelectElement>("create-length").value) : undefined,
        }),
      );
    });
    this.buttons = [...this.root.querySelectorAll("button")];
  }

  /** The player's chosen name, trimmed to what the server accepts. */
  get name(): string {
    const n = clampUtf8(this.nameInput.value.trim(), MAX_NAME_LEN);
    return n !== "" ? n : "player";
  }

  show(): void {
    this.root.hidden = false;
  }

  hide(): void {
    this.root.hidden = true;
  }

  get visible(): boolean {
    return !this.root.hidden;
  }

  /**
   * Shows the invite callout for `code` (from an invite link), or hides it (null). The name field
   * gets the focus with its text selected: the invitee chooses a name, then presses Join (or Enter).
   */
  setInvite(code: string | null): void {
    this.inviteCode = code;
    this.invite.hidden = code === null;
    if (code === null) return;
    this.codeInput.value = code;
    $("invite-code").textContent = code;
    this.inviteJoin.textContent = `Join ${code}`;
    this.describeInvite();
    this.nameInput.focus();
    this.nameInput.select();
  }

  setStatus(kind: "online" | "connecting" | "offline", text: string): void {
    this.status.className = `status ${kind}`;
    this.status.textContent = text;
    for (const b of this.buttons) b.disabled = kind !== "online";
  }

  /**
   * Shows `text` in the error box (null hides it). `connection`: it is about reaching the server,
   * so coming back online takes it away (`clearConnectionError`) and leaves any other message.
   */
  showError(text: string | null, connection = false): void {
    this.error.hidden = text === null;
    this.error.textContent = text ?? "";
    this.connectionError = text !== null && connection;
  }

  clearConnectionError(): void {
    if (this.connectionError) this.showError(null);
  }

  setLobbies(lobbies: LobbySummary[]): void {
    this.lobbies = lobbies;
    this.describeInvite();
    const rows = [...lobbies].sort((a, b) => b.players - a.players || a.name.localeCompare(b.name));
    this.tbody.replaceChildren(...rows.map((l) => this.row(l)));
    this.empty.hidden = rows.length > 0;
    this.count.textContent = rows.length > 0 ? `(${rows.length})` : "";
  }

  private row(l: LobbySummary): HTMLTableRowElement {
    const tr = document.createElement("tr");
    const name = cell(tr, l.name);
    name.title = `code ${l.code}`;
    if (l.game === "walkers") {
      // Phones hide the Game column (style.css): the benchmark still says what it is.
      const mark = document.createElement("span");
      mark.className = "game-tag bench narrow-only";
      mark.textContent = "benchmark";
      name.append(" ", mark);
    }
    const game = cell(tr, "");
    const tag = document.createElement("span");
    tag.className = l.game === "walkers" ? "game-tag bench" : "game-tag";
    tag.textContent = l.game === "walkers" ? "walkers · benchmark" : l.game;
    if (l.game === "walkers") tag.title = "The load-test workload: dots walking, nothing to shoot";
    game.append(tag);
    const full = l.players >= l.maxPlayers;
    const players = cell(tr, `${l.players} / ${l.maxPlayers}`);
    players.className = full ? "num full" : "num";
    const act = cell(tr, "");
    const join = button(full ? "Full" : "Join", () => this.act(() => this.actions.join(l.code)));
    join.disabled = full;
    if (!full) join.className = "primary";
    const watch = button("Watch", () => this.act(() => this.actions.spectate(l.code)));
    watch.className = "ghost";
    act.append(join, watch);
    return tr;
  }

  /** Names the invited lobby when it is a public one we know of (private ones are not listed). */
  private describeInvite(): void {
    const l = this.lobbies.find((x) => x.code === this.inviteCode);
    const text = l === undefined ? "" : `“${l.name}” · ${l.game} · ${l.players} / ${l.maxPlayers} players`;
    const el = $("invite-lobby");
    if (el.textContent !== text) el.textContent = text;
  }

  private joinInvite(): void {
    const code = this.inviteCode;
    if (code !== null && !this.inviteJoin.disabled) this.act(() => this.actions.join(code));
  }

  private code(): string | null {
    const code = this.codeInput.value.trim().toUpperCase();
    if (code.length !== CODE_LEN) {
      this.showError(`A lobby code is ${CODE_LEN} letters and digits, like K7QM2X.`);
      this.codeInput.focus();
      return null;
    }
    return code;
  }

  private act(f: () => void): void {
    this.showError(null);
    saveName(this.name);
    f();
  }
}

function cell(tr: HTMLTableRowElement, text: string): HTMLTableCellElement {
  const td = tr.insertCell();
  td.textContent = text;
  return td;
}

function button(label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

function loadName(): string {
  try {
    const saved = localStorage.getItem(NAME_KEY);
    if (saved !== null && saved.trim() !== "") return saved;
  } catch {
    // Storage can be disabled; a fresh name each visit is fine then.
  }
  return `pilot-${Math.floor(100 + Math.random() * 900)}`;
}

function saveName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // Not remembered; nothing else depends on it.
  }
}
