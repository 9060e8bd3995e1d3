//! Search: accounts and hashtags by name from the store, statuses by their words from the
//! full-text index (`crate::search`), which this module keeps up to date as statuses are
//! created, edited and deleted, and fills from the store at start.
//!
//! Indexing never fails a request: the status is already stored when it is indexed, so a
//! failure is logged and the index's stored mark stays below it, for the next start to
//! catch up. Every status found is rendered through `app::render`, whose one visibility
//! rule decides again what the viewer sees: the index only narrows the candidates.
//!
//! Statuses are indexed by their jobs (`app::delivery`), so each process's index holds
//! what its own worker performed; another process's posts show here after this process's
//! next start (`catch_up`). A process that cannot open the folder (another process holds
//! it) keeps its index in memory, filled from the store when it starts serving.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cascade_core::{text, Id};
use cascade_store::{SearchableStatus, StatusRecord};

use crate::app::entity;
use crate::app::{render, statuses, tags, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::search::{Audience, IndexedStatus, SearchIndex, StatusQuery};
use crate::state::AppState;

/// What to search for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Accounts,
    Hashtags,
    Statuses,
}

/// A search as the client asked for it.
#[derive(Debug, Clone, Default)]
pub struct SearchInput {
    pub q: Option<String>,
    pub kind: Option<String>,
    pub resolve: bool,
    pub following: bool,
    pub account_id: Option<Id>,
    pub exclude_unreviewed: bool,
    pub max_id: Option<Id>,
    pub min_id: Option<Id>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// Results per kind by default and at most, as in Mastodon.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 40;
/// Statuses read from the store per batch when filling the index.
const BATCH: usize = 1_000;
/// How far before the stored mark a catch-up starts again: statuses whose ids were taken
/// just before the mark may have been committed to the store just after it.
const MARGIN_MS: i64 = 60_000;
/// How long the committer waits after a write, so a burst makes one commit.
const COMMIT_DELAY: Duration = Duration::from_millis(500);

fn kind(raw: Option<&str>) -> ApiResult<Option<Kind>> {
    match raw {
        None | Some("") => Ok(None),
        Some("accounts") => Ok(Some(Kind::Accounts)),
        Some("hashtags") => Ok(Some(Kind::Hashtags)),
        Some("statuses") => Ok(Some(Kind::Statuses)),
        Some(_) => Err(ApiError::unprocessable(
            "Type is not one of accounts, hashtags or statuses",
        )),
    }
}

fn query(raw: Option<&str>) -> ApiResult<String> {
    match raw.map(str::trim) {
        Some(q) if !q.is_empty() => Ok(q.to_string()),
        _ => Err(ApiError::BadRequest("Missing parameter: q".into())),
    }
}

/// `GET /api/v2/search`. Anonymous callers may neither page nor resolve, and find no
/// statuses, as in Mastodon.
pub async fn search(
    state: &AppState,
    viewer: &Viewer,
    input: SearchInput,
) -> ApiResult<entity::Search> {
    let q = query(input.q.as_deref())?;
    let only = kind(input.kind.as_deref())?;
    if viewer.id.is_none() {
        if input.offset.is_some() {
            return Err(ApiError::AuthRequired(
                "Search queries pagination is not supported without authentication".into(),
            ));
        }
        if input.resolve {
            return Err(ApiError::AuthRequired(
                "Search queries that resolve remote resources are not supported without authentication".into(),
            ));
        }
    }
    let limit = input.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let offset = input.offset.unwrap_or(0);
    let wants = |k: Kind| only.is_none_or(|o| o == k);
    let is_url = q.starts_with("https://") || q.starts_with("http://");
    let mut out = entity::Search {
        accounts: Vec::new(),
        statuses: Vec::new(),
        hashtags: Vec::new(),
    };
    // A URL is looked up, not searched, when the client asks to resolve it.
    if is_url && input.resolve {
        if offset == 0 {
            let (accounts, statuses) = resolve_url(state, viewer, &q).await?;
            if wants(Kind::Accounts) {
                out.accounts = accounts;
            }
            if wants(Kind::Statuses) {
                out.statuses = statuses;
            }
        }
        return Ok(out);
    }
    // Mastodon reads a lone `user@domain` as an account, not as words.
    let handle_only = q.contains('@') && !q.contains(char::is_whitespace);
    if wants(Kind::Accounts) {
        out.accounts = find_accounts(state, viewer, &q, input.following, limit, offset).await?;
        // A remote account's address is looked up (and, asked to resolve, fetched).
        if handle_only && offset == 0 && q.trim_start_matches('@').contains('@') {
            if let Some(a) = crate::app::federation::lookup(state, &q, input.resolve).await? {
                let id = a.id.to_string();
                if !out.accounts.iter().any(|x| x.id == id) {
                    out.accounts
                        .insert(0, crate::app::render::account(state, &a));
                }
            }
        }
    }
    if wants(Kind::Hashtags) {
        out.hashtags = find_tags(state, viewer, &q, limit, offset).await?;
    }
    if wants(Kind::Statuses) && viewer.id.is_some() && !handle_only {
        let find = StatusQuery {
            words: q,
            audience: audience(viewer),
            author: input.account_id,
            max_id: input.max_id,
            min_id: input.min_id,
            offset,
            limit,
        };
        out.statuses = find_statuses(state, viewer, find).await?;
    }
    Ok(out)
}

/// `GET /api/v1/accounts/search`.
pub async fn accounts(
    state: &AppState,
    viewer: &Viewer,
    q: Option<&str>,
    following: bool,
    limit: Option<usize>,
    offset: Option<usize>,
) -> ApiResult<Vec<entity::Account>> {
    let q = query(q)?;
    let limit = limit.unwrap_or(40).clamp(1, 80);
    find_accounts(state, viewer, &q, following, limit, offset.unwrap_or(0)).await
}

/// Whom the index may return statuses to: see `search::Audience`.
fn audience(viewer: &Viewer) -> Audience {
    Audience {
        me: viewer.id,
        following: viewer.following.keys().copied().collect(),
        hidden: viewer
            .blocked
            .iter()
            .chain(&viewer.muted)
            .copied()
            .collect(),
    }
}

/// Accounts by username or display name. A handle of this instance (`user@domain`) is
/// searched by its username; one of another instance finds nothing, as Cascade does not
/// federate. Accounts blocked either way are left out.
async fn find_accounts(
    state: &AppState,
    viewer: &Viewer,
    q: &str,
    following: bool,
    limit: usize,
    offset: usize,
) -> ApiResult<Vec<entity::Account>> {
    let q = q.trim_start_matches('@');
    let name = match q.split_once('@') {
        Some((user, domain)) if domain.eq_ignore_ascii_case(&state.config.domain) => user,
        Some(_) => return Ok(Vec::new()),
        None => q,
    };
    if name.is_empty() {
        return Ok(Vec::new());
    }
    let followed_by = match (following, viewer.id) {
        (true, Some(me)) => Some(me),
        // Mastodon ignores `following` for anonymous callers.
        _ => None,
    };
    let ids: Vec<Id> = state
        .store
        .search_accounts(name, followed_by, limit, offset)
        .await?
        .into_iter()
        .filter(|a| !viewer.blocked.contains(a))
        .collect();
    render::accounts(state, &ids).await
}

/// Tags the store knows whose name starts with the query (`#` optional), each with its
/// week of use as `/api/v1/tags/:name` shows it. Cascade does not review tags, so
/// `exclude_unreviewed` excludes none.
async fn find_tags(
    state: &AppState,
    viewer: &Viewer,
    q: &str,
    limit: usize,
    offset: usize,
) -> ApiResult<Vec<entity::Hashtag>> {
    let Some(prefix) = text::tag_name(q) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for tag in state
        .store
        .search_tags(&prefix, viewer.id, limit, offset)
        .await?
    {
        out.push(tags::render(state, viewer, &tag).await?);
    }
    Ok(out)
}

/// Statuses from the index, rendered for the viewer. A status the index still has but
/// the store no longer does (deleted while indexing failed) is dropped from the index.
async fn find_statuses(
    state: &AppState,
    viewer: &Viewer,
    find: StatusQuery,
) -> ApiResult<Vec<entity::Status>> {
    let index = state.search.clone();
    let ids = blocking(move || index.search(&find)).await?;
    let found = state
        .records
        .statuses(&state.store, &ids, 1, Instant::now())
        .await?;
    let gone: Vec<Id> = ids
        .iter()
        .copied()
        .filter(|id| !found.contains_key(id))
        .collect();
    if !gone.is_empty() {
        state.search.remove(&gone);
        state.search_due.notify_one();
    }
    let shown = render::statuses(state, viewer, &ids).await?;
    Ok(shown
        .into_iter()
        .filter(|s| s.account.id.parse::<Id>().is_ok_and(|a| !viewer.hides(a)))
        .collect())
}

/// A URL of this instance: a status (`/@user/ID`, `/users/user/statuses/ID`) the viewer
/// may see, or an account (`/@user`, `/users/user`); or another server's (`remote_url`).
async fn resolve_url(
    state: &AppState,
    viewer: &Viewer,
    url: &str,
) -> ApiResult<(Vec<entity::Account>, Vec<entity::Status>)> {
    let Some(path) = url
        .strip_prefix(&state.config.base_url)
        .filter(|p| p.starts_with('/'))
    else {
        return remote_url(state, viewer, url).await;
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (user, status) = match parts.as_slice() {
        [at_user] if at_user.starts_with('@') => (&at_user[1..], None),
        ["users", user] => (*user, None),
        [at_user, id] if at_user.starts_with('@') => (&at_user[1..], Some(*id)),
        ["users", user, "statuses", id] => (*user, Some(*id)),
        _ => return Ok((Vec::new(), Vec::new())),
    };
    let Ok(account) = state.store.account_by_username(user).await else {
        return Ok((Vec::new(), Vec::new()));
    };
    match status.map(str::parse::<Id>) {
        None if !viewer.blocked.contains(&account.id) => {
            Ok((vec![render::account(state, &account)], Vec::new()))
        }
        Some(Ok(id)) => match statuses::visible(state, viewer, id).await {
            Ok(s) if s.account_id == account.id && !viewer.blocked.contains(&s.account_id) => {
                Ok((Vec::new(), render::statuses(state, viewer, &[id]).await?))
            }
            Ok(_) | Err(ApiError::NotFound) => Ok((Vec::new(), Vec::new())),
            Err(e) => Err(e),
        },
        _ => Ok((Vec::new(), Vec::new())),
    }
}

/// Another server's actor or note, by its ActivityPub id: found when known, else fetched
/// and stored (`federation::objects`). A URL that cannot be fetched or names neither finds
/// nothing, as in Mastodon: the peer's failure is not the client's error.
async fn remote_url(
    state: &AppState,
    viewer: &Viewer,
    url: &str,
) -> ApiResult<(Vec<entity::Account>, Vec<entity::Status>)> {
    use crate::app::federation::objects::{resolve_url, Resolved};
    let none = || Ok((Vec::new(), Vec::new()));
    match resolve_url(state, url).await {
        Ok(Some(Resolved::Account(a))) if !viewer.blocked.contains(&a.id) => {
            Ok((vec![render::account(state, &a)], Vec::new()))
        }
        Ok(Some(Resolved::Status(s))) => match statuses::visible(state, viewer, s.id).await {
            Ok(s) if !viewer.blocked.contains(&s.account_id) => {
                Ok((Vec::new(), render::statuses(state, viewer, &[s.id]).await?))
            }
            Ok(_) | Err(ApiError::NotFound) => none(),
            Err(e) => Err(e),
        },
        Ok(_) => none(),
        Err(e @ ApiError::Internal(_)) => Err(e),
        Err(e) => {
            tracing::info!(%url, error = %e, "a URL could not be resolved");
            none()
        }
    }
}

/// Runs index work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> tantivy::Result<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| ApiError::Internal(e.into()))
}

/// What the index holds of a status: its text and content warning, and who may find it.
/// Reblogs have no text of their own and are not indexed.
fn indexed(s: &StatusRecord, mentions: &[Id]) -> Option<IndexedStatus> {
    if s.reblog_of_id.is_some() {
        return None;
    }
    Some(IndexedStatus {
        id: s.id,
        account_id: s.account_id,
        visibility: s.visibility,
        mentions: mentions.to_vec(),
        text: format!("{}\n{}", s.spoiler_text, s.text),
        edited_at: s.edited_at,
    })
}

/// Indexes a status just created or edited (after its commit); logs a failure.
pub fn status_written(state: &AppState, s: &StatusRecord, mentions: &[Id]) {
    let Some(doc) = indexed(s, mentions) else {
        return;
    };
    if let Err(e) = state.search.put(&[doc]) {
        tracing::warn!(error = %e, status = s.id, "indexing a status failed; the next start catches up");
        state.search.missed(s.id, s.edited_at);
    }
    state.search_due.notify_one();
}

/// Indexes a status another node created or edited: that node indexed it in its own
/// index, this node does the same in its own, so a post made through any node is found
/// through every node (a node that was down catches up from the store at its start).
pub async fn written_elsewhere(state: &AppState, id: Id) {
    let found = match state.store.status(id).await {
        Ok(s) => state.store.mentions_of(&[id]).await.map(|m| (s, m)),
        Err(e) => Err(e),
    };
    match found {
        Ok((s, mentions)) => {
            let mentions: Vec<Id> = mentions.into_iter().map(|(_, a)| a).collect();
            status_written(state, &s, &mentions);
        }
        Err(cascade_store::StoreError::NotFound) => {}
        Err(e) => {
            tracing::warn!(error = %e, status = id, "another node's status was not indexed here");
        }
    }
}

/// Takes a deleted status out of the index.
pub fn status_deleted(state: &AppState, id: Id) {
    state.search.remove(&[id]);
    state.search_due.notify_one();
}

/// Opens the index in the data folder, or, when that fails (another process holds it, the
/// folder is not writable), one in memory that this process fills at start.
pub fn open_index(data_dir: &std::path::Path) -> Arc<SearchIndex> {
    let dir = data_dir.join("search");
    match SearchIndex::open(&dir) {
        Ok(index) => Arc::new(index),
        Err(e) => {
            tracing::warn!(error = %e, dir = %dir.display(), "the search index cannot be opened on disk; keeping one in memory");
            Arc::new(SearchIndex::in_memory().expect("an index in memory"))
        }
    }
}

/// Brings the index up to date with the store: everything for a new index, otherwise the
/// statuses and edits since its stored mark (less a margin). Returns how many statuses it
/// indexed.
pub async fn catch_up(state: &AppState) -> anyhow::Result<usize> {
    let (after, edits_since) = match state.search.opened_at() {
        None => (Id::MIN, None),
        Some(mark) => (
            mark.status.saturating_sub(MARGIN_MS << 16),
            Some(mark.edit.saturating_sub(MARGIN_MS)),
        ),
    };
    index_since(state, after, edits_since).await
}

/// Indexes what was posted or edited since `since_ms` (less the margin): run when this
/// node may have missed the other nodes' messages, after NATS came back.
pub async fn catch_up_since(state: &AppState, since_ms: i64) -> anyhow::Result<usize> {
    let since = since_ms.saturating_sub(MARGIN_MS);
    index_since(state, since.max(0) << 16, Some(since)).await
}

/// Indexes the statuses with ids above `after`, and those edited since `edits_since`.
async fn index_since(
    state: &AppState,
    mut after: Id,
    edits_since: Option<i64>,
) -> anyhow::Result<usize> {
    let mut count = 0;
    loop {
        let batch = state.store.searchable_after(after, BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.status.id;
        count += put(state, &batch)?;
    }
    if let Some(since) = edits_since {
        let mut from = Id::MIN;
        loop {
            let batch = state
                .store
                .searchable_edited_since(since, from, BATCH)
                .await?;
            let Some(last) = batch.last() else { break };
            from = last.status.id + 1;
            count += put(state, &batch)?;
        }
    }
    let index = state.search.clone();
    tokio::task::spawn_blocking(move || index.commit()).await??;
    Ok(count)
}

fn put(state: &AppState, batch: &[SearchableStatus]) -> anyhow::Result<usize> {
    let docs: Vec<IndexedStatus> = batch
        .iter()
        .filter_map(|s| indexed(&s.status, &s.mentions))
        .collect();
    state.search.put(&docs)?;
    Ok(docs.len())
}

/// Commits the index shortly after writes, so they are durable even when nobody searches
/// (a search commits pending writes itself).
pub async fn run_committer(state: AppState) {
    loop {
        state.search_due.notified().await;
        tokio::time::sleep(COMMIT_DELAY).await;
        let index = state.search.clone();
        match tokio::task::spawn_blocking(move || index.commit()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "committing the search index failed"),
            Err(e) => tracing::warn!(error = %e, "the search index commit did not finish"),
        }
    }
}
