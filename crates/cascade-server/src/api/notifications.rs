//! `/api/v1/notifications` (v1; grouped notifications, policies and streaming belong to
//! the notifications issue).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use cascade_store::NotificationFilter;
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, PageParams, Paged};
use super::params::{flex, Params};
use super::path_id;
use crate::app::{notifications as uc, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notifications", get(notifications))
        .route("/api/v1/notifications/clear", post(clear_notifications))
        .route("/api/v1/notifications/{id}", get(get_notification))
        .route(
            "/api/v1/notifications/{id}/dismiss",
            post(dismiss_notification),
        )
}

#[derive(Debug, Default, Deserialize)]
struct NotificationParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flex::strings")]
    types: Vec<String>,
    #[serde(default, deserialize_with = "flex::strings")]
    exclude_types: Vec<String>,
    #[serde(default, deserialize_with = "flex::opt_id")]
    account_id: Option<i64>,
}

async fn notifications(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<NotificationParams>,
) -> ApiResult<Paged<model::Notification>> {
    let me = auth.user("read:notifications")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let limit = p.page.limit.unwrap_or(40).clamp(1, 80);
    let filter = NotificationFilter {
        kinds: p.types,
        exclude: p.exclude_types,
        from_account: p.account_id,
    };
    let list = uc::list(
        &state,
        &viewer,
        filter,
        p.page.max_id,
        p.page.min_id.or(p.page.since_id),
        limit,
    )
    .await?;
    let keys: Vec<i64> = list.iter().filter_map(|n| n.id.parse().ok()).collect();
    Ok(Paged::new(list, &keys, here.0))
}

async fn get_notification(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Notification>> {
    let me = auth.user("read:notifications")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let record = state.store.notification(me, path_id(&id)?).await?;
    uc::render_all(&state, &viewer, &[record])
        .await?
        .pop()
        .map(Json)
        .ok_or(ApiError::NotFound)
}

async fn dismiss_notification(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:notifications")?;
    if state
        .store
        .dismiss_notifications(me, Some(path_id(&id)?))
        .await?
        == 0
    {
        return Err(ApiError::NotFound);
    }
    Ok(Json(serde_json::json!({})))
}

async fn clear_notifications(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:notifications")?;
    state.store.dismiss_notifications(me, None).await?;
    Ok(Json(serde_json::json!({})))
}
