//! `/api/v1/accounts/*`, follow requests, blocks and mutes.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use cascade_core::limits;
use cascade_core::Id;
use cascade_store::{AccountStatusesFilter, AccountUpdate, EdgeKind};
use serde::Deserialize;

use super::auth::Auth;
use super::model;
use super::paging::{LinkBase, PageParams, Paged};
use super::params::{flex, Params, ParamsWithFiles};
use super::path_id;
use crate::app::{accounts as uc, render, timelines, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", post(register_account))
        .route(
            "/api/v1/accounts/verify_credentials",
            get(verify_credentials),
        )
        .route(
            "/api/v1/accounts/update_credentials",
            // Avatars and headers come in the body: a picture's limit, not a form's.
            patch(update_credentials).layer(axum::extract::DefaultBodyLimit::max(
                2 * limits::MAX_PROFILE_IMAGE_BYTES + 64 * 1024,
            )),
        )
        .route("/api/v1/accounts/lookup", get(lookup_account))
        .route("/api/v1/accounts/relationships", get(relationships))
        .route(
            "/api/v1/accounts/familiar_followers",
            get(familiar_followers),
        )
        .route("/api/v1/accounts/{id}", get(get_account))
        .route("/api/v1/accounts/{id}/statuses", get(account_statuses))
        .route("/api/v1/accounts/{id}/followers", get(account_followers))
        .route("/api/v1/accounts/{id}/following", get(account_following))
        .route("/api/v1/accounts/{id}/lists", get(account_lists))
        .route("/api/v1/accounts/{id}/follow", post(follow_account))
        .route("/api/v1/accounts/{id}/unfollow", post(unfollow_account))
        .route(
            "/api/v1/accounts/{id}/remove_from_followers",
            post(remove_from_followers),
        )
        .route("/api/v1/accounts/{id}/block", post(block_account))
        .route("/api/v1/accounts/{id}/unblock", post(unblock_account))
        .route("/api/v1/accounts/{id}/mute", post(mute_account))
        .route("/api/v1/accounts/{id}/unmute", post(unmute_account))
        .route("/api/v1/blocks", get(blocks))
        .route("/api/v1/mutes", get(mutes))
        .route("/api/v1/follow_requests", get(follow_requests))
        .route(
            "/api/v1/follow_requests/{id}/authorize",
            post(authorize_follow_request),
        )
        .route(
            "/api/v1/follow_requests/{id}/reject",
            post(reject_follow_request),
        )
}

#[derive(Debug, Deserialize)]
struct RegisterForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    username: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    password: Option<String>,
    #[serde(default, deserialize_with = "flex::bool")]
    agreement: bool,
    #[serde(default, deserialize_with = "flex::opt_string")]
    display_name: Option<String>,
    /// Why the person wants to join, for the moderators when sign-ups need approval.
    #[serde(default, deserialize_with = "flex::opt_string")]
    reason: Option<String>,
}

/// Registration with an application token; answers with a user token, as Mastodon does.
/// The token is refused (403) until a moderator approves the account when sign-ups need
/// approval, or when an IP block says sign-ups from the client's address do.
async fn register_account(
    State(state): State<AppState>,
    addr: super::limits::ClientAddr,
    auth: Auth,
    Params(form): Params<RegisterForm>,
) -> ApiResult<Response> {
    let token = auth.token("write:accounts")?;
    if let Err(throttled) = super::limits::registration(&state, addr).await {
        return Ok(throttled.into_response());
    }
    if !state.config.registrations_open {
        return Err(ApiError::Forbidden(
            "Registrations are closed on this server".into(),
        ));
    }
    if !form.agreement {
        return Err(ApiError::unprocessable("Agreement must be accepted"));
    }
    let username = form.username.unwrap_or_default();
    let email = form.email.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    let sign_up = uc::SignUp {
        address: Some(addr.0),
        reason: form.reason.as_deref(),
        display_name: form.display_name.as_deref(),
    };
    let account = uc::register(&state, &username, &email, &password, sign_up).await?;
    let scopes = token.scopes.join(" ");
    Ok(
        Json(uc::issue_token(&state, Some(account.id), token.app_id, &scopes).await?)
            .into_response(),
    )
}

