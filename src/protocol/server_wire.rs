//! The server-to-client messages as flat MessagePack arrays, both ways (the server writes them,
//! the bots and tests read them).

use super::messages::{
    ChatRole, ClientLimits, JoinedInfo, LobbyEventKind, RedirectThen, ServerMsg,
};
use super::seq::{message_type, req, skip_rest, Bin, BinBuf};
use super::snapshot::{snapshot_fields, SnapshotMsg};
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

impl Serialize for ServerMsg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ServerMsg::Welcome {
                version,
                session,
                reconnect_token,
                tick_rate,
                snapshot_rate,
                server_id,
                limits,
            } => {
                let mut t = s.serialize_tuple(8)?;
                t.serialize_element(&Self::WELCOME)?;
                t.serialize_element(version)?;
                t.serialize_element(session)?;
                t.serialize_element(reconnect_token)?;
                t.serialize_element(tick_rate)?;
                t.serialize_element(snapshot_rate)?;
                t.serialize_element(server_id)?;
                t.serialize_element(limits)?;
                t.end()
            }
            ServerMsg::LobbyList(list) => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::LOBBY_LIST)?;
                t.serialize_element(list)?;
                t.end()
            }
            ServerMsg::Joined(j) => {
                let mut t = s.serialize_tuple(13)?;
                t.serialize_element(&Self::JOINED)?;
                t.serialize_element(&j.lobby)?;
                t.serialize_element(&j.code)?;
                t.serialize_element(&j.name)?;
                t.serialize_element(&j.game)?;
                t.serialize_element(&j.you)?;
                t.serialize_element(&j.host)?;
                t.serialize_element(&j.tick_rate)?;
                t.serialize_element(&j.snapshot_rate)?;
                t.serialize_element(&j.max_players)?;
                t.serialize_element(&j.field_count)?;
                t.serialize_element(&j.roster)?;
                t.serialize_element(&j.snapshot)?;
                t.end()
            }
            ServerMsg::Snapshot(b) => SnapshotMsg(b.as_ref()).serialize(s),
            ServerMsg::LobbyEvent { kind, player, name } => {
                let mut t = s.serialize_tuple(4)?;
                t.serialize_element(&Self::LOBBY_EVENT)?;
                t.serialize_element(&(*kind as u8))?;
                t.serialize_element(player)?;
                t.serialize_element(name)?;
                t.end()
            }
            ServerMsg::Chat {
                from,
                name,
                text,
                role,
            } => {
                let mut t = s.serialize_tuple(5)?;
                t.serialize_element(&Self::CHAT)?;
                t.serialize_element(from)?;
                t.serialize_element(name)?;
                t.serialize_element(text)?;
                t.serialize_element(&(*role as u8))?;
                t.end()
            }
            ServerMsg::Pong { nonce } => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::PONG)?;
                t.serialize_element(nonce)?;
                t.end()
            }
            ServerMsg::Error { code, message } => {
                let mut t = s.serialize_tuple(3)?;
                t.serialize_element(&Self::ERROR)?;
                t.serialize_element(code)?;
                t.serialize_element(message)?;
                t.end()
            }
            ServerMsg::Left { lobby, reason } => {
                let mut t = s.serialize_tuple(3)?;
                t.serialize_element(&Self::LEFT)?;
                t.serialize_element(lobby)?;
                t.serialize_element(reason)?;
                t.end()
            }
            ServerMsg::Roster { host, roster } => {
                let mut t = s.serialize_tuple(3)?;
                t.serialize_element(&Self::ROSTER)?;
                t.serialize_element(host)?;
                t.serialize_element(roster)?;
                t.end()
            }
            ServerMsg::Redirect {
                url,
                then,
                lobby,
                ticket,
            } => {
                let mut t = s.serialize_tuple(5)?;
                t.serialize_element(&Self::REDIRECT)?;
                t.serialize_element(url)?;
                t.serialize_element(&(*then as u8))?;
                t.serialize_element(lobby)?;
                t.serialize_element(&Bin(ticket))?;
                t.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ServerMsg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ServerMsg;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a message array [type, ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ServerMsg, A::Error> {
                let tag = message_type(&mut seq)?;
                let msg = match tag {
                    ServerMsg::WELCOME => ServerMsg::Welcome {
                        version: req(&mut seq, "version")?,
                        session: req(&mut seq, "session")?,
                        reconnect_token: req(&mut seq, "reconnect_token")?,
                        tick_rate: req(&mut seq, "tick_rate")?,
                        snapshot_rate: req(&mut seq, "snapshot_rate")?,
                        server_id: req(&mut seq, "server_id")?,
                        limits: req(&mut seq, "limits")?,
                    },
                    ServerMsg::LOBBY_LIST => ServerMsg::LobbyList(req(&mut seq, "lobbies")?),
                    ServerMsg::JOINED => ServerMsg::Joined(Box::new(JoinedInfo {
                        lobby: req(&mut seq, "lobby")?,
                        code: req(&mut seq, "code")?,
                        name: req(&mut seq, "name")?,
                        game: req(&mut seq, "game")?,
                        you: req(&mut seq, "you")?,
                        host: req(&mut seq, "host")?,
                        tick_rate: req(&mut seq, "tick_rate")?,
                        snapshot_rate: req(&mut seq, "snapshot_rate")?,
                        max_players: req(&mut seq, "max_players")?,
                        field_count: req(&mut seq, "field_count")?,
                        roster: req(&mut seq, "roster")?,
                        snapshot: req(&mut seq, "snapshot")?,
                    })),
                    ServerMsg::SNAPSHOT => ServerMsg::Snapshot(snapshot_fields(&mut seq)?),
                    ServerMsg::LOBBY_EVENT => {
                        let kind: u8 = req(&mut seq, "kind")?;
                        ServerMsg::LobbyEvent {
                            kind: LobbyEventKind::from_u8(kind).ok_or_else(|| {
                                de::Error::custom(format_args!("unknown lobby event {kind}"))
                            })?,
                            player: req(&mut seq, "player")?,
                            name: req(&mut seq, "name")?,
                        }
                    }
                    ServerMsg::CHAT => {
                        let from = req(&mut seq, "from")?;
                        let name = req(&mut seq, "name")?;
                        let text = req(&mut seq, "text")?;
                        let role: u8 = req(&mut seq, "role")?;
                        ServerMsg::Chat {
                            from,
                            name,
                            text,
                            role: ChatRole::from_u8(role).ok_or_else(|| {
                                de::Error::custom(format_args!("unknown chat role {role}"))
                            })?,
                        }
                    }
                    ServerMsg::PONG => ServerMsg::Pong {
                        nonce: req(&mut seq, "nonce")?,
                    },
                    ServerMsg::ERROR => ServerMsg::Error {
                        code: req(&mut seq, "code")?,
                        message: req(&mut seq, "message")?,
                    },
                    ServerMsg::LEFT => ServerMsg::Left {
                        lobby: req(&mut seq, "lobby")?,
                        reason: req(&mut seq, "reason")?,
                    },
                    ServerMsg::ROSTER => ServerMsg::Roster {
                        host: req(&mut seq, "host")?,
                        roster: req(&mut seq, "roster")?,
                    },
                    ServerMsg::REDIRECT => {
                        let url = req(&mut seq, "url")?;
                        let then: u8 = req(&mut seq, "then")?;
                        ServerMsg::Redirect {
                            url,
                            then: RedirectThen::from_u8(then).ok_or_else(|| {
                                de::Error::custom(format_args!("unknown redirect step {then}"))
                            })?,
                            lobby: req(&mut seq, "lobby")?,
                            ticket: req::<BinBuf, _>(&mut seq, "ticket")?.0,
                        }
                    }
                    other => {
                        return Err(de::Error::custom(format_args!(
                            "unknown message type {other}"
                        )))
                    }
                };
                skip_rest(&mut seq)?;
                Ok(msg)
            }
        }
        d.deserialize_seq(V)
    }
}

