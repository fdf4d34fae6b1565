// Watching a replay: the server re-simulates the match into snapshots, and the live game's session draws them on the play head's clock.
//
// Seeking and speed are the play head's (timeline.ts); the frames come from the server from any
// tick (it re-simulates from its nearest keyframe), so this page holds no copy of the game's rules.

import { F, KIND_PLAYER } from "../games";
import { InterpClock } from "../interpolation";
import type { JoinedInfo, SnapshotBody } from "../protocol";
import { GameSession, type SessionHooks } from "../session";
import { describeReplay, replayFrames, type ReplayInfo } from "./api";
import { FrameQueue, PREFETCH_SECONDS, Timeline } from "./timeline";

/** The render clock of a replay: the play head, not an estimate of a server's "now". */
class PlayheadClock extends InterpClock {
  constructor(private readonly head: () => number) {
    super();
  }
  override onSnapshot(): void {}
  override renderTime(): number {
    return this.head();
  }
  override serverNow(): number {
    return this.head();
  }
  override delay(): number {
    return 0;
  }
}

/** What the page's test hook and controls read. */
export interface ReplayState {
  id: string;
  tick: number;
  first: number;
  last: number;
  playing: boolean;
  speed: number;
  following: number | null;
  /** Players in the world at the head. */
  players: Array<{ id: number; name: string }>;
  /** Frames are being fetched and the head waits for them. */
  waiting: boolean;
}

export class ReplayMode {
  info: ReplayInfo | null = null;
  session: GameSession | null = null;
  private timeline: Timeline | null = null;
  private queue: FrameQueue | null = null;
  private names = new Map<number, string>();
  private following: number | null = null;
  /** The newest tick handed to the session (the head does not pass it while frames are on their way). */
  private fed = -1;
  /** The next frame starts a new session (after a seek: a new mirror, buffer and effects). */
  private fresh = true;
  private waiting = false;
  private stopped = false;

  constructor(
    readonly id: string,
    private readonly hooks: SessionHooks,
    /** A fetch failed: what to tell the viewer. */
    private readonly onError: (message: string) => void,
  ) {}

  /** Asks the server about the replay; then frames flow as the head moves. */
  async start(): Promise<ReplayInfo> {
    const info = await describeReplay(this.id);
    this.info = info;
    this.names = new Map(info.players.map((p) => [p.id, p.name]));
    this.timeline = new Timeline(info.first_tick, info.last_tick, Math.max(1, info.tick_rate));
    this.queue = new FrameQueue(info.first_tick, info.last_tick);
    return info;
  }

  stop(): void {
    this.stopped = true;
  }

  /** Once per animation frame: move the head, fetch ahead, hand the session what the head reached. */
  frame(now: number, dt: number): void {
    const t = this.timeline;
    const q = this.queue;
    if (t === null || q === null || this.info === null) return;
    t.advance(dt);
    this.fetch();
    // The next frame too, so there is one to interpolate toward.
    for (const b of q.take(Math.floor(t.position) + 1)) this.feed(b, now);
    // Frames not here yet: the head waits at the newest one rather than run past the picture.
    const starved = t.position > this.fed && !t.ended && q.buffered === 0;
    if (starved) t.position = Math.max(t.first, this.fed);
    // After a seek the old picture stays until the new one's first frame is here.
    this.waiting = starved || this.fresh;
  }

  private fetch(): void {
    const t = this.timeline!;
    const q = this.queue!;
    const ask = q.want(t.position, PREFETCH_SECONDS * t.tickRate * Math.max(1, t.speed));
    if (ask === null) return;
    const count = this.info!.max_frames;
    replayFrames(this.id, ask.from, count).then(
      (bodies) => {
        if (!this.stopped) q.add(ask.generation, bodies);
      },
      (e: unknown) => {
        q.failed(ask.generation);
        if (!this.stopped) this.onError(`Could not load the replay's frames: ${(e as Error).message}`);
      },
    );
  }

  private feed(b: SnapshotBody, now: number): void {
    if (this.fresh || this.session === null) {
      if (b.baseDelta !== 0) return; // a delta before the first whole frame of a seek: never sent so
      this.session = new GameSession(this.joined(b), now, this.hooks, new PlayheadClock(() => this.timeline!.position / this.timeline!.tickRate));
      this.fresh = false;
    } else {
      this.session.onSnapshot(b, now);
    }
    this.fed = b.tick;
    this.session.watched = this.following;
    // The scoreboard lists who is in the world now (a replay's roster is everyone who ever joined).
    const s = this.session;
    const present = [...s.mirror.entities]
      .filter(([, v]) => !s.isArena || v[F.KIND] === KIND_PLAYER)
      .map(([id]) => ({ id, name: this.names.get(id) ?? `player ${id}` }));
    s.setRoster(null, present);
  }

  private joined(b: SnapshotBody): JoinedInfo {
    const i = this.info!;
    return {
      lobby: 0,
      code: i.code,
      name: i.lobby,
      game: i.game,
      you: null,
      host: null,
      tickRate: i.tick_rate,
      snapshotRate: i.tick_rate,
      maxPlayers: i.players.length,
      fieldCount: i.field_count,
      roster: [],
      snapshot: b,
    };
  }

  toggle(): void {
    this.timeline?.toggle();
    // Play at the end went back to the start: fetch from there.
    if (this.timeline !== null && this.timeline.position < this.fed - 1) this.seek(this.timeline.position);
  }

  setSpeed(s: number): void {
    this.timeline?.setSpeed(s);
  }

  /** Jumps to `tick`: the server re-simulates from its nearest keyframe; a new session draws it. */
  seek(tick: number): void {
    const t = this.timeline;
    const q = this.queue;
    if (t === null || q === null) return;
    const at = t.seek(tick);
    q.reset(at);
    this.fed = at;
    this.fresh = true;
  }

  /** Follows `player`'s view (drawn and listed as "you"), or nobody's. */
  follow(player: number | null): void {
    this.following = player;
    if (this.session !== null) this.session.watched = player;
  }

  state(): ReplayState | null {
    const t = this.timeline;
    if (t === null) return null;
    return {
      id: this.id,
      tick: Math.floor(t.position),
      first: t.first,
      last: t.last,
      playing: t.playing,
      speed: t.speed,
      following: this.following,
      players: this.session === null ? [] : this.session.scores().map((r) => ({ id: r.id, name: r.name })),
      // Read between two animation frames too: a seek just made waits for its first frame.
      waiting: this.waiting || this.fresh,
    };
  }
}
