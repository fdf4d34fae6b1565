//! One bot: connect, say hello, create or join its lobby, then play until told to stop, counting
//! what it receives and how long its inputs take to be acked.

use super::config::{BotConfig, Game};
use super::stats::{Local, Shared, MEASURE};
use super::wire;
use crate::client::{Applied, Client, ClientError, World};
use crate::protocol::{
    decode_server, ClientMsg, ErrorCode, JoinedInfo, LobbyRef, PlayerInput, ServerMsg, BUTTON_FIRE,
};
use crate::snapshot::{apply, pos_from_q, EntityTable};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

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

/// Sent times of the last inputs, by seq; inputs older than this many are not timed.
const RING: usize = 256;
/// Ack field of both games' entities (PROTOCOL.md section 9).
const ACK_FIELD: usize = 2;

/// Runs one bot to the end; everything it sees goes into `shared`.
pub async fn run_bot(
    spec: BotSpec,
    cfg: Arc<BotConfig>,
    shared: Arc<Shared>,
    epoch: Instant,
    stop: CancellationToken,
) {
    let setup = tokio::select! {
        _ = stop.cancelled() => Err("cancelled".to_owned()),
        r = setup(&spec, &cfg) => r,
    };
    match setup {
        Ok((client, joined)) => {
            if let Role::Create { code, .. } = &spec.role {
                code.send_replace(Code::Ready(joined.code.clone()));
            }
            shared.bot_joined(joined.lobby.0);
            play(client, joined, &spec, &cfg, &shared, epoch, stop).await;
        }
        Err(kind) => {
            if let Role::Create { code, .. } = &spec.role {
                code.send_replace(Code::Failed);
            }
            shared.bot_failed(&kind);
        }
    }
}

/// A short, countable name for what went wrong at `step`.
fn error_kind(step: &str, e: &ClientError) -> String {
    match e {
        ClientError::Decode(_) => "decode".into(),
        ClientError::Ws(w) => format!("{step}:{}", ws_kind(w)),
        ClientError::Closed { code, .. } => format!("{step}:closed {code}"),
        ClientError::Server { code, .. } => match code {
            Some(c) => format!("{step}:{c:?}"),
            None => format!("{step}:server error"),
        },
        ClientError::Unexpected { .. } => format!("{step}:unexpected"),
    }
}

fn ws_kind(e: &tungstenite::Error) -> String {
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

async fn step<T>(
    name: &str,
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, ClientError>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, f).await {
        Err(_) => Err(format!("{name}:timeout")),
        Ok(Err(e)) => Err(error_kind(name, &e)),
        Ok(Ok(v)) => Ok(v),
    }
}

/// Like `Client::connect`, with a 4 KiB read buffer instead of 16 KiB: tungstenite zero-fills the
/// spare buffer before every read, which at 30 reads a second times thousands of bots was the
/// bots' largest single cost (a walkers snapshot for 400 players is ~1.6 KB; larger frames still
/// fit, the buffer grows for them).
async fn connect(url: &str) -> Result<Client, ClientError> {
    let cfg = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(cfg), true).await?;
    Ok(Client::from_socket(ws))
}

async fn setup(spec: &BotSpec, cfg: &BotConfig) -> Result<(Client, Box<JoinedInfo>), String> {
    tokio::time::sleep_until(spec.start_at).await;
    let limit = cfg.setup_timeout;
    let mut client = step("connect", limit, connect(&cfg.url)).await?;
    let name = format!("bot-{}", spec.index);
    step("hello", limit, client.hello(&name, None)).await?;
    let joined = match &spec.role {
        Role::Create {
            lobby_name,
            game,
            max_players,
            ..
        } => {
            step(
                "create",
                limit,
                client.create(lobby_name, game.name(), *max_players, false),
            )
            .await?
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
            step("join", limit, client.join(LobbyRef::Code(code))).await?
        }
    };
    if joined.you.is_none() {
        return Err("join:no seat".into());
    }
    Ok((client, joined))
}

