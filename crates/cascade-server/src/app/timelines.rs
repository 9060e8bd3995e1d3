//! Reading timelines. The home timeline is the hybrid one: the cached, pushed entries of
//! ordinary authors merged at read time with the recent posts of followed celebrities, and
//! served from the store when the cache is missing or the page is older than it holds.

use cascade_core::filter::FilterContext;
use cascade_core::timeline::{merge_desc, Page};
use cascade_core::Id;
use cascade_store::{AccountStatusesFilter, StatusRecord};

use crate::app::entity;
use crate::app::feeds::cached_page;
use crate::app::{render, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use cascade_store::range;

/// A rendered page and the paging keys of its entries.
pub type TimelinePage = (Vec<entity::Status>, Vec<Id>);

/// The same page with a larger limit: candidates read from the store are filtered per
/// viewer afterwards, and the margin absorbs what the filters drop without a second round
/// trip in the common case.
fn widened(page: &Page) -> Page {
    Page {
        limit: page.limit * 2 + 10,
        ..*page
    }
}

/// Whether a home timeline shows this entry to this viewer: not from a hidden account, not
/// a reblog from a follow with reblogs off, not a reply to someone the viewer doesn't
/// follow (Mastodon's home rule), not by a member of an exclusive list.
pub(crate) fn home_keeps(viewer: &Viewer, me: Id, s: &StatusRecord) -> bool {
    if s.account_id == me {
        return true;
    }
    if viewer.hides(s.account_id) || viewer.exclusive.contains(&s.account_id) {
        return false;
    }
    if s.reblog_of_id.is_some() && viewer.following.get(&s.account_id) == Some(&false) {
        return false;
    }
    match s.in_reply_to_account_id {
        Some(to) => to == me || to == s.account_id || viewer.follows(to),
        None => true,
    }
}

pub async fn home(state: &AppState, viewer: &Viewer, page: Page) -> ApiResult<TimelinePage> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let keep = |s: &StatusRecord, _: Option<&StatusRecord>| home_keeps(viewer, me, s);
    filtered_page(
        state,
        viewer,
        page,
        FilterContext::Home,
        keep,
        |want| async move { home_candidates(state, me, viewer, &want).await },
    )
    .await
}

/// Rounds of candidates a page reads at most while filters drop all of them.
const MAX_ROUNDS: usize = 4;

/// A timeline page from the candidates `fetch` reads for a (widened) page. When the
/// viewer's filters drop a whole full batch, a page would come back empty and without a
/// `Link`, and clients would stop paging: the next batch, below the last candidate, is
/// read instead, a few rounds at most.
async fn filtered_page<K, F, Fut>(
    state: &AppState,
    viewer: &Viewer,
    page: Page,
    context: FilterContext,
    keep: K,
    mut fetch: F,
) -> ApiResult<TimelinePage>
where
    K: Fn(&StatusRecord, Option<&StatusRecord>) -> bool,
    F: FnMut(Page) -> Fut,
    Fut: std::future::Future<Output = ApiResult<Vec<Id>>>,
{
    let mut want = widened(&page);
    for _ in 0..MAX_ROUNDS {
        let candidates = fetch(want).await?;
        let result = render::page_in(state, viewer, &candidates, &page, context, &keep).await?;
        let more = candidates.len() >= want.limit && !page.oldest_first();
        match candidates.last() {
            Some(&last) if result.1.is_empty() && more => want.max_id = Some(last),
            _ => return Ok(result),
        }
    }
    Ok((Vec::new(), Vec::new()))
}

/// The entries of `me`'s home timeline within `want`, newest first, before the viewer's
/// filters: the cached (pushed) timeline merged with the recent posts of the celebrities
/// followed, from their cached recent posts. Only a page older than a cache holds asks
/// the store, for those celebrities at once.
pub(crate) async fn home_candidates(
    state: &AppState,
    me: Id,
    viewer: &Viewer,
    want: &Page,
) -> ApiResult<Vec<Id>> {
    let store = &state.store;
    let pushed = match cached_page(&state.feeds, me, want, |all| {
        store.home_from_store(me, &[], range(&all))
    })
    .await?
    {
        Some(cached) => cached,
        None => store.home_from_store(me, &[], range(want)).await?,
    };
    let mut lists = vec![pushed];
    let mut older = Vec::new();
    for &author in &viewer.celebrities {
        match cached_page(&state.authored, author, want, |all| async move {
            store.recent_by_authors(&[author], &[], range(&all)).await
        })
        .await?
        {
            Some(posts) => lists.push(posts),
            None => older.push(author),
        }
    }
    if !older.is_empty() {
        lists.push(store.recent_by_authors(&older, &[], range(want)).await?);
    }
    let lists: Vec<&[Id]> = lists.iter().map(Vec::as_slice).collect();
    Ok(want.cut(&merge_desc(&lists, usize::MAX)))
}

