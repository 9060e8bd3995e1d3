//! `/api/v1/conversations`: direct conversations, newest activity first.

use axum::extract::{Path, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, PageParams, Paged};
use super::params::Params;
use super::path_id;
use crate::app::{conversations as uc, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/conversations", get(list))
        .route("/api/v1/conversations/{id}", delete(remove))
        .route("/api/v1/conversations/{id}/read", post(read))
}

async fn list(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Conversation>>> {
    let me = auth.user("read:statuses")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let (list, keys) = uc::list(&state, &viewer, p.page(20, 40)).await?;
    Ok(Paged::new(list, &keys, here.0))
}

async fn read(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Conversation>> {
    let me = auth.user("write:conversations")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    Ok(Json(uc::read(&state, &viewer, path_id(&id)?).await?))
}

async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:conversations")?;
    if !state.store.remove_conversation(me, path_id(&id)?).await? {
        return Err(ApiError::NotFound);
    }
    Ok(Json(serde_json::json!({})))
}
