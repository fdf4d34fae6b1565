//! The hello, straight-line before the session's loop: nothing but `Hello` may come first, the
//! versions must match, then `Welcome` (and, with a reconnect token, the seat it resumes).

use super::names::{clean_text, new_token};
use super::reading::{Pass, READ_BUDGET};
use super::{Exit, Live};
use crate::protocol::{
    decode_client, ClientMsg, CloseCode, ErrorCode, ServerMsg, MAX_NAME_LEN, PROTOCOL_VERSION,
};
use tracing::error;

impl Live {
    /// Reads what the socket holds up to the hello: `None` once it has been answered, or how
    /// the pass ended while it has not come yet.
    pub(super) fn hello_step(&mut self) -> Result<Option<Pass>, Exit> {
        self.check_signals()?;
        // Before its hello a client gets nothing but answers to its pings: not reading them stops
        // it being read, as later, and so does the budget.
        let mut budget = READ_BUDGET;
        while !self.conn.backlogged() {
            if budget == 0 {
                self.flush()?;
                return Ok(Some(Pass::More));
            }
            let Some(msg) = self.try_message()? else {
                break;
            };
            budget -= 1;
            let Some(bytes) = self.admit_frame(msg)? else {
                continue;
            };
            return match decode_client(&bytes) {
                Ok(ClientMsg::Hello(h)) => self.on_hello(h).map(|()| None),
                Ok(other) => {
                    self.error(
                        ErrorCode::NotAllowed,
                        format!("send hello first (got {})", other.kind()),
                    );
                    Err(Exit::Close(CloseCode::ProtocolViolation))
                }
                // Garbage first is no more a hello than any other message.
                Err(e) => {
                    self.on_decode_error(e)?;
                    Err(Exit::Close(CloseCode::ProtocolViolation))
                }
            };
        }
        self.flush()?;
        Ok(Some(Pass::Done))
    }

    fn on_hello(&mut self, h: crate::protocol::Hello) -> Result<(), Exit> {
        if h.version != PROTOCOL_VERSION {
            self.error(
                ErrorCode::BadVersion,
                format!(
                    "this server speaks protocol version {PROTOCOL_VERSION}; the client sent {}",
                    h.version
                ),
            );
            return Err(Exit::Close(CloseCode::BadVersion));
        }
        self.conn.hello_by.set(None);
        let s = &mut self.s;
        s.name = clean_text(&h.name, MAX_NAME_LEN).unwrap_or_else(|| format!("player-{}", s.id.0));
        s.span.record("name", s.name.as_str());
        let node = self.shard.ctx.cluster.as_ref().map(|c| c.node_id.clone());
        let s = &mut self.s;
        s.token = match new_token() {
            // A cluster node's tokens name it, so any node can send a returning client back.
            Ok(t) => match node {
                Some(n) => format!("{n}.{t}"),
                None => t,
            },
            Err(e) => {
                error!(error = %e, "the OS random source failed: no reconnect token, no session");
                return Err(Exit::Close(CloseCode::InternalError));
            }
        };
        let ctx = &self.shard.ctx;
        let Some(server_id) = ctx.server_id.clone() else {
            error!("no server id (the OS random source failed at start): no session");
            return Err(Exit::Close(CloseCode::InternalError));
        };
        self.send(&ServerMsg::Welcome {
            version: PROTOCOL_VERSION,
            session: self.s.id,
            reconnect_token: self.s.token.clone(),
            tick_rate: ctx.config.lobby.tick_rate,
            snapshot_rate: ctx.config.lobby.snapshot_rate,
            server_id,
            limits: ctx.client_limits.clone(),
        });
        // An empty token is no token: some client libraries cannot leave a field out or send
        // nil, and no seat is ever issued the empty string.
        match h.reconnect_token.filter(|t| !t.is_empty()) {
            Some(old) => self.resume(old),
            None => Ok(()),
        }
    }
}