/// What a bot keeps of the lobby: only its own ack (walkers: cheap) or a whole mirror (arena:
/// it needs everyone's positions to aim).
enum View {
    Walkers { field_count: u32, ack: Option<i32> },
    Arena { world: Box<World> },
}

/// A snapshot as far as the counters care.
struct Seen {
    tick: u32,
    full: bool,
    own_ack: Option<u32>,
}

enum Frame {
    Snapshot(Seen),
    /// A `Joined` again (the server moved us): start over from its full snapshot.
    Joined(Box<JoinedInfo>),
    /// We are no longer in the lobby.
    Left,
    Other,
}

impl View {
    fn new(j: &JoinedInfo) -> Result<(View, Seen), String> {
        let me = j.you.ok_or("join:no seat")?;
        let game = Game::from_name(&j.game).ok_or_else(|| format!("unknown game {}", j.game))?;
        let fc = j.field_count.clamp(1, crate::snapshot::MAX_FIELDS as u8);
        let seen = |own_ack| Seen {
            tick: j.snapshot.tick.0,
            full: true,
            own_ack,
        };
        match game {
            Game::Walkers => {
                let mut t = EntityTable::new(fc);
                apply(&mut t, &j.snapshot).map_err(|_| "decode".to_owned())?;
                let ack = t.get(me).map(|r| r.fields[ACK_FIELD]);
                Ok((
                    View::Walkers {
                        field_count: u32::from(fc),
                        ack,
                    },
                    seen(ack.map(|a| a as u32)),
                ))
            }
            Game::Arena => {
                let mut world = Box::<World>::default();
                world
                    .apply(&ServerMsg::Joined(Box::new(j.clone())))
                    .map_err(|_| "decode".to_owned())?;
                let ack = world.own_ack();
                Ok((View::Arena { world }, seen(ack)))
            }
        }
    }

    /// Reads one binary frame. Errors are error kinds to count.
    fn frame(&mut self, bytes: &[u8], me: u32, shared: &Shared) -> Result<Frame, String> {
        if let View::Walkers { field_count, ack } = self {
            if wire::frame_type(bytes) == Some(ServerMsg::SNAPSHOT) {
                let info = wire::parse_snapshot(bytes, *field_count, me, ACK_FIELD as u32)
                    .map_err(|_| "decode".to_owned())?;
                if info.base_delta == 0 || info.own_removed {
                    *ack = None;
                }
                if info.own_listed {
                    *ack = Some(
                        ack.unwrap_or(0)
                            .wrapping_add(info.own_ack_diff.unwrap_or(0)),
                    );
                }
                return Ok(Frame::Snapshot(Seen {
                    tick: info.tick,
                    full: info.base_delta == 0,
                    own_ack: ack.map(|a| a as u32),
                }));
            }
        }
        // Everything but a walkers snapshot is rare (or arena): the full decoder is fine.
        let msg = decode_server(bytes).map_err(|_| "decode".to_owned())?;
        match &msg {
            ServerMsg::Joined(j) => return Ok(Frame::Joined(j.clone())),
            ServerMsg::Left { .. } => return Ok(Frame::Left),
            ServerMsg::Error { code, .. } => match ErrorCode::from_u16(*code) {
                Some(c) => shared.error(&format!("server error:{c:?}")),
                None => shared.error(&format!("server error:{code}")),
            },
            _ => {}
        }
        if let View::Arena { world } = self {
            match world.apply(&msg) {
                Ok(Applied::Snapshot { tick, full }) => {
                    return Ok(Frame::Snapshot(Seen {
                        tick: tick.0,
                        full,
                        own_ack: world.own_ack(),
                    }))
                }
                Ok(_) => {}
                Err(_) => return Err("mirror:apply".into()),
            }
        }
        Ok(Frame::Other)
    }

