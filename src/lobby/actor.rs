//! A lobby running on a shard: its state with its members' connections (`LobbyCell`, which the
//! sessions on the same thread call straight into), and the task that runs its fixed-tick loop.
//!
//! Everything here lives on one shard's thread. Each tick first reads every member's socket (one
//! `recv` each, through its [`MemberLink`]); a member's input reaches the lobby by
//! [`LobbyCell::input`], a push onto that member's queue. Then the lobby steps, and the tick writes
//! each member's frame straight to its socket. No channel, no task woken per player.

use super::ports::{Directory, Effect, LobbyStats, MemberLink, SendError, Sink};
use super::registry::{AdminOp, AdminReply, LobbyShared};
use super::state::{JoinError, JoinOk, LobbyState};
use crate::metrics::Metrics;
use crate::protocol::{CloseCode, Frame, PlayerInput, SessionId, Tick};
use crate::replay::ReplayWriter;
use crate::snapshot::EntityTable;
use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, Instrument};

/// A lobby on its shard, shared by its tick task and the sessions of its members.
pub type SharedLobby = Rc<RefCell<LobbyCell>>;

/// A lobby's state and the connections of its connected members.
pub struct LobbyCell {
    state: LobbyState,
    links: HashMap<SessionId, Rc<dyn MemberLink>>,
    directory: Arc<dyn Directory>,
    run: LobbyRun,
    /// A call into the lobby is under way; still set after it, the call panicked part-way and
    /// the state may be half-changed (the lobby then ends, as for a panic in its tick).
    busy: bool,
    ended: bool,
    /// Players last published to the registry, the metrics and the shard's load.
    players_reported: u16,
    /// What members are told when the lobby ends (an operator's reason, or the usual one).
    end_reason: Option<String>,
    /// The lobby ends because the server is stopping: its members are not told `Left`.
    server_stopping: bool,
}

/// The lobby's sink: each member's link, called directly, never awaited.
struct Links<'a>(&'a mut HashMap<SessionId, Rc<dyn MemberLink>>);

impl Sink for Links<'_> {
    fn send(&mut self, to: SessionId, frame: &Frame) -> Result<(), SendError> {
        self.0.get(&to).ok_or(SendError::Closed)?.send(frame)
    }

    fn send_event(&mut self, to: SessionId, frame: &Frame) -> Result<(), SendError> {
        self.0.get(&to).ok_or(SendError::Closed)?.send_event(frame)
    }

    /// Tells the connection; it stops routing here when the lobby's `Detached` effect is applied
    /// (the one way a link leaves).
    fn kick(&mut self, to: SessionId, code: CloseCode) {
        if let Some(o) = self.0.get(&to) {
            o.kick(code);
        }
    }
}

impl LobbyCell {
    pub fn new(state: LobbyState, directory: Arc<dyn Directory>, run: LobbyRun) -> LobbyCell {
        LobbyCell {
            state,
            links: HashMap::new(),
            directory,
            run,
            busy: false,
            ended: false,
            players_reported: 0,
            end_reason: None,
            server_stopping: false,
        }
    }

