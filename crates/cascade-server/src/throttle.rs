//! Request counters for rate limits: a fixed number of requests per key and window. The
//! HTTP middleware (`api::limits`) decides the key and the answer; this only counts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    pub fn hit(&self, key: &str, limit: RateLimit, now: Instant) -> (bool, u32, Instant) {
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
