//! `/api/v1/announcements`: the administrators' announcements, dismissals and reactions.

use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Auth;
use super::model;
use super::params::{flex, Params};
use super::path_id;
use crate::app::announcements as uc;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/announcements", get(list))
        .route("/api/v1/announcements/{id}/dismiss", post(dismiss))
        .route(
            "/api/v1/announcements/{id}/reactions/{name}",
            put(react).delete(unreact),
        )
}

#[derive(Debug, Deserialize)]
struct ListParams {
    #[serde(default, deserialize_with = "flex::bool")]
    with_dismissed: bool,
}

async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<ListParams>,
) -> ApiResult<Json<Vec<model::Announcement>>> {
    let me = auth.user("read:accounts")?;
    Ok(Json(uc::list(&state, me, p.with_dismissed).await?))
}

async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:accounts")?;
    uc::dismiss(&state, me, path_id(&id)?).await?;
    Ok(Json(json!({})))
}

async fn react(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:favourites")?;
    uc::react(&state, me, path_id(&id)?, &name).await?;
    Ok(Json(json!({})))
}

async fn unreact(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:favourites")?;
    uc::unreact(&state, me, path_id(&id)?, &name).await?;
    Ok(Json(json!({})))
}
