//! Plain HTTP routes: health, metrics, the public lobby list, and the browser client's files.

use super::app::App;
use crate::game::GameKind;
use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tower::ServiceExt;
use tower_http::services::ServeDir;

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn metrics(State(app): State<App>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct LobbyQuery {
    game: Option<String>,
}

/// `/api/lobbies[?game=arena]`: public lobbies as JSON, fullest first.
pub async fn lobbies(State(app): State<App>, Query(q): Query<LobbyQuery>) -> Response {
    let game = match q.game.as_deref().map(str::parse::<GameKind>) {
        None => None,
        Some(Ok(g)) => Some(g),
        Some(Err(e)) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    let mut list = app.registry.list(game);
    if let Some(c) = &app.cluster {
        let games: Vec<&str> = match game {
            Some(g) => vec![g.name()],
            None => GameKind::ALL.iter().map(|g| g.name()).collect(),
        };
        // The directory away: this node's own lobbies (the list says what it can).
        if let Ok(remote) = c.public(&games).await {
            crate::session::merge_listing(&mut list, remote, &c.node_id);
        }
    }
    Json(list).into_response()
}

const NOT_BUILT: &str = r#"<!doctype html>
<meta charset="utf-8"><title>tickrelay</title>
<style>body{font:16px system-ui,sans-serif;background:#111820;color:#dde;max-width:40em;margin:4em auto;line-height:1.5}
code{background:#223;padding:.1em .4em;border-radius:4px}</style>
<h1>tickrelay is running</h1>
<p>The browser game has not been built yet. From the repository root run <code>make run</code>
(it builds the client and starts the server), or build it by hand with
<code>cd game-client &amp;&amp; npm install &amp;&amp; npm run build</code> and reload this page.</p>
<p>The server itself is up: see <a href="/healthz">/healthz</a>, <a href="/metrics">/metrics</a> and
<a href="/api/lobbies">/api/lobbies</a>; game clients connect to <code>/ws</code>.</p>
"#;

/// Everything else: the built client from `server.client_dir`, or a page saying how to build it.
pub async fn static_files(State(app): State<App>, req: Request) -> Response {
    let dir = &app.config.server.client_dir;
    if !dir.join("index.html").is_file() {
        return (StatusCode::OK, Html(NOT_BUILT)).into_response();
    }
    match ServeDir::new(dir).oneshot(req).await {
        Ok(res) => res.map(axum::body::Body::new).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
