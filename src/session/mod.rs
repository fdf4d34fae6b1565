//! One client connection on its shard: the hello, then a loop that reads every message the socket
//! holds, acts on it (straight into its lobby's state, on the same thread), and waits for the
//! socket or a signal. A span per connection; the session logic knows the socket only through
//! its [`writer::Conn`].
//!
//! A session that enters a lobby running on another shard moves there once: its state (which is
//! `Send`) and its socket travel in a [`Moving`], and it carries on from where it was.

mod close;
mod echo;
mod flood;
mod hello;
mod lobby_ops;
mod names;
pub mod portable;
mod requests;
pub mod writer;

pub use portable::{Moving, Pending, Session};
pub use writer::Conn;

use crate::lobby::SharedLobby;
use crate::netsim::NetSim;
use crate::protocol::{CloseCode, EntityId, Frame, LobbyId, ServerMsg};
use crate::shard::handle::{Incoming, Route, ShardMsg};
use crate::shard::local::Shard;
use flood::FloodGuard;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Instant;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig, WebSocketContext};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tracing::{debug, Instrument};
use writer::Bounds;

/// Lobby events and chat may use this many frames more than `limits.outbound_queue` (a burst of
/// joins must not cost a client that reads everything its snapshot).
pub const EVENT_HEADROOM: usize = 64;

/// The WebSocket settings every route uses: small buffers and hard caps instead of tungstenite's
/// defaults (128 KiB read buffer, 16 MiB frames, 64 MiB messages).
pub fn ws_config(limits: &crate::config::Limits) -> WebSocketConfig {
    WebSocketConfig::default()
        // 4 KiB instead of 128 KiB: a few KB of RAM per idle connection instead of ~138 KB.
        .read_buffer_size(4096)
        // Only control frames are written through tungstenite (everything else is pre-framed).
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(Some(limits.max_message_bytes))
        .max_frame_size(Some(limits.max_message_bytes))
        .accept_unmasked_frames(false)
}

/// Why the session's loop stopped.
enum Exit {
    /// We close the socket with this code and its reason.
    Close(CloseCode),
    /// The client sent its close frame: answer it and go.
    ClientClosed,
    /// The socket failed or ended: nothing more to say.
    Gone,
    /// Enter a lobby on shard `.0`.
    Move(usize, Pending),
}

/// The lobby this connection is in.
struct InLobby {
    cell: SharedLobby,
    id: LobbyId,
    member: usize,
    player: Option<EntityId>,
}

/// A session running on a shard.
struct Live {
    shard: Rc<Shard>,
    s: Session,
    conn: Rc<Conn>,
    lobby: Option<InLobby>,
    /// With `[netsim]`: wakes the task when the next delayed frame is due.
    netsim_timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

fn bounds(limits: &crate::config::Limits) -> Bounds {
    Bounds {
        events: limits.outbound_queue + EVENT_HEADROOM,
        replies: limits.outbound_queue.max(1),
    }
}

/// Serves a connection that has just been upgraded, from its hello to its close.
pub async fn serve(shard: Rc<Shard>, inc: Incoming) {
    let ctx = shard.ctx.clone();
    let cfg = &ctx.config;
    let span = tracing::info_span!("session", session = inc.id.0, peer = %inc.peer, name = tracing::field::Empty);
    let Ok(stream) = TcpStream::from_std(inc.stream) else {
        return;
    };
    let now = Instant::now();
    let netsim = cfg
        .netsim
        .enabled
        .then(|| NetSim::new(&cfg.netsim, inc.id.0));
    let conn = Rc::new(Conn::new(
        inc.id,
        stream,
        VecDeque::new(),
        netsim,
        bounds(&cfg.limits),
        now,
    ));
    let s = Session {
        id: inc.id,
        span: span.clone(),
        ws: WebSocketContext::from_partially_read(
            inc.read_buf.to_vec(),
            Role::Server,
            Some(ws_config(&cfg.limits)),
        ),
        name: String::new(),
        token: String::new(),
        decode_errors: 0,
        counted: inc.route == Route::Game,
        flood: FloodGuard::new(
            cfg.limits.messages_per_second,
            cfg.limits.message_burst,
            cfg.limits.flood_grace,
        ),
        _guard: inc.guard,
    };
    let live = Live {
        shard,
        s,
        conn,
        lobby: None,
        netsim_timer: None,
    };
    match inc.route {
        Route::Refuse(code) => live.finish(Exit::Close(code)).instrument(span).await,
        Route::Echo => echo::run(live).instrument(span).await,
        Route::Game => {
            ctx.metrics.connections.inc();
            live.conn
                .hello_by
                .set(Some(now + cfg.limits.handshake_timeout));
            async move {
                debug!("connected");
                let mut live = live;
                let key = live.shard.add_conn(live.conn.clone());
                let exit = match live.hello().await {
                    Ok(()) => live.main_loop().await,
                    Err(exit) => exit,
                };
                live.shard.remove_conn(key);
                live.end(exit).await;
            }
            .instrument(span)
            .await
        }
    }
}

/// Carries on a session that moved here to enter a lobby of this shard.
pub async fn arrive(shard: Rc<Shard>, m: Moving) {
    let span = m.session.span.clone();
    async move {
        let Ok(stream) = TcpStream::from_std(m.stream) else {
            if m.session.counted {
                shard.ctx.metrics.connections.dec();
            }
            return;
        };
        let cfg = &shard.ctx.config;
        let conn = Rc::new(Conn::new(
            m.session.id,
            stream,
            m.held,
            m.netsim,
            bounds(&cfg.limits),
            Instant::now(),
        ));
        let mut live = Live {
            shard,
            s: m.session,
            conn,
            lobby: None,
            netsim_timer: None,
        };
        let key = live.shard.add_conn(live.conn.clone());
        let exit = match live.perform(m.then) {
            Ok(()) => live.main_loop().await,
            Err(exit) => exit,
        };
        live.shard.remove_conn(key);
        live.end(exit).await;
    }
    .instrument(span)
    .await
}

impl Live {
    fn shard_index(&self) -> usize {
        self.shard.index
    }

