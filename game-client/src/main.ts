// Wiring: connection, lobby screen, game session, input, rendering and HUD, driven by requestAnimationFrame.

import { countdownCue, eventCues, killCue, roundCue } from "./cues";
import { Effects } from "./effects";
import { EVENT_ROUND_START, F, KIND_PLAYER, PILLARS, posFromQ } from "./games";
import { Hud, type Spot } from "./hud";
import { Controls } from "./input";
import { parseInvite } from "./invite";
import { LobbyScreen, type CreateOptions } from "./lobby-ui";
import { KICKED_TEXT, Net, type NetState } from "./net";
import { ChatRole, ErrorCode, LobbyEventKind, type GameEvent, type JoinedInfo, type LobbyRef, type PlayerInput, type ServerMsg } from "./protocol";
import { Renderer, labelBelow, labelHeight, type PlayerView, type Scene } from "./render";
import { goalText, nextRoundIn, readRound, timeLeft, type RoundState } from "./round";
import { RoundHud } from "./round-ui";
import { GameSession, type SessionHooks } from "./session";
import { Sound } from "./sound";
import { TouchSticks } from "./touch";
import { FrameTrace, type TraceFrame } from "./trace";
import { ReplayController } from "./replay/controller";
import { ReplayList } from "./replay/list";
import { badInviteText, errorText, lobbyEventText, unknownInviteText } from "./text";

const LOBBY_POLL_MS = 2000;
/** How often the lobby screen asks for the list of recent replays. */
const REPLAY_LIST_MS = 10000;
/** After reconnecting with our seat's token, how long to wait for the server to put us back (ms). */
const REJOIN_WAIT_MS = 4000;
/** After this many failed attempts in a row, say the server is unreachable. */
const UNREACHABLE_AFTER = 3;

const seconds = (): number => performance.now() / 1000;

/** What the lobby screen says when the lobby we were in no longer exists. */
const GONE_RESTARTED = "The server restarted, and your lobby is gone with it. Quick play, or create a new lobby.";
/** How a kick's `Left` reason begins (PROTOCOL.md, close code 4007). */
const KICKED_PREFIX = "kicked by an operator";
const GONE_CLOSED = "That lobby is gone: it closed while you were away. Quick play, or create a new lobby.";

class App {
  private readonly net: Net;
  private readonly lobby: LobbyScreen;
  private readonly hud: Hud;
  private readonly renderer: Renderer;
  private readonly controls: Controls;
  private readonly sticks: TouchSticks;
  private readonly effects = new Effects();
  private readonly roundHud = new RoundHud();
  private readonly sound = new Sound();
  /** True while the session builds our input: a muzzle flash then is our own shot (others' come from snapshots). */
  private makingInput = false;
  /** The round's phase and countdown as of the last frame, to hear them change. */
  private roundWas: boolean | null = null;
  private countdownWas: number | null = null;
  private session: GameSession | null = null;
  /** Input sequence numbers only ever grow, across lobbies and reconnects. */
  private seq = 0;
  /** An action waiting for the connection (first connect, or a reconnect under a new name). */
  private pending: (() => void) | null = null;
  private rejoinTimer: ReturnType<typeof setTimeout> | undefined;
  /** After a reconnect, on our way back into our lobby: an error about it means it is gone. */
  private returning = false;
  /** A resume we know must fail (the server restarted): its Error 9 says nothing new. */
  private resumeDoomed = false;
  /** The operator's reason from the `Left` of a kick, shown with the close (4007) that follows it. */
  private kickReason: string | null = null;
  /** The invite link's lobby code while we are asking to join it (a "no such lobby" then clears the link). */
  private joiningInvite: string | null = null;
  /**
   * Out of a lobby with inputs possibly still on the wire (sent before the server's `Left`): their
   * "not allowed" errors say nothing to the player. Cleared by the next request we make.
   */
  private inputsCrossing = false;
  private shakeAt = -10;
  private lastFrame = seconds();
  private lastRateLimitToast = 0;
  /** What each frame drew, once the test hook's trace() starts it. */
  private readonly trace = new FrameTrace();
  private readonly rates = { fps: 0, snapshots: 0, bytes: 0, frames: 0, lastSnapshots: 0, lastBytes: 0 };
  /** A recorded match being watched (`#replay/ID`), and the lobby screen's list of them. */
  private readonly replays: ReplayController;
  private readonly replayList = new ReplayList();

