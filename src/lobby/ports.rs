//! The lobby's ports to the world outside it: where its frames go (`Sink`), what it asks of the
//! directory (`Effect`, applied through `Directory`), and the counters it reports.
//!
//! The lobby itself stays pure: it never touches a socket, a lock or the clock. The shard's actor
//! implements these over real connections and the registry; tests implement them over vectors.

use crate::protocol::{CloseCode, Frame, LobbyId, SessionId};

/// Why a frame was not handed to a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The client cannot take it now (its socket is full): skip it this time.
    Full,
    /// The client's connection is gone.
    Closed,
}

/// Where the lobby's frames go.
pub trait Sink {
    /// A snapshot (or `Joined`, or `Roster`): refused with `Full` when the client is behind, never
    /// queued behind what it has not read yet.
    fn send(&mut self, to: SessionId, frame: &Frame) -> Result<(), SendError>;
    /// Anything else: lobby events, chat, replies. These come in bursts (a dozen players joining
    /// in one tick), so a sink may give them room that snapshots do not get: a burst must not
    /// make a client that reads everything look behind and miss the tick's snapshot.
    fn send_event(&mut self, to: SessionId, frame: &Frame) -> Result<(), SendError> {
        self.send(to, frame)
    }
    /// Closes a client's connection with a reason (it never blocks, whatever the client holds).
    fn kick(&mut self, to: SessionId, code: CloseCode);
}

/// A member's connection as the lobby's actor holds it: read by the tick, then written by it.
///
/// Implemented by the session. Nothing here ever waits: a socket that cannot take a frame now says
/// `Full`, and a read takes what has arrived, up to a budget.
pub trait MemberLink {
    /// Reads and handles what the client sent since the last tick, up to a budget (its inputs
    /// reach the lobby through [`crate::lobby::LobbyCell`]'s methods, on this same thread). The
    /// tick calls it before the lobby steps, and never while it holds the lobby.
    fn pump(&self);
    /// A snapshot (or `Joined`, `Roster`): written now, or refused with `Full`.
    fn send(&self, frame: &Frame) -> Result<(), SendError>;
    /// A lobby event, chat line or reply: written now, or held (bounded) behind what is unsent.
    fn send_event(&self, frame: &Frame) -> Result<(), SendError>;
    /// Closes the connection with this code and its reason.
    fn kick(&self, code: CloseCode);
    /// The lobby ended while this connection was in it (closed empty, by an operator, or
    /// failed; not when the server stops, whose close says so); `reason` is what its `Left` says.
    fn lobby_gone(&self, reason: &str);
}

/// Requests the lobby makes of the directory outside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// This reconnect token now resumes a seat in this lobby.
    BindToken(String),
    /// This token no longer resumes anything.
    UnbindToken(String),
    /// The member left the lobby (its connection should stop routing here).
    Detached(SessionId),
}

/// The directory a lobby reports to: reconnect tokens, its player count, its end.
pub trait Directory {
    fn bind_token(&self, token: String, lobby: LobbyId);
    fn unbind_token(&self, token: &str, lobby: LobbyId);
    /// The lobby has ended: it must no longer be found.
    fn remove(&self, lobby: LobbyId);
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
    /// Inputs pushed out of a full input buffer by a burst.
    pub overflowed_inputs: u64,
    pub slow_kicks: u64,
}

/// What the registry tells a shared directory about this node's lobbies, when the node is one of a
/// cluster's (implemented by `cluster::Cluster`; a node on its own has none).
pub trait Announce: Send + Sync {
    /// The URL this node's lobbies are listed with.
    fn url(&self) -> &str;
    /// A lobby closed: take it out of the directory.
    fn closed(&self, lobby: &super::LobbyShared);
    /// The node filled up, got room again, or began to drain: tell the directory now.
    fn capacity_changed(&self);
    /// The node drains: no new lobbies or quick-joins here.
    fn draining(&self);
}
