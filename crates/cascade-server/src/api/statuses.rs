//! `/api/v1/statuses` and the bookmarks and favourites lists.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cascade_store::{Mark, Reshare};
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, PageParams, Paged};
use super::params::{flex, Params};
use super::path_id;
use crate::app::media::MediaAttribute;
use crate::app::polls::PollInput;
use crate::app::scheduled;
use crate::app::statuses::{self as uc, StatusInput};
use crate::app::{render, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/statuses", post(create_status))
        .route(
            "/api/v1/statuses/{id}",
            get(get_status).delete(delete_status).put(edit_status),
        )
        .route("/api/v1/statuses/{id}/context", get(status_context))
        .route("/api/v1/statuses/{id}/history", get(status_history))
        .route("/api/v1/statuses/{id}/source", get(status_source))
        .route("/api/v1/statuses/{id}/favourite", post(favourite_status))
        .route(
            "/api/v1/statuses/{id}/unfavourite",
            post(unfavourite_status),
        )
        .route("/api/v1/statuses/{id}/reblog", post(reblog_status))
        .route("/api/v1/statuses/{id}/unreblog", post(unreblog_status))
        .route("/api/v1/statuses/{id}/bookmark", post(bookmark_status))
        .route("/api/v1/statuses/{id}/unbookmark", post(unbookmark_status))
        .route("/api/v1/statuses/{id}/pin", post(pin_status))
        .route("/api/v1/statuses/{id}/unpin", post(unpin_status))
        .route("/api/v1/statuses/{id}/favourited_by", get(favourited_by))
        .route("/api/v1/statuses/{id}/reblogged_by", get(reblogged_by))
        .route("/api/v1/statuses/{id}/quotes", get(status_quotes))
        .route(
            "/api/v1/statuses/{id}/quotes/{quoting}/revoke",
            post(revoke_quote),
        )
        .route(
            "/api/v1/statuses/{id}/interaction_policy",
            axum::routing::put(interaction_policy),
        )
        .route("/api/v1/bookmarks", get(bookmarks))
        .route("/api/v1/favourites", get(favourites))
}

#[derive(Debug, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    status: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    spoiler_text: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    visibility: Option<String>,
    #[serde(default, deserialize_with = "flex::bool")]
    sensitive: bool,
    #[serde(default, deserialize_with = "flex::opt_string")]
    language: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_id")]
    in_reply_to_id: Option<i64>,
    #[serde(default, deserialize_with = "flex::opt_id")]
    quoted_status_id: Option<i64>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    quote_approval_policy: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_strings")]
    media_ids: Option<Vec<String>>,
    #[serde(default)]
    poll: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    scheduled_at: Option<String>,
    /// On an edit, the attachments' new descriptions and focal points:
    /// `media_attributes[][id]`, `[description]`, `[focus]`.
    #[serde(default)]
    media_attributes: Option<serde_json::Value>,
}

