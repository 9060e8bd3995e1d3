//! What an account keeps about others and shows on its profile: private notes (shown only
//! to their author, in relationships), endorsed accounts, featured hashtags; muted threads
//! (`Status.muted`, and no notifications from the thread); the profile directory.
//!
//! Blocks hold throughout: an account's endorsements and featured tags are not shown to an
//! account it blocks or is blocked by, endorsed accounts the viewer blocks or is blocked by
//! are left out, and a block ends endorsements both ways (as unfollowing ends one).

use cascade_core::{limits, text, time, Id};
use cascade_store::{DirectoryOrder, Edge};

use crate::app::{accounts, entity, render, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Statuses of one's own whose hashtags are suggested for featuring.
const SUGGESTION_STATUSES: usize = 200;
/// Hashtags suggested for featuring.
const SUGGESTIONS: usize = 10;

/// Sets `me`'s private note on `target` (empty: none) and answers the relationship.
pub async fn set_note(
    state: &AppState,
    me: Id,
    target: Id,
    comment: &str,
) -> ApiResult<entity::Relationship> {
    if comment.chars().count() > limits::MAX_ACCOUNT_NOTE_CHARS {
        return Err(ApiError::unprocessable(format!(
            "Comment is too long (maximum is {} characters)",
            limits::MAX_ACCOUNT_NOTE_CHARS
        )));
    }
    state.store.account(target).await?;
    state
        .store
        .set_account_note(me, target, comment, time::now_millis())
        .await?;
    accounts::relationship(state, me, target).await
}

/// Endorses an account `me` follows on `me`'s profile; answers the relationship.
pub async fn endorse(state: &AppState, me: Id, target: Id) -> ApiResult<entity::Relationship> {
    state.store.account(target).await?;
    if me == target {
        return Err(ApiError::unprocessable("You cannot endorse yourself"));
    }
    if !state.store.is_following(me, target).await? {
        return Err(ApiError::unprocessable(
            "You must be following this account to endorse it",
        ));
    }
    if state.store.endorsed_among(me, &[target]).await?.is_empty() {
        let count = state.store.count_endorsements(me).await?;
        if count >= limits::MAX_ENDORSEMENTS as i64 {
            return Err(ApiError::unprocessable(format!(
                "You cannot endorse more than {} accounts",
                limits::MAX_ENDORSEMENTS
            )));
        }
        state
            .store
            .endorse(state.ids.next(), me, target, time::now_millis())
            .await?;
    }
    accounts::relationship(state, me, target).await
}

pub async fn unendorse(state: &AppState, me: Id, target: Id) -> ApiResult<entity::Relationship> {
    state.store.account(target).await?;
    state.store.unendorse(me, target, false).await?;
    accounts::relationship(state, me, target).await
}

/// A page of the accounts `account` endorses as `viewer` may see them: nothing when either
/// blocks the other, and without the accounts the viewer blocks or is blocked by. Returns
/// the accounts and the paging keys of the page read.
pub async fn endorsements(
    state: &AppState,
    viewer: &Viewer,
    account: Id,
    max_id: Option<Id>,
    min_id: Option<Id>,
    limit: usize,
) -> ApiResult<(Vec<entity::Account>, Vec<Id>)> {
    state.store.account(account).await?;
    if viewer.blocked.contains(&account) {
        return Ok((Vec::new(), Vec::new()));
    }
    let edges: Vec<Edge> = state
        .store
        .endorsements(account, max_id, min_id, limit)
        .await?;
    let keys: Vec<Id> = edges.iter().map(|e| e.id).collect();
    let shown: Vec<Id> = edges
        .iter()
        .map(|e| e.account_id)
        .filter(|a| !viewer.blocked.contains(a))
        .collect();
    Ok((render::accounts(state, &shown).await?, keys))
}

fn featured_tag(
    state: &AppState,
    username: &str,
    t: cascade_store::FeaturedTagRecord,
) -> entity::FeaturedTag {
    entity::FeaturedTag {
        id: t.id.to_string(),
        url: state.url(&format!("/@{username}/tagged/{}", t.name)),
        name: t.name,
        statuses_count: t.statuses_count.to_string(),
        last_status_at: t.last_status_at.map(time::date),
    }
}

/// The hashtags `account` features, as `viewer` may see them (none across a block).
pub async fn featured_tags(
    state: &AppState,
    viewer: &Viewer,
    account: Id,
) -> ApiResult<Vec<entity::FeaturedTag>> {
    let owner = state.store.account(account).await?;
    if viewer.blocked.contains(&account) || owner.suspended_at.is_some() {
        return Ok(Vec::new());
    }
    Ok(state
        .store
        .featured_tags(account)
        .await?
        .into_iter()
        .map(|t| featured_tag(state, &owner.username, t))
        .collect())
}

/// Features a hashtag on `me`'s profile (creating the tag if nobody used it yet).
pub async fn feature(state: &AppState, me: Id, raw: &str) -> ApiResult<entity::FeaturedTag> {
    let name = text::tag_name(raw.trim())
        .ok_or_else(|| ApiError::unprocessable("Name is not a valid hashtag"))?;
    let existing = state.store.featured_tags(me).await?;
    if existing.iter().any(|t| t.name == name) {
        return Err(ApiError::unprocessable("Tag has already been taken"));
    }
    if existing.len() >= limits::MAX_FEATURED_TAGS {
        return Err(ApiError::unprocessable(format!(
            "You cannot feature more than {} hashtags",
            limits::MAX_FEATURED_TAGS
        )));
    }
    let now = time::now_millis();
    let tag = state.store.ensure_tag(state.ids.next(), &name, now).await?;
    state
        .store
        .feature_tag(state.ids.next(), me, tag.id, now)
        .await?;
    let owner = state.store.account(me).await?;
    state
        .store
        .featured_tags(me)
        .await?
        .into_iter()
        .find(|t| t.tag_id == tag.id)
        .map(|t| featured_tag(state, &owner.username, t))
        .ok_or(ApiError::NotFound)
}

/// Stops featuring one of `me`'s featured tags; 404 for anyone else's.
pub async fn unfeature(state: &AppState, me: Id, id: Id) -> ApiResult<()> {
    if !state.store.delete_featured_tag(me, id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

/// Sets whether `me` features the tag named `raw` (`/api/v1/tags/:name/feature`).
pub async fn set_featuring(
    state: &AppState,
    viewer: &Viewer,
    raw: &str,
    featuring: bool,
) -> ApiResult<entity::Hashtag> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let name = text::tag_name(raw).ok_or(ApiError::NotFound)?;
    if featuring {
        let featured = state.store.featured_tags(me).await?;
        if !featured.iter().any(|t| t.name == name) {
            feature(state, me, &name).await?;
        }
    } else if let Some(tag) = state.store.tag(&name).await? {
        state.store.unfeature_tag(me, tag.id).await?;
    }
    let tag = state.store.tag(&name).await?.ok_or(ApiError::NotFound)?;
    crate::app::tags::render(state, viewer, &tag).await
}

/// Hashtags `me` used lately and does not feature, most used first.
pub async fn suggestions(
    state: &AppState,
    viewer: &Viewer,
    me: Id,
) -> ApiResult<Vec<entity::Hashtag>> {
    let tags = state
        .store
        .featured_tag_suggestions(me, SUGGESTION_STATUSES, SUGGESTIONS)
        .await?;
    let mut out = Vec::with_capacity(tags.len());
    for (id, name) in tags {
        let tag = cascade_store::TagRecord { id, name };
        out.push(crate::app::tags::render(state, viewer, &tag).await?);
    }
    Ok(out)
}

/// Mutes (or unmutes) the thread of a status the viewer may see, and answers the status.
pub async fn set_thread_muted(
    state: &AppState,
    viewer: &Viewer,
    id: Id,
    muted: bool,
) -> ApiResult<entity::Status> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let status = crate::app::statuses::visible(state, viewer, id).await?;
    // A reblog's thread is its original's.
    let id = status.reblog_of_id.unwrap_or(status.id);
    let root = thread_root(state, id).await?;
    if muted {
        state
            .store
            .mute_thread(me, root, time::now_millis())
            .await?;
    } else {
        state.store.unmute_thread(me, root).await?;
    }
    state.forget(crate::cluster::Forget::Viewers(vec![me]));
    let viewer = Viewer::load(state, Some(me)).await?;
    render::status(state, &viewer, status.id).await
}

/// The first status of the thread `id` belongs to.
pub async fn thread_root(state: &AppState, id: Id) -> ApiResult<Id> {
    Ok(state
        .store
        .thread_roots(&[id])
        .await?
        .into_iter()
        .find(|(start, _)| *start == id)
        .map_or(id, |(_, root)| root))
}

/// Which of `ids` belong to threads the viewer muted; nothing is looked up for a viewer
/// who muted none.
pub async fn in_muted_threads(
    state: &AppState,
    viewer: &Viewer,
    ids: &[Id],
) -> ApiResult<std::collections::HashSet<Id>> {
    if viewer.muted_threads.is_empty() || ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(state
        .store
        .thread_roots(ids)
        .await?
        .into_iter()
        .filter(|(_, root)| viewer.muted_threads.contains(root))
        .map(|(id, _)| id)
        .collect())
}

/// A page of the profile directory for `viewer`.
pub async fn directory(
    state: &AppState,
    viewer: &Viewer,
    order: DirectoryOrder,
    offset: usize,
    limit: usize,
) -> ApiResult<Vec<entity::Account>> {
    if offset > limits::MAX_OFFSET {
        return Err(ApiError::unprocessable(format!(
            "Offset must be at most {}",
            limits::MAX_OFFSET
        )));
    }
    let ids = state
        .store
        .directory(viewer.id, order, offset, limit, time::now_millis())
        .await?;
    render::accounts(state, &ids).await
}
