//! Lobbies: the pure state machine (`state`, built from `members`, `input_queue`, `fanout`,
//! `history`), its ports to the outside (`ports`), the task that runs its tick loop on a shard
//! (`actor`), and the directory that creates, lists, finds and quick-joins them (`registry`).

mod actor;
mod code;
mod fanout;
mod history;
mod input_queue;
mod members;
mod ports;
mod registry;
#[cfg(test)]
mod replay_tests;
mod settings;
mod state;

pub use actor::{end as end_lobby, run as run_lobby, LobbyCell, LobbyRun, SharedLobby, PHASES};
pub use code::{generate_code, normalize_code};
pub use ports::{Announce, Directory, Effect, LobbyStats, MemberLink, SendError, Sink};
pub use registry::{
    AdminOp, AdminReply, Host, LobbyHandle, LobbyShared, Registry, RegistryError, MAX_LISTED,
};
pub use settings::{LobbySettings, Rounds};
pub use state::{kicked_reason, JoinError, JoinOk, LobbyState, RosterPlayer, RosterView};
