//! The connection's single writer: every byte to one socket goes through here, in order, and the
//! signals others raise on the connection (a kick, the lobby ending) reach its task from here.
//!
//! The happy path is one non-blocking `write` of a frame that was framed once for everyone (the
//! lobby calls [`Conn::send`] straight from its tick: no task wake-up, no copy). Only a socket that
//! takes part of a frame, or none of it, gets the slow path: the unsent rest is held here (shared
//! bytes, never copied), the session's task is woken to flush it on writable readiness, and until
//! it drains further snapshots are refused (`Full`: skipped, never queued behind). Events, replies
//! and control frames are held behind it, bounded, so a pong can never overtake a queued frame.

use super::socket::Socket;
use crate::lobby::SendError;
use crate::netsim::NetSim;
use crate::protocol::{CloseCode, Frame, SessionId};
use bytes::{Buf, Bytes};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// Frames handed to one `writev` when flushing what is held.
const FLUSH_BATCH: usize = 32;
/// A WebSocket ping with no payload (RFC 6455 section 5.5.2), as a server sends it: unmasked.
const PING: &[u8] = &[0x89, 0x00];

/// How much a connection may hold in user space (everything else waits in the kernel's buffer).
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Lobby events and chat held past this many frames are refused (the lobby then resends the
    /// roster): a burst fits, a client that never reads cannot grow it.
    pub events: usize,
    /// The session stops reading a client's requests while this many frames are held for it: a
    /// client that asks and never reads the answers stops being heard (and then times out).
    pub replies: usize,
}

/// What a frame is, for the held-frames policy.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Snapshot,
    Event,
    Reply,
}

struct Outbox {
    /// Frames (or the unsent rest of the front one) the socket has not taken yet, in order.
    held: VecDeque<Bytes>,
    /// With `[netsim]`: frames waiting out their simulated delay, before they reach `held`.
    netsim: Option<NetSim>,
}

/// One client connection as everyone who writes to it sees it.
pub struct Conn {
    pub id: SessionId,
    sock: Socket,
    out: RefCell<Outbox>,
    bounds: Bounds,
    signal: Signal,
    kick: Cell<Option<CloseCode>>,
    lobby_gone: Cell<bool>,
    broken: Cell<bool>,
    /// When anything (a frame, a pong) was last read from the client.
    pub heard: Cell<Instant>,
    /// Hello must arrive by then (`None` once it has).
    pub hello_by: Cell<Option<Instant>>,
    /// When the last ping went out unanswered.
    pub pinged: Cell<Option<Instant>>,
}

impl Conn {
    pub fn new(
        id: SessionId,
        sock: Socket,
        held: VecDeque<Bytes>,
        netsim: Option<NetSim>,
        bounds: Bounds,
        now: Instant,
    ) -> Conn {
        Conn {
            id,
            sock,
            out: RefCell::new(Outbox { held, netsim }),
            bounds,
            signal: Signal::default(),
            kick: Cell::new(None),
            lobby_gone: Cell::new(false),
            broken: Cell::new(false),
            heard: Cell::new(now),
            hello_by: Cell::new(None),
            pinged: Cell::new(None),
        }
    }

    /// Takes the connection apart to move it to another shard (its socket must be re-registered
    /// there): the socket, what is held for it, and its simulated network.
    pub fn into_parts(self) -> (Socket, VecDeque<Bytes>, Option<NetSim>) {
        let out = self.out.into_inner();
        (self.sock, out.held, out.netsim)
    }

    pub fn socket(&self) -> &Socket {
        &self.sock
    }

    /// Frames held in user space (the unsent rest of one counts as one).
    pub fn held(&self) -> usize {
        let out = self.out.borrow();
        out.held.len() + out.netsim.as_ref().map_or(0, NetSim::len)
    }

    /// True while the session should not read more requests: the client is not reading answers.
    pub fn backlogged(&self) -> bool {
        self.out.borrow().held.len() >= self.bounds.replies
    }

    pub fn has_unsent(&self) -> bool {
        !self.out.borrow().held.is_empty()
    }

    /// A reply to this client's own request, or a frame the session sends on its own: written now
    /// or held (the session's read backpressure bounds it).
    pub fn reply(&self, frame: &Frame) {
        let _ = self.push(frame.bytes(), Kind::Reply);
    }

    /// A control frame (pong, close) written by the WebSocket layer, in order with everything else.
    pub fn control(&self, bytes: &[u8]) {
        let _ = self.push(&Bytes::copy_from_slice(bytes), Kind::Reply);
    }

    pub fn ping(&self) {
        let _ = self.push(&Bytes::from_static(PING), Kind::Reply);
    }

