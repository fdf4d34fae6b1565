//! The pure lobby: seats, inputs, the game, chat and the tick, as a state machine.
//!
//! No sockets, no clock of its own: each tick is handed the time (since the lobby started) on
//! the caller's clock, and sending goes through a [`Sink`] that says whether a client took the
//! frame. That is what lets every rule here be unit-tested.

use super::fanout::{FanOut, TickWorld};
use super::history::History;
use super::input_queue::InputQueue;
use super::members::{ChatAllowance, Members};
use super::ports::{Effect, LobbyStats, Sink};
use super::settings::LobbySettings;
use crate::game::{Game, InputPolicy};
use crate::protocol::PlayerInput;
use crate::protocol::PROTOCOL_VERSION;
use crate::protocol::{
    ChatRole, CloseCode, EntityId, ErrorCode, Frame, GameEvent, LobbyEventKind, ServerMsg,
    SessionId, Tick, MAX_CHAT_LEN,
};
use crate::replay::{Batch, Header, RecordOptions, Recorded};
use crate::snapshot::EntityTable;
use std::time::Duration;

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

/// A seated player as an operator sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RosterPlayer {
    pub id: EntityId,
    pub name: String,
    /// Its connection dropped and its seat is held for the reconnect grace.
    pub away: bool,
}

/// Who is in a lobby, for an operator.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RosterView {
    pub players: Vec<RosterPlayer>,
    pub spectators: u16,
    pub host: Option<EntityId>,
}

/// Most bytes of an operator's reason passed on (the whole `Left` stays small).
pub const MAX_REASON_LEN: usize = 200;

/// What a kicked player's `Left` says: the operator's reason, cut to [`MAX_REASON_LEN`] bytes.
pub fn kicked_reason(reason: &str) -> String {
    let reason = reason.trim();
    let mut end = reason.len().min(MAX_REASON_LEN);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = &reason[..end];
    if reason.is_empty() {
        "kicked by an operator".to_owned()
    } else {
        format!("kicked by an operator: {reason}")
    }
}

/// A lobby's whole state. Methods are the commands; [`LobbyState::tick`] advances one tick.
pub struct LobbyState {
    settings: LobbySettings,
    /// The game, recording every call into it when the lobby records a replay.
    game: Recorded,
    /// The replay's file name (`None`: not recording).
    replay_file: Option<String>,
    tick: Tick,
    members: Members,
    history: History,
    events: Vec<GameEvent>,
    /// Lobby events and chat to broadcast before this tick's snapshot.
    broadcasts: Vec<Frame>,
    fanout: FanOut,
    effects: Vec<Effect>,
    /// The time the last tick was given: commands between ticks are stamped with it.
    now: Duration,
    empty_since: Option<Duration>,
    /// When the round was last restarted (restarts are limited to one a second).
    restarted_at: Option<Duration>,
    closed: bool,
    stats: LobbyStats,
    input_policy: InputPolicy,
}

/// The host may restart the round at most this often.
const RESTART_EVERY: Duration = Duration::from_secs(1);

impl LobbyState {
    pub fn new(settings: LobbySettings) -> Self {
        let game = settings.game.create(&settings.game_setup());
        Self::with_game(settings, Recorded::plain(game), None)
    }

    /// A lobby that records its match from the start (`start_unix_ms`: when it opened, for the
    /// replay's header and file name).
    pub fn recorded(settings: LobbySettings, opts: RecordOptions, start_unix_ms: u64) -> Self {
        let header = Header {
            game: settings.game.name().to_owned(),
            tick_rate: settings.tick_rate,
            seed: settings.seed,
            kill_goal: settings.kill_goal,
            round_seconds: settings.round_seconds,
            max_rewind_ms: u64::try_from(settings.max_rewind.as_millis()).unwrap_or(u64::MAX),
            protocol: PROTOCOL_VERSION,
            lobby_id: settings.id.0,
            code: settings.code.clone(),
            name: settings.name.clone(),
            start_unix_ms,
            checksum_every: opts.checksum_every,
            public: settings.public,
        };
        let game = settings.game.create(&settings.game_setup());
        let file = crate::replay::file_name(&header);
        Self::with_game(
            settings,
            Recorded::recording(game, &header, opts),
            Some(file),
        )
    }

    fn with_game(settings: LobbySettings, game: Recorded, replay_file: Option<String>) -> Self {
        let history = History::new(settings.history, game.field_count());
        LobbyState {
            input_policy: game.input_policy(),
            game,
            replay_file,
            tick: Tick(0),
            members: Members::default(),
            history,
            events: Vec::new(),
            broadcasts: Vec::new(),
            fanout: FanOut::new(),
            effects: Vec::new(),
            now: Duration::ZERO,
            empty_since: Some(Duration::ZERO),
            restarted_at: None,
            closed: false,
            stats: LobbyStats::default(),
            settings,
        }
    }

