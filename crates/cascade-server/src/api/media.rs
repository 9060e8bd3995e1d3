//! `/api/v1/media`, `/api/v2/media`, the profile picture deletions, and the stored files
//! themselves (`/system/media/...`, the generated avatars under `/system/identicons/`).
//!
//! Uploads are multipart bodies with a larger limit than other requests
//! (`Config::media_video_bytes`); a file past its type's limit is a 413.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use cascade_core::media::Format;
use cascade_store::ProfileImage;
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::params::{flex, Params};
use super::path_id;
use crate::app::media::{self as uc, Upload};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Room for the text fields beside the file in a multipart body.
const FORM_OVERHEAD: usize = 64 * 1024;

pub fn routes(config: &crate::Config) -> Router<AppState> {
    let upload_limit = config.media_video_bytes.max(config.media_image_bytes) + FORM_OVERHEAD;
    Router::new()
        .route(
            "/api/v1/media",
            post(upload_v1).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/api/v2/media",
            post(upload_v2).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/api/v1/media/{id}",
            get(get_media).put(update_media).delete(delete_media),
        )
        .route("/api/v1/profile/avatar", delete(delete_avatar))
        .route("/api/v1/profile/header", delete(delete_header))
        .route("/system/media/{prefix}/{name}", get(serve_file))
        .route("/system/identicons/{name}", get(identicon))
}

/// A multipart body read whole: its `file`, and its text fields by name. Other file
/// fields are read (bounded) and dropped, as are text fields past 16 KiB.
pub(super) struct Form {
    pub file: Option<Vec<u8>>,
    pub fields: std::collections::HashMap<String, String>,
}

/// Reads a multipart body with a `file` of at most `limit` bytes.
pub(super) async fn read_form(
    multipart: Result<Multipart, MultipartRejection>,
    limit: usize,
) -> ApiResult<Form> {
    let mut multipart = multipart.map_err(|_| {
        ApiError::unprocessable("File can't be blank: send it as multipart/form-data")
    })?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::BadRequest(format!("The multipart body is malformed: {e}"))
        }
    };
    let mut form = Form {
        file: None,
        fields: Default::default(),
    };
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if field.file_name().is_some() || name == "file" {
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if bytes.len() + chunk.len() > limit {
                    return Err(ApiError::TooLarge);
                }
                bytes.extend_from_slice(&chunk);
            }
            if name == "file" {
                form.file = Some(bytes);
            }
        } else {
            let text = field.text().await.map_err(bad)?;
            if text.len() <= 16 * 1024 {
                form.fields.insert(name, text);
            }
        }
    }
    Ok(form)
}

/// Reads an upload's multipart body: the `file`, its `description` and `focus`. A
/// `thumbnail` is read and ignored (Cascade takes video posters itself).
async fn read_upload(
    multipart: Result<Multipart, MultipartRejection>,
    limit: usize,
) -> ApiResult<Upload> {
    let mut form = read_form(multipart, limit).await?;
    Ok(Upload {
        bytes: form
            .file
            .ok_or_else(|| ApiError::unprocessable("File can't be blank"))?,
        description: form.fields.remove("description"),
        focus: form.fields.remove("focus"),
    })
}

async fn upload(
    state: &AppState,
    auth: &Auth,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(bool, model::MediaAttachment)> {
    let me = auth.user("write:media")?;
    let limit = state
        .config
        .media_video_bytes
        .max(state.config.media_image_bytes);
    let upload = read_upload(multipart, limit).await?;
    let record = uc::upload(state, me, upload).await?;
    Ok((uc::is_ready(&record), uc::entity(state, &record)))
}

async fn upload_v1(
    State(state): State<AppState>,
    auth: Auth,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<model::MediaAttachment>> {
    Ok(Json(upload(&state, &auth, multipart).await?.1))
}

/// 200 when the upload is done, 202 while video or audio is still processing.
async fn upload_v2(
    State(state): State<AppState>,
    auth: Auth,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let (ready, entity) = upload(&state, &auth, multipart).await?;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(entity)).into_response())
}

