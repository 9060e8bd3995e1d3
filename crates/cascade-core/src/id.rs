//! Time-ordered 64-bit identifiers, as Mastodon uses them.
//!
//! An id is the creation time in milliseconds since the Unix epoch shifted left by 16 bits,
//! plus a 16-bit sequence. Sorting ids sorts by time, so timelines can be ordered and paged
//! by id alone. Ids are rendered as decimal strings in JSON, as Mastodon does, because
//! JavaScript clients cannot hold 64-bit integers exactly.

use std::sync::atomic::{AtomicI64, Ordering};

/// One identifier of any record (account, status, notification, list, ...).
pub type Id = i64;

const SEQUENCE_BITS: u32 = 16;

/// Hands out strictly increasing ids. One generator serves a whole process: it is
/// lock-free, and two calls never return the same id even within one millisecond.
#[derive(Debug, Default)]
pub struct IdGenerator {
    last: AtomicI64,
}

impl IdGenerator {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next id for a record created now.
    pub fn next(&self) -> Id {
        self.next_at(crate::time::now_millis())
    }

    /// The next id for a record created at `millis` (used by the demo world to backdate
    /// posts). Still strictly greater than every id handed out before.
    pub fn next_at(&self, millis: i64) -> Id {
        let candidate = millis << SEQUENCE_BITS;
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = if candidate > last {
                candidate
            } else {
                last + 1
            };
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }
}

/// An id backdated to `millis` without a generator: the smallest id of that millisecond.
/// Used as a pagination bound ("everything before this time").
pub fn floor_for_millis(millis: i64) -> Id {
    millis << SEQUENCE_BITS
}

/// The creation time, in milliseconds, encoded in an id.
pub fn millis_of(id: Id) -> i64 {
    id >> SEQUENCE_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_strictly_within_one_millisecond() {
        let g = IdGenerator::new();
        let a = g.next_at(1_000);
        let b = g.next_at(1_000);
        let c = g.next_at(999);
        assert!(a < b && b < c);
        assert_eq!(millis_of(a), 1_000);
    }

    #[test]
    fn ids_carry_their_time() {
        let g = IdGenerator::new();
        let id = g.next_at(1_700_000_000_123);
        assert_eq!(millis_of(id), 1_700_000_000_123);
        assert!(id > floor_for_millis(1_700_000_000_122));
    }
}
