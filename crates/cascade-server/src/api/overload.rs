//! Load shedding: a cap on requests in flight and a deadline per request, so a rush
//! (a post going viral) gets fast 503s with `Retry-After`, as GoToSocial's throttling
//! does, instead of a queue that grows until memory or patience runs out.
//!
//! The deadline covers the request until its response starts: a streaming response
//! (WebSocket upgrade, server-sent events) has started once its headers are out.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// How long a client told to come back should wait, in seconds.
const RETRY_AFTER_SECS: u32 = 2;

fn unavailable(message: &str) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(serde_json::json!({ "error": message })),
    )
        .into_response();
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from(RETRY_AFTER_SECS),
    );
    response
}

/// The middleware: refuses a request when the cap is reached, and answers 503 when one
/// takes longer than `Config::request_timeout` to start its response.
pub async fn shed(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(_permit) = state.in_flight.try_enter() else {
        return unavailable("The server is busy; try again shortly");
    };
    match tokio::time::timeout(state.config.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => unavailable("The request took too long; try again shortly"),
    }
}
