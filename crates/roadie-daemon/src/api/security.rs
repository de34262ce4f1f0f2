//! Request guards: the Host check against DNS rebinding, the Origin check for
//! state-changing requests and WebSocket upgrades, and the bearer token.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;

use super::{ApiError, AppState};

/// Host and Origin checks, applied to every route (health included).
pub async fn check_host_and_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| ApiError::forbidden("forbidden_host", "the request has no Host header"))?;
    if !state.allowed_hosts.contains(&host) {
        tracing::warn!(%host, "refused a request for a foreign Host (DNS rebinding protection)");
        return Err(ApiError::forbidden(
            "forbidden_host",
            format!(
                "Host {host:?} is not this daemon; add it to [server] allowed_hosts if you trust it"
            ),
        ));
    }
    if needs_origin_check(request.method(), headers)
        && let Some(origin) = headers.get(header::ORIGIN)
    {
        let origin = origin.to_str().unwrap_or("").to_ascii_lowercase();
        if !state.allowed_origins.contains(&origin) {
            tracing::warn!(%origin, method = %request.method(), "refused a request from a foreign Origin");
            return Err(ApiError::forbidden(
                "forbidden_origin",
                format!("Origin {origin:?} may not change state or open streams here"),
            ));
        }
    }
    Ok(next.run(request).await)
}

fn needs_origin_check(method: &Method, headers: &HeaderMap) -> bool {
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    upgrade || !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Requires `Authorization: Bearer <token>`.
pub async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(token)
            if constant_time_eq(token.as_bytes(), state.token.expose_secret().as_bytes()) =>
        {
            Ok(next.run(request).await)
        }
        Some(_) => Err(ApiError::unauthorized(
            "the API token is wrong; it is in <data-dir>/api-token",
        )),
        None => Err(ApiError::unauthorized(
            "this endpoint needs `Authorization: Bearer <token>`; the token is in <data-dir>/api-token",
        )),
    }
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    left.iter()
        .zip(right)
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }

    #[test]
    fn which_requests_need_an_origin_check() {
        let mut upgrade = HeaderMap::new();
        upgrade.insert(header::UPGRADE, "WebSocket".parse().unwrap());
        assert!(needs_origin_check(&Method::GET, &upgrade));
        assert!(needs_origin_check(&Method::POST, &HeaderMap::new()));
        assert!(needs_origin_check(&Method::DELETE, &HeaderMap::new()));
        assert!(!needs_origin_check(&Method::GET, &HeaderMap::new()));
    }
}
