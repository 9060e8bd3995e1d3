//! `POST /api/v1/reports`.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::params::{flex, Params};
use crate::app::{reports as uc, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/reports", post(create))
}

#[derive(Debug, Deserialize)]
struct ReportForm {
    #[serde(default, deserialize_with = "flex::opt_id")]
    account_id: Option<i64>,
    #[serde(default, deserialize_with = "flex::strings")]
    status_ids: Vec<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    comment: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    category: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    forward: Option<bool>,
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params(f): Params<ReportForm>,
) -> ApiResult<Json<model::Report>> {
    let me = auth.user("write:reports")?;
    let viewer = Viewer::load(&state, Some(me)).await?;
    let account_id = f
        .account_id
        .ok_or_else(|| ApiError::unprocessable("account_id is missing"))?;
    let status_ids = f
        .status_ids
        .iter()
        .map(|s| {
            s.parse()
                .map_err(|_| ApiError::unprocessable(format!("{s} is not a status id")))
        })
        .collect::<ApiResult<Vec<i64>>>()?;
    let report = uc::NewReport {
        account_id,
        status_ids,
        comment: f.comment.unwrap_or_default(),
        category: f.category,
        forward: f.forward.unwrap_or(false),
    };
    Ok(Json(uc::create(&state, &viewer, report).await?))
}
