//! Notifications: the v1 list, Mastodon 4.3's grouped v2 list, the notification policy
//! with its requests, and the read markers.

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
use cascade_store::range;

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
        .route("/api/v2/notifications", get(grouped))
        .route(
            "/api/v2/notifications/unread_count",
            get(grouped_unread_count),
        )
        .route(
            "/api/v2/notifications/policy",
            get(get_policy).patch(update_policy).put(update_policy),
        )
        .route("/api/v2/notifications/{key}", get(group))
        .route("/api/v2/notifications/{key}/accounts", get(group_accounts))
        .route("/api/v2/notifications/{key}/dismiss", post(dismiss_group))
        .route("/api/v1/notifications/policy", get(get_policy_v1))
        .route("/api/v1/notifications/requests", get(requests))
        .route(
            "/api/v1/notifications/requests/merged",
            get(requests_merged),
        )
        .route(
            "/api/v1/notifications/requests/accept",
            post(accept_requests),
        )
        .route(
            "/api/v1/notifications/requests/dismiss",
            post(dismiss_requests),
        )
        .route("/api/v1/notifications/requests/{id}", get(request))
        .route(
            "/api/v1/notifications/requests/{id}/accept",
            post(accept_request),
        )
        .route(
            "/api/v1/notifications/requests/{id}/dismiss",
            post(dismiss_request),
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
    #[serde(default, deserialize_with = "flex::bool")]
    include_filtered: bool,
    #[serde(default, deserialize_with = "flex::strings")]
    grouped_types: Vec<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    expand_accounts: Option<String>,
}

impl NotificationParams {
    fn filter(&self) -> NotificationFilter {
        NotificationFilter {
            kinds: self.types.clone(),
            exclude: self.exclude_types.clone(),
            from_account: self.account_id,
            include_filtered: self.include_filtered,
        }
    }

    fn grouped_types(&self) -> Option<Vec<String>> {
        (!self.grouped_types.is_empty()).then(|| self.grouped_types.clone())
    }
}

async fn notifications(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<NotificationParams>,
) -> ApiResult<Paged<Vec<model::Notification>>> {
    let me = auth.user("read:notifications")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let list = uc::list(&state, &viewer, p.filter(), p.page.page(40, 80)).await?;
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
    let after = uc::marker(&state, me).await?;
    let kinds: Vec<String> = uc::default_kinds();
    let count = state
        .store
        .count_notifications_after(me, after, &kinds, 1_000)
        .await?;
    Ok(Json(serde_json::json!({ "count": count })))
}

/// `GET /api/v2/notifications`: groups, newest first, with the accounts and statuses
/// they cite.
async fn grouped(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<NotificationParams>,
) -> ApiResult<Paged<model::GroupedNotifications>> {
    let me = auth.user("read:notifications")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let partial_avatars = match p.expand_accounts.as_deref() {
        None | Some("full") => false,
        Some("partial_avatars") => true,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "expand_accounts must be full or partial_avatars".into(),
            ))
        }
    };
    let query = uc::GroupedQuery {
        filter: p.filter(),
        grouped: p.grouped_types(),
        page: p.page.page(40, 80),
        partial_avatars,
    };
    let (body, bounds) = uc::grouped(&state, &viewer, query).await?;
    Ok(Paged::new(body, &bounds, here.0))
}

