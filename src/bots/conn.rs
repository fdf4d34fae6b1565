//! One bot's connection: a non-blocking TCP socket under tungstenite's sync `WebSocket`, driven by
//! the readiness of its worker thread's reactor.
//!
//! Decisions, and why:
//! - tungstenite keeps the WebSocket work it does well: the upgrade handshake (and the bytes the
//!   server sent right after the 101, which `tokio_tungstenite::WebSocketStream::into_inner`
//!   would drop), masking every client frame, reassembling fragments, queueing pongs for the
//!   server's pings and the close handshake. It is handed the socket through [`SockIo`], a
//!   `Read`/`Write` adapter over tokio's `try_read`/`try_write` that never blocks; what would
//!   block comes back as `WouldBlock`.
//! - No per-connection task sits in the write path: the thread's ticker writes an input straight
//!   to the socket (one `write` syscall). Only when the kernel refuses bytes does tungstenite keep
//!   the rest as a small bounded tail, which a flush task sends on writable readiness.
//! - One `read` per wake-up, not two. Tokio learns that a socket drained only from a read that
//!   fails with `WouldBlock`, which would double the read syscalls. A TCP read that returns fewer
//!   bytes than asked for has seen the receive queue empty, and Linux TCP signals every later
//!   arrival to epoll as a new edge; so after a short read [`SockIo`] answers the next read with
//!   a `WouldBlock` of its own, passed through `try_io` so that tokio clears the readiness.
//!   `try_io` clears only the readiness tokio had when it was called, and on a current-thread
//!   runtime the reactor cannot deliver a newer event in between, because it runs only between
//!   tasks. That holds within one synchronous stretch of reads, so every such stretch starts
//!   with [`SockIo::woken`], which forgets what the previous one saw.
//! - `tokio::net::TcpStream` rather than `AsyncFd`: registering a raw fd is `unsafe` in this
//!   tokio (its safe constructor is deprecated as unsound), and this crate forbids `unsafe`.

use std::io::{self, ErrorKind, Read, Write};
use std::rc::Rc;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::HandshakeError;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message, WebSocket};

/// A bot's socket; its reader, its flush task and its [`SockIo`] share it.
pub type Fd = Rc<TcpStream>;
pub type Ws = WebSocket<SockIo>;

/// Most bytes a bot keeps unsent before it skips inputs (a few hundred inputs' worth, and a
/// Leave and a close on top).
const MAX_TAIL: usize = 16 * 1024;

/// `Read`/`Write` over a non-blocking socket, remembering what blocked.
pub struct SockIo {
    fd: Fd,
    /// A read since the last wake-up came back short: the kernel's queue was empty then.
    drained: bool,
    /// The last write could not hand the kernel everything: tungstenite holds a tail.
    write_blocked: bool,
    /// What the last `WouldBlock` waited for (the handshake can block either way).
    blocked_on: Interest,
}

impl SockIo {
    /// A readiness guard was just taken: reads go to the kernel again.
    pub fn woken(&mut self) {
        self.drained = false;
    }

    /// Whether tungstenite holds bytes the kernel has not taken yet.
    pub fn write_blocked(&self) -> bool {
        self.write_blocked
    }

    /// tungstenite's buffer is empty again (a write or flush returned `Ok`).
    pub fn written(&mut self) {
        self.write_blocked = false;
    }
}

impl Read for SockIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.drained {
            self.blocked_on = Interest::READABLE;
            // Through `try_io`, so that tokio forgets the readiness we used up.
            return self.fd.try_io(Interest::READABLE, || {
                Err::<usize, _>(ErrorKind::WouldBlock.into())
            });
        }
        match self.fd.try_read(buf) {
            Ok(n) => {
                // 0 is the end of the stream, not an empty queue: let tungstenite see it.
                if n > 0 && n < buf.len() {
                    self.drained = true;
                }
                Ok(n)
            }
            Err(e) => {
                if e.kind() == ErrorKind::WouldBlock {
                    self.drained = true;
                    self.blocked_on = Interest::READABLE;
                }
                Err(e)
            }
        }
    }
}

