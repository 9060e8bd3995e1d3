//! Mastodon's admin API for staff (`cascade admin role`): accounts, reports, canonical
//! email blocks and IP blocks. Every endpoint needs `admin:read` or `admin:write` and a
//! staff role (403 otherwise). Also the warnings an account received, for its owner
//! (`/api/v1/cascade/warnings`).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use cascade_core::Id;
use cascade_store::{AccountQuery, ReportQuery};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Auth;
use super::paging::{LinkBase, PageParams, Paged};
use super::params::{flex, Params};
use super::path_id;
use crate::app::admin as uc;
use crate::app::dashboard;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/accounts", get(accounts_v1))
        .route("/api/v2/admin/accounts", get(accounts_v2))
        .route("/api/v1/admin/accounts/{id}", get(account))
        .route("/api/v1/admin/accounts/{id}/action", post(act))
        .route("/api/v1/admin/accounts/{id}/unsilence", post(unsilence))
        .route("/api/v1/admin/accounts/{id}/unsuspend", post(unsuspend))
        .route("/api/v1/admin/accounts/{id}/enable", post(enable))
        .route("/api/v1/admin/accounts/{id}/unsensitive", post(unsensitive))
        .route("/api/v1/admin/accounts/{id}/approve", post(approve))
        .route("/api/v1/admin/accounts/{id}/reject", post(reject))
        .route(
            "/api/v1/admin/canonical_email_blocks",
            get(email_blocks).post(block_email),
        )
        .route(
            "/api/v1/admin/canonical_email_blocks/test",
            post(test_email),
        )
        .route(
            "/api/v1/admin/canonical_email_blocks/{id}",
            get(email_block).delete(unblock_email),
        )
        .route(
            "/api/v1/admin/ip_blocks",
            get(ip_blocks).post(create_ip_block),
        )
        .route(
            "/api/v1/admin/ip_blocks/{id}",
            get(ip_block).put(update_ip_block).delete(delete_ip_block),
        )
        .route("/api/v1/cascade/warnings", get(my_warnings))
        .route("/api/v1/admin/measures", post(measures))
        .route("/api/v1/admin/dimensions", post(dimensions))
        .route("/api/v1/admin/reports", get(reports))
        .route("/api/v1/admin/reports/{id}", get(report))
        .route(
            "/api/v1/admin/reports/{id}/assign_to_self",
            post(assign_to_self),
        )
        .route("/api/v1/admin/reports/{id}/unassign", post(unassign))
        .route("/api/v1/admin/reports/{id}/resolve", post(resolve))
        .route("/api/v1/admin/reports/{id}/reopen", post(reopen))
}

/// An administrator (not a moderator) with `admin:write`, for what Mastodon leaves to
/// administrators: custom emojis, announcements.
pub(super) async fn administrator(state: &AppState, auth: &Auth) -> ApiResult<Id> {
    let me = auth.user("admin:write")?;
    if uc::staff(state, me).await? != "admin" {
        return Err(ApiError::Forbidden("This action is not allowed".into()));
    }
    Ok(me)
}

/// The paging of the admin lists: `max_id`, `min_id` (or `since_id`), and `limit` (100,
/// at most 200).
pub(super) fn window(page: &PageParams) -> (Option<Id>, Option<Id>, usize) {
    let limit = page.limit.unwrap_or(100).clamp(1, 200);
    (page.max_id, page.min_id.or(page.since_id), limit)
}

/// The staff member behind the token, with `scope`.
async fn staff(state: &AppState, auth: &Auth, scope: &str) -> ApiResult<Id> {
    let me = auth.user(scope)?;
    uc::staff(state, me).await?;
    Ok(me)
}

