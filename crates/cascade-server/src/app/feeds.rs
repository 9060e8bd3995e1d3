//! Cached home timelines: bounded lists of recent status ids per reader, pushed by the
//! fan-out job (`app::fanout`) and read by `app::timelines`.
//!
//! Authors above the celebrity threshold are not pushed; their posts are merged in when a
//! follower reads (see `app::timelines`). Only timelines that are cached receive pushes: a
//! timeline that is not cached is rebuilt from the store on its next read, so memory holds
//! only the active readers' timelines, each bounded. A cache, never the truth: everything
//! here can be rebuilt from the store.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cascade_core::timeline::{merge_desc, BoundedTimeline, Page};
use cascade_core::Id;
use cascade_store::StoreError;

const SHARDS: usize = 32;
/// Cached timelines kept at most; beyond it the least recently read one is dropped.
const MAX_CACHED_FEEDS: usize = 200_000;

struct Feed {
    timeline: BoundedTimeline,
    last_read: u64,
    /// When its reader last read it (or it was loaded for them).
    read_at: Instant,
    /// When a load from the store filled it; `None` while a load is under way, when the
    /// entry only collects the pushes that arrive meanwhile and is not read.
    filled_at: Option<Instant>,
}

/// Bounded timelines of recent ids by account, sharded to keep lock contention low: the
/// home timelines of recently active readers (`AppState::feeds`, pushed by the fan-out
/// worker) and the recent posts of the celebrities they follow (`AppState::authored`,
/// pushed by the author's own request), merged when a follower reads.
///
/// A missing timeline is loaded from the store between `begin` and `install`; pushes that
/// arrive during the load land in the reserved entry and are merged, never lost. With a
/// TTL a timeline is loaded again once it is that old, so that what another process on the
/// same store wrote shows within that bound.
pub struct HomeFeeds {
    shards: Vec<Mutex<HashMap<Id, Feed>>>,
    capacity: usize,
    ttl: Option<Duration>,
    /// A timeline unread for this long receives no more pushes: it is dropped instead,
    /// and rebuilt from the store if its reader comes back.
    idle: Option<Duration>,
    clock: std::sync::atomic::AtomicU64,
}

impl HomeFeeds {
    pub fn new(capacity: usize) -> HomeFeeds {
        HomeFeeds {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            capacity,
            ttl: None,
            idle: None,
            clock: Default::default(),
        }
    }

    /// Home timelines whose readers stop being pushed to once they have not read for
    /// `idle` (`FanoutPolicy::inactive_after_ms`).
    pub fn skipping_idle(capacity: usize, idle: Duration) -> HomeFeeds {
        HomeFeeds {
            idle: Some(idle),
            ..HomeFeeds::new(capacity)
        }
    }