    /// Runs one call into the lobby's state, marked busy while it runs (see `busy`).
    fn call<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        self.busy = true;
        let r = f(self);
        self.busy = false;
        r
    }

    /// A call into the lobby panicked part-way: its state cannot be trusted.
    pub fn failed(&self) -> bool {
        self.busy
    }

    pub fn join(
        &mut self,
        session: SessionId,
        name: String,
        spectate: bool,
        token: Option<String>,
        link: Rc<dyn MemberLink>,
    ) -> Result<JoinOk, JoinError> {
        self.call(|c| {
            let r = c.state.join(session, name, spectate, token);
            if r.is_ok() {
                c.links.insert(session, link);
            }
            c.apply_effects();
            c.publish();
            r
        })
    }

    pub fn resume(
        &mut self,
        session: SessionId,
        old_token: &str,
        new_token: String,
        link: Rc<dyn MemberLink>,
    ) -> Result<JoinOk, JoinError> {
        self.call(|c| {
            let r = c
                .state
                .resume(session, old_token, new_token, &mut Links(&mut c.links));
            // Effects first: the connection it replaced must stop routing here before this one
            // starts.
            c.apply_effects();
            if r.is_ok() {
                c.links.insert(session, link);
            }
            r
        })
    }

    pub fn leave(&mut self, member: usize, session: SessionId) {
        self.call(|c| {
            c.state.leave(member, session);
            c.links.remove(&session);
            c.apply_effects();
            c.publish();
        })
    }

    pub fn disconnected(&mut self, member: usize, session: SessionId) {
        self.call(|c| {
            c.state.disconnected(member, session);
            c.links.remove(&session);
            c.apply_effects();
            c.publish();
        })
    }

    pub fn input(
        &mut self,
        member: usize,
        session: SessionId,
        input: PlayerInput,
        earlier: &[PlayerInput],
    ) {
        self.call(|c| c.state.input(member, session, input, earlier))
    }

    pub fn chat(&mut self, member: usize, session: SessionId, text: &str) {
        self.call(|c| {
            c.state
                .chat(member, session, text, &mut Links(&mut c.links))
        })
    }

    pub fn restart(&mut self, member: usize, session: SessionId) {
        self.call(|c| c.state.restart(member, session, &mut Links(&mut c.links)))
    }

    pub fn resync(&mut self, member: usize, session: SessionId) {
        self.call(|c| c.state.resync(member, session))
    }

    /// Every connected member's link, for the tick to read them before the lobby is taken: in
    /// the order the fan-out writes them, so the time from reading a member's input to writing
    /// its snapshot is as short as it can be for everyone (a big lobby's tick takes a while).
    fn links_into(&self, out: &mut Vec<Rc<dyn MemberLink>>) {
        out.clear();
        out.extend(
            self.state
                .sessions()
                .filter_map(|s| self.links.get(&s).cloned()),
        );
    }

    pub fn world_at(&self, tick: Tick) -> Option<EntityTable> {
        self.state.world_at(tick).cloned()
    }

    /// An operator's request (from the shard's channel, never during a tick).
    pub fn admin(&mut self, op: AdminOp) -> AdminReply {
        match op {
            AdminOp::Roster => AdminReply::Roster(self.state.roster_view()),
            AdminOp::Kick { player, reason } => self.call(|c| {
                let seated = c
                    .state
                    .kick_player(player, &reason, &mut Links(&mut c.links));
                c.apply_effects();
                c.publish();
                AdminReply::Kicked(seated)
            }),
            AdminOp::Close { reason } => {
                let reason = reason.trim();
                self.end_reason = Some(if reason.is_empty() {
                    "an operator closed the lobby".to_owned()
                } else {
                    format!("an operator closed the lobby: {}", truncate(reason, 200))
                });
                self.state.close_now();
                AdminReply::Closed
            }
        }
    }

    /// One tick at `now` (since the lobby opened), with its effects applied; what it counted.
    fn tick(&mut self, now: Duration) -> LobbyStats {
        self.state.tick(now, &mut Links(&mut self.links));
        self.apply_effects();
        self.publish();
        self.hand_replay(false);
        self.state.take_stats()
    }

    /// Hands the replay's sealed chunks (about one a second) to the writer, which encodes them;
    /// `last` ends the replay first and closes its file. Only a channel send: the tick never
    /// waits on a disk.
    fn hand_replay(&mut self, last: bool) {
        let Some(writer) = &self.run.replay else {
            return;
        };
        if last {
            let state = &mut self.state;
            let finish = std::panic::catch_unwind(AssertUnwindSafe(|| state.finish_replay()));
            if finish.is_err() {
                error!("ending the replay panicked; its file ends at the last whole chunk");
            }
        }
        // Most ticks there is nothing: no name looked up, nothing allocated.
        let batch = self.state.take_replay();
        if batch.is_none() && !last {
            return;
        }
        if let Some(file) = self.state.replay_file() {
            writer.send(file, batch.unwrap_or_default(), last);
        }
    }

    /// The lobby is over: every connection still in it is told, its players leave the counts, and
    /// it is no longer found.
    fn end(&mut self) {
        self.ended = true;
        self.publish();
        let reason = self.end_reason.as_deref().unwrap_or("the lobby closed");
        for (_, o) in self.links.drain() {
            // A stopping server closes every connection itself (1001, "server shutting down"). A
            // `Left` first would tell the client its lobby ended, and a player reconnecting would
            // not then learn that the server had restarted under it.
            if !self.server_stopping {
                o.lobby_gone(reason);
            }
        }
        for e in self.state.take_effects() {
            if let Effect::UnbindToken(t) = e {
                self.directory.unbind_token(&t, self.state.settings().id);
            }
        }
        self.directory.remove(self.state.settings().id);
        // Last: a lobby that ended by a panic may panic again writing its end record, and that
        // must not keep it in the registry.
        self.hand_replay(true);
    }

    /// Publishes the player count where others read it (only when it changed: no lock, no
    /// shared cache line written on a tick that changed nothing).
    fn publish(&mut self) {
        let players = if self.ended { 0 } else { self.state.players() };
        if players == self.players_reported {
            return;
        }
        let run = &self.run;
        run.shared.players.store(players, Ordering::Relaxed);
        let delta = i64::from(players) - i64::from(self.players_reported);
        run.metrics.players.inc_by(delta);
        adjust(&run.load, delta);
        self.players_reported = players;
    }

    fn apply_effects(&mut self) {
        let id = self.state.settings().id;
        for effect in self.state.take_effects() {
            match effect {
                Effect::BindToken(t) => self.directory.bind_token(t, id),
                Effect::UnbindToken(t) => self.directory.unbind_token(&t, id),
                Effect::Detached(s) => {
                    self.links.remove(&s);
                }
            }
        }
    }
}

