//! `/api/v1/tags/:name` (with follow and unfollow) and `/api/v1/followed_tags`.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, PageParams, Paged};
use super::params::Params;
use crate::app::{tags as uc, Viewer};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tags/{name}", get(show))
        .route("/api/v1/tags/{name}/follow", post(follow))
        .route("/api/v1/tags/{name}/unfollow", post(unfollow))
        .route("/api/v1/followed_tags", get(followed))
}

async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<model::Hashtag>> {
    let viewer = Viewer::load(&state, auth.viewer()).await?;
    Ok(Json(uc::show(&state, &viewer, &name).await?))
}

async fn follow(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<model::Hashtag>> {
    set(state, auth, name, true).await
}

async fn unfollow(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<model::Hashtag>> {
    set(state, auth, name, false).await
}

async fn set(
    state: AppState,
    auth: Auth,
    name: String,
    follow: bool,
) -> ApiResult<Json<model::Hashtag>> {
    let me = auth.user("write:follows")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    Ok(Json(
        uc::set_following(&state, &viewer, &name, follow).await?,
    ))
}

async fn followed(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Hashtag>>> {
    let me = auth.user("read:follows")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let limit = p.limit.unwrap_or(100).clamp(1, 200);
    let (tags, keys) =
        uc::followed(&state, &viewer, p.max_id, p.min_id.or(p.since_id), limit).await?;
    Ok(Paged::new(tags, &keys, here.0))
}
