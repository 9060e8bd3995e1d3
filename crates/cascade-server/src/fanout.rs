//! Hybrid fan-out: cached home timelines, and the worker that pushes each new status into
//! the cached timelines of the author's followers.
//!
//! Authors above the celebrity threshold are not pushed; their posts are merged in when a
//! follower reads (see `app::timelines`). Only timelines that are cached receive pushes: a
//! timeline that is not cached is rebuilt from the store on its next read, so memory holds
//! only the active readers' timelines, each bounded. The worker never runs inside a
//! request; it reads the durable `jobs` table, so a crash resumes from the last batch.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cascade_core::hll::HyperLogLog;
use cascade_core::timeline::{merge_desc, BoundedTimeline, Page};
use cascade_core::{Id, Visibility};
use cascade_store::{Job, StoreError};

use crate::app::notifications::GOING_VIRAL;
use crate::state::AppState;

const SHARDS: usize = 32;
/// Followers loaded and pushed per step of a fan-out job; progress is saved after each.
const BATCH: usize = 1_000;
/// Cached timelines kept at most; beyond it the least recently read one is dropped.
const MAX_CACHED_FEEDS: usize = 200_000;

struct Feed {
    timeline: BoundedTimeline,
    last_read: u64,
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
    clock: std::sync::atomic::AtomicU64,
}