async fn verify_credentials(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<std::sync::Arc<model::Rendered<model::Account>>>> {
    let me = auth.user("profile")?;
    Ok(Json(uc::credentials(&state, me).await?))
}

#[derive(Debug, Deserialize)]
struct FieldForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SourceForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    privacy: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    sensitive: Option<bool>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    language: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UpdateForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    note: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    locked: Option<bool>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    bot: Option<bool>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    discoverable: Option<bool>,
    #[serde(default)]
    fields_attributes: Option<serde_json::Value>,
    #[serde(default)]
    source: Option<SourceForm>,
}

async fn update_credentials(
    State(state): State<AppState>,
    auth: Auth,
    ParamsWithFiles(form, files): ParamsWithFiles<UpdateForm>,
) -> ApiResult<Json<model::Account>> {
    let me = auth.user("write:accounts")?;
    let mut pictures = Vec::new();
    for file in files {
        let which = match file.name.as_str() {
            "avatar" => cascade_store::ProfileImage::Avatar,
            "header" => cascade_store::ProfileImage::Header,
            other => {
                return Err(ApiError::unprocessable(format!(
                    "Unknown file field {other:?}: send avatar or header"
                )))
            }
        };
        if file.bytes.len() > limits::MAX_PROFILE_IMAGE_BYTES {
            return Err(ApiError::TooLarge);
        }
        pictures.push((which, file.bytes));
    }
    let mut update = AccountUpdate::default();
    uc::profile_text(&state, &mut update, form.display_name, form.note)?;
    if let Some(fields) = form.fields_attributes {
        // Mastodon accepts a list or an object keyed by index.
        let items: Vec<serde_json::Value> = match fields {
            serde_json::Value::Array(items) => items,
            serde_json::Value::Object(map) => map.into_iter().map(|(_, v)| v).collect(),
            _ => return Err(ApiError::unprocessable("Fields must be a list")),
        };
        let mut parsed: Vec<(String, String)> = Vec::new();
        for item in items {
            let f: FieldForm = serde_json::from_value(item)
                .map_err(|e| ApiError::unprocessable(format!("Fields are invalid: {e}")))?;
            let (name, value) = (f.name.unwrap_or_default(), f.value.unwrap_or_default());
            if name.is_empty() && value.is_empty() {
                continue;
            }
            let max = limits::MAX_PROFILE_FIELD_CHARS;
            if name.chars().count() > max || value.chars().count() > max {
                return Err(ApiError::unprocessable(format!(
                    "Fields are too long (maximum is {max} characters)"
                )));
            }
            parsed.push((name, value));
            if parsed.len() > limits::MAX_PROFILE_FIELDS {
                return Err(ApiError::unprocessable(format!(
                    "Fields are limited to {}",
                    limits::MAX_PROFILE_FIELDS
                )));
            }
        }
        update.fields_json =
            Some(serde_json::to_string(&parsed).map_err(|e| ApiError::Internal(e.into()))?);
    }
    update.locked = form.locked;
    update.bot = form.bot;
    update.discoverable = form.discoverable;
    if let Some(source) = form.source {
        if let Some(privacy) = source.privacy {
            privacy
                .parse::<cascade_core::Visibility>()
                .map_err(|_| ApiError::unprocessable("Privacy is not included in the list"))?;
            update.default_visibility = Some(privacy);
        }
        update.default_sensitive = source.sensitive;
        update.default_language = source.language;
    }
    // Pictures first: one that cannot be read refuses the whole update.
    for (which, bytes) in pictures {
        crate::app::media::set_profile_image(&state, me, which, Some(bytes)).await?;
    }
    Ok(Json(uc::update_profile(&state, me, &update).await?))
}

