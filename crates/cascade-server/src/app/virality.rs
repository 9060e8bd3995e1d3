//! Reshare attribution: the status through which a resharer saw what it reshares. The
//! server uses what it knows, strongest first: the wrapper the client acted on, the entry
//! in the resharer's home timeline that delivered the post, and otherwise the latest
//! earlier reshare by an account the resharer follows (Goel, Anderson, Hofman and Watts,
//! 2016), falling back to the reshared status itself.

use cascade_core::Id;
use cascade_store::{CascadeLink, StatusRecord};

use crate::app::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The cascade link of a new reshare (reblog or quote) of `original` with id `new_id`.
/// `acted_on` is the reblog wrapper the client named, if it named one.
pub async fn attribute(
    state: &AppState,
    viewer: &Viewer,
    original: &StatusRecord,
    acted_on: Option<Id>,
    new_id: Id,
) -> ApiResult<CascadeLink> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let root_id = state.store.cascade_root_of(original.id).await?;
    let parent_id = match acted_on {
        Some(wrapper) => wrapper,
        None => match delivered_by(state, me, original.id).await? {
            Some(entry) => entry,
            None => {
                let followed: Vec<Id> = viewer.following.keys().copied().collect();
                state
                    .store
                    .latest_reshare_by(original.id, &followed, new_id)
                    .await?
                    .unwrap_or(original.id)
            }
        },
    };
    let followers = state.store.account(me).await?.followers_count;
    Ok(CascadeLink {
        root_id,
        parent_id,
        followers,
    })
}

/// The reshare of `original` in the reader's cached home timeline, if one delivered it.
async fn delivered_by(state: &AppState, me: Id, original: Id) -> ApiResult<Option<Id>> {
    let Some(entries) = state.feeds.read(me) else {
        return Ok(None);
    };
    Ok(state.store.delivering_entry(&entries, original).await?)
}
