//! Time-ordered 64-bit identifiers, as Mastodon uses them.
//!
//! An id is the creation time in milliseconds since the Unix epoch shifted left by 16 bits,
//! plus a 16-bit sequence. Sorting ids sorts by time, so timelines can be ordered and paged
//! by id alone. Ids are rendered as decimal strings in JSON, as Mastodon does, because
//! JavaScript clients cannot hold 64-bit integers exactly.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// One identifier of any record (account, status, notification, list, ...).
pub type Id = i64;

const SEQUENCE_BITS: u32 = 16;
/// On a cluster, the top bits of the sequence name the node that made the id, so two
/// nodes never hand out the same id within one millisecond.
pub const NODE_BITS: u32 = 6;
/// How many nodes a cluster can number.
pub const MAX_NODES: i64 = 1 << NODE_BITS;
/// The bits left for a node's own sequence within a millisecond.
const NODE_SEQUENCE_BITS: u32 = SEQUENCE_BITS - NODE_BITS;

/// Hands out strictly increasing ids. One generator serves a whole process: it is
/// lock-free, and two calls never return the same id even within one millisecond.
///
/// A lone server uses all 16 sequence bits. A node of a cluster is given a number
/// (`0..MAX_NODES`, shared through `node`) and puts it in the top bits of the sequence,
/// keeping 1,024 ids per millisecond for itself (past them, it takes the next
/// millisecond's); its number may change while it runs (a lost lease), and its ids stay
/// increasing.
#[derive(Debug)]
pub struct IdGenerator {
    last: AtomicI64,
    /// This node's number, or -1 for a lone server.
    node: Arc<AtomicI64>,
}

impl Default for IdGenerator {
    fn default() -> Self {
        IdGenerator {
            last: AtomicI64::new(0),
            node: Arc::new(AtomicI64::new(-1)),
        }
    }
}

impl IdGenerator {
    pub fn new() -> Self {
        Self::default()
    }

    /// A generator for a node whose number `node` holds (and whoever set it may change).
    pub fn numbered(node: Arc<AtomicI64>) -> Self {
        IdGenerator {
            last: AtomicI64::new(0),
            node,
        }
    }

    /// The next id for a record created now.
    pub fn next(&self) -> Id {
        self.next_at(crate::time::now_millis())
    }

    /// The next id for a record created at `millis` (used by the demo world to backdate
    /// posts). Still strictly greater than every id handed out before.
    pub fn next_at(&self, millis: i64) -> Id {
        let node = self.node.load(Ordering::Relaxed);
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = if (0..MAX_NODES).contains(&node) {
                next_of_node(node, millis, last)
            } else {
                (millis << SEQUENCE_BITS).max(last + 1)
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

/// The smallest id of `node`'s block that is at or after `millis` and above `last`.
fn next_of_node(node: i64, millis: i64, last: Id) -> Id {
    let block = |ms: i64| (ms << SEQUENCE_BITS) | (node << NODE_SEQUENCE_BITS);
    let candidate = block(millis);
    if candidate > last {
        return candidate;
    }
    let ms = millis_of(last);
    let same_node = (last >> NODE_SEQUENCE_BITS) & (MAX_NODES - 1) == node;
    let sequence = (last & ((1 << NODE_SEQUENCE_BITS) - 1)) + 1;
    if same_node && sequence < (1 << NODE_SEQUENCE_BITS) {
        block(ms) | sequence
    } else {
        // The block is used up, or the last id was another number's: next millisecond.
        block(ms + 1)
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

    fn node_of(id: Id) -> i64 {
        (id >> NODE_SEQUENCE_BITS) & (MAX_NODES - 1)
    }

    #[test]
    fn two_numbered_nodes_never_share_an_id() {
        let a = IdGenerator::numbered(Arc::new(AtomicI64::new(3)));
        let b = IdGenerator::numbered(Arc::new(AtomicI64::new(4)));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..3_000 {
            for g in [&a, &b] {
                assert!(seen.insert(g.next_at(1_000)));
            }
        }
        let id = a.next_at(1_000);
        assert_eq!(node_of(id), 3, "a node's ids carry its number");
        assert!(
            millis_of(id) > 1_000,
            "past 1,024 ids, the next millisecond's"
        );
    }

    #[test]
    fn a_node_whose_number_changes_keeps_its_ids_increasing() {
        let number = Arc::new(AtomicI64::new(9));
        let g = IdGenerator::numbered(number.clone());
        let before = g.next_at(5_000);
        number.store(2, Ordering::Relaxed);
        let after = g.next_at(5_000);
        assert!(after > before);
        assert_eq!(node_of(after), 2);
    }

    proptest::proptest! {
        /// Whatever the clock and the node's number do, each id is greater than the last
        /// and carries the node's current number.
        #[test]
        fn numbered_ids_increase_and_carry_the_number(
            steps in proptest::collection::vec((0i64..50, 0i64..MAX_NODES, 0usize..1_500), 1..20)
        ) {
            let number = Arc::new(AtomicI64::new(0));
            let g = IdGenerator::numbered(number.clone());
            let mut last = 0;
            for (millis, node, burst) in steps {
                number.store(node, Ordering::Relaxed);
                for _ in 0..burst {
                    let id = g.next_at(1_000 + millis);
                    proptest::prop_assert!(id > last);
                    proptest::prop_assert_eq!(node_of(id), node);
                    last = id;
                }
            }
        }
    }

    #[test]
    fn ids_carry_their_time() {
        let g = IdGenerator::new();
        let id = g.next_at(1_700_000_000_123);
        assert_eq!(millis_of(id), 1_700_000_000_123);
        assert!(id > floor_for_millis(1_700_000_000_122));
    }
}