async fn get_account(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Account>> {
    auth.viewer_with("read:accounts")?;
    let account = state.store.account(path_id(&id)?).await?;
    Ok(Json(render::account_with_move(&state, &account).await?))
}

#[derive(Debug, Deserialize)]
struct LookupParams {
    #[serde(default, deserialize_with = "flex::opt_string")]
    acct: Option<String>,
}

async fn lookup_account(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<LookupParams>,
) -> ApiResult<Json<model::Account>> {
    let viewer = auth.viewer_with("read:accounts")?;
    let acct = p
        .acct
        .ok_or_else(|| ApiError::BadRequest("Missing parameter: acct".into()))?;
    // A signed-in viewer may have a remote account fetched; anyone finds known ones.
    let account = crate::app::federation::lookup(&state, &acct, viewer.is_some())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(render::account_with_move(&state, &account).await?))
}

#[derive(Debug, Deserialize)]
struct IdsParams {
    #[serde(default, deserialize_with = "flex::strings")]
    id: Vec<String>,
}

fn ids(p: &IdsParams) -> Vec<Id> {
    p.id.iter()
        .filter_map(|s| s.parse().ok())
        .take(100)
        .collect()
}

async fn relationships(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<IdsParams>,
) -> ApiResult<Json<Vec<model::Relationship>>> {
    let me = auth.user("read:follows")?;
    Ok(Json(uc::relationships(&state, me, &ids(&p)).await?))
}

async fn familiar_followers(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params<IdsParams>,
) -> ApiResult<Json<Vec<model::FamiliarFollowers>>> {
    let me = auth.user("read:follows")?;
    let mut out = Vec::new();
    for id in ids(&p) {
        let familiar = state.store.familiar_followers(me, id, 40).await?;
        out.push(model::FamiliarFollowers {
            id: id.to_string(),
            accounts: render::accounts(&state, &familiar).await?,
        });
    }
    Ok(Json(out))
}

#[derive(Debug, Default, Deserialize)]
struct StatusesParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flex::bool")]
    exclude_replies: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    exclude_reblogs: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    only_media: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    pinned: bool,
    #[serde(default, deserialize_with = "flex::opt_string")]
    tagged: Option<String>,
}

async fn account_statuses(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<StatusesParams>,
) -> ApiResult<Paged<Vec<model::Status>>> {
    let viewer = Viewer::load(&state, auth.viewer_with("read:statuses")?).await?;
    let id = path_id(&id)?;
    let filter = AccountStatusesFilter {
        exclude_replies: p.exclude_replies,
        exclude_reblogs: p.exclude_reblogs,
        only_media: p.only_media,
        pinned: p.pinned,
        tagged: p.tagged.map(|t| t.trim_start_matches('#').to_lowercase()),
    };
    let (statuses, keys) =
        timelines::account(&state, &viewer, id, &filter, p.page.page(20, 40)).await?;
    state.seen(viewer.id, &statuses);
    Ok(Paged::new(statuses, &keys, here.0))
}

/// A page of accounts at the far end of an edge list, keyed by the edges' ids.
async fn edge_page(
    state: &AppState,
    kind: EdgeKind,
    account: Id,
    page: &PageParams,
    url: String,
) -> ApiResult<Paged<Vec<model::Account>>> {
    let limit = page.limit.unwrap_or(40).clamp(1, 80);
    let edges = state
        .store
        .edges(
            kind,
            account,
            page.max_id,
            page.min_id.or(page.since_id),
            limit,
        )
        .await?;
    let ids: Vec<Id> = edges.iter().map(|e| e.account_id).collect();
    let keys: Vec<Id> = edges.iter().map(|e| e.id).collect();
    Ok(Paged::new(render::accounts(state, &ids).await?, &keys, url))
}

