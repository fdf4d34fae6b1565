//! The close handshake (RFC 6455 section 7): our close frame after everything already sent, or our
//! answer to the client's; then the TCP close, done so that the client really gets to read it.

use super::writer::Conn;
use crate::protocol::CloseCode;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketContext};

/// How long writing the close frame (and what is held before it) may take, and how long we then
/// wait for the client to close its side.
const CLOSE_WRITE: Duration = Duration::from_secs(1);
const CLOSE_LINGER: Duration = Duration::from_secs(1);

/// Our close code and its reason as a close frame.
pub fn frame_for(code: CloseCode) -> CloseFrame {
    CloseFrame {
        code: WsCloseCode::from(code.code()),
        reason: code.reason().into(),
    }
}

/// Closes the connection: with `ours`, we start the close; without, we answer the close frame
/// the client sent (tungstenite has queued the echo of its code).
///
/// After our own close frame we send FIN, then read and discard whatever the client still sends
/// until it closes its side. Closing a socket with unread input makes the kernel answer with a
/// reset, and a reset can destroy the close frame before the client reads it: a flooder, or a
/// client whose oversized message is only half read, would see "connection reset" instead of the
/// reason. Every step is bounded, so a peer that neither reads nor closes cannot hold the task.
pub async fn close(ws: &mut WebSocketContext, conn: &Conn, ours: Option<CloseFrame>) {
    let sock = conn.socket();
    if sock.set_polled(true).is_err() {
        return;
    }
    // Whatever waits out a simulated delay goes first; the close frame follows it.
    conn.release_all();
    let started = ours.is_some();
    let _ = match ours {
        Some(frame) => ws.close(&mut conn.ws_io(), Some(frame)),
        None => ws.flush(&mut conn.ws_io()),
    };
    let written = tokio::time::timeout(CLOSE_WRITE, async {
        loop {
            match conn.flush() {
                Ok(true) => return true,
                Ok(false) => std::future::poll_fn(|cx| sock.poll_writable(cx)).await,
                Err(_) => return false,
            }
        }
    })
    .await;
    if !started || !matches!(written, Ok(true)) {
        return;
    }
    sock.shutdown_write();
    let _ = tokio::time::timeout(CLOSE_LINGER, async {
        let mut buf = [0u8; 4096];
        loop {
            std::future::poll_fn(|cx| sock.poll_readable(cx)).await;
            match sock.read(&mut buf) {
                Ok(0) => return,
                Ok(_) => sock.rearm(),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    })
    .await;
}
