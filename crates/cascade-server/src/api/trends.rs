//! `/api/v1/trends/statuses`, `/tags` and `/links`, and the deprecated `/api/v1/trends`
//! (tags). Paged with `limit` and `offset`, as in Mastodon.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::params::{flex, Params};
use crate::app::{trends as uc, Viewer};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/trends", get(trends_tags))
        .route("/api/v1/trends/tags", get(trends_tags))
        .route("/api/v1/trends/statuses", get(trends_statuses))
        .route("/api/v1/trends/links", get(trends_links))
}

#[derive(Debug, Deserialize)]
struct WindowParams {
    #[serde(default, deserialize_with = "flex::opt_usize")]
    limit: Option<usize>,
    #[serde(default, deserialize_with = "flex::opt_usize")]
    offset: Option<usize>,
}

impl WindowParams {
    /// `(offset, limit)`, the limit clamped to Mastodon's default and maximum.
    fn window(&self, default: usize, max: usize) -> (usize, usize) {
        (
            self.offset.unwrap_or(0),
            self.limit.unwrap_or(default).clamp(1, max),
        )
    }
}

async fn trends_tags(
    State(state): State<AppState>,
    _auth: Auth,
    Params(p): Params<WindowParams>,
) -> ApiResult<Json<Vec<model::Hashtag>>> {
    let (offset, limit) = p.window(10, 20);
    Ok(Json(uc::tags(&state, offset, limit)))
}

async fn trends_statuses(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<WindowParams>,
) -> ApiResult<Json<Vec<model::Status>>> {
    let (offset, limit) = p.window(20, 40);
    let viewer = Viewer::load(&state, auth.viewer()).await?;
    Ok(Json(uc::statuses(&state, &viewer, offset, limit).await?))
}

async fn trends_links(
    State(state): State<AppState>,
    _auth: Auth,
    Params(p): Params<WindowParams>,
) -> ApiResult<Json<Vec<model::TrendsLink>>> {
    let (offset, limit) = p.window(10, 20);
    Ok(Json(uc::links(&state, offset, limit)))
}
