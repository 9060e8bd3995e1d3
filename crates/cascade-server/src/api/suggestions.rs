//! `/api/v2/suggestions` and `/api/v1/suggestions` (follow suggestions), and the
//! follow-back rule, `/api/v1/cascade/follow_back` (a Cascade extension).

use axum::extract::{Path, State};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::params::{flex, Params};
use super::path_id;
use crate::app::suggestions as uc;
use crate::app::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v2/suggestions", get(suggestions_v2))
        .route("/api/v1/suggestions", get(suggestions_v1))
        .route("/api/v1/suggestions/{id}", delete(dismiss))
        .route("/api/v1/cascade/follow_back", get(get_rule).put(set_rule))
}

#[derive(Debug, Default, Deserialize)]
struct LimitParams {
    #[serde(default, deserialize_with = "flex::opt_usize")]
    limit: Option<usize>,
}

impl LimitParams {
    fn limit(&self) -> usize {
        self.limit.unwrap_or(40).clamp(1, 80)
    }
}

async fn suggestions_v2(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<LimitParams>,
) -> ApiResult<Json<Vec<model::Suggestion>>> {
    let me = auth.user("read:accounts")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    Ok(Json(uc::suggest(&state, &viewer, p.limit()).await?))
}

async fn suggestions_v1(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<LimitParams>,
) -> ApiResult<Json<Vec<model::Account>>> {
    let me = auth.user("read:accounts")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let suggestions = uc::suggest(&state, &viewer, p.limit()).await?;
    Ok(Json(suggestions.into_iter().map(|s| s.account).collect()))
}

async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:accounts")?;
    uc::dismiss(&state, me, path_id(&id)?).await?;
    Ok(Json(serde_json::json!({})))
}

async fn get_rule(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<model::FollowBackRule>> {
    let me = auth.user("read:follows")?;
    Ok(Json(uc::follow_back_rule(&state, me).await?))
}

#[derive(Debug, Default, Deserialize)]
struct RuleForm {
    #[serde(default, deserialize_with = "flex::opt_bool")]
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    min_overlap: Option<String>,
}

async fn set_rule(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<RuleForm>,
) -> ApiResult<Json<model::FollowBackRule>> {
    let me = auth.user("write:follows")?;
    let Some(enabled) = form.enabled else {
        return Err(ApiError::Unprocessable("enabled is required".into()));
    };
    let min_overlap = match form.min_overlap.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    ApiError::Unprocessable("min_overlap must be a number from 0 to 1".into())
                })?,
        ),
    };
    Ok(Json(
        uc::set_follow_back_rule(&state, me, enabled, min_overlap).await?,
    ))
}
