//! CORS for browser clients (Elk, Phanpy, Pinafore-style apps) served from another origin:
//! the same resources and headers as Mastodon's `Rack::Cors` setup. Any origin may call the
//! API, the OAuth token and revoke endpoints and the discovery documents, without
//! credentials (tokens travel in `Authorization`, never in cookies), so the answer is
//! `Access-Control-Allow-Origin: *` and never varies by origin. Pages (the OAuth login,
//! profiles) get no CORS headers.
//!
//! This layer runs outermost, so a preflight is answered before the rate limiter, the
//! overload guard or authentication see it, and refusals from those (429, 503, 401) carry
//! the headers a browser needs to let the client read them.

use axum::extract::Request;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, VARY,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The methods each kind of resource allows across origins, as Mastodon lists them.
const API_METHODS: &str = "POST, PUT, DELETE, GET, PATCH, OPTIONS";
const TOKEN_METHODS: &str = "POST";
const READ_METHODS: &str = "GET";

/// Response headers a cross-origin client may read besides the safelisted ones.
const EXPOSED: &str =
    "Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id";

/// What a browser caches a preflight for, in seconds (rack-cors's default).
const MAX_AGE: &str = "7200";

/// Request headers a preflight may ask for when it names none we can echo.
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, Accept";

/// The longest `Access-Control-Request-Headers` echoed back; a longer one gets the list
/// above instead.
const MAX_REQUEST_HEADERS: usize = 1_024;

/// The methods allowed across origins on `path`, or `None` where CORS does not apply.
pub fn methods_for(path: &str) -> Option<&'static str> {
    if path == "/api" || path.starts_with("/api/") {
        Some(API_METHODS)
    } else if path == "/oauth/token" || path == "/oauth/revoke" {
        Some(TOKEN_METHODS)
    } else if path.starts_with("/.well-known/") || path.starts_with("/nodeinfo/") {
        Some(READ_METHODS)
    } else {
        None
    }
}

/// Answers preflights and adds the CORS headers to every response of a CORS resource.
pub async fn cors(request: Request, next: Next) -> Response {
    let Some(methods) = methods_for(request.uri().path()) else {
        return next.run(request).await;
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        // Any header may be sent (`headers: :any`), so the ones asked for are echoed;
        // with `*` a browser would refuse `Authorization`.
        let asked = request
            .headers()
            .get(ACCESS_CONTROL_REQUEST_HEADERS)
            .filter(|v| v.len() <= MAX_REQUEST_HEADERS && !v.is_empty())
            .cloned()
            .unwrap_or(HeaderValue::from_static(ALLOWED_HEADERS));
        let mut response = StatusCode::OK.into_response();
        let headers = response.headers_mut();
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        headers.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(methods),
        );
        headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, asked);
        headers.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
        headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
        headers.insert(
            VARY,
            HeaderValue::from_static(
                "Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        return response;
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_covers_the_api_and_the_token_endpoints_only() {
        assert_eq!(methods_for("/api/v1/timelines/home"), Some(API_METHODS));
        assert_eq!(methods_for("/api/v1/streaming"), Some(API_METHODS));
        assert_eq!(methods_for("/oauth/token"), Some(TOKEN_METHODS));
        assert_eq!(methods_for("/oauth/revoke"), Some(TOKEN_METHODS));
        assert_eq!(
            methods_for("/.well-known/oauth-authorization-server"),
            Some(READ_METHODS)
        );
        assert_eq!(methods_for("/oauth/authorize"), None);
        assert_eq!(methods_for("/@alice"), None);
        assert_eq!(methods_for("/apis"), None);
    }
}
