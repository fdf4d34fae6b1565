//! Reading a connection: by its task outside a lobby, by its lobby's tick inside one. Either way
//! every complete message the socket holds is taken and handled in one pass, with nothing awaited.

use super::{Exit, Live};
use crate::protocol::{Frame, ServerMsg};
use std::time::Instant;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tracing::debug;

impl Live {
    /// The task's pass after a wake-up: signals, then (outside a lobby) every message there is,
    /// then what is held for the client. Inside a lobby, its tick does the reading.
    pub(super) fn step(&mut self) -> Result<(), Exit> {
        if let Some(exit) = self.exit.take() {
            return Err(exit);
        }
        self.check_signals()?;
        while self.lobby.is_none() && !self.conn.backlogged() {
            let Some(msg) = self.try_message()? else {
                break;
            };
            self.on_message(msg)?;
        }
        self.flush()
    }

    /// The lobby's tick reading this member: every message since the last tick, handled on the
    /// spot (an input is a push onto the member's queue). Whatever only the task can do (an end,
    /// a leave, which hands the reading back to it) is left for it, and it is woken.
    pub(super) fn pump(&mut self) {
        if self.exit.is_some() || self.lobby.is_none() || self.conn.kicked().is_some() {
            return;
        }
        self.conn.socket().rearm();
        while !self.conn.backlogged() {
            let next = match self.try_message() {
                Ok(Some(msg)) => self.on_message(msg),
                Ok(None) => return,
                Err(exit) => Err(exit),
            };
            if let Err(exit) = next {
                self.exit = Some(exit);
                break;
            }
            if self.lobby.is_none() {
                break;
            }
        }
        self.conn.raise();
    }

    /// Kicks, the socket failing, the lobby ending, and frames whose simulated delay is over.
    pub(super) fn check_signals(&mut self) -> Result<(), Exit> {
        if let Some(code) = self.conn.kicked() {
            return Err(Exit::Close(code));
        }
        if self.conn.is_broken() {
            return Err(Exit::Gone);
        }
        if self.conn.take_lobby_gone() {
            if let Some(l) = self.lobby.take() {
                self.send(&ServerMsg::Left {
                    lobby: l.id,
                    reason: "the lobby closed".into(),
                });
            }
        }
        if self.conn.netsim_due().is_some() {
            self.conn.release_due(Instant::now());
        }
        Ok(())
    }

    /// The next message the socket already holds, if any.
    pub(super) fn try_message(&mut self) -> Result<Option<Message>, Exit> {
        match self.s.ws.read(&mut self.conn.ws_io()) {
            Ok(m) => {
                self.conn.heard.set(Instant::now());
                Ok(Some(m))
            }
            Err(WsError::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            Err(WsError::Capacity(_)) => {
                Err(Exit::Close(crate::protocol::CloseCode::MessageTooBig))
            }
            // The peer went away without a close frame: nobody is left to tell.
            Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => Err(Exit::Gone),
            // Broken framing (reserved opcodes or bits, unmasked frames, oversized or fragmented
            // control frames, stray continuations): say so.
            Err(WsError::Protocol(e)) => {
                debug!(error = %e, "websocket protocol error");
                Err(Exit::Close(crate::protocol::CloseCode::ProtocolViolation))
            }
            // A text frame that is not even UTF-8 is still a text frame.
            Err(WsError::Utf8(_)) => Err(Exit::Close(crate::protocol::CloseCode::UnsupportedData)),
            Err(e) => {
                debug!(error = %e, "socket closed");
                Err(Exit::Gone)
            }
        }
    }

    /// Writes what is held, as far as the socket takes it now.
    pub(super) fn flush(&self) -> Result<(), Exit> {
        self.conn.flush().map(|_| ()).map_err(|_| Exit::Gone)
    }

    /// Frames and hands a message to the client, in order with everything else it is sent.
    pub(super) fn send(&self, msg: &ServerMsg) {
        let frame = Frame::encode(msg);
        let m = &self.shard.ctx.metrics;
        m.frames_out.inc();
        m.bytes_out.inc_by(frame.payload_len() as u64);
        self.conn.reply(&frame);
    }

    pub(super) fn shard_index(&self) -> usize {
        self.shard.index
    }
}