/// What the tick task reports into besides the lobby itself.
#[derive(Clone)]
pub struct LobbyRun {
    pub shared: Arc<LobbyShared>,
    pub metrics: Arc<Metrics>,
    /// The shard's load (lobbies plus seated players), kept current for placement.
    pub load: Arc<AtomicUsize>,
    pub shutdown: CancellationToken,
    /// The shard's start: lobby ticks fall on a grid of phases from it (see [`PHASES`]).
    pub epoch: tokio::time::Instant,
    /// This lobby's phase on that grid, `0..PHASES`.
    pub phase: u32,
    /// Where its replay's chunks go, when it records one.
    pub replay: Option<ReplayWriter>,
}

/// Lobbies on a shard tick in up to this many phases of the tick period: lobbies in one phase
/// share one timer wake-up (and wake the clients' machines in one burst), and a busy shard's
/// work is spread over the period rather than all at once.
pub const PHASES: u32 = 8;

/// The first tick after `now` of a lobby in `phase`: its phase's next slot on the shard's grid.
fn first_tick<I>(epoch: I, now: I, dt: Duration, phase: u32) -> I
where
    I: Copy + std::ops::Add<Duration, Output = I> + std::ops::Sub<I, Output = Duration> + Ord,
{
    let start = epoch + dt * (phase % PHASES) / PHASES;
    if now < start {
        return start;
    }
    let periods = (now - start).as_nanos() / dt.as_nanos().max(1) + 1;
    start + dt * u32::try_from(periods).unwrap_or(u32::MAX)
}

/// A lobby that wakes late runs the missed ticks at once, up to this many: a short stall (a busy
/// shard, a page fault) costs the game no time. Past that the rest are skipped: a lobby that
/// cannot keep up slows its world down rather than piling bursts onto a shard that is already
/// behind. A skipped tick takes no inputs: they wait in their queues (up to the buffer, 8 in arena),
/// and each player is owed the skipped ticks, so what waits is made up with catch-up steps.
const MAX_CATCH_UP: u32 = 2;

/// What a wake-up at `now` owes for the tick that was due at `next`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Due {
    /// Ticks to run now: the one due, and missed ones up to [`MAX_CATCH_UP`].
    run: u32,
    /// Missed ticks beyond that, not run.
    skipped: u32,
}

/// The ticks owed at `now` for the one due at `next`, and when the following one is due (still on
/// the lobby's grid of `dt` from `next`).
fn due<I>(next: I, now: I, dt: Duration) -> (Due, I)
where
    I: Copy + Ord + std::ops::Sub<I, Output = Duration> + std::ops::Add<Duration, Output = I>,
{
    let late = if now > next {
        now - next
    } else {
        Duration::ZERO
    };
    let missed = u32::try_from(late.as_nanos() / dt.as_nanos().max(1)).unwrap_or(u32::MAX);
    let run = 1 + missed.min(MAX_CATCH_UP);
    let following = next + dt * missed.saturating_add(1);
    (
        Due {
            run,
            skipped: missed - (run - 1),
        },
        following,
    )
}

