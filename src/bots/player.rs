//! A seated bot: its reader (every frame the socket holds, at each readable wake-up), the input
//! its thread's ticker writes for it, a flush task only while the kernel refuses bytes, and the
//! polite exit (`Leave`, then a close frame, then the server's close).

use super::conn::{self, would_block, Fd, Ws};
use super::view::{Frame, Inflight, View};
use super::worker::Ctx;
use crate::protocol::{encode, encode_into, ClientMsg, JoinedInfo, PlayerInput};
use bytes::Bytes;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message};

/// One bot in its lobby. Shared by its reader task and its thread's ticker; single-threaded, and
/// no borrow is held across an await.
pub struct Player {
    ws: Ws,
    fd: Fd,
    me: u32,
    view: View,
    inflight: Inflight,
    seq: u32,
    last_tick: u32,
    /// Ticks between two snapshots (the snapshot rate divides the tick rate).
    step: u32,
    dx: i8,
    dy: i8,
    redraw_at: Instant,
    rng: fastrand::Rng,
    /// The encoded input, reused.
    buf: Vec<u8>,
    /// A flush task is waiting for the socket to take tungstenite's tail.
    flushing: bool,
    /// Sent `Leave` and a close frame: everything from now on is the goodbye.
    leaving: bool,
    /// Done; whoever set this counted why.
    ended: bool,
}

impl Player {
    pub fn new(ws: Ws, fd: Fd, joined: &JoinedInfo, rng: fastrand::Rng) -> Result<Player, String> {
        let me = joined.you.ok_or("join:no seat")?.0;
        let (view, first) = View::new(joined)?;
        let lobby_rate = joined.tick_rate.max(1);
        // Keep counting from where the server is (0 for a fresh seat): stale seqs are ignored.
        let ack = first.own_ack.unwrap_or(0);
        Ok(Player {
            ws,
            fd,
            me,
            view,
            inflight: Inflight::new(ack),
            seq: ack,
            last_tick: first.tick,
            step: u32::from(lobby_rate / joined.snapshot_rate.clamp(1, lobby_rate)).max(1),
            dx: 0,
            dy: 0,
            redraw_at: Instant::now(),
            rng,
            buf: Vec::with_capacity(32),
            flushing: false,
            leaving: false,
            ended: false,
        })
    }

    /// Reads and counts every whole frame tungstenite can get without blocking. `Ok` when the
    /// socket is drained; `Err` when the bot is done (with the error kind to count, if any).
    fn read_frames(&mut self, ctx: &Ctx) -> Result<(), Option<String>> {
        if self.ended {
            return Err(None);
        }
        self.ws.get_mut().woken();
        loop {
            // A queued pong goes out at the start of the next `read`, so it never waits long.
            let r = self.ws.read();
            if would_block(&r) {
                return Ok(());
            }
            // The goodbye may end any way it likes: the run is over for this bot.
            let leaving = self.leaving;
            let quiet = move |kind: String| (!leaving).then_some(kind);
            match r {
                Ok(Message::Binary(b)) if !self.leaving => self.on_frame(&b, ctx).map_err(Some)?,
                Ok(Message::Close(f)) => {
                    return Err(quiet(match f {
                        Some(f) => format!("closed {}", u16::from(f.code)),
                        None => "closed".into(),
                    }))
                }
                Ok(_) => {}
                Err(e) => return Err(quiet(conn::ws_kind(&e))),
            }
        }
    }

    /// Counts one binary frame and times the inputs its ack covers.
    fn on_frame(&mut self, bytes: &[u8], ctx: &Ctx) -> Result<(), String> {
        let measuring = ctx.measuring();
        let mut st = ctx.stats.borrow_mut();
        let len = bytes.len() as u64;
        st.live_bytes += len;
        if measuring {
            st.bytes += len;
        }
        let seen = match self.view.frame(bytes, self.me, &ctx.shared)? {
            Frame::Snapshot(s) => s,
            Frame::Joined(j) => {
                let (view, seen) = View::new(&j)?;
                self.view = view;
                seen
            }
            Frame::Left => return Err("left the lobby".into()),
            Frame::Other => return Ok(()),
        };
        st.live_snapshots += 1;
        if measuring {
            st.snapshots += 1;
            let gap = seen.tick.wrapping_sub(self.last_tick);
            st.missed_ticks += u64::from((gap / self.step).saturating_sub(1));
            if seen.full {
                st.resyncs += 1;
            }
        }
        self.last_tick = seen.tick;
        if let Some(ack) = seen.own_ack {
            self.inflight
                .acked(ack, ctx.now_us(), |us| st.latency(us, measuring));
        }
        Ok(())
    }

