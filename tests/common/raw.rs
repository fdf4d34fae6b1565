//! A WebSocket by hand over a raw TCP stream: frames and silences no client library would allow.

use std::net::SocketAddr;
use tickrelay::protocol::{decode_server, encode, ClientMsg, Hello, ServerMsg, PROTOCOL_VERSION};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// An upgrade request for `/ws` with any extra header lines (each ending in `\r\n`).
pub fn upgrade_request(addr: SocketAddr, extra: &str) -> String {
    format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    )
}

/// Reads an HTTP response head byte by byte (so nothing after it is consumed).
pub async fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).await.unwrap(), 1, "closed mid-response");
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A WebSocket upgraded by hand: the test writes whatever frames it likes, and nothing answers
/// the server's pings unless the test does.
pub async fn raw_upgrade(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).await.unwrap();
    finish_upgrade(addr, s).await
}

/// [`raw_upgrade`] over a socket the test has set up first (to shrink its buffers, say).
pub async fn raw_upgrade_on(addr: SocketAddr, sock: TcpSocket) -> TcpStream {
    let s = sock.connect(addr).await.unwrap();
    finish_upgrade(addr, s).await
}

async fn finish_upgrade(addr: SocketAddr, mut s: TcpStream) -> TcpStream {
    s.write_all(upgrade_request(addr, "").as_bytes())
        .await
        .unwrap();
    let head = read_head(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s
}

/// A client frame: `first` is the whole first byte (FIN, RSV bits, opcode); masked with a zero
/// key (which leaves the payload as it is), unless `masked` is false (clients must never do that).
pub fn raw_frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let m = if masked { 0x80 } else { 0 };
    let mut f = vec![first];
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n if n < 1 << 16 => {
            f.push(m | 126);
            f.extend((n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend((n as u64).to_be_bytes());
        }
    }
    if masked {
        f.extend([0, 0, 0, 0]);
    }
    f.extend(payload);
    f
}

/// One whole (FIN), masked client frame with `opcode`.
pub fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(0x80 | opcode, payload, true)
}

/// The encoded `Hello` of a client called `name` (a message, not yet a frame).
pub fn hello_bytes(name: &str) -> Vec<u8> {
    encode(&ClientMsg::Hello(Hello {
        version: PROTOCOL_VERSION,
        name: name.into(),
        reconnect_token: None,
    }))
}

/// The `Hello` of a client called `name` as a binary client frame.
pub fn hello_frame(name: &str) -> Vec<u8> {
    client_frame(2, &hello_bytes(name))
}

/// Sends one message as a masked binary frame.
pub async fn raw_send(s: &mut TcpStream, msg: &ClientMsg) {
    s.write_all(&client_frame(2, &encode(msg))).await.unwrap();
}

/// Reads one whole server frame (unmasked), which must be binary, and decodes it.
pub async fn raw_recv(s: &mut TcpStream) -> ServerMsg {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).await.unwrap();
    let len = match h[1] & 0x7f {
        126 => {
            let mut l = [0u8; 2];
            s.read_exact(&mut l).await.unwrap();
            usize::from(u16::from_be_bytes(l))
        }
        127 => {
            let mut l = [0u8; 8];
            s.read_exact(&mut l).await.unwrap();
            u64::from_be_bytes(l) as usize
        }
        n => usize::from(n),
    };
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).await.unwrap();
    assert_eq!(h[0] & 0x0f, 2, "a binary frame");
    decode_server(&payload).unwrap()
}

/// The server's (unmasked) frames in `buf`, as (opcode, payload), up to any partial frame.
pub fn server_frames(mut buf: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while buf.len() >= 2 {
        let (op, len7) = (buf[0] & 0x0f, usize::from(buf[1] & 0x7f));
        let (len, at) = match len7 {
            126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
            127 if buf.len() >= 10 => (
                u64::from_be_bytes(buf[2..10].try_into().unwrap()) as usize,
                10,
            ),
            126 | 127 => break,
            n => (n, 2),
        };
        if buf.len() < at + len {
            break;
        }
        out.push((op, buf[at..at + len].to_vec()));
        buf = &buf[at + len..];
    }
    out
}

/// The code and reason of the first close frame among `frames` (1005 when it has no code).
pub fn close_among(frames: &[(u8, Vec<u8>)]) -> Option<(u16, String)> {
    frames.iter().find(|(op, _)| *op == 8).map(|(_, p)| {
        if p.len() < 2 {
            return (1005, String::new());
        }
        (
            u16::from_be_bytes([p[0], p[1]]),
            String::from_utf8_lossy(&p[2..]).into_owned(),
        )
    })
}

/// The close code and reason in what the server sent, read to the end of the stream.
pub async fn raw_close(s: &mut TcpStream) -> Option<(u16, String)> {
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got).await;
    close_among(&server_frames(&got))
}
