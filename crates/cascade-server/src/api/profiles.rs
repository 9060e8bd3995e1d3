//! Profiles beyond the account itself: private notes, endorsements, featured tags, the
//! multi-fetch of accounts and statuses, muted threads and the profile directory.

use axum::extract::{Path, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use cascade_core::{limits, Id};
use cascade_store::DirectoryOrder;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, PageParams, Paged};
use super::params::{flex, Params};
use super::path_id;
use crate::app::{profiles as uc, render, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", get(accounts))
        .route("/api/v1/statuses", get(statuses))
        .route("/api/v1/accounts/{id}/note", post(note))
        .route("/api/v1/accounts/{id}/endorse", post(endorse))
        .route("/api/v1/accounts/{id}/unendorse", post(unendorse))
        // The names Mastodon used before 4.4, still routed there.
        .route("/api/v1/accounts/{id}/pin", post(endorse))
        .route("/api/v1/accounts/{id}/unpin", post(unendorse))
        .route(
            "/api/v1/accounts/{id}/endorsements",
            get(account_endorsements),
        )
        .route("/api/v1/endorsements", get(endorsements))
        .route(
            "/api/v1/featured_tags",
            get(featured_tags).post(feature_tag),
        )
        .route("/api/v1/featured_tags/suggestions", get(suggestions))
        .route("/api/v1/featured_tags/{id}", delete(unfeature_tag))
        .route(
            "/api/v1/accounts/{id}/featured_tags",
            get(account_featured_tags),
        )
        .route("/api/v1/tags/{name}/feature", post(feature))
        .route("/api/v1/tags/{name}/unfeature", post(unfeature))
        .route("/api/v1/statuses/{id}/mute", post(mute_thread))
        .route("/api/v1/statuses/{id}/unmute", post(unmute_thread))
        .route("/api/v1/directory", get(directory))
}

#[derive(Debug, Deserialize)]
struct IdsParams {
    #[serde(default, deserialize_with = "flex::strings")]
    id: Vec<String>,
}

/// The ids of a multi-fetch, without repeats, in the order given; more than the bound is
/// refused rather than cut. Ids that are not numbers match nothing, as unknown ids do.
fn ids(p: &IdsParams) -> ApiResult<Vec<Id>> {
    if p.id.len() > limits::MAX_MULTI_FETCH_IDS {
        return Err(ApiError::unprocessable(format!(
            "At most {} ids may be fetched at once",
            limits::MAX_MULTI_FETCH_IDS
        )));
    }
    let mut out: Vec<Id> = Vec::with_capacity(p.id.len());
    for id in p.id.iter().filter_map(|s| s.parse::<Id>().ok()) {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// `GET /api/v1/accounts?id[]=`: the accounts found, in the order asked; unknown and
/// suspended ones are left out.
async fn accounts(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<IdsParams>,
) -> ApiResult<Json<Vec<model::Account>>> {
    auth.viewer_with("read:accounts")?;
    Ok(Json(render::accounts(&state, &ids(&p)?).await?))
}

/// `GET /api/v1/statuses?id[]=`: the statuses the viewer may see, in the order asked.
async fn statuses(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<IdsParams>,
) -> ApiResult<Json<Vec<model::Status>>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:statuses")?).await?;
    let statuses = render::statuses(&state, &viewer, &ids(&p)?).await?;
    state.seen(viewer.id, &statuses);
    Ok(Json(statuses))
}

#[derive(Debug, Deserialize)]
struct NoteForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    comment: Option<String>,
}

async fn note(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(form): Params<NoteForm>,
) -> ApiResult<Json<model::Relationship>> {
    let me = auth.user("write:accounts")?;
    let comment = form.comment.unwrap_or_default();
    Ok(Json(
        uc::set_note(&state, me, path_id(&id)?, comment.trim()).await?,
    ))
}

