//! One client connection: the hello handshake, reading and checking messages, routing them to a
//! lobby, and writing the lobby's frames back. A span per connection; one `select!` over
//! shutdown, the lobby's queue, the socket and the idle timer.

use crate::config::Config;
use crate::game::GameKind;
use crate::lobby::{
    normalize_code, ClientLink, LobbyCommand, LobbyShared, Outbound, Registry, RegistryError,
};
use crate::metrics::Metrics;
use crate::netsim::NetSim;
use crate::protocol::{
    decode_client, encode, ClientMsg, CloseCode, CreateLobby, DecodeError, EntityId, ErrorCode,
    Hello, LobbyRef, PlayerInput, ServerMsg, SessionId, MAX_LOBBY_NAME_LEN, MAX_NAME_LEN,
    PROTOCOL_VERSION,
};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, Instrument};

/// How long writing a close frame may take, and how long we then wait for the client to close.
const CLOSE_WRITE: Duration = Duration::from_secs(1);
const CLOSE_LINGER: Duration = Duration::from_secs(1);

/// A flood ends once the client has gone this long without a message dropped.
const FLOOD_QUIET: Duration = Duration::from_secs(1);

/// What every session shares.
#[derive(Clone)]
pub struct SessionContext {
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<Config>,
    pub shutdown: CancellationToken,
}

/// The lobby this connection is in.
struct InLobby {
    shared: Arc<LobbyShared>,
    member: usize,
    player: Option<EntityId>,
    frames: mpsc::Receiver<Outbound>,
    /// Shared with the lobby: event frames queued and not taken yet.
    events_queued: Arc<AtomicUsize>,
    /// `None` once the lobby dropped its sender without kicking (a oneshot must not be polled
    /// again after it completed).
    kick: Option<oneshot::Receiver<CloseCode>>,
}

impl InLobby {
    /// Takes a frame off the queue (and an event off the lobby's count of them).
    fn take(&self, o: Outbound) -> Bytes {
        if o.event {
            self.events_queued.fetch_sub(1, AtomicOrdering::AcqRel);
        }
        o.frame
    }

    fn try_recv(&mut self) -> Option<Bytes> {
        let o = self.frames.try_recv().ok()?;
        Some(self.take(o))
    }
}

/// Resolves when the lobby kicks this connection; never if it lets go without a kick.
async fn kicked(kick: &mut Option<oneshot::Receiver<CloseCode>>) -> CloseCode {
    if let Some(k) = kick {
        match k.await {
            Ok(code) => return code,
            Err(_) => *kick = None,
        }
    }
    std::future::pending().await
}

/// Why the session loop ended.
enum End {
    /// We close the socket with this code and its reason.
    Close(CloseCode),
    /// The client closed or the socket failed: nothing more to say.
    Gone,
}

struct Session<S> {
    id: SessionId,
    ws: WebSocketStream<S>,
    ctx: SessionContext,
    name: String,
    token: String,
    hello_done: bool,
    lobby: Option<InLobby>,
    decode_errors: u32,
    limiter: DefaultDirectRateLimiter,
    /// When the current flood began: the first drop after at least [`FLOOD_QUIET`] without one.
    flooding_since: Option<Instant>,
    last_drop: Option<Instant>,
    rate_error_sent: Option<Instant>,
    last_heard: Instant,
    netsim: Option<NetSim>,
}

