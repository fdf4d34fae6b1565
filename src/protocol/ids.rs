//! Newtype ids shared by the wire format and the server: players, lobbies, ticks, sessions.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An entity in a lobby's world. A player's entity id is also its player id.
    EntityId(u32)
);
id_type!(
    /// A lobby, unique for the life of the server process.
    LobbyId(u32)
);
id_type!(
    /// A simulation tick number inside one lobby; tick 0 is never sent.
    Tick(u32)
);
id_type!(
    /// One WebSocket connection, unique for the life of the server process.
    SessionId(u64)
);

/// Players are entities: the id a client is told in `Joined` is its entity's id.
pub type PlayerId = EntityId;
