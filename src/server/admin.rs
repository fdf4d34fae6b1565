//! Operator routes behind `admin.token` (a bearer token): off (404) when no token is set, 401
//! without the right one, 403 for a state-changing POST from another origin. The console's page
//! (`/admin`) is public; everything it shows or does goes through these.

use super::app::App;
use crate::lobby::{AdminOp, AdminReply, RosterView};
use crate::protocol::{EntityId, LobbyId};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Whether the request carries the configured bearer token (compared in constant time).
fn authorised(app: &App, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let token = &app.config.admin.token;
    if token.is_empty() {
        let off = (
            StatusCode::NOT_FOUND,
            "admin routes are off (no admin.token)\n",
        );
        return Err(Box::new(off.into_response()));
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let same = given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(Box::new(
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "an admin bearer token is required\n",
            )
                .into_response(),
        ))
    }
}

/// The request carries the operator's token (replays of private lobbies are theirs to see).
pub(super) fn is_operator(app: &App, headers: &HeaderMap) -> bool {
    authorised(app, headers).is_ok()
}

/// [`authorised`], and for a state-changing request: an `Origin`, when there is one, must be
/// this server's (a page elsewhere must not drive the console with a token it got hold of).
fn authorised_post(app: &App, headers: &HeaderMap) -> Result<(), Box<Response>> {
    authorised(app, headers)?;
    if !super::ws::origin_allowed(headers, &[]) {
        return Err(Box::new(
            (
                StatusCode::FORBIDDEN,
                "cross-origin admin request refused\n",
            )
                .into_response(),
        ));
    }
    Ok(())
}

/// `POST /admin/drain`: drain this node, then stop (as SIGTERM with `cluster.drain`).
pub async fn drain(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Err(r) = authorised_post(&app, &headers) {
        return *r;
    }
    app.drain_requested.cancel();
    (StatusCode::ACCEPTED, "draining\n").into_response()
}

const NO_CONSOLE: &str = r#"<!doctype html>
<meta charset="utf-8"><title>tickrelay admin</title>
<p>The operator console has not been built: <code>cd game-client &amp;&amp; npm run build</code>.</p>
"#;

/// `GET /admin`: the console's page (it asks for the token itself).
pub async fn page(State(app): State<App>) -> Response {
    let file = app.config.server.client_dir.join("admin.html");
    match tokio::fs::read_to_string(&file).await {
        Ok(html) => ([(header::CACHE_CONTROL, "no-cache")], Html(html)).into_response(),
        Err(_) => Html(NO_CONSOLE).into_response(),
    }
}

/// One lobby as the console shows it.
#[derive(Serialize)]
struct LobbyView {
    id: LobbyId,
    code: String,
    name: String,
    game: &'static str,
    public: bool,
    max_players: u16,
    #[serde(flatten)]
    roster: RosterView,
    /// Over the lobby's last ~256 ticks (µs).
    tick_p50_us: u32,
    tick_p99_us: u32,
    /// Snapshot and event bytes sent to its members in the last second.
    bytes_per_sec: u64,
    /// Its replay's id (`GET /api/replays/{id}`), when it records.
    replay: Option<String>,
}

#[derive(Serialize)]
struct Overview {
    tick_rate: u16,
    /// Lobbies on this node (`lobbies` lists the fullest [`MAX_SHOWN`] of them).
    lobby_count: usize,
    lobbies: Vec<LobbyView>,
    /// The server's last five minutes, one sample a second, oldest first.
    series: Vec<super::sampler::Sample>,
}

/// Most lobbies one overview shows.
const MAX_SHOWN: usize = 200;

/// How long the overview waits for a lobby's roster (a lobby that does not answer is left out).
const ROSTER_WAIT: Duration = Duration::from_secs(1);