pub async fn public(state: &AppState, viewer: &Viewer, page: Page) -> ApiResult<TimelinePage> {
    public_scoped(state, viewer, page, None).await
}

/// The public timeline of local posts (`Some(true)`), remote ones (`Some(false)`) or both.
pub async fn public_scoped(
    state: &AppState,
    viewer: &Viewer,
    page: Page,
    local: Option<bool>,
) -> ApiResult<TimelinePage> {
    let hidden = viewer.hidden();
    let keep = |s: &StatusRecord, _: Option<&StatusRecord>| !viewer.hides(s.account_id);
    filtered_page(state, viewer, page, FilterContext::Public, keep, |want| {
        let hidden = &hidden;
        async move {
            Ok(state
                .store
                .public_timeline_scoped(hidden, range(&want), local)
                .await?)
        }
    })
    .await
}

/// The public timeline (or a tag's, with `tag`) of posts with media (`only_media`): local
/// ones (`Some(true)`), remote ones (`Some(false)`) or both.
pub async fn public_media(
    state: &AppState,
    viewer: &Viewer,
    tag: Option<&str>,
    page: Page,
    local: Option<bool>,
) -> ApiResult<TimelinePage> {
    let hidden = viewer.hidden();
    let keep = |s: &StatusRecord, _: Option<&StatusRecord>| !viewer.hides(s.account_id);
    filtered_page(state, viewer, page, FilterContext::Public, keep, |want| {
        let hidden = &hidden;
        async move {
            Ok(state
                .store
                .public_media_timeline(tag, hidden, range(&want), local)
                .await?)
        }
    })
    .await
}

/// A hashtag's timeline of local posts (`Some(true)`), remote ones (`Some(false)`) or both.
pub async fn tag(
    state: &AppState,
    viewer: &Viewer,
    tag: &str,
    page: Page,
    local: Option<bool>,
) -> ApiResult<TimelinePage> {
    let hidden = viewer.hidden();
    let keep = |s: &StatusRecord, _: Option<&StatusRecord>| !viewer.hides(s.account_id);
    filtered_page(state, viewer, page, FilterContext::Public, keep, |want| {
        let hidden = &hidden;
        async move {
            Ok(state
                .store
                .tag_timeline(tag, hidden, range(&want), local)
                .await?)
        }
    })
    .await
}

pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    list_id: Id,
    page: Page,
) -> ApiResult<TimelinePage> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let list = state.store.list(list_id).await?;
    if list.account_id != me {
        return Err(ApiError::NotFound);
    }
    let hidden = viewer.hidden();
    let keep = |s: &StatusRecord, _: Option<&StatusRecord>| !viewer.hides(s.account_id);
    filtered_page(state, viewer, page, FilterContext::Home, keep, |want| {
        let (hidden, list) = (&hidden, &list);
        async move {
            Ok(state
                .store
                .list_timeline(list.id, me, &list.replies_policy, hidden, range(&want))
                .await?)
        }
    })
    .await
}

pub async fn account(
    state: &AppState,
    viewer: &Viewer,
    account: Id,
    filter: &AccountStatusesFilter,
    page: Page,
) -> ApiResult<TimelinePage> {
    let target = state.store.account(account).await?;
    if viewer.blocked.contains(&target.id) {
        return Ok((Vec::new(), Vec::new()));
    }
    let max_visibility = if viewer.is(account) {
        3
    } else if viewer.follows(account) {
        2
    } else {
        1
    };
    let keep = |_: &StatusRecord, _: Option<&StatusRecord>| true;
    filtered_page(
        state,
        viewer,
        page,
        FilterContext::Account,
        keep,
        |want| async move {
            Ok(state
                .store
                .account_statuses(account, viewer.id, max_visibility, filter, range(&want))
                .await?)
        },
    )
    .await
}