  constructor() {
    const canvas = document.getElementById("canvas") as HTMLCanvasElement;
    this.renderer = new Renderer(canvas);
    this.net = new Net(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`, {
      message: (m) => this.onMessage(m),
      state: (s, why) => this.onNetState(s, why),
      redirectFailed: (why) => this.onRedirectFailed(why),
    });
    this.lobby = new LobbyScreen({
      quickPlay: () => this.request(() => this.net.send({ type: "quickJoin", game: "arena" })),
      join: (ref: LobbyRef) =>
        this.request(() => {
          this.joiningInvite = typeof ref === "string" && location.hash.toUpperCase() === `#${ref}` ? ref : null;
          this.net.send({ type: "join", lobby: ref });
        }),
      spectate: (ref: LobbyRef) => this.request(() => this.net.send({ type: "spectate", lobby: ref })),
      create: (o: CreateOptions) =>
        this.request(() =>
          this.net.send({ type: "createLobby", ...o }),
        ),
      dismissInvite: () => clearAddress(),
    });
    this.hud = new Hud({
      chat: (text) => this.net.send({ type: "chat", text }),
      leave: () => this.leave(),
      restart: () => this.net.send({ type: "restartRound" }),
      toggleSound: () => {
        this.sound.setMuted(!this.sound.muted);
        this.hud.setMuted(this.sound.muted);
      },
    });
    this.hud.setMuted(this.sound.muted);
    this.controls = new Controls(canvas, () => this.session !== null && !this.session.spectating && !this.hud.typing);
    this.sticks = new TouchSticks(this.controls, () => this.hud.touchMode());
    this.replays = new ReplayController({
      hud: this.hud,
      renderer: this.renderer,
      hooks: this.sessionHooks(),
      exit: (message) => this.exitGame(message),
      enter: () => {
        this.effects.clear();
        this.roundWas = null;
        this.countdownWas = null;
        this.lobby.hide();
      },
    });

    // An invite link (…/#K7QM2X) shows the lobby screen with a "Join K7QM2X" button: the invitee
    // chooses a name first. A fragment that is no lobby code is cleared and explained.
    this.readInvite();
    window.addEventListener("hashchange", () => {
      // A replay link opened from a lobby (the console's pane goes from Watch to Replay): leave it first.
      const invite = parseInvite(location.hash);
      if (invite.kind === "replay" && this.session !== null) {
        this.net.send({ type: "leave" });
        this.exitGame(null);
        history.replaceState(null, "", `#replay/${invite.id}`);
      }
      if (this.session === null) this.readInvite();
    });

    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.stopMoving();
    });
    window.addEventListener("blur", () => this.stopMoving());
    setInterval(() => this.pollLobbies(), LOBBY_POLL_MS);
    void this.replayList.refresh();
    setInterval(() => {
      if (this.session === null && !this.replays.active) void this.replayList.refresh();
    }, REPLAY_LIST_MS);
    setInterval(() => this.measure(), 1000);

    // Test hook (read-only) for e2e/run.mjs and e2e/screenshots.mjs: what this page has been told.
    (window as unknown as { __tickrelay: unknown }).__tickrelay = {
      code: (): string | null => this.session?.code ?? null,
      /** The replay being watched: head, speed, whom it follows, who is in the world. */
      replay: () => this.replays.state(),
      you: (): number | null => this.session?.you ?? null,
      players: (): Array<{ id: number; x: number; y: number; alive: boolean }> => {
        const s = this.session ?? this.replays.session;
        if (s === null) return [];
        return [...s.mirror.entities]
          .filter(([, v]) => !s.isArena || v[F.KIND] === KIND_PLAYER)
          .map(([id, v]) => ({ id, x: posFromQ(v[F.X]), y: posFromQ(v[F.Y]), alive: !s.isArena || v[F.RESPAWN_OR_OWNER] === 0 }));
      },
      // Where the world is drawn: screen = world * scale + offset (CSS px, relative to the canvas).
      view: (): { mode: string; scale: number; offX: number; offY: number } => {
        const l = this.renderer.layout;
        return { mode: l.mode, scale: l.scale, offX: l.offX, offY: l.offY };
      },
      // Every frame's drawn positions from now on (for the netcode test), and the frames so far.
      trace: (): void => this.trace.start(),
      traced: (): TraceFrame[] => this.trace.recorded(),
      ping: (): number => this.net.rtt.network,
    };

    this.net.connect(this.lobby.name);
    requestAnimationFrame((t) => this.frame(t));
  }

  // ------------------------------------------------------------------------------ actions

  /** Runs `f` once connected under the current name (reconnecting first if the name changed). */
  private request(f: () => void): void {
    this.inputsCrossing = false;
    const name = this.lobby.name;
    if (name !== this.net.helloName && this.session === null) {
      this.pending = f;
      this.net.connect(name); // the name travels in Hello; a new name needs a new Hello
      return;
    }
    if (!this.net.online) {
      this.pending = f;
      return;
    }
    f();
  }

  private readInvite(): void {
    const invite = parseInvite(location.hash);
    if (invite.kind === "code") {
      if (location.hash !== `#${invite.code}`) history.replaceState(null, "", `#${invite.code}`);
      this.lobby.setInvite(invite.code);
    } else if (invite.kind === "watch") {
      // …/#watch/CODE (the operator console's Watch): spectate at once, no name to choose.
      this.lobby.setInvite(null);
      const code = invite.code;
      this.request(() => this.net.send({ type: "spectate", lobby: code }));
    } else if (invite.kind === "replay") {
      this.lobby.setInvite(null);
      void this.replays.open(invite.id);
    } else if (invite.kind === "bad") {
      clearAddress();
      this.lobby.setInvite(null);
      this.lobby.showError(badInviteText(invite.raw));
    }
  }

  private pollLobbies(): void {
    if (this.session === null && this.net.online) this.net.send({ type: "listLobbies", game: null });
  }

  private leave(): void {
    if (this.replays.active) {
      this.replays.close();
      return;
    }
    this.net.send({ type: "leave" });
    this.exitGame(null);
  }

  /**
   * Stop walking and firing when the page loses focus. Arena needs no word (no input: no step),
   * but walkers keeps applying the last input it got, so say "standing still" now.
   */
  private stopMoving(): void {
    this.controls.release();
    this.sticks.release();
    const s = this.session;
    if (s === null || s.spectating || !this.net.online) return;
    this.net.send({ type: "input", ...s.makeInput(++this.seq, 0, 0, false, this.aimPoint(), seconds()) });
  }

  /**
   * Sends the inputs that are due (one per tick of real time since the last ones): each is one
   * step of our player, predicted at once. After a stall they all go in one message, the newest
   * with the others riding along as `earlier`.
   */
  private sendInputs(s: GameSession, due: number, now: number): void {
    const { dx, dy } = this.controls.direction();
    const fire = this.controls.firing();
    const aim = this.aimPoint();
    const batch: PlayerInput[] = [];
    // While making inputs our own muzzle flashes are heard (not a replayed one).
    this.makingInput = true;
    for (let i = 0; i < due; i++) batch.push(s.makeInput(++this.seq, dx, dy, fire, aim, now));
    this.makingInput = false;
    const newest = batch.pop()!;
    this.net.send({ type: "input", ...newest, earlier: batch });
  }

  // ------------------------------------------------------------------------------ messages

  private onMessage(m: ServerMsg): void {
    const s = this.session;
    switch (m.type) {
      case "welcome": {
        const run = this.pending;
        this.pending = null;
        // Another server id from the same node (never at the end of a cluster's redirect: another node's
        // id differs and says nothing).
        const restarted = this.net.restarted;
        if (s !== null && restarted) {
          // Not the server we were on: our lobby died with it (a resume we sent will fail).
          this.resumeDoomed = this.net.resumeSeat;
          this.exitGame(GONE_RESTARTED);
        } else if (s !== null && (s.spectating || this.net.resumeSeat)) {
          // Spectators hold no seat: they just watch the same lobby again. Players asked for their
          // seat back in Hello. The answer is Joined, or an error that says the lobby is gone.
          // (At the end of a redirect the Redeem it sent is that request already.)
          if (s.spectating && !this.net.redirected) this.net.send({ type: "spectate", lobby: s.code });
          this.returning = true;
          clearTimeout(this.rejoinTimer);
          this.rejoinTimer = setTimeout(() => {
            if (this.session === s) this.exitGame("Could not get back into the lobby after reconnecting.");
          }, REJOIN_WAIT_MS);
        }
        run?.();
        this.pollLobbies();
        break;
      }
      case "lobbyList":
        this.lobby.setLobbies(m.lobbies);
        break;
      case "joined":
        this.enterGame(m);
        break;
      case "snapshot":
        if (s !== null && s.onSnapshot(m, seconds())) this.onEvents(s, m.events);
        break;
      case "lobbyEvent": {
        if (s === null) break;
        s.lobbyEvent(m.kind, m.player, m.name);
        const line = lobbyEventText(m.kind, m.name);
        if (line !== null) this.hud.system(line);
        if (m.kind === LobbyEventKind.ROUND_RESTARTED) this.hud.clearKillfeed();
        this.hud.setRole(s.isHost, s.spectating);
        break;
      }
      case "roster":
        if (s === null) break;
        s.setRoster(m.host, m.roster);
        this.hud.setRole(s.isHost, s.spectating);
        break;
      case "chat":
        if (s === null) break;
        if (m.role === ChatRole.SERVER) this.hud.system(`${m.name}: ${m.text}`);
        else if (m.from !== null && m.role === ChatRole.PLAYER) this.hud.chat(m.name, s.colourOf(m.from), m.text);
        else this.hud.chat(`${m.name} (spectator)`, null, m.text);
        break;
      case "error":
        this.onError(m.code, m.message);
        break;
      case "left":
        // A kick's Left carries the operator's words; the close (4007) that follows says only that it was a kick.
        this.kickReason = m.reason.startsWith(KICKED_PREFIX) ? m.reason.slice(KICKED_PREFIX.length).replace(/^: /, "") : null;
        if (s !== null && s.lobbyId === m.lobby) this.exitGame(m.reason !== "" ? `You left the lobby: ${m.reason}` : null);
        break;
      case "pong":
        break;
    }
  }

  private onError(code: number, message: string): void {
    const text = errorText(code, message);
    if (code === ErrorCode.RECONNECT_FAILED) {
      clearTimeout(this.rejoinTimer);
      if (this.resumeDoomed) {
        this.resumeDoomed = false;
        return;
      }
      if (this.session !== null) this.exitGame(text);
      return;
    }
    if (this.returning && this.session !== null && code === ErrorCode.LOBBY_NOT_FOUND) {
      this.exitGame(GONE_CLOSED);
      return;
    }
    if (this.session === null) {
      if (this.inputsCrossing && code === ErrorCode.NOT_ALLOWED) return;
      const invite = this.joiningInvite;
      this.joiningInvite = null;
      if (code === ErrorCode.LOBBY_NOT_FOUND && invite !== null) {
        // The invite link names no lobby (any more): take it out of the address bar, and say so.
        clearAddress();
        this.lobby.setInvite(null);
        this.lobby.showError(unknownInviteText(invite));
        return;
      }
      this.lobby.showError(text);
      return;
    }
    if (code === ErrorCode.RATE_LIMITED) {
      // Said once in a while, not per dropped message.
      if (seconds() - this.lastRateLimitToast < 5) return;
      this.lastRateLimitToast = seconds();
    }
    this.hud.toast(text, true);
  }

  private onNetState(s: NetState, why: string): void {
    switch (s) {
      case "online":
        this.lobby.setStatus("online", "Online");
        this.lobby.clearConnectionError();
        this.hud.setBanner(null);
        break;
      case "connecting":
      case "reconnecting": {
        const unreachable = this.net.attempts >= UNREACHABLE_AFTER;
        this.lobby.setStatus(unreachable ? "offline" : "connecting", unreachable ? "Server unreachable" : "Connecting…");
        if (unreachable && this.session === null) {
          this.lobby.showError("Can't reach the server. Retrying until it is back…", true);
        }
        if (this.session !== null) {
          this.net.resumeSeat = !this.session.spectating;
          this.hud.setBanner(unreachable ? "Server unreachable · reconnecting…" : "Reconnecting…");
        }
        if (why !== "") console.info(`tickrelay: ${s}: ${why}`);
        break;
      }
      case "redirecting":
        // A cluster node sent us to the node our lobby is on: not a drop, nothing to show.
        if (why !== "") console.info(`tickrelay: ${s} ${why}`);
        break;
      case "failed": {
        this.lobby.setStatus("offline", "Disconnected");
        const reason = this.kickReason !== null && this.kickReason !== "" ? ` The reason given: ${this.kickReason}` : "";
        const text = why === KICKED_TEXT ? `${why}${reason}` : why;
        this.exitGame(text);
        this.lobby.showError(text);
        break;
      }
    }
  }

  /** A request we were redirected for came to nothing (too many redirects, or the lobby's node is unreachable). */
  private onRedirectFailed(why: string): void {
    this.joiningInvite = null;
    // With a session, it was our way back to our seat: it is lost.
    if (this.session !== null) this.exitGame(why);
    else this.lobby.showError(why);
  }

  // ------------------------------------------------------------------------------ screens

  private enterGame(j: JoinedInfo): void {
    clearTimeout(this.rejoinTimer);
    this.returning = false;
    this.joiningInvite = null;
    this.lobby.setInvite(null);
    const resumed = this.session !== null && this.session.lobbyId === j.lobby;
    this.session = new GameSession(j, seconds(), this.sessionHooks());
    this.net.resumeSeat = j.you !== null;
    this.controls.release();
    if (!resumed) {
      this.effects.clear();
      this.roundWas = null; // a new lobby's round state is news, not a change to hear
      this.countdownWas = null;
      this.hud.enter(j.name, j.code);
      this.hud.system(j.you === null ? `Spectating ${j.name}` : `You joined ${j.name}. Share the code ${j.code} to invite friends.`);
      if (j.game === "walkers") {
        // An empty grid would otherwise look broken: say what this game is and how to fill it.
        this.hud.system(`walkers is the benchmark workload: dots that walk, nothing to shoot. Fill it with bots: tickrelay-bots --fill ${j.code}`);
      }
      history.replaceState(null, "", `#${j.code}`);
    }
    this.hud.setBanner(null);
    this.hud.setRole(this.session.isHost, this.session.spectating);
    this.lobby.hide();
    this.hud.show();
  }

  /** What a session (live, or a replay's) shows and plays as things happen. */
  private sessionHooks(): SessionHooks {
    return {
      effect: (kind, x, y, colour, angle) => {
        this.effects.add(kind, x, y, colour, seconds(), angle);
        if (kind === "muzzle" && this.makingInput) this.sound.play("shot");
      },
      kill: (killer, victim) => this.onKill(killer, victim),
      hurt: () => {
        this.shakeAt = seconds();
        this.sound.play("hitTaken");
      },
      // The server sends a full snapshot next: no need to drop the connection (and the seat's
      // Away/Back for everyone) to repair a mirror. (A replay's frames always apply.)
      resyncNeeded: () => this.net.send({ type: "resync" }),
    };
  }

  private exitGame(reason: string | null): void {
    clearTimeout(this.rejoinTimer);
    this.returning = false;
    this.inputsCrossing = this.session !== null && !this.session.spectating;
    this.session = null;
    this.net.resumeSeat = false;
    this.controls.release();
    this.sticks.place(null, false);
    this.roundHud.update(null);
    this.roundWas = null;
    this.countdownWas = null;
    this.hud.hide();
    this.lobby.show();
    this.lobby.showError(reason);
    clearAddress();
    this.pollLobbies();
    void this.replayList.refresh();
  }

  /** Game events as they arrive (the session shows their effects on its own clock). */
  private onEvents(s: GameSession, events: GameEvent[]): void {
    for (const cue of eventCues(events, s.you)) this.sound.play(cue);
    for (const ev of events) {
      // A new round: the kill feed's lines are about the last one.
      if (ev.kind === EVENT_ROUND_START) this.hud.clearKillfeed();
    }
  }

  private onKill(killer: number, victim: number): void {
    const s = this.session ?? this.replays.session;
    if (s === null) return;
    this.hud.kill(s.nameOf(killer), s.colourOf(killer), s.nameOf(victim), s.colourOf(victim), killer === s.you || victim === s.you);
    const cue = killCue(killer, victim, s.you);
    if (cue !== null) this.sound.play(cue);
  }

  // ------------------------------------------------------------------------------ the frame

  private aimPoint(): { x: number; y: number } {
    const a = this.controls.touchAim;
    const s = this.session;
    if (a !== null && s !== null) {
      // The aim stick gives a direction: a point far along it from us (far, so that where we are
      // drawn this frame, a little off the predicted position, hardly changes the angle).
      const p = s.predictor.pos;
      return { x: p.x + Math.cos(a) * 10000, y: p.y + Math.sin(a) * 10000 };
    }
    return this.renderer.toWorld(this.controls.mouseX, this.controls.mouseY);
  }

  private frame(ms: number): void {
    const now = ms / 1000;
    const dt = Math.min(0.25, Math.max(0, now - this.lastFrame));
    this.lastFrame = now;
    this.rates.frames++;
    this.replays.frame(now, dt);
    const s = this.session ?? this.replays.session;
    if (s !== null) {
      const round = s.isArena ? readRound(s.mirror.entities) : null;
      if (!s.spectating && this.net.online) {
        const due = s.inputsDue(dt);
        if (due > 0) this.sendInputs(s, due, now);
      }
      s.predictor.decay(dt);
      const { players, projectiles } = s.view(now, s.spectating ? null : this.aimPoint());
      const me = players.find((p) => p.me);
      this.trace.record(s, now, this.controls.direction(), players, projectiles);
      // Room for the sticks only where they show: a touch device, playing (not watching).
      this.renderer.touch = this.sticks.enabled && !s.spectating;
      const scene: Scene = {
        worldW: s.gi.rules.worldW,
        worldH: s.gi.rules.worldH,
        pillars: s.isArena ? PILLARS : [],
        radius: s.isArena ? s.gi.rules.radius : 10,
        players,
        projectiles,
        effects: this.effects.active(now),
        shake: Math.max(0, 1 - (now - this.shakeAt) / 0.25),
        now,
        reticle: me !== undefined && this.controls.mouseSeen && this.controls.touchAim === null ? { x: this.controls.mouseX, y: this.controls.mouseY, colour: me.colour } : null,
      };
      this.renderer.draw(scene);
      this.hud.setLayout(this.renderer.layout);
      this.sticks.place(this.renderer.layout.sticks, !s.spectating && this.net.online);
      this.hud.reveal(this.spots(players, scene.radius, s.gi.maxHp > 0));
      this.updateHud(s, now, round);
    }
    requestAnimationFrame((t) => this.frame(t));
  }

  /** Each player's body and label on screen, for the panels that float over the arena to keep clear of. */
  private spots(players: PlayerView[], radius: number, bar: boolean): Spot[] {
    const scale = this.renderer.scale;
    const rs = radius * scale;
    const label = labelHeight(bar) + 4;
    return players.map((p) => {
      const { x, y } = this.renderer.toScreen(p.x, p.y);
      const below = labelBelow(p.y, radius, scale, bar);
      return { x, y, half: Math.max(rs + 6, 40), up: rs + (below ? 8 : label), down: rs + (below ? label : 8), me: p.me };
    });
  }

  private updateHud(s: GameSession, now: number, round: RoundState | null): void {
    const scores = s.scores();
    this.hud.scores(scores);
    const tick = s.clock.serverNow(now) * s.tickRate;
    const countdown = nextRoundIn(round, tick, s.tickRate);
    this.roundHud.update(
      round === null
        ? null
        : {
            goal: goalText(round),
            clock: timeLeft(round, tick, s.tickRate),
            over: round.over,
            winner:
              round.winner === null ? null : { name: s.nameOf(round.winner), colour: s.colourOf(round.winner), me: round.winner === s.you },
            rows: round.over ? scores : [],
            nextIn: countdown,
          },
    );
    // The round's sounds: the fanfare as it ends, 3-2-1 beeps, the start tone.
    const cue = roundCue(this.roundWas, round?.over ?? null) ?? countdownCue(this.countdownWas, countdown);
    if (cue !== null) this.sound.play(cue);
    this.roundWas = round?.over ?? null;
    this.countdownWas = countdown;
    const wait = round !== null && round.over ? null : s.respawnIn(now); // the winner screen says it all
    if (wait !== null) {
      const n = Math.ceil(wait);
      this.hud.setCenter(n > 0 ? `Respawning in ${n}` : "Respawning…", s.killedBy !== null ? `by ${s.killedBy}` : "", true);
    } else {
      this.hud.setCenter(null);
    }
    if (this.hud.debugVisible) this.hud.setDebug(this.debugLines(s, now));
  }

  private measure(): void {
    const s = this.session;
    const snaps = s?.snapshots ?? 0;
    this.rates.snapshots = Math.max(0, snaps - this.rates.lastSnapshots);
    this.rates.lastSnapshots = snaps;
    this.rates.bytes = this.net.bytesIn - this.rates.lastBytes;
    this.rates.lastBytes = this.net.bytesIn;
    this.rates.fps = this.rates.frames;
    this.rates.frames = 0;
  }

  private debugLines(s: GameSession, now: number): string[] {
    const p = s.predictor;
    const offset = Math.hypot(p.err.x, p.err.y);
    const delay = (s.clock.serverNow(now) - s.lastRenderTime) * 1000;
    // Short lines: the panel sits in the scoreboard's column (220 px and up) when there is one.
    return [
      `ping       ${this.net.rtt.network > 0 ? `${this.net.rtt.network.toFixed(0)} ms · ${this.net.rtt.mean.toFixed(0)} w/ tick` : "…"}`,
      `snaps/s    ${this.rates.snapshots}`,
      `rates      tick ${s.tickRate} · send ${s.snapshotRate} Hz`,
      `bytes in   ${formatBytes(this.rates.bytes)}/s`,
      `tick       ${s.mirror.tick}`,
      `fix        ${p.lastCorrection.toFixed(2)} u · off ${offset.toFixed(2)} u`,
      `           ${p.corrections} fixes · ${p.pendingCount} unacked`,
      `interp     ${delay.toFixed(0)} ms (${(s.clock.delay() * 1000).toFixed(0)})${s.extrapolated > 0 ? " extrap" : ""}`,
      `fps        ${this.rates.fps}`,
      `apply errs ${s.applyErrors}`,
    ];
  }
}

/** Takes the lobby code (or whatever else) out of the address bar, without a reload or a history entry. */
function clearAddress(): void {
  if (location.hash !== "" || location.href.endsWith("#")) history.replaceState(null, "", location.pathname + location.search);
}

function formatBytes(n: number): string {
  return n >= 10240 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

new App();
