//! `/api/v1/scheduled_statuses`: statuses waiting for their time.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, PageParams, Paged};
use super::params::{flex, Params};
use super::path_id;
use crate::app::scheduled as uc;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/scheduled_statuses", get(list))
        .route(
            "/api/v1/scheduled_statuses/{id}",
            get(show).put(reschedule).delete(cancel),
        )
}

async fn list(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::ScheduledStatus>>> {
    let me = auth.user("read:statuses")?;
    let limit = p.limit.unwrap_or(20).clamp(1, 40);
    let (items, keys) = uc::list(&state, me, p.max_id, p.min_id.or(p.since_id), limit).await?;
    Ok(Paged::new(items, &keys, here.0))
}

async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::ScheduledStatus>> {
    let me = auth.user("read:statuses")?;
    Ok(Json(uc::get(&state, me, path_id(&id)?).await?))
}

#[derive(Debug, Deserialize)]
struct RescheduleForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    scheduled_at: Option<String>,
}

async fn reschedule(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(form): Params<RescheduleForm>,
) -> ApiResult<Json<model::ScheduledStatus>> {
    let me = auth.user("write:statuses")?;
    let id = path_id(&id)?;
    let raw = form
        .scheduled_at
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::unprocessable("Scheduled at can't be blank"))?;
    let at = uc::parse_time(&raw, cascade_core::time::now_millis())?;
    Ok(Json(uc::reschedule(&state, me, id, at).await?))
}

async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:statuses")?;
    uc::cancel(&state, me, path_id(&id)?).await?;
    Ok(Json(json!({})))
}