impl Write for SockIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.fd.try_write(buf) {
            Ok(n) => {
                if n < buf.len() {
                    self.write_blocked = true;
                }
                Ok(n)
            }
            Err(e) => {
                if e.kind() == ErrorKind::WouldBlock {
                    self.write_blocked = true;
                    self.blocked_on = Interest::WRITABLE;
                }
                Err(e)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Whether a tungstenite result is "would block" rather than a real failure.
pub fn would_block<T>(r: &tungstenite::Result<T>) -> bool {
    matches!(r, Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock)
}

/// tungstenite settings for thousands of bots: a 4 KiB read buffer (a walkers snapshot for 400
/// players is ~1.6 KB; larger frames grow it), every frame written at once, a bounded tail.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_TAIL)
}

/// Opens `url` (`ws://host:port/path`) and does the WebSocket handshake. Must run inside a
/// runtime with I/O enabled: the socket is registered with its reactor.
pub async fn connect(url: &str) -> tungstenite::Result<(Ws, Fd)> {
    let request = url.into_client_request()?;
    let uri = request.uri();
    if uri.scheme_str() != Some("ws") {
        // Bots speak plain WebSocket to a server on this machine; TLS is a proxy's job.
        return Err(tungstenite::Error::Url(
            tungstenite::error::UrlError::TlsFeatureNotEnabled,
        ));
    }
    let host = uri
        .host()
        .ok_or(tungstenite::Error::Url(
            tungstenite::error::UrlError::NoHostName,
        ))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let tcp = TcpStream::connect((host.as_str(), port)).await?;
    // Inputs are tiny and must leave at once, not wait for the previous one's ack.
    tcp.set_nodelay(true)?;
    let fd: Fd = Rc::new(tcp);
    let io = SockIo {
        fd: fd.clone(),
        drained: false,
        write_blocked: false,
        blocked_on: Interest::READABLE,
    };
    let mut attempt = tungstenite::client::client_with_config(request, io, Some(ws_config()));
    loop {
        let mut mid = match attempt {
            Ok((ws, _)) => return Ok((ws, fd)),
            Err(HandshakeError::Failure(e)) => return Err(e),
            Err(HandshakeError::Interrupted(mid)) => mid,
        };
        let interest = mid.get_ref().get_ref().blocked_on;
        fd.ready(interest).await?;
        mid.get_mut().get_mut().woken();
        attempt = mid.handshake();
    }
}

/// Sends one binary message and waits until the kernel has all of it (setup only; the hot path
/// is the ticker's `try` write).
pub async fn send(ws: &mut Ws, fd: &Fd, payload: Vec<u8>) -> tungstenite::Result<()> {
    let mut r = ws.write(Message::Binary(payload.into()));
    while would_block(&r) {
        fd.writable().await?;
        r = ws.flush();
    }
    if r.is_ok() {
        ws.get_mut().written();
    }
    r
}

/// The next message from the server (setup only; the hot path reads in the bot's reader).
pub async fn recv(ws: &mut Ws, fd: &Fd) -> tungstenite::Result<Message> {
    loop {
        ws.get_mut().woken();
        let r = ws.read();
        if !would_block(&r) {
            return r;
        }
        // Readiness was cleared only if tungstenite found no whole frame in its buffer, so this
        // wait never sleeps on a message already read.
        fd.readable().await?;
    }
}

/// A short, countable name for a WebSocket failure.
pub fn ws_kind(e: &tungstenite::Error) -> String {
    use tungstenite::Error as E;
    match e {
        E::Io(io) => format!("io {:?}", io.kind()),
        E::Http(resp) => format!("http {}", resp.status().as_u16()),
        E::ConnectionClosed | E::AlreadyClosed => "connection closed".into(),
        E::Protocol(_) => "websocket protocol".into(),
        E::Capacity(_) => "capacity".into(),
        E::Url(_) => "bad url".into(),
        _ => "websocket".into(),
    }
}
