//! The client-to-server messages as flat MessagePack arrays, both ways (the bots write them,
//! the server reads them).

use super::ids::LobbyId;
use super::messages::{ClientMsg, CreateLobby, Hello, LobbyRef, PlayerInput};
use super::seq::{opt, req, skip_rest};
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

impl Serialize for LobbyRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LobbyRef::Id(id) => s.serialize_u32(id.0),
            LobbyRef::Code(code) => s.serialize_str(code),
        }
    }
}

impl<'de> Deserialize<'de> for LobbyRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LobbyRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a lobby id (uint) or a join code (str)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LobbyRef, E> {
                u32::try_from(v)
                    .map(|v| LobbyRef::Id(LobbyId(v)))
                    .map_err(|_| E::custom("lobby id out of range"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LobbyRef, E> {
                u32::try_from(v)
                    .map(|v| LobbyRef::Id(LobbyId(v)))
                    .map_err(|_| E::custom("lobby id out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LobbyRef, E> {
                Ok(LobbyRef::Code(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for ClientMsg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ClientMsg::Hello(h) => {
                let mut t = s.serialize_tuple(4)?;
                t.serialize_element(&Self::HELLO)?;
                t.serialize_element(&h.version)?;
                t.serialize_element(&h.name)?;
                t.serialize_element(&h.reconnect_token)?;
                t.end()
            }
            ClientMsg::ListLobbies { game } => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::LIST_LOBBIES)?;
                t.serialize_element(game)?;
                t.end()
            }
            ClientMsg::CreateLobby(c) => {
                let mut t = s.serialize_tuple(5)?;
                t.serialize_element(&Self::CREATE_LOBBY)?;
                t.serialize_element(&c.name)?;
                t.serialize_element(&c.game)?;
                t.serialize_element(&c.max_players)?;
                t.serialize_element(&c.public)?;
                t.end()
            }
            ClientMsg::Join(r) | ClientMsg::Spectate(r) => {
                let tag = if matches!(self, ClientMsg::Join(_)) {
                    Self::JOIN
                } else {
                    Self::SPECTATE
                };
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&tag)?;
                t.serialize_element(r)?;
                t.end()
            }
            ClientMsg::QuickJoin { game } => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::QUICK_JOIN)?;
                t.serialize_element(game)?;
                t.end()
            }
            ClientMsg::Leave => {
                let mut t = s.serialize_tuple(1)?;
                t.serialize_element(&Self::LEAVE)?;
                t.end()
            }
            ClientMsg::Input(i) => {
                // Walkers-style inputs (no aim, no buttons) stay 4 elements long on the wire.
                let short = i.aim == 0.0 && i.buttons == 0;
                let mut t = s.serialize_tuple(if short { 4 } else { 6 })?;
                t.serialize_element(&Self::INPUT)?;
                t.serialize_element(&i.seq)?;
                t.serialize_element(&i.dx)?;
                t.serialize_element(&i.dy)?;
                if !short {
                    t.serialize_element(&i.aim)?;
                    t.serialize_element(&i.buttons)?;
                }
                t.end()
            }
            ClientMsg::Chat { text } => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::CHAT)?;
                t.serialize_element(text)?;
                t.end()
            }
            ClientMsg::Ping { nonce } => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::PING)?;
                t.serialize_element(nonce)?;
                t.end()
            }
            ClientMsg::RestartRound | ClientMsg::Resync => {
                let tag = if matches!(self, ClientMsg::Resync) {
                    Self::RESYNC
                } else {
                    Self::RESTART_ROUND
                };
                let mut t = s.serialize_tuple(1)?;
                t.serialize_element(&tag)?;
                t.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ClientMsg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ClientMsg;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a message array [type, ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ClientMsg, A::Error> {
                // Read wide so any unknown number, not just one that fits a u8, is "unknown type".
                let wide: u64 = req(&mut seq, "type")?;
                let tag = u8::try_from(wide)
                    .map_err(|_| de::Error::custom(format_args!("unknown message type {wide}")))?;
                let msg = match tag {
                    ClientMsg::HELLO => ClientMsg::Hello(Hello {
                        version: req(&mut seq, "version")?,
                        name: req(&mut seq, "name")?,
                        reconnect_token: opt(&mut seq)?,
                    }),
                    ClientMsg::LIST_LOBBIES => ClientMsg::ListLobbies {
                        game: opt(&mut seq)?,
                    },
                    ClientMsg::CREATE_LOBBY => ClientMsg::CreateLobby(CreateLobby {
                        name: req(&mut seq, "name")?,
                        game: req(&mut seq, "game")?,
                        max_players: req(&mut seq, "max_players")?,
                        public: req(&mut seq, "public")?,
                    }),
                    ClientMsg::JOIN => ClientMsg::Join(req(&mut seq, "lobby")?),
                    ClientMsg::SPECTATE => ClientMsg::Spectate(req(&mut seq, "lobby")?),
                    ClientMsg::QUICK_JOIN => ClientMsg::QuickJoin {
                        game: req(&mut seq, "game")?,
                    },
                    ClientMsg::LEAVE => ClientMsg::Leave,
                    ClientMsg::INPUT => ClientMsg::Input(PlayerInput {
                        seq: req(&mut seq, "seq")?,
                        dx: req(&mut seq, "dx")?,
                        dy: req(&mut seq, "dy")?,
                        aim: opt(&mut seq)?.unwrap_or(0.0),
                        buttons: opt(&mut seq)?.unwrap_or(0),
                    }),
                    ClientMsg::CHAT => ClientMsg::Chat {
                        text: req(&mut seq, "text")?,
                    },
                    ClientMsg::PING => ClientMsg::Ping {
                        nonce: req(&mut seq, "nonce")?,
                    },
                    ClientMsg::RESTART_ROUND => ClientMsg::RestartRound,
                    ClientMsg::RESYNC => ClientMsg::Resync,
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
