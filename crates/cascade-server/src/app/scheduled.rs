//! Scheduled statuses: `scheduled_at` on a new status keeps its parameters in the store
//! until the clock (`app::clock`) publishes it through `statuses::create`, with an
//! idempotency key of its own, so a publication interrupted by a crash finishes once on
//! the next pass. The row is deleted only after the status exists.
//!
//! What can be checked at scheduling time is (text, visibility, poll, the time and
//! Mastodon's limits: 300 scheduled in all, 25 on one day); what depends on the moment
//! (the replied-to status still visible, the quote policy) is checked on publication, and
//! a status that can no longer be posted is dropped with a warning in the log.

use cascade_core::{time, Id, NewStatus, Visibility};
use cascade_store::{ScheduledRecord, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::polls::PollInput;
use crate::app::statuses::{self, StatusInput};
use crate::app::{entity, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How far ahead a status must be scheduled (Mastodon: 5 minutes).
pub const MIN_OFFSET_MS: i64 = 5 * 60 * 1000;
/// Scheduled statuses per account, in all and on one day (Mastodon's).
pub const MAX_SCHEDULED: i64 = 300;
pub const MAX_SCHEDULED_PER_DAY: i64 = 25;
/// Statuses published per pass of the clock.
const PUBLISH_PER_PASS: usize = 100;

/// What is kept of a status until its time.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Params {
    text: String,
    spoiler_text: String,
    visibility: String,
    sensitive: bool,
    language: Option<String>,
    in_reply_to_id: Option<Id>,
    quoted_status_id: Option<Id>,
    quote_approval_policy: Option<String>,
    poll: Option<PollParams>,
    application_id: Option<Id>,
    idempotency: Option<String>,
    /// The uploads kept for it, in order.
    #[serde(default)]
    media_ids: Vec<Id>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PollParams {
    options: Vec<String>,
    expires_in: i64,
    multiple: bool,
    hide_totals: bool,
}

fn params_of(r: &ScheduledRecord) -> ApiResult<Params> {
    serde_json::from_str(&r.params).map_err(|e| ApiError::Internal(e.into()))
}

async fn render(state: &AppState, r: &ScheduledRecord) -> ApiResult<entity::ScheduledStatus> {
    let p = params_of(r)?;
    let kept = state.store.media_of_scheduled(r.id).await?;
    let media_attachments = p
        .media_ids
        .iter()
        .filter_map(|id| kept.iter().find(|m| m.id == *id))
        .map(|m| serde_json::to_value(crate::app::media::entity(state, m)).unwrap_or_default())
        .collect();
    let media_ids: Vec<String> = p.media_ids.iter().map(Id::to_string).collect();
    Ok(entity::ScheduledStatus {
        id: r.id.to_string(),
        scheduled_at: time::rfc3339(r.scheduled_at),
        params: json!({
            "text": p.text,
            "spoiler_text": p.spoiler_text,
            "visibility": p.visibility,
            "sensitive": p.sensitive,
            "language": p.language,
            "in_reply_to_id": p.in_reply_to_id,
            "quoted_status_id": p.quoted_status_id,
            "quote_approval_policy": p.quote_approval_policy.as_deref().unwrap_or("public"),
            "poll": p.poll,
            "media_ids": if media_ids.is_empty() { None } else { Some(media_ids) },
            "scheduled_at": null,
            // Mastodon's historical fields: 0 when the token has no application.
            "application_id": p.application_id.unwrap_or(0),
            "idempotency": p.idempotency,
            "with_rate_limit": false,
        }),
        media_attachments,
    })
}

/// Parses a client's `scheduled_at`: RFC 3339, at least 5 minutes ahead.
pub fn parse_time(raw: &str, now: i64) -> ApiResult<i64> {
    let at = time::parse_rfc3339(raw)
        .ok_or_else(|| ApiError::unprocessable("Scheduled at is not a valid time"))?;
    if at < now + MIN_OFFSET_MS {
        return Err(ApiError::unprocessable(
            "Scheduled at must be at least 5 minutes in the future",
        ));
    }
    Ok(at)
}

/// Checks Mastodon's limits for one more status at `at` (or, `moving`, one of the
/// account's moved there).
async fn check_limits(state: &AppState, me: Id, at: i64, moving: bool) -> ApiResult<()> {
    let day = at.div_euclid(time::DAY_MS) * time::DAY_MS;
    let (all, that_day) = state
        .store
        .count_scheduled(me, day, day + time::DAY_MS)
        .await?;
    if !moving && all >= MAX_SCHEDULED {
        return Err(ApiError::unprocessable(format!(
            "You cannot schedule more than {MAX_SCHEDULED} statuses"
        )));
    }
    if that_day >= MAX_SCHEDULED_PER_DAY {
        return Err(ApiError::unprocessable(format!(
            "You cannot schedule more than {MAX_SCHEDULED_PER_DAY} statuses on one day"
        )));
    }
    Ok(())
}

/// Schedules a status for `at` (already parsed and checked by `parse_time`).
pub async fn schedule(
    state: &AppState,
    viewer: &Viewer,
    input: StatusInput,
    at: i64,
) -> ApiResult<entity::ScheduledStatus> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let raw_media = input.media_ids.clone().unwrap_or_default();
    let media = crate::app::media::for_status(state, me, &raw_media, None, None).await?;
    let now = time::now_millis();
    let user = state.store.user(me).await?;
    let visibility = match input.visibility.as_deref() {
        None | Some("") => user
            .default_visibility
            .parse()
            .unwrap_or(Visibility::Public),
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::unprocessable("Visibility is not included in the list"))?,
    };
    let draft = NewStatus::parse_with_media(
        input.text,
        input.spoiler_text,
        visibility,
        input.sensitive,
        input.language,
        media.len(),
    )?;
    if let Some(p) = &input.poll {
        crate::app::polls::prepare(state, p, now)?;
    }
    if let Some(policy) = input.quote_approval_policy.as_deref() {
        if !matches!(policy, "" | "public" | "followers" | "nobody") {
            return Err(ApiError::unprocessable(
                "Quote approval policy is not included in the list",
            ));
        }
    }
    check_limits(state, me, at, false).await?;
    let params = Params {
        text: draft.text,
        spoiler_text: draft.spoiler_text,
        visibility: draft.visibility.as_str().to_string(),
        sensitive: draft.sensitive,
        language: draft.language,
        in_reply_to_id: input.in_reply_to_id,
        quoted_status_id: input.quoted_status_id,
        quote_approval_policy: input.quote_approval_policy.filter(|p| !p.is_empty()),
        poll: input.poll.map(|p| PollParams {
            options: p.options,
            expires_in: p.expires_in.unwrap_or_default(),
            multiple: p.multiple,
            hide_totals: p.hide_totals,
        }),
        application_id: input.app_id,
        idempotency: input.idempotency_key.clone(),
        media_ids: media.clone(),
    };
    let record = ScheduledRecord {
        id: state.ids.next(),
        account_id: me,
        scheduled_at: at,
        params: serde_json::to_string(&params).map_err(|e| ApiError::Internal(e.into()))?,
        idem_key: input.idempotency_key,
        created_at: now,
    };
    let id = state
        .store
        .schedule_status(&record, &media)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::unprocessable("A media attachment is already attached to another status")
            }
            other => other.into(),
        })?;
    get(state, me, id).await
}