    /// The next input's aim and buttons (walkers: none; arena: at the nearest living player).
    fn aim(&self, me: u32) -> (f32, u8) {
        let View::Arena { world } = self else {
            return (0.0, 0);
        };
        const HP: usize = 4;
        const KIND: usize = 8;
        let rows = world.table.rows();
        let Some(mine) = rows.iter().find(|r| r.id.0 == me) else {
            return (0.0, 0);
        };
        let (mx, my) = (pos_from_q(mine.fields[0]), pos_from_q(mine.fields[1]));
        let target = rows
            .iter()
            .filter(|r| r.id.0 != me && r.fields[KIND] == 0 && r.fields[HP] > 0)
            .map(|r| (pos_from_q(r.fields[0]) - mx, pos_from_q(r.fields[1]) - my))
            .min_by(|a, b| (a.0.hypot(a.1)).total_cmp(&b.0.hypot(b.1)));
        match target {
            Some((dx, dy)) => {
                let aim = dy.atan2(dx);
                // A shot flies 750 u/s for 0.9 s: past ~650 units it cannot land.
                let fire = mine.fields[HP] > 0 && dx.hypot(dy) < 650.0;
                (
                    if aim.is_finite() { aim } else { 0.0 },
                    if fire { BUTTON_FIRE } else { 0 },
                )
            }
            None => (0.0, 0),
        }
    }
}

/// Send times of recent inputs, to time each seq until the first snapshot that acks it.
struct Inflight {
    sent_us: Box<[u64; RING]>,
    last_sent: u32,
    last_acked: u32,
}

impl Inflight {
    fn record_send(&mut self, seq: u32, at_us: u64) {
        self.sent_us[seq as usize % RING] = at_us;
        self.last_sent = seq;
    }

    /// Every seq in (last_acked, ack] that we sent and still remember gets a latency sample.
    fn acked(&mut self, ack: u32, now_us: u64, measuring: bool, out: &mut Vec<(u64, bool)>) {
        if ack <= self.last_acked {
            return;
        }
        let hi = ack.min(self.last_sent);
        let lo = (self.last_acked + 1).max(hi.saturating_sub(RING as u32 - 1));
        for k in lo..=hi {
            out.push((
                now_us.saturating_sub(self.sent_us[k as usize % RING]),
                measuring,
            ));
        }
        self.last_acked = ack;
    }
}

