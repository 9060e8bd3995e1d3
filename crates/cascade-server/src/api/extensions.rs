//! Cascade's own endpoints under `/api/v1/cascade/`, beside the Mastodon API: existing
//! clients never call them.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, PageParams, Paged};
use super::params::{flex, Params};
use super::path_id;
use crate::app::federation::moves;
use crate::app::{cascade, Viewer};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/cascade/settings",
            get(get_settings).patch(update_settings),
        )
        .route("/api/v1/statuses/{id}/cascade", get(status_cascade))
        .route("/api/v1/cascade/aliases", get(get_aliases).put(put_aliases))
}

/// How a status spread: the tree of its reshares and the statistics of it. The nodes
/// come a page at a time (`limit`, at most 1,000; `min_id` from the `Link` header's
/// `next`), oldest first; the statistics always cover the whole tree.
async fn status_cascade(
    State(state): State<AppState>,
    auth: Auth,
    here: LinkBase,
    Path(id): Path<String>,
    Params(p): Params<PageParams>,
) -> ApiResult<Paged<model::Cascade>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:statuses")?).await?;
    let measured = cascade::measure(&state, &viewer, path_id(&id)?).await?;
    let page = cascade::NodePage {
        after: p.min_id,
        limit: p
            .limit
            .unwrap_or(cascade::MAX_NODES_PER_PAGE)
            .clamp(1, cascade::MAX_NODES_PER_PAGE),
    };
    let (body, next) = cascade::to_json(&state, &measured, page);
    Ok(Paged {
        items: body,
        bounds: next.map(|n| (n, n)),
        url: here.0,
        prev: false,
        oldest_first: true,
    })
}

/// The signed-in account's Cascade settings.
#[derive(Debug, Serialize)]
struct Settings {
    /// Whether everyone may see the view counts of this account's posts (by default only
    /// the account itself does).
    public_view_counts: bool,
}

async fn get_settings(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Settings>> {
    let me = auth.user("read:accounts")?;
    let account = state.store.account(me).await?;
    Ok(Json(Settings {
        public_view_counts: account.public_view_counts,
    }))
}

#[derive(Debug, Deserialize)]
struct SettingsForm {
    #[serde(default, deserialize_with = "flex::opt_bool")]
    public_view_counts: Option<bool>,
}

async fn update_settings(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<SettingsForm>,
) -> ApiResult<Json<Settings>> {
    let me = auth.user("write:accounts")?;
    if let Some(public) = form.public_view_counts {
        state.store.set_public_view_counts(me, public).await?;
        state.forget(crate::cluster::Forget::Account(me));
    }
    get_settings(State(state), auth).await
}

/// The actor ids of accounts on other servers the signed-in account says it also is:
/// published as its actor's `alsoKnownAs`, so an account there may move here (`Move`).
#[derive(Debug, Serialize)]
struct Aliases {
    also_known_as: Vec<String>,
}

async fn get_aliases(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Aliases>> {
    let me = auth.user("read:accounts")?;
    Ok(Json(Aliases {
        also_known_as: moves::aliases(&state, me).await?,
    }))
}

#[derive(Debug, Deserialize)]
struct AliasesForm {
    #[serde(default, deserialize_with = "flex::strings")]
    also_known_as: Vec<String>,
}

async fn put_aliases(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<AliasesForm>,
) -> ApiResult<Json<Aliases>> {
    let me = auth.user("write:accounts")?;
    Ok(Json(Aliases {
        also_known_as: moves::set_aliases(&state, me, form.also_known_as).await?,
    }))
}
