//! Who passed a status to whom: a reshare's parent, and the new accounts each node exposed.
//!
//! The server knows better hints than anything here (the wrapper status a client reblogged,
//! the home-timeline entry that delivered the post) and uses them first; this module holds
//! the fallback inference and the exposure arithmetic, with the data handed in.

use std::collections::HashSet;

use crate::cascade::Node;
use crate::hll::HyperLogLog;
use crate::id::Id;

/// An earlier reshare of the same status that the resharer might have seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reshare {
    pub id: Id,
    pub account: Id,
    pub time_ms: i64,
}

/// The parent of a reshare made at `at_ms` when the server has no explicit hint: the most
/// recent earlier reshare (strictly before `at_ms`; the larger id wins a tie) by an account
/// the resharer follows, otherwise `root`.
///
/// This is the inference of Goel, Anderson, Hofman and Watts (2016): a user most likely saw
/// the post from the followee who shared it last. `root` is the status being reshared: the
/// cascade's root, or a quote when the reshare is of a quote (it then hangs under the quote),
/// and `earlier` are the reshares of that status, in any order. O(len).
pub fn infer_parent(root: Id, earlier: &[Reshare], follows: impl Fn(Id) -> bool, at_ms: i64) -> Id {
    earlier
        .iter()
        .filter(|r| r.time_ms < at_ms && follows(r.account))
        .max_by_key(|r| (r.time_ms, r.id))
        .map_or(root, |r| r.id)
}

/// The accounts a cascade has been put in front of so far, counted exactly.
///
/// A node's exposure is the number of its author's followers that no earlier node (in time
/// order) had already exposed, so summing over nodes counts every reached account once and
/// the sum telescopes to the size of the union. Authors are not counted as exposed by their
/// own posts. The set grows with the reach; for large cascades the server can use
/// [`expose_estimated`] on a HyperLogLog sketch instead, at a fixed 32 KiB.
#[derive(Debug, Clone, Default)]
pub struct Exposure {
    seen: HashSet<Id>,
}

impl Exposure {
    pub fn new() -> Exposure {
        Exposure::default()
    }

    /// Marks `accounts` (a node author's followers) as exposed and returns how many were
    /// not exposed before.
    pub fn expose(&mut self, accounts: impl IntoIterator<Item = Id>) -> i64 {
        accounts
            .into_iter()
            .map(|a| i64::from(self.seen.insert(a)))
            .sum()
    }

    pub fn is_exposed(&self, account: Id) -> bool {
        self.seen.contains(&account)
    }

    /// The number of distinct accounts exposed so far.
    pub fn total(&self) -> usize {
        self.seen.len()
    }
}

/// Sets every node's `exposed` exactly: walks the nodes in time order (then id) and counts
/// the followers of each node's author, as `followers_of` lists them, that no earlier node
/// exposed.
pub fn fill_exposure<I>(nodes: &mut [Node], mut followers_of: impl FnMut(&Node) -> I)
where
    I: IntoIterator<Item = Id>,
{
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_unstable_by_key(|&i| (nodes[i].time_ms, nodes[i].id));
    let mut exposure = Exposure::new();
    for i in order {
        let new = exposure.expose(followers_of(&nodes[i]));
        nodes[i].exposed = Some(new);
    }
}

/// The estimated number of new accounts among `followers`, given a sketch of the accounts
/// the cascade already reached, which it then adds them to.
///
/// This is how the server's background job fills a node's `exposed` with bounded memory:
/// it keeps one sketch per cascade and calls this once per node in time order. Each value is
/// the difference of two estimates, so it is noisy when a small increment lands on a large
/// reach (a 0.6% error of a million is 6,000), but the values add up to about the final
/// estimate, so the cascade's total reach stays within the sketch's error. Never negative.
pub fn expose_estimated(sketch: &mut HyperLogLog, followers: impl IntoIterator<Item = Id>) -> i64 {
    let before = sketch.estimate();
    for account in followers {
        sketch.add(account as u64);
    }
    sketch.estimate().saturating_sub(before) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reshare(id: Id, account: Id, time_ms: i64) -> Reshare {
        Reshare {
            id,
            account,
            time_ms,
        }
    }

    #[test]
    fn the_latest_earlier_reshare_by_a_followee_is_the_parent() {
        let earlier = [
            reshare(10, 1, 100),
            reshare(11, 2, 200),
            reshare(12, 3, 300),
            reshare(13, 1, 400),
        ];
        let follows = |a: Id| a == 1 || a == 2;
        assert_eq!(infer_parent(7, &earlier, follows, 500), 13);
        assert_eq!(infer_parent(7, &earlier, follows, 350), 11);
        // Only strictly earlier reshares count.
        assert_eq!(infer_parent(7, &earlier, follows, 200), 10);
    }

    #[test]
    fn without_a_followed_resharer_the_root_is_the_parent() {
        let earlier = [reshare(10, 1, 100), reshare(11, 2, 200)];
        assert_eq!(infer_parent(7, &earlier, |_| false, 500), 7);
        assert_eq!(infer_parent(7, &earlier, |_| true, 50), 7);
        assert_eq!(infer_parent(7, &[], |_| true, 50), 7);
    }

    #[test]
    fn order_of_candidates_does_not_matter_and_ties_go_to_the_later_id() {
        let earlier = [reshare(21, 1, 100), reshare(20, 2, 100), reshare(19, 3, 90)];
        assert_eq!(infer_parent(7, &earlier, |_| true, 500), 21);
    }

    #[test]
    fn exposure_counts_each_account_once_in_time_order() {
        let mut nodes = vec![
            Node::reblog(3, 1, 30, 20),
            Node::root(1, 10, 0),
            Node::reblog(2, 1, 20, 10),
        ];
        let followers = |n: &Node| match n.account {
            10 => vec![100, 101, 102],
            20 => vec![101, 102, 103, 104],
            _ => vec![100, 104, 105],
        };
        fill_exposure(&mut nodes, followers);
        let exposed: Vec<Option<i64>> = nodes.iter().map(|n| n.exposed).collect();
        assert_eq!(exposed, vec![Some(1), Some(3), Some(2)]);
    }

    #[test]
    fn estimated_exposure_adds_up_to_the_reach() {
        let mut sketch = HyperLogLog::new();
        let mut exact = Exposure::new();
        let mut total = 0;
        for node in 0..200i64 {
            // Overlapping follower sets of 1,000 accounts each.
            let followers: Vec<Id> = (node * 500..node * 500 + 1_000).collect();
            total += expose_estimated(&mut sketch, followers.iter().copied());
            exact.expose(followers);
        }
        let truth = exact.total() as f64;
        assert!(
            (total as f64 - truth).abs() / truth < 0.02,
            "{total} vs {truth}"
        );
    }
}
