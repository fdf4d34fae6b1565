//! One bot's connection: tungstenite's client handshake, then [`frame`](super::frame) framing
//! straight on a non-blocking socket, driven by its worker thread's reactor.
//!
//! Decisions, and why:
//! - tungstenite does the upgrade handshake (request, key, validation of the 101). It is handed
//!   the response up to its blank line and not one byte more; the bytes the server sent after
//!   it, read in the same gulp, stay with us and start the frame parser's buffer. Nothing is
//!   lost in a buffer handed back (as `tokio_tungstenite::WebSocketStream::into_inner` would).
//! - No per-connection task sits in the write path: the thread's ticker writes an input frame
//!   straight to the socket (one `write` syscall). Only when the kernel refuses bytes does the
//!   rest wait in a small bounded tail, which a flush task sends on writable readiness.
//! - One `read` per wake-up, not two. Tokio learns that a socket drained only from a read that
//!   fails with `WouldBlock`, which would double the read syscalls. A TCP read that returns fewer
//!   bytes than asked for has seen the receive queue empty, and Linux TCP signals every later
//!   arrival to epoll as a new edge; so after a short read [`Conn::read`] stops and tells tokio
//!   "would block" through `try_io`, which clears the readiness. `try_io` clears only the
//!   readiness tokio had when it was called, and on a current-thread runtime the reactor cannot
//!   deliver a newer event in between, because it runs only between tasks. That holds within
//!   one synchronous stretch of reads, so every such stretch starts with [`Conn::woken`].
//! - `tokio::net::TcpStream` rather than `AsyncFd`: registering a raw fd is `unsafe` in this
//!   tokio (its safe constructor is deprecated as unsound), and this crate forbids `unsafe`.
//! - Masks come from fastrand, not a CSPRNG: they exist to stop cache poisoning through
//!   proxies that misread WebSocket, and these bots talk to a server on the same machine.

use super::frame::{self, Event, FrameError, Inbox, OP_BINARY, OP_CLOSE, OP_PONG};
use std::io::{self, ErrorKind, Read, Write};
use std::rc::Rc;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::HandshakeError;
use tokio_tungstenite::tungstenite::{self, error::UrlError};

/// Most bytes a bot keeps unsent (a refused input, then pongs, a Leave and a close on top).
const MAX_TAIL: usize = 16 * 1024;
/// Longest handshake response read.
const MAX_RESPONSE: usize = 8 * 1024;
/// Close code the bots say goodbye with (normal closure).
const CLOSE_NORMAL: u16 = 1000;

