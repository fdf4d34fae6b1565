// One joined lobby's game state: mirror, interpolation, prediction, events, roster and scores. No DOM, no sockets, no clock of its own.

import {
  ANGLE_STEPS,
  EVENT_HIT,
  EVENT_KILL,
  EVENT_RESPAWN,
  F,
  KIND_PLAYER,
  KIND_PROJECTILE,
  KIND_ROUND,
  POS_SCALE,
  SHOT_HIT_EXTRA,
  angleFromQ,
  gameInfo,
  posFromQ,
  shotStop,
  type GameInfo,
} from "./games";
import { InputClock } from "./input-clock";
import { InterpBuffer, InterpClock, type BlendSpec, type Frame } from "./interpolation";
import { Predictor, type Vec } from "./prediction";
import { BUTTON_FIRE, LobbyEventKind, type GameEvent, type JoinedInfo, type PlayerInput, type SnapshotBody } from "./protocol";
import { ApplyError, applySnapshot, cloneEntities, newMirror, type Mirror } from "./snapshot";
import type { EffectKind } from "./effects";
import { readRound } from "./round";
import { OwnShots, type ShotEnded } from "./shots";
import { paletteColour, paletteSlot, type Rgb } from "./palette";
import type { PlayerView, ProjectileView } from "./render";
import type { ScoreRow } from "./hud";

/** What the session tells the UI about as it happens. */
export interface SessionHooks {
  effect(kind: EffectKind, x: number, y: number, colour: Rgb, angle?: number): void;
  kill(killer: number, victim: number): void;
  /** We were hit (shake the screen). */
  hurt(): void;
  /** Deltas stopped applying and no full snapshot came to repair the mirror. */
  resyncNeeded(): void;
}

/** An event waiting for the (delayed) render time to reach its tick, with where it happened. */
interface QueuedEvent {
  time: number;
  ev: GameEvent;
  x: number;
  y: number;
  /** Local time it arrived: fired anyway after a second, whatever the render clock says. */
  arrived: number;
}

/** How long a broken mirror waits for a full snapshot before asking for a resync (s). */
const RESYNC_AFTER = 1.5;
/** How far past the newest snapshot other entities may be extrapolated (s). */
const MAX_EXTRAPOLATION = 0.1;
const HIT_FLASH = 0.18;
/** Arena's shots (arena.rs ArenaRules::new): speed, life, where they appear, whom they hit. */
const SHOT_SPEED = 750;
const SHOT_LIFE_S = 0.9;
const MUZZLE = 24;

export class GameSession {
  readonly lobbyId: number;
  readonly code: string;
  readonly name: string;
  readonly game: string;
  readonly tickRate: number;
  readonly snapshotRate: number;
  readonly maxPlayers: number;
  readonly gi: GameInfo;
  readonly isArena: boolean;
  /** The server sends each arena entity's seat (field SEAT): players are coloured by it. */
  readonly hasSeat: boolean;
  you: number | null;
  host: number | null;
  roster = new Map<number, string>();
  away = new Set<number>();

  readonly mirror: Mirror;
  readonly buffer = new InterpBuffer();
  /** The render clock: the adaptive one live; a replay's play head in playback. */
  readonly clock: InterpClock;
  readonly predictor: Predictor;
  /** One input per tick of real time (see input-clock.ts). */
  readonly inputClock: InputClock;
  /** Our own shots, predicted (arena). */
  readonly shots: OwnShots;
  /** Counters for the debug overlay. */
  snapshots = 0;
  applyErrors = 0;
  lastRenderTime = 0;
  extrapolated = 0;
  /** Who killed us last (for the respawn message). */
  killedBy: string | null = null;
  /** Spectating, the player whose view we follow (a replay's "follow"): drawn and listed as us. */
  watched: number | null = null;

  private readonly blend: BlendSpec;
  private queue: QueuedEvent[] = [];
  private hitAt = new Map<number, number>();
  private brokenSince: number | null = null;
  private predicting = false;
  private wasAlive = true;
  /** The fire cooldown in our own steps, as the server counts it (arena.rs `fire_wait`). */
  private readonly fireCooldown: number;
  private fireWait = 0;
  /** The newest input we made. */
  private lastSeq = 0;
  private seenProjectiles = new Set<number>();
  private aim = 0;
  /** Other live players where they were drawn last frame: what our shots are checked against. */
  private drawnOthers: Array<[number, number]> = [];
  private seats = new Map<number, number>();

