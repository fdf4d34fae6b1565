//! Lobbies: a pure state machine (`state`), the async actor that runs its tick loop (`actor`),
//! and the registry that creates, lists, finds and quick-joins them (`registry`).

mod actor;
mod code;
mod history;
mod registry;
mod state;

pub use actor::{ClientLink, JoinReply, LobbyCommand, LobbyHandle, Outbound, EVENT_HEADROOM};
pub use code::{generate_code, normalize_code};
pub use registry::{LobbyShared, Registry, RegistryError, MAX_LISTED};
pub use state::{
    Effect, JoinError, JoinOk, LobbySettings, LobbyState, LobbyStats, SendError, Sink,
};
