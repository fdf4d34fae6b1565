//! One bot's way in: connect, say hello, create or join its lobby (following a cluster's
//! redirects to the node that has it), then hand over to its [`Player`] on its thread's ticker.

use super::config::{BotConfig, Game};
use super::conn::{self, Conn, ConnError};
use super::player::{self, Player};
use super::stats::{LobbyInfo, Shared};
use super::thread::Ctx;
use super::ticker::{Tickers, GROUPS};
use crate::client::MAX_REDIRECTS;
use crate::protocol::{
    decode_server, encode, ClientMsg, CreateLobby, ErrorCode, Hello, JoinedInfo, LobbyRef,
    RedirectThen, ServerMsg, PROTOCOL_VERSION,
};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// A lobby's join code as its creator learns it; joiners wait on it.
#[derive(Clone, Debug)]
pub enum Code {
    Pending,
    Ready(String),
    /// The creator could not create the lobby: there is nothing to join.
    Failed,
}

pub enum Role {
    Create {
        lobby_name: String,
        game: Game,
        max_players: u16,
        code: watch::Sender<Code>,
    },
    Join {
        code: watch::Receiver<Code>,
    },
}

pub struct BotSpec {
    pub index: usize,
    pub role: Role,
    /// When this bot may open its connection (the ramp).
    pub start_at: Instant,
    pub seed: u64,
}

/// Runs one bot to the end; everything it sees goes into its thread's counters.
pub async fn run_bot(spec: BotSpec, ctx: Rc<Ctx>, tickers: Rc<Tickers>) {
    let setup = tokio::select! {
        biased;
        _ = ctx.setup_stop.cancelled() => Err("cancelled".to_owned()),
        r = setup(&spec, &ctx.cfg, &ctx.shared) => r,
    };
    let (conn, joined) = match setup {
        Ok(s) => s,
        Err(kind) => {
            if let Role::Create { code, .. } = &spec.role {
                code.send_replace(Code::Failed);
            }
            ctx.shared.bot_failed(&kind);
            return;
        }
    };
    if let Role::Create { code, .. } = &spec.role {
        code.send_replace(Code::Ready(joined.code.clone()));
    }
    ctx.shared.bot_joined(joined.lobby.0);
    ctx.shared
        .lobby
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(|| LobbyInfo {
            game: joined.game.clone(),
            tick_rate: joined.tick_rate,
            snapshot_rate: joined.snapshot_rate,
        });
    let lobby_rate = joined.tick_rate.max(1);
    let rate = ctx.cfg.tick_rate.unwrap_or(lobby_rate);
    if rate != lobby_rate {
        ctx.shared.warn(format!(
            "--tick-rate {rate} differs from the lobby's tick rate {lobby_rate}: \
             the bots send {rate} inputs/s, the server applies {lobby_rate}/s"
        ));
    }
    let mut rng = fastrand::Rng::with_seed(spec.seed);
    // A random phase, so that thousands of bots do not send in lockstep.
    let group = rng.usize(..GROUPS);
    match Player::new(conn, &joined, rng) {
        Ok(p) => {
            let p = Rc::new(RefCell::new(p));
            tickers.add_player(&ctx, p.clone(), rate, group);
            player::play(p, ctx).await;
        }
        Err(kind) => ctx.shared.bot_ended(&kind),
    }
}

/// Why a setup step failed.
enum Fail {
    Conn(ConnError),
    Decode,
    Closed(u16),
    Server(u16),
}

/// A short, countable name for what went wrong at `step` (the same names the bots always used).
fn error_kind(step: &str, e: &Fail) -> String {
    match e {
        Fail::Decode => "decode".into(),
        Fail::Conn(c) => format!("{step}:{}", c.kind()),
        Fail::Closed(code) => format!("{step}:closed {code}"),
        Fail::Server(code) => match ErrorCode::from_u16(*code) {
            Some(c) => format!("{step}:{c:?}"),
            None => format!("{step}:server error"),
        },
    }
}

async fn step<T>(
    name: &str,
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, Fail>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, f).await {
        Err(_) => Err(format!("{name}:timeout")),
        Ok(Err(e)) => Err(error_kind(name, &e)),
        Ok(Ok(v)) => Ok(v),
    }
}

