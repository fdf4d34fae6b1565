//! Replays over HTTP for the browser's playback: list them, describe one, and its frames from a tick.
//!
//! Public lobbies' replays are anyone's to watch; a private lobby's only with the operator's
//! token (`Authorization: Bearer <admin.token>`), as its code is not meant to be shared. The
//! re-simulation runs on a blocking thread, a few at a time, and the last few replays opened stay
//! in memory (`replay_cache`; a match still being recorded is read again once its file has grown).

use super::admin::is_operator;
use super::app::App;
use crate::replay::{read, read_header, Playback, EXTENSION, MAX_FRAMES};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// Larger files are not played in the browser (their records would take too much memory):
/// `tickrelay replay verify` and `info` still read them.
pub const MAX_PLAY_BYTES: u64 = 32 << 20;
/// Most replays one listing names, newest first.
const MAX_LISTED: usize = 100;
/// What a listing reads of each file: the header is far smaller.
const HEADER_READ: usize = 4096;

/// A replay id is a file name without its extension: `<start unix ms>-<lobby id>`, digits only,
/// so no request can name a path outside `replay.dir`.
fn valid_id(id: &str) -> bool {
    let Some((a, b)) = id.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|c| c.is_ascii_digit());
    digits(a) && digits(b)
}

fn path_of(app: &App, id: &str) -> PathBuf {
    app.config.replay.dir.join(format!("{id}.{EXTENSION}"))
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": msg.into() }))).into_response()
}

/// One replay in a listing.
#[derive(Serialize)]
struct Listed {
    id: String,
    game: String,
    lobby: String,
    code: String,
    public: bool,
    start_unix_ms: u64,
    bytes: u64,
}

#[derive(Deserialize)]
pub struct ListQuery {
    /// Only this lobby's replays (the console's "open its replay").
    lobby: Option<u32>,
}

/// `GET /api/replays`: the newest replays in `replay.dir`, newest first (private lobbies' only
/// for the operator).
pub async fn list(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let operator = is_operator(&app, &headers);
    let dir = app.config.replay.dir.clone();
    let listed = tokio::task::spawn_blocking(move || list_dir(&dir, operator, q.lobby)).await;
    match listed {
        Ok(replays) => Json(serde_json::json!({ "replays": replays })).into_response(),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "listing replays failed"),
    }
}

fn list_dir(dir: &std::path::Path, operator: bool, lobby: Option<u32>) -> Vec<Listed> {
    use std::io::Read;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new(); // no replay written yet
    };
    let mut ids: Vec<(u64, String)> = entries
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let id = name.strip_suffix(&format!(".{EXTENSION}"))?.to_owned();
            let (start, of) = id.split_once('-')?;
            if lobby.is_some_and(|l| of.parse() != Ok(l)) || !valid_id(&id) {
                return None;
            }
            Some((start.parse().ok()?, id))
        })
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    let mut out = Vec::new();
    for (_, id) in ids {
        if out.len() >= MAX_LISTED {
            break;
        }
        let path = dir.join(format!("{id}.{EXTENSION}"));
        let Ok(mut f) = std::fs::File::open(&path) else {
            continue; // deleted by the size cap meanwhile
        };
        let bytes = f.metadata().map_or(0, |m| m.len());
        let mut head = Vec::with_capacity(HEADER_READ);
        if f.by_ref()
            .take(HEADER_READ as u64)
            .read_to_end(&mut head)
            .is_err()
        {
            continue;
        }
        let Ok((h, _)) = read_header(&head) else {
            continue;
        };
        if !h.public && !operator {
            continue;
        }
        out.push(Listed {
            id,
            game: h.game,
            lobby: h.name,
            code: if h.public || operator {
                h.code
            } else {
                String::new()
            },
            public: h.public,
            start_unix_ms: h.start_unix_ms,
            bytes,
        });
    }
    out
}

