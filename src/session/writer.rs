//! The connection's single writer: every byte to one socket goes through here, in order, and the
//! signals others raise on the connection (a kick, the lobby ending) reach its task from here.
//!
//! The happy path is one non-blocking `write` of a frame that was framed once for everyone (the
//! lobby calls [`Conn::send`] straight from its tick: no task wake-up, no copy). Only a socket that
//! takes part of a frame, or none of it, gets the slow path. A snapshot it refuses whole is
//! skipped (`Full`: never queued behind). Any other unsent bytes (the rest of a frame, or a whole
//! event, reply or control frame) are held here (shared bytes, never copied) and the session's
//! task is woken to flush them on writable readiness; until they drain, snapshots are skipped and
//! events are held behind them, bounded, so a pong can never overtake a queued frame.

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
    /// The session stops reading a client's messages while this many frames of any kind are held
    /// for it: a client that asks and never reads the answers stops being heard (and then times
    /// out).
    pub backlog: usize,
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
    /// Set (with what `Left` will say) when the lobby this connection was in ended.
    lobby_gone: RefCell<Option<String>>,
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
            lobby_gone: RefCell::new(None),
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

    /// True while the session should not read more requests: the client is not reading what it
    /// is sent (or, with `[netsim]`, the simulated link is full).
    pub fn backlogged(&self) -> bool {
        let out = self.out.borrow();
        out.held.len() >= self.bounds.backlog || out.netsim.as_ref().is_some_and(NetSim::is_full)
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
        let held = out.held.len();
        if let Some(sim) = &mut out.netsim {
            // Simulated delay: everything takes the same (ordered) road, snapshots included, and
            // the same bounds apply to the road and the socket's backlog together.
            let refused = match kind {
                Kind::Snapshot => sim.is_full() || held > 0,
                Kind::Event => sim.is_full() || sim.len() + held >= self.bounds.events,
                Kind::Reply => false,
            };
            if refused {
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

    /// Once after the lobby this connection was in ended: why it ended.
    pub fn take_lobby_gone(&self) -> Option<String> {
        self.lobby_gone.borrow_mut().take()
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

    /// The lobby ended while this connection was in it; `reason` is what its `Left` says.
    pub fn lobby_gone(&self, reason: &str) {
        *self.lobby_gone.borrow_mut() = Some(reason.to_owned());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    const BOUNDS: Bounds = Bounds {
        events: 4,
        backlog: 2,
    };

    /// A connection whose peer never reads, with small buffers so the socket fills quickly.
    fn stalled(netsim: Option<NetSim>) -> (Conn, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        socket2::SockRef::from(&peer)
            .set_recv_buffer_size(4096)
            .unwrap();
        let (ours, _) = listener.accept().unwrap();
        socket2::SockRef::from(&ours)
            .set_send_buffer_size(4096)
            .unwrap();
        let conn = Conn::new(
            SessionId(1),
            Socket::new(ours).unwrap(),
            VecDeque::new(),
            netsim,
            BOUNDS,
            Instant::now(),
        );
        (conn, peer)
    }

    fn frame(n: usize) -> Frame {
        Frame::from_payload(&vec![7u8; n])
    }

    #[test]
    fn a_full_socket_skips_snapshots_holds_events_to_a_bound_and_stops_reading() {
        let (conn, _peer) = stalled(None);
        // Snapshots go until the socket refuses one whole: it is skipped, nothing held.
        let big = frame(1000);
        let mut sent = 0;
        while conn.send(&big).is_ok() {
            sent += 1;
            assert!(sent < 10_000, "the socket never filled");
            if conn.has_unsent() {
                break;
            }
        }
        // Either the last snapshot went in part (its rest is held) or was refused whole.
        let partial = conn.has_unsent();
        assert_eq!(conn.send(&big), Err(SendError::Full), "never queued behind");
        // Events wait behind, up to their bound, then are refused (the roster is resent later).
        let mut held_events = 0;
        while conn.send_event(&frame(10)).is_ok() {
            held_events += 1;
            assert!(held_events <= BOUNDS.events);
        }
        assert!(held_events >= BOUNDS.events - usize::from(partial));
        assert!(
            conn.backlogged(),
            "with frames held, the client is no longer read"
        );
        // Replies are always kept (the backlog stops the client asking for more).
        conn.reply(&frame(10));
        assert!(conn.has_unsent());
        assert!(!conn.is_broken());
    }

    #[test]
    fn what_is_held_drains_in_order_once_the_peer_reads() {
        let (conn, mut peer) = stalled(None);
        let big = frame(1000);
        while !conn.has_unsent() {
            if conn.send(&big).is_err() {
                conn.reply(&frame(3));
            }
        }
        conn.reply(&Frame::from_payload(b"last"));
        peer.set_nonblocking(false).unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            let mut buf = [0u8; 65536];
            while !all.ends_with(b"last") {
                let n = peer.read(&mut buf).expect("the held bytes arrive");
                assert!(n > 0, "closed early");
                all.extend_from_slice(&buf[..n]);
            }
            all
        });
        // Flush until nothing is held, or the reader has given up (then join reports why).
        while conn.has_unsent() && !reader.is_finished() {
            conn.flush().unwrap();
            std::thread::yield_now();
        }
        let all = reader.join().unwrap();
        assert!(!conn.has_unsent());
        // Whole frames, back to back: a frame's rest never got overtaken.
        let mut at = 0;
        while at < all.len() {
            assert_eq!(all[at], 0x82, "a frame starts at {at}");
            let len = match all[at + 1] {
                126 => 4 + usize::from(u16::from_be_bytes([all[at + 2], all[at + 3]])),
                n => 2 + usize::from(n),
            };
            at += len;
        }
        assert_eq!(at, all.len());
    }

    #[test]
    fn the_simulated_link_is_bounded_and_drops_nothing_it_took() {
        let sim = NetSim::new(
            &config::NetSim {
                enabled: true,
                delay: Duration::from_secs(60),
                jitter: Duration::ZERO,
                drop: 0.0,
            },
            1,
        );
        let (conn, _peer) = stalled(Some(sim));
        let mut taken = 0;
        while conn.send(&frame(5)).is_ok() {
            taken += 1;
            assert!(taken <= 1000, "the simulated link never filled");
        }
        assert!(conn.backlogged(), "a full link stops the client being read");
        assert_eq!(conn.send_event(&frame(5)), Err(SendError::Full));
        conn.release_all();
        // Everything the link took is still there, in order, to be written.
        assert!(conn.has_unsent());
    }
}
