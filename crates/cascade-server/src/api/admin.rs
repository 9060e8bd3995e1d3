//! Mastodon's admin API for staff (`cascade admin role`): accounts and reports. Every
//! endpoint needs `admin:read` or `admin:write` and a staff role (403 otherwise).

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
/// (remote ones; pending, disabled or sensitized ones, which Cascade does not have).
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
    let limit = page.limit.unwrap_or(100).clamp(1, 200);
    let (items, keys) =
        uc::accounts(state, &q, page.max_id, page.min_id.or(page.since_id), limit).await?;
    Ok(Paged::new(items, &keys, url))
}

async fn accounts_v1(
    State(state): State<AppState>,
    here: LinkBase,
    auth: Auth,
    Params(f): Params<V1Filters>,
) -> ApiResult<Paged<Vec<Value>>> {
    staff(&state, &auth, "admin:read").await?;
    let status = if f.suspended {
        Some("suspended")
    } else if f.silenced {
        Some("silenced")
    } else if f.active {
        Some("active")
    } else {
        None
    };
    let q = AccountQuery {
        status: status.map(str::to_string),
        username: f.username,
        display_name: f.display_name,
        email: f.email,
        staff: f.staff,
    };
    let nothing = f.remote || f.pending || f.disabled || f.sensitized;
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
        (_, Some("pending" | "disabled")) => true,
        (_, None | Some("" | "active" | "silenced" | "suspended")) => false,
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
}

async fn act(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(form): Params<ActionForm>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    let kind = form.kind.unwrap_or_else(|| "none".into());
    uc::act(&state, me, path_id(&id)?, &kind, form.report_id).await?;
    Ok(Json(json!({})))
}

async fn unsilence(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    Ok(Json(
        uc::undo(&state, me, path_id(&id)?, "unsilence").await?,
    ))
}

async fn unsuspend(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("admin:write")?;
    Ok(Json(
        uc::undo(&state, me, path_id(&id)?, "unsuspend").await?,
    ))
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
    let limit = f.page.limit.unwrap_or(100).clamp(1, 200);
    let q = ReportQuery {
        resolved: f.resolved,
        account_id: f.account_id,
        target_account_id: f.target_account_id,
    };
    let (items, keys) = uc::reports(
        &state,
        me,
        q,
        f.page.max_id,
        f.page.min_id.or(f.page.since_id),
        limit,
    )
    .await?;
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