/// `media_attributes[]` as a list, whether sent as a JSON array or as Rails-style keys
/// (`media_attributes[0][id]`, which arrive as an object keyed by index).
fn media_attributes(raw: Option<serde_json::Value>) -> ApiResult<Vec<MediaAttribute>> {
    let items: Vec<serde_json::Value> = match raw {
        None | Some(serde_json::Value::Null) => return Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => items,
        Some(serde_json::Value::Object(by_index)) => by_index.into_iter().map(|(_, v)| v).collect(),
        Some(_) => return Err(ApiError::unprocessable("Media attributes must be a list")),
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    items
        .iter()
        .map(|item| {
            let id = text(&item["id"])
                .and_then(|i| i.parse().ok())
                .ok_or_else(|| ApiError::unprocessable("Media attributes need an id"))?;
            Ok(MediaAttribute {
                id,
                description: text(&item["description"]),
                focus: text(&item["focus"]),
            })
        })
        .collect()
}

/// `poll[...]` of a status form.
#[derive(Debug, Default, Deserialize)]
struct PollForm {
    #[serde(default, deserialize_with = "flex::strings")]
    options: Vec<String>,
    #[serde(default, deserialize_with = "flex::opt_i64")]
    expires_in: Option<i64>,
    #[serde(default, deserialize_with = "flex::bool")]
    multiple: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    hide_totals: bool,
}

impl StatusForm {
    fn input(self, auth: &Auth, headers: &HeaderMap) -> ApiResult<StatusInput> {
        let idempotency_key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .filter(|k| !k.is_empty())
            .map(|k| k.chars().take(200).collect());
        let poll = match self.poll {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => {
                let form: PollForm = serde_json::from_value(v)
                    .map_err(|e| ApiError::unprocessable(format!("Poll is invalid: {e}")))?;
                Some(PollInput {
                    options: form.options,
                    expires_in: form.expires_in,
                    multiple: form.multiple,
                    hide_totals: form.hide_totals,
                })
            }
        };
        Ok(StatusInput {
            poll,
            text: self.status.unwrap_or_default(),
            spoiler_text: self.spoiler_text.unwrap_or_default(),
            visibility: self.visibility,
            sensitive: self.sensitive,
            language: self.language,
            in_reply_to_id: self.in_reply_to_id,
            quoted_status_id: self.quoted_status_id,
            quote_approval_policy: self.quote_approval_policy,
            idempotency_key,
            app_id: auth.0.as_ref().and_then(|t| t.app_id),
            media_ids: self.media_ids,
            media_attributes: media_attributes(self.media_attributes)?,
            scheduled_id: None,
        })
    }
}

async fn viewer(state: &AppState, auth: &Auth, scope: &str) -> ApiResult<std::sync::Arc<Viewer>> {
    let me = auth.user(scope)?;
    Viewer::load(state, Some(me)).await
}

/// Posts a status, or with `scheduled_at` schedules it and answers a ScheduledStatus.
async fn create_status(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Params(form): Params<StatusForm>,
) -> ApiResult<Response> {
    let viewer = viewer(&state, &auth, "write:statuses").await?;
    let scheduled_at = form.scheduled_at.clone().filter(|s| !s.is_empty());
    let input = form.input(&auth, &headers)?;
    if let Some(raw) = scheduled_at {
        let at = scheduled::parse_time(&raw, cascade_core::time::now_millis())?;
        let scheduled = scheduled::schedule(&state, &viewer, input, at).await?;
        return Ok(Json(scheduled).into_response());
    }
    Ok(Json(uc::create(&state, &viewer, input).await?).into_response())
}

async fn edit_status(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
    Params(form): Params<StatusForm>,
) -> ApiResult<Json<model::Status>> {
    let viewer = viewer(&state, &auth, "write:statuses").await?;
    let input = form.input(&auth, &headers)?;
    Ok(Json(uc::edit(&state, &viewer, path_id(&id)?, input).await?))
}

async fn get_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Status>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:statuses")?).await?;
    let status = render::status(&state, &viewer, path_id(&id)?).await?;
    state.seen(viewer.id, std::slice::from_ref(&status));
    Ok(Json(status))
}

async fn delete_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Status>> {
    let viewer = viewer(&state, &auth, "write:statuses").await?;
    Ok(Json(uc::delete(&state, &viewer, path_id(&id)?).await?))
}

async fn status_context(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Context>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:statuses")?).await?;
    let context = uc::context(&state, &viewer, path_id(&id)?).await?;
    state.seen(viewer.id, &context.ancestors);
    state.seen(viewer.id, &context.descendants);
    Ok(Json(context))
}

async fn status_history(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<model::StatusEdit>>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:statuses")?).await?;
    Ok(Json(uc::history(&state, &viewer, path_id(&id)?).await?))
}

async fn status_source(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::StatusSource>> {
    let viewer = viewer(&state, &auth, "read:statuses").await?;
    let s = uc::visible(&state, &viewer, path_id(&id)?).await?;
    if !viewer.is(s.account_id) {
        return Err(ApiError::NotFound);
    }
    Ok(Json(model::StatusSource {
        id: s.id.to_string(),
        text: s.text,
        spoiler_text: s.spoiler_text,
    }))
}

/// Handlers that act on one status and answer with it.
macro_rules! status_action {
    ($name:ident, $scope:literal, |$s:ident, $v:ident, $id:ident| $body:expr) => {
        async fn $name(
            State($s): State<AppState>,
            auth: Auth,
            Path(raw): Path<String>,
        ) -> ApiResult<Json<model::Status>> {
            let $v = viewer(&$s, &auth, $scope).await?;
            let $id = path_id(&raw)?;
            Ok(Json($body.await?))
        }
    };
}

status_action!(favourite_status, "write:favourites", |s, v, id| uc::mark(
    &s,
    &v,
    id,
    Mark::Favourite
));
status_action!(unfavourite_status, "write:favourites", |s, v, id| {
    uc::unmark(&s, &v, id, Mark::Favourite)
});
status_action!(bookmark_status, "write:bookmarks", |s, v, id| uc::mark(
    &s,
    &v,
    id,
    Mark::Bookmark
));
status_action!(unbookmark_status, "write:bookmarks", |s, v, id| uc::unmark(
    &s,
    &v,
    id,
    Mark::Bookmark
));
status_action!(pin_status, "write:accounts", |s, v, id| uc::mark(
    &s,
    &v,
    id,
    Mark::Pin
));
status_action!(unpin_status, "write:accounts", |s, v, id| uc::unmark(
    &s,
    &v,
    id,
    Mark::Pin
));
status_action!(unreblog_status, "write:statuses", |s, v, id| uc::unreblog(
    &s, &v, id
));

#[derive(Debug, Default, Deserialize)]
struct ReblogForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    visibility: Option<String>,
}

