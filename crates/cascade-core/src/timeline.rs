//! Timeline paging and merging, and the hybrid fan-out policy.
//!
//! A timeline is a list of entry ids, newest first. Pages are cut from it by Mastodon's
//! `max_id` / `since_id` / `min_id` / `limit`; ids are time-ordered, so cutting by id never
//! skips or repeats an entry even when new entries arrive between two page requests.

use crate::id::Id;

/// Default and maximum page sizes, as Mastodon's timelines use them.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 40;

/// One page request. `min_id` pages forward from an id (oldest first, then returned newest
/// first), `since_id` returns the newest entries above an id, `max_id` pages backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub max_id: Option<Id>,
    pub since_id: Option<Id>,
    pub min_id: Option<Id>,
    pub limit: usize,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            max_id: None,
            since_id: None,
            min_id: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl Page {
    /// A page of `limit` entries, clamped to 1..=`max`.
    pub fn with_limit(limit: Option<usize>, max: usize) -> Page {
        Page {
            limit: limit.unwrap_or(DEFAULT_LIMIT.min(max)).clamp(1, max),
            ..Page::default()
        }
    }

    /// Whether an id lies inside the page's bounds (ignoring the limit).
    pub fn contains(&self, id: Id) -> bool {
        self.max_id.is_none_or(|m| id < m)
            && self.since_id.is_none_or(|s| id > s)
            && self.min_id.is_none_or(|m| id > m)
    }

    /// The lower bound, whichever of `since_id` and `min_id` is tighter.
    pub fn lower(&self) -> Option<Id> {
        match (self.since_id, self.min_id) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// With `min_id` the page is the oldest entries above it, not the newest.
    pub fn oldest_first(&self) -> bool {
        self.min_id.is_some()
    }

    /// Keeps the entries of a filtered candidate list (newest first, read with a larger
    /// limit) that belong on this page: the newest `limit`, or with `min_id` the oldest.
    pub fn take(&self, mut ids: Vec<Id>) -> Vec<Id> {
        if self.oldest_first() {
            let start = ids.len().saturating_sub(self.limit);
            ids.drain(..start);
        } else {
            ids.truncate(self.limit);
        }
        ids
    }

    /// Cuts this page out of ids sorted newest first. The result is newest first.
    pub fn cut(&self, ids_desc: &[Id]) -> Vec<Id> {
        let inside = ids_desc.iter().copied().filter(|&id| self.contains(id));
        if self.oldest_first() {
            let mut all: Vec<Id> = inside.collect();
            let start = all.len().saturating_sub(self.limit);
            all.drain(..start);
            all
        } else {
            inside.take(self.limit).collect()
        }
    }
}

/// Merges timelines sorted newest first into one, newest first, without duplicates.
pub fn merge_desc(lists: &[&[Id]], limit: usize) -> Vec<Id> {
    let mut heads: Vec<usize> = vec![0; lists.len()];
    let total: usize = lists.iter().map(|l| l.len()).sum();
    let mut out: Vec<Id> = Vec::with_capacity(limit.min(total));
    while out.len() < limit {
        let mut best: Option<(usize, Id)> = None;
        for (i, list) in lists.iter().enumerate() {
            if let Some(&id) = list.get(heads[i]) {
                if best.is_none_or(|(_, b)| id > b) {
                    best = Some((i, id));
                }
            }
        }
        let Some((_, id)) = best else { break };
        for (i, list) in lists.iter().enumerate() {
            while list.get(heads[i]) == Some(&id) {
                heads[i] += 1;
            }
        }
        out.push(id);
    }
    out
}

/// Which authors are fanned out on write and which are merged in on read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanoutPolicy {
    /// Authors with more followers than this are not pushed to followers' home timelines;
    /// their posts are merged in when a follower reads.
    pub celebrity_threshold: i64,
    /// How many entries a cached home timeline keeps; older pages come from the store.
    pub home_capacity: usize,
    /// Readers who have not read their home timeline for this long (milliseconds) are
    /// skipped by fan-out: their cached timeline is dropped, and rebuilt from the store
    /// when they come back. Mastodon's default: 7 days.
    pub inactive_after_ms: i64,
}

impl Default for FanoutPolicy {
    fn default() -> Self {
        FanoutPolicy {
            celebrity_threshold: 10_000,
            home_capacity: 800,
            inactive_after_ms: 7 * 24 * 3_600_000,
        }
    }
}

impl FanoutPolicy {
    pub fn pushes(&self, follower_count: i64) -> bool {
        follower_count <= self.celebrity_threshold
    }
}