#[derive(Debug, Default, Deserialize)]
struct V1Filters {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flex::bool")]
    remote: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    active: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    pending: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    disabled: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    sensitized: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    silenced: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    suspended: bool,
    #[serde(default, deserialize_with = "flex::bool")]
    staff: bool,
    #[serde(default, deserialize_with = "flex::opt_string")]
    username: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct V2Filters {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flex::opt_string")]
    origin: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    status: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    permissions: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    username: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    email: Option<String>,
}

/// A page of accounts; `nothing` when the filters name accounts that cannot exist here
/// (remote ones: there is no federation yet).
async fn account_page(
    state: &AppState,
    q: AccountQuery,
    nothing: bool,
    page: &PageParams,
    url: String,
) -> ApiResult<Paged<Vec<Value>>> {
    if nothing {
        return Ok(Paged::new(Vec::new(), &[], url));
    }
    let (max_id, min_id, limit) = window(page);
    let (items, keys) = uc::accounts(state, &q, max_id, min_id, limit).await?;
    Ok(Paged::new(items, &keys, url))
}

async fn accounts_v1(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(f): Params<V1Filters>,
) -> ApiResult<Paged<Vec<Value>>> {
    staff(&state, &auth, "admin:read").await?;
    let status = [
        (f.suspended, "suspended"),
        (f.silenced, "silenced"),
        (f.pending, "pending"),
        (f.disabled, "disabled"),
        (f.sensitized, "sensitized"),
        (f.active, "active"),
    ]
    .into_iter()
    .find_map(|(asked, status)| asked.then_some(status));
    let q = AccountQuery {
        status: status.map(str::to_string),
        username: f.username,
        display_name: f.display_name,
        email: f.email,
        staff: f.staff,
    };
    let nothing = f.remote;
    account_page(&state, q, nothing, &f.page, here.0).await
}

async fn accounts_v2(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(f): Params<V2Filters>,
) -> ApiResult<Paged<Vec<Value>>> {
    staff(&state, &auth, "admin:read").await?;
    let nothing = match (f.origin.as_deref(), f.status.as_deref()) {
        (Some("remote"), _) => true,
        (Some(o), _) if o != "local" && !o.is_empty() => {
            return Err(ApiError::unprocessable("Origin must be local or remote"))
        }
        (_, None | Some("" | "active" | "pending" | "disabled" | "silenced" | "suspended")) => {
            false
        }
        (_, Some(_)) => {
            return Err(ApiError::unprocessable(
                "Status must be active, pending, disabled, silenced or suspended",
            ))
        }
    };
    let q = AccountQuery {
        status: f.status.filter(|s| !s.is_empty()),
        username: f.username,
        display_name: f.display_name,
        email: f.email,
        staff: f.permissions.as_deref() == Some("staff"),
    };
    account_page(&state, q, nothing, &f.page, here.0).await
}

async fn account(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    staff(&state, &auth, "admin:read").await?;
    Ok(Json(uc::account(&state, path_id(&id)?).await?))
}

#[derive(Debug, Deserialize)]
struct ActionForm {
    #[serde(default, rename = "type", deserialize_with = "flex::opt_string")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_id")]
    report_id: Option<Id>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    text: Option<String>,
}

/// `POST /api/v1/admin/accounts/:id/action`. `warning_preset_id` and
/// `send_email_notification` are accepted and ignored: there are no presets and no email.
async fn act(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(form): Params<ActionForm>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    let action = uc::Action {
        kind: form.kind.as_deref().unwrap_or("none"),
        report: form.report_id,
        text: form.text.as_deref(),
    };
    uc::act(&state, me, path_id(&id)?, action).await?;
    Ok(Json(json!({})))
}

macro_rules! account_undo {
    ($name:ident, $what:literal) => {
        async fn $name(
            State(state): State<AppState>,
            auth: Auth,
            Path(id): Path<String>,
        ) -> ApiResult<Json<Value>> {
            let me = auth.user("admin:write")?;
            Ok(Json(uc::undo(&state, me, path_id(&id)?, $what).await?))
        }
    };
}

account_undo!(unsilence, "unsilence");
account_undo!(unsuspend, "unsuspend");
account_undo!(enable, "enable");
account_undo!(unsensitive, "unsensitive");

async fn approve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    Ok(Json(uc::review(&state, me, path_id(&id)?, true).await?))
}

async fn reject(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    Ok(Json(uc::review(&state, me, path_id(&id)?, false).await?))
}

/// The warnings moderators sent the caller, newest first.
async fn my_warnings(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("read:accounts")?;
    Ok(Json(uc::warnings(&state, me, me).await?))
}

async fn email_blocks(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<Value>>> {
    let me = auth.user("admin:read")?;
    let (max_id, min_id, limit) = window(&page);
    let (items, keys) = uc::email_blocks(&state, me, max_id, min_id, limit).await?;
    Ok(Paged::new(items, &keys, here.0))
}

async fn email_block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:read")?;
    Ok(Json(uc::email_block(&state, me, path_id(&id)?).await?))
}

#[derive(Debug, Deserialize)]
struct EmailForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    canonical_email_hash: Option<String>,
}

async fn test_email(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<EmailForm>,
) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("admin:read")?;
    let email = form.email.unwrap_or_default();
    Ok(Json(uc::test_email(&state, me, &email).await?))
}

async fn block_email(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<EmailForm>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    let (email, hash) = (form.email.as_deref(), form.canonical_email_hash.as_deref());
    Ok(Json(uc::block_email(&state, me, email, hash).await?))
}

async fn unblock_email(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    Ok(Json(uc::unblock_email(&state, me, path_id(&id)?).await?))
}

async fn ip_blocks(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(page): Params<PageParams>,
) -> ApiResult<Paged<Vec<Value>>> {
    let me = auth.user("admin:read")?;
    let (max_id, min_id, limit) = window(&page);
    let (items, keys) = uc::ip_blocks(&state, me, max_id, min_id, limit).await?;
    Ok(Paged::new(items, &keys, here.0))
}

async fn ip_block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:read")?;
    Ok(Json(uc::ip_block(&state, me, path_id(&id)?).await?))
}

