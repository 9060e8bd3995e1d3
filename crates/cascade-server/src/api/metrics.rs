//! `GET /metrics` for Prometheus, and the middleware that counts every routed request.
//! Served only when `--metrics-token` is set, and only to that bearer token: the figures
//! say how busy the server is and which routes it serves, nothing for the public.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest as _, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(expected) = &state.config.metrics_token else {
        return Err(ApiError::NotFound);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compared as digests, so the time taken says nothing about how much matched.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) {
        return Err(ApiError::Unauthorized);
    }
    let queued = state.store.jobs_by_kind().await?;
    let text = state.metrics.render(
        &queued,
        cascade_core::time::now_millis(),
        (state.streams.connections(), state.streams.dropped()),
        &state.store.pool_stats(),
    );
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// The route pattern a request matched, carried out on its response so that the
/// outermost layer can count it.
#[derive(Clone)]
struct Route(MatchedPath);

/// Marks the response of a routed request with its route pattern.
pub async fn mark_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(Route(route));
    }
    response
}

/// Counts every request by its route pattern (never the raw path, whose ids would make a
/// series per status), method and status, with the time until the response started. It
/// is the outermost layer, so requests shed under overload (503) or refused by a rate
/// limit (429) are counted too, as route `unrouted` when they never reached a route.
pub async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<Route>()
        .map_or("unrouted", |r| r.0.as_str());
    let status: StatusCode = response.status();
    state.metrics.request(
        route,
        method.as_str(),
        status.as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
