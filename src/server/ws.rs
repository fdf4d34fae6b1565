//! The WebSocket upgrade: header checks, the Origin allowlist, connection limits, then the socket
//! goes to a shard, which runs the session.

use super::app::App;
use super::limits::{Admission, AdmissionCell};
use crate::protocol::{CloseCode, SessionId};
use crate::shard::{Incoming, Route};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tracing::debug;

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
pub(super) fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
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
    let origin_ok = origin_allowed(req.headers(), &app.config.server.allowed_origins);
    // The accept loop admitted this connection with a slot, or over a limit with a refusal
    // permit (see `limits`): the upgrade takes it along for the connection's life.
    let admission = req
        .extensions()
        .get::<AdmissionCell>()
        .and_then(AdmissionCell::take);
    // Refusals still upgrade so the client reads a close code and a reason (a browser cannot read
    // the status of a failed upgrade), but only a bounded number at a time.
    let (route, admission) = match admission {
        Some(a @ Admission::Slot(_)) if origin_ok => (Route::Game, a),
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
            (Route::Refuse(code), Admission::Refused(permit))
        }
    };
    if app.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    hand_over(&app, req, peer, route, admission);
    switching(accept)
}

/// `/echo` (off unless `server.echo_route`): echoes every message, for the Autobahn suite, with the
/// same WebSocket settings, limits and code path as `/ws`.
pub async fn echo_route(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
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
    hand_over(&app, req, peer, Route::Echo, slot);
    switching(accept)
}

/// Once the 101 has gone out, takes the raw TCP socket back from the HTTP layer (with any bytes it
/// read past the request) and gives it to a shard, which serves it from there on.
fn hand_over(app: &App, req: Request, peer: SocketAddr, route: Route, admission: Admission) {
    let on_upgrade = hyper::upgrade::on(req);
    let id = SessionId(app.next_session.fetch_add(1, Ordering::Relaxed));
    let shards = app.shards.clone();
    app.tasks.spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(u) => u,
            Err(e) => {
                debug!(error = %e, "upgrade failed");
                return;
            }
        };
        let parts = match upgraded.downcast::<TokioIo<TcpStream>>() {
            Ok(p) => p,
            Err(_) => {
                debug!("upgraded connection is not a TCP stream");
                return;
            }
        };
        let stream = match parts.io.into_inner().into_std() {
            Ok(s) => s,
            Err(e) => {
                debug!(error = %e, "could not take the socket from the HTTP layer");
                return;
            }
        };
        shards.connect(Incoming {
            stream,
            read_buf: parts.read_buf,
            peer,
            id,
            route,
            guard: Box::new(admission),
        });
    });
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
