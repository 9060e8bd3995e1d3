//! `/api/v1/announcements`: the administrators' announcements, dismissals and reactions;
//! and `/api/v1/cascade/admin/announcements`, where administrators write them (a Cascade
//! extension: Mastodon writes them in its web admin pages only).

use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin::administrator;
use super::auth::Auth;
use super::model;
use super::params::{flex, Params};
use super::path_id;
use crate::app::announcements as uc;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/announcements", get(list))
        .route("/api/v1/announcements/{id}/dismiss", post(dismiss))
        .route(
            "/api/v1/announcements/{id}/reactions/{name}",
            put(react).delete(unreact),
        )
        .route(
            "/api/v1/cascade/admin/announcements",
            get(admin_list).post(admin_create),
        )
        .route(
            "/api/v1/cascade/admin/announcements/{id}",
            put(admin_edit).delete(admin_delete),
        )
}

#[derive(Debug, Deserialize)]
struct DraftForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    text: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    starts_at: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    ends_at: Option<String>,
    #[serde(default, deserialize_with = "flex::bool")]
    all_day: bool,
}

impl DraftForm {
    fn draft(self) -> ApiResult<uc::Draft> {
        let at = |raw: Option<String>, name: &str| -> ApiResult<Option<i64>> {
            match raw.filter(|r| !r.is_empty()) {
                None => Ok(None),
                Some(r) => cascade_core::time::parse_rfc3339(&r)
                    .map(Some)
                    .ok_or_else(|| ApiError::unprocessable(format!("{name} is not a valid time"))),
            }
        };
        Ok(uc::Draft {
            text: self.text.unwrap_or_default(),
            starts_at: at(self.starts_at, "Starts at")?,
            ends_at: at(self.ends_at, "Ends at")?,
            all_day: self.all_day,
        })
    }
}

/// An announcement as its administrators see it.
fn admin_json(a: &cascade_store::AnnouncementRecord) -> Value {
    use cascade_core::time::rfc3339;
    json!({
        "id": a.id.to_string(),
        "text": a.text,
        "content": a.content_html,
        "starts_at": a.starts_at.map(rfc3339),
        "ends_at": a.ends_at.map(rfc3339),
        "all_day": a.all_day,
        "published_at": rfc3339(a.published_at),
        "updated_at": rfc3339(a.updated_at),
    })
}

/// Every announcement, ended ones too, newest first.
async fn admin_list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<Value>>> {
    administrator(&state, &auth).await?;
    Ok(Json(
        uc::all(&state).await?.iter().map(admin_json).collect(),
    ))
}

async fn admin_create(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<DraftForm>,
) -> ApiResult<Json<Value>> {
    administrator(&state, &auth).await?;
    Ok(Json(admin_json(&uc::create(&state, form.draft()?).await?)))
}

async fn admin_edit(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(form): Params<DraftForm>,
) -> ApiResult<Json<Value>> {
    administrator(&state, &auth).await?;
    let id = path_id(&id)?;
    Ok(Json(admin_json(
        &uc::edit(&state, id, form.draft()?).await?,
    )))
}

async fn admin_delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    administrator(&state, &auth).await?;
    uc::delete(&state, path_id(&id)?).await?;
    Ok(Json(json!({})))
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
