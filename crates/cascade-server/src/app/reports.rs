//! Reports: a user tells the moderators about an account, optionally citing its statuses.
//! Distinct reporters also count as a spam signal (`app::spam`).

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
    state.store.create_report(&record).await?;
    Ok(entity::Report {
        id: record.id.to_string(),
        action_taken: false,
        action_taken_at: None,
        category: record.category,
        comment: record.comment,
        forwarded: false,
        created_at: time::rfc3339(record.created_at),
        status_ids: r.status_ids.iter().map(|i| i.to_string()).collect(),
        rule_ids: Vec::new(),
        target_account: render::account(state, &target),
    })
}
