//! tickrelay: an authoritative multiplayer game state relay (fixed-tick lobbies, MessagePack over
//! WebSocket, delta snapshots). The server, the bots and the tests all drive the same `run` functions.
#![forbid(unsafe_code)]

pub mod game;
pub mod protocol;
pub mod snapshot;
