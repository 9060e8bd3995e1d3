//! Brand watch (a Cascade extension): saved watches of keywords, hashtags and mentions of
//! their owner; each watch's timeline and stream; the owner's unanswered queue; and how
//! fast the owner answers.
//!
//! Matching happens after a status is written (by its `Deliver` or `Edit` job, see
//! `app::delivery`), against `WatchBook`, an in-memory index of every watch's terms: a
//! status that matches nothing costs no query. A match is stored as a hit, so reading a
//! watch is a range of one index; hits are written only for statuses the owner could see
//! then, and every read (timeline, queue, stream) applies the visibility rule
//! (`app::render`) again. Statistics leave out the accounts the owner blocks or mutes.
//! Nothing here writes a status: answering is replying, through the ordinary API.
//!
//! `WatchBook` is loaded at start and changed only by this process's own writes: a watch
//! created or changed through another process matches here only after a restart.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::time::Instant;

use cascade_core::timeline::Page;
use cascade_core::watch::{self, Index, ResponseTimes, Terms, MAX_NAME_CHARS, MAX_WATCHES};
use cascade_core::{text, time, Id};
use cascade_store::{StatusRecord, StoreError, WatchRecord};

use crate::app::entity;
use crate::app::timelines::TimelinePage;
use crate::app::{render, statuses, stream, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use cascade_store::range;

/// The terms of every watch, kept in memory so that matching a status needs no query.
/// Loaded at start and updated on every change to a watch.
#[derive(Default)]
pub struct WatchBook {
    index: RwLock<Index>,
}

impl WatchBook {
    fn put(&self, w: &WatchRecord) {
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        index.put(w.id, w.account_id, terms_of(w));
    }

    fn remove(&self, id: Id) {
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        index.remove(id);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// Builds the match index from the store, replacing the one in memory: called before
/// serving, and again after this node missed the other nodes' messages.
pub async fn load(state: &AppState) -> Result<(), StoreError> {
    let mut index = Index::default();
    for w in state.store.all_watches().await? {
        index.put(w.id, w.account_id, terms_of(&w));
    }
    *state
        .watches
        .index
        .write()
        .unwrap_or_else(|p| p.into_inner()) = index;
    Ok(())
}

fn terms_of(w: &WatchRecord) -> Terms {
    Terms {
        keywords: w.keywords.clone(),
        hashtags: w.hashtags.clone(),
        mentions: w.mentions,
    }
}

fn tell(state: &AppState, id: Id) {
    state.tell(crate::cluster::Message::Forget(
        crate::cluster::Forget::Watch(id),
    ));
}

/// Reads a watch again after another node made, changed or deleted it.
pub async fn reload(state: &AppState, id: Id) {
    match state.store.watch(id).await {
        Ok(w) => state.watches.put(&w),
        Err(StoreError::NotFound) => state.watches.remove(id),
        Err(e) => tracing::warn!(error = %e, "a watch changed elsewhere was not read"),
    }
}

/// A watch as the client sent it; on an update, what is left out keeps its value.
#[derive(Debug, Clone, Default)]
pub struct WatchInput {
    pub name: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub hashtags: Option<Vec<String>>,
    pub mentions: Option<bool>,
}

fn render_watch(w: &WatchRecord) -> entity::Watch {
    entity::Watch {
        id: w.id.to_string(),
        name: w.name.clone(),
        keywords: w.keywords.clone(),
        hashtags: w.hashtags.clone(),
        mentions: w.mentions,
        created_at: time::rfc3339(w.created_at),
        updated_at: time::rfc3339(w.updated_at),
    }
}

/// Validates `input` over `base` (the current watch, or an empty one).
fn apply(base: &WatchRecord, input: WatchInput) -> ApiResult<WatchRecord> {
    let name = input
        .name
        .map(|n| n.trim().to_string())
        .unwrap_or_else(|| base.name.clone());
    if name.is_empty() {
        return Err(ApiError::unprocessable("name can't be blank"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::unprocessable(format!(
            "name is too long (maximum is {MAX_NAME_CHARS} characters)"
        )));
    }
    let terms = Terms::parse(
        input.keywords.as_deref().unwrap_or(&base.keywords),
        input.hashtags.as_deref().unwrap_or(&base.hashtags),
        input.mentions.unwrap_or(base.mentions),
    )
    .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    Ok(WatchRecord {
        name,
        keywords: terms.keywords,
        hashtags: terms.hashtags,
        mentions: terms.mentions,
        ..base.clone()
    })
}

/// The owner's watch, or 404 (also for another account's watch).
async fn owned(state: &AppState, me: Id, id: Id) -> ApiResult<WatchRecord> {
    match state.store.watch(id).await {
        Ok(w) if w.account_id == me => Ok(w),
        Ok(_) | Err(StoreError::NotFound) => Err(ApiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

pub async fn list(state: &AppState, me: Id) -> ApiResult<Vec<entity::Watch>> {
    let watches = state.store.watches_of(me).await?;
    Ok(watches.iter().map(render_watch).collect())
}

pub async fn get(state: &AppState, me: Id, id: Id) -> ApiResult<entity::Watch> {
    Ok(render_watch(&owned(state, me, id).await?))
}

pub async fn create(state: &AppState, me: Id, input: WatchInput) -> ApiResult<entity::Watch> {
    let now = time::now_millis();
    let empty = WatchRecord {
        id: state.ids.next(),
        account_id: me,
        name: String::new(),
        keywords: Vec::new(),
        hashtags: Vec::new(),
        mentions: false,
        created_at: now,
        updated_at: now,
    };
    let w = apply(&empty, input)?;
    if !state.store.create_watch(&w, MAX_WATCHES).await? {
        return Err(ApiError::unprocessable(format!(
            "an account has at most {MAX_WATCHES} watches"
        )));
    }
    state.watches.put(&w);
    tell(state, w.id);
    Ok(render_watch(&w))
}

/// Changes a watch's name or terms. Hits already recorded stay; new statuses match the new
/// terms.
pub async fn update(
    state: &AppState,
    me: Id,
    id: Id,
    input: WatchInput,
) -> ApiResult<entity::Watch> {
    let current = owned(state, me, id).await?;
    let mut w = apply(&current, input)?;
    w.updated_at = time::now_millis();
    state.store.update_watch(&w).await?;
    state.watches.put(&w);
    tell(state, w.id);
    Ok(render_watch(&w))
}

pub async fn delete(state: &AppState, me: Id, id: Id) -> ApiResult<()> {
    owned(state, me, id).await?;
    state.store.delete_watch(id, me).await?;
    state.watches.remove(id);
    tell(state, id);
    Ok(())
}

/// A larger page read from the store, so the visibility filter rarely leaves a page short.
fn widened(page: &Page) -> Page {
    Page {
        limit: page.limit * 2 + 10,
        ..*page
    }
}

/// The statuses a watch matched, newest first, as its owner may see them.
pub async fn timeline(
    state: &AppState,
    viewer: &Viewer,
    id: Id,
    page: Page,
) -> ApiResult<TimelinePage> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let w = owned(state, me, id).await?;
    let ids = state
        .store
        .watch_timeline(w.id, &viewer.hidden(), range(&widened(&page)))
        .await?;
    render::page(state, viewer, &ids, &page, |s, _| {
        !viewer.hides(s.account_id)
    })
    .await
}

/// The queue's page: oldest first. Without `max_id` it reads upwards from `min_id` (or
/// `since_id`, or the start); with only `max_id`, the items just before it.
fn queue_page(page: Page) -> Page {
    if page.max_id.is_some() && page.lower().is_none() {
        page
    } else {
        Page {
            min_id: Some(page.lower().unwrap_or(0)),
            since_id: None,
            ..page
        }
    }
}

/// What the owner has not answered yet — hits of one watch, or of all their watches plus
/// the statuses that mention them — oldest first, each with its age. Returns the items and
/// their paging keys (the status ids), oldest first.
pub async fn unanswered(
    state: &AppState,
    viewer: &Viewer,
    watch: Option<Id>,
    page: Page,
) -> ApiResult<(Vec<entity::UnansweredItem>, Vec<Id>)> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    if let Some(id) = watch {
        owned(state, me, id).await?;
    }
    let page = queue_page(page);
    let candidates = state
        .store
        .unanswered(me, watch, &viewer.hidden(), range(&widened(&page)))
        .await?;
    let (mut shown, mut keys) = render::page(state, viewer, &candidates, &page, |s, _| {
        !viewer.hides(s.account_id)
    })
    .await?;
    shown.reverse();
    keys.reverse();
    let records = state
        .records
        .statuses(&state.store, &keys, 1, Instant::now())
        .await?;
    let mut hits: HashMap<Id, Vec<String>> = HashMap::new();
    for (status, w) in state.store.hit_watches(me, &keys).await? {
        hits.entry(status).or_default().push(w.to_string());
    }
    let now = time::now_millis();
    let items = shown
        .into_iter()
        .zip(&keys)
        .filter_map(|(status, id)| {
            let e = records.get(id)?;
            Some(entity::UnansweredItem {
                id: id.to_string(),
                age_seconds: (now - e.record.created_at).max(0) / 1000,
                mention: e.mentions.contains(&me),
                watch_ids: hits.remove(id).unwrap_or_default(),
                status,
            })
        })
        .collect();
    Ok((items, keys))
}

/// Takes an item out of the owner's queues (all of them: the item is dismissed, not its
/// hit) without replying. 404 unless it is an item of theirs that they may see, and, when
/// asked through a watch, unless the watch is theirs.
pub async fn dismiss(
    state: &AppState,
    viewer: &Viewer,
    watch: Option<Id>,
    status: Id,
) -> ApiResult<()> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    if let Some(id) = watch {
        owned(state, me, id).await?;
    }
    statuses::visible(state, viewer, status).await?;
    if !state.store.is_watch_item(me, status).await? {
        return Err(ApiError::NotFound);
    }
    state
        .store
        .dismiss_watch_item(me, status, time::now_millis())
        .await?;
    Ok(())
}

/// The window of the statistics, as the client gave it.
#[derive(Debug, Clone, Default)]
pub struct StatsInput {
    pub window: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// The longest window statistics are computed over.
const MAX_WINDOW_MS: i64 = 366 * 86_400_000;
const DEFAULT_WINDOW: &str = "7d";

fn instant(field: &str, value: &str) -> ApiResult<i64> {
    time::parse_rfc3339(value.trim())
        .ok_or_else(|| ApiError::unprocessable(format!("{field} is not an RFC 3339 time")))
}

/// `[since, until)` in milliseconds: `until` (default now) and `since`, or `window`
/// (default 7d) before `until`.
fn window_of(input: &StatsInput, now: i64) -> ApiResult<(i64, i64)> {
    let blank = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let until = match blank(&input.until) {
        Some(v) => instant("until", &v)?,
        None => now,
    };
    let since = match (blank(&input.since), blank(&input.window)) {
        (Some(v), _) => instant("since", &v)?,
        (None, w) => {
            let w = w.unwrap_or_else(|| DEFAULT_WINDOW.to_string());
            let length = watch::window(&w).ok_or_else(|| {
                ApiError::unprocessable("window must be a number of m, h, d or w, like 7d")
            })?;
            until.saturating_sub(length)
        }
    };
    if since >= until {
        return Err(ApiError::unprocessable("since must be before until"));
    }
    if until - since > MAX_WINDOW_MS {
        return Err(ApiError::unprocessable("the window is at most 366 days"));
    }
    Ok((since, until))
}

fn render_times(r: ResponseTimes) -> entity::ResponseStats {
    let seconds = |ms: Option<i64>| ms.map(|v| v as f64 / 1000.0);
    entity::ResponseStats {
        items: r.items,
        answered: r.answered,
        unanswered: r.items - r.answered,
        median_seconds: seconds(r.median),
        p90_seconds: seconds(r.p90),
    }
}

/// How many items the owner got in the window (posted then), how many they answered, and
/// the median and 90th percentile of the time to their first reply: overall (all watches
/// and mentions) and per watch. Dismissed items count as unanswered.
pub async fn stats(
    state: &AppState,
    viewer: &Viewer,
    input: StatsInput,
) -> ApiResult<entity::WatchStats> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let (since, until) = window_of(&input, time::now_millis())?;
    let items = state
        .store
        .watch_items_between(me, since, until, &viewer.hidden())
        .await?;
    let delay = |i: &cascade_store::WatchItem| i.replied_at.map(|r| (r - i.created_at).max(0));
    let overall = ResponseTimes::of(items.len(), items.iter().filter_map(delay).collect());
    let mut by_watch: HashMap<Id, HashSet<Id>> = HashMap::new();
    for (w, status) in state.store.watch_hits_between(me, since, until).await? {
        by_watch.entry(w).or_default().insert(status);
    }
    let watches = state
        .store
        .watches_of(me)
        .await?
        .into_iter()
        .map(|w| {
            let hit = by_watch.remove(&w.id).unwrap_or_default();
            let mine: Vec<_> = items
                .iter()
                .filter(|i| hit.contains(&i.status_id))
                .collect();
            let times =
                ResponseTimes::of(mine.len(), mine.iter().filter_map(|i| delay(i)).collect());
            entity::WatchResponseStats {
                watch_id: w.id.to_string(),
                name: w.name,
                stats: render_times(times),
            }
        })
        .collect();
    Ok(entity::WatchStats {
        since: time::rfc3339(since),
        until: time::rfc3339(until),
        overall: render_times(overall),
        watches,
    })
}

/// A status was created or edited: records a hit for each watch it matches whose owner
/// may see it, and streams the new hits. Run by the status's delivery job, which retries a failure.
pub async fn on_status(state: &AppState, s: &StatusRecord) -> ApiResult<()> {
    record_hits(state, s).await
}

/// A status was edited: it may match watches it did not. Without any watch, no query.
pub async fn on_edit(state: &AppState, s: &StatusRecord) -> ApiResult<()> {
    if state.watches.read().is_empty() {
        return Ok(());
    }
    record_hits(state, s).await
}

async fn record_hits(state: &AppState, s: &StatusRecord) -> ApiResult<()> {
    if s.reblog_of_id.is_some() {
        return Ok(());
    }
    let text = format!("{}\n{}", s.spoiler_text, s.text);
    let tags = text::hashtags(&s.text);
    let (by_terms, wants_mentions) = {
        let index = state.watches.read();
        if index.is_empty() {
            return Ok(());
        }
        (index.matches(&text, &tags, &[]), index.wants_mentions())
    };
    if by_terms.is_empty() && !wants_mentions {
        return Ok(());
    }
    let mentions: Vec<Id> = state
        .store
        .mentions_of(&[s.id])
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    let matched = state.watches.read().matches(&text, &tags, &mentions);
    let mut hits = Vec::new();
    for (w, owner) in matched {
        if owner == s.account_id {
            continue;
        }
        let viewer = Viewer::load(state, Some(owner)).await?;
        if viewer.can_see(s, &mentions) {
            hits.push((w, owner));
        }
    }
    if hits.is_empty() {
        return Ok(());
    }
    let new = state
        .store
        .add_watch_hits(s.id, s.created_at, &hits)
        .await?;
    for (w, owner) in hits.into_iter().filter(|(w, _)| new.contains(w)) {
        stream::watch_hit(state, w, owner, s.id).await?;
    }
    Ok(())
}
