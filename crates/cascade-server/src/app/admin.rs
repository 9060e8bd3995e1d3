//! Moderation through Mastodon's admin API: staff roles (`cascade admin role`), the
//! moderators' view of accounts (with the spam likelihood Cascade computes) and of
//! reports, the actions on accounts with the warnings they leave, sign-up approval, and
//! the blocks on canonical email addresses and client addresses (`IpBlocks`, checked on
//! every request). The command line's `limit` and `suspend` call the same use cases.
//!
//! Staff are `admin` or `moderator`; both may use every endpoint here, except that only
//! an admin acts on another staff account, and nobody on themselves.

use std::net::IpAddr;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use cascade_core::{time, Id};
use cascade_store::{
    Account, AccountQuery, EmailBlockRecord, IpBlockRecord, ModeratedReport, ReportQuery,
    StoreError, WarningRecord,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::app::{accounts, render, spam, Viewer};
use crate::config::IpNet;
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
    let invite_request = match a.pending_since {
        Some(_) => state.store.sign_up_reason(a.id).await?,
        None => None,
    };
    Ok(json!({
        "id": a.id.to_string(),
        "username": a.username,
        "domain": a.domain,
        "created_at": time::rfc3339(a.created_at),
        "email": email.unwrap_or_default(),
        "ip": null,
        "ips": [],
        "locale": "",
        "invite_request": invite_request,
        "role": role_json(role.as_deref()),
        "confirmed": true,
        "approved": a.pending_since.is_none(),
        "disabled": a.disabled_at.is_some(),
        "silenced": a.limited_at.is_some(),
        "suspended": a.suspended_at.is_some(),
        "sensitized": a.sensitized_at.is_some(),
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

/// What a moderator asks of `POST /api/v1/admin/accounts/:id/action`.
pub struct Action<'a> {
    /// `none`, `sensitive`, `disable`, `silence` or `suspend`.
    pub kind: &'a str,
    /// The report the action answers, resolved with it.
    pub report: Option<Id>,
    /// What the account's owner is told; the warning is recorded for every action but
    /// `none`, and for `none` too when there is text.
    pub text: Option<&'a str>,
}

/// Acts on an account: marks its media sensitive, disables its login, limits it
/// (Mastodon's "silence") or suspends it, records the warning its owner sees, and
/// resolves the report named.
pub async fn act(state: &AppState, me: Id, target: Id, action: Action<'_>) -> ApiResult<()> {
    let role = staff(state, me).await?;
    account_record(state, target).await?;
    may_act(state, me, &role, target).await?;
    let report = match action.report {
        Some(r) => Some(moderated_report(state, r).await?),
        None => None,
    };
    if report
        .as_ref()
        .is_some_and(|found| found.target_account_id != target)
    {
        return Err(ApiError::unprocessable(
            "The report is not about this account",
        ));
    }
    let text = action.text.unwrap_or_default().trim();
    if text.chars().count() > 5_000 {
        return Err(ApiError::unprocessable(
            "Text is too long (maximum is 5000 characters)",
        ));
    }
    let now = time::now_millis();
    match action.kind {
        "none" => {}
        "sensitive" => {
            state.store.set_sensitized(target, Some(now)).await?;
        }
        "disable" => {
            state.store.set_disabled(target, Some(now)).await?;
        }
        "silence" => {
            limit(state, target, true).await?;
        }
        "suspend" => {
            accounts::suspend(state, target, true).await?;
        }
        _ => {
            return Err(ApiError::unprocessable(
                "Type must be none, sensitive, disable, silence or suspend",
            ))
        }
    }
    state.forget(crate::cluster::Forget::Account(target));
    if action.kind != "none" || !text.is_empty() {
        let status_ids = report
            .as_ref()
            .map_or_else(String::new, |r| r.status_ids.clone());
        let warning = WarningRecord {
            id: state.ids.next(),
            account_id: Some(me),
            target_account_id: target,
            action: action.kind.to_string(),
            text: text.to_string(),
            report_id: action.report,
            status_ids,
            created_at: now,
        };
        state.store.insert_warning(&warning).await?;
    }
    if let Some(r) = action.report {
        state.store.resolve_report(r, Some(me), now).await?;
    }
    Ok(())
}

/// Mastodon's `AccountWarning`: what was done and said; the moderator stays unnamed.
pub async fn warning_json(state: &AppState, w: &WarningRecord) -> ApiResult<Value> {
    let target = account_record(state, w.target_account_id).await?;
    Ok(json!({
        "id": w.id.to_string(),
        "action": w.action,
        "text": w.text,
        "status_ids": w.status_ids.split(',').filter(|s| !s.trim().is_empty()).collect::<Vec<_>>(),
        "target_account": render::account(state, &target),
        "appeal": null,
        "created_at": time::rfc3339(w.created_at),
    }))
}

/// The warnings an account received, newest first: for its owner, or for staff.
pub async fn warnings(state: &AppState, me: Id, of: Id) -> ApiResult<Vec<Value>> {
    if me != of {
        staff(state, me).await?;
    }
    let mut out = Vec::new();
    for w in state.store.warnings_of(of).await? {
        out.push(warning_json(state, &w).await?);
    }
    Ok(out)
}

/// Approves a waiting sign-up (`approve`), or rejects it (`reject`), which deletes the
/// account. 403 when the account waits for nothing. Answers the account as it was.
pub async fn review(state: &AppState, me: Id, target: Id, approve: bool) -> ApiResult<Value> {
    staff(state, me).await?;
    let before = account_record(state, target).await?;
    if before.pending_since.is_none() {
        return Err(not_allowed());
    }
    let shown = account_json(state, &before).await?;
    let done = if approve {
        state.store.approve_account(target).await?
    } else {
        state.store.reject_account(target).await?
    };
    state.forget(crate::cluster::Forget::Account(target));
    if !done {
        return Err(not_allowed());
    }
    if approve {
        return account(state, target).await;
    }
    Ok(shown)
}

/// Lifts a limit (`unsilence`), a suspension (`unsuspend`), a disabled login (`enable`)
/// or the sensitive mark (`unsensitive`).
pub async fn undo(state: &AppState, me: Id, target: Id, what: &str) -> ApiResult<Value> {
    let role = staff(state, me).await?;
    account_record(state, target).await?;
    may_act(state, me, &role, target).await?;
    match what {
        "unsilence" => {
            limit(state, target, false).await?;
        }
        "enable" => {
            state.store.set_disabled(target, None).await?;
        }
        "unsensitive" => {
            state.store.set_sensitized(target, None).await?;
        }
        _ => {
            accounts::suspend(state, target, false).await?;
        }
    }
    state.forget(crate::cluster::Forget::Account(target));
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

/// The hash an email address is blocked by, as Mastodon computes it: lowercased, the
/// local part without dots and without a `+tag`.
pub fn canonical_email_hash(email: &str) -> String {
    let lower = email.trim().to_lowercase();
    let canonical = match lower.split_once('@') {
        Some((local, domain)) => {
            let local = local.split('+').next().unwrap_or_default().replace('.', "");
            format!("{local}@{domain}")
        }
        None => lower,
    };
    let digest = Sha256::digest(canonical.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn email_block_json(b: &EmailBlockRecord) -> Value {
    json!({"id": b.id.to_string(), "canonical_email_hash": b.canonical_email_hash})
}

pub async fn email_blocks(
    state: &AppState,
    me: Id,
    max_id: Option<Id>,
    min_id: Option<Id>,
    limit: usize,
) -> ApiResult<(Vec<Value>, Vec<Id>)> {
    staff(state, me).await?;
    let rows = state.store.email_blocks(max_id, min_id, limit).await?;
    Ok((
        rows.iter().map(email_block_json).collect(),
        rows.iter().map(|b| b.id).collect(),
    ))
}

pub async fn email_block(state: &AppState, me: Id, id: Id) -> ApiResult<Value> {
    staff(state, me).await?;
    Ok(email_block_json(&state.store.email_block(id).await?))
}

/// The blocks an email address falls under.
pub async fn test_email(state: &AppState, me: Id, email: &str) -> ApiResult<Vec<Value>> {
    staff(state, me).await?;
    let rows = state
        .store
        .email_blocks_matching(&canonical_email_hash(email))
        .await?;
    Ok(rows.iter().map(email_block_json).collect())
}

/// Blocks an email address (by its canonical form) or a hash given as is.
pub async fn block_email(
    state: &AppState,
    me: Id,
    email: Option<&str>,
    hash: Option<&str>,
) -> ApiResult<Value> {
    staff(state, me).await?;
    let hash =
        match (email.filter(|e| !e.trim().is_empty()), hash) {
            (Some(email), _) => canonical_email_hash(email),
            (None, Some(h)) if h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()) => {
                h.to_lowercase()
            }
            _ => return Err(ApiError::unprocessable(
                "Canonical email hash can't be blank: send email or a SHA-256 canonical_email_hash",
            )),
        };
    let block = EmailBlockRecord {
        id: state.ids.next(),
        canonical_email_hash: hash,
        created_at: time::now_millis(),
    };
    state
        .store
        .insert_email_block(&block)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::unprocessable("Canonical email hash has already been taken")
            }
            other => other.into(),
        })?;
    Ok(email_block_json(&block))
}

pub async fn unblock_email(state: &AppState, me: Id, id: Id) -> ApiResult<Value> {
    staff(state, me).await?;
    if !state.store.delete_email_block(id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(json!({}))
}

/// Whether sign-ups with this email address are refused.
pub async fn email_blocked(state: &AppState, email: &str) -> ApiResult<bool> {
    Ok(!state
        .store
        .email_blocks_matching(&canonical_email_hash(email))
        .await?
        .is_empty())
}

/// What an IP block keeps an address from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Its sign-ups wait for a moderator's approval.
    SignUpRequiresApproval,
    /// It may not sign up.
    SignUpBlock,
    /// It gets nothing at all.
    NoAccess,
}

impl Severity {
    fn parse(s: &str) -> Option<Severity> {
        match s {
            "sign_up_requires_approval" => Some(Severity::SignUpRequiresApproval),
            "sign_up_block" => Some(Severity::SignUpBlock),
            "no_access" => Some(Severity::NoAccess),
            _ => None,
        }
    }
}

/// How long this process believes its copy of the IP blocks: a block written here applies
/// at once (on every node of a cluster as soon as it hears, `Forget::IpBlocks`), one
/// written by another process (the CLI) within this.
const IP_BLOCKS_TTL: Duration = Duration::from_secs(30);

/// One live block: the range, what it keeps from, and when it ends (if it does).
type Block = (IpNet, Severity, Option<i64>);

/// The live IP blocks, kept in memory because every request is checked against them.
#[derive(Default)]
pub struct IpBlocks {
    loaded: RwLock<Option<(Instant, Vec<Block>)>>,
    /// Held by the one request that reads the blocks again once the copy is stale.
    reloading: tokio::sync::Mutex<()>,
}

impl IpBlocks {
    /// The strictest block on `ip` now, if any.
    pub async fn severity(&self, state: &AppState, ip: IpAddr) -> Option<Severity> {
        let fresh = {
            let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
            loaded
                .as_ref()
                .filter(|(at, _)| at.elapsed() < IP_BLOCKS_TTL)
                .map(|(_, blocks)| strictest(blocks, ip))
        };
        if let Some(found) = fresh {
            return found;
        }
        // One request reads the blocks again; the others go on with the copy there is, or
        // wait for the first copy. A store that cannot answer blocks nobody new: the last
        // copy still holds.
        let have_copy = self
            .loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some();
        match self.reloading.try_lock() {
            Ok(_reloading) => {
                let _ = self.reload(state).await;
            }
            Err(_) if have_copy => {}
            Err(_) => drop(self.reloading.lock().await),
        }
        self.severity_loaded(ip)
    }

    fn severity_loaded(&self, ip: IpAddr) -> Option<Severity> {
        let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
        loaded
            .as_ref()
            .and_then(|(_, blocks)| strictest(blocks, ip))
    }

    /// Reads the blocks again from the store.
    pub async fn reload(&self, state: &AppState) -> ApiResult<()> {
        let rows = state.store.live_ip_blocks(time::now_millis()).await?;
        let blocks = rows
            .iter()
            .filter_map(|b| {
                Some((
                    b.ip.parse::<IpNet>().ok()?,
                    Severity::parse(&b.severity)?,
                    b.expires_at,
                ))
            })
            .collect();
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), blocks));
        Ok(())
    }
}

