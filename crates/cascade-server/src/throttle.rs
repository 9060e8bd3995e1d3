//! Request counters for rate limits: a fixed number of requests per key and window. The
//! HTTP middleware (`api::limits`) decides the key and the answer; this only counts.
//!
//! Memory is bounded whatever the number of keys: past `capacity` keys, finished windows
//! are forgotten first, then the oldest half of the live ones. Forgetting a live window
//! gives that key a fresh one, so an attacker who floods the table with keys (one per
//! address) can reset a few windows early, never grow the table.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many keys the limiter remembers by default.
pub const DEFAULT_CAPACITY: usize = 100_000;

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

/// One key's current window: when it started, how long it lasts, what it counted.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    length: Duration,
    count: u32,
}

/// Counters per key for the current window of each.
pub struct Limiter {
    windows: Mutex<HashMap<String, Window>>,
    capacity: usize,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter::with_capacity(DEFAULT_CAPACITY)
    }
}

impl Limiter {
    pub fn with_capacity(capacity: usize) -> Limiter {
        Limiter {
            windows: Mutex::new(HashMap::new()),
            capacity: capacity.max(2),
        }
    }

    /// Counts one request; returns whether it is within the limit, the requests left and
    /// when the window resets.
    pub fn hit(&self, key: &str, limit: RateLimit, now: Instant) -> (bool, u32, Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if !windows.contains_key(key) && windows.len() >= self.capacity {
            make_room(&mut windows, self.capacity, now);
        }
        let entry = windows.entry(key.to_string()).or_insert(Window {
            start: now,
            length: limit.window,
            count: 0,
        });
        if now.duration_since(entry.start) >= entry.length {
            *entry = Window {
                start: now,
                length: limit.window,
                count: 0,
            };
        }
        entry.count = entry.count.saturating_add(1);
        let reset = entry.start + entry.length;
        (
            entry.count <= limit.requests,
            limit.requests.saturating_sub(entry.count),
            reset,
        )
    }

    /// Whether `key` has used up its limit in its current window, without counting.
    pub fn exhausted(&self, key: &str, limit: RateLimit, now: Instant) -> Option<Instant> {
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let w = windows.get(key)?;
        let live = now.duration_since(w.start) < w.length;
        (live && w.count >= limit.requests).then_some(w.start + w.length)
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.windows.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Forgets finished windows; if that frees less than a tenth, also the older half of the
/// live ones (by start), so each eviction pays for many inserts.
fn make_room(windows: &mut HashMap<String, Window>, capacity: usize, now: Instant) {
    windows.retain(|_, w| now.duration_since(w.start) < w.length);
    if windows.len() < capacity - capacity / 10 {
        return;
    }
    let mut starts: Vec<Instant> = windows.values().map(|w| w.start).collect();
    let middle = starts.len() / 2;
    let (_, median, _) = starts.select_nth_unstable(middle);
    let median = *median;
    windows.retain(|_, w| w.start > median);
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RateLimit = RateLimit {
        requests: 2,
        window: Duration::from_secs(60),
    };

    #[test]
    fn a_key_is_refused_past_its_limit_until_its_window_ends() {
        let limiter = Limiter::default();
        let t0 = Instant::now();
        assert!(limiter.hit("k", LIMIT, t0).0);
        assert!(limiter.hit("k", LIMIT, t0).0);
        assert!(!limiter.hit("k", LIMIT, t0).0);
        assert!(limiter.exhausted("k", LIMIT, t0).is_some());
        assert!(limiter.hit("other", LIMIT, t0).0);
        assert!(limiter.hit("k", LIMIT, t0 + LIMIT.window).0);
    }

    #[test]
    fn memory_stays_bounded_whatever_the_number_of_keys() {
        let limiter = Limiter::with_capacity(1_000);
        let t0 = Instant::now();
        for i in 0..100_000u32 {
            limiter.hit(
                &format!("key{i}"),
                LIMIT,
                t0 + Duration::from_millis(i as u64),
            );
            assert!(limiter.len() <= 1_000);
        }
        // The newest keys are still counted.
        let last = t0 + Duration::from_millis(99_999);
        assert!(limiter.hit("key99999", LIMIT, last).0);
        assert!(!limiter.hit("key99999", LIMIT, last).0);
    }
}
