//! The pure lobby: members, seats, inputs, the game, and per-tick fan-out decisions.
//!
//! No sockets, no clock: time is the tick count, and sending goes through a [`Sink`] that says
//! whether a client's queue took the frame. That is what lets every rule here be unit-tested.

use super::history::History;
use crate::game::{Game, GameKind};
use crate::protocol::{
    encode_into, CloseCode, EntityId, ErrorCode, GameEvent, LobbyEventKind, LobbyId, PlayerInput,
    RosterEntry, ServerMsg, SessionId, Tick, MAX_CHAT_LEN,
};
use crate::snapshot::{DeltaEncoder, EntityTable};
use bytes::Bytes;
use slab::Slab;
use std::collections::VecDeque;

/// Everything a lobby needs to know about itself, fixed at creation.
#[derive(Clone, Debug)]
pub struct LobbySettings {
    pub id: LobbyId,
    pub code: String,
    pub name: String,
    pub game: GameKind,
    pub max_players: u16,
    pub max_spectators: u16,
    pub public: bool,
    pub tick_rate: u16,
    /// Send a snapshot every this many ticks (1: every tick).
    pub snapshot_every: u32,
    /// How many past snapshots are kept to serve deltas to clients that fell behind.
    pub history: usize,
    /// Close after this many ticks with nobody seated or watching.
    pub empty_close_ticks: u32,
    /// Hold a disconnected player's seat this many ticks.
    pub reconnect_grace_ticks: u32,
    /// Disconnect a client whose queue stayed full for this many ticks.
    pub max_behind_ticks: u32,
    /// Chat: a burst of this many lines, then one more per `chat_refill_ticks`.
    pub chat_burst: u32,
    pub chat_refill_ticks: u32,
    pub seed: u64,
}

impl LobbySettings {
    pub fn snapshot_rate(&self) -> u16 {
        (u32::from(self.tick_rate) / self.snapshot_every.max(1)).max(1) as u16
    }
}

/// Why a frame was not queued for a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The client's bounded queue is full: skip it this time.
    Full,
    /// The client's connection is gone.
    Closed,
}

/// Where the lobby's frames go. The actor implements it over channels; tests over vectors.
pub trait Sink {
    /// A snapshot (or `Joined`, or `Roster`): refused with `Full` when the client is behind.
    fn send(&mut self, to: SessionId, frame: &Bytes) -> Result<(), SendError>;
    /// Anything else: lobby events, chat, replies. These come in bursts (a dozen players joining
    /// in one tick), so a sink may give them room that snapshots do not get: a burst must not
    /// make a client that reads everything look behind and miss the tick's snapshot.
    fn send_event(&mut self, to: SessionId, frame: &Bytes) -> Result<(), SendError> {
        self.send(to, frame)
    }
    /// Closes a client's connection with a reason (it never blocks, whatever its queue holds).
    fn kick(&mut self, to: SessionId, code: CloseCode);
}

/// Requests the lobby makes of the world outside it (the registry's token map, its own end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// This reconnect token now resumes a seat in this lobby.
    BindToken(String),
    /// This token no longer resumes anything.
    UnbindToken(String),
    /// The member left the lobby (its connection should stop routing here).
    Detached(SessionId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinOk {
    /// Pass back with every later command: it finds the member without a lookup.
    pub member: usize,
    pub player: Option<EntityId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinError {
    pub code: ErrorCode,
    pub message: String,
}

impl JoinError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        JoinError {
            code,
            message: message.into(),
        }
    }
}

/// Counters the actor moves into the server's metrics after each tick.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LobbyStats {
    pub snapshots_sent: u64,
    pub snapshots_skipped: u64,
    pub full_snapshots: u64,
    pub frames_sent: u64,
    pub bytes_sent: u64,
    pub stale_inputs: u64,
    pub slow_kicks: u64,
}

#[derive(Debug)]
struct Member {
    session: SessionId,
    name: String,
    player: Option<EntityId>,
    token: Option<String>,
    /// False while a player's connection is gone and its seat is held.
    connected: bool,
    away_since: Tick,
    joined_at: u64,
    /// Waiting for its `Joined` frame (a new or resumed member).
    needs_joined: bool,
    /// Missed a lobby event or chat while its queue was full: resend the roster.
    needs_roster: bool,
    last_sent: Option<Tick>,
    behind_since: Option<Tick>,
    last_seq: u32,
    /// Inputs not yet applied, oldest first, at most the game's input buffer long.
    pending: VecDeque<PlayerInput>,
    /// Buttons pressed by any input since the last tick, so a quick tap is not lost.
    buttons_latch: u8,
    chat_tokens: u32,
    chat_refill_at: Tick,
    /// When it was last told its chat was rate-limited (at most once a second).
    chat_limited_at: Option<Tick>,
}

/// A lobby's whole state. Methods are the commands; [`LobbyState::tick`] advances one tick.
pub struct LobbyState {
    settings: LobbySettings,
    game: Box<dyn Game>,
    tick: Tick,
    members: Slab<Member>,
    join_counter: u64,
    players: u16,
    spectators: u16,
    host: Option<usize>,
    history: History,
    events: Vec<GameEvent>,
    /// Lobby events and chat to broadcast before this tick's snapshot.
    broadcasts: Vec<Bytes>,
    encoder: DeltaEncoder,
    buf: Vec<u8>,
    effects: Vec<Effect>,
    empty_since: Option<Tick>,
    closed: bool,
    stats: LobbyStats,
    input_buffer: usize,
}

impl LobbyState {
    pub fn new(settings: LobbySettings) -> Self {
        let game = settings.game.create(settings.tick_rate, settings.seed);
        let history = History::new(settings.history, game.field_count());
        LobbyState {
            input_buffer: game.input_buffer().max(1),
            game,
            tick: Tick(0),
            members: Slab::new(),
            join_counter: 0,
            players: 0,
            spectators: 0,
            host: None,
            history,
            events: Vec::new(),
            broadcasts: Vec::new(),
            encoder: DeltaEncoder::new(),
            buf: Vec::with_capacity(1024),
            effects: Vec::new(),
            empty_since: Some(Tick(0)),
            closed: false,
            stats: LobbyStats::default(),
            settings,
        }
    }