/// A home timeline kept newest first and bounded: inserting beyond capacity drops the
/// oldest entry. Entries arrive almost in order, so insertion scans from the front.
#[derive(Debug, Clone, Default)]
pub struct BoundedTimeline {
    ids: std::collections::VecDeque<Id>,
}

impl BoundedTimeline {
    pub fn from_desc(ids: Vec<Id>, capacity: usize) -> Self {
        let mut ids: std::collections::VecDeque<Id> = ids.into();
        ids.truncate(capacity);
        BoundedTimeline { ids }
    }

    /// Inserts an id in order; returns false when it was already there or too old to keep.
    pub fn insert(&mut self, id: Id, capacity: usize) -> bool {
        let pos = self
            .ids
            .iter()
            .position(|&x| x <= id)
            .unwrap_or(self.ids.len());
        if self.ids.get(pos) == Some(&id) || pos >= capacity {
            return false;
        }
        self.ids.insert(pos, id);
        self.ids.truncate(capacity);
        true
    }

    pub fn remove(&mut self, id: Id) {
        self.ids.retain(|&x| x != id);
    }

    pub fn retain(&mut self, keep: impl FnMut(&Id) -> bool) {
        self.ids.retain(keep);
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The oldest id kept, below which the cache cannot answer.
    pub fn oldest(&self) -> Option<Id> {
        self.ids.back().copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = Id> + '_ {
        self.ids.iter().copied()
    }

    /// The ids, newest first, as one slice.
    pub fn as_slice(&mut self) -> &[Id] {
        self.ids.make_contiguous()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn desc(set: &BTreeSet<Id>) -> Vec<Id> {
        set.iter().rev().copied().collect()
    }

    proptest! {
        #[test]
        fn paging_back_with_max_id_returns_each_entry_once_newest_first(
            ids in proptest::collection::btree_set(0i64..10_000, 0..200),
            limit in 1usize..40,
        ) {
            let all = desc(&ids);
            let mut seen = Vec::new();
            let mut page = Page { limit, ..Page::default() };
            loop {
                let got = page.cut(&all);
                if got.is_empty() { break; }
                page.max_id = got.last().copied();
                seen.extend(got);
            }
            prop_assert_eq!(seen, all);
        }

        #[test]
        fn paging_forward_with_min_id_returns_each_entry_once(
            ids in proptest::collection::btree_set(0i64..10_000, 0..200),
            limit in 1usize..40,
        ) {
            let all = desc(&ids);
            let mut seen = Vec::new();
            let mut page = Page { limit, min_id: Some(-1), ..Page::default() };
            loop {
                let got = page.cut(&all);
                if got.is_empty() { break; }
                prop_assert!(got.windows(2).all(|w| w[0] > w[1]));
                page.min_id = got.first().copied();
                seen.extend(got.into_iter().rev());
            }
            seen.reverse();
            prop_assert_eq!(seen, all);
        }

        #[test]
        fn merging_keeps_order_and_drops_duplicates(
            a in proptest::collection::btree_set(0i64..500, 0..60),
            b in proptest::collection::btree_set(0i64..500, 0..60),
            limit in 0usize..150,
        ) {
            let merged = merge_desc(&[&desc(&a), &desc(&b)], limit);
            let union: BTreeSet<Id> = a.union(&b).copied().collect();
            let expected: Vec<Id> = desc(&union).into_iter().take(limit).collect();
            prop_assert_eq!(merged, expected);
        }

        #[test]
        fn bounded_timeline_keeps_the_newest_entries_in_order(
            ids in proptest::collection::vec(0i64..1_000, 0..300),
            cap in 1usize..50,
        ) {
            let mut t = BoundedTimeline::default();
            for &id in &ids { t.insert(id, cap); }
            let set: BTreeSet<Id> = ids.iter().copied().collect();
            let expected: Vec<Id> = desc(&set).into_iter().take(cap).collect();
            let got: Vec<Id> = t.iter().collect();
            // Entries older than a full timeline's oldest are refused, so the cache holds a
            // subset of the newest `cap`; in order and without repeats.
            prop_assert!(got.windows(2).all(|w| w[0] > w[1]));
            prop_assert!(got.len() <= cap);
            prop_assert!(got.iter().all(|id| set.contains(id)));
            if ids.windows(2).all(|w| w[0] < w[1]) {
                prop_assert_eq!(got, expected);
            }
        }
    }

    #[test]
    fn celebrities_are_not_pushed() {
        let p = FanoutPolicy::default();
        assert!(p.pushes(10_000));
        assert!(!p.pushes(10_001));
    }
}
