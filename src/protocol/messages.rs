//! Messages by direction. Each frame is one MessagePack array whose first element is the type number.
//!
//! Serialization is written by hand over serde's tuple/seq API so the layout on the wire is exactly
//! the flat array PROTOCOL.md documents: no maps of strings, no enum wrappers.

use super::ids::{EntityId, LobbyId, PlayerId, SessionId, Tick};
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// `Hello`: the first message on every connection.
#[derive(Clone, Debug, PartialEq)]
pub struct Hello {
    pub version: u16,
    pub name: String,
    /// A token from an earlier `Welcome`, to resume the seat it was issued for.
    pub reconnect_token: Option<String>,
}

/// `CreateLobby`: a new lobby; the creator joins it as host.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateLobby {
    pub name: String,
    pub game: String,
    pub max_players: u16,
    pub public: bool,
}

/// A lobby named by its numeric id or its 6-character join code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LobbyRef {
    Id(LobbyId),
    Code(String),
}

/// One input: what the player's controls say at the moment it was sent.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct PlayerInput {
    /// Increases by one per input; the server acks the highest it has applied.
    pub seq: u32,
    /// Movement direction, each -1, 0 or 1.
    pub dx: i8,
    pub dy: i8,
    /// Aim angle in radians (arena only; walkers ignores it). Must be finite.
    pub aim: f32,
    /// Held buttons, a bit set: [`super::BUTTON_FIRE`].
    pub buttons: u8,
}

/// Client to server.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientMsg {
    Hello(Hello),
    ListLobbies {
        game: Option<String>,
    },
    CreateLobby(CreateLobby),
    Join(LobbyRef),
    Spectate(LobbyRef),
    QuickJoin {
        game: String,
    },
    Leave,
    Input(PlayerInput),
    Chat {
        text: String,
    },
    Ping {
        nonce: u64,
    },
    RestartRound,
    /// "My mirror went wrong": the next snapshot to this client is a full one.
    Resync,
}

impl ClientMsg {
    pub const HELLO: u8 = 0;
    pub const LIST_LOBBIES: u8 = 1;
    pub const CREATE_LOBBY: u8 = 2;
    pub const JOIN: u8 = 3;
    pub const SPECTATE: u8 = 4;
    pub const QUICK_JOIN: u8 = 5;
    pub const LEAVE: u8 = 6;
    pub const INPUT: u8 = 7;
    pub const CHAT: u8 = 8;
    pub const PING: u8 = 9;
    pub const RESTART_ROUND: u8 = 10;
    pub const RESYNC: u8 = 11;

    /// A short name for logs and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMsg::Hello(_) => "hello",
            ClientMsg::ListLobbies { .. } => "list_lobbies",
            ClientMsg::CreateLobby(_) => "create_lobby",
            ClientMsg::Join(_) => "join",
            ClientMsg::Spectate(_) => "spectate",
            ClientMsg::QuickJoin { .. } => "quick_join",
            ClientMsg::Leave => "leave",
            ClientMsg::Input(_) => "input",
            ClientMsg::Chat { .. } => "chat",
            ClientMsg::Ping { .. } => "ping",
            ClientMsg::RestartRound => "restart_round",
            ClientMsg::Resync => "resync",
        }
    }
}

/// A public lobby as listed by `LobbyList` and `/api/lobbies`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LobbySummary {
    pub id: LobbyId,
    pub code: String,
    pub name: String,
    pub game: String,
    pub players: u16,
    pub max_players: u16,
}

/// A seated player: id and display name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterEntry {
    pub id: PlayerId,
    pub name: String,
}

/// Something that happened in a tick that state alone does not show (a hit, a kill).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameEvent {
    pub kind: u8,
    pub a: u32,
    pub b: u32,
}

/// The world at `tick` as a delta from the tick `tick - base_delta` the client holds
/// (`base_delta == 0`: a full snapshot from nothing). PROTOCOL.md explains `entities`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SnapshotBody {
    pub tick: Tick,
    pub base_delta: u32,
    pub removed: Vec<EntityId>,
    /// Flat ints: per changed entity a header `(id_gap << field_count) | mask`, then one
    /// wrapping i32 difference per set mask bit.
    pub entities: Vec<i64>,
    pub events: Vec<GameEvent>,
}

/// What happened to whom in the lobby.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum LobbyEventKind {
    Joined = 0,
    Left = 1,
    HostChanged = 2,
    /// Lost its connection; its seat is held for the reconnect grace period.
    Away = 3,
    /// Came back with its reconnect token.
    Back = 4,
    /// The host restarted the round (scores reset).
    RoundRestarted = 5,
}

