//! What `GET /api/v1/statuses/:id/cascade` reports about a cascade: size, depth, breadth,
//! structural virality, reach, top amplifiers, and reshares and views over time.
//!
//! Pure arithmetic over a [`Tree`]; views per hour and exposure counts come from the caller.

use crate::cascade::tree::{structural_virality, wiener_index};
use crate::cascade::{Kind, Tree};
use crate::id::Id;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Bucket widths [`Buckets::auto`] chooses from, so charts have round labels.
const NICE_WIDTHS: [i64; 15] = [
    MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
    28 * DAY,
];

/// How to measure a cascade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsOptions<'a> {
    /// How many amplifiers to report.
    pub top: usize,
    /// At most this many time buckets when the width is chosen automatically.
    pub max_buckets: usize,
    /// The narrowest automatic bucket. Views are counted per hour, so a caller charting
    /// views should pass an hour here, or buckets would show them as spikes.
    pub min_bucket_ms: i64,
    /// A fixed bucket width instead of an automatic one.
    pub bucket_ms: Option<i64>,
    /// Extend the series to this time (usually now), so a quiet tail shows as zeros.
    pub until_ms: Option<i64>,
    /// Views as (time in ms, count), e.g. per hour from the store, in any order.
    pub views: &'a [(i64, i64)],
}

impl Default for StatsOptions<'_> {
    fn default() -> Self {
        StatsOptions {
            top: 10,
            max_buckets: 60,
            min_bucket_ms: MINUTE,
            bucket_ms: None,
            until_ms: None,
            views: &[],
        }
    }
}

/// The measurements of one cascade.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Nodes, the root included.
    pub size: usize,
    pub reblogs: usize,
    pub quotes: usize,
    /// The depth of the deepest node; the root's direct reshares are at depth 1.
    pub depth: u32,
    /// The number of nodes at each depth, from the root's (always 1) on.
    pub breadth: Vec<usize>,
    /// The largest entry of `breadth`.
    pub max_breadth: usize,
    /// Mean distance between two nodes, 2W/(n(n − 1)) (Goel et al. 2016); 0 for a lone root.
    pub structural_virality: f64,
    /// Distinct accounts exposed: the sum of the nodes' `exposed`, the root's included.
    pub reach: i64,
    /// Nodes whose `exposed` is not known yet (counted as 0 in `reach`).
    pub reach_pending: usize,
    /// The top accounts by reshares made through them; see [`Amplifier`].
    pub amplifiers: Vec<Amplifier>,
    /// The time buckets of the two series below.
    pub buckets: Buckets,
    /// Reshares (all nodes but the root) created in each bucket.
    pub reshares_over_time: Vec<u64>,
    /// Views in each bucket, from [`StatsOptions::views`].
    pub views_over_time: Vec<u64>,
}

/// An account that passed the cascade on, and how much came of it.
///
/// Every reshare is credited to the author of its parent, the status through which the
/// resharer saw it (a reshare straight from the root credits no one: the author is not an
/// amplifier of their own post). `reshares` counts those direct reshares over all of the
/// account's nodes, and `reach` the new accounts its own nodes exposed. Accounts are ranked
/// by `reshares`, then `reach`, then account id.
///
/// Direct credit is what ranks, rather than whole subtrees, because a subtree always
/// contains its descendants' subtrees: ranked by subtree, whoever reshared first on a branch
/// would always outrank everyone below, however little they did. A small account quoted by
/// a big one would look like the big one's amplifier. The whole-subtree figures are
/// reported too, as `downstream_*`: over the union of the account's subtrees (an account
/// with nodes inside its own subtree counts them once), `downstream_reshares` counts all
/// reshares below its nodes and `downstream_reach` everything its subtrees exposed, its own
/// nodes included.
#[derive(Debug, Clone, PartialEq)]
pub struct Amplifier {
    pub account: Id,
    pub reshares: u64,
    /// `reshares` over all reshares of the cascade (size − 1).
    pub reshare_share: f64,
    pub reach: i64,
    /// `reach` over the cascade's reach.
    pub reach_share: f64,
    pub downstream_reshares: u64,
    pub downstream_reach: i64,
}

