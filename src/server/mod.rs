//! The server: bind, accept with limits and deadlines, route HTTP, upgrade WebSockets, shut down.
//!
//! `run(listener, config, shutdown)` takes its listener and its shutdown signal as arguments, so
//! the binary, the tests and the bots' self-tests all start the same server the same way.

mod accept;
mod admin;
mod app;
mod drain;
mod http;
mod identity;
mod limits;
mod replay_cache;
mod replays;
mod sampler;
mod ws;

pub use accept::{bind, run, Server};
pub use limits::ConnectionLimits;
