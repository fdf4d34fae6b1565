//! A connection's task on its shard: the hello, then a loop that wakes only when there is
//! something to do (a message outside a lobby, a signal, bytes to flush, a delayed frame due),
//! and the end: out of the lobby, then closed or on its way to another shard.

use super::close;
use super::cluster_ops;
use super::echo;
use super::flood::FloodGuard;
use super::portable::{Moving, Pending, Session};
use super::reading::Pass;
use super::socket::Socket;
use super::wait::{wait, NetsimTimer};
use super::writer::Conn;
use super::{bounds, ws_config, Exit, Link, Live};
use crate::netsim::NetSim;
use crate::shard::handle::{Incoming, Route};
use crate::shard::local::Shard;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Instant;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketContext};
use tracing::{debug, Instrument};

/// What the task does before its loop.
enum Start {
    Hello,
    /// Arrived from another shard: enter the lobby it came for.
    Perform(Pending),
}

fn link(shard: Rc<Shard>, s: Session, conn: Conn) -> Rc<Link> {
    let conn = Rc::new(conn);
    Rc::new_cyclic(|me| Link {
        conn: conn.clone(),
        live: RefCell::new(Live {
            shard,
            s,
            conn,
            lobby: None,
            me: me.clone(),
            exit: None,
            ask: None,
        }),
    })
}

/// Serves a connection that has just been upgraded, from its hello to its close.
pub async fn serve(shard: Rc<Shard>, inc: Incoming) {
    // Set up outside the future's awaits: what the task carries for the connection's life is
    // just the link.
    let Some((link, route, span)) = accept(shard, inc) else {
        return;
    };
    match route {
        Route::Refuse(code) => end(link, Exit::Close(code)).instrument(span).await,
        Route::Echo => echo::run(link).instrument(span).await,
        Route::Game => drive(link, Start::Hello).instrument(span).await,
    }
}

fn accept(shard: Rc<Shard>, inc: Incoming) -> Option<(Rc<Link>, Route, tracing::Span)> {
    let ctx = shard.ctx.clone();
    let cfg = &ctx.config;
    let span = tracing::info_span!("session", session = inc.id.0, peer = %inc.peer, name = tracing::field::Empty);
    let sock = Socket::new(inc.stream).ok()?;
    let now = Instant::now();
    let netsim = cfg
        .netsim
        .enabled
        .then(|| NetSim::new(&cfg.netsim, inc.id.0));
    let conn = Conn::new(
        inc.id,
        sock,
        VecDeque::new(),
        netsim,
        bounds(&cfg.limits),
        now,
    );
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
    let link = link(shard, s, conn);
    if inc.route == Route::Game {
        ctx.metrics.connections.inc();
        link.conn
            .hello_by
            .set(Some(now + cfg.limits.handshake_timeout));
    }
    Some((link, inc.route, span))
}

/// Carries on a session that moved here to enter a lobby of this shard.
pub async fn arrive(shard: Rc<Shard>, m: Box<Moving>) {
    let Some((link, then, span)) = settle_in(shard, *m) else {
        return;
    };
    drive(link, Start::Perform(then)).instrument(span).await
}

fn settle_in(shard: Rc<Shard>, m: Moving) -> Option<(Rc<Link>, Pending, tracing::Span)> {
    let span = m.session.span.clone();
    let sock = match Socket::new(m.stream) {
        Ok(s) => s,
        Err(_) => {
            if m.session.counted {
                shard.ctx.metrics.connections.dec();
            }
            return None;
        }
    };
    let bounds = bounds(&shard.ctx.config.limits);
    let conn = Conn::new(m.session.id, sock, m.held, m.netsim, bounds, Instant::now());
    Some((link(shard, m.session, conn), m.then, span))
}

async fn drive(link: Rc<Link>, start: Start) {
    debug!("connected");
    let shard = link.live.borrow().shard.clone();
    let key = shard.add_conn(link.conn.clone());
    let mut hold = Hold {
        shard,
        key,
        link: Some(link),
    };
    let mut timer = None;
    let exit = match &hold.link {
        Some(link) => run(link, start, &mut timer).await,
        None => return,
    };
    let Some(link) = hold.link.take() else {
        return;
    };
    drop(hold);
    end(link, exit).await;
}

/// A session's place on its shard while its task runs. Dropped on the normal way out, it takes
/// the connection out of the shard's table; dropped by a panic, it also lets go of what the
/// session held, so nothing stays behind: its lobby counts it disconnected, the gauge lets it
/// go, and its socket closes with the last reference.
struct Hold {
    shard: Rc<Shard>,
    key: usize,
    link: Option<Rc<Link>>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.shard.remove_conn(self.key);
        if let Some(link) = self.link.take() {
            abandon(&link);
        }
    }
}

/// Lets go of a session that cannot end the usual way: out of its lobby, out of the gauge.
fn abandon(link: &Link) {
    let Ok(mut live) = link.live.try_borrow_mut() else {
        return;
    };
    if let Some(l) = live.lobby.take() {
        if let Ok(mut cell) = l.cell.try_borrow_mut() {
            cell.disconnected(l.member, live.s.id);
        }
    }
    if std::mem::take(&mut live.s.counted) {
        live.shard.ctx.metrics.connections.dec();
    }
}