    fn push(&self, bytes: &Bytes, kind: Kind) -> Result<(), SendError> {
        if self.broken.get() {
            return Err(SendError::Closed);
        }
        let mut out = self.out.borrow_mut();
        if let Some(sim) = &mut out.netsim {
            // Simulated delay: everything takes the same (ordered) road, snapshots included.
            if kind == Kind::Snapshot && sim.is_full() {
                return Err(SendError::Full);
            }
            sim.push(bytes.clone());
            drop(out);
            self.signal.raise();
            return Ok(());
        }
        if !out.held.is_empty() {
            return match kind {
                // Stale snapshots are never queued behind unsent bytes.
                Kind::Snapshot => Err(SendError::Full),
                Kind::Event if out.held.len() >= self.bounds.events => Err(SendError::Full),
                _ => {
                    out.held.push_back(bytes.clone());
                    Ok(())
                }
            };
        }
        match self.sock.write(bytes) {
            Ok(n) if n == bytes.len() => Ok(()),
            Ok(n) => {
                // Part of it went: the rest must follow before anything else.
                out.held.push_back(bytes.slice(n..));
                drop(out);
                self.signal.raise();
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if kind == Kind::Snapshot {
                    return Err(SendError::Full);
                }
                out.held.push_back(bytes.clone());
                drop(out);
                self.signal.raise();
                Ok(())
            }
            Err(_) => {
                drop(out);
                self.fail();
                Err(SendError::Closed)
            }
        }
    }

    /// Writes what is held, as far as the socket takes it: true once nothing is held.
    pub fn flush(&self) -> io::Result<bool> {
        let mut out = self.out.borrow_mut();
        while !out.held.is_empty() {
            let slices: Vec<IoSlice<'_>> = out
                .held
                .iter()
                .take(FLUSH_BATCH)
                .map(|b| IoSlice::new(b))
                .collect();
            let mut n = match self.sock.write_vectored(&slices) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => {
                    drop(out);
                    self.fail();
                    return Err(e);
                }
            };
            while n > 0 {
                let Some(front) = out.held.front_mut() else {
                    break;
                };
                if n >= front.len() {
                    n -= front.len();
                    out.held.pop_front();
                } else {
                    front.advance(n);
                    n = 0;
                }
            }
        }
        Ok(true)
    }

    /// When the next simulated-delay frame is due, if any.
    pub fn netsim_due(&self) -> Option<Instant> {
        self.out.borrow().netsim.as_ref().and_then(NetSim::next_due)
    }

    /// Moves frames whose simulated delay is over into the held queue (to be flushed in order).
    pub fn release_due(&self, now: Instant) {
        let mut out = self.out.borrow_mut();
        let Outbox { held, netsim } = &mut *out;
        if let Some(sim) = netsim {
            held.extend(sim.take_due(now));
        }
    }

    /// Gives up the simulated delay (closing: the close frame must follow what was sent).
    pub fn release_all(&self) {
        let mut out = self.out.borrow_mut();
        let Outbox { held, netsim } = &mut *out;
        if let Some(mut sim) = netsim.take() {
            held.extend(sim.take_all());
        }
    }

    /// The socket failed: nothing more will be written; the task finds out on its next wake.
    fn fail(&self) {
        self.broken.set(true);
        self.signal.raise();
    }

    pub fn is_broken(&self) -> bool {
        self.broken.get()
    }

    /// Asks the task to close the connection with `code` (the first reason given wins).
    pub fn close_with(&self, code: CloseCode) {
        if self.kick.get().is_none() {
            self.kick.set(Some(code));
        }
        self.signal.raise();
    }

    pub fn kicked(&self) -> Option<CloseCode> {
        self.kick.get()
    }

    /// True once after the lobby this connection was in ended.
    pub fn take_lobby_gone(&self) -> bool {
        self.lobby_gone.replace(false)
    }

    /// Ready when someone raised a signal on this connection since the task last looked.
    pub fn poll_signal(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.signal.poll(cx)
    }

    /// The WebSocket layer's view of the socket: reads come from it, writes go through here.
    pub fn ws_io(&self) -> WsIo<'_> {
        WsIo(self)
    }
}

/// What the lobby does to a member's connection (its session's link forwards these).
impl Conn {
    /// A snapshot (or `Joined`, `Roster`): written now, or refused with `Full`.
    pub fn send(&self, frame: &Frame) -> Result<(), SendError> {
        self.push(frame.bytes(), Kind::Snapshot)
    }

    /// A lobby event, chat line or reply: written now, or held (bounded) behind what is unsent.
    pub fn send_event(&self, frame: &Frame) -> Result<(), SendError> {
        self.push(frame.bytes(), Kind::Event)
    }

    /// The lobby ended while this connection was in it.
    pub fn lobby_gone(&self) {
        self.lobby_gone.set(true);
        self.signal.raise();
    }

    /// Wakes the connection's task to look at its session again (the lobby's read of it found
    /// something only the task can do: an end, or a leave).
    pub fn raise(&self) {
        self.signal.raise();
    }
}

/// tungstenite reads client frames straight from the socket and writes its control frames (pongs,
/// the close reply) through the connection's writer.
pub struct WsIo<'a>(&'a Conn);

impl Read for WsIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.sock.read(buf)
    }
}

impl Write for WsIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.control(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A one-task wake-up flag: raising it wakes the connection's task (kick, lobby gone, something
/// to flush). Single-threaded, so no locks or atomics on the way.
#[derive(Default)]
struct Signal {
    raised: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Signal {
    fn raise(&self) {
        self.raised.set(true);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.raised.replace(false) {
            return Poll::Ready(());
        }
        let mut slot = self.waker.borrow_mut();
        if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *slot = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}