    /// The loop after hello: read all there is, act, write what is held, wait.
    async fn main_loop(&mut self) -> Exit {
        loop {
            if let Err(exit) = self.step() {
                return exit;
            }
            self.wait().await;
        }
    }

    /// One pass over everything that may have happened since the last wake-up.
    fn step(&mut self) -> Result<(), Exit> {
        self.check_signals()?;
        while !self.conn.backlogged() {
            let Some(msg) = self.try_message()? else {
                break;
            };
            self.on_message(msg)?;
        }
        self.flush()
    }

    /// Kicks, the socket failing, the lobby ending, and frames whose simulated delay is over.
    fn check_signals(&mut self) -> Result<(), Exit> {
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
    fn try_message(&mut self) -> Result<Option<Message>, Exit> {
        match self.s.ws.read(&mut self.conn.ws_io()) {
            Ok(m) => {
                self.conn.heard.set(Instant::now());
                Ok(Some(m))
            }
            Err(WsError::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            Err(WsError::Capacity(_)) => Err(Exit::Close(CloseCode::MessageTooBig)),
            // Broken framing (reserved opcodes or bits, unmasked frames, oversized or fragmented
            // control frames, stray continuations): say so.
            Err(WsError::Protocol(e)) => {
                debug!(error = %e, "websocket protocol error");
                Err(Exit::Close(CloseCode::ProtocolViolation))
            }
            // A text frame that is not even UTF-8 is still a text frame.
            Err(WsError::Utf8(_)) => Err(Exit::Close(CloseCode::UnsupportedData)),
            Err(e) => {
                debug!(error = %e, "socket closed");
                Err(Exit::Gone)
            }
        }
    }

    /// Waits for the next message (the hello phase reads one at a time).
    async fn next_message(&mut self) -> Result<Message, Exit> {
        loop {
            self.check_signals()?;
            if let Some(m) = self.try_message()? {
                return Ok(m);
            }
            self.flush()?;
            self.wait().await;
        }
    }

    fn flush(&self) -> Result<(), Exit> {
        self.conn.flush().map(|_| ()).map_err(|_| Exit::Gone)
    }

    /// Sleeps until the socket is readable (unless the client is not reading our answers),
    /// writable (when something is held), a signal is raised, or a delayed frame is due.
    async fn wait(&mut self) {
        let due = self.conn.netsim_due();
        if let Some(at) = due {
            let deadline = tokio::time::Instant::from_std(at);
            match &mut self.netsim_timer {
                Some(t) => t.as_mut().reset(deadline),
                None => self.netsim_timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        let conn = &self.conn;
        let timer = &mut self.netsim_timer;
        std::future::poll_fn(|cx| {
            if conn.poll_signal(cx).is_ready() {
                return Poll::Ready(());
            }
            if !conn.backlogged() && conn.socket().poll_read_ready(cx).is_ready() {
                return Poll::Ready(());
            }
            if conn.has_unsent() && conn.socket().poll_write_ready(cx).is_ready() {
                return Poll::Ready(());
            }
            if let (Some(_), Some(t)) = (due, timer.as_mut()) {
                if t.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(());
                }
            }
            Poll::Pending
        })
        .await
    }

    /// Frames and hands a message to the client, in order with everything else it is sent.
    fn send(&self, msg: &ServerMsg) {
        let frame = Frame::encode(msg);
        let m = &self.shard.ctx.metrics;
        m.frames_out.inc();
        m.bytes_out.inc_by(frame.payload_len() as u64);
        self.conn.reply(&frame);
    }

    /// The session is over here: out of its lobby, then closed, or on its way to another shard.
    async fn end(mut self, exit: Exit) {
        if let Some(l) = self.lobby.take() {
            l.cell.borrow_mut().disconnected(l.member, self.s.id);
        }
        match exit {
            Exit::Move(shard, then) => self.travel(shard, then),
            other => self.finish(other).await,
        }
    }

    /// Hands the session and its socket to shard `to`.
    fn travel(self, to: usize, then: Pending) {
        let Live { shard, s, conn, .. } = self;
        let lost = || {
            if s.counted {
                shard.ctx.metrics.connections.dec();
            }
        };
        let Ok(conn) = Rc::try_unwrap(conn) else {
            // Someone still holds the connection: it cannot move safely. Not expected.
            lost();
            return;
        };
        let (stream, held, netsim) = conn.into_parts();
        let Ok(stream) = stream.into_std() else {
            lost();
            return;
        };
        debug!(to, ?then, "moving to the lobby's shard");
        shard.ctx.shards.send(
            to,
            ShardMsg::Arrive(Box::new(Moving {
                session: s,
                stream,
                held,
                netsim,
                then,
            })),
        );
    }

    /// Closes the socket as `exit` says and lets the connection go.
    async fn finish(mut self, exit: Exit) {
        let code = match exit {
            Exit::Close(code) => {
                debug!(code = code.code(), reason = code.reason(), "closing");
                Some(code)
            }
            _ => None,
        };
        let reply = matches!(exit, Exit::ClientClosed);
        if code.is_some() || reply {
            close::close(&mut self.s.ws, &self.conn, code.map(close::frame_for)).await;
        }
        if self.s.counted {
            self.shard.ctx.metrics.connections.dec();
        }
        debug!("disconnected");
    }
}
