//! Coalescing bursts: at most one delivery per key per window, and the last event of a
//! burst is never lost.
//!
//! When 100,000 accounts favourite one post within a minute, its author must not get
//! 100,000 pushes. Each notification group (or any other key) may go out once per window;
//! events arriving inside the window mark the key *pending* and a single delayed delivery,
//! scheduled by the caller at the time `offer` returns, sends the group's latest state.

use std::collections::HashMap;
use std::hash::Hash;

/// What to do with an event offered to a [`Coalescer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Deliver it now.
    Now,
    /// Hold it; call [`Coalescer::due`] at this time (milliseconds) and deliver the key's
    /// latest state if it says so.
    Later { at: i64 },
    /// A delayed delivery is already scheduled for this key; it will carry this event.
    Scheduled,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    last_sent: i64,
    pending: bool,
}

/// Per-key delivery windows. Memory holds one small entry per key seen within the last
/// window (or still pending); [`Coalescer::offer`] drops stale entries as it goes.
#[derive(Debug)]
pub struct Coalescer<K> {
    window_ms: i64,
    entries: HashMap<K, Entry>,
    /// Entries before the next sweep of stale ones.
    sweep_at: usize,
}

impl<K: Eq + Hash + Clone> Coalescer<K> {
    /// A coalescer that lets one event per key through every `window_ms` (0: every event
    /// goes through).
    pub fn new(window_ms: i64) -> Coalescer<K> {
        Coalescer {
            window_ms: window_ms.max(0),
            entries: HashMap::new(),
            sweep_at: 1024,
        }
    }

    /// Offers an event for `key` at `now`.
    pub fn offer(&mut self, key: &K, now: i64) -> Decision {
        if self.window_ms == 0 {
            return Decision::Now;
        }
        if self.entries.len() >= self.sweep_at {
            self.sweep(now);
        }
        match self.entries.get_mut(key) {
            Some(e) if e.pending => Decision::Scheduled,
            Some(e) if now - e.last_sent < self.window_ms => {
                e.pending = true;
                Decision::Later {
                    at: e.last_sent + self.window_ms,
                }
            }
            Some(e) => {
                e.last_sent = now;
                Decision::Now
            }
            None => {
                self.entries.insert(
                    key.clone(),
                    Entry {
                        last_sent: now,
                        pending: false,
                    },
                );
                Decision::Now
            }
        }
    }

    /// Called when a delayed delivery for `key` comes due: true if the caller should now
    /// deliver the key's latest state (the window restarts from `now`).
    pub fn due(&mut self, key: &K, now: i64) -> bool {
        match self.entries.get_mut(key) {
            Some(e) if e.pending => {
                e.pending = false;
                e.last_sent = now;
                true
            }
            _ => false,
        }
    }

    /// Keys currently tracked (for tests and gauges).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops keys whose window has passed with nothing pending, and sets the next sweep
    /// at twice the survivors, so sweeping stays amortised O(1) per offer.
    fn sweep(&mut self, now: i64) {
        let window = self.window_ms;
        self.entries
            .retain(|_, e| e.pending || now - e.last_sent < window);
        self.sweep_at = (self.entries.len() * 2).max(1024);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn first_event_goes_now_then_one_delayed_delivery_per_window() {
        let mut c = Coalescer::new(5_000);
        assert_eq!(c.offer(&"g", 0), Decision::Now);
        assert_eq!(c.offer(&"g", 100), Decision::Later { at: 5_000 });
        assert_eq!(c.offer(&"g", 200), Decision::Scheduled);
        assert!(c.due(&"g", 5_000));
        assert!(!c.due(&"g", 5_001), "a due key is delivered once");
        assert_eq!(c.offer(&"g", 6_000), Decision::Later { at: 10_000 });
        assert_eq!(c.offer(&"g", 20_000), Decision::Scheduled);
        assert!(c.due(&"g", 20_000));
        assert_eq!(c.offer(&"g", 30_000), Decision::Now);
    }

    #[test]
    fn keys_are_independent_and_zero_window_passes_everything() {
        let mut c = Coalescer::new(1_000);
        assert_eq!(c.offer(&1, 0), Decision::Now);
        assert_eq!(c.offer(&2, 0), Decision::Now);
        let mut open = Coalescer::new(0);
        for t in 0..10 {
            assert_eq!(open.offer(&1, t), Decision::Now);
        }
    }

    #[test]
    fn stale_keys_are_swept() {
        let mut c = Coalescer::new(10);
        for k in 0..5_000 {
            c.offer(&k, k as i64 * 100);
        }
        assert!(c.len() < 2_100, "{} entries kept", c.len());
    }

    proptest! {
        /// However events arrive, deliveries of one key are at least a window apart, and
        /// the last event is covered: either delivered now or followed by a due delivery.
        #[test]
        fn deliveries_are_spaced_and_the_last_event_is_delivered(
            gaps in proptest::collection::vec(0i64..3_000, 1..200),
        ) {
            let window = 1_000;
            let mut c = Coalescer::new(window);
            let mut sent: Vec<i64> = Vec::new();
            let mut scheduled: Option<i64> = None;
            let mut now = 0;
            for gap in gaps {
                now += gap;
                if let Some(at) = scheduled.filter(|&at| at <= now) {
                    if c.due(&0, at) { sent.push(at); }
                    scheduled = None;
                }
                match c.offer(&0, now) {
                    Decision::Now => sent.push(now),
                    Decision::Later { at } => { prop_assert!(scheduled.is_none()); scheduled = Some(at) }
                    Decision::Scheduled => prop_assert!(scheduled.is_some()),
                }
            }
            if let Some(at) = scheduled {
                prop_assert!(c.due(&0, at));
                sent.push(at);
            }
            prop_assert_eq!(*sent.last().unwrap() >= now, true);
            for w in sent.windows(2) {
                prop_assert!(w[1] - w[0] >= window, "{:?}", sent);
            }
        }
    }
}
