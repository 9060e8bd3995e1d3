//! `/api/v1/cascade/watches` (a Cascade extension): brand watches, their timelines, the
//! unanswered queue and response-time statistics. What matching does is in `app::watch`;
//! the streams are `cascade:watch` in `api::streaming`.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use cascade_core::timeline::MAX_LIMIT;
use serde::{Deserialize, Deserializer};

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, PageParams, Paged};
use super::params::{flex, Params};
use super::path_id;
use crate::app::watch::{self as uc, StatsInput, WatchInput};
use crate::app::Viewer;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/cascade/watches",
            get(list_watches).post(create_watch),
        )
        .route("/api/v1/cascade/watches/unanswered", get(unanswered))
        .route(
            "/api/v1/cascade/watches/unanswered/{status}/dismiss",
            post(dismiss_unanswered),
        )
        .route("/api/v1/cascade/watches/stats", get(watch_stats))
        .route(
            "/api/v1/cascade/watches/{id}",
            get(get_watch).put(update_watch).delete(delete_watch),
        )
        .route("/api/v1/cascade/watches/{id}/timeline", get(watch_timeline))
        .route(
            "/api/v1/cascade/watches/{id}/unanswered",
            get(watch_unanswered),
        )
        .route(
            "/api/v1/cascade/watches/{id}/unanswered/{status}/dismiss",
            post(dismiss_watch_unanswered),
        )
}

/// A list given, even empty, replaces the terms; an absent one keeps them.
fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    flex::strings(d).map(Some)
}

#[derive(Debug, Default, Deserialize)]
struct WatchForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "opt_strings")]
    keywords: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_strings")]
    hashtags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    mentions: Option<bool>,
}

impl From<WatchForm> for WatchInput {
    fn from(f: WatchForm) -> WatchInput {
        WatchInput {
            name: f.name,
            keywords: f.keywords,
            hashtags: f.hashtags,
            mentions: f.mentions,
        }
    }
}

async fn list_watches(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<model::Watch>>> {
    let me = auth.user("read:statuses")?;
    Ok(Json(uc::list(&state, me).await?))
}

async fn create_watch(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<WatchForm>,
) -> ApiResult<Json<model::Watch>> {
    let me = auth.user("write:statuses")?;
    Ok(Json(uc::create(&state, me, form.into()).await?))
}

async fn get_watch(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Watch>> {
    let me = auth.user("read:statuses")?;
    Ok(Json(uc::get(&state, me, path_id(&id)?).await?))
}

async fn update_watch(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(form): Params<WatchForm>,
) -> ApiResult<Json<model::Watch>> {
    let me = auth.user("write:statuses")?;
    Ok(Json(
        uc::update(&state, me, path_id(&id)?, form.into()).await?,
    ))
}

async fn delete_watch(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:statuses")?;
    uc::delete(&state, me, path_id(&id)?).await?;
    Ok(Json(serde_json::json!({})))
}

async fn watch_timeline(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Status>>> {
    let me = auth.user("read:statuses")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let id = path_id(&id)?;
    let (statuses, keys) = uc::timeline(&state, &viewer, id, page.page(20, MAX_LIMIT)).await?;
    Ok(Paged::new(statuses, &keys, here.0))
}

async fn unanswered(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::UnansweredItem>>> {
    let me = auth.user("read:statuses")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let (items, keys) = uc::unanswered(&state, &viewer, None, page.page(20, MAX_LIMIT)).await?;
    Ok(Paged::oldest_first(items, &keys, here.0))
}

async fn watch_unanswered(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::UnansweredItem>>> {
    let me = auth.user("read:statuses")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let id = path_id(&id)?;
    let (items, keys) = uc::unanswered(&state, &viewer, Some(id), page.page(20, MAX_LIMIT)).await?;
    Ok(Paged::oldest_first(items, &keys, here.0))
}

async fn dismiss_unanswered(
    State(state): State<AppState>,
    auth: Auth,
    Path(status): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:statuses")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    uc::dismiss(&state, &viewer, None, path_id(&status)?).await?;
    Ok(Json(serde_json::json!({})))
}

/// The same as `dismiss_unanswered`: an item leaves every queue of its owner at once.
async fn dismiss_watch_unanswered(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, status)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:statuses")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let (id, status) = (path_id(&id)?, path_id(&status)?);
    uc::dismiss(&state, &viewer, Some(id), status).await?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Debug, Default, Deserialize)]
struct StatsForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    window: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    since: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    until: Option<String>,
}

async fn watch_stats(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<StatsForm>,
) -> ApiResult<Json<model::WatchStats>> {
    let me = auth.user("read:statuses")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let input = StatsInput {
        window: form.window,
        since: form.since,
        until: form.until,
    };
    Ok(Json(uc::stats(&state, &viewer, input).await?))
}
