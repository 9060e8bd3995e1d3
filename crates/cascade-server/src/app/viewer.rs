//! The viewer of a request and its place in the graph: whom it follows, blocks or is
//! blocked by, and mutes. Every visibility decision of a request is made against this one
//! snapshot, so a timeline, a thread and a single status agree.
//!
//! Snapshots are cached per account, because every authenticated request needs one. A
//! change to the graph drops the snapshots of the accounts it touches (`ViewerCache::
//! forget`, also after a change to its exclusive lists); the rest expire after `TTL`, which bounds how stale the list of followed
//! celebrities (which depends on other accounts' follower counts) can be.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cascade_core::visibility::{can_view, Audience};
use cascade_core::{Id, Visibility};
use cascade_store::StatusRecord;

use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub id: Option<Id>,
    /// Followed accounts, with whether their reblogs are shown.
    pub following: HashMap<Id, bool>,
    /// Accounts blocked by or blocking the viewer.
    pub blocked: HashSet<Id>,
    /// Accounts the viewer muted (timelines leave them out; direct links still work).
    pub muted: HashSet<Id>,
    /// Followed accounts above the celebrity threshold, merged into home at read time.
    pub celebrities: Vec<Id>,
    /// Members of the viewer's exclusive lists, whose posts stay out of its home.
    pub exclusive: HashSet<Id>,
    /// Hashtags the viewer follows: their public posts reach its home.
    pub followed_tags: HashSet<String>,
    /// When the earliest timed mute ends: the snapshot is stale from then on.
    pub mutes_change_at: Option<i64>,
    /// The first statuses of the threads the viewer muted (`app::profiles`); mostly empty,
    /// and then no status needs its thread looked up.
    pub muted_threads: HashSet<Id>,
}

/// How long a cached snapshot may be used at most.
const TTL: Duration = Duration::from_secs(30);
/// Snapshots kept at most; beyond it the cache starts over.
const MAX_CACHED: usize = 100_000;

/// Cached viewer snapshots by account.
#[derive(Default)]
pub struct ViewerCache {
    entries: Mutex<HashMap<Id, (Instant, Arc<Viewer>)>>,
}

impl ViewerCache {
    fn get(&self, id: Id, now_ms: i64) -> Option<Arc<Viewer>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (at, viewer) = entries.get(&id)?;
        let fresh = at.elapsed() < TTL && viewer.mutes_change_at.is_none_or(|t| t > now_ms);
        fresh.then(|| viewer.clone())
    }

    fn put(&self, id: Id, viewer: Arc<Viewer>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_CACHED {
            entries.clear();
        }
        entries.insert(id, (Instant::now(), viewer));
    }

    /// Drops every snapshot.
    pub fn forget_all(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Drops the snapshots of accounts whose follows, blocks or mutes just changed.
    pub fn forget(&self, ids: &[Id]) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        for id in ids {
            entries.remove(id);
        }
    }
}

impl Viewer {
    pub fn anonymous() -> Viewer {
        Viewer::default()
    }

    /// The snapshot of a viewer, from the cache when it is fresh.
    pub async fn load(state: &AppState, id: Option<Id>) -> ApiResult<Arc<Viewer>> {
        let Some(me) = id else {
            return Ok(Arc::new(Viewer::anonymous()));
        };
        let now = cascade_core::time::now_millis();
        if let Some(viewer) = state.viewers.get(me, now) {
            return Ok(viewer);
        }
        let mutes = state.store.muted_ids(me, now).await?;
        let threshold = state.config.fanout.celebrity_threshold;
        let viewer = Arc::new(Viewer {
            id,
            following: state.store.following_ids(me).await?.into_iter().collect(),
            blocked: state.store.blocked_ids(me).await?.into_iter().collect(),
            muted: mutes.iter().map(|(id, _)| *id).collect(),
            celebrities: state.store.followed_celebrities(me, threshold).await?,
            exclusive: state
                .store
                .exclusive_list_members(me)
                .await?
                .into_iter()
                .collect(),
            followed_tags: state
                .store
                .followed_tag_names(me)
                .await?
                .into_iter()
                .collect(),
            mutes_change_at: mutes.iter().filter_map(|(_, until)| *until).min(),
            muted_threads: state
                .store
                .muted_thread_roots(me)
                .await?
                .into_iter()
                .collect(),
        });
        state.viewers.put(me, viewer.clone());
        Ok(viewer)
    }

    pub fn is(&self, account: Id) -> bool {
        self.id == Some(account)
    }

    pub fn follows(&self, account: Id) -> bool {
        self.following.contains_key(&account)
    }

    /// Whether the viewer may see a status whose mentioned accounts are `mentions`.
    pub fn can_see(&self, status: &StatusRecord, mentions: &[Id]) -> bool {
        let audience = Audience {
            is_author: self.is(status.account_id),
            follows_author: self.follows(status.account_id),
            is_mentioned: self.id.is_some_and(|me| mentions.contains(&me)),
            blocked: self.blocked.contains(&status.account_id),
        };
        can_view(Visibility::from_code(status.visibility), audience)
    }

    /// Whether a timeline should leave this author out (blocked either way, or muted).
    pub fn hides(&self, account: Id) -> bool {
        self.blocked.contains(&account) || self.muted.contains(&account)
    }

    /// The accounts `hides` leaves out, for a store query to exclude.
    pub fn hidden(&self) -> Vec<Id> {
        self.blocked.iter().chain(&self.muted).copied().collect()
    }
}
