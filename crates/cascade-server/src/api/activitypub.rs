//! ActivityPub over HTTP: actor documents and notes for clients that ask for
//! `application/activity+json` (a browser asking for a page is sent to the page), the
//! collections, and the inboxes, whose requests go whole (method, target, headers, body)
//! to `app::federation::inbox`, which verifies and applies them.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cascade_core::activitypub::wants_activity_json;
use serde_json::Value;

use crate::api::params::{flex, Params};
use crate::api::path_id;
use crate::app::federation::{self, documents, inbox};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users/{username}", get(actor))
        .route("/users/{username}/statuses/{id}", get(status))
        .route("/users/{username}/outbox", get(outbox))
        .route("/users/{username}/followers", get(followers))
        .route("/users/{username}/following", get(following))
        .route("/users/{username}/collections/featured", get(featured))
        .route("/users/{username}/inbox", post(user_inbox))
        .route("/inbox", post(shared_inbox))
        .route("/actor", get(instance_actor))
        .route("/actor/inbox", post(shared_inbox))
}

/// An ActivityPub document with its media type.
struct Activity(Value);

impl IntoResponse for Activity {
    fn into_response(self) -> Response {
        (
            [(
                header::CONTENT_TYPE,
                "application/activity+json; charset=utf-8",
            )],
            Json(self.0),
        )
            .into_response()
    }
}

fn asks_for_activity(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(wants_activity_json)
}

async fn local(state: &AppState, username: &str) -> ApiResult<cascade_store::Account> {
    let a = state.store.account_by_username(username).await?;
    if a.suspended_at.is_some() {
        return Err(ApiError::NotFound);
    }
    Ok(a)
}

async fn actor(
    State(state): State<AppState>,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let a = local(&state, &username).await?;
    if !asks_for_activity(&headers) {
        return Ok(Redirect::to(&format!("/@{}", a.username)).into_response());
    }
    Ok(Activity(documents::person(&state, &a).await?).into_response())
}

async fn status(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let a = local(&state, &username).await?;
    let id = path_id(&id)?;
    if !asks_for_activity(&headers) {
        return Ok(Redirect::to(&format!("/@{}/{id}", a.username)).into_response());
    }
    Ok(Activity(federation::public_note(&state, &a, id).await?).into_response())
}

/// One of a local actor's collections, `{actor}/{path}`, with its count and no pages.
async fn collection(
    state: &AppState,
    username: &str,
    path: &str,
    count: impl FnOnce(&cascade_store::Account) -> i64,
) -> ApiResult<Activity> {
    let a = local(state, username).await?;
    let uri = federation::local_actor(state, &a.username);
    Ok(Activity(documents::collection(
        format!("{uri}/{path}"),
        count(&a),
    )))
}

/// `?page=true`, with `max_id` or `min_id`, asks for one page of a listed collection.
#[derive(Debug, Default, serde::Deserialize)]
struct PageQuery {
    #[serde(default, deserialize_with = "flex::bool")]
    page: bool,
    max_id: Option<String>,
    min_id: Option<String>,
}

/// A page's `max_id` or `min_id`: an id, else 400 (a peer's bad link, said plainly).
fn cursor_id(name: &str, raw: Option<&str>) -> ApiResult<Option<cascade_core::Id>> {
    match raw {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_| ApiError::BadRequest(format!("{name} must be an id"))),
    }
}

/// A local actor's outbox, followers or following: the collection, or one of its pages.
async fn listed(
    state: &AppState,
    username: &str,
    kind: documents::Listed,
    q: PageQuery,
) -> ApiResult<Activity> {
    let a = local(state, username).await?;
    let cursor = documents::Cursor {
        max_id: cursor_id("max_id", q.max_id.as_deref())?,
        min_id: cursor_id("min_id", q.min_id.as_deref())?,
    };
    let page = q.page.then_some(cursor);
    Ok(Activity(documents::listed(state, &a, kind, page).await?))
}

async fn outbox(
    State(state): State<AppState>,
    Path(username): Path<String>,
    Params(q): Params<PageQuery>,
) -> ApiResult<Activity> {
    listed(&state, &username, documents::Listed::Outbox, q).await
}

async fn followers(
    State(state): State<AppState>,
    Path(username): Path<String>,
    Params(q): Params<PageQuery>,
) -> ApiResult<Activity> {
    listed(&state, &username, documents::Listed::Followers, q).await
}

async fn following(
    State(state): State<AppState>,
    Path(username): Path<String>,
    Params(q): Params<PageQuery>,
) -> ApiResult<Activity> {
    listed(&state, &username, documents::Listed::Following, q).await
}

async fn featured(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> ApiResult<Activity> {
    let Activity(mut doc) = collection(&state, &username, "collections/featured", |_| 0).await?;
    doc["orderedItems"] = Value::Array(Vec::new());
    Ok(Activity(doc))
}

async fn instance_actor(State(state): State<AppState>) -> ApiResult<Activity> {
    Ok(Activity(documents::application(&state).await?))
}

async fn user_inbox(
    State(state): State<AppState>,
    Path(username): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    local(&state, &username).await?;
    receive(&state, &method, &uri, &headers, &body).await
}

async fn shared_inbox(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    receive(&state, &method, &uri, &headers, &body).await
}

async fn receive(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Response> {
    let mut named: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let Ok(value) = value.to_str() else { continue };
        named
            .entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(value);
            })
            .or_insert_with(|| value.to_string());
    }
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = inbox::Signed {
        method: method.as_str(),
        path_and_query,
        headers: &named,
        body,
    };
    // The server the signature's key names: its allowance is checked before any work
    // (a key fetch, an RSA verification) and counted once the signature verified.
    let peer = named
        .get("signature")
        .and_then(|h| cascade_core::activitypub::parse_signature(h).ok())
        .and_then(|sig| federation::domain_of(&sig.key_id));
    if let Some(peer) = &peer {
        if let Err(throttled) = super::limits::inbox(state, peer).await {
            return Ok(throttled.into_response());
        }
    }
    let received = inbox::receive(state, &request).await;
    if let Some(peer) = &peer {
        if !matches!(received, Err(ApiError::AuthRequired(_))) {
            super::limits::inbox_delivered(state, peer).await;
        }
    }
    received?;
    Ok(StatusCode::ACCEPTED.into_response())
}
