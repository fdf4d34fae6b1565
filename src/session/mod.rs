//! One client connection on its shard. Outside a lobby its own task reads and answers it (the
//! hello first, straight-line, then requests). Inside a lobby the lobby's tick reads it (one
//! `recv` a tick, its inputs pushed straight onto its queue on the same thread) and writes it,
//! and the task sleeps until something only it can do comes up: a kick, the lobby ending, a leave,
//! bytes to flush, the close. A span per connection; the session logic knows the socket only
//! through its [`writer::Conn`].
//!
//! A session that enters a lobby running on another shard moves there once: its state (which is
//! `Send`) and its socket travel in a [`Moving`], and it carries on from where it was.

mod close;
mod cluster_ops;
mod echo;
mod flood;
mod hello;
mod lobby_ops;
mod names;
pub mod portable;
mod reading;
mod requests;
mod socket;
mod task;
mod wait;
pub mod writer;

pub use cluster_ops::merge_listing;
pub use portable::{Moving, Pending, Session};
pub use socket::Socket;
pub use task::{arrive, serve};
pub use writer::Conn;

use crate::lobby::{MemberLink, SendError, SharedLobby};
use crate::protocol::{CloseCode, EntityId, Frame, LobbyId};
use crate::shard::local::Shard;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use writer::Bounds;

/// Lobby events and chat may use this many frames more than `limits.outbound_queue` (a burst of
/// joins must not cost a client that reads everything its snapshot).
pub const EVENT_HEADROOM: usize = 64;

/// The WebSocket settings every route uses: small buffers and hard caps instead of tungstenite's
/// defaults (128 KiB read buffer, 16 MiB frames, 64 MiB messages).
pub fn ws_config(limits: &crate::config::Limits) -> WebSocketConfig {
    WebSocketConfig::default()
        // Read in 512-byte chunks instead of 128 KiB: client messages are a few dozen bytes (larger
        // ones take more reads), and tungstenite zero-fills its spare chunk before every read.
        .read_buffer_size(512)
        // Only control frames are written through tungstenite (everything else is pre-framed).
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(Some(limits.max_message_bytes))
        .max_frame_size(Some(limits.max_message_bytes))
        .accept_unmasked_frames(false)
}

fn bounds(limits: &crate::config::Limits) -> Bounds {
    Bounds {
        events: limits.outbound_queue + EVENT_HEADROOM,
        backlog: limits.outbound_queue.max(1),
    }
}

/// Why the session stopped where it runs.
#[derive(Debug)]
enum Exit {
    /// We close the socket with this code and its reason.
    Close(CloseCode),
    /// The client sent its close frame: answer it and go.
    ClientClosed,
    /// The socket failed or ended: nothing more to say.
    Gone,
    /// Enter a lobby on shard `.0`.
    Move(usize, Pending),
}

/// The lobby this connection is in.
struct InLobby {
    cell: SharedLobby,
    id: LobbyId,
    member: usize,
    player: Option<EntityId>,
}

/// A session running on a shard: its state, its connection, its lobby.
struct Live {
    shard: Rc<Shard>,
    s: Session,
    conn: Rc<Conn>,
    lobby: Option<InLobby>,
    /// This session's link, as its lobby holds it.
    me: Weak<Link>,
    /// Set when the lobby's read of this connection found that the session must end or move:
    /// the task carries it out.
    exit: Option<Exit>,
    /// A question for the cluster's directory: the task asks it, and nothing more is read
    /// from the client until the answer is in.
    ask: Option<cluster_ops::Ask>,
}

/// A session as its task and its lobby share it: the lobby reads it (`pump`) and writes to its
/// connection; the task does everything that may wait.
pub struct Link {
    conn: Rc<Conn>,
    live: RefCell<Live>,
}

impl MemberLink for Link {
    fn pump(&self) {
        // Never re-entered: the task never calls into a lobby that pumps it, and the tick reads
        // each member once, holding nothing of the lobby.
        self.live.borrow_mut().pump();
    }

    fn send(&self, frame: &Frame) -> Result<(), SendError> {
        self.conn.send(frame)
    }

    fn send_event(&self, frame: &Frame) -> Result<(), SendError> {
        self.conn.send_event(frame)
    }

    fn kick(&self, code: CloseCode) {
        self.conn.close_with(code);
    }

    fn lobby_gone(&self, reason: &str) {
        self.conn.lobby_gone(reason);
    }
}