    /// Writes this tick's input. `false` when the bot is done and should leave its group.
    fn input(&mut self, now: Instant, ctx: &Ctx) -> bool {
        if self.ended || self.leaving {
            return false;
        }
        if self.ws.get_ref().write_blocked() {
            // The kernel has not taken the last frames yet: drop this input rather than queue
            // behind them (the server applies the latest input anyway).
            return true;
        }
        if now >= self.redraw_at {
            // WORKLOAD.md: (dx, dy) uniform over {-1, 0, 1}^2, redrawn once a second.
            self.dx = self.rng.i8(-1..=1);
            self.dy = self.rng.i8(-1..=1);
            self.redraw_at = now + Duration::from_secs(1);
        }
        let seq = self.seq.wrapping_add(1);
        let (aim, buttons) = self.view.aim(self.me);
        let input = PlayerInput {
            seq,
            dx: self.dx,
            dy: self.dy,
            aim,
            buttons,
        };
        self.buf.clear();
        encode_into(&mut self.buf, &ClientMsg::Input(input));
        // The clock per bot, not per firing: a group's writes take a while, and the latency
        // starts when this bot's input leaves.
        let sent_at = ctx.now_us();
        let r = self
            .ws
            .write(Message::Binary(Bytes::copy_from_slice(&self.buf)));
        match &r {
            Ok(()) => self.ws.get_mut().written(),
            // Queued in tungstenite's tail: it goes out when the socket takes it.
            _ if would_block(&r) => {}
            Err(tungstenite::Error::WriteBufferFull(_)) => return true,
            Err(e) => {
                self.ended = true;
                ctx.shared.bot_ended(&format!("send:{}", conn::ws_kind(e)));
                return false;
            }
        }
        self.seq = seq;
        self.inflight.record_send(seq, sent_at);
        if ctx.measuring() {
            ctx.stats.borrow_mut().inputs += 1;
        }
        true
    }

    /// Sends `Leave` and a close frame, so the server frees the seat now rather than holding it
    /// for the reconnect grace as for a dropped connection.
    fn leave(&mut self) {
        if self.ended || self.leaving {
            return;
        }
        self.leaving = true;
        let mut r = self
            .ws
            .write(Message::Binary(encode(&ClientMsg::Leave).into()));
        if r.is_ok() || would_block(&r) {
            r = self.ws.close(None);
        }
        match r {
            Ok(()) => self.ws.get_mut().written(),
            _ if would_block(&r) => {}
            // Nothing more to say on this socket; the reader ends on its error or at the deadline.
            Err(_) => self.ended = true,
        }
    }

    /// Whether a flush task should start (and, if so, that one now runs).
    fn claim_flush(&mut self) -> bool {
        let start = self.ws.get_ref().write_blocked() && !self.flushing && !self.ended;
        self.flushing |= start;
        start
    }
}

/// The ticker's turn for `p`: `false` when it is done.
pub fn send_input(p: &Rc<RefCell<Player>>, now: Instant, ctx: &Rc<Ctx>) -> bool {
    let keep = p.borrow_mut().input(now, ctx);
    flush_if_blocked(p, ctx);
    keep
}

/// Says goodbye to the server (at the end of the run).
pub fn leave(p: &Rc<RefCell<Player>>, ctx: &Rc<Ctx>) {
    p.borrow_mut().leave();
    flush_if_blocked(p, ctx);
}

/// Reads until the bot is done: the server closed, an error, or the goodbye was answered.
pub async fn play(p: Rc<RefCell<Player>>, ctx: Rc<Ctx>) {
    let fd = p.borrow().fd.clone();
    let end = loop {
        if let Err(e) = fd.readable().await {
            break Some(format!("io {:?}", e.kind()));
        }
        let read = p.borrow_mut().read_frames(&ctx);
        if let Err(end) = read {
            break end;
        }
        flush_if_blocked(&p, &ctx);
    };
    let mut pb = p.borrow_mut();
    if !pb.ended {
        pb.ended = true;
        if let Some(kind) = end.filter(|_| !pb.leaving) {
            ctx.shared.bot_ended(&kind);
        }
    }
}

/// Starts a flush task when tungstenite holds bytes the kernel refused (a pong or an input).
fn flush_if_blocked(p: &Rc<RefCell<Player>>, ctx: &Rc<Ctx>) {
    if p.borrow_mut().claim_flush() {
        tokio::task::spawn_local(flush(p.clone(), ctx.clone()));
    }
}

/// Sends tungstenite's tail as the socket takes it.
async fn flush(p: Rc<RefCell<Player>>, ctx: Rc<Ctx>) {
    let fd = p.borrow().fd.clone();
    loop {
        if fd.writable().await.is_err() {
            break;
        }
        let mut pb = p.borrow_mut();
        if pb.ended {
            break;
        }
        // A `WouldBlock` here has cleared the socket's writable readiness: the next wait sleeps.
        let r = pb.ws.flush();
        if would_block(&r) {
            continue;
        }
        match &r {
            Ok(()) => pb.ws.get_mut().written(),
            Err(e) => {
                // A broken socket: the bot is done (its reader wakes to it and stops quietly).
                pb.ended = true;
                if !pb.leaving {
                    ctx.shared.bot_ended(&format!("send:{}", conn::ws_kind(e)));
                }
            }
        }
        break;
    }
    p.borrow_mut().flushing = false;
}
