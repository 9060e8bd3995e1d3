//! `/api/v1/polls/:id` and its votes.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::params::{flex, Params};
use super::path_id;
use crate::app::{polls as uc, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/polls/{id}", get(show))
        .route("/api/v1/polls/{id}/votes", post(vote))
}

async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Poll>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:statuses")?).await?;
    Ok(Json(uc::show(&state, &viewer, path_id(&id)?).await?))
}

#[derive(Debug, Deserialize)]
struct VoteForm {
    #[serde(default, deserialize_with = "flex::strings")]
    choices: Vec<String>,
}

async fn vote(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(form): Params<VoteForm>,
) -> ApiResult<Json<model::Poll>> {
    let me = auth.user("write:statuses")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let choices = form
        .choices
        .iter()
        .map(|c| c.trim().parse::<i64>())
        .collect::<Result<Vec<i64>, _>>()
        .map_err(|_| ApiError::unprocessable("Choices must be option indexes"))?;
    Ok(Json(
        uc::vote(&state, &viewer, path_id(&id)?, &choices).await?,
    ))
}
