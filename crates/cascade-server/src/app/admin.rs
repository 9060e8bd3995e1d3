//! Moderation through Mastodon's admin API: staff roles (`cascade admin role`), the
//! moderators' view of accounts (with the spam likelihood Cascade computes) and of
//! reports, and the actions on accounts. The command line's `limit` and `suspend` call
//! the same use cases.
//!
//! Staff are `admin` or `moderator`; both may use every endpoint here, except that only
//! an admin acts on another staff account, and nobody on themselves.

use cascade_core::{time, Id};
use cascade_store::{Account, AccountQuery, ModeratedReport, ReportQuery, StoreError};
use serde_json::{json, Value};

use crate::app::{accounts, render, spam, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The staff roles.
pub const ROLES: &[&str] = &["admin", "moderator"];

fn not_allowed() -> ApiError {
    ApiError::Forbidden("This action is not allowed".into())
}

/// `me`'s staff role; 403 for anyone else.
pub async fn staff(state: &AppState, me: Id) -> ApiResult<String> {
    state.store.role(me).await?.ok_or_else(not_allowed)
}

/// Gives an account a staff role, or (with `None`) takes it away.
pub async fn set_role(state: &AppState, account: Id, role: Option<&str>) -> ApiResult<()> {
    if role.is_some_and(|r| !ROLES.contains(&r)) {
        return Err(ApiError::unprocessable("Role must be admin or moderator"));
    }
    state
        .store
        .set_role(account, role, time::now_millis())
        .await?;
    state.forget(crate::cluster::Forget::Account(account));
    Ok(())
}

/// Limits an account (Mastodon's "silence"), or lifts the limit.
pub async fn limit(state: &AppState, account: Id, limited: bool) -> ApiResult<bool> {
    let at = limited.then(time::now_millis);
    let found = state.store.set_limited(account, at).await?;
    state.forget(crate::cluster::Forget::Account(account));
    Ok(found)
}

fn role_json(role: Option<&str>) -> Value {
    match role {
        Some("admin") => {
            json!({"id": "3", "name": "Admin", "permissions": "1048575", "color": "", "highlighted": true})
        }
        Some("moderator") => {
            json!({"id": "2", "name": "Moderator", "permissions": "1308", "color": "", "highlighted": true})
        }
        _ => {
            json!({"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": false})
        }
    }
}

/// `Admin::Account`: the account, its login's email, role and state, and Cascade's spam
/// likelihood (`cascade_spam`).
pub async fn account_json(state: &AppState, a: &Account) -> ApiResult<Value> {
    let email = match state.store.user(a.id).await {
        Ok(u) => Some(u.email),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let role = state.store.role(a.id).await?;
    let assessment = spam::assess_record(state, a).await?;
    Ok(json!({
        "id": a.id.to_string(),
        "username": a.username,
        "domain": null,
        "created_at": time::rfc3339(a.created_at),
        "email": email.unwrap_or_default(),
        "ip": null,
        "ips": [],
        "locale": "",
        "invite_request": null,
        "role": role_json(role.as_deref()),
        "confirmed": true,
        "approved": true,
        "disabled": false,
        "silenced": a.limited_at.is_some(),
        "suspended": a.suspended_at.is_some(),
        "sensitized": false,
        "account": render::account(state, a),
        "cascade_spam": {
            "likelihood": (assessment.likelihood * 1000.0).round() / 1000.0,
            "spam": assessment.is_spam(),
            "reasons": assessment.reasons,
        },
    }))
}

async fn account_record(state: &AppState, id: Id) -> ApiResult<Account> {
    match state.store.account(id).await {
        Ok(a) => Ok(a),
        Err(StoreError::NotFound) => Err(ApiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

pub async fn account(state: &AppState, id: Id) -> ApiResult<Value> {
    account_json(state, &account_record(state, id).await?).await
}

/// A page of local accounts for moderators, and their ids (the paging keys).
pub async fn accounts(
    state: &AppState,
    q: &AccountQuery,
    max_id: Option<Id>,
    min_id: Option<Id>,
    limit: usize,
) -> ApiResult<(Vec<Value>, Vec<Id>)> {
    let ids = state
        .store
        .moderated_accounts(q, max_id, min_id, limit)
        .await?;
    let records = state.store.accounts(&ids).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(a) = records.iter().find(|a| a.id == *id) {
            out.push(account_json(state, a).await?);
        }
    }
    Ok((out, ids))
}

/// Whether `me` may act on `target`: never on oneself, on staff only as an admin.
async fn may_act(state: &AppState, me: Id, my_role: &str, target: Id) -> ApiResult<()> {
    if me == target {
        return Err(not_allowed());
    }
    if state.store.role(target).await?.is_some() && my_role != "admin" {
        return Err(not_allowed());
    }
    Ok(())
}

/// `POST /api/v1/admin/accounts/:id/action`: `none` (only resolves the report named),
/// `silence` (limit) or `suspend`. `sensitive` and `disable` are not supported yet (422):
/// there is no media to mark, and suspension is the way to stop a login.
pub async fn act(
    state: &AppState,
    me: Id,
    target: Id,
    kind: &str,
    report: Option<Id>,
) -> ApiResult<()> {
    let role = staff(state, me).await?;
    account_record(state, target).await?;
    may_act(state, me, &role, target).await?;
    if let Some(r) = report {
        let found = moderated_report(state, r).await?;
        if found.target_account_id != target {
            return Err(ApiError::unprocessable(
                "The report is not about this account",
            ));
        }
    }
    match kind {
        "none" => {}
        "silence" => {
            limit(state, target, true).await?;
        }
        "suspend" => {
            accounts::suspend(state, target, true).await?;
        }
        "sensitive" | "disable" => {
            return Err(ApiError::unprocessable(format!(
                "The {kind} action is not supported by this server yet"
            )))
        }
        _ => {
            return Err(ApiError::unprocessable(
                "Type must be none, sensitive, disable, silence or suspend",
            ))
        }
    }
    if let Some(r) = report {
        state
            .store
            .resolve_report(r, Some(me), time::now_millis())
            .await?;
    }
    Ok(())
}

/// Lifts a limit (`unsilence`) or a suspension (`unsuspend`).
pub async fn undo(state: &AppState, me: Id, target: Id, what: &str) -> ApiResult<Value> {
    let role = staff(state, me).await?;
    account_record(state, target).await?;
    may_act(state, me, &role, target).await?;
    match what {
        "unsilence" => {
            limit(state, target, false).await?;
        }
        _ => {
            accounts::suspend(state, target, false).await?;
        }
    }
    account(state, target).await
}

async fn moderated_report(state: &AppState, id: Id) -> ApiResult<ModeratedReport> {
    match state.store.moderated_report(id).await {
        Ok(r) => Ok(r),
        Err(StoreError::NotFound) => Err(ApiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

async fn maybe_account(state: &AppState, id: Option<Id>) -> ApiResult<Value> {
    match id {
        Some(id) => match state.store.account(id).await {
            Ok(a) => account_json(state, &a).await,
            Err(StoreError::NotFound) => Ok(Value::Null),
            Err(e) => Err(e.into()),
        },
        None => Ok(Value::Null),
    }
}

/// `Admin::Report`, with the reported statuses the moderator may see.
async fn report_json(state: &AppState, me: Id, r: &ModeratedReport) -> ApiResult<Value> {
    let status_ids: Vec<Id> = r
        .status_ids
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let viewer = Viewer::load(state, Some(me)).await?;
    let statuses = render::statuses(state, &viewer, &status_ids).await?;
    Ok(json!({
        "id": r.id.to_string(),
        "action_taken": r.action_taken_at.is_some(),
        "action_taken_at": r.action_taken_at.map(time::rfc3339),
        "category": r.category,
        "comment": r.comment,
        "forwarded": false,
        "created_at": time::rfc3339(r.created_at),
        "updated_at": time::rfc3339(r.updated_at.unwrap_or(r.created_at)),
        "account": maybe_account(state, Some(r.account_id)).await?,
        "target_account": maybe_account(state, Some(r.target_account_id)).await?,
        "assigned_account": maybe_account(state, r.assigned_account_id).await?,
        "action_taken_by_account": maybe_account(state, r.action_taken_by_account_id).await?,
        "statuses": statuses,
        "rules": [],
    }))
}

pub async fn report(state: &AppState, me: Id, id: Id) -> ApiResult<Value> {
    staff(state, me).await?;
    report_json(state, me, &moderated_report(state, id).await?).await
}

/// A page of reports for moderators, and their ids (the paging keys).
pub async fn reports(
    state: &AppState,
    me: Id,
    q: ReportQuery,
    max_id: Option<Id>,
    min_id: Option<Id>,
    limit: usize,
) -> ApiResult<(Vec<Value>, Vec<Id>)> {
    staff(state, me).await?;
    let rows = state
        .store
        .moderated_reports(q, max_id, min_id, limit)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(report_json(state, me, r).await?);
    }
    Ok((out, rows.iter().map(|r| r.id).collect()))
}

/// `assign_to_self`, `unassign`, `resolve` or `reopen` a report.
pub async fn update_report(state: &AppState, me: Id, id: Id, what: &str) -> ApiResult<Value> {
    staff(state, me).await?;
    moderated_report(state, id).await?;
    let now = time::now_millis();
    match what {
        "assign_to_self" => state.store.assign_report(id, Some(me), now).await?,
        "unassign" => state.store.assign_report(id, None, now).await?,
        "resolve" => state.store.resolve_report(id, Some(me), now).await?,
        _ => state.store.resolve_report(id, None, now).await?,
    };
    report(state, me, id).await
}
