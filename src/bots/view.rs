//! What a bot makes of the frames it receives: its view of the lobby (its own ack for walkers, a
//! full mirror for arena, which aims at the nearest player) and the send times of its inputs, to
//! time each one until the first snapshot that acks it.

use super::config::Game;
use super::stats::Shared;
use super::wire;
use crate::client::{Applied, World};
use crate::protocol::{decode_server, ErrorCode, JoinedInfo, ServerMsg, BUTTON_FIRE};
use crate::snapshot::{apply, pos_from_q, EntityTable};

/// Sent times of the last inputs, by seq; inputs older than this many are not timed.
const RING: usize = 256;
/// Ack field of both games' entities (PROTOCOL.md section 9).
const ACK_FIELD: usize = 2;

/// What a bot keeps of the lobby: only its own ack (walkers: cheap) or a whole mirror (arena:
/// it needs everyone's positions to aim).
pub enum View {
    Walkers { field_count: u32, ack: Option<i32> },
    Arena { world: Box<World> },
}

/// A snapshot as far as the counters care.
pub struct Seen {
    pub tick: u32,
    pub full: bool,
    pub own_ack: Option<u32>,
}

/// What one frame meant to the bot.
pub enum Frame {
    Snapshot(Seen),
    /// A `Joined` again (the server moved us): start over from its full snapshot.
    Joined(Box<JoinedInfo>),
    /// We are no longer in the lobby.
    Left,
    Other,
}

impl View {
    pub fn new(j: &JoinedInfo) -> Result<(View, Seen), String> {
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
    pub fn frame(&mut self, bytes: &[u8], me: u32, shared: &Shared) -> Result<Frame, String> {
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
    pub fn aim(&self, me: u32) -> (f32, u8) {
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
pub struct Inflight {
    sent_us: Box<[u64; RING]>,
    last_sent: u32,
    last_acked: u32,
}

impl Inflight {
    /// Starts from the server's ack for us (0 for a fresh seat): older seqs are not timed.
    pub fn new(ack: u32) -> Inflight {
        Inflight {
            sent_us: Box::new([0; RING]),
            last_sent: ack,
            last_acked: ack,
        }
    }

    pub fn record_send(&mut self, seq: u32, at_us: u64) {
        self.sent_us[seq as usize % RING] = at_us;
        self.last_sent = seq;
    }

    /// Every seq in (last_acked, ack] that we sent and still remember gets a latency sample.
    pub fn acked(&mut self, ack: u32, now_us: u64, mut sample: impl FnMut(u64)) {
        if ack <= self.last_acked {
            return;
        }
        let hi = ack.min(self.last_sent);
        let lo = (self.last_acked + 1).max(hi.saturating_sub(RING as u32 - 1));
        for k in lo..=hi {
            sample(now_us.saturating_sub(self.sent_us[k as usize % RING]));
        }
        self.last_acked = ack;
    }
}
