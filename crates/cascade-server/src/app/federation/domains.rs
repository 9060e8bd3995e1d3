//! Blocks of whole servers.
//!
//! A moderator's domain block (`/api/v1/admin/domain_blocks`) covers a domain and its
//! subdomains: `suspend` refuses everything the domain sends (inbox, fetches, WebFinger),
//! sends it nothing, and suspends its known accounts; `silence` limits its accounts, known
//! and new, as a moderator's limit does; `noop` only records the flags. Lifting or changing
//! a block lifts exactly the suspensions and limits it put (they carry its `applied_at`).
//! The blocks are kept in memory, because every inbound activity and delivery asks; a
//! change here applies at once on this node and, through `cluster::Forget::DomainBlocks`,
//! on the others.
//!
//! A person's domain block (`/api/v1/domain_blocks`) covers one domain exactly: its known
//! accounts join the person's blocked accounts (`Viewer::blocked`, so they vanish from
//! timelines, notifications, search and threads), they cannot follow the person nor the
//! person them, and those that followed the person are removed from its followers.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use cascade_core::{time, Id};
use cascade_store::{DomainBlockRecord, StoreError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::app::accounts;
use crate::app::admin::staff;
use crate::cluster::Forget;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What a moderator's block does, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Noop,
    Silence,
    Suspend,
}

impl Severity {
    fn parse(s: &str) -> Option<Severity> {
        match s {
            "noop" => Some(Severity::Noop),
            "silence" => Some(Severity::Silence),
            "suspend" => Some(Severity::Suspend),
            _ => None,
        }
    }
}

/// How long a node trusts its copy when no change was announced (a lost message).
const TTL: Duration = Duration::from_secs(60);

/// The moderators' domain blocks, in memory.
#[derive(Default)]
pub struct DomainBlocks {
    loaded: RwLock<Option<(Instant, Arc<Vec<DomainBlockRecord>>)>>,
    reloading: tokio::sync::Mutex<()>,
}

impl DomainBlocks {
    /// Forgets the copy: the next question reads the blocks again.
    pub fn forget(&self) {
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    async fn current(&self, state: &AppState) -> ApiResult<Arc<Vec<DomainBlockRecord>>> {
        let fresh = |this: &Self| {
            this.loaded
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .filter(|(at, _)| at.elapsed() < TTL)
                .map(|(_, blocks)| blocks.clone())
        };
        if let Some(blocks) = fresh(self) {
            return Ok(blocks);
        }
        let _one = self.reloading.lock().await;
        if let Some(blocks) = fresh(self) {
            return Ok(blocks);
        }
        let blocks = Arc::new(state.store.all_domain_blocks().await?);
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), blocks.clone()));
        Ok(blocks)
    }

    /// The strictest block covering `domain` (the domain itself or a parent of it).
    pub async fn on(&self, state: &AppState, domain: &str) -> ApiResult<Option<DomainBlockRecord>> {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let blocks = self.current(state).await?;
        Ok(blocks
            .iter()
            .filter(|b| covers(&b.domain, &domain))
            .max_by_key(|b| Severity::parse(&b.severity))
            .cloned())
    }

    /// Whether a moderator suspended `domain`.
    pub async fn suspended(&self, state: &AppState, domain: &str) -> ApiResult<bool> {
        Ok(self
            .on(state, domain)
            .await?
            .is_some_and(|b| Severity::parse(&b.severity) == Some(Severity::Suspend)))
    }
}

/// Whether a block of `blocked` covers `domain` (`host[:port]`): the same domain, or a
/// subdomain of it; a block without a port covers every port.
fn covers(blocked: &str, domain: &str) -> bool {
    let host = if blocked.contains(':') {
        domain
    } else {
        domain.split(':').next().unwrap_or(domain)
    };
    host == blocked
        || host
            .strip_suffix(blocked)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// A domain as a person or moderator typed it (`Example.COM`, `https://example.com/`,
/// `host:port`), or 422 when it is not a host name.
pub fn normalise(state: &AppState, raw: &str) -> ApiResult<String> {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .unwrap_or(raw);
    let domain = raw
        .split('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if domain.is_empty() {
        return Err(ApiError::unprocessable("Domain can't be blank"));
    }
    let (host, port) = match domain.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain.as_str(), None),
    };
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if host.len() > 253 || !host.split('.').all(label_ok) || !port_ok {
        return Err(ApiError::unprocessable("Domain is not a valid domain name"));
    }
    if covers(&domain, &state.config.domain.to_ascii_lowercase()) {
        return Err(ApiError::unprocessable("Domain is this server's own"));
    }
    Ok(domain)
}