  constructor(
    j: JoinedInfo,
    now: number,
    private readonly hooks: SessionHooks,
    clock: InterpClock = new InterpClock(),
  ) {
    this.clock = clock;
    this.lobbyId = j.lobby;
    this.code = j.code;
    this.name = j.name;
    this.game = j.game;
    this.tickRate = Math.max(1, j.tickRate);
    this.snapshotRate = j.snapshotRate;
    this.maxPlayers = j.maxPlayers;
    this.you = j.you;
    this.host = j.host;
    this.isArena = j.game === "arena" && j.fieldCount > F.KIND;
    this.hasSeat = this.isArena && j.fieldCount > F.SEAT;
    this.gi = gameInfo(this.isArena ? "arena" : "walkers", this.tickRate);
    this.mirror = newMirror(j.fieldCount);
    this.predictor = new Predictor(this.gi.rules);
    this.inputClock = new InputClock(this.tickRate);
    this.shots = new OwnShots({
      move: this.gi.rules,
      speed: SHOT_SPEED,
      lifeTicks: Math.max(1, Math.round(SHOT_LIFE_S * this.tickRate)),
      muzzle: MUZZLE,
      hitRadius: this.gi.rules.radius + SHOT_HIT_EXTRA,
    });
    this.blend = {
      lerpFields: this.gi.lerpFields,
      angleFields: this.gi.angleFields,
      angleSteps: ANGLE_STEPS,
      // Only shots are extrapolated: they fly straight until something stops them. A player's
      // next move is a guess, and a wrong guess is taken back on screen, a step backward; past the
      // newest snapshot a player holds where it was last seen instead.
      extrapolates: (row) => this.isArena && row[F.KIND] === KIND_PROJECTILE,
      constrain: (_id, from, to, frame) => this.constrain(from, to, frame),
    };
    // The arena's fire cooldown is 0.25 s in ticks (ArenaRules::new), counted in our steps.
    this.fireCooldown = Math.max(1, Math.round(0.25 * this.tickRate));
    for (const r of j.roster) this.roster.set(r.id, r.name);
    this.onSnapshot(j.snapshot, now);
  }

  get spectating(): boolean {
    return this.you === null;
  }

  get isHost(): boolean {
    return this.you !== null && this.you === this.host;
  }

  nameOf(id: number): string {
    return this.roster.get(id) ?? `player ${id}`;
  }

  /**
   * A player's colour (and its shots', effects', name's): by seat when the server sends seats, else
   * by id (palette.ts). The seat of a player who just left is remembered, for the kill feed.
   */
  colourOf(id: number): Rgb {
    const row = this.mirror.entities.get(id);
    let seat = this.hasSeat && row !== undefined ? row[F.SEAT] : undefined;
    if (seat !== undefined) this.seats.set(id, seat);
    else seat = this.seats.get(id);
    return paletteColour(paletteSlot(seat, id));
  }

  // ------------------------------------------------------------------------------ snapshots

  /** Applies a snapshot (or the one in Joined). False if it did not apply. */
  onSnapshot(body: SnapshotBody, now: number): boolean {
    try {
      applySnapshot(this.mirror, body);
    } catch (e) {
      if (!(e instanceof ApplyError)) throw e;
      this.applyErrors++;
      // Wait a little for the full snapshot the server sends to a client that fell behind; then resync.
      this.brokenSince ??= now;
      if (now - this.brokenSince > RESYNC_AFTER) {
        this.brokenSince = now;
        this.hooks.resyncNeeded();
      }
      return false;
    }
    this.brokenSince = null;
    const frame: Frame = {
      time: body.tick / this.tickRate,
      tick: body.tick,
      entities: cloneEntities(this.mirror),
    };
    this.buffer.push(frame);
    this.clock.onSnapshot(frame.time, now);
    this.snapshots++;
    for (const ev of body.events) this.event(ev, frame, now);
    this.reconcileSelf();
    this.reconcileShots(now);
    return true;
  }

  /**
   * Our shots as the server has them: predicted ones it shows are confirmed, ones it removed end
   * here too. A shot of ours it fired that we did not predict (we thought we could not fire)
   * restarts our cooldown count from it, so the next predicted shot is the one it will fire.
   */
  private reconcileShots(now: number): void {
    if (!this.isArena || this.you === null) return;
    const mine = new Set<number>();
    let newest = 0;
    for (const v of this.mirror.entities.values()) {
      if (v[F.KIND] !== KIND_PROJECTILE || v[F.RESPAWN_OR_OWNER] !== this.you) continue;
      const seq = v[F.ACK] >>> 0;
      mine.add(seq);
      if (!this.shots.owns(seq)) newest = Math.max(newest, seq);
    }
    for (const e of this.shots.confirm(mine, now)) this.shotEnded(e, now);
    if (newest > 0) this.fireWait = Math.max(0, this.fireCooldown - (this.lastSeq - newest));
  }

