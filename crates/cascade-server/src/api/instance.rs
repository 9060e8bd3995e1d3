//! What clients read first: the instance descriptions (v1 and v2), custom emojis,
//! preferences, WebFinger, NodeInfo and health.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cascade_core::media;
use cascade_core::MAX_STATUS_CHARS;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Auth;
use super::params::{flex, Params};
use crate::app::{instance, render};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The Mastodon version whose API Cascade implements, in the form clients parse.
pub const MASTODON_VERSION: &str = "4.5.0";
/// `api_versions.mastodon`: the API revision of Mastodon 4.5.
pub const MASTODON_API_VERSION: i64 = 7;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/instance", get(instance_v1))
        .route("/api/v2/instance", get(instance_v2))
        .route(
            "/api/v1/custom_emojis",
            get(|State(state): State<AppState>| async move {
                Json(crate::app::emojis::list(&state))
            }),
        )
        .route("/api/v1/instance/rules", get(rules))
        // No federation: this instance knows no other.
        .route(
            "/api/v1/instance/peers",
            get(|| async { Json(Vec::<Value>::new()) }),
        )
        .route("/api/v1/instance/activity", get(activity))
        .route(
            "/api/v1/instance/extended_description",
            get(extended_description),
        )
        .route("/api/v1/instance/privacy_policy", get(privacy_policy))
        .route("/api/v1/instance/terms_of_service", get(terms_of_service))
        .route(
            "/api/v1/instance/terms_of_service/{date}",
            get(terms_of_service_on),
        )
        // No translation backend: no language pairs.
        .route(
            "/api/v1/instance/translation_languages",
            get(|| async { Json(json!({})) }),
        )
        .route("/api/oembed", get(oembed))
        .route("/api/v1/preferences", get(preferences))
        .route("/.well-known/webfinger", get(webfinger))
        .route("/.well-known/nodeinfo", get(nodeinfo_links))
        .route("/nodeinfo/2.0", get(nodeinfo))
        .route("/health", get(|| async { "OK" }))
        .route("/avatars/original/missing.png", get(missing_image))
        .route("/headers/original/missing.png", get(missing_image))
}

fn version() -> String {
    format!(
        "{MASTODON_VERSION} (compatible; Cascade {})",
        env!("CARGO_PKG_VERSION")
    )
}

/// `configuration`, with the instance's VAPID public key (made on first start).
async fn configuration(state: &AppState) -> ApiResult<Value> {
    let vapid = crate::app::push::vapid(state).await?;
    Ok(json!({
        "urls": { "streaming": state.url("").replacen("http", "ws", 1), "status": null },
        "vapid": { "public_key": vapid.public_key },
        "accounts": { "max_featured_tags": 10, "max_pinned_statuses": 5 },
        "statuses": { "max_characters": MAX_STATUS_CHARS, "max_media_attachments": media::MAX_ATTACHMENTS, "characters_reserved_per_url": cascade_core::text::URL_WEIGHT },
        "media_attachments": {
            "supported_mime_types": crate::app::media::supported_types(state),
            "image_size_limit": state.config.media_image_bytes,
            "image_matrix_limit": media::MAX_IMAGE_PIXELS,
            "video_size_limit": if state.media.ffmpeg.is_some() { state.config.media_video_bytes } else { 0 },
            "video_frame_rate_limit": 120,
            "video_matrix_limit": if state.media.ffmpeg.is_some() { 8_294_400 } else { 0 },
            "description_limit": media::MAX_DESCRIPTION_CHARS,
        },
        "polls": { "max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2629746 },
        "translation": { "enabled": false },
        "timelines_access": { "live_feeds": { "local": "public", "remote": "public" }, "hashtag_feeds": { "local": "public", "remote": "public" }, "trending_link_feeds": { "local": "public", "remote": "public" } },
    }))
}

async fn contact(state: &AppState) -> ApiResult<Option<Value>> {
    Ok(match instance::contact_account(state).await? {
        Some(a) => Some(
            serde_json::to_value(render::account(state, &a))
                .map_err(|e| ApiError::Internal(e.into()))?,
        ),
        None => None,
    })
}

async fn instance_v2(State(state): State<AppState>) -> ApiResult<Response> {
    let json = state
        .instance
        .get_or_render("v2", describe_v2(&state))
        .await?;
    Ok(json_bytes(json))
}

async fn instance_v1(State(state): State<AppState>) -> ApiResult<Response> {
    let json = state
        .instance
        .get_or_render("v1", describe_v1(&state))
        .await?;
    Ok(json_bytes(json))
}

fn json_bytes(json: bytes::Bytes) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response()
}

async fn describe_v2(state: &AppState) -> ApiResult<Value> {
    let users = state.store.count_users().await?;
    Ok(json!({
        "domain": state.config.domain,
        "title": state.config.title,
        "version": version(),
        "source_url": "https://example.invalid/cascade",
        "description": "Cascade: a social network server that survives going viral, and explains it.",
        "usage": { "users": { "active_month": users } },
        "thumbnail": { "url": state.url("/avatars/original/missing.png"), "blurhash": null, "versions": {} },
        "icon": [],
        "languages": ["en"],
        "configuration": configuration(state).await?,
        "registrations": { "enabled": state.config.registrations_open, "approval_required": state.config.approval_required, "message": state.config.pages.registrations_message, "min_age": null, "reason_required": false },
        "api_versions": { "mastodon": MASTODON_API_VERSION },
        "contact": { "email": instance::contact_email(state), "account": contact(state).await? },
        "rules": instance::rules(state),
    }))
}