async fn reblog_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(form): Params<ReblogForm>,
) -> ApiResult<Json<model::Status>> {
    let viewer = viewer(&state, &auth, "write:statuses").await?;
    Ok(Json(
        uc::reblog(&state, &viewer, path_id(&id)?, form.visibility.as_deref()).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct PolicyForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    quote_approval_policy: Option<String>,
}

/// `PUT /api/v1/statuses/:id/interaction_policy`: who may quote one's status from now on.
async fn interaction_policy(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(form): Params<PolicyForm>,
) -> ApiResult<Json<model::Status>> {
    let viewer = viewer(&state, &auth, "write:statuses").await?;
    let policy = form.quote_approval_policy.as_deref();
    Ok(Json(
        uc::set_quote_policy(&state, &viewer, path_id(&id)?, policy).await?,
    ))
}

/// `POST /api/v1/statuses/:id/quotes/:quoting/revoke`: the quoted author takes a quote back.
async fn revoke_quote(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, quoting)): Path<(String, String)>,
) -> ApiResult<Json<model::Status>> {
    let viewer = viewer(&state, &auth, "write:statuses").await?;
    let (quoted, quoting) = (path_id(&id)?, path_id(&quoting)?);
    Ok(Json(
        uc::revoke_quote(&state, &viewer, quoted, quoting).await?,
    ))
}

/// Accounts who acted on a status, paged by the action's id.
async fn actors(
    state: &AppState,
    auth: &Auth,
    id: &str,
    page: &PageParams,
    url: String,
    which: Option<Reshare>,
) -> ApiResult<Paged<Vec<model::Account>>> {
    let viewer = Viewer::load(state, auth.viewer_with("read:statuses")?).await?;
    let id = path_id(id)?;
    uc::visible(state, &viewer, id).await?;
    let limit = page.limit.unwrap_or(40).clamp(1, 80);
    let rows = match which {
        None => {
            state
                .store
                .favourited_by(id, page.max_id, page.min_id.or(page.since_id), limit)
                .await?
        }
        Some(kind) => {
            state
                .store
                .reshares_of(kind, id, page.max_id, page.min_id.or(page.since_id), limit)
                .await?
        }
    };
    let rows: Vec<(i64, i64)> = rows
        .into_iter()
        .filter(|(_, a)| !viewer.blocked.contains(a))
        .collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let accounts = render::accounts(state, &ids).await?;
    Ok(Paged::new(accounts, &keys, url))
}

async fn favourited_by(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Account>>> {
    actors(&state, &auth, &id, &page, here.0, None).await
}

async fn reblogged_by(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Account>>> {
    actors(&state, &auth, &id, &page, here.0, Some(Reshare::Reblog)).await
}

async fn status_quotes(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Status>>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:statuses")?).await?;
    let id = path_id(&id)?;
    uc::visible(&state, &viewer, id).await?;
    let limit = page.limit.unwrap_or(20).clamp(1, 40);
    let rows = state
        .store
        .reshares_of(
            Reshare::Quote,
            id,
            page.max_id,
            page.min_id.or(page.since_id),
            limit,
        )
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let statuses = render::statuses(&state, &viewer, &ids).await?;
    let keys: Vec<i64> = statuses.iter().filter_map(|s| s.id.parse().ok()).collect();
    Ok(Paged::new(statuses, &keys, here.0))
}

async fn marked(
    state: &AppState,
    auth: &Auth,
    mark: Mark,
    scope: &str,
    page: &PageParams,
    url: String,
) -> ApiResult<Paged<Vec<model::Status>>> {
    let viewer = viewer(state, auth, scope).await?;
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let limit = page.limit.unwrap_or(20).clamp(1, 40);
    let rows = state
        .store
        .marks(mark, me, page.max_id, page.min_id.or(page.since_id), limit)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let statuses = render::statuses(state, &viewer, &ids).await?;
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    Ok(Paged::new(statuses, &keys, url))
}

async fn bookmarks(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Status>>> {
    marked(
        &state,
        &auth,
        Mark::Bookmark,
        "read:bookmarks",
        &page,
        here.0,
    )
    .await
}

async fn favourites(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Status>>> {
    marked(
        &state,
        &auth,
        Mark::Favourite,
        "read:favourites",
        &page,
        here.0,
    )
    .await
}
