//! Content filters (`/api/v2/filters`): creating, changing and deleting a user's filters,
//! their keywords and statuses, and `FilterBook`, the cache of each account's filters that
//! rendering reads (`app::render` applies them; this module applies nothing).
//!
//! Every change forgets the owner's cached filters right after the commit and tells the
//! owner's `user` streams (`filters_changed`), so the next page and the next event use the
//! new filters. Rendering reads filters from `FilterBook`, never the store per page; a
//! `hide` match is dropped before a page is cut, so paging stays gapless. Entries live
//! `TTL` (30 s), which bounds how long another process's change takes to show here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cascade_core::filter::{self, Filter, FilterAction, FilterMatch, FilteredStatus, Keyword};
use cascade_core::{quota, time, Id};
use cascade_store::{FilterUpdate, Store};

use crate::app::entity;
use crate::app::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// An account's filters and when they were read.
type Entry = (Instant, Arc<Vec<Filter>>);

/// How long cached filters may be used at most: another process sharing the store may
/// have changed them.
const TTL: Duration = Duration::from_secs(30);
/// Accounts kept at most; beyond it the cache starts over.
const MAX_CACHED: usize = 100_000;

/// Each recently seen account's filters, expired ones included (expiry is checked when
/// they are applied, so passing time needs no invalidation). An account without filters
/// caches an empty list, so rendering its pages costs no query. A load that read the store
/// before a `forget` does not store what it read, so a change is never hidden by a stale
/// copy.
#[derive(Default)]
pub struct FilterBook {
    entries: Mutex<HashMap<Id, Entry>>,
    forgets: AtomicU64,
}

impl FilterBook {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account's filters, from the cache when fresh.
    pub async fn of(&self, store: &Store, account: Id) -> ApiResult<Arc<Vec<Filter>>> {
        let before = {
            let entries = self.lock();
            if let Some((at, filters)) = entries.get(&account) {
                if at.elapsed() < TTL {
                    return Ok(filters.clone());
                }
            }
            self.forgets.load(Ordering::SeqCst)
        };
        let loaded = Arc::new(store.filters_of(account).await?);
        let mut entries = self.lock();
        if self.forgets.load(Ordering::SeqCst) == before {
            if entries.len() >= MAX_CACHED {
                entries.clear();
            }
            entries.insert(account, (Instant::now(), loaded.clone()));
        }
        Ok(loaded)
    }

    /// Drops every cached filter list (this node may have missed changes).
    pub fn forget_all(&self) {
        let mut entries = self.lock();
        entries.clear();
        self.forgets.fetch_add(1, Ordering::SeqCst);
    }

    /// Drops an account's cached filters after they changed.
    pub fn forget(&self, account: Id) {
        let mut entries = self.lock();
        entries.remove(&account);
        self.forgets.fetch_add(1, Ordering::SeqCst);
    }
}

/// A filter as `/api/v2/filters` shows it; `rules` adds its keywords and statuses.
pub fn render(f: &Filter, rules: bool) -> entity::Filter {
    entity::Filter {
        id: f.id.to_string(),
        title: f.title.clone(),
        context: f.contexts.iter().map(|c| c.as_str().to_string()).collect(),
        expires_at: f.expires_at.map(time::rfc3339),
        filter_action: f.action.as_str().to_string(),
        keywords: rules.then(|| f.keywords.iter().map(render_keyword).collect()),
        statuses: rules.then(|| f.statuses.iter().map(render_status).collect()),
    }
}

pub fn render_keyword(k: &Keyword) -> entity::FilterKeyword {
    entity::FilterKeyword {
        id: k.id.to_string(),
        keyword: k.keyword.clone(),
        whole_word: k.whole_word,
    }
}

pub fn render_status(s: &FilteredStatus) -> entity::FilterStatus {
    entity::FilterStatus {
        id: s.id.to_string(),
        status_id: s.status_id.to_string(),
    }
}

/// What `Status.filtered` shows of one match.
pub fn result(f: &Filter, m: FilterMatch) -> entity::FilterResult {
    entity::FilterResult {
        filter: render(f, false),
        keyword_matches: (!m.keywords.is_empty()).then_some(m.keywords),
        status_matches: (!m.statuses.is_empty())
            .then(|| m.statuses.iter().map(|id| id.to_string()).collect()),
    }
}

/// One entry of `keywords_attributes`.
#[derive(Debug, Clone, Default)]
pub struct KeywordInput {
    /// An existing keyword of the filter to change or remove.
    pub id: Option<Id>,
    pub keyword: Option<String>,
    pub whole_word: Option<bool>,
    pub destroy: bool,
}

/// The parameters of a filter's creation or update; `None` leaves a field as it is (or at
/// its default on creation).
#[derive(Debug, Clone, Default)]
pub struct FilterInput {
    pub title: Option<String>,
    pub context: Option<Vec<String>>,
    pub filter_action: Option<String>,
    /// `Some(None)`: never expires; `Some(Some(s))`: expires in `s` seconds.
    pub expires_in: Option<Option<i64>>,
    pub keywords: Vec<KeywordInput>,
}

