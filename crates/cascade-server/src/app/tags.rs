//! Hashtags: looking one up with its week of use, and following it, which brings its
//! public posts into the follower's home timeline.

use cascade_core::{text, time, Id};
use cascade_store::TagRecord;

use crate::app::entity;
use crate::app::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const DAY: i64 = 86_400_000;

/// A tag name from a path, or 404 when it cannot be one.
fn name(raw: &str) -> ApiResult<String> {
    text::tag_name(raw).ok_or(ApiError::NotFound)
}

/// Renders a tag for the viewer: the last seven days of use, today first, and whether the
/// viewer follows it.
pub async fn render(
    state: &AppState,
    viewer: &Viewer,
    tag: &TagRecord,
) -> ApiResult<entity::Hashtag> {
    let today = time::now_millis() / DAY;
    let days = state.store.tag_days(tag.id, (today - 6) * DAY).await?;
    let history = (0..7)
        .map(|back| {
            let day = today - back;
            let found = days.iter().find(|d| d.day == day);
            entity::TagHistory {
                day: (day * 86_400).to_string(),
                uses: found.map_or(0, |d| d.uses).to_string(),
                accounts: found.map_or(0, |d| d.accounts).to_string(),
            }
        })
        .collect();
    let following = match viewer.id {
        Some(me) => Some(state.store.follows_tag(me, tag.id).await?),
        None => None,
    };
    let featuring = match viewer.id {
        Some(me) => Some(!state.store.featured_among(me, &[tag.id]).await?.is_empty()),
        None => None,
    };
    Ok(entity::Hashtag {
        id: tag.id.to_string(),
        name: tag.name.clone(),
        url: state.url(&format!("/tags/{}", tag.name)),
        history,
        following,
        featuring,
    })
}

/// `GET /api/v1/tags/:name`: a tag nobody used yet is 404, as in Mastodon.
pub async fn show(state: &AppState, viewer: &Viewer, raw: &str) -> ApiResult<entity::Hashtag> {
    let tag = state
        .store
        .tag(&name(raw)?)
        .await?
        .ok_or(ApiError::NotFound)?;
    render(state, viewer, &tag).await
}

/// Follows (or unfollows) a tag, creating it if needed, and drops the viewer's cached home
/// timeline and snapshot, which depend on the tags it follows.
pub async fn set_following(
    state: &AppState,
    viewer: &Viewer,
    raw: &str,
    follow: bool,
) -> ApiResult<entity::Hashtag> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let now = time::now_millis();
    let tag = state
        .store
        .ensure_tag(state.ids.next(), &name(raw)?, now)
        .await?;
    if follow {
        state
            .store
            .follow_tag(state.ids.next(), me, tag.id, now)
            .await?;
    } else {
        state.store.unfollow_tag(me, tag.id).await?;
    }
    state.graph_changed(&[me], true);
    render(state, viewer, &tag).await
}

/// A page of the tags the viewer follows, and their paging keys (the follows' ids).
pub async fn followed(
    state: &AppState,
    viewer: &Viewer,
    below: Option<Id>,
    above: Option<Id>,
    limit: usize,
) -> ApiResult<(Vec<entity::Hashtag>, Vec<Id>)> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let rows = state.store.followed_tags(me, below, above, limit).await?;
    let mut tags = Vec::with_capacity(rows.len());
    for (_, id, name) in &rows {
        tags.push(
            render(
                state,
                viewer,
                &TagRecord {
                    id: *id,
                    name: name.clone(),
                },
            )
            .await?,
        );
    }
    Ok((tags, rows.iter().map(|r| r.0).collect()))
}