/// Sends `msg`, then reads until `pick` accepts a message; an `Error` frame fails the wait.
async fn request<T>(
    conn: &mut Conn,
    msg: &ClientMsg,
    mut pick: impl FnMut(ServerMsg) -> Option<T>,
) -> Result<T, Fail> {
    conn.send_all(&encode(msg)).await.map_err(Fail::Conn)?;
    loop {
        let m = match conn.recv().await.map_err(Fail::Conn)? {
            Ok(b) => decode_server(&b).map_err(|_| Fail::Decode)?,
            // A close without a code reads as an abnormal one, as it always did.
            Err(code) => return Err(Fail::Closed(code.unwrap_or(1006))),
        };
        if let ServerMsg::Error { code, .. } = m {
            return Err(Fail::Server(code));
        }
        if let Some(t) = pick(m) {
            return Ok(t);
        }
    }
}

/// What a create or join was answered with.
enum Answer {
    Joined(Box<JoinedInfo>),
    /// The lobby (or room for a new one) is on another node of the cluster.
    Redirect {
        url: String,
        then: RedirectThen,
        ticket: Vec<u8>,
    },
}

fn answer(m: ServerMsg) -> Option<Answer> {
    match m {
        ServerMsg::Joined(j) => Some(Answer::Joined(j)),
        ServerMsg::Redirect {
            url, then, ticket, ..
        } => Some(Answer::Redirect { url, then, ticket }),
        _ => None,
    }
}

/// Connects to `url` and says `hello` there.
async fn open(url: &str, hello: &ClientMsg, limit: Duration) -> Result<Conn, String> {
    let mut conn = step("connect", limit, async {
        conn::connect(url).await.map_err(Fail::Conn)
    })
    .await?;
    step(
        "hello",
        limit,
        request(&mut conn, hello, |m| {
            matches!(m, ServerMsg::Welcome { .. }).then_some(())
        }),
    )
    .await?;
    Ok(conn)
}

async fn setup(
    spec: &BotSpec,
    cfg: &BotConfig,
    shared: &Shared,
) -> Result<(Conn, Box<JoinedInfo>), String> {
    tokio::time::sleep_until(spec.start_at).await;
    let limit = cfg.setup_timeout;
    let hello = ClientMsg::Hello(Hello {
        version: PROTOCOL_VERSION,
        name: format!("bot-{}", spec.index),
        reconnect_token: None,
    });
    let mut conn = open(&cfg.url, &hello, limit).await?;
    let (what, first) = match &spec.role {
        Role::Create {
            lobby_name,
            game,
            max_players,
            ..
        } => {
            let create = ClientMsg::CreateLobby(CreateLobby {
                name: lobby_name.clone(),
                game: game.name().into(),
                max_players: *max_players,
                public: false,
                kill_goal: None,
                round_seconds: None,
            });
            ("create", create)
        }
        Role::Join { code } => {
            let mut code = code.clone();
            // Bounded by the creator's own timeouts; a creator that vanished reads as Failed.
            let ready = code
                .wait_for(|c| !matches!(c, Code::Pending))
                .await
                .map(|c| c.clone());
            let Ok(Code::Ready(code)) = ready else {
                return Err("join:lobby not created".into());
            };
            ("join", ClientMsg::Join(LobbyRef::Code(code)))
        }
    };
    // On one server the first answer is the seat. In a cluster it may be a redirect: to the
    // node the lobby runs on (redeem the ticket there), or to one with room for a new lobby
    // (send the create again there). Either way the same name says hello there first.
    let mut ask = first.clone();
    let mut hops = 0;
    let joined = loop {
        let (url, then, ticket) = match step(what, limit, request(&mut conn, &ask, answer)).await? {
            Answer::Joined(j) => break j,
            Answer::Redirect { url, then, ticket } => (url, then, ticket),
        };
        hops += 1;
        if hops > MAX_REDIRECTS {
            return Err(format!("{what}:too many redirects"));
        }
        ask = match then {
            RedirectThen::Redeem => ClientMsg::Redeem { ticket },
            RedirectThen::Retry => first.clone(),
            // Bots never resume a seat, so nothing sends them to one.
            RedirectThen::Resume => return Err(format!("{what}:unexpected redirect")),
        };
        let there = open(&url, &hello, limit)
            .await
            .map_err(|e| format!("redirect:{e}"))?;
        // Goodbye to the node that sent us on: a close frame, and the socket goes with `conn`.
        let _ = conn.close();
        conn = there;
        shared.redirect_followed();
    };
    if joined.you.is_none() {
        return Err("join:no seat".into());
    }
    Ok((conn, joined))
}
