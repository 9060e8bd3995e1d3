//! Request rate limits, as Mastodon applies them: a fixed number of requests per window
//! for each access token (or, without one, each client address). Answers past the limit
//! are 429 with Mastodon's `X-RateLimit-*` headers, so clients can back off.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;
pub use crate::throttle::{Limiter, RateLimit};

/// The middleware: counts the request against its key and refuses it past the limit.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limit) = state.config.rate_limit else {
        return next.run(request).await;
    };
    let key = match super::auth::bearer_header(request.headers()) {
        Some(token) => format!("t:{}", super::auth::hash_secret(token)),
        None => match request.extensions().get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(addr)) => format!("a:{}", addr.ip()),
            None => "a:unknown".to_string(),
        },
    };
    let now = Instant::now();
    let (allowed, remaining, reset) = state.limiter.hit(&key, limit, now);
    let mut response = if allowed {
        next.run(request).await
    } else {
        ApiError::RateLimited.into_response()
    };
    let reset_at = cascade_core::time::rfc3339(
        cascade_core::time::now_millis() + reset.saturating_duration_since(now).as_millis() as i64,
    );
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", limit.requests.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", reset_at),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    response
}
