//! Reports: a user tells the moderators about an account, optionally citing its statuses.
//! Distinct reporters also count as a spam signal (`app::spam`). A report about a remote
//! account may be forwarded to its server as a `Flag`; a peer's `Flag` becomes a report
//! here (`federation::inbox`).

use cascade_core::{time, Id};
use cascade_store::ReportRecord;

use crate::app::entity;
use crate::app::{render, statuses, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Mastodon's report categories.
const CATEGORIES: &[&str] = &["spam", "legal", "violation", "other"];
/// The longest comment accepted, in characters (Mastodon's limit).
const MAX_COMMENT: usize = 1_000;

pub struct NewReport {
    pub account_id: Id,
    pub status_ids: Vec<Id>,
    pub comment: String,
    pub category: Option<String>,
    /// Whether a report about a remote account is sent on to its server (`Flag`).
    pub forward: bool,
}

pub async fn create(state: &AppState, viewer: &Viewer, r: NewReport) -> ApiResult<entity::Report> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    if r.account_id == me {
        return Err(ApiError::unprocessable("You cannot report yourself"));
    }
    let target = state
        .store
        .account(r.account_id)
        .await
        .map_err(|_| ApiError::NotFound)?;
    let category = r.category.unwrap_or_else(|| "other".into());
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(ApiError::unprocessable(
            "category must be spam, legal, violation or other",
        ));
    }
    if r.comment.chars().count() > MAX_COMMENT {
        return Err(ApiError::unprocessable(
            "comment is longer than 1000 characters",
        ));
    }
    for &id in &r.status_ids {
        // Only statuses of the reported account that the reporter can see may be cited.
        let s = statuses::visible(state, viewer, id).await?;
        if s.account_id != target.id {
            return Err(ApiError::unprocessable(
                "status_ids must be statuses of the reported account",
            ));
        }
    }
    let record = ReportRecord {
        id: state.ids.next(),
        account_id: me,
        target_account_id: target.id,
        category,
        comment: r.comment,
        status_ids: r
            .status_ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(","),
        created_at: time::now_millis(),
    };
    let forward = if r.forward && target.domain.is_some() {
        crate::app::federation::flag_job(state, record.id, &target, &r.status_ids, &record.comment)
            .await?
    } else {
        None
    };
    let forwarded = forward.is_some();
    state
        .store
        .create_report(&record, &forward.into_iter().collect::<Vec<_>>())
        .await?;
    state.forget(crate::cluster::Forget::Spam(target.id));
    if forwarded {
        state.jobs.ring();
    }
    Ok(entity::Report {
        id: record.id.to_string(),
        action_taken: false,
        action_taken_at: None,
        category: record.category,
        comment: record.comment,
        forwarded,
        created_at: time::rfc3339(record.created_at),
        status_ids: r.status_ids.iter().map(|i| i.to_string()).collect(),
        rule_ids: Vec::new(),
        target_account: render::account(state, &target),
    })
}
