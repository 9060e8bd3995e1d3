//! The Mastodon client API over HTTP: routes, extractors and JSON shapes. Handlers
//! extract, call one use case and render; they run no SQL and hold no rules.

use axum::extract::DefaultBodyLimit;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::state::AppState;

pub mod accounts;
pub mod activitypub;
pub mod admin;
pub mod announcements;
pub mod annual;
pub mod auth;
pub mod away;
pub mod conversations;
pub mod cors;
pub mod domain_blocks;
pub mod emojis;
pub mod extensions;
pub mod filters;
pub mod instance;
pub mod limits;
pub mod lists;
pub mod media;
pub mod metrics;
pub mod notifications;
pub mod oauth;
pub mod overload;
pub mod paging;
pub mod params;
pub mod polls;
pub mod profiles;
pub mod push;
pub mod reports;
pub mod scheduled;
pub mod search;
pub mod statuses;
pub mod streaming;
pub mod suggestions;
pub mod tags;
pub mod timelines;
pub mod trends;
pub mod watch;

/// The Mastodon entities, defined below the use cases that build them.
pub use crate::app::entity as model;

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let media_routes = media::routes(&state.config);
    Router::new()
        .merge(oauth::routes())
        .merge(instance::routes())
        .merge(activitypub::routes())
        .merge(accounts::routes())
        .merge(statuses::routes())
        .merge(timelines::routes())
        .merge(lists::routes())
        .merge(notifications::routes())
        .merge(conversations::routes())
        .merge(streaming::routes())
        .merge(tags::routes())
        .merge(reports::routes())
        .merge(extensions::routes())
        .merge(push::routes())
        .merge(away::routes())
        .merge(search::routes())
        .merge(trends::routes())
        .merge(suggestions::routes())
        .merge(watch::routes())
        .merge(filters::routes())
        .merge(profiles::routes())
        .merge(announcements::routes())
        .merge(polls::routes())
        .merge(scheduled::routes())
        .merge(media_routes)
        .merge(admin::routes())
        .merge(domain_blocks::routes())
        .merge(emojis::routes())
        .merge(annual::routes())
        .merge(crate::web::routes(&state.config))
        .merge(metrics::routes())
        .route("/api/v1/health", get(|| async { "OK" }))
        .route_layer(axum::middleware::from_fn(metrics::mark_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(json_errors))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            overload::shed,
        ))
        .layer(axum::middleware::from_fn(crate::web::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count,
        ))
        // Outermost: preflights never reach the limits, and their refusals carry CORS.
        .layer(axum::middleware::from_fn(cors::cors))
        .with_state(state)
}

/// Errors an extractor answers by itself (axum's rejections are plain text, for a query
/// string it could not read, say) become Mastodon's `{"error": ...}` with the same status,
/// so every error a client gets is JSON whichever extractor refused the request.
async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    let plain = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !(response.status().is_client_error() || response.status().is_server_error()) || !plain {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // A rejection's text is a line or two; anything longer is cut, not buffered whole.
    let text = match axum::body::to_bytes(body, 4_096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        parts
            .status
            .canonical_reason()
            .unwrap_or("Error")
            .to_string()
    } else {
        text
    };
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let json = axum::Json(serde_json::json!({ "error": message }));
    (parts, json).into_response()
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> impl IntoResponse {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(serde_json::json!({"error": "Method not allowed"})),
    )
}

/// Parses an id from a path segment; anything that is not one is a 404, as in Mastodon.
pub fn path_id(raw: &str) -> Result<cascade_core::Id, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}