  private shotEnded(e: ShotEnded, now: number): void {
    if (this.you === null) return;
    void now;
    if (e.why === "fizzle") this.hooks.effect("fizzle", e.x, e.y, this.colourOf(this.you), e.angle);
    else if (e.why === "wall" || e.why === "hit") this.hooks.effect("spark", e.x, e.y, this.colourOf(this.you), e.angle);
  }

  /** The round is being played (not between rounds): players move and fire. */
  roundLive(): boolean {
    if (!this.isArena) return true;
    const r = readRound(this.mirror.entities);
    return r === null || !r.over;
  }

  private myRow(): Int32Array | undefined {
    return this.you === null ? undefined : this.mirror.entities.get(this.you);
  }

  private alive(row: Int32Array | undefined): boolean {
    if (row === undefined) return false;
    return !this.isArena || row[F.RESPAWN_OR_OWNER] === 0;
  }

  private reconcileSelf(): void {
    const row = this.myRow();
    if (row === undefined) return;
    const server = { x: posFromQ(row[0]), y: posFromQ(row[1]) };
    const ack = row[this.gi.ackField] >>> 0;
    const alive = this.alive(row);
    if (!this.predicting) {
      this.predictor.reset(server, ack);
      this.lastSeq = Math.max(this.lastSeq, ack);
      this.predicting = true;
      this.wasAlive = alive;
      return;
    }
    this.predictor.reconcile(server, ack, alive && this.roundLive());
    if (alive && !this.wasAlive) {
      this.hooks.effect("respawn", server.x, server.y, this.colourOf(this.you!));
      this.fireWait = 0; // the server resets it on respawn
    }
    this.wasAlive = alive;
  }

  private event(ev: GameEvent, frame: Frame, now: number): void {
    if (!this.isArena) return;
    const at = (id: number): Vec => {
      const r = frame.entities.get(id);
      return r === undefined ? { x: -1000, y: -1000 } : { x: posFromQ(r[F.X]), y: posFromQ(r[F.Y]) };
    };
    const me = this.you;
    // What happens to us is shown at once (we are drawn in the present); the rest waits for the render clock.
    if (me !== null && ev.kind === EVENT_HIT && ev.b === me) {
      this.hitAt.set(me, now);
      this.hooks.hurt();
      const p = this.predictor.renderPos(1);
      this.hooks.effect("hit", p.x, p.y, this.colourOf(me));
      return;
    }
    if (me !== null && ev.kind === EVENT_KILL && ev.b === me) {
      const p = this.predictor.renderPos(1);
      this.hooks.effect("death", p.x, p.y, this.colourOf(me));
      this.hooks.kill(ev.a, ev.b);
      this.killedBy = ev.a === me ? null : this.nameOf(ev.a);
      return;
    }
    if (me !== null && ev.kind === EVENT_RESPAWN && ev.a === me) return; // reconcileSelf shows it
    const target = ev.kind === EVENT_RESPAWN ? ev.a : ev.b;
    const p = at(target);
    this.queue.push({ time: frame.time, ev, x: p.x, y: p.y, arrived: now });
  }

  /** Fires the queued events whose tick the render clock has reached. */
  private fireEvents(renderTime: number, now: number): void {
    while (this.queue.length > 0 && (this.queue[0].time <= renderTime || now - this.queue[0].arrived > 1)) {
      const { ev, x, y } = this.queue.shift()!;
      switch (ev.kind) {
        case EVENT_HIT:
          this.hitAt.set(ev.b, now);
          this.hooks.effect("hit", x, y, this.colourOf(ev.b));
          break;
        case EVENT_KILL:
          this.hooks.effect("death", x, y, this.colourOf(ev.b));
          this.hooks.kill(ev.a, ev.b);
          break;
        case EVENT_RESPAWN:
          this.hooks.effect("respawn", x, y, this.colourOf(ev.a));
          break;
      }
    }
  }