async fn group(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> ApiResult<Json<model::GroupedNotifications>> {
    let me = auth.user("read:notifications")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    Ok(Json(uc::group(&state, &viewer, &key).await?))
}

#[derive(Debug, Default, Deserialize)]
struct LimitParams {
    #[serde(default, deserialize_with = "flex::opt_usize")]
    limit: Option<usize>,
}

async fn group_accounts(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
    Params(p): Params<LimitParams>,
) -> ApiResult<Json<Vec<model::Account>>> {
    let me = auth.user("read:notifications")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let limit = p.limit.unwrap_or(40).clamp(1, 80);
    Ok(Json(
        uc::group_accounts(&state, &viewer, &key, limit).await?,
    ))
}

async fn dismiss_group(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:notifications")?;
    if state.store.dismiss_group(me, &key).await? == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(Json(serde_json::json!({})))
}

/// Groups with news since the notifications marker, up to 1,000.
async fn grouped_unread_count(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<NotificationParams>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("read:notifications")?;
    let cap = p.page.limit.map_or(100, |l| l as i64).clamp(1, 1_000);
    let count = uc::unread_groups(&state, me, p.filter(), p.grouped_types(), cap).await?;
    Ok(Json(serde_json::json!({ "count": count })))
}

async fn get_policy(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<model::NotificationPolicy>> {
    let me = auth.user("read:notifications")?;
    Ok(Json(uc::render_policy(&state, me).await?))
}

/// The v1 policy (Mastodon 4.3 before the v2 shape): filter booleans.
async fn get_policy_v1(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("read:notifications")?;
    let p = uc::render_policy(&state, me).await?;
    let filters = |v: &str| v != "accept";
    Ok(Json(serde_json::json!({
        "filter_not_following": filters(&p.for_not_following),
        "filter_not_followers": filters(&p.for_not_followers),
        "filter_new_accounts": filters(&p.for_new_accounts),
        "filter_private_mentions": filters(&p.for_private_mentions),
        "summary": p.summary,
    })))
}

#[derive(Debug, Default, Deserialize)]
struct PolicyForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    for_not_following: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    for_not_followers: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    for_new_accounts: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    for_private_mentions: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    for_limited_accounts: Option<String>,
}

/// Changes the values given; the others stay.
async fn update_policy(
    State(state): State<AppState>,
    auth: Auth,
    Params(f): Params<PolicyForm>,
) -> ApiResult<Json<model::NotificationPolicy>> {
    let me = auth.user("write:notifications")?;
    let mut p = uc::policy(&state, me).await?;
    for (slot, value) in [
        (&mut p.for_not_following, f.for_not_following),
        (&mut p.for_not_followers, f.for_not_followers),
        (&mut p.for_new_accounts, f.for_new_accounts),
        (&mut p.for_private_mentions, f.for_private_mentions),
        (&mut p.for_limited_accounts, f.for_limited_accounts),
    ] {
        if let Some(v) = value {
            *slot = v;
        }
    }
    uc::set_policy(&state, me, p).await?;
    Ok(Json(uc::render_policy(&state, me).await?))
}

async fn requests(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::NotificationRequest>>> {
    let me = auth.user("read:notifications")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let records = state
        .store
        .notification_requests(me, range(&p.page(40, 80)))
        .await?;
    let keys: Vec<i64> = records.iter().map(|r| r.id).collect();
    let list = uc::render_requests(&state, &viewer, &records).await?;
    Ok(Paged::new(list, &keys, here.0))
}

async fn request(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::NotificationRequest>> {
    let me = auth.user("read:notifications")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let record = state.store.notification_request(me, path_id(&id)?).await?;
    uc::render_requests(&state, &viewer, &[record])
        .await?
        .pop()
        .map(Json)
        .ok_or(ApiError::NotFound)
}

async fn accept_request(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:notifications")?;
    if state
        .store
        .accept_notification_requests(me, &[path_id(&id)?])
        .await?
        == 0
    {
        return Err(ApiError::NotFound);
    }
    Ok(Json(serde_json::json!({})))
}

async fn dismiss_request(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:notifications")?;
    if state
        .store
        .dismiss_notification_requests(me, &[path_id(&id)?])
        .await?
        == 0
    {
        return Err(ApiError::NotFound);
    }
    Ok(Json(serde_json::json!({})))
}

#[derive(Debug, Default, Deserialize)]
struct IdsForm {
    #[serde(default, deserialize_with = "flex::strings")]
    id: Vec<String>,
}

impl IdsForm {
    fn ids(&self) -> ApiResult<Vec<i64>> {
        if self.id.is_empty() {
            return Err(ApiError::unprocessable("id[] is missing"));
        }
        self.id
            .iter()
            .map(|i| {
                i.parse()
                    .map_err(|_| ApiError::unprocessable(format!("{i} is not an id")))
            })
            .collect()
    }
}

async fn accept_requests(
    State(state): State<AppState>,
    auth: Auth,
    Params(f): Params<IdsForm>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:notifications")?;
    state
        .store
        .accept_notification_requests(me, &f.ids()?)
        .await?;
    Ok(Json(serde_json::json!({})))
}

async fn dismiss_requests(
    State(state): State<AppState>,
    auth: Auth,
    Params(f): Params<IdsForm>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:notifications")?;
    state
        .store
        .dismiss_notification_requests(me, &f.ids()?)
        .await?;
    Ok(Json(serde_json::json!({})))
}

/// Accepting a request merges its notifications at once, so they are always merged.
async fn requests_merged(auth: Auth) -> ApiResult<Json<serde_json::Value>> {
    auth.user("read:notifications")?;
    Ok(Json(serde_json::json!({ "merged": true })))
}