async fn endorse(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Relationship>> {
    let me = auth.user("write:accounts")?;
    Ok(Json(uc::endorse(&state, me, path_id(&id)?).await?))
}

async fn unendorse(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Relationship>> {
    let me = auth.user("write:accounts")?;
    Ok(Json(uc::unendorse(&state, me, path_id(&id)?).await?))
}

async fn endorsement_page(
    state: &AppState,
    viewer: &Viewer,
    account: Id,
    page: &PageParams,
    url: String,
) -> ApiResult<Paged<Vec<model::Account>>> {
    let limit = page.limit.unwrap_or(40).clamp(1, 80);
    let (accounts, keys) = uc::endorsements(
        state,
        viewer,
        account,
        page.max_id,
        page.min_id.or(page.since_id),
        limit,
    )
    .await?;
    Ok(Paged::new(accounts, &keys, url))
}

/// `GET /api/v1/endorsements`: the accounts the user endorses.
async fn endorsements(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Account>>> {
    let me = auth.user("read:accounts")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    endorsement_page(&state, &viewer, me, &p, here.0).await
}

/// `GET /api/v1/accounts/:id/endorsements`: the accounts an account endorses, public.
async fn account_endorsements(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Account>>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:accounts")?).await?;
    endorsement_page(&state, &viewer, path_id(&id)?, &p, here.0).await
}

async fn featured_tags(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<model::FeaturedTag>>> {
    let me = auth.user("read:accounts")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    Ok(Json(uc::featured_tags(&state, &viewer, me).await?))
}

#[derive(Debug, Deserialize)]
struct FeatureForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    name: Option<String>,
}

async fn feature_tag(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<FeatureForm>,
) -> ApiResult<Json<model::FeaturedTag>> {
    let me = auth.user("write:accounts")?;
    let name = form
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::unprocessable("Name can't be blank"))?;
    Ok(Json(uc::feature(&state, me, &name).await?))
}

async fn unfeature_tag(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:accounts")?;
    uc::unfeature(&state, me, path_id(&id)?).await?;
    Ok(Json(json!({})))
}

async fn suggestions(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<model::Hashtag>>> {
    let me = auth.user("read:accounts")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    Ok(Json(uc::suggestions(&state, &viewer, me).await?))
}

async fn account_featured_tags(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<model::FeaturedTag>>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:accounts")?).await?;
    Ok(Json(
        uc::featured_tags(&state, &viewer, path_id(&id)?).await?,
    ))
}

async fn feature(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<model::Hashtag>> {
    let me = auth.user("write:accounts")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    Ok(Json(uc::set_featuring(&state, &viewer, &name, true).await?))
}

async fn unfeature(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<model::Hashtag>> {
    let me = auth.user("write:accounts")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    Ok(Json(
        uc::set_featuring(&state, &viewer, &name, false).await?,
    ))
}

async fn mute_thread(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Status>> {
    let me = auth.user("write:mutes")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    Ok(Json(
        uc::set_thread_muted(&state, &viewer, path_id(&id)?, true).await?,
    ))
}

async fn unmute_thread(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Status>> {
    let me = auth.user("write:mutes")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    Ok(Json(
        uc::set_thread_muted(&state, &viewer, path_id(&id)?, false).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct DirectoryParams {
    #[serde(default, deserialize_with = "flex::opt_offset")]
    offset: Option<usize>,
    #[serde(default, deserialize_with = "flex::opt_usize")]
    limit: Option<usize>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    order: Option<String>,
    /// Every account is local until federation, so `local` changes nothing.
    #[serde(default, deserialize_with = "flex::opt_bool")]
    #[allow(dead_code)]
    local: Option<bool>,
}

/// `GET /api/v1/directory`: discoverable profiles, most recently active (or newest) first.
async fn directory(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<DirectoryParams>,
) -> ApiResult<Json<Vec<model::Account>>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:accounts")?).await?;
    let order = match p.order.as_deref() {
        None | Some("") | Some("active") => DirectoryOrder::Active,
        Some("new") => DirectoryOrder::New,
        Some(_) => return Err(ApiError::unprocessable("Order must be active or new")),
    };
    let limit = p.limit.unwrap_or(40).clamp(1, 80);
    Ok(Json(
        uc::directory(&state, &viewer, order, p.offset.unwrap_or(0), limit).await?,
    ))
}
