//! tickrelay: an authoritative multiplayer game state relay (fixed-tick lobbies, MessagePack over
//! WebSocket, delta snapshots). The server, the bots and the tests all drive the same `run` functions.
#![forbid(unsafe_code)]

pub mod bots;
pub mod client;
pub mod cluster;
pub mod config;
pub mod game;
pub mod lobby;
pub mod metrics;
pub mod netsim;
pub mod protocol;
pub mod replay;
pub mod server;
pub mod session;
pub mod shard;
pub mod snapshot;
pub mod telemetry;
