//! `/echo` (off unless `server.echo_route`): every message back as it came, for the Autobahn
//! conformance suite, through the same reader, writer and close handshake as `/ws`.

use super::reading::{Pass, READ_BUDGET};
use super::wait::wait;
use super::{close, Link, Live};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// How an echo connection ends.
enum End {
    /// We close, with this frame.
    Ours(CloseFrame),
    /// The client closed: answer its close frame.
    Answer,
    /// The socket is gone.
    Drop,
}

/// Echoes what the socket holds, within the read budget; `Err` when the connection is over.
fn step(live: &mut Live) -> Result<Pass, End> {
    let conn = live.conn.clone();
    if let Some(code) = conn.kicked() {
        return Err(End::Ours(close::frame_for(code)));
    }
    if conn.is_broken() {
        return Err(End::Drop);
    }
    let mut budget = READ_BUDGET;
    loop {
        let mut stopped_backlogged = false;
        while budget > 0 {
            if conn.backlogged() {
                stopped_backlogged = true;
                break;
            }
            match live.s.ws.read(&mut conn.ws_io()) {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                    conn.heard.set(std::time::Instant::now());
                    if live.s.ws.write(&mut conn.ws_io(), m).is_err() {
                        return Err(End::Drop);
                    }
                }
                Ok(Message::Close(_)) => return Err(End::Answer),
                Ok(_) => conn.heard.set(std::time::Instant::now()),
                Err(WsError::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                // Say why, as /ws does: too big is 1009, bad UTF-8 1007, broken framing 1002.
                Err(e) => {
                    let code = match e {
                        WsError::Capacity(_) => WsCloseCode::Size,
                        WsError::Utf8(_) => WsCloseCode::Invalid,
                        WsError::Protocol(_) => WsCloseCode::Protocol,
                        _ => return Err(End::Drop),
                    };
                    return Err(End::Ours(CloseFrame {
                        code,
                        reason: "".into(),
                    }));
                }
            }
            budget -= 1;
        }
        if conn.flush().is_err() {
            return Err(End::Drop);
        }
        if budget == 0 {
            return Ok(Pass::More);
        }
        // Messages a backlog left in the buffer are read once it drains (see reading.rs).
        if !stopped_backlogged || conn.backlogged() {
            return Ok(Pass::Done);
        }
    }
}

pub(super) async fn run(link: Rc<Link>) {
    let shard = link.live.borrow().shard.clone();
    let key = shard.add_conn(link.conn.clone());
    let mut timer = None;
    let end = loop {
        let stepped = step(&mut link.live.borrow_mut());
        let pass = match stepped {
            Ok(pass) => pass,
            Err(end) => break end,
        };
        if link.conn.socket().set_polled(true).is_err() {
            break End::Drop;
        }
        match pass {
            Pass::More => tokio::task::yield_now().await,
            Pass::Done => wait(&link, &mut timer).await,
        }
    };
    shard.remove_conn(key);
    if let Some(closing) = closing(link, end) {
        closing.await;
    }
}

/// The close handshake, boxed: allocated when the connection closes, not carried in its task.
fn closing(link: Rc<Link>, end: End) -> Option<Pin<Box<dyn Future<Output = ()>>>> {
    let Ok(Link { conn, live }) = Rc::try_unwrap(link) else {
        return None;
    };
    drop(conn);
    let mut live = live.into_inner();
    let frame = match end {
        End::Ours(frame) => Some(frame),
        End::Answer => None,
        End::Drop => return None,
    };
    Some(Box::pin(async move {
        close::close(&mut live.s.ws, &live.conn, frame).await
    }))
}