fn digest(domain: &str) -> String {
    hex(&Sha256::digest(domain.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A domain with its middle hidden, as Mastodon shows an obfuscated block.
fn obfuscated(domain: &str) -> String {
    let chars: Vec<char> = domain.chars().collect();
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if *c == '.' || i < n / 4 || i >= n - n / 4 {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

fn admin_json(b: &DomainBlockRecord) -> Value {
    json!({
        "id": b.id.to_string(),
        "domain": b.domain,
        "digest": digest(&b.domain),
        "created_at": time::rfc3339(b.created_at),
        "severity": b.severity,
        "reject_media": b.reject_media,
        "reject_reports": b.reject_reports,
        "private_comment": (!b.private_comment.is_empty()).then_some(&b.private_comment),
        "public_comment": (!b.public_comment.is_empty()).then_some(&b.public_comment),
        "obfuscate": b.obfuscate,
    })
}

/// The server's published blocks (`GET /api/v1/instance/domain_blocks`): silenced and
/// suspended domains, obfuscated where the moderator asked, with the public comment.
pub async fn published(state: &AppState) -> ApiResult<Vec<Value>> {
    let blocks = state.federation.domains.current(state).await?;
    Ok(blocks
        .iter()
        .filter(|b| Severity::parse(&b.severity) > Some(Severity::Noop))
        .map(|b| {
            json!({
                "domain": if b.obfuscate { obfuscated(&b.domain) } else { b.domain.clone() },
                "digest": digest(&b.domain),
                "severity": b.severity,
                "comment": (!b.public_comment.is_empty()).then_some(&b.public_comment),
            })
        })
        .collect())
}

/// What a moderator sends to create or change a domain block.
#[derive(Debug, Default)]
pub struct BlockInput {
    pub domain: Option<String>,
    pub severity: Option<String>,
    pub reject_media: Option<bool>,
    pub reject_reports: Option<bool>,
    pub private_comment: Option<String>,
    pub public_comment: Option<String>,
    pub obfuscate: Option<bool>,
}

pub async fn blocks(
    state: &AppState,
    me: Id,
    max_id: Option<Id>,
    min_id: Option<Id>,
    limit: usize,
) -> ApiResult<(Vec<Value>, Vec<Id>)> {
    staff(state, me).await?;
    let rows = state.store.domain_blocks(max_id, min_id, limit).await?;
    Ok((
        rows.iter().map(admin_json).collect(),
        rows.iter().map(|b| b.id).collect(),
    ))
}

async fn record(state: &AppState, id: Id) -> ApiResult<DomainBlockRecord> {
    match state.store.domain_block(id).await {
        Ok(b) => Ok(b),
        Err(StoreError::NotFound) => Err(ApiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

pub async fn block(state: &AppState, me: Id, id: Id) -> ApiResult<Value> {
    staff(state, me).await?;
    Ok(admin_json(&record(state, id).await?))
}

fn comment(text: String) -> ApiResult<String> {
    if text.chars().count() > 1_000 {
        return Err(ApiError::unprocessable(
            "Comment is too long (maximum is 1000 characters)",
        ));
    }
    Ok(text)
}

/// Creates a block (`id: None`) or changes one, and applies its severity to the domain's
/// accounts.
pub async fn put_block(
    state: &AppState,
    me: Id,
    id: Option<Id>,
    input: BlockInput,
) -> ApiResult<Value> {
    staff(state, me).await?;
    let now = time::now_millis();
    let before = match id {
        Some(id) => Some(record(state, id).await?),
        None => None,
    };
    let mut b = match &before {
        Some(b) => b.clone(),
        None => {
            let raw = input.domain.as_deref().unwrap_or_default();
            DomainBlockRecord {
                id: state.ids.next(),
                domain: normalise(state, raw)?,
                severity: "silence".into(),
                reject_media: false,
                reject_reports: false,
                private_comment: String::new(),
                public_comment: String::new(),
                obfuscate: false,
                applied_at: now,
                created_at: now,
                updated_at: now,
            }
        }
    };
    if let Some(severity) = input.severity {
        if Severity::parse(&severity).is_none() {
            return Err(ApiError::unprocessable(
                "Severity must be silence, suspend or noop",
            ));
        }
        b.severity = severity;
    }
    b.reject_media = input.reject_media.unwrap_or(b.reject_media);
    b.reject_reports = input.reject_reports.unwrap_or(b.reject_reports);
    b.obfuscate = input.obfuscate.unwrap_or(b.obfuscate);
    if let Some(text) = input.private_comment {
        b.private_comment = comment(text)?;
    }
    if let Some(text) = input.public_comment {
        b.public_comment = comment(text)?;
    }
    let changed_severity = before.as_ref().is_none_or(|old| old.severity != b.severity);
    let mut touched = Vec::new();
    if changed_severity {
        if let Some(old) = &before {
            touched.extend(
                state
                    .store
                    .unrestrict_domain(&old.domain, old.applied_at)
                    .await?,
            );
        }
        b.applied_at = now;
    }
    b.updated_at = now;
    match state.store.put_domain_block(&b).await {
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::unprocessable("Domain has already been taken"))
        }
        other => other?,
    }
    if changed_severity {
        match Severity::parse(&b.severity) {
            Some(Severity::Suspend) => {
                touched.extend(state.store.restrict_domain(&b.domain, true, now).await?);
            }
            Some(Severity::Silence) => {
                touched.extend(state.store.restrict_domain(&b.domain, false, now).await?);
            }
            _ => {}
        }
    }
    changed(state, &touched);
    Ok(admin_json(&b))
}

pub async fn delete_block(state: &AppState, me: Id, id: Id) -> ApiResult<Value> {
    staff(state, me).await?;
    let b = record(state, id).await?;
    let touched = state
        .store
        .unrestrict_domain(&b.domain, b.applied_at)
        .await?;
    if !state.store.delete_domain_block(id).await? {
        return Err(ApiError::NotFound);
    }
    changed(state, &touched);
    Ok(json!({}))
}

/// Tells every node the blocks changed, and forgets the accounts a block acted on.
fn changed(state: &AppState, accounts: &[Id]) {
    state.forget(Forget::DomainBlocks);
    for &id in accounts {
        state.forget(Forget::Account(id));
    }
}

/// A remote account just stored: a silenced domain's new account is limited as the
/// domain's known accounts were.
pub async fn on_new_account(state: &AppState, id: Id, domain: &str) -> ApiResult<()> {
    let Some(b) = state.federation.domains.on(state, domain).await? else {
        return Ok(());
    };
    if Severity::parse(&b.severity) == Some(Severity::Silence) {
        let a = state.store.account(id).await?;
        if a.limited_at.is_none() {
            state.store.set_limited(id, Some(b.applied_at)).await?;
            state.forget(Forget::Account(id));
        }
    }
    Ok(())
}

/// A page of the domains `me` blocked.
pub async fn mine(
    state: &AppState,
    me: Id,
    max_id: Option<Id>,
    min_id: Option<Id>,
    limit: usize,
) -> ApiResult<(Vec<String>, Vec<Id>)> {
    let rows = state
        .store
        .account_domain_blocks(me, max_id, min_id, limit)
        .await?;
    Ok((
        rows.iter().map(|(_, d)| d.clone()).collect(),
        rows.iter().map(|(id, _)| *id).collect(),
    ))
}

/// The most domains one person may block.
pub const MAX_PER_ACCOUNT: i64 = 1_000;

/// `me` blocks `domain`: its accounts that follow `me` (or asked to) stop.
pub async fn block_domain(state: &AppState, me: Id, raw: &str) -> ApiResult<()> {
    let domain = normalise(state, raw)?;
    if state.store.count_domain_blocks(me).await? >= MAX_PER_ACCOUNT {
        return Err(ApiError::unprocessable(format!(
            "You cannot block more than {MAX_PER_ACCOUNT} domains"
        )));
    }
    state
        .store
        .block_domain(state.ids.next(), me, &domain, time::now_millis())
        .await?;
    for follower in state.store.followers_on_domain(me, &domain).await? {
        if state.store.has_follow_request(follower, me).await? {
            accounts::answer_follow_request(state, me, follower, false).await?;
        }
        if state.store.is_following(follower, me).await? {
            accounts::remove_follower(state, me, follower).await?;
        }
    }
    state.graph_changed(&[me], true);
    Ok(())
}

pub async fn unblock_domain(state: &AppState, me: Id, raw: &str) -> ApiResult<()> {
    let domain = normalise(state, raw)?;
    state.store.unblock_domain(me, &domain).await?;
    state.graph_changed(&[me], true);
    Ok(())
}