/// Serves one upgraded WebSocket until it closes.
pub async fn run<S>(ws: WebSocketStream<S>, id: SessionId, peer: SocketAddr, ctx: SessionContext)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let span = tracing::info_span!("session", session = id.0, %peer);
    async move {
        let limits = &ctx.config.limits;
        let quota = Quota::per_second(
            NonZeroU32::new(limits.messages_per_second).unwrap_or(NonZeroU32::MIN),
        )
        .allow_burst(NonZeroU32::new(limits.message_burst).unwrap_or(NonZeroU32::MIN));
        let netsim = ctx
            .config
            .netsim
            .enabled
            .then(|| NetSim::new(&ctx.config.netsim, id.0));
        let mut s = Session {
            id,
            ws,
            name: String::new(),
            token: new_token(),
            hello_done: false,
            lobby: None,
            decode_errors: 0,
            limiter: RateLimiter::direct(quota),
            flooding_since: None,
            last_drop: None,
            rate_error_sent: None,
            last_heard: Instant::now(),
            netsim,
            ctx,
        };
        debug!("connected");
        let end = s.serve().await;
        s.finish(end).await;
    }
    .instrument(span)
    .await
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    async fn serve(&mut self) -> End {
        let limits = self.ctx.config.limits.clone();
        let hello_deadline = tokio::time::sleep(limits.handshake_timeout);
        tokio::pin!(hello_deadline);
        let mut idle = tokio::time::interval(limits.idle_timeout / 3);
        idle.set_missed_tick_behavior(MissedTickBehavior::Delay);
        idle.reset();
        let shutdown = self.ctx.shutdown.clone();
        loop {
            let netsim_due = self.netsim.as_ref().and_then(|n| n.next_due());
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => return End::Close(CloseCode::GoingAway),
                event = from_lobby(&mut self.lobby) => match event {
                    FromLobby::Kick(code) => {
                        self.lobby = None;
                        return End::Close(code);
                    }
                    FromLobby::Frame(frame) => {
                        if let Err(end) = self.forward(frame).await {
                            return end;
                        }
                    }
                    FromLobby::Gone => self.lobby_gone().await,
                },
                _ = sleep_until_opt(netsim_due) => {
                    if let Err(end) = self.flush_netsim().await {
                        return end;
                    }
                }
                msg = self.ws.next() => {
                    let Some(msg) = msg else { return End::Gone };
                    match msg {
                        Ok(msg) => {
                            self.last_heard = Instant::now();
                            if let Err(end) = self.on_message(msg).await {
                                return end;
                            }
                        }
                        Err(WsError::Capacity(_)) => return End::Close(CloseCode::MessageTooBig),
                        // Broken framing (reserved opcodes or bits, unmasked frames, oversized
                        // or fragmented control frames, stray continuations): say so.
                        Err(WsError::Protocol(e)) => {
                            debug!(error = %e, "websocket protocol error");
                            return End::Close(CloseCode::ProtocolViolation);
                        }
                        // A text frame that is not even UTF-8 is still a text frame.
                        Err(WsError::Utf8(_)) => return End::Close(CloseCode::UnsupportedData),
                        Err(e) => {
                            debug!(error = %e, "socket error");
                            return End::Gone;
                        }
                    }
                }
                _ = &mut hello_deadline, if !self.hello_done => {
                    return End::Close(CloseCode::Timeout);
                }
                _ = idle.tick() => {
                    if self.last_heard.elapsed() >= limits.idle_timeout {
                        info!("idle timeout");
                        return End::Close(CloseCode::Timeout);
                    }
                    if let Err(end) = self.write_msgs([Message::Ping(Bytes::new())]).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Writes a lobby frame, and any others already queued, in one flush.
    async fn forward(&mut self, first: Bytes) -> Result<(), End> {
        if let Some(sim) = &mut self.netsim {
            sim.push(first);
            if let Some(l) = &mut self.lobby {
                while let Some(more) = l.try_recv() {
                    sim.push(more);
                }
            }
            return Ok(());
        }
        let mut batch = vec![first];
        if let Some(l) = &mut self.lobby {
            while batch.len() < 64 {
                match l.try_recv() {
                    Some(more) => batch.push(more),
                    None => break,
                }
            }
        }
        self.write_batch(batch).await
    }

    async fn flush_netsim(&mut self) -> Result<(), End> {
        let due = match &mut self.netsim {
            Some(sim) => sim.take_due(std::time::Instant::now()),
            None => return Ok(()),
        };
        if due.is_empty() {
            return Ok(());
        }
        self.write_batch(due).await
    }

    /// Feeds frames and flushes once. A client that stops reading blocks this write; the lobby
    /// meanwhile skips it, and a kick, shutdown or the idle timeout still interrupts the wait.
    async fn write_batch(&mut self, batch: Vec<Bytes>) -> Result<(), End> {
        self.write_msgs(batch.into_iter().map(Message::Binary))
            .await
    }

    async fn write_msgs(&mut self, msgs: impl IntoIterator<Item = Message>) -> Result<(), End> {
        let shutdown = self.ctx.shutdown.clone();
        // While we wait to write we do not read, so nothing is heard: a peer that neither reads
        // nor talks for the idle timeout is as dead here as anywhere (and not in a lobby, no
        // kick would ever come to end the wait).
        let idle_at = self.last_heard + self.ctx.config.limits.idle_timeout;
        let write = async {
            for m in msgs {
                self.ws.feed(m).await?;
            }
            self.ws.flush().await
        };
        let kick = async {
            match &mut self.lobby {
                Some(l) => kicked(&mut l.kick).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = write => r.map_err(|_| End::Gone),
            code = kick => Err(End::Close(code)),
            _ = shutdown.cancelled() => Err(End::Close(CloseCode::GoingAway)),
            _ = tokio::time::sleep_until(idle_at) => {
                info!("idle timeout while writing");
                Err(End::Close(CloseCode::Timeout))
            }
        }
    }

    async fn send(&mut self, msg: &ServerMsg) -> Result<(), End> {
        let bytes = Bytes::from(encode(msg));
        self.ctx.metrics.frames_out.inc();
        self.ctx.metrics.bytes_out.inc_by(bytes.len() as u64);
        self.write_batch(vec![bytes]).await
    }

    async fn error(&mut self, code: ErrorCode, message: impl Into<String>) -> Result<(), End> {
        self.send(&ServerMsg::error(code, message)).await
    }

    /// The lobby dropped this connection's queue: it closed, or it let us go (kicked us before).
    async fn lobby_gone(&mut self) {
        if let Some(l) = self.lobby.take() {
            let _ = self
                .send(&ServerMsg::Left {
                    lobby: l.shared.id,
                    reason: "the lobby closed".into(),
                })
                .await;
        }
    }

    async fn on_message(&mut self, msg: Message) -> Result<(), End> {
        let bytes = match msg {
            Message::Binary(b) => b,
            Message::Text(_) => return Err(End::Close(CloseCode::UnsupportedData)),
            Message::Close(_) => return Err(End::Gone),
            // tungstenite answers pings itself and pongs only prove the client is alive, but
            // both cost us work: they share the rate limit with everything else.
            Message::Ping(_) | Message::Pong(_) => {
                self.admit().await?;
                return Ok(());
            }
            Message::Frame(_) => return Ok(()),
        };
        self.ctx.metrics.frames_in.inc();
        self.ctx.metrics.bytes_in.inc_by(bytes.len() as u64);
        if !self.admit().await? {
            return Ok(());
        }
        let msg = match decode_client(&bytes) {
            Ok(m) => m,
            Err(e) => {
                self.on_decode_error(e).await?;
                // Garbage first is no more a hello than any other message.
                if !self.hello_done {
                    return Err(End::Close(CloseCode::ProtocolViolation));
                }
                return Ok(());
            }
        };
        if !self.hello_done {
            return match msg {
                ClientMsg::Hello(h) => self.on_hello(h).await,
                other => {
                    let _ = self
                        .error(
                            ErrorCode::NotAllowed,
                            format!("send hello first (got {})", other.kind()),
                        )
                        .await;
                    Err(End::Close(CloseCode::ProtocolViolation))
                }
            };
        }
        match msg {
            ClientMsg::Hello(_) => {
                self.error(ErrorCode::NotAllowed, "already said hello")
                    .await
            }
            ClientMsg::ListLobbies { game } => self.on_list(game).await,
            ClientMsg::CreateLobby(c) => self.on_create(c).await,
            ClientMsg::Join(r) => self.on_join(r, false).await,
            ClientMsg::Spectate(r) => self.on_join(r, true).await,
            ClientMsg::QuickJoin { game } => self.on_quick_join(game).await,
            ClientMsg::Leave => self.on_leave().await,
            ClientMsg::Input(i) => self.on_input(i).await,
            ClientMsg::Chat { text } => self.on_chat(text).await,
            ClientMsg::Ping { nonce } => self.send(&ServerMsg::Pong { nonce }).await,
            ClientMsg::RestartRound => self.on_restart().await,
            ClientMsg::Resync => self.on_resync().await,
        }
    }

    /// The token bucket: false drops the message. Sustained flooding closes the connection.
    ///
    /// A flooder still gets a message through whenever a token refills, so "flooding" is not
    /// reset by an admitted message: it lasts until the client has gone [`FLOOD_QUIET`] without
    /// a drop. Otherwise any `flood_grace` longer than one refill period would never run out.
    async fn admit(&mut self) -> Result<bool, End> {
        if self.limiter.check().is_ok() {
            return Ok(true);
        }
        self.ctx.metrics.inputs_dropped.inc();
        let now = Instant::now();
        if self.last_drop.is_none_or(|t| now - t >= FLOOD_QUIET) {
            self.flooding_since = Some(now);
        }
        self.last_drop = Some(now);
        let since = self.flooding_since.unwrap_or(now);
        if now - since >= self.ctx.config.limits.flood_grace {
            return Err(End::Close(CloseCode::RateLimited));
        }
        // One error a second at most: the answer to a flood must not become a flood.
        if self
            .rate_error_sent
            .is_none_or(|t| now - t >= Duration::from_secs(1))
        {
            self.rate_error_sent = Some(now);
            self.error(
                ErrorCode::RateLimited,
                "too many messages; some were dropped",
            )
            .await?;
        }
        Ok(false)
    }

    async fn on_decode_error(&mut self, e: DecodeError) -> Result<(), End> {
        self.ctx.metrics.decode_errors.inc();
        self.decode_errors += 1;
        let code = match e {
            DecodeError::UnknownType(_) => ErrorCode::UnknownMessage,
            _ => ErrorCode::Malformed,
        };
        debug!(error = %e, "undecodable frame");
        self.error(code, e.to_string()).await?;
        if self.decode_errors > self.ctx.config.limits.max_decode_errors {
            return Err(End::Close(CloseCode::ProtocolViolation));
        }
        Ok(())
    }

    async fn on_hello(&mut self, h: Hello) -> Result<(), End> {
        if h.version != PROTOCOL_VERSION {
            let _ = self
                .error(
                    ErrorCode::BadVersion,
                    format!(
                        "this server speaks protocol version {PROTOCOL_VERSION}; the client sent {}",
                        h.version
                    ),
                )
                .await;
            return Err(End::Close(CloseCode::BadVersion));
        }
        self.hello_done = true;
        self.name =
            clean_text(&h.name, MAX_NAME_LEN).unwrap_or_else(|| format!("player-{}", self.id.0));
        tracing::Span::current().record("name", self.name.as_str());
        let lobby_cfg = &self.ctx.config.lobby;
        let welcome = ServerMsg::Welcome {
            version: PROTOCOL_VERSION,
            session: self.id,
            reconnect_token: self.token.clone(),
            tick_rate: lobby_cfg.tick_rate,
            snapshot_rate: lobby_cfg.snapshot_rate,
        };
        self.send(&welcome).await?;
        if let Some(old) = h.reconnect_token {
            self.resume(old).await?;
        }
        Ok(())
    }

    async fn resume(&mut self, old_token: String) -> Result<(), End> {
        let Some(shared) = self.ctx.registry.lobby_for_token(&old_token) else {
            return self
                .error(
                    ErrorCode::ReconnectFailed,
                    "unknown or expired reconnect token; join again",
                )
                .await;
        };
        let new_token = self.token.clone();
        let (session, name) = (self.id, self.name.clone());
        let _ = name;
        let outcome = self
            .enter(shared, |link, reply| LobbyCommand::Resume {
                session,
                old_token,
                new_token,
                link,
                reply,
            })
            .await;
        match outcome {
            Ok(()) => Ok(()),
            Err((code, msg)) => self.error(code, msg).await,
        }
    }

    async fn on_list(&mut self, game: Option<String>) -> Result<(), End> {
        let game = match game.as_deref().map(str::parse::<GameKind>) {
            None => None,
            Some(Ok(g)) => Some(g),
            Some(Err(e)) => return self.error(ErrorCode::BadRequest, e).await,
        };
        let list = self.ctx.registry.list(game);
        self.send(&ServerMsg::LobbyList(list)).await
    }

    async fn on_create(&mut self, c: CreateLobby) -> Result<(), End> {
        if self.lobby.is_some() {
            return self
                .error(ErrorCode::AlreadyInLobby, "leave your lobby first")
                .await;
        }
        let game = match c.game.parse::<GameKind>() {
            Ok(g) => g,
            Err(e) => return self.error(ErrorCode::BadRequest, e).await,
        };
        if c.name.len() > MAX_LOBBY_NAME_LEN {
            return self
                .error(
                    ErrorCode::BadRequest,
                    format!("lobby names are at most {MAX_LOBBY_NAME_LEN} bytes"),
                )
                .await;
        }
        let name = clean_text(&c.name, MAX_LOBBY_NAME_LEN)
            .unwrap_or_else(|| format!("{}'s lobby", self.name));
        match self
            .ctx
            .registry
            .create(name, game, c.max_players, c.public)
        {
            Ok(handle) => self.join_shared(handle.shared, false).await,
            Err(e) => self.registry_error(e).await,
        }
    }

    async fn registry_error(&mut self, e: RegistryError) -> Result<(), End> {
        self.error(e.code(), e.to_string()).await
    }

    async fn on_join(&mut self, r: LobbyRef, spectate: bool) -> Result<(), End> {
        if self.lobby.is_some() {
            return self
                .error(ErrorCode::AlreadyInLobby, "leave your lobby first")
                .await;
        }
        let found = match &r {
            LobbyRef::Id(id) => self.ctx.registry.get(*id),
            LobbyRef::Code(code) => {
                normalize_code(code).and_then(|c| self.ctx.registry.find_code(&c))
            }
        };
        let Some(shared) = found else {
            let what = match r {
                LobbyRef::Id(id) => format!("no lobby has id {id}"),
                LobbyRef::Code(code) => format!(
                    "no lobby has the code {:?}",
                    code.chars().take(16).collect::<String>()
                ),
            };
            return self.error(ErrorCode::LobbyNotFound, what).await;
        };
        self.join_shared(shared, spectate).await
    }

    async fn on_quick_join(&mut self, game: String) -> Result<(), End> {
        if self.lobby.is_some() {
            return self
                .error(ErrorCode::AlreadyInLobby, "leave your lobby first")
                .await;
        }
        let game = match game.parse::<GameKind>() {
            Ok(g) => g,
            Err(e) => return self.error(ErrorCode::BadRequest, e).await,
        };
        for shared in self.ctx.registry.quick_join_candidates(game) {
            match self.try_join(shared, false).await {
                Ok(()) => return Ok(()),
                // Filled up or closed since we looked: try the next one.
                Err((ErrorCode::LobbyFull | ErrorCode::LobbyNotFound, _)) => continue,
                Err((code, msg)) => return self.error(code, msg).await,
            }
        }
        match self.ctx.registry.create("Quick play".into(), game, 0, true) {
            Ok(handle) => self.join_shared(handle.shared, false).await,
            Err(e) => self.registry_error(e).await,
        }
    }

    async fn join_shared(&mut self, shared: Arc<LobbyShared>, spectate: bool) -> Result<(), End> {
        match self.try_join(shared, spectate).await {
            Ok(()) => Ok(()),
            Err((code, msg)) => self.error(code, msg).await,
        }
    }

    async fn try_join(
        &mut self,
        shared: Arc<LobbyShared>,
        spectate: bool,
    ) -> Result<(), (ErrorCode, String)> {
        let (session, name) = (self.id, self.name.clone());
        let token = Some(self.token.clone());
        self.enter(shared, |link, reply| LobbyCommand::Join {
            session,
            name,
            spectate,
            token,
            link,
            reply,
        })
        .await
    }

    /// Sends a join-like command with a fresh queue and waits (a tick at most) for the answer.
    async fn enter(
        &mut self,
        shared: Arc<LobbyShared>,
        make: impl FnOnce(ClientLink, crate::lobby::JoinReply) -> LobbyCommand,
    ) -> Result<(), (ErrorCode, String)> {
        let (frames_tx, frames_rx) =
            mpsc::channel(self.ctx.config.limits.outbound_queue + crate::lobby::EVENT_HEADROOM);
        let (kick_tx, kick_rx) = oneshot::channel();
        let (reply_tx, reply_rx) = oneshot::channel();
        let events_queued = Arc::new(AtomicUsize::new(0));
        let link = ClientLink {
            frames: frames_tx,
            kick: kick_tx,
            events_queued: events_queued.clone(),
        };
        let closed = || (ErrorCode::LobbyNotFound, "that lobby has closed".to_owned());
        let send = shared.inbox.send(make(link, reply_tx));
        match tokio::time::timeout(Duration::from_secs(2), send).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(closed()),
            Err(_) => {
                return Err((
                    ErrorCode::Overloaded,
                    "the lobby is overloaded; try again".into(),
                ))
            }
        }
        match reply_rx.await {
            Ok(Ok(ok)) => {
                debug!(lobby = shared.id.0, player = ?ok.player, "joined");
                self.lobby = Some(InLobby {
                    shared,
                    member: ok.member,
                    player: ok.player,
                    frames: frames_rx,
                    events_queued,
                    kick: Some(kick_rx),
                });
                Ok(())
            }
            Ok(Err(e)) => Err((e.code, e.message)),
            Err(_) => Err(closed()),
        }
    }

    async fn on_leave(&mut self) -> Result<(), End> {
        let Some(l) = self.lobby.take() else {
            return self
                .error(ErrorCode::NotAllowed, "you are not in a lobby")
                .await;
        };
        let _ = l
            .shared
            .inbox
            .send(LobbyCommand::Leave {
                member: l.member,
                session: self.id,
            })
            .await;
        self.send(&ServerMsg::Left {
            lobby: l.shared.id,
            reason: "you left".into(),
        })
        .await
    }

    async fn on_input(&mut self, input: PlayerInput) -> Result<(), End> {
        let Some(l) = &self.lobby else {
            return self
                .error(ErrorCode::NotAllowed, "input outside a lobby")
                .await;
        };
        if l.player.is_none() {
            return self
                .error(ErrorCode::NotAllowed, "spectators send no input")
                .await;
        }
        if !(-1..=1).contains(&input.dx) || !(-1..=1).contains(&input.dy) {
            return self
                .error(ErrorCode::BadInput, "dx and dy must be -1, 0 or 1")
                .await;
        }
        if !input.aim.is_finite() {
            return self
                .error(ErrorCode::BadInput, "aim must be a finite number")
                .await;
        }
        let cmd = LobbyCommand::Input {
            member: l.member,
            session: self.id,
            input,
        };
        // Never wait on the lobby for an input: when its inbox is full the input is dropped
        // (the next one supersedes it anyway).
        if l.shared.inbox.try_send(cmd).is_err() {
            self.ctx.metrics.inputs_dropped.inc();
        }
        Ok(())
    }

    async fn on_chat(&mut self, text: String) -> Result<(), End> {
        self.send_to_lobby(
            "chat outside a lobby",
            "the lobby is busy; chat dropped",
            |member, session| LobbyCommand::Chat {
                member,
                session,
                text,
            },
        )
        .await
    }

    async fn on_restart(&mut self) -> Result<(), End> {
        self.send_to_lobby(
            "you are not in a lobby",
            "the lobby is busy; try again",
            |member, session| LobbyCommand::Restart { member, session },
        )
        .await
    }

    async fn on_resync(&mut self) -> Result<(), End> {
        self.send_to_lobby(
            "you are not in a lobby",
            "the lobby is busy; try again",
            |member, session| LobbyCommand::Resync { member, session },
        )
        .await
    }

    /// Passes a command to this connection's lobby without waiting on it: outside a lobby the
    /// client gets `NotAllowed`, and with the lobby's inbox full, `Overloaded`.
    async fn send_to_lobby(
        &mut self,
        outside: &'static str,
        busy: &'static str,
        make: impl FnOnce(usize, SessionId) -> LobbyCommand,
    ) -> Result<(), End> {
        let Some(l) = &self.lobby else {
            return self.error(ErrorCode::NotAllowed, outside).await;
        };
        if l.shared.inbox.try_send(make(l.member, self.id)).is_err() {
            return self.error(ErrorCode::Overloaded, busy).await;
        }
        Ok(())
    }

    /// Tells the lobby we are gone and closes the socket with a reason when we have one.
    async fn finish(mut self, end: End) {
        if let Some(l) = self.lobby.take() {
            // try_send: a full inbox must not hold up the close. If it is lost, the lobby still
            // notices on its next send to our (now closed) queue.
            let _ = l.shared.inbox.try_send(LobbyCommand::Disconnected {
                member: l.member,
                session: self.id,
            });
        }
        match end {
            End::Close(code) => {
                debug!(code = code.code(), reason = code.reason(), "closing");
                close_with(&mut self.ws, code).await;
            }
            End::Gone => {
                let _ = tokio::time::timeout(Duration::from_millis(200), self.ws.close(None)).await;
            }
        }
        debug!("disconnected");
    }
}

/// Closes a WebSocket with `code` and its reason so that the client really gets to read them.
///
/// After the close frame we send FIN, then read and discard whatever the client still sends until
/// it closes its side. Closing a socket with unread input makes the kernel answer with a reset,
/// and a reset can destroy the close frame before the client reads it: a flooder, or a client
/// whose oversized message is only half read, would see "connection reset" instead of the reason.
/// Every step is bounded, so a peer that neither reads nor closes cannot hold the task.
pub async fn close_with<S>(ws: &mut WebSocketStream<S>, code: CloseCode)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let frame = CloseFrame {
        code: WsCloseCode::from(code.code()),
        reason: code.reason().into(),
    };
    match tokio::time::timeout(CLOSE_WRITE, ws.close(Some(frame))).await {
        Ok(Ok(())) => {}
        _ => return,
    }
    let io = ws.get_mut();
    let _ = tokio::time::timeout(CLOSE_LINGER, async {
        let _ = io.shutdown().await;
        let mut buf = [0u8; 4096];
        while let Ok(1..) = io.read(&mut buf).await {}
    })
    .await;
}

enum FromLobby {
    Frame(Bytes),
    Kick(CloseCode),
    /// The lobby dropped our queue: it closed, or it let us go.
    Gone,
}

async fn from_lobby(lobby: &mut Option<InLobby>) -> FromLobby {
    let Some(l) = lobby else {
        return std::future::pending().await;
    };
    tokio::select! {
        biased;
        code = kicked(&mut l.kick) => FromLobby::Kick(code),
        frame = l.frames.recv() => match frame {
            Some(o) => FromLobby::Frame(l.take(o)),
            None => FromLobby::Gone,
        },
    }
}

async fn sleep_until_opt(at: Option<std::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

/// Trims, drops control characters and cuts to `max` bytes on a character boundary.
fn clean_text(s: &str, max: usize) -> Option<String> {
    let cleaned: String = s.chars().filter(|c| !c.is_control()).collect();
    let mut t = cleaned.trim().to_owned();
    while t.len() > max {
        t.pop();
    }
    let t = t.trim_end().to_owned();
    (!t.is_empty()).then_some(t)
}

/// 128 bits from the OS, as hex: unguessable, so a token is as good as the seat.
fn new_token() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness is a broken host; fall back rather than refuse every connection.
        let mut r = fastrand::Rng::new();
        b.iter_mut().for_each(|x| *x = r.u8(..));
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_trims_strips_and_cuts_on_char_boundaries() {
        assert_eq!(clean_text("  ann\n ", 24), Some("ann".into()));
        assert_eq!(clean_text("\u{1}\u{2}", 24), None);
        assert_eq!(clean_text("ééééé", 5), Some("éé".into()));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
