//! `/api/v1/timelines/*`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use cascade_core::timeline::MAX_LIMIT;
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, PageParams, Paged};
use super::params::{flex, Params};
use super::path_id;
use crate::app::timelines::{self as uc, TimelinePage};
use crate::app::{ranked, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/timelines/home", get(home_timeline))
        .route("/api/v1/timelines/public", get(public_timeline))
        .route("/api/v1/timelines/tag/{tag}", get(tag_timeline))
        .route("/api/v1/timelines/list/{id}", get(list_timeline))
}

/// The page as a response; every status on it counts one impression for the viewer.
fn paged(
    state: &AppState,
    viewer: &Viewer,
    (statuses, keys): TimelinePage,
    here: LinkBase,
) -> Paged<Vec<model::Status>> {
    state.seen(viewer.id, &statuses);
    Paged::new(statuses, &keys, here.0)
}

#[derive(Debug, Default, Deserialize)]
struct HomeParams {
    #[serde(flatten)]
    page: PageParams,
    /// `chronological` (the default) or `ranked`, Cascade's extension.
    order: Option<String>,
}

async fn home_timeline(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<HomeParams>,
) -> ApiResult<Paged<Vec<model::Status>>> {
    let me = auth.user("read:statuses")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let page = p.page.page(20, MAX_LIMIT);
    match p.order.as_deref() {
        None | Some("chronological") => {
            let result = uc::home(&state, &viewer, page).await?;
            Ok(paged(&state, &viewer, result, here))
        }
        Some("ranked") => {
            if page.since_id.is_some() || page.min_id.is_some() {
                return Err(ApiError::Unprocessable(
                    "since_id and min_id do not apply to order=ranked: it pages forward only"
                        .into(),
                ));
            }
            let (statuses, next) = ranked::home(&state, &viewer, page.max_id, page.limit).await?;
            state.seen(viewer.id, &statuses);
            Ok(Paged::forward(statuses, next, here.0))
        }
        Some(_) => Err(ApiError::Unprocessable(
            "order must be chronological or ranked".into(),
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
struct PublicParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flex::bool")]
    local: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    remote: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    only_media: bool,
}

impl PublicParams {
    /// Local posts only (`Some(true)`, which wins over `remote` as in Mastodon), remote
    /// posts only (`Some(false)`) or both.
    fn scope(&self) -> Option<bool> {
        match (self.local, self.remote) {
            (true, _) => Some(true),
            (false, true) => Some(false),
            (false, false) => None,
        }
    }
}

async fn public_timeline(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<PublicParams>,
) -> ApiResult<Paged<Vec<model::Status>>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:statuses")?).await?;
    let page = p.page.page(20, MAX_LIMIT);
    let result = if p.only_media {
        uc::public_media(&state, &viewer, None, page, p.scope()).await?
    } else {
        uc::public_scoped(&state, &viewer, page, p.scope()).await?
    };
    Ok(paged(&state, &viewer, result, here))
}

async fn tag_timeline(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Path(tag): Path<String>,
    Params(p): Params<PublicParams>,
) -> ApiResult<Paged<Vec<model::Status>>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:statuses")?).await?;
    let tag = cascade_core::text::tag_name(&tag).ok_or(ApiError::NotFound)?;
    let page = p.page.page(20, MAX_LIMIT);
    let result = if p.only_media {
        uc::public_media(&state, &viewer, Some(&tag), page, p.scope()).await?
    } else {
        uc::tag(&state, &viewer, &tag, page, p.scope()).await?
    };
    Ok(paged(&state, &viewer, result, here))
}

async fn list_timeline(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Status>>> {
    let me = auth.user("read:lists")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let id = path_id(&id)?;
    let result = uc::list(&state, &viewer, id, page.page(20, MAX_LIMIT)).await?;
    Ok(paged(&state, &viewer, result, here))
}
