//! Request counters for rate limits: a fixed number of requests per key and window. The
//! HTTP middleware (`api::limits`) decides the key and the answer; this only counts.
//!
//! Memory is bounded whatever the number of keys: past `capacity` keys, finished windows
//! are forgotten first, then the oldest half of the live ones. Forgetting a live window
//! gives that key a fresh one, so an attacker who floods the table with keys (one per
//! address) can reset a few windows early, never grow the table.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
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

/// Counts one request against a window kept in Redis, so that the nodes of a cluster grant
/// `limit.requests` per window together, not each. The window starts at the key's first
/// request (`SET NX PX`, then `INCR`, in one transaction). When Redis cannot answer, the
/// node's own `local` counters decide: a limit per node is better than none, or than
/// refusing every request while Redis restarts.
pub async fn shared_hit(
    redis: Option<(redis::aio::ConnectionManager, String)>,
    local: &Limiter,
    key: &str,
    limit: RateLimit,
    now: Instant,
) -> (bool, u32, Instant) {
    let Some((mut conn, redis_key)) = redis else {
        return local.hit(key, limit, now);
    };
    let window_ms = limit.window.as_millis().max(1) as u64;
    let counted: redis::RedisResult<(i64, i64)> = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg(&redis_key)
        .arg(0)
        .arg("PX")
        .arg(window_ms)
        .arg("NX")
        .ignore()
        .cmd("INCR")
        .arg(&redis_key)
        .cmd("PTTL")
        .arg(&redis_key)
        .query_async(&mut conn)
        .await;
    match counted {
        Ok((count, ttl)) => {
            let count = u32::try_from(count.max(0)).unwrap_or(u32::MAX);
            let left = if ttl > 0 { ttl as u64 } else { window_ms };
            (
                count <= limit.requests,
                limit.requests.saturating_sub(count),
                now + Duration::from_millis(left),
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "Redis did not count a request; counting here");
            local.hit(key, limit, now)
        }
    }
}

/// Whether `key` used up its limit in its current window, without counting: in Redis when
/// given, else (or when Redis fails) in `local`.
pub async fn shared_exhausted(
    redis: Option<(redis::aio::ConnectionManager, String)>,
    local: &Limiter,
    key: &str,
    limit: RateLimit,
    now: Instant,
) -> Option<Instant> {
    let Some((mut conn, redis_key)) = redis else {
        return local.exhausted(key, limit, now);
    };
    let read: redis::RedisResult<(Option<i64>, i64)> = redis::pipe()
        .cmd("GET")
        .arg(&redis_key)
        .cmd("PTTL")
        .arg(&redis_key)
        .query_async(&mut conn)
        .await;
    match read {
        Ok((Some(count), ttl)) if ttl > 0 && count >= i64::from(limit.requests) => {
            Some(now + Duration::from_millis(ttl as u64))
        }
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "Redis did not answer a throttle; asking here");
            local.exhausted(key, limit, now)
        }
    }
}

/// The permits of requests in flight: a fixed number, taken without waiting.
pub struct InFlight {
    permits: Arc<tokio::sync::Semaphore>,
}

impl InFlight {
    pub fn new(max: usize) -> InFlight {
        InFlight {
            permits: Arc::new(tokio::sync::Semaphore::new(max.max(1))),
        }
    }

    /// A permit, held for the request's life, or `None` when all are taken.
    pub fn try_enter(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }
}

/// Long-lived connections (streams) open per client address, at most `per_address` each.
/// The map holds only addresses with an open connection, so it is bounded by the number
/// of open connections, which the server caps.
pub struct Slots {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    per_address: usize,
}

/// One open connection's place; dropping it frees the place.
pub struct Slot {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    addr: IpAddr,
}

impl Slots {
    pub fn new(per_address: usize) -> Slots {
        Slots {
            open: Arc::default(),
            per_address,
        }
    }

    /// A place for one more connection from `addr`, or `None` when it has all it may.
    pub fn take(&self, addr: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(addr).or_insert(0);
        if *count >= self.per_address {
            return None;
        }
        *count += 1;
        Some(Slot {
            open: self.open.clone(),
            addr,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.addr) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.addr);
            }
        }
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

    #[test]
    fn an_address_gets_its_slots_back_when_connections_close() {
        let slots = Slots::new(2);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let a = slots.take(ip).unwrap();
        let _b = slots.take(ip).unwrap();
        assert!(slots.take(ip).is_none());
        assert!(slots.take("192.0.2.2".parse().unwrap()).is_some());
        drop(a);
        assert!(slots.take(ip).is_some());
    }

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