  /**
   * An extrapolated shot stops where the game stops it: at a wall, a pillar or another live player
   * (the server removes it there). Rows are in quantized units.
   */
  private constrain(from: Int32Array, to: Float64Array, frame: ReadonlyMap<number, Int32Array>): void {
    const rules = this.gi.rules;
    const owner = from[F.RESPAWN_OR_OWNER];
    const circles: Array<readonly [number, number, number]> = [...rules.pillars];
    for (const [pid, row] of frame) {
      if (pid === owner || row[F.KIND] !== KIND_PLAYER || row[F.RESPAWN_OR_OWNER] !== 0) continue;
      circles.push([posFromQ(row[F.X]), posFromQ(row[F.Y]), rules.radius + SHOT_HIT_EXTRA]);
    }
    const p = shotStop(
      { x: posFromQ(from[F.X]), y: posFromQ(from[F.Y]) },
      { x: to[F.X] / POS_SCALE, y: to[F.Y] / POS_SCALE },
      rules.worldW,
      rules.worldH,
      circles,
    );
    to[F.X] = p.x * POS_SCALE;
    to[F.Y] = p.y * POS_SCALE;
  }

  // ------------------------------------------------------------------------------ lobby events

  lobbyEvent(kind: number, player: number, name: string): void {
    switch (kind) {
      case LobbyEventKind.JOINED:
      case LobbyEventKind.BACK:
        this.roster.set(player, name);
        this.away.delete(player);
        break;
      case LobbyEventKind.LEFT:
        this.roster.delete(player);
        this.away.delete(player);
        break;
      case LobbyEventKind.AWAY:
        this.away.add(player);
        break;
      case LobbyEventKind.HOST_CHANGED:
        this.host = player;
        break;
      case LobbyEventKind.ROUND_RESTARTED:
        this.queue = [];
        this.killedBy = null;
        break;
    }
  }

  setRoster(host: number | null, roster: Array<{ id: number; name: string }>): void {
    this.host = host;
    this.roster = new Map(roster.map((r) => [r.id, r.name]));
  }

  // ------------------------------------------------------------------------------ input

  /** Call once per animation frame with the frame's `dt`: how many inputs are due now (one per
   * tick of real time; several after a stall). */
  inputsDue(dt: number): number {
    return this.inputClock.advance(dt);
  }

  /**
   * Builds the next input from the controls and predicts it at once: one step of our player,
   * exactly as the server will apply it, and the shot it fires, if it fires one.
   */
  makeInput(seq: number, dx: number, dy: number, fire: boolean, aimAt: Vec, now: number): PlayerInput {
    const row = this.myRow();
    const canAct = this.alive(row) && this.roundLive();
    const from = this.predictor.pos;
    if (this.isArena) this.aim = Math.atan2(aimAt.y - from.y, aimAt.x - from.x);
    this.lastSeq = seq;
    if (this.isArena) for (const e of this.shots.tick(this.drawnOthers, now)) this.shotEnded(e, now);
    this.predictor.apply(seq, dx, dy, canAct);
    if (this.isArena && canAct) {
      this.fireWait = Math.max(0, this.fireWait - 1);
      if (fire && this.fireWait === 0) {
        this.fireWait = this.fireCooldown;
        this.shots.fire(seq, this.predictor.pos, this.aim, this.drawnOthers, now);
        const r = this.gi.rules.radius + 12;
        const p = this.predictor.renderPos(this.inputClock.alpha);
        this.hooks.effect("muzzle", p.x + Math.cos(this.aim) * r, p.y + Math.sin(this.aim) * r, this.colourOf(this.you!), this.aim);
      }
    }
    // The tick we are drawing the others at: the server judges this input's shots against it.
    // Past the newest snapshot (a late one, or a clock holding after the server skipped ticks)
    // players are drawn where the newest has them, so that is the tick we see.
    const newest = this.buffer.newest?.time ?? this.lastRenderTime;
    const viewTick = Math.max(0, Math.round(Math.min(this.lastRenderTime, newest) * this.tickRate));
    return { seq, dx, dy, aim: this.aim, buttons: fire ? BUTTON_FIRE : 0, viewTick };
  }

  // ------------------------------------------------------------------------------ drawing