/// The playback of replay `id`, built (or taken from the cache), if this caller may see it.
async fn playback(app: &App, headers: &HeaderMap, id: &str) -> Result<Arc<Playback>, Response> {
    if !valid_id(id) {
        return Err(error(StatusCode::NOT_FOUND, format!("no replay {id:?}")));
    }
    let path = path_of(app, id);
    let len = match tokio::fs::metadata(&path).await {
        Ok(m) => m.len(),
        Err(_) => return Err(error(StatusCode::NOT_FOUND, format!("no replay {id}"))),
    };
    if len > MAX_PLAY_BYTES {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "replay {id} is {len} bytes, more than the {MAX_PLAY_BYTES} the browser plays; \
                 use tickrelay replay info/verify"
            ),
        ));
    }
    let p = match app.replays.get(id, len) {
        Some(p) => p,
        None => {
            let _permit =
                app.replays.building.acquire().await.map_err(|_| {
                    error(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping")
                })?;
            let built = tokio::task::spawn_blocking(move || {
                let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
                let replay = read(&bytes).map_err(|e| e.to_string())?;
                Playback::new(replay).map_err(|e| e.to_string())
            })
            .await;
            match built {
                Ok(Ok(p)) => {
                    let p = Arc::new(p);
                    app.replays.put(id, len, p.clone());
                    p
                }
                Ok(Err(e)) => {
                    return Err(error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("replay {id} cannot be played: {e}"),
                    ))
                }
                Err(_) => {
                    return Err(error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "re-simulating the replay failed",
                    ))
                }
            }
        }
    };
    if !p.header().public && !is_operator(app, headers) {
        // Said as "not found": a private lobby's replay does not exist for others.
        return Err(error(StatusCode::NOT_FOUND, format!("no replay {id}")));
    }
    Ok(p)
}

/// What the browser needs to draw a replay: the game, its rate, its ticks, who played.
#[derive(Serialize)]
struct Described {
    id: String,
    game: String,
    lobby: String,
    code: String,
    tick_rate: u16,
    field_count: u8,
    first_tick: u32,
    last_tick: u32,
    seconds: f64,
    /// Everyone who joined, by entity id, with the name they joined with.
    players: Vec<Player>,
    /// The recording has its end record (`false`: still being played, or the server crashed).
    ended: bool,
    /// The first tick whose recorded checksum re-simulation did not match, if any.
    diverged_at: Option<u32>,
    /// Frames per request at most.
    max_frames: u32,
}

#[derive(Serialize)]
struct Player {
    id: u32,
    name: String,
}

/// `GET /api/replays/{id}`.
pub async fn describe(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let p = match playback(&app, &headers, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let h = p.header();
    let s = p.summary();
    Json(Described {
        id,
        game: h.game.clone(),
        lobby: h.name.clone(),
        code: h.code.clone(),
        tick_rate: h.tick_rate,
        field_count: p.field_count(),
        first_tick: p.first_tick(),
        last_tick: p.last_tick(),
        seconds: s.seconds,
        players: s
            .players
            .iter()
            .map(|(id, name)| Player {
                id: *id,
                name: name.clone(),
            })
            .collect(),
        ended: s.ended,
        diverged_at: p.diverged(),
        max_frames: MAX_FRAMES,
    })
    .into_response()
}

#[derive(Deserialize)]
pub struct FramesQuery {
    from: u32,
    #[serde(default = "default_count")]
    count: u32,
}

fn default_count() -> u32 {
    MAX_FRAMES
}

/// `GET /api/replays/{id}/frames?from=T&count=N`: a MessagePack array of snapshot bodies
/// (PROTOCOL.md 5.3) for the stepped ticks from `T` on, the first whole, each next a delta from
/// the one before; at most `max_frames`; empty past the end.
pub async fn frames(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<FramesQuery>,
) -> Response {
    let p = match playback(&app, &headers, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Ok(_permit) = app.replays.framing.acquire().await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping");
    };
    match tokio::task::spawn_blocking(move || p.frames(q.from, q.count)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/vnd.msgpack")], bytes).into_response(),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "re-simulating the replay failed",
        ),
    }
}
