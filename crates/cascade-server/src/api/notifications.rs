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
        .route("/api/v1/notifications/unread_count", get(unread_count))
        .route("/api/v1/markers", get(get_markers).post(save_markers))
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

/// The timelines markers exist for.
const MARKED: [&str; 2] = ["home", "notifications"];

#[derive(Debug, Deserialize)]
struct MarkersQuery {
    #[serde(default, deserialize_with = "flex::strings")]
    timeline: Vec<String>,
}

fn render_markers(
    records: Vec<cascade_store::MarkerRecord>,
    wanted: &[String],
) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for m in records {
        if wanted.is_empty() || wanted.contains(&m.timeline) {
            out.insert(
                m.timeline.clone(),
                serde_json::json!({
                    "last_read_id": m.last_read_id.to_string(),
                    "version": m.version,
                    "updated_at": cascade_core::time::rfc3339(m.updated_at),
                }),
            );
        }
    }
    serde_json::Value::Object(out)
}

async fn get_markers(
    State(state): State<AppState>,
    auth: Auth,
    Params(q): Params<MarkersQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("read:statuses")?;
    Ok(Json(render_markers(
        state.store.markers(me).await?,
        &q.timeline,
    )))
}

#[derive(Debug, Deserialize)]
struct MarkerForm {
    #[serde(default, deserialize_with = "flex::opt_id")]
    last_read_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct MarkersForm {
    home: Option<MarkerForm>,
    notifications: Option<MarkerForm>,
}

/// Moves the home and/or notifications markers; answers with the markers it moved.
async fn save_markers(
    State(state): State<AppState>,
    auth: Auth,
    Params(f): Params<MarkersForm>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:statuses")?;
    let now = cascade_core::time::now_millis();
    let mut moved = Vec::new();
    for (name, marker) in MARKED.iter().zip([f.home, f.notifications]) {
        if let Some(marker) = marker {
            let id = marker.last_read_id.filter(|id| *id >= 0).ok_or_else(|| {
                ApiError::unprocessable(format!("{name}[last_read_id] is missing or not an id"))
            })?;
            state.store.set_marker(me, name, id, now).await?;
            moved.push(name.to_string());
        }
    }
    if moved.is_empty() {
        return Err(ApiError::BadRequest(
            "Send home[last_read_id] or notifications[last_read_id]".into(),
        ));
    }
    Ok(Json(render_markers(state.store.markers(me).await?, &moved)))
}

/// Notifications newer than the notifications marker (all of them without one), counted
/// up to 1,000 as Mastodon caps it.
async fn unread_count(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("read:notifications")?;
    let after = state
        .store
        .markers(me)
        .await?
        .into_iter()
        .find(|m| m.timeline == "notifications")
        .map_or(0, |m| m.last_read_id);
    let kinds: Vec<String> = uc::KINDS.iter().map(|k| k.to_string()).collect();
    let count = state
        .store
        .count_notifications_after(me, after, &kinds, 1_000)
        .await?;
    Ok(Json(serde_json::json!({ "count": count })))
}