fn invalid(e: filter::FilterError) -> ApiError {
    ApiError::unprocessable(e.to_string())
}

/// The owner's filter, or 404 (another account's filter does not exist for this one).
async fn own(state: &AppState, me: Id, id: Id) -> ApiResult<Filter> {
    let f = state.store.filter(id).await?;
    if f.account_id != me {
        return Err(ApiError::NotFound);
    }
    Ok(f)
}

/// Forgets the owner's cached filters and tells its streams.
fn changed(state: &AppState, me: Id) {
    state.forget(crate::cluster::Forget::Filters(me));
    crate::app::stream::filters_changed(state, me);
}

fn expiry(now: i64, expires_in: Option<i64>) -> ApiResult<Option<i64>> {
    expires_in
        .map(|s| filter::expiry(now, s))
        .transpose()
        .map_err(invalid)
}

fn new_keyword(
    state: &AppState,
    keyword: Option<&str>,
    whole_word: Option<bool>,
) -> ApiResult<Keyword> {
    Ok(Keyword {
        id: state.ids.next(),
        keyword: filter::parse_keyword(keyword.unwrap_or_default()).map_err(invalid)?,
        // Mastodon's default: keywords match whole words unless told otherwise.
        whole_word: whole_word.unwrap_or(true),
    })
}

pub async fn list(state: &AppState, me: Id) -> ApiResult<Vec<entity::Filter>> {
    let filters = state.store.filters_of(me).await?;
    Ok(filters.iter().map(|f| render(f, true)).collect())
}

pub async fn get(state: &AppState, me: Id, id: Id) -> ApiResult<entity::Filter> {
    Ok(render(&own(state, me, id).await?, true))
}

pub async fn create(state: &AppState, me: Id, input: FilterInput) -> ApiResult<entity::Filter> {
    let now = time::now_millis();
    let title = filter::parse_title(input.title.as_deref().unwrap_or_default()).map_err(invalid)?;
    let contexts = filter::parse_contexts(&input.context.unwrap_or_default()).map_err(invalid)?;
    let action = match input.filter_action.as_deref() {
        Some(a) => filter::parse_action(a).map_err(invalid)?,
        None => FilterAction::Warn,
    };
    let expires_at = expiry(now, input.expires_in.flatten())?;
    let mut keywords = Vec::new();
    for k in input.keywords.iter().filter(|k| !k.destroy) {
        // A new filter has no keywords to refer to.
        if k.id.is_some() {
            return Err(ApiError::NotFound);
        }
        keywords.push(new_keyword(state, k.keyword.as_deref(), k.whole_word)?);
    }
    too_many_keywords(keywords.len())?;
    let f = Filter {
        id: state.ids.next(),
        account_id: me,
        title,
        contexts,
        action,
        expires_at,
        keywords,
        statuses: Vec::new(),
    };
    if !state
        .store
        .create_filter(&f, now, quota::MAX_FILTERS)
        .await?
    {
        return Err(ApiError::unprocessable(format!(
            "You cannot have more than {} filters",
            quota::MAX_FILTERS
        )));
    }
    changed(state, me);
    Ok(render(&f, true))
}

pub async fn update(
    state: &AppState,
    me: Id,
    id: Id,
    input: FilterInput,
) -> ApiResult<entity::Filter> {
    let now = time::now_millis();
    let mut f = own(state, me, id).await?;
    if let Some(title) = &input.title {
        f.title = filter::parse_title(title).map_err(invalid)?;
    }
    if let Some(context) = &input.context {
        f.contexts = filter::parse_contexts(context).map_err(invalid)?;
    }
    if let Some(action) = &input.filter_action {
        f.action = filter::parse_action(action).map_err(invalid)?;
    }
    if let Some(expires_in) = input.expires_in {
        f.expires_at = expiry(now, expires_in)?;
    }
    let mut update = FilterUpdate {
        filter: f.clone(),
        add: Vec::new(),
        change: Vec::new(),
        remove: Vec::new(),
    };
    for k in &input.keywords {
        match k.id {
            Some(kid) => {
                let existing = f
                    .keywords
                    .iter()
                    .find(|e| e.id == kid)
                    .ok_or(ApiError::NotFound)?;
                if k.destroy {
                    update.remove.push(kid);
                } else {
                    update.change.push(Keyword {
                        id: kid,
                        keyword: match &k.keyword {
                            Some(text) => filter::parse_keyword(text).map_err(invalid)?,
                            None => existing.keyword.clone(),
                        },
                        whole_word: k.whole_word.unwrap_or(existing.whole_word),
                    });
                }
            }
            None if k.destroy => {}
            None => update
                .add
                .push(new_keyword(state, k.keyword.as_deref(), k.whole_word)?),
        }
    }
    let removed: std::collections::HashSet<Id> = update.remove.iter().copied().collect();
    too_many_keywords(f.keywords.len().saturating_sub(removed.len()) + update.add.len())?;
    state.store.update_filter(&update).await?;
    changed(state, me);
    get(state, me, id).await
}

