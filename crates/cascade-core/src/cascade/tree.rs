//! A cascade checked to be a tree and laid out for linear-time measurement.
//!
//! Building validates what the server (or a file loader) hands in: one root, known parents,
//! no cycles. Nothing here recurses, so a chain a million reshares deep is no problem.

use std::ops::Range;

use crate::cascade::{Kind, Node};
use crate::id::Id;

/// Why nodes do not form a cascade. `index` is the offending node's position in the input,
/// so a loader can name the line it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("a cascade needs at least its root")]
    Empty,
    #[error("a cascade of {len} nodes is too large")]
    TooLarge { len: usize },
    #[error("no node is the root: every node has a parent")]
    NoRoot,
    #[error("node {id} (item {index}) is a second root; the first is {first}")]
    SecondRoot { index: usize, id: Id, first: Id },
    #[error("node {id} (item {index}): only the root has no parent, and the root has none")]
    KindMismatch { index: usize, id: Id },
    #[error("node {id} (item {index}) repeats an earlier node's id")]
    DuplicateId { index: usize, id: Id },
    #[error("node {id} (item {index}) has parent {parent}, which is not in the cascade")]
    MissingParent { index: usize, id: Id, parent: Id },
    #[error("node {id} (item {index}) is on a cycle of parents that never reaches the root")]
    Cycle { index: usize, id: Id },
}

/// Marks "no parent" in the index arrays.
const NONE: u32 = u32::MAX;

/// A validated cascade, its nodes in breadth-first order.
///
/// The root comes first, every parent comes before its children, and a node's children are
/// contiguous and ordered by time (then id). This layout is why measurements need no
/// recursion and no hashing: subtree sizes are one backwards pass, depths one forwards pass,
/// and children are a range. Positions (`usize`) index [`Tree::nodes`]; lookups by status id
/// go through a sorted index.
#[derive(Debug, Clone)]
pub struct Tree {
    nodes: Vec<Node>,
    parent: Vec<u32>,
    depth: Vec<u32>,
    /// Children of position `i` are positions `child_start[i]..child_start[i + 1]`.
    child_start: Vec<u32>,
    /// (status id, position), sorted by id.
    by_id: Vec<(Id, u32)>,
}

impl Tree {
    /// Builds a cascade from its nodes in any order.
    ///
    /// The node without a parent must be the only one of kind [`Kind::Root`], every parent
    /// must be among the nodes, ids must be distinct, and following parents from any node
    /// must reach the root. O(n log n).
    pub fn build(input: Vec<Node>) -> Result<Tree, TreeError> {
        let n = input.len();
        if n == 0 {
            return Err(TreeError::Empty);
        }
        if n >= NONE as usize {
            return Err(TreeError::TooLarge { len: n });
        }
        let root = find_root(&input)?;

        let mut by_id: Vec<(Id, u32)> = input
            .iter()
            .enumerate()
            .map(|(i, node)| (node.id, i as u32))
            .collect();
        by_id.sort_unstable();
        check_distinct(&by_id)?;
        let parent_in = parent_positions(&input, &by_id)?;
        let (kids_start, kids) = children_by_time(&input, &parent_in);

        // Breadth-first from the root. Every node has one parent, so it is queued at most
        // once; nodes never queued hang off a cycle.
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut parent = Vec::with_capacity(n);
        let mut depth = Vec::with_capacity(n);
        let mut child_start = Vec::with_capacity(n + 1);
        order.push(root as u32);
        parent.push(NONE);
        depth.push(0u32);
        let mut head = 0;
        while head < order.len() {
            let u = order[head] as usize;
            child_start.push(order.len() as u32);
            let d = depth[head] + 1;
            for &c in &kids[kids_start[u] as usize..kids_start[u + 1] as usize] {
                order.push(c);
                parent.push(head as u32);
                depth.push(d);
            }
            head += 1;
        }
        if order.len() < n {
            return Err(cycle_error(&input, &parent_in, &order));
        }
        child_start.push(n as u32);

        let mut position = vec![0u32; n];
        for (at, &i) in order.iter().enumerate() {
            position[i as usize] = at as u32;
        }
        for entry in &mut by_id {
            entry.1 = position[entry.1 as usize];
        }
        let nodes = order.iter().map(|&i| input[i as usize]).collect();
        Ok(Tree {
            nodes,
            parent,
            depth,
            child_start,
            by_id,
        })
    }

    /// The number of nodes, the root included (never zero).
    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    pub fn root(&self) -> &Node {
        &self.nodes[0]
    }

