//! Lists: a person's named sets of followed accounts, each a timeline. The API and the
//! web app both make, change and fill them through these.

use cascade_core::{time, Id};
use cascade_store::ListRecord;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What a new list or a change to one says; `None` keeps what is there.
#[derive(Debug, Default, Clone)]
pub struct ListChange {
    pub title: Option<String>,
    pub replies_policy: Option<String>,
    pub exclusive: Option<bool>,
}

fn check_policy(p: &str) -> ApiResult<()> {
    match p {
        "followed" | "list" | "none" => Ok(()),
        _ => Err(ApiError::unprocessable(
            "Replies policy is not included in the list",
        )),
    }
}

fn check_title(title: &str) -> ApiResult<()> {
    let max = cascade_core::limits::MAX_LIST_TITLE_CHARS;
    if title.trim().is_empty() {
        return Err(ApiError::unprocessable("Title can't be blank"));
    }
    if title.chars().count() > max {
        return Err(ApiError::unprocessable(format!(
            "Title is too long (maximum is {max} characters)"
        )));
    }
    Ok(())
}

/// One of `me`'s lists; 404 for anyone else's.
pub async fn own(state: &AppState, me: Id, id: Id) -> ApiResult<ListRecord> {
    let list = state.store.list(id).await?;
    if list.account_id != me {
        return Err(ApiError::NotFound);
    }
    Ok(list)
}

/// Makes a list (422 without a title, with a bad replies policy, or past the quota).
pub async fn create(state: &AppState, me: Id, change: ListChange) -> ApiResult<ListRecord> {
    let title = change.title.unwrap_or_default();
    check_title(&title)?;
    let replies_policy = change.replies_policy.unwrap_or_else(|| "list".into());
    check_policy(&replies_policy)?;
    let list = ListRecord {
        id: state.ids.next(),
        account_id: me,
        title,
        replies_policy,
        exclusive: change.exclusive.unwrap_or(false),
    };
    let max = cascade_core::quota::MAX_LISTS;
    if !state
        .store
        .create_list(&list, time::now_millis(), max)
        .await?
    {
        return Err(ApiError::unprocessable(format!(
            "You cannot have more than {max} lists"
        )));
    }
    Ok(list)
}

/// Renames a list or changes its policies.
pub async fn update(state: &AppState, me: Id, id: Id, change: ListChange) -> ApiResult<ListRecord> {
    let mut list = own(state, me, id).await?;
    if let Some(title) = change.title {
        check_title(&title)?;
        list.title = title;
    }
    if let Some(p) = change.replies_policy {
        check_policy(&p)?;
        list.replies_policy = p;
    }
    if let Some(e) = change.exclusive {
        list.exclusive = e;
    }
    state.store.update_list(&list).await?;
    state.graph_changed(&[me], false);
    Ok(list)
}

pub async fn delete(state: &AppState, me: Id, id: Id) -> ApiResult<()> {
    let list = own(state, me, id).await?;
    state.store.delete_list(list.id).await?;
    state.graph_changed(&[me], false);
    Ok(())
}

/// Adds accounts `me` follows to a list: all or none (422 for one not followed).
pub async fn add_members(state: &AppState, me: Id, id: Id, accounts: &[Id]) -> ApiResult<()> {
    let list = own(state, me, id).await?;
    for account in accounts {
        state.store.account(*account).await?;
        if !state.store.is_following(me, *account).await? {
            return Err(ApiError::unprocessable(
                "You can only add accounts you follow to a list",
            ));
        }
    }
    for account in accounts {
        state.store.add_list_member(list.id, *account).await?;
    }
    state.graph_changed(&[me], false);
    Ok(())
}

pub async fn remove_members(state: &AppState, me: Id, id: Id, accounts: &[Id]) -> ApiResult<()> {
    let list = own(state, me, id).await?;
    for account in accounts {
        state.store.remove_list_member(list.id, *account).await?;
    }
    state.graph_changed(&[me], false);
    Ok(())
}

/// A page of a list's members, downwards by account id.
pub async fn members(
    state: &AppState,
    me: Id,
    id: Id,
    max_id: Option<Id>,
    limit: usize,
) -> ApiResult<Vec<Id>> {
    let list = own(state, me, id).await?;
    Ok(state.store.list_members(list.id, max_id, limit).await?)
}
