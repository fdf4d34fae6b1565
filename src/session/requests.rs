//! What a session does with each message after the hello: the rate limit, decoding, and the
//! requests that need no lobby change of their own (list, ping, input, chat, restart, resync).

use super::flood::Verdict;
use super::{Exit, Live};
use crate::game::GameKind;
use crate::protocol::{
    decode_client, ClientMsg, CloseCode, DecodeError, ErrorCode, PlayerInput, ServerMsg,
};
use bytes::Bytes;
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tracing::debug;

impl Live {
    /// Handles one message from the socket. A request that costs more than a message's worth
    /// (a lobby list) takes the rest of the pass's `budget`.
    pub(super) fn on_message(&mut self, msg: Message, budget: &mut u32) -> Result<(), Exit> {
        let Some(bytes) = self.admit_frame(msg)? else {
            return Ok(());
        };
        match decode_client(&bytes) {
            Ok(m) => {
                if matches!(m, ClientMsg::ListLobbies { .. }) {
                    *budget = 0;
                }
                self.dispatch(m)
            }
            Err(e) => self.on_decode_error(e),
        }
    }

    /// Counts and rate-limits a frame; the bytes of a binary message that passed.
    pub(super) fn admit_frame(&mut self, msg: Message) -> Result<Option<Bytes>, Exit> {
        let bytes = match msg {
            Message::Binary(b) => b,
            Message::Text(_) => return Err(Exit::Close(CloseCode::UnsupportedData)),
            Message::Close(_) => return Err(Exit::ClientClosed),
            // tungstenite answers a ping itself (also one the flood guard then drops) and a pong
            // only proves the client is alive, but both cost us work: they count against the
            // rate limit with everything else, so a ping flood is closed like any other.
            Message::Ping(_) | Message::Pong(_) => {
                self.admit()?;
                return Ok(None);
            }
            // Raw frames are what tungstenite writes, never what it reads.
            Message::Frame(_) => return Ok(None),
        };
        let (m, shard) = (&self.shard.ctx.metrics, self.shard.index);
        m.frames_in.inc_by(shard, 1);
        m.bytes_in.inc_by(shard, bytes.len() as u64);
        Ok(self.admit()?.then_some(bytes))
    }

    /// The flood guard: false drops the message; sustained flooding closes the connection.
    fn admit(&mut self) -> Result<bool, Exit> {
        let verdict = self.s.flood.check(Instant::now());
        if verdict != Verdict::Admit {
            let m = &self.shard.ctx.metrics;
            m.inputs_dropped.inc_by(self.shard.index, 1);
        }
        match verdict {
            Verdict::Admit => Ok(true),
            Verdict::Drop => Ok(false),
            Verdict::DropAndTell => {
                self.error(
                    ErrorCode::RateLimited,
                    "too many messages; some were dropped",
                );
                Ok(false)
            }
            Verdict::Close => Err(Exit::Close(CloseCode::RateLimited)),
        }
    }

    pub(super) fn on_decode_error(&mut self, e: DecodeError) -> Result<(), Exit> {
        let m = &self.shard.ctx.metrics;
        m.decode_errors.inc_by(self.shard.index, 1);
        self.s.decode_errors += 1;
        let code = match e {
            DecodeError::UnknownType(_) => ErrorCode::UnknownMessage,
            _ => ErrorCode::Malformed,
        };
        debug!(error = %e, "undecodable frame");
        self.error(code, e.to_string());
        if self.s.decode_errors > self.shard.ctx.config.limits.max_decode_errors {
            return Err(Exit::Close(CloseCode::ProtocolViolation));
        }
        Ok(())
    }

    fn dispatch(&mut self, msg: ClientMsg) -> Result<(), Exit> {
        match msg {
            ClientMsg::Input { input, earlier } => self.on_input(input, &earlier),
            ClientMsg::Ping { nonce } => self.send(&ServerMsg::Pong { nonce }),
            ClientMsg::Hello(_) => self.error(ErrorCode::NotAllowed, "already said hello"),
            ClientMsg::ListLobbies { game } => self.on_list(game),
            ClientMsg::CreateLobby(c) => return self.on_create(c),
            ClientMsg::Join(r) => return self.on_join(r, false),
            ClientMsg::Spectate(r) => return self.on_join(r, true),
            ClientMsg::QuickJoin { game } => return self.on_quick_join(game),
            ClientMsg::Leave => self.on_leave(),
            ClientMsg::Chat { text } => self.in_lobby("chat outside a lobby", |l, s| {
                l.cell.borrow_mut().chat(l.member, s, &text)
            }),
            ClientMsg::RestartRound => self.in_lobby("you are not in a lobby", |l, s| {
                l.cell.borrow_mut().restart(l.member, s)
            }),
            ClientMsg::Resync => self.in_lobby("you are not in a lobby", |l, s| {
                l.cell.borrow_mut().resync(l.member, s)
            }),
            ClientMsg::Redeem { ticket } => return self.on_redeem(&ticket),
        }
        Ok(())
    }

    /// Runs `f` on this connection's lobby, or tells the client it is in none.
    fn in_lobby(
        &mut self,
        outside: &'static str,
        f: impl FnOnce(&super::InLobby, crate::protocol::SessionId),
    ) {
        match &self.lobby {
            Some(l) => f(l, self.s.id),
            None => self.error(ErrorCode::NotAllowed, outside),
        }
    }

    /// The hot path: a checked input onto the member's queue in its lobby, on this very thread.
    fn on_input(&mut self, input: PlayerInput, earlier: &[PlayerInput]) {
        let Some(l) = &self.lobby else {
            return self.error(ErrorCode::NotAllowed, "input outside a lobby");
        };
        if l.player.is_none() {
            return self.error(ErrorCode::NotAllowed, "spectators send no input");
        }
        // One bad input refuses the whole message: nothing of it is applied.
        for i in earlier.iter().chain([&input]) {
            if !(-1..=1).contains(&i.dx) || !(-1..=1).contains(&i.dy) {
                return self.error(ErrorCode::BadInput, "dx and dy must be -1, 0 or 1");
            }
            if !i.aim.is_finite() {
                return self.error(ErrorCode::BadInput, "aim must be a finite number");
            }
        }
        if earlier.iter().any(|e| e.seq >= input.seq) {
            return self.error(
                ErrorCode::BadInput,
                "earlier inputs must be numbered below the input they come with",
            );
        }
        l.cell
            .borrow_mut()
            .input(l.member, self.s.id, input, earlier);
    }

    fn on_list(&mut self, game: Option<String>) {
        let game = match game.as_deref().map(str::parse::<GameKind>) {
            None => None,
            Some(Ok(g)) => Some(g),
            Some(Err(e)) => return self.error(ErrorCode::BadRequest, e),
        };
        if self.cluster().is_some() && self.lobby.is_none() {
            // Every node's lobbies: the directory is asked between passes. (Inside a lobby the
            // tick reads this session and cannot wait: this node's list then.)
            return self.list_everywhere(game);
        }
        let list = self.shard.ctx.registry.list(game);
        self.send(&ServerMsg::LobbyList(list));
    }

    pub(super) fn error(&self, code: ErrorCode, message: impl Into<String>) {
        self.send(&ServerMsg::error(code, message));
    }
}
