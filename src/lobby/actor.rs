//! The async side of a lobby: a task that owns a [`LobbyState`] and runs its fixed-tick loop.
//!
//! It wakes only on the tick (and on shutdown), then drains its inbox without waiting, so
//! thousands of inputs per second cost no extra wake-ups of the lobby task.

use super::registry::{LobbyShared, Registry};
use super::state::{Effect, JoinError, JoinOk, LobbyState, SendError, Sink};
use crate::metrics::Metrics;
use crate::protocol::{CloseCode, PlayerInput, SessionId};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, Instrument};

/// What a lobby sends a client's connection: frames, in order, through a bounded queue.
pub struct Outbound {
    pub frame: Bytes,
    /// A lobby event, chat line or reply (not a snapshot): it counts in
    /// [`ClientLink::events_queued`] until the connection takes it.
    pub event: bool,
}

/// A client's end of the lobby: its bounded frame queue and a way to close it with a reason.
pub struct ClientLink {
    pub frames: mpsc::Sender<Outbound>,
    pub kick: oneshot::Sender<CloseCode>,
    /// Event frames in `frames` that the connection has not taken yet: the lobby adds one
    /// before it queues an event, the connection takes one off when it receives it.
    pub events_queued: Arc<AtomicUsize>,
}

pub type JoinReply = oneshot::Sender<Result<JoinOk, JoinError>>;

/// Commands a connection sends its lobby. `member` is the key `JoinOk` returned.
pub enum LobbyCommand {
    Join {
        session: SessionId,
        name: String,
        spectate: bool,
        token: Option<String>,
        link: ClientLink,
        reply: JoinReply,
    },
    Resume {
        session: SessionId,
        old_token: String,
        new_token: String,
        link: ClientLink,
        reply: JoinReply,
    },
    Leave {
        member: usize,
        session: SessionId,
    },
    Disconnected {
        member: usize,
        session: SessionId,
    },
    Input {
        member: usize,
        session: SessionId,
        input: PlayerInput,
    },
    Chat {
        member: usize,
        session: SessionId,
        text: String,
    },
    Restart {
        member: usize,
        session: SessionId,
    },
    Resync {
        member: usize,
        session: SessionId,
    },
    /// The world table the lobby sent at `tick`, while it is still in its history (for tests and
    /// tools inside the process; nothing on the network can send this).
    Inspect {
        tick: crate::protocol::Tick,
        reply: oneshot::Sender<Option<crate::snapshot::EntityTable>>,
    },
}

/// How a connection reaches a lobby.
#[derive(Clone)]
pub struct LobbyHandle {
    pub shared: Arc<LobbyShared>,
}

/// Room in every client's queue, on top of `limits.outbound_queue`, that only lobby events, chat
/// and replies may use (see [`Sink::send_event`]). The connection creates its queue with
/// `outbound_queue + EVENT_HEADROOM` slots.
pub const EVENT_HEADROOM: usize = 64;

/// The actor's sink: each client's bounded queue, never awaited.
///
/// Snapshots (with `Joined` and `Roster`) go out while fewer than `outbound_queue` of them wait;
/// events have [`EVENT_HEADROOM`] more room of their own. Counting snapshots rather than frames
/// is what keeps a burst of events (a dozen joins and chat lines in a tick, say) from making a
/// client that reads everything, just a tick late, look behind and miss a snapshot.
struct Links {
    links: HashMap<SessionId, ClientLink>,
}

fn try_send(link: &ClientLink, frame: &Bytes, event: bool) -> Result<(), SendError> {
    let out = Outbound {
        frame: frame.clone(),
        event,
    };
    link.frames.try_send(out).map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => SendError::Full,
        mpsc::error::TrySendError::Closed(_) => SendError::Closed,
    })
}

impl Sink for Links {
    fn send(&mut self, to: SessionId, frame: &Bytes) -> Result<(), SendError> {
        let Some(link) = self.links.get(&to) else {
            return Err(SendError::Closed);
        };
        let frames = &link.frames;
        if frames.is_closed() {
            return Err(SendError::Closed);
        }
        let bound = frames.max_capacity().saturating_sub(EVENT_HEADROOM).max(1);
        let queued = frames.max_capacity() - frames.capacity();
        let events = link.events_queued.load(Ordering::Acquire);
        if queued.saturating_sub(events) >= bound {
            return Err(SendError::Full);
        }
        try_send(link, frame, false)
    }

    fn send_event(&mut self, to: SessionId, frame: &Bytes) -> Result<(), SendError> {
        let Some(link) = self.links.get(&to) else {
            return Err(SendError::Closed);
        };
        // Counted before it is queued, so the connection never takes off more than was added.
        link.events_queued.fetch_add(1, Ordering::AcqRel);
        let r = try_send(link, frame, true);
        if r.is_err() {
            link.events_queued.fetch_sub(1, Ordering::AcqRel);
        }
        r
    }

    fn kick(&mut self, to: SessionId, code: CloseCode) {
        if let Some(link) = self.links.remove(&to) {
            let _ = link.kick.send(code);
        }
    }
}

