//! Annual reports (`/api/v1/annual_reports`), Mastodon 4.3–4.4. Generation on request
//! and its state are Mastodon 4.6 and not served: a report is made when first read.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::auth::Auth;
use crate::app::annual as uc;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/annual_reports", get(all))
        .route("/api/v1/annual_reports/{year}", get(one))
        .route("/api/v1/annual_reports/{year}/read", post(read))
}

fn year(raw: &str) -> ApiResult<i64> {
    raw.parse()
        .ok()
        .filter(|y| (1970..=9999).contains(y))
        .ok_or(ApiError::NotFound)
}

async fn all(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let me = auth.user("read:accounts")?;
    Ok(Json(uc::all(&state, me).await?))
}

async fn one(
    State(state): State<AppState>,
    auth: Auth,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("read:accounts")?;
    Ok(Json(uc::one(&state, me, year(&raw)?).await?))
}

async fn read(
    State(state): State<AppState>,
    auth: Auth,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:accounts")?;
    uc::read(&state, me, year(&raw)?).await?;
    Ok(Json(json!({})))
}