async fn record(state: &AppState, me: Id, id: Id) -> ApiResult<ScheduledRecord> {
    match state.store.scheduled_status(me, id).await {
        Ok(r) => Ok(r),
        Err(StoreError::NotFound) => Err(ApiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// One of `me`'s scheduled statuses; anyone else's is 404.
pub async fn get(state: &AppState, me: Id, id: Id) -> ApiResult<entity::ScheduledStatus> {
    render(state, &record(state, me, id).await?).await
}

/// A page of `me`'s scheduled statuses and their ids (the paging keys).
pub async fn list(
    state: &AppState,
    me: Id,
    max_id: Option<Id>,
    min_id: Option<Id>,
    limit: usize,
) -> ApiResult<(Vec<entity::ScheduledStatus>, Vec<Id>)> {
    let rows = state
        .store
        .scheduled_statuses(me, max_id, min_id, limit)
        .await?;
    let keys = rows.iter().map(|r| r.id).collect();
    let mut rendered = Vec::with_capacity(rows.len());
    for r in &rows {
        rendered.push(render(state, r).await?);
    }
    Ok((rendered, keys))
}

/// Moves a scheduled status to another time (at least 5 minutes ahead).
pub async fn reschedule(
    state: &AppState,
    me: Id,
    id: Id,
    at: i64,
) -> ApiResult<entity::ScheduledStatus> {
    record(state, me, id).await?;
    check_limits(state, me, at, true).await?;
    if !state.store.reschedule(me, id, at).await? {
        return Err(ApiError::NotFound);
    }
    get(state, me, id).await
}

pub async fn cancel(state: &AppState, me: Id, id: Id) -> ApiResult<()> {
    if !state.store.cancel_scheduled(me, id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

/// Publishes the scheduled statuses whose time came; returns how many were published.
pub async fn publish_due(state: &AppState) -> ApiResult<usize> {
    let mut published = 0;
    for r in state
        .store
        .due_scheduled(time::now_millis(), PUBLISH_PER_PASS)
        .await?
    {
        match publish(state, &r).await {
            Ok(()) => {
                state.store.scheduled_done(r.id).await?;
                published += 1;
            }
            // The store failed: try again on the next pass.
            Err(ApiError::Internal(e)) => {
                tracing::warn!(error = %e, id = r.id, "publishing a scheduled status failed; retrying");
            }
            // It can never be posted as it stands (its reply target is gone, say).
            Err(e) => {
                tracing::warn!(error = %e, id = r.id, "a scheduled status could not be posted and is dropped");
                state.store.scheduled_done(r.id).await?;
            }
        }
    }
    Ok(published)
}

async fn publish(state: &AppState, r: &ScheduledRecord) -> ApiResult<()> {
    let p = params_of(r)?;
    let author = state.store.account(r.account_id).await?;
    if author.suspended_at.is_some() {
        return Err(ApiError::Forbidden("The author is suspended".into()));
    }
    let viewer = Viewer::load(state, Some(r.account_id)).await?;
    let input = StatusInput {
        text: p.text,
        spoiler_text: p.spoiler_text,
        visibility: Some(p.visibility),
        sensitive: p.sensitive,
        language: p.language,
        in_reply_to_id: p.in_reply_to_id,
        quoted_status_id: p.quoted_status_id,
        quote_approval_policy: p.quote_approval_policy,
        // Its own key: a publication cut short by a crash finds its status next time.
        idempotency_key: Some(format!("scheduled-{}", r.id)),
        app_id: p.application_id,
        poll: p.poll.map(|p| PollInput {
            options: p.options,
            expires_in: Some(p.expires_in),
            multiple: p.multiple,
            hide_totals: p.hide_totals,
        }),
        media_ids: Some(p.media_ids.iter().map(Id::to_string).collect()),
        media_attributes: Vec::new(),
        scheduled_id: Some(r.id),
    };
    statuses::create(state, &viewer, input).await?;
    Ok(())
}
