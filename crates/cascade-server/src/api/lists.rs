//! `/api/v1/lists`: CRUD and members.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use cascade_core::Id;
use cascade_store::ListRecord;
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, Paged};
use super::params::{flex, Params};
use super::path_id;
use crate::app::lists::{self, ListChange};
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

impl From<ListForm> for ListChange {
    fn from(f: ListForm) -> ListChange {
        ListChange {
            title: f.title,
            replies_policy: f.replies_policy,
            exclusive: f.exclusive,
        }
    }
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
    Ok(Json(render(lists::create(&state, me, f.into()).await?)))
}

async fn get_list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::List>> {
    let me = auth.user("read:lists")?;
    Ok(Json(render(lists::own(&state, me, path_id(&id)?).await?)))
}

async fn update_list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(f): Params<ListForm>,
) -> ApiResult<Json<model::List>> {
    let me = auth.user("write:lists")?;
    let list = lists::update(&state, me, path_id(&id)?, f.into()).await?;
    Ok(Json(render(list)))
}

async fn delete_list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:lists")?;
    lists::delete(&state, me, path_id(&id)?).await?;
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
    // Limit 0 means all members, as in Mastodon.
    let limit = match p.limit {
        Some(0) => 10_000,
        other => other.unwrap_or(40).clamp(1, 80),
    };
    let members = lists::members(&state, me, path_id(&id)?, p.max_id, limit).await?;
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
    let ids: Vec<Id> = f
        .account_ids
        .iter()
        .map(|s| s.parse().map_err(|_| ApiError::NotFound))
        .collect::<ApiResult<_>>()?;
    lists::add_members(&state, me, path_id(&id)?, &ids).await?;
    Ok(Json(serde_json::json!({})))
}

async fn remove_list_accounts(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(f): Params<MembersForm>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let me = auth.user("write:lists")?;
    let ids: Vec<Id> = f
        .account_ids
        .iter()
        .filter_map(|raw| raw.parse().ok())
        .collect();
    lists::remove_members(&state, me, path_id(&id)?, &ids).await?;
    Ok((StatusCode::OK, Json(serde_json::json!({}))))
}
