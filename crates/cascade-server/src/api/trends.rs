//! `/api/v1/trends/statuses`, `/tags` and `/links`, and the deprecated `/api/v1/trends`
//! (tags). Paged with `limit` and `offset`, with `Link` headers, as in Mastodon.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, OffsetPaged};
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
    #[serde(default, deserialize_with = "flex::opt_offset")]
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
    here: LinkBase,
    _auth: Auth,
    Params(p): Params<WindowParams>,
) -> ApiResult<OffsetPaged<model::Hashtag>> {
    let (offset, limit) = p.window(10, 20);
    let tags = uc::tags(&state, offset, limit);
    Ok(OffsetPaged::new(tags, offset, limit, here))
}

async fn trends_statuses(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<WindowParams>,
) -> ApiResult<OffsetPaged<model::Status>> {
    let (offset, limit) = p.window(20, 40);
    let viewer = Viewer::load(&state, auth.viewer()).await?;
    let statuses = uc::statuses(&state, &viewer, offset, limit).await?;
    Ok(OffsetPaged::new(statuses, offset, limit, here))
}

async fn trends_links(
    State(state): State<AppState>,
    here: LinkBase,
    _auth: Auth,
    Params(p): Params<WindowParams>,
) -> ApiResult<OffsetPaged<model::TrendsLink>> {
    let (offset, limit) = p.window(10, 20);
    let links = uc::links(&state, offset, limit);
    Ok(OffsetPaged::new(links, offset, limit, here))
}