/// 200 when done, 206 while processing, as in Mastodon.
async fn get_media(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let me = auth.user("write:media")?;
    let record = uc::own(&state, me, path_id(&id)?).await?;
    let status = if uc::is_ready(&record) {
        StatusCode::OK
    } else {
        StatusCode::PARTIAL_CONTENT
    };
    Ok((status, Json(uc::entity(&state, &record))).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct MediaForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    description: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    focus: Option<String>,
}

async fn update_media(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(form): Params<MediaForm>,
) -> ApiResult<Json<model::MediaAttachment>> {
    let me = auth.user("write:media")?;
    let record = uc::update(&state, me, path_id(&id)?, form.description, form.focus).await?;
    Ok(Json(uc::entity(&state, &record)))
}

async fn delete_media(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:media")?;
    uc::delete(&state, me, path_id(&id)?).await?;
    Ok(Json(serde_json::json!({})))
}

async fn delete_profile_image(
    state: &AppState,
    auth: &Auth,
    which: ProfileImage,
) -> ApiResult<Json<model::Account>> {
    let me = auth.user("write:accounts")?;
    uc::set_profile_image(state, me, which, None).await?;
    Ok(Json(
        crate::app::accounts::credential_account(state, me).await?,
    ))
}

async fn delete_avatar(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<model::Account>> {
    delete_profile_image(&state, &auth, ProfileImage::Avatar).await
}

async fn delete_header(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<model::Account>> {
    delete_profile_image(&state, &auth, ProfileImage::Header).await
}

/// Files are immutable under their key: cached for a year, the key's random part as the
/// ETag.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` against a file of `total` bytes: the range
/// `start..end` (end excluded); `Err` when it cannot be satisfied. Several ranges are
/// answered with the whole file (`None`), which RFC 9110 allows.
fn parse_range(value: &str, total: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        (total.saturating_sub(n), total)
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end = if b.is_empty() {
            total
        } else {
            let last: u64 = b.parse().map_err(|_| ())?;
            if last < start {
                return Err(());
            }
            (last + 1).min(total)
        };
        (start, end)
    };
    if range.0 >= total {
        return Err(());
    }
    Ok(Some(range))
}

async fn serve_file(
    State(state): State<AppState>,
    Path((prefix, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let key = format!("{prefix}/{name}");
    if !crate::media::storage::valid_key(&key) {
        return Err(ApiError::NotFound);
    }
    // Served from a public base URL: a link made before it was set still finds the file.
    if state.config.media_public_url.is_some() {
        let target = uc::file_url(&state, &key);
        return Ok((
            StatusCode::FOUND,
            [
                (header::LOCATION, target),
                (header::CACHE_CONTROL, CACHE_FOREVER.to_string()),
            ],
        )
            .into_response());
    }
    let (stem, ext) = name.split_once('.').ok_or(ApiError::NotFound)?;
    let mime = Format::from_extension(ext)
        .map(Format::mime)
        .ok_or(ApiError::NotFound)?;
    let etag = format!("\"{stem}\"");
    let common = [
        (header::CACHE_CONTROL, CACHE_FOREVER.to_string()),
        (header::ETAG, etag.clone()),
        (header::ACCEPT_RANGES, "bytes".to_string()),
    ];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let store = &state.media.store;
    let io = |e: std::io::Error| ApiError::Internal(e.into());
    let total = store
        .len(&key)
        .await
        .map_err(io)?
        .ok_or(ApiError::NotFound)?;
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) => match parse_range(r, total) {
            Ok(range) => range,
            Err(()) => {
                let mut response = (
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    Json(serde_json::json!({"error": "Range not satisfiable"})),
                )
                    .into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{total}")) {
                    response.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return Ok(response);
            }
        },
        None => None,
    };
    let blob = store
        .get(&key, range)
        .await
        .map_err(io)?
        .ok_or(ApiError::NotFound)?;
    let mut response = (common, blob.bytes).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Some((start, end)) = range {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&format!(
            "bytes {start}-{}/{}",
            end.saturating_sub(1),
            blob.total
        )) {
            response.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(response)
}

/// The generated default avatar of an account (`<id>.png`), drawn on request: it is
/// small, and the same for the same id forever.
async fn identicon(Path(name): Path<String>) -> ApiResult<Response> {
    let id: i64 = name
        .strip_suffix(".png")
        .and_then(|n| n.parse().ok())
        .ok_or(ApiError::NotFound)?;
    let png = crate::media::image::identicon(id);
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, CACHE_FOREVER),
        ],
        png,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some((0, 10))));
        assert_eq!(parse_range("bytes=90-", 100), Ok(Some((90, 100))));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some((90, 100))));
        assert_eq!(parse_range("bytes=50-500", 100), Ok(Some((50, 100))));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(parse_range("bytes=100-", 100), Err(()));
        assert_eq!(parse_range("bytes=9-3", 100), Err(()));
        assert_eq!(parse_range("bytes=x-y", 100), Err(()));
        assert_eq!(parse_range("items=1-2", 100), Ok(None));
    }
}