async fn account_followers(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Account>>> {
    auth.viewer_with("read:accounts")?;
    let id = path_id(&id)?;
    state.store.account(id).await?;
    edge_page(&state, EdgeKind::Followers, id, &p, here.0).await
}

async fn account_following(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Account>>> {
    auth.viewer_with("read:accounts")?;
    let id = path_id(&id)?;
    state.store.account(id).await?;
    edge_page(&state, EdgeKind::Following, id, &p, here.0).await
}

async fn account_lists(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<model::List>>> {
    let me = auth.user("read:lists")?;
    let lists = state.store.lists_containing(me, path_id(&id)?).await?;
    Ok(Json(lists.into_iter().map(super::lists::render).collect()))
}

#[derive(Debug, Deserialize)]
struct FollowForm {
    #[serde(default, deserialize_with = "flex::opt_bool")]
    reblogs: Option<bool>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    notify: Option<bool>,
}

async fn follow_account(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(f): Params<FollowForm>,
) -> ApiResult<Json<model::Relationship>> {
    let me = auth.user("write:follows")?;
    Ok(Json(
        uc::follow(
            &state,
            me,
            path_id(&id)?,
            f.reblogs.unwrap_or(true),
            f.notify.unwrap_or(false),
        )
        .await?,
    ))
}

async fn unfollow_account(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Relationship>> {
    let me = auth.user("write:follows")?;
    Ok(Json(uc::unfollow(&state, me, path_id(&id)?).await?))
}

/// A relationship change on `/api/v1/accounts/:id/<action>`: the scope it needs and the
/// use case it calls; the answer is the new relationship.
macro_rules! relationship_action {
    ($name:ident, $scope:literal, |$s:ident, $me:ident, $id:ident| $body:expr) => {
        async fn $name(
            State($s): State<AppState>,
            auth: Auth,
            Path(raw): Path<String>,
        ) -> ApiResult<Json<model::Relationship>> {
            let $me = auth.user($scope)?;
            let $id = path_id(&raw)?;
            Ok(Json($body.await?))
        }
    };
}

relationship_action!(remove_from_followers, "write:follows", |s, me, id| {
    uc::remove_follower(&s, me, id)
});
relationship_action!(block_account, "write:blocks", |s, me, id| uc::block(
    &s, me, id
));
relationship_action!(unblock_account, "write:blocks", |s, me, id| uc::unblock(
    &s, me, id
));
relationship_action!(unmute_account, "write:mutes", |s, me, id| uc::unmute(
    &s, me, id
));

#[derive(Debug, Deserialize)]
struct MuteForm {
    #[serde(default, deserialize_with = "flex::opt_bool")]
    notifications: Option<bool>,
    #[serde(default, deserialize_with = "flex::opt_i64")]
    duration: Option<i64>,
}

async fn mute_account(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(f): Params<MuteForm>,
) -> ApiResult<Json<model::Relationship>> {
    let me = auth.user("write:mutes")?;
    let id = path_id(&id)?;
    Ok(Json(
        uc::mute(&state, me, id, f.notifications.unwrap_or(true), f.duration).await?,
    ))
}

async fn blocks(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Account>>> {
    let me = auth.user("read:blocks")?;
    edge_page(&state, EdgeKind::Blocks, me, &p, here.0).await
}

async fn mutes(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Account>>> {
    let me = auth.user("read:mutes")?;
    edge_page(&state, EdgeKind::Mutes, me, &p, here.0).await
}

async fn follow_requests(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(p): Params<PageParams>,
) -> ApiResult<Paged<Vec<model::Account>>> {
    let me = auth.user("read:follows")?;
    edge_page(&state, EdgeKind::FollowRequests, me, &p, here.0).await
}

async fn authorize_follow_request(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Relationship>> {
    let me = auth.user("write:follows")?;
    let from = path_id(&id)?;
    if !uc::answer_follow_request(&state, me, from, true).await? {
        return Err(ApiError::NotFound);
    }
    Ok(Json(uc::relationship(&state, me, from).await?))
}

async fn reject_follow_request(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<model::Relationship>> {
    let me = auth.user("write:follows")?;
    let from = path_id(&id)?;
    if !uc::answer_follow_request(&state, me, from, false).await? {
        return Err(ApiError::NotFound);
    }
    // The follow requests count (`verify_credentials`) moved.
    state.forget(crate::cluster::Forget::Account(me));
    Ok(Json(uc::relationship(&state, me, from).await?))
}
