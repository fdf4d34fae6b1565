//! `/echo` (off unless `server.echo_route`): every message back as it came, for the Autobahn
//! conformance suite, through the same reader, writer and close handshake as `/ws`.

use super::{close, Live};
use crate::protocol::CloseCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

pub(super) async fn run(mut live: Live) {
    let key = live.shard.add_conn(live.conn.clone());
    let close = loop {
        if let Some(code) = live.conn.kicked() {
            break Some(close::frame_for(code));
        }
        if live.conn.is_broken() {
            break None;
        }
        if !live.conn.backlogged() {
            match live.s.ws.read(&mut live.conn.ws_io()) {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                    live.conn.heard.set(std::time::Instant::now());
                    if live.s.ws.write(&mut live.conn.ws_io(), m).is_err() {
                        break None;
                    }
                    continue;
                }
                Ok(Message::Close(_)) => {
                    // Answer the client's close (tungstenite has queued the reply).
                    close::close(&mut live.s.ws, &live.conn, None).await;
                    live.shard.remove_conn(key);
                    return;
                }
                Ok(_) => {
                    live.conn.heard.set(std::time::Instant::now());
                    continue;
                }
                Err(WsError::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                // Say why, as /ws does: too big is 1009, bad UTF-8 1007, broken framing 1002.
                Err(e) => {
                    let code = match e {
                        WsError::Capacity(_) => Some(WsCloseCode::Size),
                        WsError::Utf8(_) => Some(WsCloseCode::Invalid),
                        WsError::Protocol(_) => Some(WsCloseCode::Protocol),
                        _ => None,
                    };
                    break code.map(|code| CloseFrame {
                        code,
                        reason: "".into(),
                    });
                }
            }
        }
        if live.conn.flush().is_err() {
            break None;
        }
        live.wait().await;
    };
    live.shard.remove_conn(key);
    if let Some(frame) = close {
        close::close(&mut live.s.ws, &live.conn, Some(frame)).await;
    }
    let _ = CloseCode::GoingAway;
}
