//! Circuit breakers, one per peer server, so that a server that is down costs one attempt
//! now and then instead of a timeout for every delivery to it.
//!
//! A peer's breaker is closed until `THRESHOLD` deliveries in a row fail; then it opens for
//! `FIRST_COOLDOWN_MS`, and deliveries to it are refused without a request. When the
//! cooldown ends, one trial delivery goes through (the others are still refused while it
//! runs, for at most `TRIAL_MS`): its success closes the breaker, its failure opens it again
//! for twice as long, up to `MAX_COOLDOWN_MS`. Any success closes it.
//!
//! Memory is bounded: at most `capacity` peers are remembered; past it, peers whose breaker
//! is closed are forgotten first, then all (a forgotten breaker is a closed one).

use std::collections::HashMap;

/// Failures in a row that open a breaker.
pub const THRESHOLD: u32 = 5;
/// How long a breaker stays open the first time.
pub const FIRST_COOLDOWN_MS: i64 = 60_000;
/// The longest a breaker stays open before a trial.
pub const MAX_COOLDOWN_MS: i64 = 3_600_000;
/// How long a trial may run before another may start (a trial whose outcome never came).
pub const TRIAL_MS: i64 = 60_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Breaker {
    /// Failures in a row.
    failures: u32,
    /// While open: until when; `None` while closed.
    open_until: Option<i64>,
    /// How long the last opening lasted.
    cooldown_ms: i64,
    /// A trial in flight since then, if any.
    trial_since: Option<i64>,
}

/// The breakers of every peer.
#[derive(Debug, Clone)]
pub struct Breakers {
    by_peer: HashMap<String, Breaker>,
    capacity: usize,
}

impl Default for Breakers {
    fn default() -> Self {
        Breakers::with_capacity(10_000)
    }
}

impl Breakers {
    pub fn with_capacity(capacity: usize) -> Breakers {
        Breakers {
            by_peer: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// Whether a delivery to `peer` may be attempted at `now`.
    pub fn allow(&mut self, peer: &str, now: i64) -> bool {
        let Some(b) = self.by_peer.get_mut(peer) else {
            return true;
        };
        match b.open_until {
            None => true,
            Some(until) if now < until => false,
            Some(_) => match b.trial_since {
                Some(since) if now - since < TRIAL_MS => false,
                _ => {
                    b.trial_since = Some(now);
                    true
                }
            },
        }
    }

    /// Whether `peer`'s breaker is open (deliveries refused) at `now`.
    pub fn is_open(&self, peer: &str, now: i64) -> bool {
        self.by_peer
            .get(peer)
            .and_then(|b| b.open_until)
            .is_some_and(|until| now < until)
    }

    /// A delivery to `peer` went through (or the peer answered at all): closed.
    pub fn succeeded(&mut self, peer: &str) {
        self.by_peer.remove(peer);
    }

    /// A delivery to `peer` failed at `now` (no answer, or a server error).
    pub fn failed(&mut self, peer: &str, now: i64) {
        if !self.by_peer.contains_key(peer) && self.by_peer.len() >= self.capacity {
            self.by_peer
                .retain(|_, b| b.open_until.is_some() || b.failures >= THRESHOLD);
            if self.by_peer.len() >= self.capacity {
                self.by_peer.clear();
            }
        }
        let b = self.by_peer.entry(peer.to_string()).or_default();
        b.failures = b.failures.saturating_add(1);
        if b.open_until.is_some() {
            // A failed trial (or a failure that raced the opening): open for longer.
            if b.trial_since.take().is_some() {
                b.cooldown_ms = (b.cooldown_ms * 2).min(MAX_COOLDOWN_MS);
                b.open_until = Some(now + b.cooldown_ms);
            }
        } else if b.failures >= THRESHOLD {
            b.cooldown_ms = FIRST_COOLDOWN_MS;
            b.open_until = Some(now + FIRST_COOLDOWN_MS);
        }
    }

    /// Peers remembered (closed ones with failures included).
    pub fn len(&self) -> usize {
        self.by_peer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_peer.is_empty()
    }

    /// Peers whose breaker is open at `now`.
    pub fn open_count(&self, now: i64) -> usize {
        self.by_peer
            .values()
            .filter(|b| b.open_until.is_some_and(|until| now < until))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fail_times(b: &mut Breakers, peer: &str, n: u32, now: i64) {
        for _ in 0..n {
            b.failed(peer, now);
        }
    }

    #[test]
    fn opens_after_the_threshold_and_only_for_that_peer() {
        let mut b = Breakers::default();
        fail_times(&mut b, "down.example", THRESHOLD - 1, 0);
        assert!(b.allow("down.example", 0));
        b.failed("down.example", 0);
        assert!(!b.allow("down.example", 1));
        assert!(b.is_open("down.example", 1));
        assert!(b.allow("up.example", 1));
        assert_eq!(b.open_count(1), 1);
    }

    #[test]
    fn a_success_in_between_resets_the_count() {
        let mut b = Breakers::default();
        fail_times(&mut b, "p", THRESHOLD - 1, 0);
        b.succeeded("p");
        fail_times(&mut b, "p", THRESHOLD - 1, 0);
        assert!(b.allow("p", 0));
    }

    #[test]
    fn one_trial_after_the_cooldown_and_a_failed_trial_doubles_it() {
        let mut b = Breakers::default();
        fail_times(&mut b, "p", THRESHOLD, 0);
        let t = FIRST_COOLDOWN_MS;
        assert!(!b.allow("p", t - 1));
        assert!(b.allow("p", t), "the trial");
        assert!(!b.allow("p", t + 1), "only one trial at a time");
        b.failed("p", t + 2);
        assert!(!b.allow("p", t + 2 + 2 * FIRST_COOLDOWN_MS - 1));
        assert!(b.allow("p", t + 2 + 2 * FIRST_COOLDOWN_MS));
        b.succeeded("p");
        assert!(b.allow("p", t + 3 + 2 * FIRST_COOLDOWN_MS));
        assert!(b.is_empty());
    }

    #[test]
    fn a_trial_that_never_reports_lets_another_through() {
        let mut b = Breakers::default();
        fail_times(&mut b, "p", THRESHOLD, 0);
        assert!(b.allow("p", FIRST_COOLDOWN_MS));
        assert!(!b.allow("p", FIRST_COOLDOWN_MS + TRIAL_MS - 1));
        assert!(b.allow("p", FIRST_COOLDOWN_MS + TRIAL_MS));
    }

    #[test]
    fn the_cooldown_stops_growing() {
        let mut b = Breakers::default();
        fail_times(&mut b, "p", THRESHOLD, 0);
        let mut now = 0;
        for _ in 0..20 {
            now += MAX_COOLDOWN_MS;
            assert!(b.allow("p", now));
            b.failed("p", now);
        }
        assert!(!b.allow("p", now + MAX_COOLDOWN_MS - 1));
        assert!(b.allow("p", now + MAX_COOLDOWN_MS));
    }

    proptest! {
        /// Whatever happens, memory stays within the capacity, and a peer that never
        /// failed is always allowed.
        #[test]
        fn bounded_and_never_blocks_a_healthy_peer(
            events in proptest::collection::vec((0u8..40, any::<bool>(), 0i64..10_000_000), 0..400)
        ) {
            let mut b = Breakers::with_capacity(8);
            for (peer, ok, now) in events {
                let peer = format!("p{peer}");
                if ok { b.succeeded(&peer) } else { b.failed(&peer, now) }
                prop_assert!(b.len() <= 8);
                prop_assert!(b.allow("healthy.example", now));
            }
        }
    }
}
