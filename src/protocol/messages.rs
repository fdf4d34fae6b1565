//! Messages by direction: the types and their type numbers. Each frame is one MessagePack array
//! whose first element is the type number; `client_wire`, `server_wire` and `snapshot` write the
//! serde impls by hand so the layout is exactly the flat array PROTOCOL.md documents.

use super::ids::{EntityId, LobbyId, PlayerId, SessionId, Tick};
use serde::{Deserialize, Serialize};

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
    /// Arena: first to this many eliminations wins the round (`None`: the default, 10; 0: no goal).
    pub kill_goal: Option<u16>,
    /// Arena: a round's length in seconds (`None`: the default, 300; 0: no clock).
    pub round_seconds: Option<u16>,
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
    /// The server tick the client was drawing the others at when it sent this input (0: not
    /// said). The arena judges this input's shots against where targets were at that tick.
    pub view_tick: u32,
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
    /// The newest input, and up to [`super::MAX_EARLIER_INPUTS`] before it (oldest first) that
    /// the server may not have yet: a client that stalled sends what the stall held back.
    Input {
        input: PlayerInput,
        earlier: Vec<PlayerInput>,
    },
    Chat {
        text: String,
    },
    Ping {
        nonce: u64,
    },
    RestartRound,
    /// "My mirror went wrong": the next snapshot to this client is a full one.
    Resync,
    /// Takes the seat a `Redirect` reserved on this node: the ticket exactly as it came.
    Redeem {
        ticket: Vec<u8>,
    },
}

impl ClientMsg {
    /// An `Input` with no earlier inputs riding along.
    pub fn input(input: PlayerInput) -> Self {
        ClientMsg::Input {
            input,
            earlier: Vec::new(),
        }
    }

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
    pub const REDEEM: u8 = 12;

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
            ClientMsg::Input { .. } => "input",
            ClientMsg::Chat { .. } => "chat",
            ClientMsg::Ping { .. } => "ping",
            ClientMsg::RestartRound => "restart_round",
            ClientMsg::Resync => "resync",
            ClientMsg::Redeem { .. } => "redeem",
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
    /// The WebSocket URL of the node the lobby runs on (in a cluster; nil on a single server).
    /// Appended in protocol version 1's cluster additions: a longer array reads the same.
    #[serde(default)]
    pub url: Option<String>,
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

/// Who spoke a chat line: a server `Chat` says so in its last field, so a spectator named
/// "server" can never pass for the server itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ChatRole {
    /// A seated player: `from` is its player id.
    Player = 0,
    /// A spectator: `from` is nil, `name` is its display name.
    Spectator = 1,
    /// The server itself (an announcement): `from` is nil.
    Server = 2,
}

impl ChatRole {
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => ChatRole::Player,
            1 => ChatRole::Spectator,
            2 => ChatRole::Server,
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

/// The limits a well-behaved client must respect, as this server is configured: `Welcome`'s last
/// field, so a client learns them instead of guessing. Durations are whole milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientLimits {
    /// Largest WebSocket message (and frame) a client may send, in bytes.
    pub max_message_bytes: u32,
    /// The shared message rate limit: sustained messages per second, and the burst.
    pub messages_per_second: u32,
    pub message_burst: u32,
    /// Chat: a burst of this many lines, then one more every `chat_refill_ms`.
    pub chat_burst: u32,
    pub chat_refill_ms: u32,
    /// How long a dropped player's seat is held for a resume (0: not at all).
    pub reconnect_grace_ms: u32,
    /// How long a client may stay unable to take its snapshots before it is closed (4002).
    pub slow_client_timeout_ms: u32,
    /// How long a connection may stay silent (not even a pong) before it is closed (4004).
    pub idle_timeout_ms: u32,
    /// Malformed frames tolerated per connection; one more closes it (4001).
    pub max_decode_errors: u32,
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
        /// Appended in protocol version 1: random per server process start, so a client that
        /// comes back can tell a restarted server (its lobby is gone) from an expired seat.
        server_id: String,
        /// Appended in protocol version 1.
        limits: ClientLimits,
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
        /// Appended in protocol version 1: who spoke.
        role: ChatRole,
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
    /// What you asked for is on another node of the cluster: connect to `url`, say `Hello`
    /// again, then do what `then` says. Only a cluster node sends it.
    Redirect {
        url: String,
        then: RedirectThen,
        /// The lobby the ticket is for (0 when `then` is not `Redeem`).
        lobby: LobbyId,
        /// A seat ticket for `Redeem` there (empty when `then` is not `Redeem`).
        ticket: Vec<u8>,
    },
}

/// What a client does on the node a `Redirect` names, after its `Hello`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RedirectThen {
    /// Send `Redeem` with the ticket: it joins, spectates or quick-joins as you asked.
    Redeem = 0,
    /// Send the same request (`CreateLobby` or `QuickJoin`) again there: this node opens no
    /// lobby now (it is draining or at its limit).
    Retry = 1,
    /// Your reconnect token's seat is there: put the token in that `Hello`.
    Resume = 2,
}

impl RedirectThen {
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => RedirectThen::Redeem,
            1 => RedirectThen::Retry,
            2 => RedirectThen::Resume,
            _ => return None,
        })
    }
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
    pub const REDIRECT: u8 = 10;

    pub fn error(code: super::ErrorCode, message: impl Into<String>) -> Self {
        ServerMsg::Error {
            code: code.as_u16(),
            message: message.into(),
        }
    }
}
