//! What a connection's task sleeps on: a signal raised on its connection, its socket readable
//! (when the task reads it) or writable (when bytes are held), or a delayed frame coming due.

use super::Link;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use tokio::time::Sleep;

/// With `[netsim]`: wakes the task when the next delayed frame is due.
pub type NetsimTimer = Option<Pin<Box<Sleep>>>;

/// Sleeps until there is something to do: a signal, the socket readable (when the task reads it
/// and the client is reading its answers), writable (when bytes are held), or a delayed frame due.
pub async fn wait(link: &Link, timer: &mut NetsimTimer) {
    let conn = &link.conn;
    let reading = link.live.borrow().lobby.is_none();
    let due = conn.netsim_due();
    if let Some(at) = due {
        let deadline = tokio::time::Instant::from_std(at);
        match timer {
            Some(t) => t.as_mut().reset(deadline),
            None => *timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
    }
    std::future::poll_fn(|cx| {
        if conn.poll_signal(cx).is_ready() {
            return Poll::Ready(());
        }
        if reading && !conn.backlogged() && conn.socket().poll_readable(cx).is_ready() {
            return Poll::Ready(());
        }
        if conn.has_unsent() && conn.socket().poll_writable(cx).is_ready() {
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