/// Runs a lobby's tick loop until it closes (empty past its grace) or the server shuts down,
/// then ends it. If the loop panics, [`end`] still runs from the shard's supervisor.
pub async fn run(lobby: SharedLobby) {
    let (settings, ctx) = {
        let cell = lobby.borrow();
        (cell.state.settings().clone(), cell.run.clone())
    };
    let span = tracing::info_span!("lobby", lobby = settings.id.0, code = %settings.code, game = %settings.game);
    async move {
        info!(name = %settings.name, max_players = settings.max_players, shard = ctx.shared.shard, "lobby open");
        let dt = Duration::from_secs_f64(1.0 / f64::from(settings.tick_rate));
        let opened = tokio::time::Instant::now();
        let mut next = first_tick(ctx.epoch, opened, dt, ctx.phase);
        let cancelled = ctx.shutdown.cancelled();
        tokio::pin!(cancelled);
        let mut links = Vec::new();
        let mut ring = TickRing::new(Instant::now());
        loop {
            tokio::select! {
                biased;
                _ = &mut cancelled => {
                    lobby.borrow_mut().server_stopping = true;
                    break;
                }
                _ = tokio::time::sleep_until(next) => {}
            }
            let woke = tokio::time::Instant::now();
            let (ticks, after) = due(next, woke, dt);
            if ticks.skipped > 0 {
                ctx.metrics.ticks_skipped.inc_by(u64::from(ticks.skipped));
                lobby.borrow_mut().state.ticks_skipped(ticks.skipped);
            }
            next = after;
            let started = Instant::now();
            // What everyone sent since the last tick, read now: inputs land in their queues.
            lobby.borrow().links_into(&mut links);
            for l in &links {
                // One client's messages must not take its lobby down: should handling them panic,
                // that connection alone is closed (1011) and the tick goes on. Unless the panic
                // came from inside the lobby: then the lobby ends, as for a panic in its tick.
                if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| l.pump())) {
                    if lobby.borrow().failed() {
                        std::panic::resume_unwind(panic);
                    }
                    error!("handling a member's messages panicked; closing its connection");
                    l.kick(CloseCode::InternalError);
                }
            }
            links.clear();
            if lobby.borrow().failed() {
                // A session's call into the lobby (from its own task) panicked part-way.
                panic!("a call into the lobby panicked part-way; its state cannot be trusted");
            }
            let since_open = woke.saturating_duration_since(opened);
            let mut closed = false;
            let mut bytes = 0;
            for _ in 0..ticks.run {
                let stats = {
                    let mut cell = lobby.borrow_mut();
                    let stats = cell.tick(since_open);
                    closed = cell.state.is_closed();
                    stats
                };
                report(&ctx.metrics, &stats);
                bytes += stats.bytes_sent;
                if closed {
                    break;
                }
            }
            let took = started.elapsed();
            ring.record(took, bytes, started + took, &ctx.shared);
            ctx.metrics.tick_seconds.observe(took.as_secs_f64());
            if took > dt {
                ctx.metrics.tick_overruns.inc();
            }
            if closed {
                info!("lobby closed (empty past its grace period, or by an operator)");
                break;
            }
        }
        debug!("lobby stopped");
    }
    .instrument(span)
    .await
}

/// Ends a lobby whose loop has returned (or panicked): its members are told, its players and the
/// lobby itself leave the counts, and the registry forgets it.
pub fn end(lobby: &SharedLobby) {
    let mut cell = lobby.borrow_mut();
    cell.end();
    adjust(&cell.run.load, -1);
}