/// `ClientLimits` as a flat array of its fields in declaration order; a longer array (a later
/// version's limits) reads as if the extra elements were absent.
impl Serialize for ClientLimits {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(9)?;
        t.serialize_element(&self.max_message_bytes)?;
        t.serialize_element(&self.messages_per_second)?;
        t.serialize_element(&self.message_burst)?;
        t.serialize_element(&self.chat_burst)?;
        t.serialize_element(&self.chat_refill_ms)?;
        t.serialize_element(&self.reconnect_grace_ms)?;
        t.serialize_element(&self.slow_client_timeout_ms)?;
        t.serialize_element(&self.idle_timeout_ms)?;
        t.serialize_element(&self.max_decode_errors)?;
        t.end()
    }
}

impl<'de> Deserialize<'de> for ClientLimits {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ClientLimits;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the limits array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ClientLimits, A::Error> {
                let limits = ClientLimits {
                    max_message_bytes: req(&mut seq, "max_message_bytes")?,
                    messages_per_second: req(&mut seq, "messages_per_second")?,
                    message_burst: req(&mut seq, "message_burst")?,
                    chat_burst: req(&mut seq, "chat_burst")?,
                    chat_refill_ms: req(&mut seq, "chat_refill_ms")?,
                    reconnect_grace_ms: req(&mut seq, "reconnect_grace_ms")?,
                    slow_client_timeout_ms: req(&mut seq, "slow_client_timeout_ms")?,
                    idle_timeout_ms: req(&mut seq, "idle_timeout_ms")?,
                    max_decode_errors: req(&mut seq, "max_decode_errors")?,
                };
                skip_rest(&mut seq)?;
                Ok(limits)
            }
        }
        d.deserialize_seq(V)
    }
}