    pub fn settings(&self) -> &LobbySettings {
        &self.settings
    }

    pub fn tick_count(&self) -> Tick {
        self.tick
    }

    pub fn players(&self) -> u16 {
        self.players
    }

    pub fn spectators(&self) -> u16 {
        self.spectators
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    pub fn host(&self) -> Option<EntityId> {
        self.host
            .and_then(|k| self.members.get(k))
            .and_then(|m| m.player)
    }

    /// The newest world table (tests compare client mirrors against it).
    pub fn world(&self) -> Option<&EntityTable> {
        self.history.newest()
    }

    /// The world as it was sent at `tick`, while the history still holds it.
    pub fn world_at(&self, tick: Tick) -> Option<&EntityTable> {
        self.history.get(tick)
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn take_stats(&mut self) -> LobbyStats {
        std::mem::take(&mut self.stats)
    }

    /// Seats a player (or a spectator). Its `Joined` frame goes out with the next tick's snapshot.
    pub fn join(
        &mut self,
        session: SessionId,
        name: String,
        spectate: bool,
        token: Option<String>,
    ) -> Result<JoinOk, JoinError> {
        if self.closed {
            return Err(JoinError::new(
                ErrorCode::LobbyNotFound,
                "that lobby has closed",
            ));
        }
        if spectate {
            if self.spectators >= self.settings.max_spectators {
                return Err(JoinError::new(
                    ErrorCode::LobbyFull,
                    format!(
                        "the lobby has its {} spectators already",
                        self.settings.max_spectators
                    ),
                ));
            }
        } else if self.players >= self.settings.max_players {
            return Err(JoinError::new(
                ErrorCode::LobbyFull,
                format!("the lobby is full ({} players)", self.settings.max_players),
            ));
        }
        let player = (!spectate).then(|| self.game.spawn_player());
        let token = if spectate { None } else { token };
        if let Some(t) = &token {
            self.effects.push(Effect::BindToken(t.clone()));
        }
        self.join_counter += 1;
        let key = self.members.insert(Member {
            session,
            name: name.clone(),
            player,
            token,
            connected: true,
            away_since: Tick(0),
            joined_at: self.join_counter,
            needs_joined: true,
            needs_roster: false,
            last_sent: None,
            behind_since: None,
            last_seq: 0,
            pending: VecDeque::new(),
            buttons_latch: 0,
            chat_tokens: self.settings.chat_burst,
            chat_refill_at: self.tick,
            chat_limited_at: None,
        });
        self.empty_since = None;
        if let Some(p) = player {
            self.players += 1;
            self.lobby_event(LobbyEventKind::Joined, p, &name);
            if self.host.is_none() {
                self.host = Some(key);
                self.lobby_event(LobbyEventKind::HostChanged, p, &name);
            }
        } else {
            self.spectators += 1;
        }
        Ok(JoinOk {
            member: key,
            player,
        })
    }

    /// Re-attaches a held seat to a new connection, by the token it was issued with.
    pub fn resume(
        &mut self,
        session: SessionId,
        old_token: &str,
        new_token: String,
        sink: &mut impl Sink,
    ) -> Result<JoinOk, JoinError> {
        let Some((key, m)) = self
            .members
            .iter_mut()
            .find(|(_, m)| m.token.as_deref() == Some(old_token))
        else {
            return Err(JoinError::new(
                ErrorCode::ReconnectFailed,
                "that seat is gone (the reconnect grace period ran out, or it was left)",
            ));
        };
        if m.connected {
            // The old connection is still open (a half-open socket we have not noticed yet):
            // the newest owner of the token wins.
            sink.kick(m.session, CloseCode::Replaced);
            self.effects.push(Effect::Detached(m.session));
        }
        m.session = session;
        m.connected = true;
        m.needs_joined = true;
        m.last_sent = None;
        m.behind_since = None;
        m.token = Some(new_token.clone());
        let (player, name) = (m.player, m.name.clone());
        self.effects.push(Effect::UnbindToken(old_token.to_owned()));
        self.effects.push(Effect::BindToken(new_token));
        if let Some(p) = player {
            self.lobby_event(LobbyEventKind::Back, p, &name);
        }
        Ok(JoinOk {
            member: key,
            player,
        })
    }

    fn member_of(&mut self, key: usize, session: SessionId) -> Option<&mut Member> {
        self.members
            .get_mut(key)
            .filter(|m| m.session == session && m.connected)
    }

    /// The member leaves for good: its seat and entity go.
    pub fn leave(&mut self, key: usize, session: SessionId) {
        // Not `member_of`: the session drops its queue right after sending Leave, so a tick may
        // already have seen the closed queue and marked the member away. A leave still frees it.
        if self.members.get(key).is_some_and(|m| m.session == session) {
            self.remove_member(key, "left");
        }
    }

    /// The member's connection dropped. Players keep their seat for the grace period.
    pub fn disconnected(&mut self, key: usize, session: SessionId) {
        let grace = self.settings.reconnect_grace_ticks;
        let tick = self.tick;
        let Some(m) = self.member_of(key, session) else {
            return;
        };
        if m.player.is_some() && m.token.is_some() && grace > 0 {
            m.connected = false;
            m.away_since = tick;
            // Stand still while away (the seq is not advanced, so the ack does not move).
            m.pending.clear();
            m.pending.push_back(PlayerInput {
                seq: m.last_seq,
                ..Default::default()
            });
            m.buttons_latch = 0;
            let (p, name) = (m.player.unwrap_or_default(), m.name.clone());
            self.lobby_event(LobbyEventKind::Away, p, &name);
        } else {
            self.remove_member(key, "disconnected");
        }
    }

    fn remove_member(&mut self, key: usize, _why: &str) {
        let m = self.members.remove(key);
        if let Some(t) = m.token {
            self.effects.push(Effect::UnbindToken(t));
        }
        self.effects.push(Effect::Detached(m.session));
        match m.player {
            Some(p) => {
                self.players -= 1;
                self.game.despawn_player(p);
                self.lobby_event(LobbyEventKind::Left, p, &m.name);
                if self.host == Some(key) {
                    // The longest-seated player inherits the lobby.
                    self.host = self
                        .members
                        .iter()
                        .filter(|(_, m)| m.player.is_some())
                        .min_by_key(|(_, m)| m.joined_at)
                        .map(|(k, _)| k);
                    if let Some(h) = self.host {
                        let (p, name) = (
                            self.members[h].player.unwrap_or_default(),
                            self.members[h].name.clone(),
                        );
                        self.lobby_event(LobbyEventKind::HostChanged, p, &name);
                    }
                }
            }
            None => self.spectators -= 1,
        }
        if self.members.is_empty() {
            self.empty_since = Some(self.tick);
        }
    }

    /// Records a player's input; it applies at the next tick. Old sequence numbers are ignored.
    pub fn input(&mut self, key: usize, session: SessionId, input: PlayerInput) {
        let buffer = self.input_buffer;
        let Some(m) = self.member_of(key, session) else {
            return;
        };
        if m.player.is_none() {
            return;
        }
        let newest = m
            .pending
            .back()
            .map_or(m.last_seq, |p| p.seq.max(m.last_seq));
        m.buttons_latch |= input.buttons;
        if input.seq <= newest {
            self.stats.stale_inputs += 1;
            return;
        }
        m.pending.push_back(input);
        // Past the buffer the oldest goes: a client running ahead must not build up latency.
        while m.pending.len() > buffer {
            m.pending.pop_front();
        }
    }

    /// Asks for a full snapshot at the next snapshot tick (a client whose mirror went wrong).
    pub fn resync(&mut self, key: usize, session: SessionId) {
        if let Some(m) = self.member_of(key, session) {
            m.last_sent = None;
        }
    }

    /// A chat line to everyone in the lobby, rate-limited per member.
    pub fn chat(&mut self, key: usize, session: SessionId, text: &str, sink: &mut impl Sink) {
        let tick = self.tick;
        let (burst, refill) = (
            self.settings.chat_burst,
            self.settings.chat_refill_ticks.max(1),
        );
        let second = u32::from(self.settings.tick_rate);
        let Some(m) = self.member_of(key, session) else {
            return;
        };
        // Refill the bucket by whole periods elapsed.
        let periods = tick.0.saturating_sub(m.chat_refill_at.0) / refill;
        if periods > 0 {
            m.chat_tokens = (m.chat_tokens + periods).min(burst);
            m.chat_refill_at = Tick(m.chat_refill_at.0 + periods * refill);
        }
        let session = m.session;
        let clean: String = text.chars().filter(|c| !c.is_control()).collect();
        let clean = clean.trim();
        let error = if clean.is_empty() {
            Some((ErrorCode::BadRequest, "empty chat message".to_owned()))
        } else if text.len() > MAX_CHAT_LEN {
            Some((
                ErrorCode::BadRequest,
                format!("chat messages are at most {MAX_CHAT_LEN} bytes"),
            ))
        } else if m.chat_tokens == 0 {
            // Dropped, and said so at most once a second: the answer to a chat flood must not
            // become a flood of errors.
            if m.chat_limited_at
                .is_some_and(|t| tick.0.wrapping_sub(t.0) < second)
            {
                return;
            }
            m.chat_limited_at = Some(tick);
            Some((
                ErrorCode::RateLimited,
                "slow down: too many chat messages".to_owned(),
            ))
        } else {
            None
        };
        if let Some((code, message)) = error {
            let frame = self.frame(&ServerMsg::error(code, message));
            let _ = sink.send_event(session, &frame);
            return;
        }
        m.chat_tokens -= 1;
        let msg = ServerMsg::Chat {
            from: m.player,
            name: m.name.clone(),
            text: clean.to_owned(),
        };
        let frame = self.frame(&msg);
        self.broadcasts.push(frame);
    }

    /// The host starts a new round.
    pub fn restart(&mut self, key: usize, session: SessionId, sink: &mut impl Sink) {
        if self.member_of(key, session).is_none() {
            return;
        }
        if self.host != Some(key) {
            let frame = self.frame(&ServerMsg::error(
                ErrorCode::NotHost,
                "only the host can restart the round",
            ));
            let _ = sink.send_event(session, &frame);
            return;
        }
        self.game.restart(self.tick);
        let (p, name) = (
            self.members[key].player.unwrap_or_default(),
            self.members[key].name.clone(),
        );
        self.lobby_event(LobbyEventKind::RoundRestarted, p, &name);
    }

    fn frame(&mut self, msg: &ServerMsg) -> Bytes {
        self.buf.clear();
        encode_into(&mut self.buf, msg);
        Bytes::copy_from_slice(&self.buf)
    }

    fn lobby_event(&mut self, kind: LobbyEventKind, player: EntityId, name: &str) {
        let frame = self.frame(&ServerMsg::LobbyEvent {
            kind,
            player,
            name: name.to_owned(),
        });
        self.broadcasts.push(frame);
    }

    fn roster(&self) -> Vec<RosterEntry> {
        let mut r: Vec<RosterEntry> = self
            .members
            .iter()
            .filter_map(|(_, m)| {
                m.player.map(|id| RosterEntry {
                    id,
                    name: m.name.clone(),
                })
            })
            .collect();
        r.sort_by_key(|e| e.id);
        r
    }

    /// Advances one tick: inputs, step, table, fan-out, then the lobby's own housekeeping.
    pub fn tick(&mut self, sink: &mut impl Sink) {
        self.tick = Tick(self.tick.0.wrapping_add(1).max(1));
        let tick = self.tick;

        // 1. Inputs: one per player per tick, oldest first (the game's input buffer decides how
        // many may wait), with any button tapped since the last tick. No input: the last one holds.
        for (_, m) in self.members.iter_mut() {
            if let (Some(p), Some(mut input)) = (m.player, m.pending.pop_front()) {
                input.buttons |= m.buttons_latch;
                m.buttons_latch = 0;
                m.last_seq = m.last_seq.max(input.seq);
                self.game.apply_input(p, &input);
            }
        }

        // 2. Step the world.
        self.game.step(tick, &mut self.events);

        // 3. Lobby events and chat go first, so names arrive before the entities they label.
        let broadcasts = std::mem::take(&mut self.broadcasts);
        for frame in &broadcasts {
            for (_, m) in self.members.iter_mut() {
                if !m.connected || m.needs_joined {
                    continue;
                }
                match sink.send_event(m.session, frame) {
                    Ok(()) => {
                        self.stats.frames_sent += 1;
                        self.stats.bytes_sent += frame.len() as u64;
                    }
                    Err(_) => m.needs_roster = true,
                }
            }
        }

        // 4. The snapshot, when this tick is a snapshot tick.
        if tick.0 % self.settings.snapshot_every.max(1) == 0 {
            self.write_table(tick);
            let closed = self.fan_out(sink);
            self.events.clear();
            // A closed queue is a connection that is gone, whether or not its session told us.
            for (key, session) in closed {
                self.disconnected(key, session);
            }
        }

        // 5. Housekeeping: expired seats, clients that stay behind, closing when empty.
        self.housekeeping(sink);
    }

    fn write_table(&mut self, tick: Tick) {
        let ack_field = self.game.ack_field();
        let table = self.history.push(tick);
        self.game.write_table(table);
        table.finish();
        for (_, m) in self.members.iter() {
            if let Some(p) = m.player {
                if let Some(row) = table.get_mut(p) {
                    // Acks are u32 sequence numbers carried as wrapping i32.
                    row.fields[ack_field] = m.last_seq as i32;
                }
            }
        }
    }

    fn fan_out(&mut self, sink: &mut impl Sink) -> Vec<(usize, SessionId)> {
        let needs_roster = self
            .members
            .iter()
            .any(|(_, m)| m.connected && (m.needs_joined || m.needs_roster));
        let roster = if needs_roster {
            self.roster()
        } else {
            Vec::new()
        };
        let host = self.host();
        let field_count = self.game.field_count();
        let LobbyState {
            settings,
            members,
            history,
            encoder,
            buf,
            events,
            stats,
            ..
        } = self;
        let mut closed = Vec::new();
        let (Some(cur), prev) = history.newest_and_previous() else {
            return closed;
        };
        let cur_tick = cur.tick;
        // The common case, one delta from the previous snapshot, is encoded once and shared.
        let mut shared: Option<Bytes> = None;
        // Clients that fell behind share one encoding per base tick (there are few distinct bases).
        let mut other: Vec<(Option<Tick>, Bytes)> = Vec::new();
        let mut roster_frame: Option<Bytes> = None;
        let send = |sink: &mut dyn FnMut(&Bytes) -> Result<(), SendError>,
                    frame: &Bytes,
                    stats: &mut LobbyStats| {
            let r = sink(frame);
            if r.is_ok() {
                stats.frames_sent += 1;
                stats.bytes_sent += frame.len() as u64;
            }
            r
        };
        for (key, m) in members.iter_mut() {
            if !m.connected {
                continue;
            }
            let session = m.session;
            let mut to = |f: &Bytes| sink.send(session, f);
            if m.needs_joined {
                buf.clear();
                write_joined(
                    buf,
                    settings,
                    m.player,
                    host,
                    field_count,
                    &roster,
                    encoder,
                    cur,
                    events,
                );
                let frame = Bytes::copy_from_slice(buf);
                if send(&mut to, &frame, stats).is_ok() {
                    m.needs_joined = false;
                    m.needs_roster = false;
                    m.last_sent = Some(cur_tick);
                    m.behind_since = None;
                    stats.full_snapshots += 1;
                    stats.snapshots_sent += 1;
                } else {
                    m.behind_since.get_or_insert(cur_tick);
                }
                continue;
            }
            if m.needs_roster {
                let frame = roster_frame
                    .get_or_insert_with(|| {
                        buf.clear();
                        encode_into(
                            buf,
                            &ServerMsg::Roster {
                                host,
                                roster: roster.clone(),
                            },
                        );
                        Bytes::copy_from_slice(buf)
                    })
                    .clone();
                if send(&mut to, &frame, stats).is_err() {
                    m.behind_since.get_or_insert(cur_tick);
                    stats.snapshots_skipped += 1;
                    continue;
                }
                m.needs_roster = false;
            }
            let base = m.last_sent.filter(|b| *b != cur_tick);
            let mut full = false;
            let frame = match (base, prev) {
                (Some(b), Some(p)) if b == p.tick => shared
                    .get_or_insert_with(|| {
                        buf.clear();
                        encoder.write_frame(buf, Some(p), cur, events);
                        Bytes::copy_from_slice(buf)
                    })
                    .clone(),
                _ => {
                    let base_table = base.and_then(|b| history.get(b));
                    let key = base_table.map(|t| t.tick);
                    full = key.is_none();
                    match other.iter().find(|(k, _)| *k == key) {
                        Some((_, f)) => f.clone(),
                        None => {
                            buf.clear();
                            encoder.write_frame(buf, base_table, cur, events);
                            let f = Bytes::copy_from_slice(buf);
                            other.push((key, f.clone()));
                            f
                        }
                    }
                }
            };
            match send(&mut to, &frame, stats) {
                Ok(()) => {
                    if full {
                        stats.full_snapshots += 1;
                    }
                    m.last_sent = Some(cur_tick);
                    m.behind_since = None;
                    stats.snapshots_sent += 1;
                }
                Err(SendError::Full) => {
                    m.behind_since.get_or_insert(cur_tick);
                    stats.snapshots_skipped += 1;
                }
                Err(SendError::Closed) => closed.push((key, session)),
            }
        }
        closed
    }

    fn housekeeping(&mut self, sink: &mut impl Sink) {
        let tick = self.tick;
        let grace = self.settings.reconnect_grace_ticks;
        let max_behind = self.settings.max_behind_ticks;
        let expired: Vec<usize> = self
            .members
            .iter()
            .filter(|(_, m)| !m.connected && tick.0.wrapping_sub(m.away_since.0) >= grace)
            .map(|(k, _)| k)
            .collect();
        for key in expired {
            self.remove_member(key, "seat expired");
        }
        let slow: Vec<(usize, SessionId)> = self
            .members
            .iter()
            .filter(|(_, m)| {
                m.connected
                    && m.behind_since
                        .is_some_and(|b| tick.0.wrapping_sub(b.0) >= max_behind)
            })
            .map(|(k, m)| (k, m.session))
            .collect();
        for (key, session) in slow {
            sink.kick(session, CloseCode::TooSlow);
            self.stats.slow_kicks += 1;
            self.effects.push(Effect::Detached(session));
            // Like any dropped connection: a player may come back with its token.
            self.disconnected(key, session);
        }
        if self.members.is_empty() {
            let since = *self.empty_since.get_or_insert(tick);
            if tick.0.wrapping_sub(since.0) >= self.settings.empty_close_ticks {
                self.closed = true;
            }
        }
    }
}

/// `Joined` = `[2, lobby, code, name, game, you, host, tick_rate, snapshot_rate, max_players,
/// field_count, roster, snapshot_body]`, the body written by the delta encoder from nothing.
#[allow(clippy::too_many_arguments)]
fn write_joined(
    out: &mut Vec<u8>,
    s: &LobbySettings,
    you: Option<EntityId>,
    host: Option<EntityId>,
    field_count: u8,
    roster: &[RosterEntry],
    encoder: &mut DeltaEncoder,
    cur: &EntityTable,
    events: &[GameEvent],
) {
    let _ = rmp::encode::write_array_len(out, 13);
    encode_into(out, &ServerMsg::JOINED);
    encode_into(out, &s.id);
    encode_into(out, &s.code);
    encode_into(out, &s.name);
    encode_into(out, &s.game.name());
    encode_into(out, &you);
    encode_into(out, &host);
    encode_into(out, &s.tick_rate);
    encode_into(out, &s.snapshot_rate());
    encode_into(out, &s.max_players);
    encode_into(out, &field_count);
    encode_into(out, &roster);
    encoder.write_body(out, None, cur, events);
}

/// The `Joined` message as a value (tests check `write_joined` against its serde encoding).
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
fn joined_info(
    s: &LobbySettings,
    you: Option<EntityId>,
    host: Option<EntityId>,
    field_count: u8,
    roster: Vec<RosterEntry>,
    cur: &EntityTable,
    events: &[GameEvent],
) -> crate::protocol::JoinedInfo {
    crate::protocol::JoinedInfo {
        lobby: s.id,
        code: s.code.clone(),
        name: s.name.clone(),
        game: s.game.name().to_owned(),
        you,
        host,
        tick_rate: s.tick_rate,
        snapshot_rate: s.snapshot_rate(),
        max_players: s.max_players,
        field_count,
        roster,
        snapshot: crate::snapshot::encode_body(None, cur, events),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{decode_server, encode, SnapshotBody};
    use crate::snapshot::apply;
    use std::collections::{HashMap, HashSet};

    #[derive(Default)]
    struct TestSink {
        frames: HashMap<SessionId, Vec<ServerMsg>>,
        raw: HashMap<SessionId, Vec<Bytes>>,
        full: HashSet<SessionId>,
        kicked: Vec<(SessionId, CloseCode)>,
    }

    impl Sink for TestSink {
        fn send(&mut self, to: SessionId, frame: &Bytes) -> Result<(), SendError> {
            if self.full.contains(&to) {
                return Err(SendError::Full);
            }
            self.raw.entry(to).or_default().push(frame.clone());
            self.frames
                .entry(to)
                .or_default()
                .push(decode_server(frame).expect("lobby frames decode"));
            Ok(())
        }
        fn kick(&mut self, to: SessionId, code: CloseCode) {
            self.kicked.push((to, code));
        }
    }

    impl TestSink {
        fn take(&mut self, s: SessionId) -> Vec<ServerMsg> {
            self.frames.remove(&s).unwrap_or_default()
        }
    }

    fn settings(game: GameKind, max_players: u16) -> LobbySettings {
        LobbySettings {
            id: LobbyId(1),
            code: "ABCDEF".into(),
            name: "test".into(),
            game,
            max_players,
            max_spectators: 2,
            public: true,
            tick_rate: 30,
            snapshot_every: 1,
            history: 8,
            empty_close_ticks: 10,
            reconnect_grace_ticks: 20,
            max_behind_ticks: 30,
            chat_burst: 2,
            chat_refill_ticks: 30,
            seed: 1,
        }
    }

    /// A client-side mirror fed by every frame a session received.
    struct Mirror {
        table: EntityTable,
    }

    impl Mirror {
        fn new(f: u8) -> Self {
            Mirror {
                table: EntityTable::new(f),
            }
        }
        fn feed(&mut self, msgs: &[ServerMsg]) {
            for m in msgs {
                let body: &SnapshotBody = match m {
                    ServerMsg::Joined(j) => &j.snapshot,
                    ServerMsg::Snapshot(b) => b,
                    _ => continue,
                };
                apply(&mut self.table, body).expect("applies");
            }
        }
    }

    fn s(n: u64) -> SessionId {
        SessionId(n)
    }

    #[test]
    fn joiners_get_joined_then_deltas_and_the_first_is_host() {
        let mut l = LobbyState::new(settings(GameKind::Walkers, 4));
        let mut sink = TestSink::default();
        let a = l
            .join(s(1), "ann".into(), false, Some("ta".into()))
            .unwrap();
        let b = l
            .join(s(2), "bob".into(), false, Some("tb".into()))
            .unwrap();
        l.tick(&mut sink);
        sink.take(s(2));
        let msgs = sink.take(s(1));
        let ServerMsg::Joined(j) = &msgs[0] else {
            panic!("{msgs:?}")
        };
        assert_eq!(j.you, a.player);
        assert_eq!(j.host, a.player);
        assert_eq!(j.roster.len(), 2);
        assert_eq!(j.snapshot.base_delta, 0);
        assert_eq!(l.host(), a.player);
        assert_eq!(b.player, Some(EntityId(2)));
        l.tick(&mut sink);
        let msgs = sink.take(s(2));
        assert!(
            matches!(&msgs[..], [ServerMsg::Snapshot(b)] if b.base_delta == 1),
            "{msgs:?}"
        );
        assert_eq!(
            l.take_effects(),
            vec![
                Effect::BindToken("ta".into()),
                Effect::BindToken("tb".into())
            ]
        );
    }

    #[test]
    fn hand_written_joined_matches_its_serde_encoding() {
        let mut l = LobbyState::new(settings(GameKind::Arena, 4));
        let mut sink = TestSink::default();
        l.join(s(1), "ann".into(), false, None).unwrap();
        l.tick(&mut sink);
        let raw = sink.raw[&s(1)][0].clone();
        let cur = l.world().unwrap().clone();
        let info = joined_info(
            l.settings(),
            Some(EntityId(1)),
            Some(EntityId(1)),
            9,
            l.roster(),
            &cur,
            &[],
        );
        assert_eq!(encode(&ServerMsg::Joined(Box::new(info))), raw.to_vec());
    }

    #[test]
    fn capacity_spectators_and_host_hand_over() {
        let mut l = LobbyState::new(settings(GameKind::Arena, 2));
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        let b = l.join(s(2), "bob".into(), false, None).unwrap();
        let err = l.join(s(3), "cy".into(), false, None).unwrap_err();
        assert_eq!(err.code, ErrorCode::LobbyFull);
        let spec = l.join(s(3), "cy".into(), true, None).unwrap();
        assert_eq!(spec.player, None);
        l.join(s(4), "dee".into(), true, None).unwrap();
        assert_eq!(
            l.join(s(5), "eve".into(), true, None).unwrap_err().code,
            ErrorCode::LobbyFull
        );
        l.tick(&mut sink);
        // The spectator sees both players and has no entity of its own.
        let ServerMsg::Joined(j) = &sink.take(s(3))[0] else {
            panic!()
        };
        assert_eq!((j.you, j.roster.len()), (None, 2));
        l.leave(a.member, s(1));
        assert_eq!(l.host(), b.player);
        l.tick(&mut sink);
        let msgs = sink.take(s(3));
        assert!(msgs.iter().any(|m| matches!(m, ServerMsg::LobbyEvent { kind: LobbyEventKind::Left, player, .. } if Some(*player) == a.player)));
        assert!(msgs.iter().any(|m| matches!(m, ServerMsg::LobbyEvent { kind: LobbyEventKind::HostChanged, player, .. } if Some(*player) == b.player)));
        // A seat freed is a seat to take.
        assert!(l.join(s(6), "fay".into(), false, None).is_ok());
    }

    #[test]
    fn empty_lobby_closes_after_its_grace() {
        let mut l = LobbyState::new(settings(GameKind::Walkers, 2));
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        for _ in 0..50 {
            l.tick(&mut sink);
        }
        assert!(!l.is_closed());
        l.leave(a.member, s(1));
        for _ in 0..9 {
            l.tick(&mut sink);
        }
        assert!(!l.is_closed());
        l.tick(&mut sink);
        assert!(l.is_closed());
        assert_eq!(
            l.join(s(2), "x".into(), false, None).unwrap_err().code,
            ErrorCode::LobbyNotFound
        );
    }

    #[test]
    fn acks_follow_inputs_and_stale_inputs_are_ignored() {
        let mut l = LobbyState::new(settings(GameKind::Walkers, 2));
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        let p = a.player.unwrap();
        l.tick(&mut sink);
        let x0 = l.world().unwrap().get(p).unwrap().fields[0];
        let inp = |seq, dx| PlayerInput {
            seq,
            dx,
            ..Default::default()
        };
        l.input(a.member, s(1), inp(5, 1));
        l.tick(&mut sink);
        let row = *l.world().unwrap().get(p).unwrap();
        assert_eq!(row.fields[2], 5);
        // An older sequence number changes nothing, not even the direction.
        l.input(a.member, s(1), inp(3, -1));
        l.tick(&mut sink);
        let row2 = *l.world().unwrap().get(p).unwrap();
        assert_eq!(row2.fields[2], 5);
        if x0 < 31000 {
            assert!(row2.fields[0] > row.fields[0]);
        }
        assert_eq!(l.take_stats().stale_inputs, 1);
        // Inputs from a session that is not this member's are dropped.
        l.input(a.member, s(99), inp(9, 0));
        l.tick(&mut sink);
        assert_eq!(l.world().unwrap().get(p).unwrap().fields[2], 5);
    }

    #[test]
    fn a_client_that_stops_reading_is_skipped_then_resynced_then_kicked() {
        let mut l = LobbyState::new(settings(GameKind::Walkers, 4));
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        let b = l.join(s(2), "bob".into(), false, None).unwrap();
        let mut mirror = Mirror::new(3);
        l.tick(&mut sink);
        mirror.feed(&sink.take(s(2)));
        // Bob's queue is full for 5 ticks while Ann moves and chats.
        sink.full.insert(s(2));
        for seq in 1..=5 {
            l.input(
                a.member,
                s(1),
                PlayerInput {
                    seq,
                    dx: 1,
                    dy: 1,
                    ..Default::default()
                },
            );
            if seq == 2 {
                l.chat(a.member, s(1), "hi", &mut sink);
            }
            l.tick(&mut sink);
        }
        sink.full.remove(&s(2));
        l.tick(&mut sink);
        let msgs = sink.take(s(2));
        // Missed chat means a roster refresh first, then a delta from the last tick it really got.
        assert!(matches!(msgs[0], ServerMsg::Roster { .. }), "{msgs:?}");
        let ServerMsg::Snapshot(body) = &msgs[1] else {
            panic!()
        };
        assert_eq!(body.base_delta, 6);
        mirror.feed(&msgs);
        assert_eq!(&mirror.table, l.world().unwrap());
        // Behind longer than the history holds: a full snapshot.
        sink.full.insert(s(2));
        for _ in 0..10 {
            l.tick(&mut sink);
        }
        sink.full.remove(&s(2));
        l.tick(&mut sink);
        let msgs = sink.take(s(2));
        assert!(
            matches!(&msgs[..], [ServerMsg::Snapshot(b)] if b.base_delta == 0),
            "{msgs:?}"
        );
        mirror.feed(&msgs);
        assert_eq!(&mirror.table, l.world().unwrap());
        // Behind for max_behind_ticks: kicked, and its seat is held like any dropped connection.
        sink.full.insert(s(2));
        for _ in 0..30 {
            l.tick(&mut sink);
        }
        assert!(sink.kicked.is_empty());
        l.tick(&mut sink);
        assert_eq!(sink.kicked, vec![(s(2), CloseCode::TooSlow)]);
        assert_eq!(l.take_stats().slow_kicks, 1);
        let _ = b;
    }

    #[test]
    fn chat_is_trimmed_limited_and_rate_limited() {
        let mut l = LobbyState::new(settings(GameKind::Arena, 4));
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        l.tick(&mut sink);
        sink.take(s(1));
        l.chat(a.member, s(1), "  hello\u{7}  ", &mut sink);
        l.chat(a.member, s(1), &"x".repeat(MAX_CHAT_LEN + 1), &mut sink);
        l.chat(a.member, s(1), "two", &mut sink);
        l.chat(a.member, s(1), "three", &mut sink);
        l.tick(&mut sink);
        let msgs = sink.take(s(1));
        let errors: Vec<u16> = msgs
            .iter()
            .filter_map(|m| match m {
                ServerMsg::Error { code, .. } => Some(*code),
                _ => None,
            })
            .collect();
        assert_eq!(
            errors,
            vec![
                ErrorCode::BadRequest.as_u16(),
                ErrorCode::RateLimited.as_u16()
            ]
        );
        let chats: Vec<&str> = msgs
            .iter()
            .filter_map(|m| match m {
                ServerMsg::Chat { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(chats, vec!["hello", "two"]);
        // The bucket refills with time (ticks).
        for _ in 0..30 {
            l.tick(&mut sink);
        }
        sink.take(s(1));
        l.chat(a.member, s(1), "later", &mut sink);
        l.tick(&mut sink);
        assert!(sink
            .take(s(1))
            .iter()
            .any(|m| matches!(m, ServerMsg::Chat { text, .. } if text == "later")));
    }

    #[test]
    fn a_chat_flood_gets_one_rate_limit_error_a_second() {
        let mut l = LobbyState::new(LobbySettings {
            chat_refill_ticks: 1000,
            ..settings(GameKind::Walkers, 2)
        });
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        l.tick(&mut sink);
        sink.take(s(1));
        let count = |msgs: &[ServerMsg]| {
            let errors = msgs
                .iter()
                .filter(|m| matches!(m, ServerMsg::Error { code, .. } if *code == ErrorCode::RateLimited.as_u16()))
                .count();
            let chats = msgs
                .iter()
                .filter(|m| matches!(m, ServerMsg::Chat { .. }))
                .count();
            (errors, chats)
        };
        for _ in 0..50 {
            l.chat(a.member, s(1), "spam", &mut sink);
        }
        l.tick(&mut sink);
        assert_eq!(count(&sink.take(s(1))), (1, 2));
        // Still flooding within the second: dropped without a word.
        for _ in 0..29 {
            l.chat(a.member, s(1), "spam", &mut sink);
            l.tick(&mut sink);
        }
        assert_eq!(count(&sink.take(s(1))), (0, 0));
        // A second later it is told again.
        l.tick(&mut sink);
        l.chat(a.member, s(1), "spam", &mut sink);
        l.tick(&mut sink);
        assert_eq!(count(&sink.take(s(1))), (1, 0));
    }

    #[test]
    fn only_the_host_restarts() {
        let mut l = LobbyState::new(settings(GameKind::Arena, 4));
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        let b = l.join(s(2), "bob".into(), false, None).unwrap();
        l.tick(&mut sink);
        sink.take(s(2));
        l.restart(b.member, s(2), &mut sink);
        assert!(
            matches!(&sink.take(s(2))[..], [ServerMsg::Error { code, .. }] if *code == ErrorCode::NotHost.as_u16())
        );
        l.restart(a.member, s(1), &mut sink);
        l.tick(&mut sink);
        assert!(sink.take(s(2)).iter().any(|m| matches!(
            m,
            ServerMsg::LobbyEvent {
                kind: LobbyEventKind::RoundRestarted,
                ..
            }
        )));
    }

    #[test]
    fn dropped_player_keeps_its_seat_and_resumes_with_its_token() {
        let mut l = LobbyState::new(settings(GameKind::Walkers, 4));
        let mut sink = TestSink::default();
        let a = l
            .join(s(1), "ann".into(), false, Some("t1".into()))
            .unwrap();
        l.input(
            a.member,
            s(1),
            PlayerInput {
                seq: 7,
                dx: 1,
                ..Default::default()
            },
        );
        l.tick(&mut sink);
        l.disconnected(a.member, s(1));
        l.take_effects();
        for _ in 0..5 {
            l.tick(&mut sink);
        }
        assert_eq!(l.players(), 1);
        assert!(l.resume(s(2), "nope", "t2".into(), &mut sink).is_err());
        let r = l.resume(s(2), "t1", "t2".into(), &mut sink).unwrap();
        assert_eq!(r.player, a.player);
        assert_eq!(
            l.take_effects(),
            vec![
                Effect::UnbindToken("t1".into()),
                Effect::BindToken("t2".into())
            ]
        );
        // Single use: the old token no longer works.
        assert!(l.resume(s(3), "t1", "t3".into(), &mut sink).is_err());
        sink.take(s(2));
        l.tick(&mut sink);
        let msgs = sink.take(s(2));
        let ServerMsg::Joined(j) = &msgs[0] else {
            panic!("{msgs:?}")
        };
        assert_eq!(j.you, a.player);
        // Its old inputs stay applied: the ack survives, so old sequence numbers stay ignored.
        let mut m = Mirror::new(3);
        m.feed(&msgs);
        assert_eq!(m.table.get(a.player.unwrap()).unwrap().fields[2], 7);
        // Drop again and let the grace period run out: the seat goes.
        l.disconnected(r.member, s(2));
        for _ in 0..20 {
            l.tick(&mut sink);
        }
        assert_eq!(l.players(), 0);
        assert!(l.take_effects().contains(&Effect::UnbindToken("t2".into())));
    }

    #[test]
    fn arena_applies_every_input_one_per_tick_walkers_only_the_latest() {
        let inp = |seq| PlayerInput {
            seq,
            dx: 1,
            ..Default::default()
        };
        let mut arena = LobbyState::new(settings(GameKind::Arena, 2));
        let mut sink = TestSink::default();
        let a = arena.join(s(1), "ann".into(), false, None).unwrap();
        arena.tick(&mut sink);
        // Two inputs land in one tick (jitter): each gets its own tick, in order.
        arena.input(a.member, s(1), inp(1));
        arena.input(a.member, s(1), inp(2));
        arena.tick(&mut sink);
        assert_eq!(
            arena
                .world()
                .unwrap()
                .get(a.player.unwrap())
                .unwrap()
                .fields[2],
            1
        );
        arena.tick(&mut sink);
        assert_eq!(
            arena
                .world()
                .unwrap()
                .get(a.player.unwrap())
                .unwrap()
                .fields[2],
            2
        );
        // A client far ahead is capped at the buffer: the oldest inputs go.
        for seq in 3..=9 {
            arena.input(a.member, s(1), inp(seq));
        }
        arena.tick(&mut sink);
        assert_eq!(
            arena
                .world()
                .unwrap()
                .get(a.player.unwrap())
                .unwrap()
                .fields[2],
            7
        );

        let mut walkers = LobbyState::new(settings(GameKind::Walkers, 2));
        let w = walkers.join(s(1), "ann".into(), false, None).unwrap();
        walkers.tick(&mut sink);
        walkers.input(w.member, s(1), inp(1));
        walkers.input(w.member, s(1), inp(2));
        walkers.tick(&mut sink);
        assert_eq!(
            walkers
                .world()
                .unwrap()
                .get(w.player.unwrap())
                .unwrap()
                .fields[2],
            2
        );
    }

    #[test]
    fn resync_sends_a_full_snapshot_next() {
        let mut l = LobbyState::new(settings(GameKind::Walkers, 2));
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        l.tick(&mut sink);
        l.tick(&mut sink);
        sink.take(s(1));
        l.resync(a.member, s(1));
        l.tick(&mut sink);
        assert!(matches!(&sink.take(s(1))[..], [ServerMsg::Snapshot(b)] if b.base_delta == 0));
        l.tick(&mut sink);
        assert!(matches!(&sink.take(s(1))[..], [ServerMsg::Snapshot(b)] if b.base_delta == 1));
    }

    #[test]
    fn every_mirror_equals_the_world_under_random_play() {
        // A deterministic pseudo-random walk over joins, leaves, inputs and full queues.
        let mut rng = fastrand::Rng::with_seed(1234);
        let mut l = LobbyState::new(LobbySettings {
            empty_close_ticks: u32::MAX,
            ..settings(GameKind::Arena, 6)
        });
        let mut sink = TestSink::default();
        let mut seated: Vec<(SessionId, usize, u32)> = Vec::new();
        let mut mirrors: HashMap<SessionId, Mirror> = HashMap::new();
        let mut next = 1;
        for _ in 0..600 {
            match rng.u8(..10) {
                0 if seated.len() < 6 => {
                    let sid = s(next);
                    next += 1;
                    let ok = l.join(sid, format!("p{}", sid.0), false, None).unwrap();
                    seated.push((sid, ok.member, 0));
                    mirrors.insert(sid, Mirror::new(9));
                }
                1 if !seated.is_empty() => {
                    let (sid, key, _) = seated.swap_remove(rng.usize(..seated.len()));
                    l.leave(key, sid);
                    mirrors.remove(&sid);
                    sink.full.remove(&sid);
                }
                2 if !seated.is_empty() => {
                    let sid = seated[rng.usize(..seated.len())].0;
                    if !sink.full.remove(&sid) {
                        sink.full.insert(sid);
                    }
                }
                _ => {}
            }
            for (sid, key, seq) in &mut seated {
                *seq += 1;
                let input = PlayerInput {
                    seq: *seq,
                    dx: rng.i8(-1..=1),
                    dy: rng.i8(-1..=1),
                    aim: rng.f32() * 6.0,
                    buttons: rng.u8(..2),
                };
                l.input(*key, *sid, input);
            }
            l.tick(&mut sink);
            // Clients kept full past the slow limit are kicked: they are gone for this test.
            for (sid, _) in sink.kicked.drain(..) {
                mirrors.remove(&sid);
                seated.retain(|(s, _, _)| *s != sid);
                sink.full.remove(&sid);
            }
            for (sid, m) in mirrors.iter_mut() {
                let msgs = sink.take(*sid);
                m.feed(&msgs);
                if !sink.full.contains(sid) {
                    assert_eq!(&m.table, l.world().unwrap());
                }
            }
        }
    }
}
