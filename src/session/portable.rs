//! A session's own state (all of it `Send`, everything but its socket) and the form it travels
//! in when it moves to the shard where its lobby runs.

use super::flood::FloodGuard;
use crate::game::GameKind;
use crate::netsim::NetSim;
use crate::protocol::{LobbyId, SessionId};
use bytes::Bytes;
use std::any::Any;
use std::collections::VecDeque;
use tokio_tungstenite::tungstenite::protocol::WebSocketContext;

/// A session's own state: everything but its socket, and all of it `Send`, so it can move.
pub struct Session {
    pub(super) id: SessionId,
    pub(super) span: tracing::Span,
    pub(super) ws: WebSocketContext,
    pub(super) name: String,
    /// The reconnect token this connection was issued in `Welcome`.
    pub(super) token: String,
    pub(super) decode_errors: u32,
    pub(super) flood: FloodGuard,
    /// Counted in the `connections` gauge (game connections; not refusals or `/echo`).
    pub(super) counted: bool,
    /// Released when the connection ends: its slot under the server's connection limits.
    pub(super) _guard: Box<dyn Any + Send>,
}

/// A session on its way to the shard where its lobby runs.
pub struct Moving {
    pub(super) session: Session,
    pub(super) stream: std::net::TcpStream,
    pub(super) held: VecDeque<Bytes>,
    pub(super) netsim: Option<NetSim>,
    pub(super) then: Pending,
}

/// What a moving session does first when it arrives.
#[derive(Debug)]
pub enum Pending {
    Join {
        lobby: LobbyId,
        spectate: bool,
        /// Quick-join: the game, and how many shards it has tried (a bound on moving around).
        quick: Option<(GameKind, u8)>,
    },
    Resume {
        lobby: LobbyId,
        old_token: String,
    },
}