impl LobbyEventKind {
    pub fn from_u8(v: u8) -> Option<Self> {
        use LobbyEventKind::*;
        Some(match v {
            0 => Joined,
            1 => Left,
            2 => HostChanged,
            3 => Away,
            4 => Back,
            5 => RoundRestarted,
            _ => return None,
        })
    }
}

/// `Joined`: you are in a lobby (as a player, or as a spectator when `you` is nil).
#[derive(Clone, Debug, PartialEq)]
pub struct JoinedInfo {
    pub lobby: LobbyId,
    pub code: String,
    pub name: String,
    pub game: String,
    pub you: Option<PlayerId>,
    pub host: Option<PlayerId>,
    pub tick_rate: u16,
    pub snapshot_rate: u16,
    pub max_players: u16,
    /// How many quantized fields each entity has in this game (the mask width).
    pub field_count: u8,
    pub roster: Vec<RosterEntry>,
    pub snapshot: SnapshotBody,
}

/// Server to client.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerMsg {
    Welcome {
        version: u16,
        session: SessionId,
        reconnect_token: String,
        tick_rate: u16,
        snapshot_rate: u16,
    },
    LobbyList(Vec<LobbySummary>),
    Joined(Box<JoinedInfo>),
    Snapshot(SnapshotBody),
    LobbyEvent {
        kind: LobbyEventKind,
        player: PlayerId,
        name: String,
    },
    Chat {
        from: Option<PlayerId>,
        name: String,
        text: String,
    },
    Pong {
        nonce: u64,
    },
    Error {
        code: u16,
        message: String,
    },
    Left {
        lobby: LobbyId,
        reason: String,
    },
    Roster {
        host: Option<PlayerId>,
        roster: Vec<RosterEntry>,
    },
}

impl ServerMsg {
    pub const WELCOME: u8 = 0;
    pub const LOBBY_LIST: u8 = 1;
    pub const JOINED: u8 = 2;
    pub const SNAPSHOT: u8 = 3;
    pub const LOBBY_EVENT: u8 = 4;
    pub const CHAT: u8 = 5;
    pub const PONG: u8 = 6;
    pub const ERROR: u8 = 7;
    pub const LEFT: u8 = 8;
    pub const ROSTER: u8 = 9;

    pub fn error(code: super::ErrorCode, message: impl Into<String>) -> Self {
        ServerMsg::Error {
            code: code.as_u16(),
            message: message.into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Serialization: flat arrays.

impl Serialize for LobbyRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LobbyRef::Id(id) => s.serialize_u32(id.0),
            LobbyRef::Code(code) => s.serialize_str(code),
        }
    }
}

impl<'de> Deserialize<'de> for LobbyRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LobbyRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a lobby id (uint) or a join code (str)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LobbyRef, E> {
                u32::try_from(v)
                    .map(|v| LobbyRef::Id(LobbyId(v)))
                    .map_err(|_| E::custom("lobby id out of range"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LobbyRef, E> {
                u32::try_from(v)
                    .map(|v| LobbyRef::Id(LobbyId(v)))
                    .map_err(|_| E::custom("lobby id out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LobbyRef, E> {
                Ok(LobbyRef::Code(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A snapshot borrowed from wherever it was computed (the delta encoder's scratch space, or a
/// [`SnapshotBody`]): the one place the snapshot's fields are laid out on the wire.
#[derive(Clone, Copy, Debug)]
pub struct SnapshotRef<'a> {
    pub tick: Tick,
    pub base_delta: u32,
    pub removed: &'a [EntityId],
    pub entities: &'a [i64],
    pub events: &'a [GameEvent],
}

impl SnapshotRef<'_> {
    const FIELDS: usize = 5;

    fn fields<T: SerializeTuple>(&self, t: &mut T) -> Result<(), T::Error> {
        t.serialize_element(&self.tick)?;
        t.serialize_element(&self.base_delta)?;
        t.serialize_element(self.removed)?;
        t.serialize_element(self.entities)?;
        t.serialize_element(self.events)
    }
}

/// The body alone, `[tick, base_delta, removed, entities, events]`, as `Joined` embeds it.
impl Serialize for SnapshotRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(Self::FIELDS)?;
        self.fields(&mut t)?;
        t.end()
    }
}

/// A whole `Snapshot` message, `[3, tick, base_delta, removed, entities, events]`.
#[derive(Clone, Copy, Debug)]
pub struct SnapshotMsg<'a>(pub SnapshotRef<'a>);

impl Serialize for SnapshotMsg<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(1 + SnapshotRef::FIELDS)?;
        t.serialize_element(&ServerMsg::SNAPSHOT)?;
        self.0.fields(&mut t)?;
        t.end()
    }
}

impl SnapshotBody {
    pub fn as_ref(&self) -> SnapshotRef<'_> {
        SnapshotRef {
            tick: self.tick,
            base_delta: self.base_delta,
            removed: &self.removed,
            entities: &self.entities,
            events: &self.events,
        }
    }
}

impl Serialize for SnapshotBody {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_ref().serialize(s)
    }
}

