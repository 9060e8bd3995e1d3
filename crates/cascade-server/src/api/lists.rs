//! `/api/v1/lists`: CRUD and members.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use cascade_core::{time, Id};
use cascade_store::ListRecord;
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, Paged};
use super::params::{flex, Params};
use super::path_id;
use crate::app::render;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/lists", get(lists).post(create_list))
        .route(
            "/api/v1/lists/{id}",
            get(get_list).put(update_list).delete(delete_list),
        )
        .route(
            "/api/v1/lists/{id}/accounts",
            get(list_accounts)
                .post(add_list_accounts)
                .delete(remove_list_accounts),
        )
}

pub fn render(l: ListRecord) -> model::List {
    model::List {
        id: l.id.to_string(),
        title: l.title,
        replies_policy: l.replies_policy,
        exclusive: l.exclusive,
    }
}

#[derive(Debug, Deserialize)]
struct ListForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    title: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    replies_policy: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    exclusive: Option<bool>,
}

fn check_policy(p: &str) -> ApiResult<()> {
    match p {
        "followed" | "list" | "none" => Ok(()),
        _ => Err(ApiError::unprocessable(
            "Replies policy is not included in the list",
        )),
    }
}

async fn own_list(state: &AppState, me: Id, id: &str) -> ApiResult<ListRecord> {
    let list = state.store.list(path_id(id)?).await?;
    if list.account_id != me {
        return Err(ApiError::NotFound);
    }
    Ok(list)
}

async fn lists(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<model::List>>> {
    let me = auth.user("read:lists")?;
    Ok(Json(
        state
            .store
            .lists_of(me)
            .await?
            .into_iter()
            .map(render)
            .collect(),
    ))
}

async fn create_list(
    State(state): State<AppState>,
    auth: Auth,
    Params(f): Params<ListForm>,
) -> ApiResult<Json<model::List>> {
    let me = auth.user("write:lists")?;
    let title = f.title.unwrap_or_default();
    check_title(&title)?;
    let replies_policy = f.replies_policy.unwrap_or_else(|| "list".into());
    check_policy(&replies_policy)?;
    let list = ListRecord {
        id: state.ids.next(),
        account_id: me,
        title,
        replies_policy,
        exclusive: f.exclusive.unwrap_or(false),
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
    Ok(Json(render(list)))
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

async fn get_list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::List>> {
    let me = auth.user("read:lists")?;
    Ok(Json(render(own_list(&state, me, &id).await?)))
}

async fn update_list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(f): Params<ListForm>,
) -> ApiResult<Json<model::List>> {
    let me = auth.user("write:lists")?;
    let mut list = own_list(&state, me, &id).await?;
    if let Some(title) = f.title {
        check_title(&title)?;
        list.title = title;
    }
    if let Some(p) = f.replies_policy {
        check_policy(&p)?;
        list.replies_policy = p;
    }
    if let Some(e) = f.exclusive {
        list.exclusive = e;
    }
    state.store.update_list(&list).await?;
    state.graph_changed(&[me], false);
    Ok(Json(render(list)))
}

async fn delete_list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:lists")?;
    let list = own_list(&state, me, &id).await?;
    state.store.delete_list(list.id).await?;
    state.graph_changed(&[me], false);
    Ok(Json(serde_json::json!({})))
}

#[derive(Debug, Deserialize)]
struct MembersForm {
    #[serde(default, deserialize_with = "flex::strings")]
    account_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct MembersPage {
    #[serde(default, deserialize_with = "flex::opt_id")]
    max_id: Option<Id>,
    #[serde(default, deserialize_with = "flex::opt_usize")]
    limit: Option<usize>,
}

async fn list_accounts(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<MembersPage>,
) -> ApiResult<Paged<Vec<model::Account>>> {
    let me = auth.user("read:lists")?;
    let list = own_list(&state, me, &id).await?;
    // Limit 0 means all members, as in Mastodon.
    let limit = match p.limit {
        Some(0) => 10_000,
        other => other.unwrap_or(40).clamp(1, 80),
    };
    let members = state.store.list_members(list.id, p.max_id, limit).await?;
    // Members page downwards by account id, like every other list of accounts.
    let keys: Vec<Id> = members.clone();
    Ok(Paged::new(
        render::accounts(&state, &members).await?,
        &keys,
        here.0,
    ))
}

async fn add_list_accounts(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(f): Params<MembersForm>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:lists")?;
    let list = own_list(&state, me, &id).await?;
    let ids: Vec<Id> = f
        .account_ids
        .iter()
        .map(|s| s.parse().map_err(|_| ApiError::NotFound))
        .collect::<ApiResult<_>>()?;
    for account in &ids {
        state.store.account(*account).await?;
        if !state.store.is_following(me, *account).await? {
            return Err(ApiError::unprocessable(
                "You can only add accounts you follow to a list",
            ));
        }
    }
    for account in ids {
        state.store.add_list_member(list.id, account).await?;
    }
    state.graph_changed(&[me], false);
    Ok(Json(serde_json::json!({})))
}

async fn remove_list_accounts(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(f): Params<MembersForm>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let me = auth.user("write:lists")?;
    let list = own_list(&state, me, &id).await?;
    for raw in f.account_ids {
        if let Ok(account) = raw.parse::<Id>() {
            state.store.remove_list_member(list.id, account).await?;
        }
    }
    state.graph_changed(&[me], false);
    Ok((StatusCode::OK, Json(serde_json::json!({}))))
}
