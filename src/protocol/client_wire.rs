//! The client-to-server messages as flat MessagePack arrays, both ways (the bots write them,
//! the server reads them).

use super::ids::LobbyId;
use super::messages::{ClientMsg, CreateLobby, Hello, LobbyRef, PlayerInput};
use super::seq::{message_type, opt, req, skip_rest, Bin, BinBuf};
use super::MAX_EARLIER_INPUTS;
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
                // The round rules are left out when unset, so older layouts stay byte-identical.
                let len = if c.round_seconds.is_some() {
                    7
                } else if c.kill_goal.is_some() {
                    6
                } else {
                    5
                };
                let mut t = s.serialize_tuple(len)?;
                t.serialize_element(&Self::CREATE_LOBBY)?;
                t.serialize_element(&c.name)?;
                t.serialize_element(&c.game)?;
                t.serialize_element(&c.max_players)?;
                t.serialize_element(&c.public)?;
                if len > 5 {
                    t.serialize_element(&c.kill_goal)?;
                }
                if len > 6 {
                    t.serialize_element(&c.round_seconds)?;
                }
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
            ClientMsg::Input { input, earlier } => {
                // Trailing fields that say nothing are left out: walkers inputs (no aim, no
                // buttons) stay 4 elements long on the wire.
                let len = if !earlier.is_empty() {
                    7
                } else {
                    input.wire_len()
                };
                let mut t = s.serialize_tuple(1 + len)?;
                t.serialize_element(&Self::INPUT)?;
                input.fields(&mut t, len.min(6))?;
                if !earlier.is_empty() {
                    t.serialize_element(earlier)?;
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
            ClientMsg::Redeem { ticket } => {
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&Self::REDEEM)?;
                t.serialize_element(&Bin(ticket))?;
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
                let tag = message_type(&mut seq)?;
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
                        kill_goal: opt(&mut seq)?,
                        round_seconds: opt(&mut seq)?,
                    }),
                    ClientMsg::JOIN => ClientMsg::Join(req(&mut seq, "lobby")?),
                    ClientMsg::SPECTATE => ClientMsg::Spectate(req(&mut seq, "lobby")?),
                    ClientMsg::QUICK_JOIN => ClientMsg::QuickJoin {
                        game: req(&mut seq, "game")?,
                    },
                    ClientMsg::LEAVE => ClientMsg::Leave,
                    ClientMsg::INPUT => ClientMsg::Input {
                        input: input_fields(&mut seq)?,
                        earlier: opt::<Earlier, _>(&mut seq)?.map_or_else(Vec::new, |e| e.0),
                    },
                    ClientMsg::CHAT => ClientMsg::Chat {
                        text: req(&mut seq, "text")?,
                    },
                    ClientMsg::PING => ClientMsg::Ping {
                        nonce: req(&mut seq, "nonce")?,
                    },
                    ClientMsg::RESTART_ROUND => ClientMsg::RestartRound,
                    ClientMsg::RESYNC => ClientMsg::Resync,
                    ClientMsg::REDEEM => ClientMsg::Redeem {
                        ticket: req::<BinBuf, _>(&mut seq, "ticket")?.0,
                    },
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

impl PlayerInput {
    /// How many of the input's fields the wire needs: trailing ones that say nothing are left out.
    fn wire_len(&self) -> usize {
        if self.view_tick != 0 {
            6
        } else if self.aim != 0.0 || self.buttons != 0 {
            5
        } else {
            3
        }
    }

    /// `seq, dx, dy, aim, buttons, view_tick`, the first `len` of them.
    fn fields<T: SerializeTuple>(&self, t: &mut T, len: usize) -> Result<(), T::Error> {
        t.serialize_element(&self.seq)?;
        t.serialize_element(&self.dx)?;
        t.serialize_element(&self.dy)?;
        if len > 3 {
            t.serialize_element(&self.aim)?;
            t.serialize_element(&self.buttons)?;
        }
        if len > 5 {
            t.serialize_element(&self.view_tick)?;
        }
        Ok(())
    }
}

fn input_fields<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<PlayerInput, A::Error> {
    Ok(PlayerInput {
        seq: req(seq, "seq")?,
        dx: req(seq, "dx")?,
        dy: req(seq, "dy")?,
        aim: opt(seq)?.unwrap_or(0.0),
        buttons: opt(seq)?.unwrap_or(0),
        view_tick: opt(seq)?.unwrap_or(0),
    })
}

/// An earlier input inside `Input`: `[seq, dx, dy, aim?, buttons?, view_tick?]`, the same fields
/// as the message's own.
impl Serialize for PlayerInput {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = self.wire_len();
        let mut t = s.serialize_tuple(len)?;
        self.fields(&mut t, len)?;
        t.end()
    }
}

impl<'de> Deserialize<'de> for PlayerInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PlayerInput;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an input array [seq, dx, dy, aim?, buttons?, view_tick?]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PlayerInput, A::Error> {
                let input = input_fields(&mut seq)?;
                skip_rest(&mut seq)?;
                Ok(input)
            }
        }
        d.deserialize_seq(V)
    }
}

/// `Input.earlier`, refused past [`MAX_EARLIER_INPUTS`] elements before any is decoded, so a
/// hostile list costs nothing but the frame it came in.
struct Earlier(Vec<PlayerInput>);

impl<'de> Deserialize<'de> for Earlier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Earlier;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a list of at most {MAX_EARLIER_INPUTS} earlier inputs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Earlier, A::Error> {
                if seq.size_hint().is_some_and(|n| n > MAX_EARLIER_INPUTS) {
                    return Err(de::Error::custom(format_args!(
                        "more than {MAX_EARLIER_INPUTS} earlier inputs"
                    )));
                }
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(i) = seq.next_element()? {
                    if out.len() == MAX_EARLIER_INPUTS {
                        return Err(de::Error::custom(format_args!(
                            "more than {MAX_EARLIER_INPUTS} earlier inputs"
                        )));
                    }
                    out.push(i);
                }
                Ok(Earlier(out))
            }
        }
        d.deserialize_seq(V)
    }
}