    /// Every node in breadth-first order: the root, then depth 1 by time, and so on.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The depth of every node, aligned with [`Tree::nodes`]; the root's is 0.
    pub fn depths(&self) -> &[u32] {
        &self.depth
    }

    /// The position of the node with this status id.
    pub fn position(&self, id: Id) -> Option<usize> {
        self.by_id
            .binary_search_by_key(&id, |&(key, _)| key)
            .ok()
            .map(|at| self.by_id[at].1 as usize)
    }

    pub fn get(&self, id: Id) -> Option<&Node> {
        self.position(id).map(|at| &self.nodes[at])
    }

    /// The depth of the node with this status id.
    pub fn depth(&self, id: Id) -> Option<u32> {
        self.position(id).map(|at| self.depth[at])
    }

    /// The position of the parent of the node at `at`, `None` for the root.
    pub fn parent_position(&self, at: usize) -> Option<usize> {
        let p = self.parent[at];
        (p != NONE).then_some(p as usize)
    }

    /// The positions of the children of the node at `at`, ordered by time.
    pub fn children(&self, at: usize) -> Range<usize> {
        self.child_start[at] as usize..self.child_start[at + 1] as usize
    }

    /// The number of nodes in each node's subtree (itself included), aligned with
    /// [`Tree::nodes`].
    pub fn subtree_sizes(&self) -> Vec<u32> {
        let mut size = vec![1u32; self.nodes.len()];
        for at in (1..self.nodes.len()).rev() {
            size[self.parent[at] as usize] += size[at];
        }
        size
    }

    /// The Wiener index: the sum of distances over all unordered pairs of nodes. Each edge
    /// lies on the path of exactly the pairs it separates, s·(n − s) of them where s is the
    /// size of the subtree below it, so W = Σ over edges of s·(n − s). O(n).
    pub fn wiener_index(&self) -> u128 {
        wiener_index(&self.subtree_sizes())
    }

    /// Structural virality (Goel, Anderson, Hofman and Watts 2016): the mean distance between
    /// two distinct nodes, 2W / (n(n − 1)), the root counting as a node. 0 for a lone root;
    /// 1 for a root with one reshare; close to 2 for a broadcast (a star), (n + 1)/3 for a
    /// chain.
    pub fn structural_virality(&self) -> f64 {
        structural_virality(self.size(), self.wiener_index())
    }

    pub(crate) fn parents(&self) -> &[u32] {
        &self.parent
    }
}

pub(crate) fn wiener_index(subtree_sizes: &[u32]) -> u128 {
    let n = subtree_sizes.len() as u128;
    subtree_sizes[1..]
        .iter()
        .map(|&s| u128::from(s) * (n - u128::from(s)))
        .sum()
}

pub(crate) fn structural_virality(n: usize, wiener: u128) -> f64 {
    if n < 2 {
        return 0.0;
    }
    2.0 * wiener as f64 / (n as f64 * (n - 1) as f64)
}

/// The one node without a parent, checking kinds on the way.
fn find_root(input: &[Node]) -> Result<usize, TreeError> {
    let mut root: Option<usize> = None;
    for (index, node) in input.iter().enumerate() {
        match (node.parent, node.kind) {
            (None, Kind::Root) => {
                if let Some(first) = root {
                    return Err(TreeError::SecondRoot {
                        index,
                        id: node.id,
                        first: input[first].id,
                    });
                }
                root = Some(index);
            }
            (Some(_), Kind::Root) | (None, _) => {
                return Err(TreeError::KindMismatch { index, id: node.id })
            }
            (Some(_), _) => {}
        }
    }
    root.ok_or(TreeError::NoRoot)
}

/// Reports the first repeated id (by input position) in ids sorted by (id, position).
fn check_distinct(by_id: &[(Id, u32)]) -> Result<(), TreeError> {
    let repeat = by_id
        .windows(2)
        .filter(|w| w[0].0 == w[1].0)
        .map(|w| w[1])
        .min_by_key(|&(_, index)| index);
    match repeat {
        Some((id, index)) => Err(TreeError::DuplicateId {
            index: index as usize,
            id,
        }),
        None => Ok(()),
    }
}

