//! A client's mirror of one lobby: the entity table rebuilt from snapshots, the roster, who we are.

use crate::protocol::{EntityId, JoinedInfo, LobbyId, RosterEntry, ServerMsg, SnapshotBody, Tick};
use crate::snapshot::{apply, ApplyError, EntityTable};

/// What applying a message did.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// A snapshot advanced the mirror to this tick.
    Snapshot { tick: Tick, full: bool },
    /// We are in a (new) lobby.
    Joined,
    /// Not about the world (chat, errors, ...).
    Other,
}

/// The world as this client knows it.
#[derive(Clone, Debug)]
pub struct World {
    pub lobby: Option<LobbyId>,
    pub code: String,
    pub you: Option<EntityId>,
    pub host: Option<EntityId>,
    pub roster: Vec<RosterEntry>,
    pub table: EntityTable,
    ack_field: Option<usize>,
}

impl Default for World {
    fn default() -> Self {
        World {
            lobby: None,
            code: String::new(),
            you: None,
            host: None,
            roster: Vec::new(),
            table: EntityTable::new(1),
            ack_field: None,
        }
    }
}

impl World {
    pub fn tick(&self) -> Tick {
        self.table.tick
    }

    /// Our own last acked input sequence, read from our entity (walkers and arena carry it in field 2).
    pub fn own_ack(&self) -> Option<u32> {
        let f = self.ack_field?;
        self.you
            .and_then(|id| self.table.get(id))
            .map(|r| r.fields[f] as u32)
    }

    fn enter(&mut self, j: &JoinedInfo) -> Result<(), ApplyError> {
        self.lobby = Some(j.lobby);
        self.code = j.code.clone();
        self.you = j.you;
        self.host = j.host;
        self.roster = j.roster.clone();
        self.ack_field = match j.game.as_str() {
            "walkers" | "arena" => Some(2),
            _ => None,
        };
        self.table = EntityTable::new(j.field_count.clamp(1, crate::snapshot::MAX_FIELDS as u8));
        apply(&mut self.table, &j.snapshot)
    }

    fn snapshot(&mut self, b: &SnapshotBody) -> Result<Applied, ApplyError> {
        apply(&mut self.table, b)?;
        Ok(Applied::Snapshot {
            tick: b.tick,
            full: b.base_delta == 0,
        })
    }

    /// Applies any server message that changes what we know of the lobby.
    pub fn apply(&mut self, msg: &ServerMsg) -> Result<Applied, ApplyError> {
        match msg {
            ServerMsg::Joined(j) => {
                self.enter(j)?;
                Ok(Applied::Joined)
            }
            ServerMsg::Snapshot(b) => self.snapshot(b),
            ServerMsg::Roster { host, roster } => {
                self.host = *host;
                self.roster = roster.clone();
                Ok(Applied::Other)
            }
            ServerMsg::LobbyEvent { kind, player, name } => {
                use crate::protocol::LobbyEventKind::*;
                match kind {
                    Joined => {
                        if !self.roster.iter().any(|r| r.id == *player) {
                            self.roster.push(RosterEntry {
                                id: *player,
                                name: name.clone(),
                            });
                            self.roster.sort_by_key(|r| r.id);
                        }
                    }
                    Left => self.roster.retain(|r| r.id != *player),
                    HostChanged => self.host = Some(*player),
                    Away | Back | RoundRestarted => {}
                }
                Ok(Applied::Other)
            }
            ServerMsg::Left { .. } => {
                *self = World::default();
                Ok(Applied::Other)
            }
            _ => Ok(Applied::Other),
        }
    }
}