async fn run(link: &Link, start: Start, timer: &mut NetsimTimer) -> Exit {
    match start {
        // The hello, straight-line: nothing else is read until it has come.
        Start::Hello => loop {
            let said = link.live.borrow_mut().hello_step();
            let pass = match said {
                Ok(None) => break,
                Ok(Some(pass)) => pass,
                Err(exit) => return exit,
            };
            if let Err(exit) = rest(link, pass, timer).await {
                return exit;
            }
        },
        Start::Perform(then) => {
            if let Err(exit) = link.live.borrow_mut().perform(then) {
                return exit;
            }
        }
    }
    loop {
        let stepped = link.live.borrow_mut().step();
        let pass = match stepped {
            Ok(pass) => pass,
            Err(exit) => return exit,
        };
        if let Err(exit) = rest(link, pass, timer).await {
            return exit;
        }
    }
}

/// Asks the cluster's directory what the session left for it, then acts on the answer.
async fn ask_directory(link: &Link) -> Option<Exit> {
    let (ask, cluster, registry) = {
        let mut live = link.live.borrow_mut();
        let ask = live.ask.take()?;
        let ctx = &live.shard.ctx;
        (ask, ctx.cluster.clone()?, ctx.registry.clone())
    };
    let answer = cluster_ops::resolve(cluster, registry, ask).await;
    link.live.borrow_mut().on_answer(answer).err()
}

/// Between two passes: after one that used its whole budget, let the shard's other tasks run and
/// go again; else wait for something to do.
async fn rest(link: &Link, pass: Pass, timer: &mut NetsimTimer) -> Result<(), Exit> {
    if link.live.borrow().ask.is_some() {
        // A question for the cluster's directory first (boxed: only a session that asks pays
        // for its future); the next pass flushes the answer, or asks again.
        return match Box::pin(ask_directory(link)).await {
            Some(exit) => Err(exit),
            None => Ok(()),
        };
    }
    settle(link)?;
    match pass {
        Pass::More => tokio::task::yield_now().await,
        Pass::Done => wait(link, timer).await,
    }
    Ok(())
}

/// Keeps the socket in the shard's reactor only while the task must wait on it: to read outside
/// a lobby, or to flush what the socket did not take.
fn settle(link: &Link) -> Result<(), Exit> {
    let reading = link.live.borrow().lobby.is_none();
    link.conn
        .socket()
        .set_polled(reading || link.conn.has_unsent())
        .map_err(|_| Exit::Gone)
}

/// The session is over here: out of its lobby, then closed, or on its way to another shard.
pub(super) async fn end(link: Rc<Link>, exit: Exit) {
    if let Some(closing) = wind_up(link, exit) {
        closing.await;
    }
}

/// What ending takes that does not wait: leaving the lobby, and moving on. The close handshake,
/// which waits, comes back boxed: its state (a linger buffer among it) is allocated when a
/// connection closes, not carried in every connection's task for its whole life.
fn wind_up(link: Rc<Link>, exit: Exit) -> Option<Pin<Box<dyn Future<Output = ()>>>> {
    let left = link.live.borrow_mut().lobby.take();
    if let Some(l) = left {
        let id = link.live.borrow().s.id;
        l.cell.borrow_mut().disconnected(l.member, id);
    }
    // Nothing else holds the session now (its lobby has let go of it).
    let link = match Rc::try_unwrap(link) {
        Ok(link) => link,
        Err(shared) => {
            debug!("session still shared at its end; letting it go without a close");
            abandon(&shared);
            return None;
        }
    };
    let Link { conn, live } = link;
    drop(conn);
    let live = live.into_inner();
    match exit {
        Exit::Move(to, then) => {
            travel(live, to, then);
            None
        }
        other => Some(Box::pin(finish(live, other))),
    }
}

/// Hands the session and its socket to shard `to`.
fn travel(live: Live, to: usize, then: Pending) {
    let Live { shard, s, conn, .. } = live;
    let lost = |s: &Session| {
        if s.counted {
            shard.ctx.metrics.connections.dec();
        }
    };
    let Ok(conn) = Rc::try_unwrap(conn) else {
        // Someone still holds the connection: it cannot move safely. Not expected.
        lost(&s);
        return;
    };
    let (sock, held, netsim) = conn.into_parts();
    let Ok(stream) = sock.into_std() else {
        lost(&s);
        return;
    };
    debug!(to, ?then, "moving to the lobby's shard");
    let counted = s.counted;
    let moving = Box::new(Moving {
        session: s,
        stream,
        held,
        netsim,
        then,
    });
    // Refused only by a shard that has stopped (shutdown): the socket closes with the message.
    if shard.ctx.shards.arrive(to, moving).is_err() && counted {
        shard.ctx.metrics.connections.dec();
    }
}

/// Closes the socket as `exit` says and lets the connection go.
async fn finish(mut live: Live, exit: Exit) {
    match exit {
        Exit::Close(code) => {
            debug!(code = code.code(), reason = code.reason(), "closing");
            close::close(&mut live.s.ws, &live.conn, Some(close::frame_for(code))).await;
        }
        Exit::ClientClosed => close::close(&mut live.s.ws, &live.conn, None).await,
        Exit::Gone | Exit::Move(..) => {}
    }
    if live.s.counted {
        live.shard.ctx.metrics.connections.dec();
    }
    debug!("disconnected");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future an async fn of two arguments returns.
    fn future_size<A, B, F: Future>(_: fn(A, B) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// A connection's task is allocated for the connection's whole life: keep it small (the
    /// close handshake is boxed when needed rather than carried in every task).
    #[test]
    fn a_session_task_is_small() {
        let serve = future_size(serve);
        let arrive = future_size(arrive);
        assert!(serve <= 512, "serve's future is {serve} bytes");
        assert!(arrive <= 512, "arrive's future is {arrive} bytes");
    }
}
