//! `/api/v2/search` and `/api/v1/accounts/search`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use cascade_core::Id;
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::params::{flex, Params};
use crate::app::{search as uc, Viewer};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v2/search", get(search))
        .route("/api/v1/accounts/search", get(search_accounts))
}

#[derive(Debug, Default, Deserialize)]
struct SearchParams {
    #[serde(default, deserialize_with = "flex::opt_string")]
    q: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "flex::opt_string")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "flex::bool")]
    resolve: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    following: bool,
    #[serde(default, deserialize_with = "flex::opt_id")]
    account_id: Option<Id>,
    #[serde(default, deserialize_with = "flex::bool")]
    exclude_unreviewed: bool,
    #[serde(default, deserialize_with = "flex::opt_id")]
    max_id: Option<Id>,
    #[serde(default, deserialize_with = "flex::opt_id")]
    min_id: Option<Id>,
    #[serde(default, deserialize_with = "flex::opt_usize")]
    limit: Option<usize>,
    #[serde(default, deserialize_with = "flex::opt_offset")]
    offset: Option<usize>,
}

async fn search(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<SearchParams>,
) -> ApiResult<Json<model::Search>> {
    // Anonymous callers may search; a token must carry the scope.
    let me = auth.viewer_with("read:search")?;
    let viewer = Viewer::load(&state, me).await?;
    let input = uc::SearchInput {
        q: p.q,
        kind: p.kind,
        resolve: p.resolve,
        following: p.following,
        account_id: p.account_id,
        exclude_unreviewed: p.exclude_unreviewed,
        max_id: p.max_id,
        min_id: p.min_id,
        limit: p.limit,
        offset: p.offset,
    };
    Ok(Json(uc::search(&state, &viewer, input).await?))
}

#[derive(Debug, Default, Deserialize)]
struct AccountSearchParams {
    #[serde(default, deserialize_with = "flex::opt_string")]
    q: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_usize")]
    limit: Option<usize>,
    #[serde(default, deserialize_with = "flex::opt_offset")]
    offset: Option<usize>,
    /// Accepted; local accounts are always found, and Cascade resolves nothing remote.
    #[serde(default, deserialize_with = "flex::bool")]
    #[allow(dead_code)]
    resolve: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    following: bool,
}

async fn search_accounts(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<AccountSearchParams>,
) -> ApiResult<Json<Vec<model::Account>>> {
    let me = auth.user("read:accounts")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    Ok(Json(
        uc::accounts(
            &state,
            &viewer,
            p.q.as_deref(),
            p.following,
            p.limit,
            p.offset,
        )
        .await?,
    ))
}