/// `GET /admin/api/overview`: this node's lobbies with their players and tick figures, and the
/// server's series.
pub async fn overview(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Err(r) = authorised(&app, &headers) {
        return *r;
    }
    let mut lobbies = app.registry.all();
    let lobby_count = lobbies.len();
    // The fullest first, at most MAX_SHOWN: each costs its shard a message every refresh.
    lobbies.sort_by_key(|l| (std::cmp::Reverse(l.players.load(Ordering::Relaxed)), l.id));
    lobbies.truncate(MAX_SHOWN);
    lobbies.sort_by_key(|l| l.id);
    let asks = lobbies.iter().map(|l| {
        let registry = app.registry.clone();
        let id = l.id;
        async move {
            tokio::time::timeout(ROSTER_WAIT, registry.admin(id, AdminOp::Roster))
                .await
                .ok()
                .flatten()
        }
    });
    let rosters = futures_util::future::join_all(asks).await;
    let lobbies = lobbies
        .iter()
        .zip(rosters)
        .filter_map(|(l, r)| {
            let Some(AdminReply::Roster(roster)) = r else {
                return None;
            };
            Some(LobbyView {
                id: l.id,
                code: l.code.clone(),
                name: l.name.clone(),
                game: l.game.name(),
                public: l.public,
                max_players: l.max_players,
                roster,
                tick_p50_us: l.tick_p50_us.load(Ordering::Relaxed),
                tick_p99_us: l.tick_p99_us.load(Ordering::Relaxed),
                bytes_per_sec: l.bytes_per_sec.load(Ordering::Relaxed),
                replay: l.replay.clone(),
            })
        })
        .collect();
    Json(Overview {
        tick_rate: app.config.lobby.tick_rate,
        lobby_count,
        lobbies,
        series: app.series.snapshot(),
    })
    .into_response()
}

#[derive(Deserialize)]
pub struct KickBody {
    player: u32,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
pub struct CloseBody {
    #[serde(default)]
    reason: String,
}

fn no_lobby(id: u32) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": format!("no lobby {id} on this node") })),
    )
        .into_response()
}

/// The JSON body, or a 400 that says what is wrong with it.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(
            (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({ "error": format!("bad request body: {e}") })),
            )
                .into_response(),
        )
    })
}

/// `POST /admin/api/lobbies/{id}/kick` `{player, reason}`: the player is told the reason
/// (`Left`), closed with 4007, and its seat is freed.
pub async fn kick(
    State(app): State<App>,
    Path(id): Path<u32>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Response {
    if let Err(r) = authorised_post(&app, &headers) {
        return *r;
    }
    let b: KickBody = match body(&bytes) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let op = AdminOp::Kick {
        player: EntityId(b.player),
        reason: b.reason,
    };
    match app.registry.admin(LobbyId(id), op).await {
        Some(AdminReply::Kicked(true)) => {
            Json(serde_json::json!({ "kicked": b.player })).into_response()
        }
        Some(_) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": format!("no player {} in lobby {id}", b.player) })),
        )
            .into_response(),
        None => no_lobby(id),
    }
}

/// `POST /admin/api/lobbies/{id}/close` `{reason}`: the lobby ends; every member gets `Left`
/// with the reason and is back in the lobby screen.
pub async fn close(
    State(app): State<App>,
    Path(id): Path<u32>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Response {
    if let Err(r) = authorised_post(&app, &headers) {
        return *r;
    }
    let b: CloseBody = match body(&bytes) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    match app
        .registry
        .admin(LobbyId(id), AdminOp::Close { reason: b.reason })
        .await
    {
        Some(_) => Json(serde_json::json!({ "closed": id })).into_response(),
        None => no_lobby(id),
    }
}

/// Any other `/admin/api/...` path: the same 404/401 as the real ones first (nothing is said
/// about which routes exist to someone without the token), then 404.
pub async fn unknown(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Err(r) = authorised(&app, &headers) {
        return *r;
    }
    (StatusCode::NOT_FOUND, "no such admin route\n").into_response()
}