/// Runs a lobby until it closes (empty past its grace) or the server shuts down.
pub(crate) async fn run(
    mut state: LobbyState,
    mut inbox: mpsc::Receiver<LobbyCommand>,
    registry: Arc<Registry>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) {
    let settings = state.settings().clone();
    let span = tracing::info_span!("lobby", lobby = settings.id.0, code = %settings.code, game = %settings.game);
    async move {
        info!(name = %settings.name, max_players = settings.max_players, "lobby open");
        let dt = Duration::from_secs_f64(1.0 / f64::from(settings.tick_rate));
        let mut interval = tokio::time::interval(dt);
        // Under overload, skip missed ticks rather than bursting to catch up: players get a
        // slower world for a moment instead of a stutter of back-to-back snapshots.
        interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut links = Links {
            links: HashMap::new(),
        };
        let drain_limit = inbox.max_capacity();
        let mut players_reported: i64 = 0;
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                _ = interval.tick() => {}
            }
            let started = Instant::now();
            for _ in 0..drain_limit {
                match inbox.try_recv() {
                    Ok(cmd) => {
                        handle(&mut state, &mut links, cmd);
                        // Right away: a leave and a re-join in one drain must not undo each other.
                        apply_effects(&mut state, &mut links, &registry);
                    }
                    Err(_) => break,
                }
            }
            state.tick(&mut links);
            apply_effects(&mut state, &mut links, &registry);
            let stats = state.take_stats();
            metrics.snapshots_sent.inc_by(stats.snapshots_sent);
            metrics.snapshots_skipped.inc_by(stats.snapshots_skipped);
            metrics.full_snapshots.inc_by(stats.full_snapshots);
            metrics.frames_out.inc_by(stats.frames_sent);
            metrics.bytes_out.inc_by(stats.bytes_sent);
            metrics.slow_client_kicks.inc_by(stats.slow_kicks);
            let players = i64::from(state.players());
            metrics.players.inc_by(players - players_reported);
            players_reported = players;
            registry_publish(&registry, &state);
            let took = started.elapsed();
            metrics.tick_seconds.observe(took.as_secs_f64());
            if took > dt {
                metrics.tick_overruns.inc();
            }
            if state.is_closed() {
                info!("lobby empty past its grace period; closing");
                break;
            }
        }
        metrics.players.dec_by(players_reported);
        debug!("lobby stopped");
    }
    .instrument(span)
    .await
}

fn apply_effects(state: &mut LobbyState, links: &mut Links, registry: &Registry) {
    let id = state.settings().id;
    for effect in state.take_effects() {
        match effect {
            Effect::BindToken(t) => registry.bind_token(t, id),
            Effect::UnbindToken(t) => registry.unbind_token(&t, id),
            // Dropping the link's sender tells the connection it is no longer in the lobby.
            Effect::Detached(s) => {
                links.links.remove(&s);
            }
        }
    }
}

fn registry_publish(registry: &Registry, state: &LobbyState) {
    if let Some(shared) = registry.get(state.settings().id) {
        shared.players.store(state.players(), Ordering::Relaxed);
    }
}

fn handle(state: &mut LobbyState, links: &mut Links, cmd: LobbyCommand) {
    match cmd {
        LobbyCommand::Join {
            session,
            name,
            spectate,
            token,
            link,
            reply,
        } => {
            let result = state.join(session, name, spectate, token);
            if result.is_ok() {
                links.links.insert(session, link);
            }
            let _ = reply.send(result);
        }
        LobbyCommand::Resume {
            session,
            old_token,
            new_token,
            link,
            reply,
        } => {
            let result = state.resume(session, &old_token, new_token, links);
            if result.is_ok() {
                links.links.insert(session, link);
            }
            let _ = reply.send(result);
        }
        LobbyCommand::Leave { member, session } => state.leave(member, session),
        LobbyCommand::Disconnected { member, session } => state.disconnected(member, session),
        LobbyCommand::Input {
            member,
            session,
            input,
        } => state.input(member, session, input),
        LobbyCommand::Chat {
            member,
            session,
            text,
        } => state.chat(member, session, &text, links),
        LobbyCommand::Restart { member, session } => state.restart(member, session, links),
        LobbyCommand::Resync { member, session } => state.resync(member, session),
        LobbyCommand::Inspect { tick, reply } => {
            let _ = reply.send(state.world_at(tick).cloned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_events_does_not_crowd_out_snapshots_but_a_snapshot_backlog_does() {
        let s = SessionId(1);
        let (frames, mut rx) = mpsc::channel(4 + EVENT_HEADROOM);
        let (kick, _) = oneshot::channel();
        let events_queued = Arc::new(AtomicUsize::new(0));
        let link = ClientLink {
            frames,
            kick,
            events_queued: events_queued.clone(),
        };
        let mut links = Links {
            links: HashMap::from([(s, link)]),
        };
        let frame = Bytes::from_static(b"x");
        // Twenty events and a snapshot a tick, for three ticks, none of it read yet: the
        // snapshots still go out.
        for _ in 0..3 {
            for _ in 0..20 {
                links.send_event(s, &frame).unwrap();
            }
            assert_eq!(links.send(s, &frame), Ok(()));
        }
        assert_eq!(events_queued.load(Ordering::Relaxed), 60);
        // Four snapshots wait: the fifth is refused.
        assert_eq!(links.send(s, &frame), Ok(()));
        assert_eq!(links.send(s, &frame), Err(SendError::Full));
        // Reading gives the events' count back as it goes.
        let mut read = 0;
        while let Ok(o) = rx.try_recv() {
            if o.event {
                events_queued.fetch_sub(1, Ordering::AcqRel);
            }
            read += 1;
            if read == 21 {
                break;
            }
        }
        assert_eq!(events_queued.load(Ordering::Relaxed), 40);
        assert_eq!(links.send(s, &frame), Ok(()));
        // Events have room of their own, and it is bounded too.
        let mut sent = 0;
        while links.send_event(s, &frame).is_ok() {
            sent += 1;
        }
        assert_eq!(sent, 4 + EVENT_HEADROOM - (64 - 21 + 1));
        assert_eq!(events_queued.load(Ordering::Relaxed), 40 + sent);
        drop(rx);
        assert_eq!(links.send(s, &frame), Err(SendError::Closed));
    }
}