fn adjust(load: &AtomicUsize, delta: i64) {
    if delta >= 0 {
        load.fetch_add(delta as usize, Ordering::Relaxed);
    } else {
        load.fetch_sub(delta.unsigned_abs() as usize, Ordering::Relaxed);
    }
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Ticks whose durations the operator console's percentiles are taken over (at 30 Hz, about
/// the last 8.5 s).
const TICK_RING: usize = 256;

/// A lobby's recent tick durations and bytes sent, published to its [`LobbyShared`] once a
/// second: a fixed ring, written without a lock or an allocation per tick.
struct TickRing {
    micros: [u32; TICK_RING],
    len: usize,
    at: usize,
    bytes: u64,
    since: Instant,
}

impl TickRing {
    fn new(now: Instant) -> TickRing {
        TickRing {
            micros: [0; TICK_RING],
            len: 0,
            at: 0,
            bytes: 0,
            since: now,
        }
    }

    fn record(&mut self, took: Duration, bytes: u64, now: Instant, shared: &LobbyShared) {
        self.micros[self.at] = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        self.at = (self.at + 1) % TICK_RING;
        self.len = (self.len + 1).min(TICK_RING);
        self.bytes += bytes;
        let elapsed = now.saturating_duration_since(self.since);
        if elapsed >= Duration::from_secs(1) {
            let (p50, p99) = self.percentiles();
            shared.tick_p50_us.store(p50, Ordering::Relaxed);
            shared.tick_p99_us.store(p99, Ordering::Relaxed);
            let per_sec = (self.bytes as f64 / elapsed.as_secs_f64()) as u64;
            shared.bytes_per_sec.store(per_sec, Ordering::Relaxed);
            self.bytes = 0;
            self.since = now;
        }
    }

    /// The median and 99th percentile of the durations held (a sorted copy on the stack).
    fn percentiles(&self) -> (u32, u32) {
        if self.len == 0 {
            return (0, 0);
        }
        let mut sorted = self.micros;
        let held = &mut sorted[..self.len];
        held.sort_unstable();
        let at = |q: f64| held[((self.len - 1) as f64 * q).round() as usize];
        (at(0.5), at(0.99))
    }
}

fn report(m: &Metrics, s: &LobbyStats) {
    m.snapshots_sent.inc_by(s.snapshots_sent);
    m.snapshots_skipped.inc_by(s.snapshots_skipped);
    m.full_snapshots.inc_by(s.full_snapshots);
    m.frames_out.inc_by(s.frames_sent);
    m.bytes_out.inc_by(s.bytes_sent);
    m.slow_client_kicks.inc_by(s.slow_kicks);
    m.stale_inputs.inc_by(s.stale_inputs);
    m.inputs_overflowed.inc_by(s.overflowed_inputs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tick_ring_keeps_the_recent_ticks_percentiles() {
        let mut r = TickRing::new(Instant::now());
        assert_eq!(r.percentiles(), (0, 0));
        for us in 1..=100u64 {
            r.micros[r.at] = us as u32;
            r.at = (r.at + 1) % TICK_RING;
            r.len = (r.len + 1).min(TICK_RING);
        }
        assert_eq!(r.percentiles(), (51, 99));
        // Past the ring's size only the newest count.
        for _ in 0..TICK_RING {
            r.micros[r.at] = 7;
            r.at = (r.at + 1) % TICK_RING;
            r.len = (r.len + 1).min(TICK_RING);
        }
        assert_eq!(r.percentiles(), (7, 7));
    }

    #[test]
    fn a_late_wake_runs_a_few_missed_ticks_and_skips_the_rest() {
        let t0 = Instant::now();
        let dt = Duration::from_millis(33);
        let ms = Duration::from_millis;
        // On time (or early): one tick; the next one period on.
        assert_eq!(due(t0, t0, dt), (Due { run: 1, skipped: 0 }, t0 + dt));
        assert_eq!(due(t0 + ms(10), t0, dt).0.run, 1);
        // A little late: still one.
        assert_eq!(
            due(t0, t0 + ms(20), dt),
            (Due { run: 1, skipped: 0 }, t0 + dt)
        );
        // Two periods late: the missed two run now, and the grid holds.
        assert_eq!(
            due(t0, t0 + ms(70), dt),
            (Due { run: 3, skipped: 0 }, t0 + dt * 3)
        );
        // A long stall: two made up, the rest skipped.
        assert_eq!(
            due(t0, t0 + ms(1000), dt),
            (
                Due {
                    run: 3,
                    skipped: 28
                },
                t0 + dt * 31
            )
        );
    }

    #[test]
    fn lobbies_tick_on_their_phase_of_the_shards_grid() {
        let epoch = Instant::now();
        let dt = Duration::from_millis(32);
        let slot = Duration::from_millis(4);
        for now_ms in [0u64, 1, 31, 32, 33, 1000] {
            let now = epoch + Duration::from_millis(now_ms);
            for phase in 0..PHASES {
                let t = first_tick(epoch, now, dt, phase);
                assert!(t > now, "the first tick is ahead");
                assert!(t - now <= dt, "and within one period");
                let since = t - epoch;
                let on = (since.as_micros() % dt.as_micros()) / slot.as_micros();
                assert_eq!(on as u32, phase, "phase {phase} at {now_ms} ms");
            }
        }
    }
}
