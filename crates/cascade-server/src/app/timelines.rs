//! Reading timelines. The home timeline is the hybrid one: the cached, pushed entries of
//! ordinary authors merged at read time with the recent posts of followed celebrities, and
//! served from the store when the cache is missing or the page is older than it holds.

use cascade_core::timeline::{merge_desc, Page};
use cascade_core::Id;
use cascade_store::{AccountStatusesFilter, StatusRecord};

use crate::api::model;
use crate::api::paging::range;
use crate::app::{render, Viewer};
use crate::error::ApiResult;
use crate::state::AppState;

/// A rendered page and the paging keys of its first and last entries.
pub type TimelinePage = (Vec<model::Status>, Vec<Id>);

/// How many more candidates than asked for a page reads, to absorb entries the viewer's
/// filters drop without a second round trip in the common case.
fn overfetch(limit: usize) -> usize {
    limit * 2 + 10
}

/// Keeps the `limit` entries of a filtered candidate list that belong on the page.
fn take_page(mut ids: Vec<Id>, page: &Page) -> Vec<Id> {
    if page.oldest_first() {
        let start = ids.len().saturating_sub(page.limit);
        ids.drain(..start);
        ids
    } else {
        ids.truncate(page.limit);
        ids
    }
}

async fn finish(state: &AppState, viewer: &Viewer, ids: Vec<Id>) -> ApiResult<TimelinePage> {
    let statuses = render::statuses(state, viewer, &ids).await?;
    let keys = statuses.iter().filter_map(|s| s.id.parse().ok()).collect();
    Ok((statuses, keys))
}

/// Whether a home timeline shows this entry to this viewer: not from a hidden account, not
/// a reblog from a follow with reblogs off, not a reply to someone the viewer doesn't
/// follow (Mastodon's home rule).
fn home_keeps(
    viewer: &Viewer,
    me: Id,
    s: &StatusRecord,
    originals: &std::collections::HashMap<Id, Id>,
) -> bool {
    if s.account_id != me && viewer.hides(s.account_id) {
        return false;
    }
    if s.reblog_of_id.is_some()
        && s.account_id != me
        && viewer.following.get(&s.account_id) == Some(&false)
    {
        return false;
    }
    if let Some(original_author) = s.reblog_of_id.and_then(|o| originals.get(&o)) {
        if viewer.hides(*original_author) {
            return false;
        }
    }
    match s.in_reply_to_account_id {
        Some(to) if s.account_id != me => to == me || to == s.account_id || viewer.follows(to),
        _ => true,
    }
}

pub async fn home(state: &AppState, viewer: &Viewer, page: Page) -> ApiResult<TimelinePage> {
    let me = viewer.id.ok_or(crate::error::ApiError::Unauthorized)?;
    let policy = state.config.fanout;
    let want = Page {
        limit: overfetch(page.limit),
        ..page
    };
    let cached = match state.feeds.read(me) {
        Some(ids) => ids,
        None => {
            let rebuilt = state
                .store
                .home_from_store(
                    me,
                    &[],
                    range(&Page {
                        limit: policy.home_capacity,
                        ..Page::default()
                    }),
                )
                .await?;
            state.feeds.install(me, rebuilt)
        }
    };
    // A full cache cannot answer below its oldest entry: older pages come from the store.
    let beyond_cache = cached.len() >= policy.home_capacity
        && page
            .max_id
            .is_some_and(|m| cached.last().is_some_and(|&oldest| m <= oldest));
    let pushed: Vec<Id> = if beyond_cache {
        state.store.home_from_store(me, &[], range(&want)).await?
    } else {
        want.cut(&cached)
    };
    let celebrities = state
        .store
        .followed_celebrities(me, policy.celebrity_threshold)
        .await?;
    let pulled = state
        .store
        .recent_by_authors(&celebrities, &[], range(&want))
        .await?;
    let candidates = want.cut(&merge_desc(&[&pushed, &pulled], usize::MAX));
    let records = render::visible_records(state, viewer, &candidates).await?;
    let originals: std::collections::HashMap<Id, Id> = {
        let ids: Vec<Id> = records.iter().filter_map(|s| s.reblog_of_id).collect();
        state
            .store
            .statuses(&ids)
            .await?
            .into_iter()
            .map(|s| (s.id, s.account_id))
            .collect()
    };
    let kept: std::collections::HashSet<Id> = records
        .iter()
        .filter(|s| home_keeps(viewer, me, s, &originals))
        .map(|s| s.id)
        .collect();
    let ids = take_page(
        candidates
            .into_iter()
            .filter(|id| kept.contains(id))
            .collect(),
        &page,
    );
    finish(state, viewer, ids).await
}

/// Filters candidates for the non-home timelines: visible, not from hidden accounts.
async fn filtered(
    state: &AppState,
    viewer: &Viewer,
    candidates: Vec<Id>,
    page: &Page,
) -> ApiResult<TimelinePage> {
    let records = render::visible_records(state, viewer, &candidates).await?;
    let kept: std::collections::HashSet<Id> = records
        .iter()
        .filter(|s| !viewer.hides(s.account_id))
        .map(|s| s.id)
        .collect();
    let ids = take_page(
        candidates
            .into_iter()
            .filter(|id| kept.contains(id))
            .collect(),
        page,
    );
    finish(state, viewer, ids).await
}

pub async fn public(state: &AppState, viewer: &Viewer, page: Page) -> ApiResult<TimelinePage> {
    let hidden: Vec<Id> = viewer
        .blocked
        .iter()
        .chain(&viewer.muted)
        .copied()
        .collect();
    let want = Page {
        limit: overfetch(page.limit),
        ..page
    };
    let ids = state.store.public_timeline(&hidden, range(&want)).await?;
    filtered(state, viewer, ids, &page).await
}

pub async fn tag(
    state: &AppState,
    viewer: &Viewer,
    tag: &str,
    page: Page,
) -> ApiResult<TimelinePage> {
    let hidden: Vec<Id> = viewer
        .blocked
        .iter()
        .chain(&viewer.muted)
        .copied()
        .collect();
    let want = Page {
        limit: overfetch(page.limit),
        ..page
    };
    let ids = state.store.tag_timeline(tag, &hidden, range(&want)).await?;
    filtered(state, viewer, ids, &page).await
}

pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    list_id: Id,
    page: Page,
) -> ApiResult<TimelinePage> {
    let me = viewer.id.ok_or(crate::error::ApiError::Unauthorized)?;
    let list = state.store.list(list_id).await?;
    if list.account_id != me {
        return Err(crate::error::ApiError::NotFound);
    }
    let hidden: Vec<Id> = viewer
        .blocked
        .iter()
        .chain(&viewer.muted)
        .copied()
        .collect();
    let want = Page {
        limit: overfetch(page.limit),
        ..page
    };
    let ids = state
        .store
        .list_timeline(list.id, me, &list.replies_policy, &hidden, range(&want))
        .await?;
    filtered(state, viewer, ids, &page).await
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
    let want = Page {
        limit: overfetch(page.limit),
        ..page
    };
    let ids = state
        .store
        .account_statuses(account, viewer.id, max_visibility, filter, range(&want))
        .await?;
    let records = render::visible_records(state, viewer, &ids).await?;
    let kept: std::collections::HashSet<Id> = records.iter().map(|s| s.id).collect();
    let ids = take_page(
        ids.into_iter().filter(|id| kept.contains(id)).collect(),
        &page,
    );
    finish(state, viewer, ids).await
}
