//! An async tickrelay client for tests, tools and the bots. It speaks the protocol and mirrors the
//! world from snapshots; it imports `protocol` and `snapshot` only, never server internals.

mod world;

pub use world::{Applied, World};

use crate::protocol::{
    decode_server, encode, ClientLimits, ClientMsg, CreateLobby, DecodeError, ErrorCode, Hello,
    JoinedInfo, LobbyRef, PlayerInput, ServerMsg, SessionId, PROTOCOL_VERSION,
};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
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
}

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

/// A connection to a tickrelay server.
pub struct Client {
    ws: Socket,
    /// WebSocket payload bytes received so far (all kinds of server message).
    pub bytes_in: u64,
}

impl Client {
    /// Connects to `ws://host:port/ws` (no handshake yet: call [`Client::hello`]).
    pub async fn connect(url: &str) -> Result<Client, ClientError> {
        // Small buffers: the bots hold thousands of these.
        let cfg = WebSocketConfig::default()
            .read_buffer_size(16 * 1024)
            .write_buffer_size(0);
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(cfg), true).await?;
        Ok(Client::from_socket(ws))
    }

    pub fn from_socket(ws: Socket) -> Client {
        Client { ws, bytes_in: 0 }
    }

    pub fn socket_mut(&mut self) -> &mut Socket {
        &mut self.ws
    }

    pub async fn send(&mut self, msg: &ClientMsg) -> Result<(), ClientError> {
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

    /// Reads until `pick` accepts a message; an `Error` frame on the way fails the wait.
    pub async fn recv_until<T>(
        &mut self,
        what: &'static str,
        mut pick: impl FnMut(&ServerMsg) -> Option<T>,
    ) -> Result<T, ClientError> {
        loop {
            let m = self.recv().await?;
            if let Some(t) = pick(&m) {
                return Ok(t);
            }
            if let ServerMsg::Error { code, message } = m {
                return Err(ClientError::Server {
                    code: ErrorCode::from_u16(code),
                    message,
                });
            }
            let _ = what;
        }
    }

    /// Says hello and waits for `Welcome`.
    pub async fn hello(
        &mut self,
        name: &str,
        reconnect_token: Option<String>,
    ) -> Result<Welcome, ClientError> {
        self.send(&ClientMsg::Hello(Hello {
            version: PROTOCOL_VERSION,
            name: name.into(),
            reconnect_token,
        }))
        .await?;
        self.recv_until("welcome", |m| match m {
            ServerMsg::Welcome {
                session,
                reconnect_token,
                tick_rate,
                snapshot_rate,
                server_id,
                limits,
                ..
            } => Some(Welcome {
                session: *session,
                reconnect_token: reconnect_token.clone(),
                tick_rate: *tick_rate,
                snapshot_rate: *snapshot_rate,
                server_id: server_id.clone(),
                limits: limits.clone(),
            }),
            _ => None,
        })
        .await
    }

    /// Waits for `Joined` (after a create, join, quick-join, spectate or resume).
    pub async fn joined(&mut self) -> Result<Box<JoinedInfo>, ClientError> {
        self.recv_until("joined", |m| match m {
            ServerMsg::Joined(j) => Some(j.clone()),
            _ => None,
        })
        .await
    }

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

    pub async fn join(&mut self, lobby: LobbyRef) -> Result<Box<JoinedInfo>, ClientError> {
        self.send(&ClientMsg::Join(lobby)).await?;
        self.joined().await
    }

    pub async fn spectate(&mut self, lobby: LobbyRef) -> Result<Box<JoinedInfo>, ClientError> {
        self.send(&ClientMsg::Spectate(lobby)).await?;
        self.joined().await
    }

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

    /// Asks for the public lobby list and waits for it.
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

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        // Drain until the server's close arrives, so the close handshake completes.
        while let Some(Ok(_)) = self.ws.next().await {}
    }
}