impl<'de> Deserialize<'de> for SnapshotBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SnapshotBody;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a snapshot array [tick, base_delta, removed, entities, events]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SnapshotBody, A::Error> {
                let body = snapshot_fields(&mut seq)?;
                skip_rest(&mut seq)?;
                Ok(body)
            }
        }
        d.deserialize_seq(V)
    }
}

fn snapshot_fields<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<SnapshotBody, A::Error> {
    Ok(SnapshotBody {
        tick: req(seq, "tick")?,
        base_delta: req(seq, "base_delta")?,
        removed: req(seq, "removed")?,
        entities: req(seq, "entities")?,
        events: req(seq, "events")?,
    })
}

/// Reads the next element, failing with a message that names the missing field.
fn req<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(
    seq: &mut A,
    field: &'static str,
) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::custom(format_args!("missing field `{field}`")))
}

/// Reads an optional trailing element: absent and nil both mean `None`.
fn opt<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(seq: &mut A) -> Result<Option<T>, A::Error> {
    Ok(seq.next_element::<Option<T>>()?.flatten())
}

/// Later protocol versions may append fields; skip them (depth-limited by the codec).
fn skip_rest<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

impl Serialize for ClientMsg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ClientMsg::Hello(h) => {
                let mut t = s.serialize_tuple(4)?;
                t.serialize_element(&Self::HELLO)?;
                t.serialize_element(&h.version)?;
                t.serialize_element(&h.name)?;
                t.serialize_element(&h.reconnect_token)?;
                t.end()
            }
            ClientMsg::ListLobbies { game } => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::LIST_LOBBIES)?;
                t.serialize_element(game)?;
                t.end()
            }
            ClientMsg::CreateLobby(c) => {
                let mut t = s.serialize_tuple(5)?;
                t.serialize_element(&Self::CREATE_LOBBY)?;
                t.serialize_element(&c.name)?;
                t.serialize_element(&c.game)?;
                t.serialize_element(&c.max_players)?;
                t.serialize_element(&c.public)?;
                t.end()
            }
            ClientMsg::Join(r) | ClientMsg::Spectate(r) => {
                let tag = if matches!(self, ClientMsg::Join(_)) {
                    Self::JOIN
                } else {
                    Self::SPECTATE
                };
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&tag)?;
                t.serialize_element(r)?;
                t.end()
            }
            ClientMsg::QuickJoin { game } => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::QUICK_JOIN)?;
                t.serialize_element(game)?;
                t.end()
            }
            ClientMsg::Leave => {
                let mut t = s.serialize_tuple(1)?;
                t.serialize_element(&Self::LEAVE)?;
                t.end()
            }
            ClientMsg::Input(i) => {
                // Walkers-style inputs (no aim, no buttons) stay 4 elements long on the wire.
                let short = i.aim == 0.0 && i.buttons == 0;
                let mut t = s.serialize_tuple(if short { 4 } else { 6 })?;
                t.serialize_element(&Self::INPUT)?;
                t.serialize_element(&i.seq)?;
                t.serialize_element(&i.dx)?;
                t.serialize_element(&i.dy)?;
                if !short {
                    t.serialize_element(&i.aim)?;
                    t.serialize_element(&i.buttons)?;
                }
                t.end()
            }
            ClientMsg::Chat { text } => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::CHAT)?;
                t.serialize_element(text)?;
                t.end()
            }
            ClientMsg::Ping { nonce } => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::PING)?;
                t.serialize_element(nonce)?;
                t.end()
            }
            ClientMsg::RestartRound | ClientMsg::Resync => {
                let tag = if matches!(self, ClientMsg::Resync) {
                    Self::RESYNC
                } else {
                    Self::RESTART_ROUND
                };
                let mut t = s.serialize_tuple(1)?;
                t.serialize_element(&tag)?;
                t.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ClientMsg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ClientMsg;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a message array [type, ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ClientMsg, A::Error> {
                // Read wide so any unknown number, not just one that fits a u8, is "unknown type".
                let wide: u64 = req(&mut seq, "type")?;
                let tag = u8::try_from(wide)
                    .map_err(|_| de::Error::custom(format_args!("unknown message type {wide}")))?;
                let msg = match tag {
                    ClientMsg::HELLO => ClientMsg::Hello(Hello {
                        version: req(&mut seq, "version")?,
                        name: req(&mut seq, "name")?,
                        reconnect_token: opt(&mut seq)?,
                    }),
                    ClientMsg::LIST_LOBBIES => ClientMsg::ListLobbies {
                        game: opt(&mut seq)?,
                    },
                    ClientMsg::CREATE_LOBBY => ClientMsg::CreateLobby(CreateLobby {
                        name: req(&mut seq, "name")?,
                        game: req(&mut seq, "game")?,
                        max_players: req(&mut seq, "max_players")?,
                        public: req(&mut seq, "public")?,
                    }),
                    ClientMsg::JOIN => ClientMsg::Join(req(&mut seq, "lobby")?),
                    ClientMsg::SPECTATE => ClientMsg::Spectate(req(&mut seq, "lobby")?),
                    ClientMsg::QUICK_JOIN => ClientMsg::QuickJoin {
                        game: req(&mut seq, "game")?,
                    },
                    ClientMsg::LEAVE => ClientMsg::Leave,
                    ClientMsg::INPUT => ClientMsg::Input(PlayerInput {
                        seq: req(&mut seq, "seq")?,
                        dx: req(&mut seq, "dx")?,
                        dy: req(&mut seq, "dy")?,
                        aim: opt(&mut seq)?.unwrap_or(0.0),
                        buttons: opt(&mut seq)?.unwrap_or(0),
                    }),
                    ClientMsg::CHAT => ClientMsg::Chat {
                        text: req(&mut seq, "text")?,
                    },
                    ClientMsg::PING => ClientMsg::Ping {
                        nonce: req(&mut seq, "nonce")?,
                    },
                    ClientMsg::RESTART_ROUND => ClientMsg::RestartRound,
                    ClientMsg::RESYNC => ClientMsg::Resync,
                    other => {
                        return Err(de::Error::custom(format_args!(
                            "unknown message type {other}"
                        )))
                    }
                };
                skip_rest(&mut seq)?;
                Ok(msg)
            }
        }
        d.deserialize_seq(V)
    }
}

