//! One bot's way in: connect, say hello, create or join its lobby, then hand over to its
//! [`Player`] on its thread's ticker.

use super::config::{BotConfig, Game};
use super::conn::{self, Conn, ConnError};
use super::player::{self, Player};
use super::stats::LobbyInfo;
use super::thread::Ctx;
use super::ticker::{Tickers, GROUPS};
use crate::protocol::{
    decode_server, encode, ClientMsg, CreateLobby, ErrorCode, Hello, JoinedInfo, LobbyRef,
    ServerMsg, PROTOCOL_VERSION,
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
        r = setup(&spec, &ctx.cfg) => r,
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

fn joined(m: ServerMsg) -> Option<Box<JoinedInfo>> {
    match m {
        ServerMsg::Joined(j) => Some(j),
        _ => None,
    }
}

async fn setup(spec: &BotSpec, cfg: &BotConfig) -> Result<(Conn, Box<JoinedInfo>), String> {
    tokio::time::sleep_until(spec.start_at).await;
    let limit = cfg.setup_timeout;
    let mut conn = step("connect", limit, async {
        conn::connect(&cfg.url).await.map_err(Fail::Conn)
    })
    .await?;
    let hello = ClientMsg::Hello(Hello {
        version: PROTOCOL_VERSION,
        name: format!("bot-{}", spec.index),
        reconnect_token: None,
    });
    step(
        "hello",
        limit,
        request(&mut conn, &hello, |m| {
            matches!(m, ServerMsg::Welcome { .. }).then_some(())
        }),
    )
    .await?;
    let joined = match &spec.role {
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
            step("create", limit, request(&mut conn, &create, joined)).await?
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
            let join = ClientMsg::Join(LobbyRef::Code(code));
            step("join", limit, request(&mut conn, &join, joined)).await?
        }
    };
    if joined.you.is_none() {
        return Err("join:no seat".into());
    }
    Ok((conn, joined))
}
