//! Request rate limits, as Mastodon applies them: a fixed number of requests per window
//! for each access token (or, without one, each client address). Answers past the limit
//! are 429 with Mastodon's `X-RateLimit-*` headers, so clients can back off.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// How many keys the limiter remembers before it forgets finished windows.
const MAX_KEYS: usize = 100_000;

/// Requests allowed per key and window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

impl Default for RateLimit {
    /// Mastodon's default: 300 requests per 5 minutes.
    fn default() -> Self {
        RateLimit {
            requests: 300,
            window: Duration::from_secs(300),
        }
    }
}

/// Counters per key for the current window of each.
#[derive(Default)]
pub struct Limiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limiter {
    /// Counts one request; returns the requests left and when the window resets, or `None`
    /// when the key is over its limit.
    fn hit(&self, key: &str, limit: RateLimit, now: Instant) -> (bool, u32, Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_KEYS {
            windows.retain(|_, (start, _)| now.duration_since(*start) < limit.window);
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= limit.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        let reset = entry.0 + limit.window;
        (
            entry.1 <= limit.requests,
            limit.requests.saturating_sub(entry.1),
            reset,
        )
    }
}

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