    pub fn settings(&self) -> &LobbySettings {
        &self.settings
    }

    pub fn players(&self) -> u16 {
        self.members.players()
    }

    pub fn spectators(&self) -> u16 {
        self.members.spectators()
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    pub fn host(&self) -> Option<EntityId> {
        self.members.host()
    }

    /// The newest world table (tests compare client mirrors against it).
    pub fn world(&self) -> Option<&EntityTable> {
        self.history.newest()
    }

    /// The world as it was sent at `tick`, while the history still holds it.
    pub fn world_at(&self, tick: Tick) -> Option<&EntityTable> {
        self.history.get(tick)
    }

    /// Every connected member's session, in the order the fan-out writes to them.
    pub fn sessions(&self) -> impl Iterator<Item = SessionId> + '_ {
        self.members
            .iter()
            .filter(|(_, m)| m.connected)
            .map(|(_, m)| m.session)
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn take_stats(&mut self) -> LobbyStats {
        std::mem::take(&mut self.stats)
    }

    /// The file this lobby's replay goes to (`None`: it does not record).
    pub fn replay_file(&self) -> Option<&str> {
        self.replay_file.as_deref()
    }

    /// Replay chunks ready for its file (the file's start first), if any, for the writer
    /// thread to encode and append.
    pub fn take_replay(&mut self) -> Option<Batch> {
        self.game.take()
    }

    /// Ends the replay (the lobby closes): its last chunk and end record wait in
    /// [`LobbyState::take_replay`].
    pub fn finish_replay(&mut self) {
        self.game.finish();
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
            if self.members.spectators() >= self.settings.max_spectators {
                return Err(JoinError::new(
                    ErrorCode::LobbyFull,
                    format!(
                        "the lobby has its {} spectators already",
                        self.settings.max_spectators
                    ),
                ));
            }
        } else if self.members.players() >= self.settings.max_players {
            return Err(JoinError::new(
                ErrorCode::LobbyFull,
                format!("the lobby is full ({} players)", self.settings.max_players),
            ));
        }
        let player = (!spectate).then(|| self.game.spawn_player());
        if let Some(p) = player {
            self.game.note_name(p, &name);
        }
        let token = if spectate { None } else { token };
        if let Some(t) = &token {
            self.effects.push(Effect::BindToken(t.clone()));
        }
        let key = self.members.insert(
            session,
            name.clone(),
            player,
            token,
            self.settings.chat_burst,
            self.now,
        );
        self.empty_since = None;
        if let Some(p) = player {
            self.lobby_event(LobbyEventKind::Joined, p, &name);
            self.settle_host();
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
        let Some(key) = self.members.by_token(old_token) else {
            return Err(JoinError::new(
                ErrorCode::ReconnectFailed,
                "that seat is gone (the reconnect grace period ran out, or it was left)",
            ));
        };
        let (old_session, connected) = match self.members.get(key) {
            Some(m) => (m.session, m.connected),
            None => unreachable!("by_token returned a live key"),
        };
        if connected {
            // The old connection is still open (a half-open socket we have not noticed yet):
            // the newest owner of the token wins.
            self.close_connection(old_session, CloseCode::Replaced, sink);
        }
        self.members.rebind(key, session, new_token.clone());
        self.effects.push(Effect::UnbindToken(old_token.to_owned()));
        self.effects.push(Effect::BindToken(new_token));
        let (player, name) = match self.members.get(key) {
            Some(m) => (m.player, m.name.clone()),
            None => (None, String::new()),
        };
        if let Some(p) = player {
            self.lobby_event(LobbyEventKind::Back, p, &name);
            self.settle_host();
        }
        Ok(JoinOk {
            member: key,
            player,
        })
    }

    /// The member leaves for good: its seat and entity go.
    pub fn leave(&mut self, key: usize, session: SessionId) {
        // Not `active`: a tick may already have seen the connection closed and marked the member
        // away. A leave still frees the seat.
        if self.members.get(key).is_some_and(|m| m.session == session) {
            self.remove_member(key);
        }
    }

    /// The member's connection dropped. Players keep their seat for the grace period.
    pub fn disconnected(&mut self, key: usize, session: SessionId) {
        let grace = self.settings.reconnect_grace;
        let now = self.now;
        let Some(m) = self.members.active(key, session) else {
            return;
        };
        if m.player.is_some() && m.token.is_some() && !grace.is_zero() {
            m.connected = false;
            m.away_since = now;
            m.inputs.stand_still();
            let (p, name) = (m.player.unwrap_or_default(), m.name.clone());
            self.lobby_event(LobbyEventKind::Away, p, &name);
            self.settle_host();
        } else {
            self.remove_member(key);
        }
    }

    fn remove_member(&mut self, key: usize) {
        let m = self.members.remove(key);
        if let Some(t) = m.token {
            self.effects.push(Effect::UnbindToken(t));
        }
        self.effects.push(Effect::Detached(m.session));
        if let Some(p) = m.player {
            self.game.despawn_player(p);
            self.lobby_event(LobbyEventKind::Left, p, &m.name);
        }
        self.settle_host();
        if self.members.is_empty() {
            self.empty_since = Some(self.now);
        }
    }

    /// Who is in the lobby, for an operator: seated players (by id, with whether they are away)
    /// and how many watch.
    pub fn roster_view(&self) -> RosterView {
        let mut players: Vec<RosterPlayer> = self
            .members
            .iter()
            .filter_map(|(_, m)| {
                m.player.map(|id| RosterPlayer {
                    id,
                    name: m.name.clone(),
                    away: !m.connected,
                })
            })
            .collect();
        players.sort_by_key(|p| p.id);
        RosterView {
            players,
            spectators: self.members.spectators(),
            host: self.members.host(),
        }
    }

    /// An operator removes player `player`: it is told why (`Left` with the operator's reason),
    /// its connection is closed with 4007, and its seat goes at once (not held for a
    /// reconnect). False when no such player is seated.
    pub fn kick_player(&mut self, player: EntityId, reason: &str, sink: &mut impl Sink) -> bool {
        let Some((key, session, connected)) = self
            .members
            .iter()
            .find(|(_, m)| m.player == Some(player))
            .map(|(k, m)| (k, m.session, m.connected))
        else {
            return false;
        };
        if connected {
            let left = Frame::encode(&ServerMsg::Left {
                lobby: self.settings.id,
                reason: kicked_reason(reason),
            });
            let _ = sink.send_event(session, &left);
            self.close_connection(session, CloseCode::Kicked, sink);
        }
        self.remove_member(key);
        true
    }

    /// An operator closes the lobby: no one joins any more, and it ends after its next tick
    /// (every member is then told `Left`, with the reason the caller gives them).
    pub fn close_now(&mut self) {
        self.closed = true;
    }

    /// Hands the lobby to a connected player if the host is gone or away, and tells everyone.
    fn settle_host(&mut self) {
        if let Some(h) = self.members.settle_host().and_then(|k| self.members.get(k)) {
            let (p, name) = (h.player.unwrap_or_default(), h.name.clone());
            self.lobby_event(LobbyEventKind::HostChanged, p, &name);
        }
    }

    /// The one way a connection is closed from inside the lobby: the client is told why and the
    /// connection stops routing here. What happens to the seat is the caller's business.
    fn close_connection(&mut self, session: SessionId, code: CloseCode, sink: &mut impl Sink) {
        sink.kick(session, code);
        self.effects.push(Effect::Detached(session));
    }

    /// Records a player's input; it applies at a later tick. Old sequence numbers are ignored.
    /// `earlier` are inputs before it that the client sent again (oldest first): the ones the
    /// lobby has not seen fill the gap.
    pub fn input(
        &mut self,
        key: usize,
        session: SessionId,
        input: PlayerInput,
        earlier: &[PlayerInput],
    ) {
        let buffer = match self.input_policy {
            InputPolicy::Latest => 1,
            InputPolicy::EachOnce { buffer, .. } => buffer,
        };
        let Some(m) = self.members.active(key, session) else {
            return;
        };
        if m.player.is_none() {
            return;
        }
        for e in earlier {
            m.inputs.fill(*e, buffer);
        }
        if m.inputs.push(input, buffer).is_err() {
            self.stats.stale_inputs += 1;
        }
        // Under `Latest` the newest replacing the one waiting is the policy, not a loss.
        let overflowed = m.inputs.take_overflowed();
        if matches!(self.input_policy, InputPolicy::EachOnce { .. }) {
            self.stats.overflowed_inputs += u64::from(overflowed);
        }
    }

    /// Asks for a full snapshot at the next snapshot tick (a client whose mirror went wrong).
    pub fn resync(&mut self, key: usize, session: SessionId) {
        if let Some(m) = self.members.active(key, session) {
            m.send.last_sent = None;
        }
    }

    /// A chat line to everyone in the lobby, rate-limited per member.
    pub fn chat(&mut self, key: usize, session: SessionId, text: &str, sink: &mut impl Sink) {
        let now = self.now;
        let (burst, refill) = (self.settings.chat_burst, self.settings.chat_refill);
        let Some(m) = self.members.active(key, session) else {
            return;
        };
        let clean: String = text.chars().filter(|c| !c.is_control()).collect();
        let clean = clean.trim();
        let error = if clean.is_empty() {
            Some((ErrorCode::BadRequest, "empty chat message".to_owned()))
        } else if text.len() > MAX_CHAT_LEN {
            Some((
                ErrorCode::BadRequest,
                format!("chat messages are at most {MAX_CHAT_LEN} bytes"),
            ))
        } else {
            match m.chat.take(now, burst, refill) {
                ChatAllowance::Send => None,
                ChatAllowance::DropSilently => return,
                ChatAllowance::Refuse => Some((
                    ErrorCode::RateLimited,
                    "slow down: too many chat messages".to_owned(),
                )),
            }
        };
        if let Some((code, message)) = error {
            let frame = self.fanout.frame(&ServerMsg::error(code, message));
            let _ = sink.send_event(session, &frame);
            return;
        }
        let msg = ServerMsg::Chat {
            from: m.player,
            name: m.name.clone(),
            text: clean.to_owned(),
            // Who may chat: every connected member, seated or watching. The role keeps a
            // spectator's line apart from a server announcement (both have no player id).
            role: match m.player {
                Some(_) => ChatRole::Player,
                None => ChatRole::Spectator,
            },
        };
        let frame = self.fanout.frame(&msg);
        self.broadcasts.push(frame);
    }

    /// The host starts a new round.
    pub fn restart(&mut self, key: usize, session: SessionId, sink: &mut impl Sink) {
        let Some(m) = self.members.active(key, session) else {
            return;
        };
        let (p, name) = (m.player.unwrap_or_default(), m.name.clone());
        if self.members.host_key() != Some(key) {
            let frame = self.fanout.frame(&ServerMsg::error(
                ErrorCode::NotHost,
                "only the host can restart the round",
            ));
            let _ = sink.send_event(session, &frame);
            return;
        }
        if self
            .restarted_at
            .is_some_and(|t| self.now.saturating_sub(t) < RESTART_EVERY)
        {
            // Every restart is an event for every member: a host must not make it a flood.
            let frame = self.fanout.frame(&ServerMsg::error(
                ErrorCode::RateLimited,
                "the round was restarted less than a second ago",
            ));
            let _ = sink.send_event(session, &frame);
            return;
        }
        self.restarted_at = Some(self.now);
        self.game.restart(self.tick);
        self.lobby_event(LobbyEventKind::RoundRestarted, p, &name);
    }

    fn lobby_event(&mut self, kind: LobbyEventKind, player: EntityId, name: &str) {
        let frame = self.fanout.frame(&ServerMsg::LobbyEvent {
            kind,
            player,
            name: name.to_owned(),
        });
        self.broadcasts.push(frame);
    }

    /// The lobby fell behind and skipped `ticks` ticks: each player is owed them, so the inputs
    /// that piled up meanwhile are made up with catch-up steps rather than waiting in line.
    pub fn ticks_skipped(&mut self, ticks: u32) {
        if let InputPolicy::EachOnce { buffer, .. } = self.input_policy {
            let cap = u32::try_from(buffer).unwrap_or(u32::MAX);
            for (_, m) in self.members.iter_mut() {
                m.inputs.earn(ticks, cap);
            }
        }
    }

    /// Advances one tick at `now` (time since the lobby started, on the caller's clock): inputs,
    /// step, table, fan-out, then the lobby's own housekeeping.
    pub fn tick(&mut self, now: Duration, sink: &mut impl Sink) {
        self.now = self.now.max(now);
        self.tick = Tick(self.tick.0.wrapping_add(1).max(1));
        let tick = self.tick;

        // 1. Inputs, as the game takes them (see `InputPolicy`).
        for (_, m) in self.members.iter_mut() {
            if let Some(p) = m.player {
                feed(&mut self.game, self.input_policy, p, &mut m.inputs);
            }
        }

        // 2. Step the world.
        self.game.step(tick, &mut self.events);

        // 3. Lobby events and chat go first, so names arrive before the entities they label.
        let broadcasts = std::mem::take(&mut self.broadcasts);
        self.fanout
            .broadcast(&mut self.members, &broadcasts, sink, &mut self.stats);

        // 4. The snapshot, when this tick is a snapshot tick.
        if tick.0 % self.settings.snapshot_every.max(1) == 0 {
            self.write_table(tick);
            let world = TickWorld {
                now: self.now,
                settings: &self.settings,
                history: &self.history,
                events: &self.events,
                field_count: self.game.field_count(),
            };
            let closed = self
                .fanout
                .snapshot(&mut self.members, &world, sink, &mut self.stats);
            self.events.clear();
            // A closed connection is gone, whether or not its session told us.
            for (key, session) in closed {
                self.disconnected(key, session);
            }
        }

        // 5. Housekeeping: expired seats, clients that stay behind, closing when empty.
        self.housekeeping(sink);
    }

    fn write_table(&mut self, tick: Tick) {
        let ack_field = self.game.ack_field();
        // How far back anyone's next delta may start: the oldest tick a connected member was
        // really sent (members that need a full snapshot need no table).
        let keep_age = self
            .members
            .iter()
            .filter(|(_, m)| m.connected)
            .filter_map(|(_, m)| m.send.last_sent)
            .map(|t| tick.0.wrapping_sub(t.0))
            .max()
            .unwrap_or(1);
        let table = self.history.push(tick, keep_age);
        self.game.write_table(table);
        table.finish();
        for (_, m) in self.members.iter() {
            if let Some(row) = m.player.and_then(|p| table.get_mut(p)) {
                // Acks are u32 sequence numbers carried as wrapping i32.
                row.fields[ack_field] = m.inputs.last_seq() as i32;
            }
        }
    }

    fn housekeeping(&mut self, sink: &mut impl Sink) {
        let now = self.now;
        let grace = self.settings.reconnect_grace;
        let max_behind = self.settings.slow_client;
        let expired: Vec<usize> = self
            .members
            .iter()
            .filter(|(_, m)| !m.connected && now.saturating_sub(m.away_since) >= grace)
            .map(|(k, _)| k)
            .collect();
        for key in expired {
            self.remove_member(key);
        }
        let slow: Vec<(usize, SessionId)> = self
            .members
            .iter()
            .filter(|(_, m)| {
                m.connected
                    && m.send
                        .behind_since
                        .is_some_and(|b| now.saturating_sub(b) >= max_behind)
            })
            .map(|(k, m)| (k, m.session))
            .collect();
        for (key, session) in slow {
            self.close_connection(session, CloseCode::TooSlow, sink);
            self.stats.slow_kicks += 1;
            // Like any dropped connection: a player may come back with its token.
            self.disconnected(key, session);
        }
        if self.members.is_empty() {
            let since = *self.empty_since.get_or_insert(now);
            if now.saturating_sub(since) >= self.settings.empty_close {
                self.closed = true;
            }
        }
    }
}

/// One tick's input for player `p`. `Latest`: the newest, or the last one holds. `EachOnce`: the
/// oldest waiting, and one more as a step of its own when a burst has piled up and the player is
/// owed a tick for it (ticks it spent idle, or that the lobby skipped); with none the player
/// idles. So no input is ever applied twice or skipped, its client's prediction holds, and a
/// client that sends faster than the ticks gains latency, not speed.
fn feed(game: &mut dyn Game, policy: InputPolicy, p: EntityId, inputs: &mut InputQueue) {
    let InputPolicy::EachOnce {
        buffer,
        catch_up_above,
    } = policy
    else {
        if let Some(input) = inputs.next() {
            game.apply_input(p, &input);
        }
        return;
    };
    let cap = u32::try_from(buffer).unwrap_or(u32::MAX);
    inputs.earn(1, cap);
    let Some(input) = inputs.next() else {
        game.idle(p);
        return;
    };
    inputs.stepped();
    game.apply_input(p, &input);
    if inputs.len() > catch_up_above {
        if let Some(next) = inputs.next_owed() {
            game.catch_up(p);
            game.apply_input(p, &next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::GameKind;
    use crate::lobby::ports::SendError;
    use crate::protocol::{decode_server, encode, LobbyId, RosterEntry, SnapshotBody};
    use crate::snapshot::apply;
    use std::collections::{HashMap, HashSet};

    #[derive(Default)]
    struct TestSink {
        frames: HashMap<SessionId, Vec<ServerMsg>>,
        raw: HashMap<SessionId, Vec<Frame>>,
        full: HashSet<SessionId>,
        kicked: Vec<(SessionId, CloseCode)>,
    }

    impl Sink for TestSink {
        fn send(&mut self, to: SessionId, frame: &Frame) -> Result<(), SendError> {
            if self.full.contains(&to) {
                return Err(SendError::Full);
            }
            self.raw.entry(to).or_default().push(frame.clone());
            self.frames
                .entry(to)
                .or_default()
                .push(decode_server(frame.payload()).expect("lobby frames decode"));
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

    /// The tests' tick period (a whole number of milliseconds, so deadlines land on ticks).
    const TICK: Duration = Duration::from_millis(33);

    /// One tick, on a clock that advances a period per tick.
    fn advance(l: &mut LobbyState, sink: &mut impl Sink) {
        let n = l.tick.0 + 1;
        l.tick(TICK * n, sink);
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
            empty_close: TICK * 10,
            reconnect_grace: TICK * 20,
            slow_client: TICK * 30,
            chat_burst: 2,
            chat_refill: TICK * 30,
            seed: 1,
            kill_goal: 10,
            round_seconds: 300,
            max_rewind: Duration::from_millis(200),
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
    fn an_operator_kick_says_why_closes_4007_and_frees_the_seat_at_once() {
        let mut l = LobbyState::new(settings(GameKind::Walkers, 2));
        let mut sink = TestSink::default();
        let a = l
            .join(s(1), "ann".into(), false, Some("ta".into()))
            .unwrap();
        let b = l
            .join(s(2), "bob".into(), false, Some("tb".into()))
            .unwrap();
        l.join(s(3), "eve".into(), true, None).unwrap();
        advance(&mut l, &mut sink);
        let view = l.roster_view();
        assert_eq!(view.players.len(), 2);
        assert_eq!(view.spectators, 1);
        assert_eq!(view.host, a.player);
        assert!(
            !l.kick_player(EntityId(99), "x", &mut sink),
            "nobody by that id"
        );
        let bob = b.player.unwrap();
        assert!(l.kick_player(bob, "  spam  ", &mut sink));
        assert_eq!(sink.kicked, vec![(s(2), CloseCode::Kicked)]);
        let told = sink.take(s(2));
        assert!(
            matches!(told.last(), Some(ServerMsg::Left { reason, .. }) if reason == "kicked by an operator: spam"),
            "{told:?}"
        );
        let effects = l.take_effects();
        assert!(
            effects.contains(&Effect::UnbindToken("tb".into())),
            "the token resumes nothing"
        );
        assert!(effects.contains(&Effect::Detached(s(2))));
        assert_eq!(l.players(), 1, "the seat is free at once, not held");
        assert!(l.join(s(4), "cat".into(), false, None).is_ok());
        assert_eq!(kicked_reason(""), "kicked by an operator");
        assert_eq!(
            kicked_reason(&"é".repeat(150)).len(),
            "kicked by an operator: ".len() + 200
        );
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
        advance(&mut l, &mut sink);
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
        advance(&mut l, &mut sink);
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
    fn joined_is_the_lobby_roster_and_a_full_snapshot_byte_for_byte() {
        let mut l = LobbyState::new(settings(GameKind::Arena, 4));
        let mut sink = TestSink::default();
        let me = l.join(s(1), "ann".into(), false, None).unwrap().player;
        advance(&mut l, &mut sink);
        let raw = sink.raw[&s(1)][0].clone();
        let cur = l.world().unwrap().clone();
        let st = l.settings();
        let info = crate::protocol::JoinedInfo {
            lobby: st.id,
            code: st.code.clone(),
            name: st.name.clone(),
            game: st.game.name().to_owned(),
            you: me,
            host: me,
            tick_rate: st.tick_rate,
            snapshot_rate: st.snapshot_rate(),
            max_players: st.max_players,
            field_count: cur.field_count(),
            roster: vec![RosterEntry {
                id: me.unwrap(),
                name: "ann".into(),
            }],
            snapshot: crate::snapshot::encode_body(None, &cur, &[]),
        };
        assert_eq!(encode(&ServerMsg::Joined(Box::new(info))), raw.payload());
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
        advance(&mut l, &mut sink);
        // The spectator sees both players and has no entity of its own.
        let ServerMsg::Joined(j) = &sink.take(s(3))[0] else {
            panic!()
        };
        assert_eq!((j.you, j.roster.len()), (None, 2));
        l.leave(a.member, s(1));
        assert_eq!(l.host(), b.player);
        advance(&mut l, &mut sink);
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
            advance(&mut l, &mut sink);
        }
        assert!(!l.is_closed());
        l.leave(a.member, s(1));
        for _ in 0..9 {
            advance(&mut l, &mut sink);
        }
        assert!(!l.is_closed());
        advance(&mut l, &mut sink);
        assert!(l.is_closed());
        assert_eq!(
            l.join(s(2), "x".into(), false, None).unwrap_err().code,
            ErrorCode::LobbyNotFound
        );
    }

    #[test]
    fn deadlines_are_kept_in_real_time_when_ticks_fall_behind() {
        // A lobby that falls behind runs fewer ticks than it should: its promises in seconds
        // (the reconnect grace, the empty-lobby close) are kept on the clock, not in ticks.
        let mut l = LobbyState::new(settings(GameKind::Arena, 2));
        let mut sink = TestSink::default();
        let a = l
            .join(s(1), "ann".into(), false, Some("ta".into()))
            .unwrap();
        let _b = l
            .join(s(2), "bob".into(), false, Some("tb".into()))
            .unwrap();
        l.tick(TICK, &mut sink);
        l.disconnected(a.member, s(1));
        // Half the grace passes in one (late) tick: the seat is still held.
        l.tick(TICK + TICK * 10, &mut sink);
        assert_eq!(l.players(), 2);
        // The whole grace has passed by the next tick, though only two ticks ran.
        l.tick(TICK + TICK * 20, &mut sink);
        assert_eq!(l.players(), 1, "the seat expired on time");
        // Empty for its close time, in two ticks: closed.
        l.leave(_b.member, s(2));
        l.tick(TICK * 22, &mut sink);
        assert!(!l.is_closed());
        l.tick(TICK * 32, &mut sink);
        assert!(l.is_closed());
    }

    #[test]
    fn acks_follow_inputs_and_stale_inputs_are_ignored() {
        let mut l = LobbyState::new(settings(GameKind::Walkers, 2));
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        let p = a.player.unwrap();
        advance(&mut l, &mut sink);
        let x0 = l.world().unwrap().get(p).unwrap().fields[0];
        let inp = |seq, dx| PlayerInput {
            seq,
            dx,
            ..Default::default()
        };
        l.input(a.member, s(1), inp(5, 1), &[]);
        advance(&mut l, &mut sink);
        let row = *l.world().unwrap().get(p).unwrap();
        assert_eq!(row.fields[2], 5);
        // An older sequence number changes nothing, not even the direction.
        l.input(a.member, s(1), inp(3, -1), &[]);
        advance(&mut l, &mut sink);
        let row2 = *l.world().unwrap().get(p).unwrap();
        assert_eq!(row2.fields[2], 5);
        if x0 < 31000 {
            assert!(row2.fields[0] > row.fields[0]);
        }
        assert_eq!(l.take_stats().stale_inputs, 1);
        // Inputs from a session that is not this member's are dropped.
        l.input(a.member, s(99), inp(9, 0), &[]);
        advance(&mut l, &mut sink);
        assert_eq!(l.world().unwrap().get(p).unwrap().fields[2], 5);
    }

    #[test]
    fn a_client_that_stops_reading_is_skipped_then_resynced_then_kicked() {
        let mut l = LobbyState::new(settings(GameKind::Walkers, 4));
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        let b = l.join(s(2), "bob".into(), false, None).unwrap();
        let mut mirror = Mirror::new(3);
        advance(&mut l, &mut sink);
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
                &[],
            );
            if seq == 2 {
                l.chat(a.member, s(1), "hi", &mut sink);
            }
            advance(&mut l, &mut sink);
        }
        sink.full.remove(&s(2));
        advance(&mut l, &mut sink);
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
            advance(&mut l, &mut sink);
        }
        sink.full.remove(&s(2));
        advance(&mut l, &mut sink);
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
            advance(&mut l, &mut sink);
        }
        assert!(sink.kicked.is_empty());
        advance(&mut l, &mut sink);
        assert_eq!(sink.kicked, vec![(s(2), CloseCode::TooSlow)]);
        assert_eq!(l.take_stats().slow_kicks, 1);
        let _ = b;
    }

    #[test]
    fn chat_is_trimmed_limited_and_rate_limited() {
        let mut l = LobbyState::new(settings(GameKind::Arena, 4));
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        advance(&mut l, &mut sink);
        sink.take(s(1));
        l.chat(a.member, s(1), "  hello\u{7}  ", &mut sink);
        l.chat(a.member, s(1), &"x".repeat(MAX_CHAT_LEN + 1), &mut sink);
        l.chat(a.member, s(1), "two", &mut sink);
        l.chat(a.member, s(1), "three", &mut sink);
        advance(&mut l, &mut sink);
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
            advance(&mut l, &mut sink);
        }
        sink.take(s(1));
        l.chat(a.member, s(1), "later", &mut sink);
        advance(&mut l, &mut sink);
        assert!(sink
            .take(s(1))
            .iter()
            .any(|m| matches!(m, ServerMsg::Chat { text, .. } if text == "later")));
    }

    #[test]
    fn a_chat_flood_gets_one_rate_limit_error_a_second() {
        let mut l = LobbyState::new(LobbySettings {
            chat_refill: TICK * 1000,
            ..settings(GameKind::Walkers, 2)
        });
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        advance(&mut l, &mut sink);
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
        advance(&mut l, &mut sink);
        assert_eq!(count(&sink.take(s(1))), (1, 2));
        // Still flooding within the second: dropped without a word.
        for _ in 0..29 {
            l.chat(a.member, s(1), "spam", &mut sink);
            advance(&mut l, &mut sink);
        }
        assert_eq!(count(&sink.take(s(1))), (0, 0));
        // A second later it is told again.
        advance(&mut l, &mut sink);
        l.chat(a.member, s(1), "spam", &mut sink);
        advance(&mut l, &mut sink);
        assert_eq!(count(&sink.take(s(1))), (1, 0));
    }

    #[test]
    fn only_the_host_restarts() {
        let mut l = LobbyState::new(settings(GameKind::Arena, 4));
        let mut sink = TestSink::default();
        let a = l.join(s(1), "ann".into(), false, None).unwrap();
        let b = l.join(s(2), "bob".into(), false, None).unwrap();
        advance(&mut l, &mut sink);
        sink.take(s(2));
        l.restart(b.member, s(2), &mut sink);
        assert!(
            matches!(&sink.take(s(2))[..], [ServerMsg::Error { code, .. }] if *code == ErrorCode::NotHost.as_u16())
        );
        l.restart(a.member, s(1), &mut sink);
        advance(&mut l, &mut sink);
        assert!(sink.take(s(2)).iter().any(|m| matches!(
            m,
            ServerMsg::LobbyEvent {
                kind: LobbyEventKind::RoundRestarted,
                ..
            }
        )));
        // Once a second at most: a host cannot flood everyone with restarts.
        sink.take(s(1));
        l.restart(a.member, s(1), &mut sink);
        assert!(
            matches!(&sink.take(s(1))[..], [ServerMsg::Error { code, .. }] if *code == ErrorCode::RateLimited.as_u16())
        );
        for _ in 0..30 {
            advance(&mut l, &mut sink);
        }
        sink.take(s(1));
        l.restart(a.member, s(1), &mut sink);
        advance(&mut l, &mut sink);
        assert!(sink.take(s(1)).iter().any(|m| matches!(
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
            &[],
        );
        advance(&mut l, &mut sink);
        l.disconnected(a.member, s(1));
        l.take_effects();
        for _ in 0..5 {
            advance(&mut l, &mut sink);
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
        advance(&mut l, &mut sink);
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
            advance(&mut l, &mut sink);
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
        advance(&mut arena, &mut sink);
        // Two inputs land in one tick (jitter): each gets its own tick, in order.
        arena.input(a.member, s(1), inp(1), &[]);
        arena.input(a.member, s(1), inp(2), &[]);
        advance(&mut arena, &mut sink);
        assert_eq!(
            arena
                .world()
                .unwrap()
                .get(a.player.unwrap())
                .unwrap()
                .fields[2],
            1
        );
        advance(&mut arena, &mut sink);
        assert_eq!(
            arena
                .world()
                .unwrap()
                .get(a.player.unwrap())
                .unwrap()
                .fields[2],
            2
        );
        let ack = |l: &LobbyState| l.world().unwrap().get(a.player.unwrap()).unwrap().fields[2];
        // No input for a tick: the ack stays (the player idles; nothing is repeated).
        advance(&mut arena, &mut sink);
        assert_eq!(ack(&arena), 2);
        // Four more idle ticks: the client stalled.
        for _ in 0..4 {
            advance(&mut arena, &mut sink);
        }
        // A burst (what a stalled client sends when it recovers) drains two a tick down to the
        // catch-up bound, then one a tick: every input applied, none twice.
        for seq in 3..=9 {
            arena.input(a.member, s(1), inp(seq), &[]);
        }
        let mut acks = Vec::new();
        for _ in 0..5 {
            advance(&mut arena, &mut sink);
            acks.push(ack(&arena));
        }
        assert_eq!(acks, [4, 6, 7, 8, 9]);
        // A client far ahead is capped at the buffer (8): the oldest inputs go.
        for seq in 10..=30 {
            arena.input(a.member, s(1), inp(seq), &[]);
        }
        advance(&mut arena, &mut sink);
        assert_eq!(
            ack(&arena),
            24,
            "23 (a catch-up step) and 24, of 23..=30 kept"
        );

        // A client sending two inputs every tick gains latency, not speed: owed only the one idle
        // tick before its first input, it takes one step a tick and one catch-up step in all.
        let mut fast = LobbyState::new(settings(GameKind::Arena, 2));
        let f = fast.join(s(1), "fay".into(), false, None).unwrap();
        advance(&mut fast, &mut sink);
        fast.take_stats();
        for t in 0..20u32 {
            fast.input(f.member, s(1), inp(2 * t + 1), &[]);
            fast.input(f.member, s(1), inp(2 * t + 2), &[]);
            advance(&mut fast, &mut sink);
        }
        let ack = fast.world().unwrap().get(f.player.unwrap()).unwrap().fields[2];
        // The ack counts the inputs dropped from the full buffer too (they were the oldest).
        let dropped = fast.take_stats().overflowed_inputs;
        assert_eq!(ack as u64 - dropped, 21, "20 ticks + 1 owed: steps taken");

        let mut walkers = LobbyState::new(settings(GameKind::Walkers, 2));
        let w = walkers.join(s(1), "ann".into(), false, None).unwrap();
        advance(&mut walkers, &mut sink);
        walkers.input(w.member, s(1), inp(1), &[]);
        walkers.input(w.member, s(1), inp(2), &[]);
        advance(&mut walkers, &mut sink);
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
        advance(&mut l, &mut sink);
        advance(&mut l, &mut sink);
        sink.take(s(1));
        l.resync(a.member, s(1));
        advance(&mut l, &mut sink);
        assert!(matches!(&sink.take(s(1))[..], [ServerMsg::Snapshot(b)] if b.base_delta == 0));
        advance(&mut l, &mut sink);
        assert!(matches!(&sink.take(s(1))[..], [ServerMsg::Snapshot(b)] if b.base_delta == 1));
    }

    #[test]
    fn every_mirror_equals_the_world_under_random_play() {
        // A deterministic pseudo-random walk over joins, leaves, inputs and full queues.
        let mut rng = fastrand::Rng::with_seed(1234);
        let mut l = LobbyState::new(LobbySettings {
            empty_close: Duration::MAX,
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
                    mirrors.insert(sid, Mirror::new(l.game.field_count()));
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
                    view_tick: 0,
                };
                l.input(*key, *sid, input, &[]);
            }
            advance(&mut l, &mut sink);
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
