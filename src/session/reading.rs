//! Reading a connection: by its task outside a lobby, by its lobby's tick inside one. Either way
//! every complete message the socket holds is taken and handled in one pass, with nothing awaited.

use super::{Exit, Live};
use crate::protocol::{Frame, ServerMsg};
use std::time::Instant;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tracing::debug;

/// Messages one pass reads at most. A client that sends faster than it is read must not hold its
/// shard's thread (a lobby's tick reads every member in turn): what is left waits for the next
/// pass, and for the flood guard.
pub const READ_BUDGET: u32 = 32;

/// What a pass over a connection's messages left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Everything the socket held was read (or the client is not reading its answers).
    Done,
    /// The budget ran out with messages still waiting: read again soon, without waiting for
    /// the socket (their bytes may already be off it).
    More,
}

impl Live {
    /// The task's pass after a wake-up: signals, then (outside a lobby) the messages there are,
    /// then what is held for the client. Inside a lobby, its tick does the reading.
    pub(super) fn step(&mut self) -> Result<Pass, Exit> {
        if let Some(exit) = self.exit.take() {
            return Err(exit);
        }
        self.check_signals()?;
        let mut budget = READ_BUDGET;
        loop {
            let stopped_backlogged = self.read_some(&mut budget)?;
            self.flush()?;
            if budget == 0 {
                return Ok(Pass::More);
            }
            // The answers drained: messages the backlog left in tungstenite's buffer must be read
            // now (their bytes are off the socket: no readiness will come for them).
            if !stopped_backlogged || self.conn.backlogged() {
                return Ok(Pass::Done);
            }
        }
    }

    /// Reads and handles messages (outside a lobby) until none is left, the budget runs out, or
    /// the client stops reading its answers: `true` in that last case.
    fn read_some(&mut self, budget: &mut u32) -> Result<bool, Exit> {
        while self.lobby.is_none() && self.ask.is_none() && *budget > 0 {
            if self.conn.backlogged() {
                return Ok(true);
            }
            let Some(msg) = self.try_message()? else {
                break;
            };
            *budget -= 1;
            self.on_message(msg, budget)?;
        }
        Ok(false)
    }

    /// The lobby's tick reading this member: what it sent since the last tick (within the
    /// budget), handled on the spot (an input is a push onto the member's queue). What only the
    /// task can do (an end; a leave, which hands the reading back to it) is left for it, and it
    /// is woken for it.
    pub(super) fn pump(&mut self) {
        if self.exit.is_some() || self.lobby.is_none() || self.conn.kicked().is_some() {
            return;
        }
        self.conn.socket().rearm();
        let mut budget = READ_BUDGET;
        while budget > 0 && !self.conn.backlogged() {
            let next = match self.try_message() {
                Ok(Some(msg)) => {
                    budget -= 1;
                    self.on_message(msg, &mut budget)
                }
                Ok(None) => return,
                Err(exit) => Err(exit),
            };
            if let Err(exit) = next {
                self.exit = Some(exit);
                self.conn.raise();
                return;
            }
            if self.lobby.is_none() {
                self.conn.raise();
                return;
            }
        }
    }

    /// Kicks, the socket failing, the lobby ending, and frames whose simulated delay is over.
    pub(super) fn check_signals(&mut self) -> Result<(), Exit> {
        if let Some(code) = self.conn.kicked() {
            return Err(Exit::Close(code));
        }
        if self.conn.is_broken() {
            return Err(Exit::Gone);
        }
        if let Some(reason) = self.conn.take_lobby_gone() {
            if let Some(l) = self.lobby.take() {
                self.send(&ServerMsg::Left {
                    lobby: l.id,
                    reason,
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