impl Serialize for ServerMsg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ServerMsg::Welcome {
                version,
                session,
                reconnect_token,
                tick_rate,
                snapshot_rate,
            } => {
                let mut t = s.serialize_tuple(6)?;
                t.serialize_element(&Self::WELCOME)?;
                t.serialize_element(version)?;
                t.serialize_element(session)?;
                t.serialize_element(reconnect_token)?;
                t.serialize_element(tick_rate)?;
                t.serialize_element(snapshot_rate)?;
                t.end()
            }
            ServerMsg::LobbyList(list) => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::LOBBY_LIST)?;
                t.serialize_element(list)?;
                t.end()
            }
            ServerMsg::Joined(j) => {
                let mut t = s.serialize_tuple(13)?;
                t.serialize_element(&Self::JOINED)?;
                t.serialize_element(&j.lobby)?;
                t.serialize_element(&j.code)?;
                t.serialize_element(&j.name)?;
                t.serialize_element(&j.game)?;
                t.serialize_element(&j.you)?;
                t.serialize_element(&j.host)?;
                t.serialize_element(&j.tick_rate)?;
                t.serialize_element(&j.snapshot_rate)?;
                t.serialize_element(&j.max_players)?;
                t.serialize_element(&j.field_count)?;
                t.serialize_element(&j.roster)?;
                t.serialize_element(&j.snapshot)?;
                t.end()
            }
            ServerMsg::Snapshot(b) => SnapshotMsg(b.as_ref()).serialize(s),
            ServerMsg::LobbyEvent { kind, player, name } => {
                let mut t = s.serialize_tuple(4)?;
                t.serialize_element(&Self::LOBBY_EVENT)?;
                t.serialize_element(&(*kind as u8))?;
                t.serialize_element(player)?;
                t.serialize_element(name)?;
                t.end()
            }
            ServerMsg::Chat { from, name, text } => {
                let mut t = s.serialize_tuple(4)?;
                t.serialize_element(&Self::CHAT)?;
                t.serialize_element(from)?;
                t.serialize_element(name)?;
                t.serialize_element(text)?;
                t.end()
            }
            ServerMsg::Pong { nonce } => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::PONG)?;
                t.serialize_element(nonce)?;
                t.end()
            }
            ServerMsg::Error { code, message } => {
                let mut t = s.serialize_tuple(3)?;
                t.serialize_element(&Self::ERROR)?;
                t.serialize_element(code)?;
                t.serialize_element(message)?;
                t.end()
            }
            ServerMsg::Left { lobby, reason } => {
                let mut t = s.serialize_tuple(3)?;
                t.serialize_element(&Self::LEFT)?;
                t.serialize_element(lobby)?;
                t.serialize_element(reason)?;
                t.end()
            }
            ServerMsg::Roster { host, roster } => {
                let mut t = s.serialize_tuple(3)?;
                t.serialize_element(&Self::ROSTER)?;
                t.serialize_element(host)?;
                t.serialize_element(roster)?;
                t.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ServerMsg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ServerMsg;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a message array [type, ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ServerMsg, A::Error> {
                // Read wide so any unknown number, not just one that fits a u8, is "unknown type".
                let wide: u64 = req(&mut seq, "type")?;
                let tag = u8::try_from(wide)
                    .map_err(|_| de::Error::custom(format_args!("unknown message type {wide}")))?;
                let msg = match tag {
                    ServerMsg::WELCOME => ServerMsg::Welcome {
                        version: req(&mut seq, "version")?,
                        session: req(&mut seq, "session")?,
                        reconnect_token: req(&mut seq, "reconnect_token")?,
                        tick_rate: req(&mut seq, "tick_rate")?,
                        snapshot_rate: req(&mut seq, "snapshot_rate")?,
                    },
                    ServerMsg::LOBBY_LIST => ServerMsg::LobbyList(req(&mut seq, "lobbies")?),
                    ServerMsg::JOINED => ServerMsg::Joined(Box::new(JoinedInfo {
                        lobby: req(&mut seq, "lobby")?,
                        code: req(&mut seq, "code")?,
                        name: req(&mut seq, "name")?,
                        game: req(&mut seq, "game")?,
                        you: req(&mut seq, "you")?,
                        host: req(&mut seq, "host")?,
                        tick_rate: req(&mut seq, "tick_rate")?,
                        snapshot_rate: req(&mut seq, "snapshot_rate")?,
                        max_players: req(&mut seq, "max_players")?,
                        field_count: req(&mut seq, "field_count")?,
                        roster: req(&mut seq, "roster")?,
                        snapshot: req(&mut seq, "snapshot")?,
                    })),
                    ServerMsg::SNAPSHOT => ServerMsg::Snapshot(snapshot_fields(&mut seq)?),
                    ServerMsg::LOBBY_EVENT => {
                        let kind: u8 = req(&mut seq, "kind")?;
                        ServerMsg::LobbyEvent {
                            kind: LobbyEventKind::from_u8(kind).ok_or_else(|| {
                                de::Error::custom(format_args!("unknown lobby event {kind}"))
                            })?,
                            player: req(&mut seq, "player")?,
                            name: req(&mut seq, "name")?,
                        }
                    }
                    ServerMsg::CHAT => ServerMsg::Chat {
                        from: req(&mut seq, "from")?,
                        name: req(&mut seq, "name")?,
                        text: req(&mut seq, "text")?,
                    },
                    ServerMsg::PONG => ServerMsg::Pong {
                        nonce: req(&mut seq, "nonce")?,
                    },
                    ServerMsg::ERROR => ServerMsg::Error {
                        code: req(&mut seq, "code")?,
                        message: req(&mut seq, "message")?,
                    },
                    ServerMsg::LEFT => ServerMsg::Left {
                        lobby: req(&mut seq, "lobby")?,
                        reason: req(&mut seq, "reason")?,
                    },
                    ServerMsg::ROSTER => ServerMsg::Roster {
                        host: req(&mut seq, "host")?,
                        roster: req(&mut seq, "roster")?,
                    },
                    other => {
                        return Err(de::Error::custom(format_args!(
                            "unknown message type {other}"
                        )))
                    }
                };
                skip_rest(&mut seq)?;
                Ok(msg)
            }
        }
        d.deserialize_seq(V)
    }
}
