//! The WebSocket upgrade: header checks, the Origin allowlist, connection limits, then the session.

use super::accept::App;
use super::limits::{Admission, AdmissionCell};
use crate::config::Limits;
use crate::protocol::{CloseCode, SessionId};
use crate::session::{self, SessionContext};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::debug;

/// The WebSocket settings every route uses: small buffers and hard caps instead of tungstenite's
/// defaults (128 KiB read buffer, 16 MiB frames, 64 MiB messages, an unbounded write buffer).
pub fn ws_config(limits: &Limits) -> WebSocketConfig {
    WebSocketConfig::default()
        // 4 KiB instead of 128 KiB: ~7 KB of RAM per idle connection instead of ~138 KB.
        .read_buffer_size(4096)
        // Frames fed together go out in one write; every send ends with a flush.
        .write_buffer_size(16 * 1024)
        // A client that stops reading cannot make the server buffer more than this.
        .max_write_buffer_size(256 * 1024)
        .max_message_size(Some(limits.max_message_bytes))
        .max_frame_size(Some(limits.max_message_bytes))
        .accept_unmasked_frames(false)
}

fn header_has(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

fn bad_request(why: &'static str) -> Response {
    (StatusCode::BAD_REQUEST, why).into_response()
}

/// Browsers send Origin; anything else (bots, native clients) does not and is not checked.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    if allowed.is_empty() {
        // Same origin: the Origin's host[:port] must be the Host the browser connected to.
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'));
        return host.is_some() && origin_host == host;
    }
    allowed
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/') == origin.trim_end_matches('/'))
}

/// Checks an upgrade request; on success returns the `Sec-WebSocket-Accept` value.
fn check_upgrade(headers: &HeaderMap) -> Result<String, Box<Response>> {
    if !header_has(headers, header::UPGRADE, "websocket")
        || !header_has(headers, header::CONNECTION, "upgrade")
    {
        return Err(Box::new(bad_request("this endpoint speaks WebSocket only")));
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(|v| v.as_bytes())
        != Some(b"13")
    {
        return Err(Box::new(
            (
                StatusCode::UPGRADE_REQUIRED,
                [(header::SEC_WEBSOCKET_VERSION, "13")],
                "WebSocket version 13 required",
            )
                .into_response(),
        ));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or_else(|| Box::new(bad_request("missing Sec-WebSocket-Key")))?;
    Ok(derive_accept_key(key.as_bytes()))
}

fn switching(accept: String) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = res.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    res
}

/// `/ws`: the game protocol.
pub async fn ws_route(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let accept = match check_upgrade(req.headers()) {
        Ok(a) => a,
        Err(res) => return *res,
    };
    let cfg = app.config.clone();
    let origin_ok = origin_allowed(req.headers(), &cfg.server.allowed_origins);
    // The accept loop admitted this connection with a slot, or over a limit with a refusal
    // permit (see `limits`): the upgrade takes it along for the connection's life.
    let admission = req
        .extensions()
        .get::<AdmissionCell>()
        .and_then(AdmissionCell::take);
    // Refusals still upgrade so the client reads a close code and a reason (a browser cannot read
    // the status of a failed upgrade), but only a bounded number at a time.
    let (refusal, admission) = match admission {
        Some(a @ Admission::Slot(_)) if origin_ok => (None, a),
        other => {
            let code = if origin_ok {
                CloseCode::ServerFull
            } else {
                CloseCode::OriginNotAllowed
            };
            app.metrics.rejected_connections.inc();
            let permit = match other {
                Some(Admission::Refused(p)) => p,
                // The slot is not needed to say no; a refusal permit bounds the saying.
                _ => match app.refusals.clone().try_acquire_owned() {
                    Ok(p) => p,
                    Err(_) => {
                        return (StatusCode::SERVICE_UNAVAILABLE, "server full").into_response()
                    }
                },
            };
            (Some(code), Admission::Refused(permit))
        }
    };
    if app.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    let on_upgrade = hyper::upgrade::on(req);
    let ws_cfg = ws_config(&cfg.limits);
    let ctx = SessionContext {
        registry: app.registry.clone(),
        metrics: app.metrics.clone(),
        config: cfg.clone(),
        shutdown: app.shutdown.clone(),
    };
    let id = SessionId(app.next_session.fetch_add(1, Ordering::Relaxed));
    app.tasks.spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(u) => u,
            Err(e) => {
                debug!(error = %e, "upgrade failed");
                return;
            }
        };
        let mut ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(ws_cfg))
                .await;
        if let Some(code) = refusal {
            session::close_with(&mut ws, code).await;
            drop(admission);
            return;
        }
        ctx.metrics.connections.inc();
        session::run(ws, id, peer, ctx.clone()).await;
        ctx.metrics.connections.dec();
        drop(admission);
    });
    switching(accept)
}

/// `/echo` (off unless `server.echo_route`): echoes every message, for the Autobahn suite, with the
/// same WebSocket settings and limits as `/ws`.
pub async fn echo_route(State(app): State<App>, req: Request) -> Response {
    let accept = match check_upgrade(req.headers()) {
        Ok(a) => a,
        Err(res) => return *res,
    };
    let Some(slot @ Admission::Slot(_)) = req
        .extensions()
        .get::<AdmissionCell>()
        .and_then(AdmissionCell::take)
    else {
        return (StatusCode::SERVICE_UNAVAILABLE, "server full").into_response();
    };
    let on_upgrade = hyper::upgrade::on(req);
    let ws_cfg = ws_config(&app.config.limits);
    let shutdown = app.shutdown.clone();
    app.tasks.spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let mut ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(ws_cfg))
                .await;
        let mut close = None;
        loop {
            let msg = tokio::select! {
                _ = shutdown.cancelled() => break,
                m = ws.next() => m,
            };
            match msg {
                Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => {
                    if ws.send(m).await.is_err() {
                        break;
                    }
                }
                Some(Ok(_)) => {}
                // Say why, as /ws does: too big is 1009, bad UTF-8 1007, broken framing 1002.
                Some(Err(e)) => {
                    close = match e {
                        WsError::Capacity(_) => Some(WsCloseCode::Size),
                        WsError::Utf8(_) => Some(WsCloseCode::Invalid),
                        WsError::Protocol(_) => Some(WsCloseCode::Protocol),
                        _ => None,
                    };
                    break;
                }
                None => break,
            }
        }
        let frame = close.map(|code| CloseFrame {
            code,
            reason: "".into(),
        });
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), ws.close(frame)).await;
        drop(slot);
    });
    switching(accept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_by_default() {
        let allowed: Vec<String> = vec![];
        assert!(origin_allowed(
            &headers(&[("host", "127.0.0.1:8080")]),
            &allowed
        ));
        assert!(origin_allowed(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080")
            ]),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://evil.example")
            ]),
            &allowed
        ));
        let list = vec!["https://game.example".to_owned()];
        assert!(origin_allowed(
            &headers(&[("host", "x"), ("origin", "https://game.example")]),
            &list
        ));
        assert!(!origin_allowed(
            &headers(&[("host", "x"), ("origin", "http://127.0.0.1:8080")]),
            &list
        ));
    }

    #[test]
    fn upgrade_needs_the_right_headers() {
        assert!(check_upgrade(&headers(&[("upgrade", "websocket")])).is_err());
        let ok = headers(&[
            ("upgrade", "websocket"),
            ("connection", "keep-alive, Upgrade"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]);
        // RFC 6455's worked example.
        assert_eq!(check_upgrade(&ok).unwrap(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }
}
