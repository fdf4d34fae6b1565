//! The wire contract: messages in each direction, error and close codes, and the MessagePack codec.
//!
//! Pure: nothing here touches tokio, sockets or the clock, so the bots, the tests and
//! the browser client's fixtures can all lean on it.

mod client_wire;
mod codec;
mod codes;
mod frame;
mod ids;
mod messages;
mod seq;
mod server_wire;
mod snapshot;

pub use codec::{decode_client, decode_server, encode, encode_into, DecodeError, MAX_DEPTH};
pub use codes::{CloseCode, ErrorCode};
pub use frame::{Frame, FrameBuf, MAX_HEADER};
pub use ids::{EntityId, LobbyId, PlayerId, SessionId, Tick};
pub use messages::{
    ChatRole, ClientLimits, ClientMsg, CreateLobby, GameEvent, Hello, JoinedInfo, LobbyEventKind,
    LobbyRef, LobbySummary, PlayerInput, RedirectThen, RosterEntry, ServerMsg, SnapshotBody,
};
pub use snapshot::{SnapshotMsg, SnapshotRef};

/// Bumped on any incompatible change to PROTOCOL.md; a client that says another number is refused.
pub const PROTOCOL_VERSION: u16 = 1;

/// Longest player name, in bytes of UTF-8, after trimming.
pub const MAX_NAME_LEN: usize = 24;
/// Longest lobby name, in bytes of UTF-8, after trimming.
pub const MAX_LOBBY_NAME_LEN: usize = 32;
/// Longest chat line, in bytes of UTF-8.
pub const MAX_CHAT_LEN: usize = 200;
/// Join codes are this many characters from [`CODE_ALPHABET`].
pub const CODE_LEN: usize = 6;
/// Upper-case letters and digits without the ones people confuse (0/O, 1/I/L).
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// Most earlier inputs one `Input` message may carry (more is a malformed frame).
pub const MAX_EARLIER_INPUTS: usize = 8;

/// Button bit in [`PlayerInput::buttons`]: fire.
pub const BUTTON_FIRE: u8 = 1;