async fn describe_v1(state: &AppState) -> ApiResult<Value> {
    let users = state.store.count_users().await?;
    let statuses = state.store.count_local_statuses().await?;
    Ok(json!({
        "uri": state.config.domain,
        "title": state.config.title,
        "short_description": "Cascade: a social network server that survives going viral, and explains it.",
        "description": "Cascade: a social network server that survives going viral, and explains it.",
        "email": instance::contact_email(state),
        "version": version(),
        "urls": { "streaming_api": state.url("").replacen("http", "ws", 1) },
        "stats": { "user_count": users, "status_count": statuses, "domain_count": 0 },
        "thumbnail": state.url("/avatars/original/missing.png"),
        "languages": ["en"],
        "registrations": state.config.registrations_open,
        "approval_required": state.config.approval_required,
        "invites_enabled": false,
        "configuration": configuration(state).await?,
        "contact_account": contact(state).await?,
        "rules": instance::rules(state),
    }))
}

async fn rules(State(state): State<AppState>) -> Json<Vec<Value>> {
    Json(instance::rules(&state))
}

async fn extended_description(State(state): State<AppState>) -> Json<Value> {
    Json(instance::extended_description(&state))
}

async fn privacy_policy(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(instance::privacy_policy(&state)?))
}

async fn terms_of_service(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(instance::terms_of_service(&state, None)?))
}

async fn terms_of_service_on(
    State(state): State<AppState>,
    Path(date): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(instance::terms_of_service(&state, Some(&date))?))
}

async fn activity(State(state): State<AppState>) -> ApiResult<Json<Vec<Value>>> {
    Ok(Json(instance::activity(&state).await?))
}

#[derive(Debug, Deserialize)]
struct OembedParams {
    #[serde(default, deserialize_with = "flex::opt_string")]
    url: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_i64")]
    maxwidth: Option<i64>,
    #[serde(default, deserialize_with = "flex::opt_i64")]
    #[allow(dead_code)]
    maxheight: Option<i64>,
}

async fn oembed(
    State(state): State<AppState>,
    Params(p): Params<OembedParams>,
) -> ApiResult<Json<Value>> {
    let url = p
        .url
        .ok_or_else(|| ApiError::BadRequest("Missing parameter: url".into()))?;
    Ok(Json(instance::oembed(&state, &url, p.maxwidth).await?))
}

async fn preferences(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let me = auth.user("read:accounts")?;
    let user = state.store.user(me).await?;
    Ok(Json(json!({
        "posting:default:visibility": user.default_visibility,
        "posting:default:sensitive": user.default_sensitive,
        "posting:default:language": user.default_language,
        "posting:default:quote_policy": "public",
        "reading:expand:media": "default",
        "reading:expand:spoilers": false,
    })))
}

#[derive(Debug, Deserialize)]
struct WebfingerParams {
    #[serde(default, deserialize_with = "flex::opt_string")]
    resource: Option<String>,
}

async fn webfinger(
    State(state): State<AppState>,
    Params(p): Params<WebfingerParams>,
) -> ApiResult<impl IntoResponse> {
    let resource = p
        .resource
        .ok_or_else(|| ApiError::BadRequest("Missing parameter: resource".into()))?;
    let acct = resource.strip_prefix("acct:").unwrap_or(&resource);
    let username = if let Some(rest) = acct.strip_prefix(&state.url("/@")) {
        rest
    } else if let Some(rest) = acct.strip_prefix(&state.url("/users/")) {
        rest
    } else {
        match acct.trim_start_matches('@').split_once('@') {
            Some((user, domain)) if domain.eq_ignore_ascii_case(&state.config.domain) => user,
            _ => return Err(ApiError::NotFound),
        }
    };
    let account = state.store.account_by_username(username).await?;
    let body = json!({
        "subject": format!("acct:{}@{}", account.username, state.config.domain),
        "aliases": [
            state.url(&format!("/@{}", account.username)),
            state.url(&format!("/users/{}", account.username)),
        ],
        "links": [
            { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": state.url(&format!("/@{}", account.username)) },
            { "rel": "self", "type": "application/activity+json", "href": state.url(&format!("/users/{}", account.username)) },
        ],
    });
    Ok((
        [(header::CONTENT_TYPE, "application/jrd+json; charset=utf-8")],
        Json(body),
    ))
}

async fn nodeinfo_links(State(state): State<AppState>) -> Json<Value> {
    Json(
        json!({ "links": [{ "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": state.url("/nodeinfo/2.0") }] }),
    )
}

async fn nodeinfo(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let users = state.store.count_users().await?;
    let statuses = state.store.count_local_statuses().await?;
    Ok(Json(json!({
        "version": "2.0",
        "software": { "name": "cascade", "version": env!("CARGO_PKG_VERSION") },
        // Actors, signatures, follows and notes federate (docs/FEDERATION.md says what
        // does not yet).
        "protocols": ["activitypub"],
        "services": { "outbound": [], "inbound": [] },
        "usage": { "users": { "total": users, "activeMonth": users, "activeHalfyear": users }, "localPosts": statuses },
        "openRegistrations": state.config.registrations_open,
        "metadata": { "nodeName": state.config.title },
    })))
}

/// A 1×1 grey PNG: the default avatar and header, so clients have an image to load.
async fn missing_image() -> impl IntoResponse {
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A,
        0x7E, 0x9B, 0x55, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xB8,
        0x01, 0x00, 0x00, 0xC2, 0x00, 0xC1, 0x3D, 0x6E, 0x2A, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        PNG,
    )
}