/// 422 when a filter would hold more keywords than its quota.
fn too_many_keywords(n: usize) -> ApiResult<()> {
    if n > quota::MAX_FILTER_KEYWORDS {
        return Err(keyword_quota());
    }
    Ok(())
}

fn keyword_quota() -> ApiError {
    ApiError::unprocessable(format!(
        "A filter cannot have more than {} keywords",
        quota::MAX_FILTER_KEYWORDS
    ))
}

pub async fn delete(state: &AppState, me: Id, id: Id) -> ApiResult<()> {
    own(state, me, id).await?;
    state.store.delete_filter(id).await?;
    changed(state, me);
    Ok(())
}

pub async fn keywords(
    state: &AppState,
    me: Id,
    filter: Id,
) -> ApiResult<Vec<entity::FilterKeyword>> {
    Ok(own(state, me, filter)
        .await?
        .keywords
        .iter()
        .map(render_keyword)
        .collect())
}

pub async fn add_keyword(
    state: &AppState,
    me: Id,
    filter: Id,
    keyword: Option<&str>,
    whole_word: Option<bool>,
) -> ApiResult<entity::FilterKeyword> {
    own(state, me, filter).await?;
    let k = new_keyword(state, keyword, whole_word)?;
    if !state
        .store
        .add_filter_keyword(filter, &k, quota::MAX_FILTER_KEYWORDS)
        .await?
    {
        return Err(keyword_quota());
    }
    changed(state, me);
    Ok(render_keyword(&k))
}

async fn own_keyword(state: &AppState, me: Id, id: Id) -> ApiResult<Keyword> {
    let record = state.store.filter_keyword(id).await?;
    if record.account_id != me {
        return Err(ApiError::NotFound);
    }
    Ok(record.keyword)
}

pub async fn keyword(state: &AppState, me: Id, id: Id) -> ApiResult<entity::FilterKeyword> {
    Ok(render_keyword(&own_keyword(state, me, id).await?))
}

pub async fn update_keyword(
    state: &AppState,
    me: Id,
    id: Id,
    keyword: Option<&str>,
    whole_word: Option<bool>,
) -> ApiResult<entity::FilterKeyword> {
    let mut k = own_keyword(state, me, id).await?;
    if let Some(text) = keyword {
        k.keyword = filter::parse_keyword(text).map_err(invalid)?;
    }
    if let Some(whole_word) = whole_word {
        k.whole_word = whole_word;
    }
    state.store.update_filter_keyword(&k).await?;
    changed(state, me);
    Ok(render_keyword(&k))
}

pub async fn delete_keyword(state: &AppState, me: Id, id: Id) -> ApiResult<()> {
    own_keyword(state, me, id).await?;
    state.store.delete_filter_keyword(id).await?;
    changed(state, me);
    Ok(())
}

pub async fn statuses(
    state: &AppState,
    me: Id,
    filter: Id,
) -> ApiResult<Vec<entity::FilterStatus>> {
    Ok(own(state, me, filter)
        .await?
        .statuses
        .iter()
        .map(render_status)
        .collect())
}

/// Filters a status by id. A status the viewer cannot see does not exist for it.
pub async fn add_status(
    state: &AppState,
    viewer: &Viewer,
    filter: Id,
    status: Option<Id>,
) -> ApiResult<entity::FilterStatus> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    own(state, me, filter).await?;
    let missing = || ApiError::unprocessable("Status must exist");
    let status = status.ok_or_else(missing)?;
    let record = match state.store.status(status).await {
        Ok(s) => s,
        Err(cascade_store::StoreError::NotFound) => return Err(missing()),
        Err(e) => return Err(e.into()),
    };
    let mentions: Vec<Id> = state
        .store
        .mentions_of(&[status])
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    if !viewer.can_see(&record, &mentions) {
        return Err(missing());
    }
    let rule = FilteredStatus {
        id: state.ids.next(),
        status_id: status,
    };
    state.store.add_filter_status(filter, &rule).await?;
    changed(state, me);
    Ok(render_status(&rule))
}

async fn own_status_rule(state: &AppState, me: Id, id: Id) -> ApiResult<FilteredStatus> {
    let record = state.store.filter_status(id).await?;
    if record.account_id != me {
        return Err(ApiError::NotFound);
    }
    Ok(record.status)
}

pub async fn status_rule(state: &AppState, me: Id, id: Id) -> ApiResult<entity::FilterStatus> {
    Ok(render_status(&own_status_rule(state, me, id).await?))
}

pub async fn delete_status_rule(state: &AppState, me: Id, id: Id) -> ApiResult<()> {
    own_status_rule(state, me, id).await?;
    state.store.delete_filter_status(id).await?;
    changed(state, me);
    Ok(())
}