fn strictest(blocks: &[Block], ip: IpAddr) -> Option<Severity> {
    let now = time::now_millis();
    blocks
        .iter()
        .filter(|(net, _, expires)| net.contains(ip) && expires.is_none_or(|at| at > now))
        .map(|(_, severity, _)| *severity)
        .max()
}

fn ip_block_json(b: &IpBlockRecord) -> Value {
    json!({
        "id": b.id.to_string(),
        "ip": b.ip,
        "severity": b.severity,
        "comment": b.comment,
        "created_at": time::rfc3339(b.created_at),
        "expires_at": b.expires_at.map(time::rfc3339),
    })
}

/// What a moderator sends to create or change an IP block.
#[derive(Debug, Default)]
pub struct IpBlockInput {
    pub ip: Option<String>,
    pub severity: Option<String>,
    pub comment: Option<String>,
    /// Seconds from now; `Some(0)` or absent on a change keeps it.
    pub expires_in: Option<i64>,
}

pub async fn ip_blocks(
    state: &AppState,
    me: Id,
    max_id: Option<Id>,
    min_id: Option<Id>,
    limit: usize,
) -> ApiResult<(Vec<Value>, Vec<Id>)> {
    staff(state, me).await?;
    let rows = state.store.ip_blocks(max_id, min_id, limit).await?;
    Ok((
        rows.iter().map(ip_block_json).collect(),
        rows.iter().map(|b| b.id).collect(),
    ))
}

