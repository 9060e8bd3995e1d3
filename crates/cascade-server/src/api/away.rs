//! `/api/v1/cascade/away` (a Cascade extension): set, read and clear an out-of-office
//! period. What it does while it lasts is in `app::away`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::params::{flex, Params};
use crate::app::away::{self as uc, AwayInput};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/cascade/away",
        get(get_away).put(set_away).delete(clear_away),
    )
}

#[derive(Debug, Default, Deserialize)]
struct AwayForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    message: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    starts_at: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    ends_at: Option<String>,
}

async fn get_away(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<model::Away>> {
    let me = auth.user("read:accounts")?;
    Ok(Json(uc::get(&state, me).await?))
}

async fn set_away(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<AwayForm>,
) -> ApiResult<Json<model::Away>> {
    let me = auth.user("write:accounts")?;
    let input = AwayInput {
        message: form.message,
        starts_at: form.starts_at,
        ends_at: form.ends_at,
    };
    Ok(Json(uc::set(&state, me, input).await?))
}

async fn clear_away(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:accounts")?;
    uc::clear(&state, me).await?;
    Ok(Json(serde_json::json!({})))
}