/// Every node's parent as an input position ([`NONE`] for the root). A merge of the sorted
/// parent ids with the sorted ids, because a million binary searches into a million ids
/// miss the cache nearly every time.
fn parent_positions(input: &[Node], by_id: &[(Id, u32)]) -> Result<Vec<u32>, TreeError> {
    let mut wanted: Vec<(Id, u32)> = input
        .iter()
        .enumerate()
        .filter_map(|(i, node)| node.parent.map(|p| (p, i as u32)))
        .collect();
    wanted.sort_unstable();
    let mut parent_in = vec![NONE; input.len()];
    let mut missing: Option<(u32, Id)> = None;
    let mut k = 0;
    for &(parent, child) in &wanted {
        while k < by_id.len() && by_id[k].0 < parent {
            k += 1;
        }
        if k < by_id.len() && by_id[k].0 == parent {
            parent_in[child as usize] = by_id[k].1;
        } else if missing.is_none_or(|(first, _)| child < first) {
            missing = Some((child, parent));
        }
    }
    match missing {
        Some((index, parent)) => Err(TreeError::MissingParent {
            index: index as usize,
            id: input[index as usize].id,
            parent,
        }),
        None => Ok(parent_in),
    }
}

/// The children of every input position, ordered by time then id: the time-sorted nodes
/// counting-sorted by parent. Children of `i` are `kids[start[i]..start[i + 1]]`.
fn children_by_time(input: &[Node], parent_in: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let n = input.len();
    let mut by_time: Vec<(i64, Id, u32)> = input
        .iter()
        .enumerate()
        .map(|(i, node)| (node.time_ms, node.id, i as u32))
        .collect();
    by_time.sort_unstable();
    let mut start = vec![0u32; n + 1];
    for &p in parent_in {
        if p != NONE {
            start[p as usize + 1] += 1;
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut cursor = start.clone();
    let mut kids = vec![0u32; n.saturating_sub(1)];
    for &(_, _, i) in &by_time {
        let p = parent_in[i as usize];
        if p != NONE {
            kids[cursor[p as usize] as usize] = i;
            cursor[p as usize] += 1;
        }
    }
    (start, kids)
}

/// Names a node on a cycle: walking up n parents from an unreached node lands on its cycle,
/// and the cycle's earliest input position is reported.
fn cycle_error(input: &[Node], parent_in: &[u32], reached: &[u32]) -> TreeError {
    let mut seen = vec![false; input.len()];
    for &i in reached {
        seen[i as usize] = true;
    }
    let start = seen.iter().position(|&s| !s).unwrap_or(0);
    let mut on_cycle = start;
    for _ in 0..input.len() {
        on_cycle = parent_in[on_cycle] as usize;
    }
    let mut first = on_cycle;
    let mut at = parent_in[on_cycle] as usize;
    while at != on_cycle {
        first = first.min(at);
        at = parent_in[at] as usize;
    }
    TreeError::Cycle {
        index: first,
        id: input[first].id,
    }
}

/// Hangs every node whose parent is not among `nodes` directly under the root, and returns
/// how many moved.
///
/// The server needs this when a reshare in the middle of a cascade was deleted: its
/// children still name it as their parent. The root is the same fallback the parent
/// inference uses when nothing better is known. Does nothing unless exactly one node has no
/// parent; [`Tree::build`] reports that case.
pub fn adopt_orphans(nodes: &mut [Node]) -> usize {
    let mut roots = nodes.iter().filter(|n| n.parent.is_none());
    let (Some(root), None) = (roots.next(), roots.next()) else {
        return 0;
    };
    let root = root.id;
    let mut ids: Vec<Id> = nodes.iter().map(|n| n.id).collect();
    ids.sort_unstable();
    let mut moved = 0;
    for node in nodes.iter_mut() {
        if let Some(parent) = node.parent {
            if ids.binary_search(&parent).is_err() {
                node.parent = Some(root);
                moved += 1;
            }
        }
    }
    moved
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    fn chain(n: usize) -> Vec<Node> {
        let mut nodes = vec![Node::root(0, 100, 0)];
        for i in 1..n as i64 {
            nodes.push(Node::reblog(i, i - 1, 100 + i, i));
        }
        nodes
    }

    fn star(n: usize) -> Vec<Node> {
        let mut nodes = vec![Node::root(0, 100, 0)];
        for i in 1..n as i64 {
            nodes.push(Node::reblog(i, 0, 100 + i, i));
        }
        nodes
    }

    /// Mean distance over all pairs by breadth-first search from every node.
    fn brute_force_sv(nodes: &[Node]) -> f64 {
        let n = nodes.len();
        if n < 2 {
            return 0.0;
        }
        let at = |id: Id| nodes.iter().position(|x| x.id == id).unwrap();
        let mut adjacent = vec![Vec::new(); n];
        for (i, node) in nodes.iter().enumerate() {
            if let Some(p) = node.parent {
                adjacent[i].push(at(p));
                adjacent[at(p)].push(i);
            }
        }
        let mut total = 0u64;
        for s in 0..n {
            let mut dist = vec![u64::MAX; n];
            dist[s] = 0;
            let mut queue = VecDeque::from([s]);
            while let Some(u) = queue.pop_front() {
                for &v in &adjacent[u] {
                    if dist[v] == u64::MAX {
                        dist[v] = dist[u] + 1;
                        queue.push_back(v);
                    }
                }
            }
            total += dist.iter().sum::<u64>();
        }
        total as f64 / (n * (n - 1)) as f64
    }

    #[test]
    fn a_lone_root_has_virality_zero_and_one_reshare_has_one() {
        assert_eq!(Tree::build(star(1)).unwrap().structural_virality(), 0.0);
        assert_eq!(Tree::build(star(2)).unwrap().structural_virality(), 1.0);
    }

    #[test]
    fn a_star_approaches_two() {
        // n - 1 leaves: leaf pairs are 2 apart, root-leaf pairs 1 apart, so
        // W = (n - 1) + 2·C(n - 1, 2) = (n - 1)² and SV = 2(n - 1)/n.
        for n in [3usize, 10, 1_000] {
            let sv = Tree::build(star(n)).unwrap().structural_virality();
            let expected = 2.0 * (n - 1) as f64 / n as f64;
            assert!((sv - expected).abs() < 1e-12, "n = {n}: {sv} vs {expected}");
        }
    }

    #[test]
    fn a_chain_has_virality_n_plus_one_over_three() {
        for n in [2usize, 3, 10, 1_000, 100_000] {
            let sv = Tree::build(chain(n)).unwrap().structural_virality();
            let expected = (n + 1) as f64 / 3.0;
            assert!((sv - expected).abs() < 1e-9 * expected, "n = {n}: {sv}");
        }
    }

    #[test]
    fn a_hand_computed_tree() {
        // 0 ─ 1 ─ 3
        //  └─ 2     Distances: 0-1 1, 0-2 1, 0-3 2, 1-2 2, 1-3 1, 2-3 3: W = 10.
        let nodes = vec![
            Node::reblog(3, 1, 13, 30),
            Node::root(0, 10, 0),
            Node::quote(2, 0, 12, 20),
            Node::quote(1, 0, 11, 10),
        ];
        let tree = Tree::build(nodes).unwrap();
        assert_eq!(tree.wiener_index(), 10);
        assert!((tree.structural_virality() - 10.0 / 6.0).abs() < 1e-12);
        assert_eq!(tree.subtree_sizes(), vec![4, 2, 1, 1]);
        let ids: Vec<Id> = tree.nodes().iter().map(|n| n.id).collect();
        assert_eq!(ids, vec![0, 1, 2, 3]);
        assert_eq!(tree.depths(), &[0, 1, 1, 2]);
        assert_eq!(tree.children(0), 1..3);
        assert_eq!(tree.parent_position(3), Some(1));
        assert_eq!(tree.depth(3), Some(2));
        assert_eq!(tree.get(2).map(|n| n.kind), Some(Kind::Quote));
        assert_eq!(tree.get(9), None);
    }

    #[test]
    fn a_chain_a_million_deep_builds_without_recursion() {
        let tree = Tree::build(chain(1_000_000)).unwrap();
        assert_eq!(tree.depths()[999_999], 999_999);
        let expected = 1_000_001.0 / 3.0;
        assert!((tree.structural_virality() - expected).abs() < 1e-6 * expected);
    }

    #[test]
    fn building_rejects_what_is_not_a_cascade() {
        assert_eq!(Tree::build(vec![]).unwrap_err(), TreeError::Empty);
        assert_eq!(
            Tree::build(vec![Node::reblog(1, 2, 0, 0), Node::reblog(2, 1, 0, 0)]).unwrap_err(),
            TreeError::NoRoot
        );
        assert_eq!(
            Tree::build(vec![Node::root(1, 0, 0), Node::root(2, 0, 0)]).unwrap_err(),
            TreeError::SecondRoot {
                index: 1,
                id: 2,
                first: 1
            }
        );
        let rootless_reblog = Node {
            parent: None,
            ..Node::reblog(2, 1, 0, 0)
        };
        assert_eq!(
            Tree::build(vec![Node::root(1, 0, 0), rootless_reblog]).unwrap_err(),
            TreeError::KindMismatch { index: 1, id: 2 }
        );
        assert_eq!(
            Tree::build(vec![
                Node::root(1, 0, 0),
                Node::reblog(2, 1, 0, 0),
                Node::reblog(2, 1, 0, 0)
            ])
            .unwrap_err(),
            TreeError::DuplicateId { index: 2, id: 2 }
        );
        assert_eq!(
            Tree::build(vec![Node::root(1, 0, 0), Node::reblog(2, 7, 0, 0)]).unwrap_err(),
            TreeError::MissingParent {
                index: 1,
                id: 2,
                parent: 7
            }
        );
        // 4 hangs off the cycle 2 → 3 → 2; the cycle's first line is reported.
        assert_eq!(
            Tree::build(vec![
                Node::root(1, 0, 0),
                Node::reblog(4, 3, 0, 0),
                Node::reblog(3, 2, 0, 0),
                Node::reblog(2, 3, 0, 0),
            ])
            .unwrap_err(),
            TreeError::Cycle { index: 2, id: 3 }
        );
        assert_eq!(
            Tree::build(vec![Node::root(1, 0, 0), Node::reblog(2, 2, 0, 0)]).unwrap_err(),
            TreeError::Cycle { index: 1, id: 2 }
        );
    }

    #[test]
    fn orphans_are_adopted_by_the_root() {
        let mut nodes = vec![
            Node::root(1, 0, 0),
            Node::reblog(3, 2, 0, 2),
            Node::reblog(4, 3, 0, 3),
        ];
        assert_eq!(adopt_orphans(&mut nodes), 1);
        assert_eq!(nodes[1].parent, Some(1));
        let tree = Tree::build(nodes).unwrap();
        assert_eq!(tree.depth(4), Some(2));
    }

    /// A random tree of up to `max` nodes: node i picks its parent among 0..i (a random
    /// recursive tree, with a bias towards chains half the time), with scrambled ids and
    /// times, handed over in shuffled order.
    pub(crate) fn random_tree(max: usize) -> impl Strategy<Value = Vec<Node>> {
        (
            prop::collection::vec((any::<prop::sample::Index>(), 0i64..50), 0..max),
            any::<bool>(),
        )
            .prop_map(|(picks, deep)| {
                let id = |i: usize| (i as i64 * 7_919) % 100_003 + 1_000;
                let mut nodes = vec![Node::root(id(0), 0, 0)];
                for (k, (pick, dt)) in picks.iter().enumerate() {
                    let i = k + 1;
                    let p = if deep {
                        i - 1 - pick.index(i.min(3))
                    } else {
                        pick.index(i)
                    };
                    let node = if dt % 5 == 0 {
                        Node::quote(id(i), id(p), (*dt % 7) + 1, *dt)
                    } else {
                        Node::reblog(id(i), id(p), (*dt % 7) + 1, *dt)
                    };
                    nodes.push(node);
                }
                nodes
            })
            .prop_shuffle()
    }

    proptest! {
        #[test]
        fn linear_virality_equals_all_pairs_search(nodes in random_tree(60)) {
            let expected = brute_force_sv(&nodes);
            let tree = Tree::build(nodes).unwrap();
            prop_assert!((tree.structural_virality() - expected).abs() < 1e-9);
        }

        #[test]
        fn a_reshare_sits_one_level_deeper_than_its_parent(nodes in random_tree(60)) {
            let tree = Tree::build(nodes.clone()).unwrap();
            prop_assert_eq!(tree.size(), nodes.len());
            for node in &nodes {
                let depth = tree.depth(node.id).unwrap();
                match node.parent {
                    None => prop_assert_eq!(depth, 0),
                    Some(parent) => prop_assert_eq!(depth, tree.depth(parent).unwrap() + 1),
                }
            }
            // Breadth-first: depths never decrease, parents come first, children are
            // contiguous and ordered by time.
            prop_assert!(tree.depths().windows(2).all(|w| w[0] <= w[1]));
            for at in 0..tree.size() {
                let children = tree.children(at);
                for c in children.clone() {
                    prop_assert_eq!(tree.parent_position(c), Some(at));
                    prop_assert_eq!(tree.nodes()[c].parent, Some(tree.nodes()[at].id));
                }
                let times: Vec<i64> = children.map(|c| tree.nodes()[c].time_ms).collect();
                prop_assert!(times.windows(2).all(|w| w[0] <= w[1]));
            }
        }
    }
}