#[derive(Debug, Deserialize)]
struct IpBlockForm {
    #[serde(default, deserialize_with = "flex::opt_string")]
    ip: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    severity: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    comment: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_i64")]
    expires_in: Option<i64>,
}

impl From<IpBlockForm> for uc::IpBlockInput {
    fn from(f: IpBlockForm) -> Self {
        uc::IpBlockInput {
            ip: f.ip,
            severity: f.severity,
            comment: f.comment,
            expires_in: f.expires_in,
        }
    }
}

async fn create_ip_block(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<IpBlockForm>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    Ok(Json(uc::put_ip_block(&state, me, None, form.into()).await?))
}

async fn update_ip_block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(form): Params<IpBlockForm>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    let id = path_id(&id)?;
    Ok(Json(
        uc::put_ip_block(&state, me, Some(id), form.into()).await?,
    ))
}

async fn delete_ip_block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    Ok(Json(uc::delete_ip_block(&state, me, path_id(&id)?).await?))
}

#[derive(Debug, Default, Deserialize)]
struct ReportFilters {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flex::bool")]
    resolved: bool,
    #[serde(default, deserialize_with = "flex::opt_id")]
    account_id: Option<Id>,
    #[serde(default, deserialize_with = "flex::opt_id")]
    target_account_id: Option<Id>,
}

async fn reports(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(f): Params<ReportFilters>,
) -> ApiResult<Paged<Vec<Value>>> {
    let me = auth.user("admin:read")?;
    let (max_id, min_id, limit) = window(&f.page);
    let q = ReportQuery {
        resolved: f.resolved,
        account_id: f.account_id,
        target_account_id: f.target_account_id,
    };
    let (items, keys) = uc::reports(&state, me, q, max_id, min_id, limit).await?;
    Ok(Paged::new(items, &keys, here.0))
}

async fn report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:read")?;
    Ok(Json(uc::report(&state, me, path_id(&id)?).await?))
}

macro_rules! report_action {
    ($name:ident, $what:literal) => {
        async fn $name(
            State(state): State<AppState>,
            auth: Auth,
            Path(id): Path<String>,
        ) -> ApiResult<Json<Value>> {
            let me = auth.user("admin:write")?;
            Ok(Json(
                uc::update_report(&state, me, path_id(&id)?, $what).await?,
            ))
        }
    };
}

report_action!(assign_to_self, "assign_to_self");
report_action!(unassign, "unassign");
report_action!(resolve, "resolve");
report_action!(reopen, "reopen");

/// `tag_accounts[id]=…` and the like: what a measure or dimension is about.
#[derive(Debug, Default, Deserialize)]
struct Subject {
    #[serde(default, deserialize_with = "flex::opt_id")]
    id: Option<Id>,
}

#[derive(Debug, Default, Deserialize)]
struct DashboardForm {
    #[serde(default, deserialize_with = "flex::opt_strings")]
    keys: Option<Vec<String>>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    start_at: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_string")]
    end_at: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_usize")]
    limit: Option<usize>,
    #[serde(default)]
    tag_accounts: Option<Subject>,
    #[serde(default)]
    tag_uses: Option<Subject>,
    #[serde(default)]
    tag_servers: Option<Subject>,
    #[serde(default)]
    tag_languages: Option<Subject>,
}

impl DashboardForm {
    fn subjects(&self) -> dashboard::Subjects {
        let id = |s: &Option<Subject>| s.as_ref().and_then(|s| s.id);
        dashboard::Subjects {
            tag_accounts: id(&self.tag_accounts),
            tag_uses: id(&self.tag_uses),
            tag_servers: id(&self.tag_servers),
            tag_languages: id(&self.tag_languages),
        }
    }

    fn period(&self) -> ApiResult<dashboard::Period> {
        dashboard::Period::parse(self.start_at.as_deref(), self.end_at.as_deref())
    }
}

/// `POST /api/v1/admin/measures`: `keys[]`, `start_at`, `end_at`.
async fn measures(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<DashboardForm>,
) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("admin:read")?;
    let keys = form.keys.clone().unwrap_or_default();
    let (period, subjects) = (form.period()?, form.subjects());
    Ok(Json(
        dashboard::measures(&state, me, &keys, period, &subjects).await?,
    ))
}

/// `POST /api/v1/admin/dimensions`: `keys[]`, `start_at`, `end_at`, `limit` (10, at most 100).
async fn dimensions(
    State(state): State<AppState>,
    auth: Auth,
    Params(form): Params<DashboardForm>,
) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("admin:read")?;
    let keys = form.keys.clone().unwrap_or_default();
    let (period, subjects) = (form.period()?, form.subjects());
    let limit = form.limit.unwrap_or(10).clamp(1, 100);
    Ok(Json(
        dashboard::dimensions(&state, me, &keys, period, limit, &subjects).await?,
    ))
}
