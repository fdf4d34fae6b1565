//! A connection's socket, in its shard's reactor only while something must wait on it.
//!
//! A member of a lobby is read by the lobby's tick (one `recv` a tick) and written by it (one
//! `send`): nothing waits on its socket, so it is kept out of the shard's epoll set, and a client's
//! input arriving wakes no thread. The socket is registered (as a tokio `TcpStream`) while its
//! session reads requests outside a lobby, or while bytes wait for the socket to take them.

use std::cell::{Cell, RefCell};
use std::io::{self, IoSlice, Read, Write};
use std::task::{Context, Poll};
use tokio::net::TcpStream;

enum Inner {
    /// Non-blocking, not registered: read and written by plain system calls.
    Plain(std::net::TcpStream),
    /// Registered with the shard's reactor, so a task can wait for it.
    Polled(TcpStream),
    /// Between the two (only ever seen if a switch failed).
    Lost,
}

pub struct Socket {
    inner: RefCell<Inner>,
    /// The last read came back short: the socket is empty until there is reason to look again (a
    /// new tick, or readiness), so the next read needs no system call to learn that.
    drained: Cell<bool>,
}

fn lost() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "socket lost")
}

impl Socket {
    /// Takes a connected stream (made non-blocking here), not registered yet.
    pub fn new(stream: std::net::TcpStream) -> io::Result<Socket> {
        stream.set_nonblocking(true)?;
        Ok(Socket {
            inner: RefCell::new(Inner::Plain(stream)),
            drained: Cell::new(false),
        })
    }

    /// Registers the socket with the shard's reactor (`true`) or takes it out (`false`).
    pub fn set_polled(&self, polled: bool) -> io::Result<()> {
        let mut inner = self.inner.borrow_mut();
        let next = match (std::mem::replace(&mut *inner, Inner::Lost), polled) {
            (Inner::Plain(s), true) => Inner::Polled(TcpStream::from_std(s)?),
            (Inner::Polled(s), false) => Inner::Plain(s.into_std()?),
            (same, _) => same,
        };
        *inner = next;
        Ok(())
    }

    pub fn write(&self, b: &[u8]) -> io::Result<usize> {
        match &*self.inner.borrow() {
            Inner::Plain(s) => (&*s).write(b),
            Inner::Polled(s) => s.try_write(b),
            Inner::Lost => Err(lost()),
        }
    }

    pub fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match &*self.inner.borrow() {
            Inner::Plain(s) => (&*s).write_vectored(bufs),
            Inner::Polled(s) => s.try_write_vectored(bufs),
            Inner::Lost => Err(lost()),
        }
    }

    /// Look at the socket again on the next read (a tick has come, or readiness fired).
    pub fn rearm(&self) {
        self.drained.set(false);
    }

    /// One read. A read that does not fill the buffer took everything the socket held, so the
    /// socket counts as empty until it is re-armed (the next tick, or readiness): the read that
    /// would only have said "nothing more" (a system call per message) is skipped.
    ///
    /// A registered socket's readiness is left alone: only a read that really returns
    /// `WouldBlock` may clear it. Clearing it here instead would race with data arriving right
    /// after the short read (its edge would be cleared with the old one, and the data would sit
    /// unread until the client sent more): a wait right after this returns at once, and the
    /// read it leads to finds out.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if self.drained.get() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let inner = self.inner.borrow();
        let n = match &*inner {
            Inner::Plain(s) => (&*s).read(buf)?,
            Inner::Polled(s) => s.try_read(buf)?,
            Inner::Lost => return Err(lost()),
        };
        if n > 0 && n < buf.len() {
            self.drained.set(true);
        } else if n == 0 {
            // End of stream: no amount of re-reading changes that.
            self.drained.set(false);
        }
        Ok(n)
    }

    /// Ready when a registered socket may have something to read (never, if not registered).
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        match &*self.inner.borrow() {
            Inner::Polled(s) => match s.poll_read_ready(cx) {
                Poll::Ready(_) => {
                    self.drained.set(false);
                    Poll::Ready(())
                }
                Poll::Pending => Poll::Pending,
            },
            _ => Poll::Pending,
        }
    }

    /// Ready when a registered socket can take bytes (never, if not registered).
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<()> {
        match &*self.inner.borrow() {
            Inner::Polled(s) => s.poll_write_ready(cx).map(|_| ()),
            _ => Poll::Pending,
        }
    }

    /// Sends FIN (the close handshake's last word from us).
    pub fn shutdown_write(&self) {
        let inner = self.inner.borrow();
        let _ = match &*inner {
            Inner::Plain(s) => socket2::SockRef::from(s).shutdown(std::net::Shutdown::Write),
            Inner::Polled(s) => socket2::SockRef::from(s).shutdown(std::net::Shutdown::Write),
            Inner::Lost => Ok(()),
        };
    }

    /// The plain stream, out of the reactor, to move to another shard.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        match self.inner.into_inner() {
            Inner::Plain(s) => Ok(s),
            Inner::Polled(s) => s.into_std(),
            Inner::Lost => Err(lost()),
        }
    }
}
