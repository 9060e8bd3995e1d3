//! Custom emojis uploaded by administrators (a Cascade extension: Mastodon uploads them
//! through its web admin pages only). The list is Mastodon's `GET /api/v1/custom_emojis`,
//! in `api::instance`.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::admin::administrator;
use super::auth::Auth;
use super::media::read_form;
use crate::app::emojis::{self as uc, NewEmoji};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/cascade/admin/custom_emojis",
            post(add).layer(DefaultBodyLimit::max(uc::MAX_BYTES + 64 * 1024)),
        )
        .route(
            "/api/v1/cascade/admin/custom_emojis/{shortcode}",
            delete(remove),
        )
}

/// Multipart: `shortcode`, `file` (PNG, GIF or WebP, at most 256 KiB), `category`,
/// `visible_in_picker` (default true). Answers the CustomEmoji.
async fn add(
    State(state): State<AppState>,
    auth: Auth,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<Value>> {
    administrator(&state, &auth).await?;
    let mut form = read_form(multipart, uc::MAX_BYTES).await?;
    let visible = form
        .fields
        .get("visible_in_picker")
        .is_none_or(|v| !matches!(v.as_str(), "false" | "0" | "off" | "no"));
    let new = NewEmoji {
        shortcode: form.fields.remove("shortcode").unwrap_or_default(),
        bytes: form
            .file
            .ok_or_else(|| ApiError::unprocessable("Image can't be blank"))?,
        category: form.fields.remove("category"),
        visible_in_picker: visible,
    };
    Ok(Json(uc::add(&state, new).await?))
}

async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(shortcode): Path<String>,
) -> ApiResult<Json<Value>> {
    administrator(&state, &auth).await?;
    uc::remove(&state, &shortcode).await?;
    Ok(Json(json!({})))
}
