//! The per-tick fan-out: which frame each member gets, encoded once per distinct view and the
//! same bytes handed to every member that shares it.
//!
//! A view is what decides a member's bytes. Today that is the tick its delta is built from (most
//! members hold the previous snapshot and share one encoding; the few that fell behind share one
//! per base they hold). Interest management adds the area a member sees to the key: one encoding
//! per (base, area) then serves everyone who sees that area, and nothing here changes shape.

use super::history::History;
use super::members::Members;
use super::ports::{LobbyStats, SendError, Sink};
use super::settings::LobbySettings;
use crate::protocol::{
    encode_into, EntityId, Frame, FrameBuf, GameEvent, JoinedInfo, RosterEntry, ServerMsg,
    SessionId, Tick,
};
use crate::snapshot::DeltaEncoder;

/// What a member's snapshot bytes depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ViewKey {
    /// The tick the delta is from (`None`: a full snapshot).
    base: Option<Tick>,
}

/// Reusable encoding state: one per lobby, so a tick allocates only the frames it shares.
#[derive(Default)]
pub struct FanOut {
    encoder: DeltaEncoder,
    buf: FrameBuf,
    /// This tick's encodings by view (there are few distinct views).
    views: Vec<(ViewKey, Frame)>,
}

/// The tick being sent, as the fan-out needs it.
pub struct TickWorld<'a> {
    /// The lobby's clock at this tick (a client's slow-client clock starts from it).
    pub now: std::time::Duration,
    pub settings: &'a LobbySettings,
    pub history: &'a History,
    pub events: &'a [GameEvent],
    pub field_count: u8,
}

impl FanOut {
    pub fn new() -> Self {
        Self::default()
    }

    /// Frames one message with the lobby's reusable buffer.
    pub fn frame(&mut self, msg: &ServerMsg) -> Frame {
        encode_into(self.buf.start(), msg);
        self.buf.finish()
    }

    /// Lobby events and chat to every connected member that already has its `Joined`; a member
    /// that cannot take one is marked to get the roster again instead.
    pub fn broadcast(
        &mut self,
        members: &mut Members,
        frames: &[Frame],
        sink: &mut impl Sink,
        stats: &mut LobbyStats,
    ) {
        for frame in frames {
            for (_, m) in members.iter_mut() {
                if !m.connected || m.send.needs_joined {
                    continue;
                }
                match sink.send_event(m.session, frame) {
                    Ok(()) => count(stats, frame),
                    Err(_) => m.send.needs_roster = true,
                }
            }
        }
    }

    /// This tick's snapshot to every connected member: `Joined` to newcomers, the roster to those
    /// that missed an event, then a delta from the last tick each was really sent (shared by
    /// view), or a full snapshot when that tick is no longer held. Returns the members whose
    /// connection turned out to be closed.
    pub fn snapshot(
        &mut self,
        members: &mut Members,
        world: &TickWorld<'_>,
        sink: &mut impl Sink,
        stats: &mut LobbyStats,
    ) -> Vec<(usize, SessionId)> {
        self.views.clear();
        let mut closed = Vec::new();
        let (Some(cur), prev) = world.history.newest_and_previous() else {
            return closed;
        };
        let cur_tick = cur.tick;
        let host = members.host();
        let needs_roster = members
            .iter()
            .any(|(_, m)| m.connected && (m.send.needs_joined || m.send.needs_roster));
        let roster = if needs_roster {
            members.roster()
        } else {
            Vec::new()
        };
        let mut roster_frame: Option<Frame> = None;
        for (key, m) in members.iter_mut() {
            if !m.connected {
                continue;
            }
            let session = m.session;
            if m.send.needs_joined {
                let frame = self.joined(world, m.player, host, &roster);
                match send(sink, session, &frame, stats) {
                    Ok(()) => {
                        m.send.needs_joined = false;
                        m.send.needs_roster = false;
                        m.send.last_sent = Some(cur_tick);
                        m.send.behind_since = None;
                        stats.full_snapshots += 1;
                        stats.snapshots_sent += 1;
                    }
                    Err(SendError::Full) => {
                        m.send.behind_since.get_or_insert(world.now);
                    }
                    Err(SendError::Closed) => closed.push((key, session)),
                }
                continue;
            }
            if m.send.needs_roster {
                let frame = roster_frame.get_or_insert_with(|| {
                    self.frame(&ServerMsg::Roster {
                        host,
                        roster: roster.clone(),
                    })
                });
                match send(sink, session, frame, stats) {
                    Ok(()) => m.send.needs_roster = false,
                    Err(SendError::Full) => {
                        m.send.behind_since.get_or_insert(world.now);
                        stats.snapshots_skipped += 1;
                        continue;
                    }
                    Err(SendError::Closed) => {
                        closed.push((key, session));
                        continue;
                    }
                }
            }
            // The tick the member holds, if it is still in the history (else: full).
            let held = m.send.last_sent.filter(|b| *b != cur_tick);
            let base = match (held, prev) {
                (Some(b), Some(p)) if b == p.tick => Some(p),
                (Some(b), _) => world.history.get(b),
                (None, _) => None,
            };
            let view = ViewKey {
                base: base.map(|t| t.tick),
            };
            let frame = match self.views.iter().find(|(k, _)| *k == view) {
                Some((_, f)) => f.clone(),
                None => {
                    self.encoder
                        .write_frame(self.buf.start(), base, cur, world.events);
                    let f = self.buf.finish();
                    self.views.push((view, f.clone()));
                    f
                }
            };
            match send(sink, session, &frame, stats) {
                Ok(()) => {
                    if view.base.is_none() {
                        stats.full_snapshots += 1;
                    }
                    m.send.last_sent = Some(cur_tick);
                    m.send.behind_since = None;
                    stats.snapshots_sent += 1;
                }
                Err(SendError::Full) => {
                    m.send.behind_since.get_or_insert(world.now);
                    stats.snapshots_skipped += 1;
                }
                Err(SendError::Closed) => closed.push((key, session)),
            }
        }
        closed
    }

    /// `Joined` for one member: who it is, the lobby, the roster, and a full snapshot.
    fn joined(
        &mut self,
        world: &TickWorld<'_>,
        you: Option<EntityId>,
        host: Option<EntityId>,
        roster: &[RosterEntry],
    ) -> Frame {
        let s = world.settings;
        let cur = world.history.newest();
        let snapshot = match cur {
            Some(cur) => self.encoder.body(None, cur, world.events),
            None => Default::default(),
        };
        self.frame(&ServerMsg::Joined(Box::new(JoinedInfo {
            lobby: s.id,
            code: s.code.clone(),
            name: s.name.clone(),
            game: s.game.name().to_owned(),
            you,
            host,
            tick_rate: s.tick_rate,
            snapshot_rate: s.snapshot_rate(),
            max_players: s.max_players,
            field_count: world.field_count,
            roster: roster.to_vec(),
            snapshot,
        })))
    }
}

fn count(stats: &mut LobbyStats, frame: &Frame) {
    stats.frames_sent += 1;
    stats.bytes_sent += frame.payload_len() as u64;
}

fn send(
    sink: &mut impl Sink,
    to: SessionId,
    frame: &Frame,
    stats: &mut LobbyStats,
) -> Result<(), SendError> {
    let r = sink.send(to, frame);
    if r.is_ok() {
        count(stats, frame);
    }
    r
}
