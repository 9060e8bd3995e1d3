//! Blocks of whole servers (`app::federation::domains`): a person's own
//! (`/api/v1/domain_blocks`), the moderators' (`/api/v1/admin/domain_blocks`, staff with
//! `admin:read` / `admin:write`) and the server's published list
//! (`/api/v1/instance/domain_blocks`).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin::window;
use super::auth::Auth;
use super::paging::{LinkBase, PageParams, Paged};
use super::params::{flex, Params};
use super::path_id;
use crate::app::federation::domains as uc;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/domain_blocks",
            get(mine).post(block).delete(unblock),
        )
        .route("/api/v1/instance/domain_blocks", get(published))
        .route(
            "/api/v1/admin/domain_blocks",
            get(admin_blocks).post(create),
        )
        .route(
            "/api/v1/admin/domain_blocks/{id}",
            get(admin_block).put(update).delete(delete),
        )
}

async fn mine(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<String>>> {
    let me = auth.user("read:blocks")?;
    let (max_id, min_id, limit) = window(&page);
    let (domains, keys) = uc::mine(&state, me, max_id, min_id, limit).await?;
    Ok(Paged::new(domains, &keys, here.0))
}

#[derive(Debug, Deserialize)]
struct DomainForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    domain: Option<String>,
}

fn domain(form: DomainForm) -> ApiResult<String> {
    form.domain
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| ApiError::unprocessable("Domain can't be blank"))
}

async fn block(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<DomainForm>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:blocks")?;
    uc::block_domain(&state, me, &domain(form)?).await?;
    Ok(Json(json!({})))
}

async fn unblock(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<DomainForm>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:blocks")?;
    uc::unblock_domain(&state, me, &domain(form)?).await?;
    Ok(Json(json!({})))
}

async fn published(State(state): State<AppState>) -> ApiResult<Json<Vec<Value>>> {
    Ok(Json(uc::published(&state).await?))
}

async fn admin_blocks(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<Value>>> {
    let me = auth.user("admin:read")?;
    let (max_id, min_id, limit) = window(&page);
    let (items, keys) = uc::blocks(&state, me, max_id, min_id, limit).await?;
    Ok(Paged::new(items, &keys, here.0))
}

async fn admin_block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:read")?;
    Ok(Json(uc::block(&state, me, path_id(&id)?).await?))
}

#[derive(Debug, Deserialize)]
struct BlockForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    domain: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    severity: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    reject_media: Option<bool>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    reject_reports: Option<bool>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    private_comment: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    public_comment: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    obfuscate: Option<bool>,
}

impl From<BlockForm> for uc::BlockInput {
    fn from(f: BlockForm) -> Self {
        uc::BlockInput {
            domain: f.domain,
            severity: f.severity,
            reject_media: f.reject_media,
            reject_reports: f.reject_reports,
            private_comment: f.private_comment,
            public_comment: f.public_comment,
            obfuscate: f.obfuscate,
        }
    }
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<BlockForm>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    Ok(Json(uc::put_block(&state, me, None, form.into()).await?))
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(form): Params<BlockForm>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    let id = path_id(&id)?;
    Ok(Json(
        uc::put_block(&state, me, Some(id), form.into()).await?,
    ))
}

async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    Ok(Json(uc::delete_block(&state, me, path_id(&id)?).await?))
}
