//! The fan-out job of a new status: its place in followers' cached home timelines, the
//! accounts its cascade reached, the followers who rang the bell for its author, and the
//! going-viral check. Run by the worker (`worker`), never in a request; it saves its
//! progress after each batch of followers, so a crash resumes from the last batch, and
//! everything it does may be done twice without showing (pushes into a timeline, sketch
//! additions and notifications are all idempotent).

use cascade_core::hll::HyperLogLog;
use cascade_core::{Id, NotificationKind, Visibility};
use cascade_store::{Job, StoreError};

use crate::app::notifications;
use crate::error::ApiResult;
use crate::state::AppState;

/// Followers loaded and pushed per step of a fan-out job; progress is saved after each.
const BATCH: usize = 1_000;

/// Runs a fan-out job; a status deleted since has nothing left to fan out.
pub async fn run(state: &AppState, job: &Job) -> ApiResult<()> {
    let status = match state.store.status(job.subject_id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let author = state.store.account(status.account_id).await?;
    state.feeds.push(author.id, status.id);
    let visibility = Visibility::from_code(status.visibility);
    if visibility == Visibility::Direct {
        // Direct posts reach the home timelines of the mentioned accounts that follow the
        // author, as in Mastodon; the others see them in their conversations.
        let mut reached = Vec::new();
        for (_, mentioned) in state.store.mentions_of(&[status.id]).await? {
            if state.store.is_following(mentioned, author.id).await? {
                reached.push(mentioned);
            }
        }
        state.push_home(reached, status.id);
        return Ok(());
    }
    let push = state.config.fanout.pushes(author.followers_count);
    // A reshare exposes its cascade to the resharer's followers: they are counted into the
    // cascade's sketch of reached accounts in the same walk.
    let root = state.store.cascade_root_of(status.id).await?;
    // This job's own additions, merged into the stored sketch after each batch under the
    // row's lock (`Store::merge_exposure_sketch`): fan-out jobs run several at once, on
    // several nodes, and two reshares of one cascade must not overwrite each other's reach.
    let mut exposure = if root != status.id {
        // Seeding the stored sketch (on the cascade's first reshare) is a write too.
        let _held = exposure_lock(root).lock().await;
        exposure_sketch(state, root)
            .await?
            .map(|_| HyperLogLog::new())
    } else {
        None
    };
    let mut exposed = 0u64;
    if push || exposure.is_some() {
        let mut after = job.progress;
        loop {
            let batch = state.store.follower_batch(author.id, after, BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            if push {
                state.push_home(batch.iter().map(|e| e.account_id).collect(), status.id);
            }
            for edge in &batch {
                if let Some(sketch) = exposure.as_mut() {
                    sketch.add(edge.account_id as u64);
                }
            }
            if let Some(sketch) = &exposure {
                // Adding an account twice changes nothing, so a resumed walk keeps the
                // sketch right; only this reshare's share of it may come out low.
                exposed += merge_exposure(state, root, sketch).await?;
            }
            state.store.job_progress(job.id, after).await?;
            if batch.len() < BATCH {
                break;
            }
        }
    }
    if exposure.is_some() {
        state.store.set_exposed(status.id, exposed as i64).await?;
    }
    if visibility == Visibility::Public && status.reblog_of_id.is_none() {
        // Public posts reach the home timelines of those who follow one of their tags.
        let followers = state.store.tag_followers_of(status.id).await?;
        state.push_home(followers, status.id);
    }
    if status.reblog_of_id.is_none() && status.in_reply_to_id.is_none() {
        // Followers who rang the bell for this author hear of each new post.
        for follower in state.store.notified_followers(author.id).await? {
            notifications::notify(
                state,
                follower,
                author.id,
                NotificationKind::Status,
                Some(status.id),
            )
            .await?;
        }
    }
    if root != status.id {
        check_going_viral(state, root).await?;
    }
    Ok(())
}

/// The sketch of accounts a cascade reached so far. The first time a cascade is reshared
/// it starts from the root author's followers, whom the root itself exposed. `None` when
/// the root was deleted: its cascade is gone, there is nothing left to count into.
/// Merges `mine` into the cascade's stored sketch; how many accounts that added to the
/// cascade's estimated reach. One merge per cascade at a time in this process.
async fn merge_exposure(state: &AppState, root: Id, mine: &HyperLogLog) -> Result<u64, StoreError> {
    // Merged in the store under the row's lock: another node may fan out a reshare of the
    // same cascade at the same time.
    let (before, after) = state
        .store
        .merge_exposure_sketch(root, &mine.to_bytes())
        .await?;
    Ok(after.saturating_sub(before))
}

/// The lock of a cascade's seeding in this process, so that concurrent fan-out jobs walk
/// the root author's followers once; the merges themselves take turns in the store.
fn exposure_lock(root: Id) -> &'static tokio::sync::Mutex<()> {
    static LOCKS: std::sync::OnceLock<Vec<tokio::sync::Mutex<()>>> = std::sync::OnceLock::new();
    let locks = LOCKS.get_or_init(|| (0..64).map(|_| tokio::sync::Mutex::new(())).collect());
    &locks[(root as u64 % 64) as usize]
}

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
    // Merged rather than written: another node may have merged a reshare meanwhile.
    state
        .store
        .merge_exposure_sketch(root, &sketch.to_bytes())
        .await?;
    Ok(Some(sketch))
}

/// Tells a post's author when SEISMIC predicts its cascade will end well above the
/// author's usual reach: `viral_multiple` times the mean reshares of their recent posts
/// (at least one). Checked when the cascade reaches 8, 16, 32... reshares, so a burst costs
/// a handful of predictions; the author hears of it once per post.
async fn check_going_viral(state: &AppState, root: Id) -> ApiResult<()> {
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
        notifications::notify(
            state,
            author,
            author,
            NotificationKind::GoingViral,
            Some(root),
        )
        .await?;
    }
    Ok(())
}