async fn play(
    mut client: Client,
    joined: Box<JoinedInfo>,
    spec: &BotSpec,
    cfg: &BotConfig,
    shared: &Shared,
    epoch: Instant,
    stop: CancellationToken,
) {
    let shard = spec.index;
    let Some(me) = joined.you.map(|p| p.0) else {
        return;
    };
    let (mut view, first) = match View::new(&joined) {
        Ok(v) => v,
        Err(kind) => {
            end_early(shared, &kind);
            return;
        }
    };
    {
        let mut lobby = shared.lobby.lock().unwrap_or_else(|e| e.into_inner());
        lobby.get_or_insert_with(|| super::stats::LobbyInfo {
            game: joined.game.clone(),
            tick_rate: joined.tick_rate,
            snapshot_rate: joined.snapshot_rate,
        });
    }
    let lobby_rate = joined.tick_rate.max(1);
    let rate = cfg.tick_rate.unwrap_or(lobby_rate);
    if rate != lobby_rate {
        shared.warn(format!(
            "--tick-rate {rate} differs from the lobby's tick rate {lobby_rate}: \
             the bots send {rate} inputs/s, the server applies {lobby_rate}/s"
        ));
    }
    // Ticks between two snapshots (the snapshot rate divides the tick rate).
    let step = u32::from(lobby_rate / joined.snapshot_rate.clamp(1, lobby_rate)).max(1);
    let mut rng = fastrand::Rng::with_seed(spec.seed);
    let mut local = Local::default();
    let mut inflight = Inflight {
        sent_us: Box::new([0; RING]),
        last_sent: first.own_ack.unwrap_or(0),
        last_acked: first.own_ack.unwrap_or(0),
    };
    // Keep counting from where the server is (0 for a fresh seat): stale seqs are ignored.
    let mut seq = inflight.last_acked;
    let mut last_tick = first.tick;
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    // A random phase, so that thousands of bots do not send in lockstep.
    let mut ticker = tokio::time::interval_at(Instant::now() + period.mul_f64(rng.f64()), period);
    // A bot that fell behind drops inputs like a game loop that dropped frames, rather than
    // bursting them (the server applies at most one per tick anyway).
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let (mut dx, mut dy) = (0i8, 0i8);
    let mut redraw_at = Instant::now();
    let flush_every = u32::from(rate / 4).max(1);
    let mut since_flush = 0;
    // One `cancelled` future for the whole loop: making a new one per wake-up takes the token's
    // shared lock twice, and every bot shares that token.
    let cancelled = stop.cancelled();
    tokio::pin!(cancelled);
    let end: Option<String> = loop {
        tokio::select! {
            biased;
            _ = &mut cancelled => break None,
            frame = client.socket_mut().next() => {
                let bytes = match frame {
                    Some(Ok(Message::Binary(b))) => b,
                    Some(Ok(Message::Close(f))) => {
                        break Some(match f {
                            Some(f) => format!("closed {}", u16::from(f.code)),
                            None => "closed".into(),
                        })
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => break Some(ws_kind(&e)),
                    None => break Some("connection closed".into()),
                };
                let measuring = shared.phase() == MEASURE;
                let len = bytes.len() as u64;
                local.live_bytes += len;
                if measuring {
                    local.bytes += len;
                }
                let seen = match view.frame(&bytes, me, shared) {
                    Ok(Frame::Snapshot(s)) => s,
                    Ok(Frame::Joined(j)) => match View::new(&j) {
                        Ok((v, s)) => {
                            view = v;
                            s
                        }
                        Err(kind) => break Some(kind),
                    },
                    Ok(Frame::Left) => break Some("left the lobby".into()),
                    Ok(Frame::Other) => continue,
                    Err(kind) => break Some(kind),
                };
                local.live_snapshots += 1;
                if measuring {
                    local.snapshots += 1;
                    let gap = seen.tick.wrapping_sub(last_tick);
                    local.missed_ticks += u64::from((gap / step).saturating_sub(1));
                    if seen.full {
                        local.resyncs += 1;
                    }
                }
                last_tick = seen.tick;
                if let Some(ack) = seen.own_ack {
                    let now = epoch.elapsed().as_micros() as u64;
                    inflight.acked(ack, now, measuring, &mut local.latencies);
                }
            }
            _ = ticker.tick() => {
                let now = Instant::now();
                if now >= redraw_at {
                    // WORKLOAD.md: (dx, dy) uniform over {-1, 0, 1}^2, redrawn once a second.
                    dx = rng.i8(-1..=1);
                    dy = rng.i8(-1..=1);
                    redraw_at = now + Duration::from_secs(1);
                }
                seq = seq.wrapping_add(1);
                let (aim, buttons) = view.aim(me);
                inflight.record_send(seq, now.duration_since(epoch).as_micros() as u64);
                if let Err(e) = client.input(PlayerInput { seq, dx, dy, aim, buttons }).await {
                    break Some(error_kind("send", &e));
                }
                if shared.phase() == MEASURE {
                    local.inputs += 1;
                }
                since_flush += 1;
                if since_flush >= flush_every {
                    since_flush = 0;
                    local.flush(shared, shard);
                }
            }
        }
    };
    local.flush(shared, shard);
    match end {
        Some(kind) => end_early(shared, &kind),
        None => {
            // Leave first, so the seat is free at once: a bare close would hold it for the
            // server's reconnect grace, as for any dropped connection.
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                if client.send(&ClientMsg::Leave).await.is_ok() {
                    client.close().await;
                }
            })
            .await;
        }
    }
}

/// A bot that stopped playing before the run ended.
fn end_early(shared: &Shared, kind: &str) {
    shared.error(kind);
    if shared.phase() < super::stats::DONE {
        shared
            .dropped
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
