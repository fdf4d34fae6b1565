//! An async tickrelay client for tests, tools and the bots. It speaks the protocol and mirrors the
//! world from snapshots; it imports `protocol` and `snapshot` only, never server internals.
//!
//! In a cluster it follows `Redirect`s by itself: a create, join, spectate or quick-join (or a
//! `Hello` with a reconnect token) that another node answers is carried there (a new WebSocket,
//! `Hello` with the same name, then `Redeem`, the same request again, or the token), and the
//! outcome comes back as if the first node had sent it. From then on the client talks to the new
//! node ([`Client::url`]). Plain [`Client::next`] and [`Client::recv`] never follow anything: they
//! hand a `Redirect` over like any other message, for tests that look at it.

mod world;

pub use world::{Applied, World};

use crate::protocol::{
    decode_server, encode, ClientLimits, ClientMsg, CreateLobby, DecodeError, ErrorCode, Hello,
    JoinedInfo, LobbyRef, PlayerInput, RedirectThen, ServerMsg, SessionId, PROTOCOL_VERSION,
};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// What can go wrong talking to a server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("undecodable frame from the server: {0}")]
    Decode(#[from] DecodeError),
    #[error("the server closed the connection ({code}: {reason})")]
    Closed { code: u16, reason: String },
    #[error("the server said {code:?}: {message}")]
    Server {
        code: Option<ErrorCode>,
        message: String,
    },
    #[error("expected {expected}, got {got}")]
    Unexpected { expected: &'static str, got: String },
    /// The cluster sent us on more than [`MAX_REDIRECTS`] redirects in a row (the last to `url`).
    #[error("more than {MAX_REDIRECTS} redirects in a row (the last one to {url})")]
    TooManyRedirects { url: String },
}

/// Redirects one request may take in a row before the client gives up on it.
pub const MAX_REDIRECTS: u32 = 3;
/// How long leaving a node after a redirect may wait for its close handshake.
const LEAVE_OLD_NODE: Duration = Duration::from_secs(1);

/// One frame from the server, with its size (for byte counting).
#[derive(Debug)]
pub enum Incoming {
    Msg(ServerMsg, usize),
    /// The server closed the socket, with its close code and reason when it sent one.
    Closed(Option<(u16, String)>),
}

/// What `Welcome` told us.
#[derive(Clone, Debug)]
pub struct Welcome {
    pub session: SessionId,
    pub reconnect_token: String,
    pub tick_rate: u16,
    pub snapshot_rate: u16,
    /// Random per server process start: another id than before means the server restarted.
    pub server_id: String,
    /// What this server allows a client (rates, sizes, timeouts).
    pub limits: ClientLimits,
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A connection to a tickrelay server (in a cluster: to the node it was last sent to).
pub struct Client {
    ws: Socket,
    /// WebSocket payload bytes received so far (all kinds of server message, every node).
    pub bytes_in: u64,
    /// The node this client talks to now (`None`: made from a socket, and not redirected since).
    url: Option<String>,
    /// The name and reconnect token of the last `Hello` sent: a redirect says hello with the
    /// same name (a seat ticket is for that name), and a `Resume` redirect with that token.
    name: Option<String>,
    resume_token: Option<String>,
    /// The last `CreateLobby` or `QuickJoin` sent, for a `Retry` redirect to send again.
    retry: Option<ClientMsg>,
    /// What the current node's `Welcome` said.
    welcome: Option<Welcome>,
    redirects: u32,
}

/// Opens a WebSocket to `url` with the client's settings.
async fn open(url: &str) -> Result<Socket, ClientError> {
    // Small buffers: the bots hold thousands of these.
    let cfg = WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(cfg), true).await?;
    Ok(ws)
}

impl Client {
    /// Connects to `ws://host:port/ws` (no handshake yet: call [`Client::hello`]).
    pub async fn connect(url: &str) -> Result<Client, ClientError> {
        let mut c = Client::from_socket(open(url).await?);
        c.url = Some(url.to_owned());
        Ok(c)
    }

    /// Wraps a socket that is already open (its URL unknown until a redirect names one).
    pub fn from_socket(ws: Socket) -> Client {
        Client {
            ws,
            bytes_in: 0,
            url: None,
            name: None,
            resume_token: None,
            retry: None,
            welcome: None,
            redirects: 0,
        }
    }

    pub fn socket_mut(&mut self) -> &mut Socket {
        &mut self.ws
    }

    /// The WebSocket URL of the node this client talks to now: the one it connected to, or the
    /// one the last redirect it followed named.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The current node's `Welcome` (after a redirect, the new node's: its reconnect token is
    /// the one that resumes the seat taken there).
    pub fn welcome(&self) -> Option<&Welcome> {
        self.welcome.as_ref()
    }

    /// The reconnect token of the current node's `Welcome`.
    pub fn reconnect_token(&self) -> Option<&str> {
        self.welcome.as_ref().map(|w| w.reconnect_token.as_str())
    }

    /// Redirects this client has followed so far, in all.
    pub fn redirects_followed(&self) -> u32 {
        self.redirects
    }

    /// Sends one message. A `Hello` is remembered (its name and token, for redirects), and so is
    /// a `CreateLobby` or `QuickJoin` (for a `Retry` redirect to send again).
    pub async fn send(&mut self, msg: &ClientMsg) -> Result<(), ClientError> {
        match msg {
            ClientMsg::Hello(h) => {
                self.name = Some(h.name.clone());
                self.resume_token = h.reconnect_token.clone();
            }
            ClientMsg::CreateLobby(_) | ClientMsg::QuickJoin { .. } => {
                self.retry = Some(msg.clone());
            }
            _ => {}
        }
        self.send_only(msg).await
    }

    /// Sends one message and remembers nothing of it.
    async fn send_only(&mut self, msg: &ClientMsg) -> Result<(), ClientError> {
        self.ws
            .send(Message::Binary(Bytes::from(encode(msg))))
            .await?;
        Ok(())
    }

    /// Sends raw bytes as one binary message (tests use it to send garbage).
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<(), ClientError> {
        self.ws.send(Message::Binary(Bytes::from(bytes))).await?;
        Ok(())
    }

    /// The next message or the close, skipping pings and pongs.
    pub async fn next(&mut self) -> Result<Incoming, ClientError> {
        loop {
            match self.ws.next().await {
                None => return Ok(Incoming::Closed(None)),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Message::Binary(b))) => {
                    self.bytes_in += b.len() as u64;
                    return Ok(Incoming::Msg(decode_server(&b)?, b.len()));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Ok(Incoming::Closed(
                        frame.map(|f| (u16::from(f.code), f.reason.to_string())),
                    ))
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next server message; a close becomes [`ClientError::Closed`].
    pub async fn recv(&mut self) -> Result<ServerMsg, ClientError> {
        match self.next().await? {
            Incoming::Msg(m, _) => Ok(m),
            Incoming::Closed(c) => {
                let (code, reason) = c.unwrap_or((1006, "no close frame".into()));
                Err(ClientError::Closed { code, reason })
            }
        }
    }

    /// Reads until `pick` accepts a message; an `Error` frame on the way fails the wait. A
    /// `Redirect` that `pick` does not take is followed (see [`Client::follow`]), at most
    /// [`MAX_REDIRECTS`] in a row, and the wait goes on on the new node.
    pub async fn recv_until<T>(
        &mut self,
        what: &'static str,
        mut pick: impl FnMut(&ServerMsg) -> Option<T>,
    ) -> Result<T, ClientError> {
        let mut hops = 0;
        loop {
            let m = self.recv().await?;
            if let Some(t) = pick(&m) {
                return Ok(t);
            }
            match m {
                ServerMsg::Error { code, message } => {
                    return Err(ClientError::Server {
                        code: ErrorCode::from_u16(code),
                        message,
                    })
                }
                ServerMsg::Redirect {
                    url, then, ticket, ..
                } => {
                    hops += 1;
                    if hops > MAX_REDIRECTS {
                        return Err(ClientError::TooManyRedirects { url });
                    }
                    self.redirect(url, then, ticket).await?;
                }
                _ => {}
            }
            let _ = what;
        }
    }

    /// Sends `request` and returns its outcome: `Joined` or `Error` (or `LobbyList` for a
    /// `ListLobbies`), following any `Redirect`s on the way (at most [`MAX_REDIRECTS`] in a row,
    /// then [`ClientError::TooManyRedirects`]) as if the first node had answered. Other messages
    /// on the way (snapshots, chat, ...) are skipped. For `CreateLobby`, `Join`, `Spectate`,
    /// `QuickJoin`, `ListLobbies`, and a `Hello` with a reconnect token (its `Welcome` is kept
    /// in [`Client::welcome`]). Afterwards the client talks to the node that answered.
    pub async fn follow(&mut self, request: &ClientMsg) -> Result<ServerMsg, ClientError> {
        self.send(request).await?;
        self.recv_until("an answer", |m| match m {
            ServerMsg::Joined(_) | ServerMsg::Error { .. } | ServerMsg::LobbyList(_) => {
                Some(m.clone())
            }
            _ => None,
        })
        .await
    }

    /// Follows one `Redirect`: a new WebSocket to `url`, `Hello` with the same name there (with
    /// the last `Hello`'s token for `Resume`), then `Redeem` with `ticket` exactly as received,
    /// the last create or quick-join again (`Retry`), or nothing more (`Resume`). The old
    /// connection is closed (in the background) once the new one is open. The answer is left for the caller to read.
    pub async fn redirect(
        &mut self,
        url: String,
        then: RedirectThen,
        ticket: Vec<u8>,
    ) -> Result<(), ClientError> {
        let Some(name) = self.name.clone() else {
            return Err(ClientError::Unexpected {
                expected: "a Hello before a redirect",
                got: "a redirect before any Hello".into(),
            });
        };
        let again = match then {
            RedirectThen::Redeem => Some(ClientMsg::Redeem { ticket }),
            RedirectThen::Retry => match self.retry.clone() {
                Some(m) => Some(m),
                None => {
                    return Err(ClientError::Unexpected {
                        expected: "a create or quick-join to retry",
                        got: "a Retry redirect with none sent".into(),
                    })
                }
            },
            RedirectThen::Resume => None,
        };
        let token = match then {
            RedirectThen::Resume => self.resume_token.clone(),
            RedirectThen::Redeem | RedirectThen::Retry => None,
        };
        let old = std::mem::replace(&mut self.ws, open(&url).await?);
        self.url = Some(url);
        self.redirects += 1;
        // Off the way: the old node's close handshake need not hold up the new node's answer.
        tokio::spawn(leave(old));
        self.say_hello(&name, token).await?;
        if let Some(m) = again {
            self.send_only(&m).await?;
        }
        Ok(())
    }

    /// Says hello and waits for `Welcome`. With a reconnect token, what comes next is the
    /// resumed seat's `Joined` (or an `Error`), which [`Client::joined`] waits for (following a
    /// `Resume` redirect to the node that holds the seat).
    pub async fn hello(
        &mut self,
        name: &str,
        reconnect_token: Option<String>,
    ) -> Result<Welcome, ClientError> {
        self.name = Some(name.to_owned());
        self.resume_token = reconnect_token.clone();
        self.say_hello(name, reconnect_token).await
    }

    /// `Hello` and its `Welcome` (kept), remembering nothing else.
    async fn say_hello(
        &mut self,
        name: &str,
        reconnect_token: Option<String>,
    ) -> Result<Welcome, ClientError> {
        self.send_only(&ClientMsg::Hello(Hello {
            version: PROTOCOL_VERSION,
            name: name.into(),
            reconnect_token,
        }))
        .await?;
        // Not `recv_until`: `Welcome` always comes first, so nothing is followed here.
        let welcome = loop {
            match self.recv().await? {
                ServerMsg::Welcome {
                    session,
                    reconnect_token,
                    tick_rate,
                    snapshot_rate,
                    server_id,
                    limits,
                    ..
                } => {
                    break Welcome {
                        session,
                        reconnect_token,
                        tick_rate,
                        snapshot_rate,
                        server_id,
                        limits,
                    }
                }
                ServerMsg::Error { code, message } => {
                    return Err(ClientError::Server {
                        code: ErrorCode::from_u16(code),
                        message,
                    })
                }
                _ => {}
            }
        };
        self.welcome = Some(welcome.clone());
        Ok(welcome)
    }

    /// Waits for `Joined` (after a create, join, quick-join, spectate or resume).
    pub async fn joined(&mut self) -> Result<Box<JoinedInfo>, ClientError> {
        self.recv_until("joined", |m| match m {
            ServerMsg::Joined(j) => Some(j.clone()),
            _ => None,
        })
        .await
    }

    /// Creates a lobby (joining it as host) and waits for `Joined`, following redirects (a node
    /// that opens no lobby now sends us to one that does: `Retry`).
    pub async fn create(
        &mut self,
        name: &str,
        game: &str,
        max_players: u16,
        public: bool,
    ) -> Result<Box<JoinedInfo>, ClientError> {
        self.send(&ClientMsg::CreateLobby(CreateLobby {
            name: name.into(),
            game: game.into(),
            max_players,
            public,
            kill_goal: None,
            round_seconds: None,
        }))
        .await?;
        self.joined().await
    }

    /// Joins a lobby by id or code and waits for `Joined`, following redirects (a lobby on
    /// another node of the cluster: `Redeem`).
    pub async fn join(&mut self, lobby: LobbyRef) -> Result<Box<JoinedInfo>, ClientError> {
        self.send(&ClientMsg::Join(lobby)).await?;
        self.joined().await
    }

    /// Spectates a lobby by id or code and waits for `Joined`, following redirects.
    pub async fn spectate(&mut self, lobby: LobbyRef) -> Result<Box<JoinedInfo>, ClientError> {
        self.send(&ClientMsg::Spectate(lobby)).await?;
        self.joined().await
    }

    /// Joins the fullest public lobby of `game` with room (or a new one) and waits for `Joined`,
    /// following redirects.
    pub async fn quick_join(&mut self, game: &str) -> Result<Box<JoinedInfo>, ClientError> {
        self.send(&ClientMsg::QuickJoin { game: game.into() })
            .await?;
        self.joined().await
    }

    pub async fn input(&mut self, input: PlayerInput) -> Result<(), ClientError> {
        self.send(&ClientMsg::Input {
            input,
            earlier: Vec::new(),
        })
        .await
    }

    /// Asks for the public lobby list and waits for it (in a cluster: every node's lobbies, each
    /// with its node's `url`; joining one by id or code from here follows the redirect).
    pub async fn list(
        &mut self,
        game: Option<&str>,
    ) -> Result<Vec<crate::protocol::LobbySummary>, ClientError> {
        self.send(&ClientMsg::ListLobbies {
            game: game.map(str::to_owned),
        })
        .await?;
        self.recv_until("lobby list", |m| match m {
            ServerMsg::LobbyList(l) => Some(l.clone()),
            _ => None,
        })
        .await
    }

    /// Reads messages into `world` until it holds a tick at or past `tick`.
    pub async fn sync_to(&mut self, world: &mut World, tick: u32) -> Result<(), ClientError> {
        while world.tick().0 < tick {
            let m = self.recv().await?;
            if let ServerMsg::Error { code, message } = m {
                return Err(ClientError::Server {
                    code: ErrorCode::from_u16(code),
                    message,
                });
            }
            world.apply(&m).map_err(|e| ClientError::Unexpected {
                expected: "a snapshot that applies",
                got: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Closes the connection and waits for the server's close.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        // Drain until the server's close arrives, so the close handshake completes.
        while let Some(Ok(_)) = self.ws.next().await {}
    }
}

/// Closes a connection to a node we were sent away from, waiting (briefly) for its close.
async fn leave(mut ws: Socket) {
    let _ = tokio::time::timeout(LEAVE_OLD_NODE, async {
        let _ = ws.close(None).await;
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;