impl HomeFeeds {
    pub fn new(capacity: usize) -> HomeFeeds {
        HomeFeeds {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            capacity,
            ttl: None,
            clock: Default::default(),
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

    /// Pushes a status into a cached timeline; does nothing when it is not cached.
    pub fn push(&self, account: Id, status: Id) {
        if let Some(feed) = self.shard(account).get_mut(&account) {
            feed.timeline.insert(status, self.capacity);
        }
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
        feed.timeline.iter().collect()
    }

    /// Forgets a cached timeline (after a follow, unfollow or block changes what it holds).
    pub fn invalidate(&self, account: Id) {
        self.shard(account).remove(&account);
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

/// The sketch of accounts a cascade reached so far. The first time a cascade is reshared
/// it starts from the root author's followers, whom the root itself exposed. `None` when
/// the root was deleted: its cascade is gone, there is nothing left to count into.
async fn exposure_sketch(state: &AppState, root: Id) -> Result<Option<HyperLogLog>, StoreError> {
    if let Some(bytes) = state.store.exposure_sketch(root).await? {
        if let Ok(sketch) = HyperLogLog::from_bytes(&bytes) {
            return Ok(Some(sketch));
        }
    }
    let author = match state.store.status(root).await {
        Ok(s) => s.account_id,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut sketch = HyperLogLog::new();
    let mut after = 0;
    loop {
        let batch = state.store.follower_batch(author, after, BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        batch.iter().for_each(|e| sketch.add(e.account_id as u64));
        if batch.len() < BATCH {
            break;
        }
    }
    state
        .store
        .set_exposed(root, sketch.estimate() as i64)
        .await?;
    state
        .store
        .save_exposure_sketch(root, &sketch.to_bytes())
        .await?;
    Ok(Some(sketch))
}

/// Tells a post's author when SEISMIC predicts its cascade will end well above the
/// author's usual reach: `viral_multiple` times the mean reshares of their recent posts
/// (at least one). Checked when the cascade reaches 8, 16, 32... reshares, so a burst costs
/// a handful of predictions; the author hears of it once per post.
async fn check_going_viral(state: &AppState, root: Id) -> Result<(), StoreError> {
    let nodes = state.store.cascade_nodes(root).await?;
    let reshares = nodes.len().saturating_sub(1);
    if reshares < 8 || !reshares.is_power_of_two() {
        return Ok(());
    }
    let Some(author) = nodes.iter().find(|n| n.id == root).map(|n| n.account_id) else {
        return Ok(());
    };
    let estimate = crate::app::cascade::estimate(
        nodes.iter().map(|n| (n.created_at, n.followers)),
        cascade_core::time::now_millis(),
    );
    let recent = state.store.recent_reshare_counts(author, root, 20).await?;
    let usual = if recent.is_empty() {
        0.0
    } else {
        recent.iter().sum::<i64>() as f64 / recent.len() as f64
    };
    if estimate.prediction >= state.config.viral_multiple * usual.max(1.0) {
        notify(state, author, author, GOING_VIRAL, Some(root)).await?;
    }
    Ok(())
}

/// Notifies without failing the job: a notification that cannot be written is logged.
async fn notify(
    state: &AppState,
    to: Id,
    from: Id,
    kind: &str,
    status: Option<Id>,
) -> Result<(), StoreError> {
    if let Err(e) = crate::app::notifications::notify(state, to, from, kind, status).await {
        tracing::warn!(error = %e, "a notification could not be written");
    }
    Ok(())
}

/// Runs the fan-out worker until the process ends.
pub async fn run_worker(state: AppState) {
    loop {
        if let Err(e) = drain(&state).await {
            tracing::warn!(error = %e, "fan-out pass failed; retrying");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), state.jobs.notified()).await;
    }
}

/// Runs pending jobs until none is left. Tests call this to make delivery deterministic.
pub async fn drain(state: &AppState) -> Result<(), StoreError> {
    loop {
        let jobs = state.store.pending_jobs(64).await?;
        if jobs.is_empty() {
            return Ok(());
        }
        for job in jobs {
            if let Err(e) = run_job(state, &job).await {
                tracing::warn!(job = job.id, error = %e, "fan-out job failed");
                state.store.job_failed(job.id).await?;
                if job.attempts >= 5 {
                    state.store.finish_job(job.id).await?;
                }
            }
        }
    }
}

async fn run_job(state: &AppState, job: &Job) -> Result<(), StoreError> {
    if job.kind != "fanout" {
        return state.store.finish_job(job.id).await;
    }
    let status = match state.store.status(job.subject_id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return state.store.finish_job(job.id).await,
        Err(e) => return Err(e),
    };
    // Brand watches match every kind of status, direct ones included; a rerun of the job
    // writes no hit twice.
    crate::app::watch::on_status(state, &status).await;
    let author = state.store.account(status.account_id).await?;
    state.feeds.push(author.id, status.id);
    let visibility = Visibility::from_code(status.visibility);
    if visibility == Visibility::Direct {
        // Direct posts reach the home timelines of the mentioned accounts that follow the
        // author, as in Mastodon; the others see them in their conversations.
        for (_, mentioned) in state.store.mentions_of(&[status.id]).await? {
            if state.store.is_following(mentioned, author.id).await? {
                state.feeds.push(mentioned, status.id);
            }
        }
        announce(state, &status).await;
        return state.store.finish_job(job.id).await;
    }
    let push = state.config.fanout.pushes(author.followers_count);
    // A reshare exposes its cascade to the resharer's followers: they are counted into the
    // cascade's sketch of reached accounts in the same walk.
    let root = state.store.cascade_root_of(status.id).await?;
    let mut exposure = if root != status.id {
        exposure_sketch(state, root).await?
    } else {
        None
    };
    let before = exposure.as_ref().map_or(0, HyperLogLog::estimate);
    if push || exposure.is_some() {
        let mut after = job.progress;
        loop {
            let batch = state.store.follower_batch(author.id, after, BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            for edge in &batch {
                if push {
                    state.feeds.push(edge.account_id, status.id);
                }
                if let Some(sketch) = exposure.as_mut() {
                    sketch.add(edge.account_id as u64);
                }
            }
            if let Some(sketch) = &exposure {
                // Adding an account twice changes nothing, so a resumed walk keeps the
                // sketch right; only this node's share of it may come out low.
                state
                    .store
                    .save_exposure_sketch(root, &sketch.to_bytes())
                    .await?;
            }
            state.store.job_progress(job.id, after).await?;
            if batch.len() < BATCH {
                break;
            }
        }
    }
    if let Some(sketch) = &exposure {
        state
            .store
            .save_exposure_sketch(root, &sketch.to_bytes())
            .await?;
        let exposed = sketch.estimate().saturating_sub(before);
        state.store.set_exposed(status.id, exposed as i64).await?;
    }
    if visibility == Visibility::Public && status.reblog_of_id.is_none() {
        // Public posts reach the home timelines of those who follow one of their tags.
        for account in state.store.tag_followers_of(status.id).await? {
            state.feeds.push(account, status.id);
        }
    }
    if status.reblog_of_id.is_none() && status.in_reply_to_id.is_none() {
        // Followers who rang the bell for this author hear of each new post.
        for follower in state.store.notified_followers(author.id).await? {
            notify(state, follower, author.id, "status", Some(status.id)).await?;
        }
    }
    announce(state, &status).await;
    if root != status.id {
        check_going_viral(state, root).await?;
    }
    state.store.finish_job(job.id).await
}

/// Sends a new status to the streams that show it; a failure is logged, since the
/// timelines already hold the status.
async fn announce(state: &AppState, status: &cascade_store::StatusRecord) {
    if state.streams.connections() == 0 {
        return;
    }
    if let Err(e) = crate::app::stream::status_created(state, status).await {
        tracing::warn!(error = %e, "a status was not streamed");
    }
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
