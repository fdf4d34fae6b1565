//! A seated bot: its reader (every frame the socket holds, at each readable wake-up), the input
//! its thread's ticker writes for it, a flush task only while the kernel refuses bytes, and the
//! polite exit (`Leave`, then a close frame, then the server's close).

use super::conn::{Conn, ConnError, Msg};
use super::frame::OP_BINARY;
use super::view::{Frame, Inflight, View};

use super::thread::Ctx;
use crate::protocol::{encode, encode_into, ClientMsg, JoinedInfo, PlayerInput};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use tokio::time::Instant;

/// One bot in its lobby. Shared by its reader task and its thread's ticker; single-threaded, and
/// no borrow is held across an await.
pub struct Player {
    conn: Conn,
    game: Game,
    /// A flush task is waiting for the socket to take the connection's tail.
    flushing: bool,
    /// Sent `Leave` and a close frame: everything from now on is the goodbye.
    leaving: bool,
    /// Done; whoever set this counted why.
    ended: bool,
}

/// How long a bot told `Left` waits for the server's close (a kick's 4007 follows at once; a
/// lobby that closed under it sends none) before it ends as "left the lobby".
const LEFT_GRACE: Duration = Duration::from_secs(1);

/// What a bot knows of its game (apart from its connection, so that a frame borrowed from the
/// connection can be read into it).
struct Game {
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
    /// When the server said the bot left its lobby (kicked, or the lobby closed): it sends no
    /// more inputs and waits a little for the server's close, whose code says more.
    left_at: Option<Instant>,
}

impl Player {
    pub fn new(conn: Conn, joined: &JoinedInfo, rng: fastrand::Rng) -> Result<Player, String> {
        let me = joined.you.ok_or("join:no seat")?.0;
        let (view, first) = View::new(joined)?;
        let lobby_rate = joined.tick_rate.max(1);
        // Keep counting from where the server is (0 for a fresh seat): stale seqs are ignored.
        let ack = first.own_ack.unwrap_or(0);
        let game = Game {
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
            left_at: None,
        };
        Ok(Player {
            conn,
            game,
            flushing: false,
            leaving: false,
            ended: false,
        })
    }

    /// Reads and counts every whole frame there is without blocking. `Ok` when the socket is
    /// drained; `Err` when the bot is done (with the error kind to count, if any).
    fn read_frames(&mut self, ctx: &Ctx) -> Result<(), Option<String>> {
        if self.ended {
            return Err(None);
        }
        // The goodbye may end any way it likes: the run is over for this bot.
        let quiet = |leaving: bool, kind: String| (!leaving).then_some(kind);
        self.conn.woken();
        loop {
            match self.conn.read() {
                Ok(None) => return Ok(()),
                Ok(Some(Msg::Binary(b))) => {
                    if !self.leaving {
                        self.game.on_frame(b, ctx).map_err(Some)?;
                    }
                }
                Ok(Some(Msg::Close(code))) => {
                    let kind = code.map_or("closed".into(), |c| format!("closed {c}"));
                    return Err(quiet(self.leaving, kind));
                }
                Err(e) => return Err(quiet(self.leaving, e.kind())),
            }
        }
    }

    /// Writes this tick's input. `false` when the bot is done and should leave its group.
    fn input(&mut self, now: Instant, ctx: &Ctx) -> bool {
        if self.ended || self.leaving {
            return false;
        }
        if let Some(at) = self.game.left_at {
            if now.saturating_duration_since(at) < LEFT_GRACE {
                return true;
            }
            self.ended = true;
            ctx.shared.bot_ended("left the lobby");
            // Nothing more to say: the server's answer to the close ends the reader.
            let _ = self.conn.close();
            return false;
        }
        if self.conn.blocked() {
            // The kernel has not taken the last frames yet: drop this input rather than queue
            // behind them (the server applies the latest input anyway).
            return true;
        }
        let g = &mut self.game;
        if now >= g.redraw_at {
            // WORKLOAD.md: (dx, dy) uniform over {-1, 0, 1}^2, redrawn once a second.
            g.dx = g.rng.i8(-1..=1);
            g.dy = g.rng.i8(-1..=1);
            g.redraw_at = now + Duration::from_secs(1);
        }
        let seq = g.seq.wrapping_add(1);
        let (aim, buttons) = g.view.aim(g.me);
        let input = PlayerInput {
            seq,
            dx: g.dx,
            dy: g.dy,
            aim,
            buttons,
            view_tick: 0,
        };
        g.buf.clear();
        let msg = ClientMsg::Input {
            input,
            earlier: Vec::new(),
        };
        encode_into(&mut g.buf, &msg);
        // The clock per bot, not per firing: a group's writes take a while, and the latency
        // starts when this bot's input leaves.
        let sent_at = ctx.now_us();
        if let Err(e) = self.conn.send(OP_BINARY, &g.buf) {
            self.end(ctx, "send", &e);
            return false;
        }
        g.seq = seq;
        g.inflight.record_send(seq, sent_at);
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
        let sent = self.conn.send(OP_BINARY, &encode(&ClientMsg::Leave));
        if sent.and_then(|()| self.conn.close()).is_err() {
            // Nothing more to say on this socket; the reader ends on its error or at the deadline.
            self.ended = true;
        }
    }

    /// Ends the bot on a connection error at `step`, counted unless it was saying goodbye.
    fn end(&mut self, ctx: &Ctx, step: &str, e: &ConnError) {
        self.ended = true;
        if !self.leaving {
            ctx.shared.bot_ended(&format!("{step}:{}", e.kind()));
        }
    }

    /// Whether a flush task should start (and, if so, that one now runs).
    fn claim_flush(&mut self) -> bool {
        let start = self.conn.blocked() && !self.flushing && !self.ended;
        self.flushing |= start;
        start
    }
}

impl Game {
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
            Frame::Left => {
                self.left_at.get_or_insert_with(Instant::now);
                return Ok(());
            }
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
    let tcp = p.borrow().conn.tcp().clone();
    let end = loop {
        if let Err(e) = tcp.readable().await {
            break Some(format!("io {:?}", e.kind()));
        }
        let read = p.borrow_mut().read_frames(&ctx);
        if let Err(end) = read {
            break end;
        }
        // A pong (or the close's echo) the kernel would not take yet.
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

/// Starts a flush task when bytes wait for the socket (a refused input, a pong, the goodbye).
fn flush_if_blocked(p: &Rc<RefCell<Player>>, ctx: &Rc<Ctx>) {
    if p.borrow_mut().claim_flush() {
        tokio::task::spawn_local(flush(p.clone(), ctx.clone()));
    }
}

/// Sends the connection's tail as the socket takes it.
async fn flush(p: Rc<RefCell<Player>>, ctx: Rc<Ctx>) {
    let tcp = p.borrow().conn.tcp().clone();
    loop {
        if tcp.writable().await.is_err() {
            break;
        }
        let mut pb = p.borrow_mut();
        if pb.ended {
            break;
        }
        // `false`: the socket is full again, and its writable readiness is cleared.
        match pb.conn.flush() {
            Ok(false) => continue,
            Ok(true) => break,
            // A broken socket: the bot is done (its reader wakes to it and stops quietly).
            Err(e) => {
                pb.end(&ctx, "send", &e);
                break;
            }
        }
    }
    p.borrow_mut().flushing = false;
}