  /** The world to draw now: others interpolated in the past, us predicted in the present. */
  view(now: number, aimAt: Vec | null): { players: PlayerView[]; projectiles: ProjectileView[] } {
    const t = this.clock.renderTime(now);
    this.lastRenderTime = t;
    const sample = this.buffer.sample(t, this.blend, MAX_EXTRAPOLATION);
    this.extrapolated = sample.extrapolated;
    this.fireEvents(t, now);

    const players: PlayerView[] = [];
    const projectiles: ProjectileView[] = [];
    const seen = new Set<number>();
    for (const [id, v] of sample.entities) {
      const kind = this.isArena ? v[F.KIND] : KIND_PLAYER;
      if (kind === KIND_ROUND) continue;
      if (kind === KIND_PROJECTILE) {
        const owner = v[F.RESPAWN_OR_OWNER];
        // Our own shots are drawn from prediction, in the present; the server's copy stays hidden.
        if (owner === this.you && this.shots.owns(v[F.ACK] >>> 0)) continue;
        const angle = angleFromQ(v[F.AIM]);
        const x = posFromQ(v[F.X]);
        const y = posFromQ(v[F.Y]);
        // A shot carries its owner's seat, so it keeps their colour even after they leave.
        const colour = this.hasSeat ? paletteColour(paletteSlot(v[F.SEAT], owner)) : this.colourOf(owner);
        projectiles.push({ id, x, y, angle, colour });
        seen.add(id);
        if (!this.seenProjectiles.has(id) && owner !== this.you) {
          // Someone else's new shot: flash at its start, just off the barrel.
          this.hooks.effect("muzzle", x - Math.cos(angle) * 4, y - Math.sin(angle) * 4, colour, angle);
        }
        continue;
      }
      if (kind !== KIND_PLAYER) continue; // the round entity (round.ts), or a kind this client does not know
      if (id === this.you) continue;
      if (this.isArena && v[F.RESPAWN_OR_OWNER] !== 0) continue; // dead: waiting to respawn
      players.push({
        id,
        x: posFromQ(v[0]),
        y: posFromQ(v[1]),
        aim: this.isArena ? angleFromQ(v[F.AIM]) : 0,
        hp: this.isArena ? v[F.HP] : 0,
        maxHp: this.gi.maxHp,
        name: this.nameOf(id),
        colour: this.colourOf(id),
        me: id === this.watched,
        tag: id === this.watched ? "VIEW" : undefined,
        hitFlash: this.flash(id, now),
      });
    }
    this.seenProjectiles = seen;
    this.drawnOthers = players.map((p) => [p.x, p.y]);

    const row = this.myRow();
    const alpha = this.inputClock.alpha;
    const me = this.predictor.renderPos(alpha);
    if (this.isArena && this.you !== null) {
      const colour = this.colourOf(this.you);
      const barrel = (a: number) => ({ x: me.x + Math.cos(a) * MUZZLE, y: me.y + Math.sin(a) * MUZZLE });
      for (const shot of this.shots.view(alpha, now, barrel)) {
        projectiles.push({ id: -shot.seq, x: shot.x, y: shot.y, angle: shot.angle, colour });
      }
    }
    if (this.you !== null && row !== undefined && this.alive(row)) {
      const p = me;
      if (this.isArena && aimAt !== null) this.aim = Math.atan2(aimAt.y - p.y, aimAt.x - p.x);
      players.push({
        id: this.you,
        x: p.x,
        y: p.y,
        aim: this.aim,
        hp: this.isArena ? row[F.HP] : 0,
        maxHp: this.gi.maxHp,
        name: this.nameOf(this.you),
        colour: this.colourOf(this.you),
        me: true,
        hitFlash: this.flash(this.you, now),
      });
    }
    return { players, projectiles };
  }

  private flash(id: number, now: number): number {
    const at = this.hitAt.get(id);
    return at === undefined ? 0 : Math.max(0, 1 - (now - at) / HIT_FLASH);
  }

  /** Seconds until we (or the player we follow) respawn, or null while alive (or spectating). */
  respawnIn(now: number): number | null {
    const row = this.myRow() ?? (this.watched === null ? undefined : this.mirror.entities.get(this.watched));
    if (!this.isArena || row === undefined || row[F.RESPAWN_OR_OWNER] === 0) return null;
    const serverTick = this.clock.serverNow(now) * this.tickRate;
    return Math.max(0, (row[F.RESPAWN_OR_OWNER] - serverTick) / this.tickRate);
  }

  /** Everyone seated, best first. */
  scores(): ScoreRow[] {
    const rows: ScoreRow[] = [];
    const seen = new Set<number>();
    for (const [id, v] of this.mirror.entities) {
      if (this.isArena && v[F.KIND] !== KIND_PLAYER) continue;
      seen.add(id);
      rows.push({
        id,
        name: this.nameOf(id),
        colour: this.colourOf(id),
        kills: this.isArena ? v[F.KILLS] : 0,
        deaths: this.isArena ? v[F.DEATHS] : 0,
        me: id === this.you || id === this.watched,
        away: this.away.has(id),
        host: id === this.host,
      });
    }
    // Seated players whose entity has not arrived yet still belong on the board.
    for (const [id, name] of this.roster) {
      if (!seen.has(id)) {
        rows.push({ id, name, colour: this.colourOf(id), kills: 0, deaths: 0, me: id === this.you, away: this.away.has(id), host: id === this.host });
      }
    }
    return rows.sort((a, b) => b.kills - a.kills || a.deaths - b.deaths || a.id - b.id);
  }
}