/// What ended a connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("io: {0}")]
    Io(#[from] io::Error),
    #[error("websocket: {0}")]
    Ws(#[from] tungstenite::Error),
    #[error("websocket framing: {0}")]
    Frame(#[from] FrameError),
    #[error("the server closed the socket without a close frame")]
    Eof,
    #[error("more than {MAX_TAIL} bytes unsent")]
    Tail,
}

impl ConnError {
    /// A short, countable name (the names the bots always used).
    pub fn kind(&self) -> String {
        use tungstenite::Error as E;
        match self {
            ConnError::Io(io) | ConnError::Ws(E::Io(io)) => format!("io {:?}", io.kind()),
            ConnError::Ws(E::Http(resp)) => format!("http {}", resp.status().as_u16()),
            ConnError::Ws(E::Url(_)) => "bad url".into(),
            ConnError::Ws(_) | ConnError::Frame(_) => "websocket protocol".into(),
            ConnError::Eof => "connection closed".into(),
            ConnError::Tail => "capacity".into(),
        }
    }
}

/// A message from the server.
pub enum Msg<'a> {
    Binary(&'a [u8]),
    Close(Option<u16>),
}

/// An open WebSocket connection.
pub struct Conn {
    tcp: Rc<TcpStream>,
    inbox: Inbox,
    /// Bytes the kernel has not taken yet, to send before anything else.
    tail: Vec<u8>,
    /// The frame being built, reused.
    out: Vec<u8>,
    /// A read since the last wake-up came back short: the kernel's queue was empty then.
    drained: bool,
    /// We sent a close frame (so the server's close is the answer, not a question).
    closing: bool,
}

impl Conn {
    /// The socket, to wait on its readiness.
    pub fn tcp(&self) -> &Rc<TcpStream> {
        &self.tcp
    }

    /// A wake-up: reads go to the kernel again.
    pub fn woken(&mut self) {
        self.drained = false;
    }

    /// Whether bytes wait for the socket to take them (a flush task should run).
    pub fn blocked(&self) -> bool {
        !self.tail.is_empty()
    }

    /// The next message, or `None` once the socket is drained for now. Answers pings and the
    /// server's close on the way.
    pub fn read(&mut self) -> Result<Option<Msg<'_>>, ConnError> {
        loop {
            match self.inbox.next()? {
                Some(Event::Binary(span)) => return Ok(Some(Msg::Binary(self.inbox.bytes(&span)))),
                Some(Event::Ping(span)) => {
                    let mut pong = [0u8; 125];
                    let p = self.inbox.bytes(&span);
                    pong[..p.len()].copy_from_slice(p);
                    let n = p.len();
                    self.send(OP_PONG, &pong[..n])?;
                }
                Some(Event::Close(code)) => {
                    if !self.closing {
                        // Echo the code, as RFC 6455 5.5.1 asks; the server then closes the TCP.
                        self.closing = true;
                        let payload = code.map(u16::to_be_bytes);
                        self.send(OP_CLOSE, payload.as_ref().map_or(&[][..], |p| &p[..]))?;
                    }
                    return Ok(Some(Msg::Close(code)));
                }
                None if self.drained => {
                    // Through `try_io`, so that tokio forgets the readiness this wake-up used up.
                    let _ = self.tcp.try_io(Interest::READABLE, || {
                        Err::<(), _>(ErrorKind::WouldBlock.into())
                    });
                    return Ok(None);
                }
                None => {
                    let tcp = &self.tcp;
                    match self.inbox.fill(|buf| tcp.try_read(buf)) {
                        Ok((0, _)) => return Err(ConnError::Eof),
                        Ok((_, short)) => self.drained = short,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
    }

    /// Sends one frame now, or queues it behind bytes the kernel has not taken yet.
    pub fn send(&mut self, opcode: u8, payload: &[u8]) -> Result<(), ConnError> {
        self.out.clear();
        frame::encode(
            &mut self.out,
            opcode,
            payload,
            fastrand::u32(..).to_ne_bytes(),
        );
        if self.tail.is_empty() {
            let n = match self.tcp.try_write(&self.out) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
                Err(e) => return Err(e.into()),
            };
            self.tail.extend_from_slice(&self.out[n..]);
        } else if self.tail.len() + self.out.len() <= MAX_TAIL {
            self.tail.extend_from_slice(&self.out);
        } else {
            return Err(ConnError::Tail);
        }
        Ok(())
    }

    /// Writes what the tail holds: `true` once it is empty, `false` if the socket is full again.
    pub fn flush(&mut self) -> Result<bool, ConnError> {
        while !self.tail.is_empty() {
            match self.tcp.try_write(&self.tail) {
                Ok(n) => drop(self.tail.drain(..n)),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(true)
    }

    /// Sends a close frame (after which the server's close ends the connection).
    pub fn close(&mut self) -> Result<(), ConnError> {
        if self.closing {
            return Ok(());
        }
        self.closing = true;
        self.send(OP_CLOSE, &CLOSE_NORMAL.to_be_bytes())
    }

    /// Sends one binary message and waits until the kernel has all of it (setup only).
    pub async fn send_all(&mut self, payload: &[u8]) -> Result<(), ConnError> {
        self.send(OP_BINARY, payload)?;
        while !self.flush()? {
            self.tcp.writable().await?;
        }
        Ok(())
    }

    /// Waits for the next binary message (its bytes) or the close (its code) (setup only).
    pub async fn recv(&mut self) -> Result<Result<Vec<u8>, Option<u16>>, ConnError> {
        loop {
            self.woken();
            match self.read()? {
                Some(Msg::Binary(b)) => return Ok(Ok(b.to_vec())),
                Some(Msg::Close(code)) => return Ok(Err(code)),
                // Readiness was cleared only once no whole frame was left in the inbox, so this
                // wait never sleeps on a message already read.
                None => self.tcp.readable().await?,
            }
        }
    }
}

/// Opens `url` (`ws://host:port/path`) and does the WebSocket handshake. Must run inside a
/// runtime with I/O enabled: the socket is registered with its reactor.
pub async fn connect(url: &str) -> Result<Conn, ConnError> {
    let request = url.into_client_request()?;
    let uri = request.uri();
    if uri.scheme_str() != Some("ws") {
        // Bots speak plain WebSocket to a server on this machine; TLS is a proxy's job.
        return Err(tungstenite::Error::Url(UrlError::TlsFeatureNotEnabled).into());
    }
    let host = uri
        .host()
        .ok_or(tungstenite::Error::Url(UrlError::NoHostName))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let tcp = TcpStream::connect((host.as_str(), port)).await?;
    // Inputs are tiny and must leave at once, not wait for the previous one's ack.
    tcp.set_nodelay(true)?;
    let tcp = Rc::new(tcp);
    let io = Handshake {
        tcp: tcp.clone(),
        read: Vec::new(),
        given: 0,
        end: None,
        blocked_on: Interest::READABLE,
    };
    let mut attempt = tungstenite::client::client(request, io);
    loop {
        let mid = match attempt {
            Ok((ws, _)) => {
                let io = ws.into_inner();
                let rest = io.end.map_or(&[][..], |end| &io.read[end..]);
                return Ok(Conn {
                    inbox: Inbox::with_bytes(rest),
                    tcp,
                    tail: Vec::new(),
                    out: Vec::with_capacity(64),
                    drained: false,
                    closing: false,
                });
            }
            Err(HandshakeError::Failure(e)) => return Err(e.into()),
            Err(HandshakeError::Interrupted(mid)) => mid,
        };
        let interest = mid.get_ref().get_ref().blocked_on;
        tcp.ready(interest).await?;
        attempt = mid.handshake();
    }
}

/// The socket as tungstenite's handshake sees it: reads stop at the response's blank line.
struct Handshake {
    tcp: Rc<TcpStream>,
    /// Everything read from the socket so far.
    read: Vec<u8>,
    /// How much of it tungstenite has had.
    given: usize,
    /// Where the response's head ends, once it has.
    end: Option<usize>,
    /// What the last `WouldBlock` waited for.
    blocked_on: Interest,
}

impl Read for Handshake {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let limit = self.end.unwrap_or(self.read.len());
            if self.given < limit {
                let n = buf.len().min(limit - self.given);
                buf[..n].copy_from_slice(&self.read[self.given..self.given + n]);
                self.given += n;
                return Ok(n);
            }
            if self.end.is_some() || self.read.len() > MAX_RESPONSE {
                // tungstenite has the whole head (or more than any sane one) and still reads.
                return Err(ErrorKind::InvalidData.into());
            }
            let mut chunk = [0u8; 1024];
            let n = match self.tcp.try_read(&mut chunk) {
                Ok(n) => n,
                Err(e) => {
                    self.blocked_on = Interest::READABLE;
                    return Err(e);
                }
            };
            if n == 0 {
                return Ok(0);
            }
            let from = self.read.len().saturating_sub(3);
            self.read.extend_from_slice(&chunk[..n]);
            self.end = self.read[from..]
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|p| from + p + 4);
        }
    }
}

impl Write for Handshake {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.try_write(buf).inspect_err(|_| {
            self.blocked_on = Interest::WRITABLE;
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::{SocketAddr, TcpListener};
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
    use tokio_tungstenite::tungstenite::{Message, WebSocket};

    /// Server frames as tungstenite writes them.
    fn frames(list: Vec<Frame>) -> Vec<u8> {
        let mut out = Vec::new();
        for f in list {
            f.format(&mut out).unwrap();
        }
        out
    }

    /// A one-connection server on 127.0.0.1 that answers the upgrade by hand with `status`,
    /// sending `after` in the same write as its response head. Then it reads the client's
    /// frames as a tungstenite server, answers a pong with a close (4000), and returns what it
    /// read once the client's close arrives (or the client goes).
    fn serve(
        status: &'static str,
        after: Vec<u8>,
    ) -> (SocketAddr, std::thread::JoinHandle<Vec<Message>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut head = BufReader::new(s.try_clone().unwrap());
            let mut key = String::new();
            loop {
                let mut line = String::new();
                head.read_line(&mut line).unwrap();
                if line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("sec-websocket-key") {
                        key = value.trim().to_owned();
                    }
                }
            }
            let accept = derive_accept_key(key.as_bytes());
            let mut out = format!(
                "HTTP/1.1 {status}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\nContent-Length: 0\r\n\r\n"
            )
            .into_bytes();
            out.extend(after);
            s.write_all(&out).unwrap();
            let mut ws = WebSocket::from_raw_socket(s, Role::Server, None);
            let mut got = Vec::new();
            while let Ok(m) = ws.read() {
                let (pong, close) = (m.is_pong(), m.is_close());
                got.push(m);
                if pong {
                    let bye = CloseFrame {
                        code: 4000.into(),
                        reason: "bye".into(),
                    };
                    ws.close(Some(bye)).unwrap();
                }
                if close {
                    break;
                }
            }
            got
        });
        (addr, server)
    }

    /// Fails the test instead of hanging it.
    async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(std::time::Duration::from_secs(10), f)
            .await
            .expect("timed out")
    }

    #[tokio::test]
    async fn keeps_what_follows_the_101_answers_pings_and_echoes_the_close() {
        // The first message and a ping ride in the same segment as the response head: the
        // handshake must not swallow them.
        let after = frames(vec![
            Frame::message(b"first".to_vec(), OpCode::Data(Data::Binary), true),
            Frame::ping(b"p1".to_vec()),
        ]);
        let (addr, server) = serve("101 Switching Protocols", after);
        let mut conn = within(connect(&format!("ws://{addr}/ws"))).await.unwrap();
        assert_eq!(within(conn.recv()).await.unwrap(), Ok(b"first".to_vec()));
        // The server answers our pong with its close.
        let close = within(conn.recv()).await.unwrap();
        assert_eq!(close, Err(Some(4000)));
        let got = within(tokio::task::spawn_blocking(move || server.join().unwrap()))
            .await
            .unwrap();
        assert_eq!(got[0], Message::Pong(b"p1".to_vec().into()));
        let Some(Message::Close(Some(CloseFrame { code, .. }))) = got.last() else {
            panic!("no close echo: {got:?}");
        };
        assert_eq!(u16::from(*code), 4000);
    }

    #[tokio::test]
    async fn a_refused_upgrade_reads_as_its_status() {
        let (addr, server) = serve("503 Service Unavailable", Vec::new());
        let err = within(connect(&format!("ws://{addr}/ws")))
            .await
            .err()
            .unwrap();
        assert_eq!(err.kind(), "http 503");
        drop(server);
    }
}