/// Equal time buckets covering a cascade: bucket `i` spans
/// `start_ms + i·width_ms .. start_ms + (i + 1)·width_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buckets {
    pub start_ms: i64,
    pub width_ms: i64,
    pub count: usize,
}

impl Buckets {
    /// Buckets of the narrowest round width (a minute, 5, 10, 15 or 30 minutes, an hour,
    /// 2, 3, 6 or 12 hours, a day, 2 days, a week, 2 or 4 weeks) at least `min_width_ms`
    /// wide that covers `first_ms..=last_ms` in at most `max_buckets`, aligned to multiples
    /// of the width since the epoch (UTC). Longer spans get an unaligned width that fits.
    pub fn auto(first_ms: i64, last_ms: i64, max_buckets: usize, min_width_ms: i64) -> Buckets {
        let max_buckets = max_buckets.max(1);
        let last_ms = last_ms.max(first_ms);
        for width in NICE_WIDTHS.into_iter().filter(|&w| w >= min_width_ms) {
            let buckets = Buckets::with_width(first_ms, last_ms, width);
            if buckets.count <= max_buckets {
                return buckets;
            }
        }
        let span = last_ms - first_ms;
        let width = (span / max_buckets as i64 + 1).max(min_width_ms).max(1);
        Buckets {
            start_ms: first_ms,
            width_ms: width,
            count: (span / width) as usize + 1,
        }
    }

    /// Buckets `width_ms` wide, aligned to multiples of the width since the epoch, covering
    /// `first_ms..=last_ms`.
    pub fn with_width(first_ms: i64, last_ms: i64, width_ms: i64) -> Buckets {
        let width = width_ms.max(1);
        let last_ms = last_ms.max(first_ms);
        let first = first_ms.div_euclid(width);
        Buckets {
            start_ms: first * width,
            width_ms: width,
            count: (last_ms.div_euclid(width) - first) as usize + 1,
        }
    }

    /// The bucket holding `time_ms`; times outside fall into the first or last bucket.
    pub fn index(&self, time_ms: i64) -> usize {
        let i = (time_ms - self.start_ms).div_euclid(self.width_ms);
        i.clamp(0, self.count as i64 - 1) as usize
    }

    /// Sums `(time, count)` events per bucket.
    pub fn tally(&self, events: impl IntoIterator<Item = (i64, u64)>) -> Vec<u64> {
        let mut counts = vec![0u64; self.count];
        for (time, count) in events {
            counts[self.index(time)] += count;
        }
        counts
    }
}

impl Tree {
    /// Measures the cascade. O(n log n) for the amplifier ranking, O(n) for the rest.
    pub fn stats(&self, options: &StatsOptions) -> Stats {
        let nodes = self.nodes();
        let n = nodes.len();
        let sizes = self.subtree_sizes();

        let depth = self.depths()[n - 1];
        let mut breadth = vec![0usize; depth as usize + 1];
        for &d in self.depths() {
            breadth[d as usize] += 1;
        }
        let max_breadth = breadth.iter().copied().max().unwrap_or(1);

        let reblogs = nodes.iter().filter(|x| x.kind == Kind::Reblog).count();
        let quotes = nodes.iter().filter(|x| x.kind == Kind::Quote).count();
        let reach = nodes.iter().map(|x| x.exposed.unwrap_or(0)).sum();
        let reach_pending = nodes.iter().filter(|x| x.exposed.is_none()).count();

        let amplifiers = self.amplifiers(&sizes, reach, options.top);

        let node_times = nodes.iter().map(|x| x.time_ms);
        let view_times = options.views.iter().map(|&(t, _)| t);
        let first = node_times.clone().chain(view_times.clone()).min();
        let last = node_times.chain(view_times).chain(options.until_ms).max();
        let (first, last) = (first.unwrap_or(0), last.unwrap_or(0));
        let buckets = match options.bucket_ms {
            Some(width) => Buckets::with_width(first, last, width),
            None => Buckets::auto(first, last, options.max_buckets, options.min_bucket_ms),
        };
        let reshares_over_time = buckets.tally(nodes[1..].iter().map(|x| (x.time_ms, 1)));
        let views_over_time = buckets.tally(
            options
                .views
                .iter()
                .map(|&(t, views)| (t, views.max(0) as u64)),
        );

        Stats {
            size: n,
            reblogs,
            quotes,
            depth,
            breadth,
            max_breadth,
            structural_virality: structural_virality(n, wiener_index(&sizes)),
            reach,
            reach_pending,
            amplifiers,
            buckets,
            reshares_over_time,
            views_over_time,
        }
    }