    /// Timelines that are loaded again from the store once they are `ttl` old.
    pub fn with_ttl(capacity: usize, ttl: Duration) -> HomeFeeds {
        HomeFeeds {
            ttl: Some(ttl),
            ..HomeFeeds::new(capacity)
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn shard(&self, account: Id) -> std::sync::MutexGuard<'_, HashMap<Id, Feed>> {
        let i = (account as u64 % SHARDS as u64) as usize;
        self.shards[i]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn tick(&self) -> u64 {
        self.clock
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn fresh(&self, feed: &Feed, now: Instant) -> bool {
        feed.filled_at.is_some_and(|at| {
            self.ttl
                .is_none_or(|ttl| now.saturating_duration_since(at) < ttl)
        })
    }

    /// Pushes a status into a cached timeline; does nothing when it is not cached, and
    /// drops it instead when its reader has been away longer than the idle period.
    pub fn push(&self, account: Id, status: Id) {
        let mut shard = self.shard(account);
        let Some(feed) = shard.get_mut(&account) else {
            return;
        };
        if self.idle.is_some_and(|idle| feed.read_at.elapsed() >= idle) {
            shard.remove(&account);
            return;
        }
        feed.timeline.insert(status, self.capacity);
    }

    /// The cached timeline's ids, newest first, or `None` when it must be loaded.
    pub fn read(&self, account: Id) -> Option<Vec<Id>> {
        self.read_with(account, <[Id]>::to_vec)
    }

    /// What `f` makes of the cached timeline's ids (newest first), without copying them
    /// all; `None` when the timeline must be loaded.
    pub fn read_with<R>(&self, account: Id, f: impl FnOnce(&[Id]) -> R) -> Option<R> {
        let tick = self.tick();
        let now = Instant::now();
        let mut shard = self.shard(account);
        let feed = shard.get_mut(&account).filter(|f| self.fresh(f, now))?;
        feed.last_read = tick;
        feed.read_at = now;
        Some(f(feed.timeline.as_slice()))
    }

    /// Reserves the entry of a timeline about to be loaded from the store, so that pushes
    /// made from now on reach the loaded timeline. A stale entry starts over empty.
    pub fn begin(&self, account: Id) {
        let tick = self.tick();
        let now = Instant::now();
        let mut shard = self.shard(account);
        if let Some(feed) = shard.get_mut(&account) {
            if feed.filled_at.is_some() && !self.fresh(feed, now) {
                feed.timeline = BoundedTimeline::default();
                feed.filled_at = None;
            }
            return;
        }
        if shard.len() * SHARDS >= MAX_CACHED_FEEDS {
            if let Some(&oldest) = shard
                .iter()
                .min_by_key(|(_, f)| f.last_read)
                .map(|(k, _)| k)
            {
                shard.remove(&oldest);
            }
        }
        shard.insert(
            account,
            Feed {
                timeline: BoundedTimeline::default(),
                last_read: tick,
                read_at: now,
                filled_at: None,
            },
        );
    }

    /// Installs a timeline loaded from the store (newest first), merged with what was
    /// pushed since `begin`, and returns the whole.
    pub fn install(&self, account: Id, ids_desc: Vec<Id>) -> Vec<Id> {
        let tick = self.tick();
        let mut shard = self.shard(account);
        let feed = shard.entry(account).or_insert_with(|| Feed {
            timeline: BoundedTimeline::default(),
            last_read: tick,
            read_at: Instant::now(),
            filled_at: None,
        });
        let merged = if feed.timeline.is_empty() {
            ids_desc
        } else {
            let pushed: Vec<Id> = feed.timeline.iter().collect();
            merge_desc(&[&pushed, &ids_desc], self.capacity)
        };
        feed.timeline = BoundedTimeline::from_desc(merged, self.capacity);
        feed.filled_at = Some(Instant::now());
        feed.last_read = tick;
        feed.read_at = Instant::now();
        feed.timeline.iter().collect()
    }

    /// Forgets a cached timeline (after a follow, unfollow or block changes what it holds).
    pub fn invalidate(&self, account: Id) {
        self.shard(account).remove(&account);
    }

    /// Drops every cached timeline: each is rebuilt from the store when next read.
    pub fn invalidate_all(&self) {
        for shard in &self.shards {
            shard.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    /// How many timelines are cached.
    pub fn cached(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum()
    }
}

/// `page` cut from a timeline of `feeds`: the cached one, or the one `load` reads from
/// the store when it is missing. `None` when the page is older than a full cached
/// timeline holds, and so must come from the store.
pub async fn cached_page<F, Fut>(
    feeds: &HomeFeeds,
    account: Id,
    page: &Page,
    load: F,
) -> Result<Option<Vec<Id>>, StoreError>
where
    F: FnOnce(Page) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<Id>, StoreError>>,
{
    let cut = |ids: &[Id]| {
        let beyond = ids.len() >= feeds.capacity()
            && page
                .max_id
                .is_some_and(|m| ids.last().is_some_and(|&oldest| m <= oldest));
        (!beyond).then(|| page.cut(ids))
    };
    if let Some(cached) = feeds.read_with(account, cut) {
        return Ok(cached);
    }
    feeds.begin(account);
    let all = Page {
        limit: feeds.capacity(),
        ..Page::default()
    };
    let loaded = load(all).await?;
    Ok(cut(&feeds.install(account, loaded)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_made_while_a_timeline_loads_are_kept() {
        let feeds = HomeFeeds::new(4);
        assert_eq!(feeds.read(1), None);
        feeds.begin(1);
        feeds.push(1, 50);
        assert_eq!(feeds.read(1), None, "a timeline being loaded is not read");
        // The load read the store before 50 was written.
        assert_eq!(feeds.install(1, vec![40, 30, 20, 10]), vec![50, 40, 30, 20]);
        assert_eq!(feeds.read(1), Some(vec![50, 40, 30, 20]));
    }

    #[test]
    fn readers_away_longer_than_the_idle_period_are_skipped_and_rebuilt() {
        let away = HomeFeeds::skipping_idle(4, Duration::ZERO);
        away.begin(1);
        away.install(1, vec![10]);
        away.push(1, 50);
        assert_eq!(away.read(1), None, "dropped, to be rebuilt from the store");
        assert_eq!(away.cached(), 0);
        let present = HomeFeeds::skipping_idle(4, Duration::from_secs(3600));
        present.begin(1);
        present.install(1, vec![10]);
        present.push(1, 50);
        assert_eq!(present.read(1), Some(vec![50, 10]));
    }

    #[test]
    fn pushes_reach_only_cached_timelines() {
        let feeds = HomeFeeds::new(4);
        feeds.push(1, 50);
        feeds.begin(1);
        assert_eq!(feeds.install(1, vec![10]), vec![10]);
    }

    #[test]
    fn a_timeline_older_than_its_ttl_is_loaded_again_from_scratch() {
        let feeds = HomeFeeds::with_ttl(4, Duration::ZERO);
        feeds.begin(1);
        feeds.install(1, vec![30, 20]);
        assert_eq!(feeds.read(1), None, "stale at once");
        feeds.begin(1);
        assert_eq!(
            feeds.install(1, vec![20]),
            vec![20],
            "30 was deleted meanwhile"
        );
    }
}