async fn ip_block_record(state: &AppState, id: Id) -> ApiResult<IpBlockRecord> {
    match state.store.ip_block(id).await {
        Ok(b) => Ok(b),
        Err(StoreError::NotFound) => Err(ApiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

pub async fn ip_block(state: &AppState, me: Id, id: Id) -> ApiResult<Value> {
    staff(state, me).await?;
    Ok(ip_block_json(&ip_block_record(state, id).await?))
}

/// Creates a block (`id: None`) or changes one.
pub async fn put_ip_block(
    state: &AppState,
    me: Id,
    id: Option<Id>,
    input: IpBlockInput,
) -> ApiResult<Value> {
    staff(state, me).await?;
    let now = time::now_millis();
    let mut block = match id {
        Some(id) => ip_block_record(state, id).await?,
        None => IpBlockRecord {
            id: state.ids.next(),
            ip: String::new(),
            severity: String::new(),
            comment: String::new(),
            created_at: now,
            updated_at: now,
            expires_at: None,
        },
    };
    if let Some(ip) = input.ip {
        let net: IpNet = ip
            .parse()
            .map_err(|_| ApiError::unprocessable("Ip is invalid"))?;
        block.ip = net.to_string();
    }
    if let Some(severity) = input.severity {
        if Severity::parse(&severity).is_none() {
            return Err(ApiError::unprocessable(
                "Severity must be sign_up_requires_approval, sign_up_block or no_access",
            ));
        }
        block.severity = severity;
    }
    if let Some(comment) = input.comment {
        if comment.chars().count() > 1_000 {
            return Err(ApiError::unprocessable(
                "Comment is too long (maximum is 1000 characters)",
            ));
        }
        block.comment = comment;
    }
    match input.expires_in {
        Some(seconds) if seconds > 0 => {
            block.expires_at = Some(now.saturating_add(seconds.saturating_mul(1000)));
        }
        Some(_) | None if id.is_none() => block.expires_at = None,
        _ => {}
    }
    if block.ip.is_empty() {
        return Err(ApiError::unprocessable("Ip can't be blank"));
    }
    if block.severity.is_empty() {
        return Err(ApiError::unprocessable("Severity can't be blank"));
    }
    block.updated_at = now;
    state.store.put_ip_block(&block).await?;
    state.ip_blocks.reload(state).await?;
    state.forget(crate::cluster::Forget::IpBlocks);
    Ok(ip_block_json(&block))
}

pub async fn delete_ip_block(state: &AppState, me: Id, id: Id) -> ApiResult<Value> {
    staff(state, me).await?;
    if !state.store.delete_ip_block(id).await? {
        return Err(ApiError::NotFound);
    }
    state.ip_blocks.reload(state).await?;
    state.forget(crate::cluster::Forget::IpBlocks);
    Ok(json!({}))
}