    /// The top `top` amplifiers; see [`Amplifier`] for the definitions.
    fn amplifiers(&self, sizes: &[u32], reach: i64, top: usize) -> Vec<Amplifier> {
        let nodes = self.nodes();
        let parents = self.parents();
        let n = nodes.len();

        // Accounts as dense indices in account order, so the rest is array arithmetic.
        let mut by_account: Vec<(Id, u32)> = nodes
            .iter()
            .enumerate()
            .map(|(at, x)| (x.account, at as u32))
            .collect();
        by_account.sort_unstable();
        let mut accounts: Vec<Id> = Vec::new();
        let mut account_of = vec![0u32; n];
        for &(account, at) in &by_account {
            if accounts.last() != Some(&account) {
                accounts.push(account);
            }
            account_of[at as usize] = accounts.len() as u32 - 1;
        }
        let a = accounts.len();

        let mut subtree_reach: Vec<i64> = nodes.iter().map(|x| x.exposed.unwrap_or(0)).collect();
        for at in (1..n).rev() {
            subtree_reach[parents[at] as usize] += subtree_reach[at];
        }

        let mut direct = vec![0u64; a];
        let mut own_reach = vec![0i64; a];
        let mut resharer = vec![false; a];
        for at in 1..n {
            let account = account_of[at] as usize;
            resharer[account] = true;
            own_reach[account] += nodes[at].exposed.unwrap_or(0);
            let parent = parents[at] as usize;
            if parent != 0 {
                direct[account_of[parent] as usize] += 1;
            }
        }

        // Downstream figures over the union of each account's subtrees: only a node with no
        // ancestor by the same account adds its subtree. A depth-first walk keeps, per
        // account, how many of its nodes are on the current path.
        let mut downstream = vec![0u64; a];
        let mut downstream_reach = vec![0i64; a];
        let mut on_path = vec![0u32; a];
        let mut stack: Vec<(usize, usize)> = vec![(0, self.children(0).start)];
        while let Some(top) = stack.last_mut() {
            let (at, next) = *top;
            if next < self.children(at).end {
                top.1 += 1;
                let account = account_of[next] as usize;
                if on_path[account] == 0 {
                    downstream[account] += u64::from(sizes[next] - 1);
                    downstream_reach[account] += subtree_reach[next];
                }
                on_path[account] += 1;
                stack.push((next, self.children(next).start));
            } else {
                stack.pop();
                if at != 0 {
                    on_path[account_of[at] as usize] -= 1;
                }
            }
        }

        let share = |part: f64, whole: f64| if whole > 0.0 { part / whole } else { 0.0 };
        let mut ranked: Vec<usize> = (0..a)
            .filter(|&i| resharer[i] && (direct[i] > 0 || own_reach[i] > 0))
            .collect();
        ranked.sort_unstable_by(|&x, &y| {
            direct[y]
                .cmp(&direct[x])
                .then(own_reach[y].cmp(&own_reach[x]))
                .then(x.cmp(&y))
        });
        ranked.truncate(top);
        ranked
            .into_iter()
            .map(|i| Amplifier {
                account: accounts[i],
                reshares: direct[i],
                reshare_share: share(direct[i] as f64, (n - 1) as f64),
                reach: own_reach[i],
                reach_share: share(own_reach[i] as f64, reach as f64),
                downstream_reshares: downstream[i],
                downstream_reach: downstream_reach[i],
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cascade::tree::tests::random_tree;
    use crate::cascade::Node;
    use proptest::prelude::*;

    fn stats(nodes: Vec<Node>) -> Stats {
        Tree::build(nodes).unwrap().stats(&StatsOptions::default())
    }

    #[test]
    fn a_lone_root_measures_one_node_deep_zero() {
        let s = stats(vec![Node::root(1, 10, 5_000).with_exposed(40)]);
        assert_eq!((s.size, s.depth, s.max_breadth), (1, 0, 1));
        assert_eq!(s.breadth, vec![1]);
        assert_eq!(s.structural_virality, 0.0);
        assert_eq!((s.reach, s.reach_pending), (40, 0));
        assert!(s.amplifiers.is_empty());
        assert_eq!(s.buckets.count, 1);
        assert_eq!(s.reshares_over_time, vec![0]);
    }

    #[test]
    fn depth_breadth_and_size_of_a_small_tree() {
        //        1
        //     /  |  \
        //    2   3   4(quote)
        //    |      / \
        //    5     6   7
        //              |
        //              8
        let s = stats(vec![
            Node::root(1, 10, 0),
            Node::reblog(2, 1, 20, 1),
            Node::reblog(3, 1, 30, 2),
            Node::quote(4, 1, 40, 3),
            Node::reblog(5, 2, 50, 4),
            Node::reblog(6, 4, 60, 5),
            Node::quote(7, 4, 70, 6),
            Node::reblog(8, 7, 80, 7),
        ]);
        assert_eq!(s.size, 8);
        assert_eq!((s.reblogs, s.quotes), (5, 2));
        assert_eq!(s.depth, 3);
        assert_eq!(s.breadth, vec![1, 3, 3, 1]);
        assert_eq!(s.max_breadth, 3);
        assert_eq!(s.reach_pending, 8);
        // Edges' subtree sizes: 2:2, 3:1, 4:4, 5:1, 6:1, 7:2, 8:1; W = Σ s(8 − s) = 68.
        assert!((s.structural_virality - 2.0 * 68.0 / 56.0).abs() < 1e-12);
    }

    #[test]
    fn the_big_account_amplifies_a_seed_story_most_and_the_quoter_next() {
        // A small author posts; a mid-sized account quotes it; a big account reblogs the
        // quote; forty of the big account's followers reblog it from there, and one of them
        // gets a reshare of its own.
        let (author, mid, big) = (1, 2, 3);
        let mut nodes = vec![
            Node::root(100, author, 0)
                .with_followers(50)
                .with_exposed(50),
            Node::quote(101, 100, mid, 10)
                .with_followers(2_000)
                .with_exposed(1_990),
            Node::reblog(102, 101, big, 20)
                .with_followers(500_000)
                .with_exposed(490_000),
        ];
        for i in 0..40 {
            nodes.push(
                Node::reblog(200 + i, 102, 1_000 + i, 30 + i)
                    .with_followers(300)
                    .with_exposed(100),
            );
        }
        nodes.push(Node::reblog(300, 200, 5_000, 100).with_exposed(10));
        let s = stats(nodes);

        let top: Vec<Id> = s.amplifiers.iter().map(|a| a.account).collect();
        assert_eq!(&top[..2], &[big, mid]);
        let first = &s.amplifiers[0];
        assert_eq!(first.reshares, 40);
        assert!((first.reshare_share - 40.0 / 43.0).abs() < 1e-12);
        assert_eq!(first.reach, 490_000);
        assert!((first.reach_share - 490_000.0 / s.reach as f64).abs() < 1e-12);
        assert_eq!(first.downstream_reshares, 41);
        assert_eq!(first.downstream_reach, 490_000 + 40 * 100 + 10);
        // The quoter passed it to one account, but that one was the big account; ranked by
        // whole subtrees it would have come first.
        let second = &s.amplifiers[1];
        assert_eq!((second.reshares, second.reach), (1, 1_990));
        assert_eq!(second.downstream_reshares, 42);
        // The follower whose reblog was reshared ties the quoter on reshares and loses on
        // reach.
        assert_eq!(s.amplifiers[2].account, 1_000);
        assert_eq!(s.reach, 50 + 1_990 + 490_000 + 4_000 + 10);
        assert_eq!(s.amplifiers.len(), 10);
    }

    #[test]
    fn an_account_inside_its_own_subtree_is_counted_once_downstream() {
        let s = stats(vec![
            Node::root(1, 10, 0),
            Node::reblog(2, 1, 20, 1).with_exposed(5),
            Node::quote(3, 2, 30, 2).with_exposed(5),
            Node::reblog(4, 3, 20, 3).with_exposed(5),
            Node::reblog(5, 4, 40, 4).with_exposed(5),
        ]);
        let a20 = s.amplifiers.iter().find(|a| a.account == 20).unwrap();
        assert_eq!((a20.reshares, a20.reach), (2, 10));
        assert_eq!((a20.downstream_reshares, a20.downstream_reach), (3, 20));
    }

    #[test]
    fn buckets_are_round_and_at_most_sixty() {
        let b = Buckets::auto(0, 59 * MINUTE, 60, MINUTE);
        assert_eq!((b.width_ms, b.count), (MINUTE, 60));
        let b = Buckets::auto(0, 60 * MINUTE, 60, MINUTE);
        assert_eq!((b.width_ms, b.count), (5 * MINUTE, 13));
        let b = Buckets::auto(90 * MINUTE, 3 * DAY, 60, HOUR);
        assert_eq!((b.start_ms, b.width_ms, b.count), (0, 2 * HOUR, 37));
        let b = Buckets::auto(0, 10_000 * DAY, 60, MINUTE);
        assert!(b.count <= 60 && b.start_ms == 0);
        assert_eq!(b.index(10_000 * DAY), b.count - 1);
        assert_eq!(b.index(-5), 0);
        let b = Buckets::with_width(-1, 1, 10);
        assert_eq!((b.start_ms, b.count), (-10, 2));
    }

    #[test]
    fn reshares_and_views_share_the_buckets() {
        let nodes = vec![
            Node::root(1, 10, 30 * MINUTE),
            Node::reblog(2, 1, 20, 40 * MINUTE),
            Node::reblog(3, 1, 30, 90 * MINUTE),
            Node::reblog(4, 3, 40, 100 * MINUTE),
        ];
        let views = [(0, 7), (HOUR, 3), (2 * HOUR, 1)];
        let options = StatsOptions {
            min_bucket_ms: HOUR,
            until_ms: Some(3 * HOUR + 1),
            views: &views,
            ..StatsOptions::default()
        };
        let s = Tree::build(nodes).unwrap().stats(&options);
        assert_eq!(
            s.buckets,
            Buckets {
                start_ms: 0,
                width_ms: HOUR,
                count: 4
            }
        );
        assert_eq!(s.reshares_over_time, vec![1, 2, 0, 0]);
        assert_eq!(s.views_over_time, vec![7, 3, 1, 0]);
    }

    proptest! {
        #[test]
        fn every_reshare_is_credited_once(nodes in random_tree(60)) {
            let tree = Tree::build(nodes).unwrap();
            let s = tree.stats(&StatsOptions { top: usize::MAX, ..StatsOptions::default() });
            let from_root = tree.children(0).len() as u64;
            let credited: u64 = s.amplifiers.iter().map(|a| a.reshares).sum();
            prop_assert_eq!(credited + from_root, s.size as u64 - 1);
            prop_assert_eq!(s.breadth.iter().sum::<usize>(), s.size);
            prop_assert_eq!(s.reshares_over_time.iter().sum::<u64>(), s.size as u64 - 1);
            prop_assert_eq!(s.reblogs + s.quotes + 1, s.size);
        }
    }
}
