//! Operator routes behind `admin.token` (a bearer token): off (404) when no token is set, 401
//! without the right one.

use super::app::App;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

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

/// `POST /admin/drain`: drain this node, then stop (as SIGTERM with `cluster.drain`).
pub async fn drain(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Err(r) = authorised(&app, &headers) {
        return *r;
    }
    app.drain_requested.cancel();
    (StatusCode::ACCEPTED, "draining\n").into_response()
}
