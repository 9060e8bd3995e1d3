//! What each write owes, performed by the worker (`worker`) from the job the write
//! recorded in its own transaction: notifications (which carry their pushes and automatic
//! replies), conversations, the search index, brand-watch hits and streams. Every handler
//! may run twice (a crash after the work, before the job was deleted): notifications are
//! unique per event, conversations and index entries are overwritten, watch hits are
//! unique, and an automatic reply is claimed once per period and sender. Handlers first
//! check that the cause still stands (the status exists, the favourite was not undone), so
//! jobs may also run in any order.

use cascade_core::job::JobKind;
use cascade_core::{Id, NotificationKind, Visibility};
use cascade_store::{Job, Mark, NewJob, StatusRecord, StoreError};
use serde::{Deserialize, Serialize};

use crate::app::{accounts, away, conversations, fanout, notifications, search, stream, watch};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Performs one job.
pub async fn run(state: &AppState, job: &Job) -> ApiResult<()> {
    match job.kind {
        JobKind::Deliver => status_created(state, job.subject_id).await,
        JobKind::Fanout => fanout::run(state, job).await,
        JobKind::Favourite => favourited(state, job).await,
        JobKind::Follow => followed(state, job).await,
        JobKind::Edit => edited(state, job.subject_id).await,
        JobKind::Delete => deleted(state, job).await,
        JobKind::AwayReply => away::reply(state, job).await,
        JobKind::PollEnded => crate::app::polls::ended(state, job).await,
        JobKind::RemoveMedia => crate::app::media::remove_job(state, job).await,
        JobKind::ProcessMedia => crate::app::media::process_job(state, job).await,
        JobKind::Federate => crate::app::federation::deliver(state, job).await,
        JobKind::MoveFollowers => crate::app::federation::moves::move_followers(state, job).await,
        JobKind::ProfileUpdate => {
            crate::app::federation::profile_updated(state, job.subject_id).await
        }
    }
}

/// The jobs a new status owes: its delivery and its fan-out.
pub fn status_jobs(state: &AppState, status: Id, now: i64) -> Vec<NewJob> {
    vec![
        NewJob::new(state.ids.next(), JobKind::Deliver, status, now),
        NewJob::new(state.ids.next(), JobKind::Fanout, status, now),
    ]
}

/// The status if it still exists.
async fn still_there(state: &AppState, id: Id) -> ApiResult<Option<StatusRecord>> {
    match state.store.status(id).await {
        Ok(s) => Ok(Some(s)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The accounts status `id` mentions.
pub(crate) async fn mentions(state: &AppState, id: Id) -> ApiResult<Vec<Id>> {
    Ok(state
        .store
        .mentions_of(&[id])
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect())
}

/// The accounts among `ids` that are this server's (a remote one is told by its own
/// server), in the order given.
pub(crate) async fn local_among(state: &AppState, ids: &[Id]) -> ApiResult<Vec<Id>> {
    let local: std::collections::HashSet<Id> = state
        .store
        .accounts(ids)
        .await?
        .into_iter()
        .filter(|a| a.domain.is_none())
        .map(|a| a.id)
        .collect();
    Ok(ids
        .iter()
        .copied()
        .filter(|id| local.contains(id))
        .collect())
}

/// A new status: the search index, watch hits, conversations for a direct one, the
/// notifications of those it mentions, quotes or reblogs, and the streams.
async fn status_created(state: &AppState, id: Id) -> ApiResult<()> {
    let Some(s) = still_there(state, id).await? else {
        return Ok(());
    };
    let mentioned = mentions(state, id).await?;
    search::status_written(state, &s, &mentioned);
    watch::on_status(state, &s).await?;
    if Visibility::from_code(s.visibility) == Visibility::Direct {
        conversations::record(state, &s, &mentioned).await?;
    }
    if let Some(original) = s.reblog_of_id {
        if let Some(o) = still_there(state, original).await? {
            let kind = NotificationKind::Reblog;
            notifications::notify(state, o.account_id, s.account_id, kind, Some(o.id)).await?;
        }
    }
    // A mentioned remote account is told by its server, which the post is delivered to.
    for account in local_among(state, &mentioned).await? {
        let kind = NotificationKind::Mention;
        notifications::notify(state, account, s.account_id, kind, Some(id)).await?;
    }
    if let Some(quoted) = s.quote_of_id {
        if let Some(q) = still_there(state, quoted).await? {
            let kind = NotificationKind::Quote;
            notifications::notify(state, q.account_id, s.account_id, kind, Some(id)).await?;
        }
    }
    // Streams are live only: a connection lost with a crash missed the event either way.
    if let Err(e) = stream::status_created(state, &s).await {
        tracing::warn!(error = %e, "a status was not streamed");
    }
    // Last, so that a failure above reruns the job before any delivery is queued.
    crate::app::federation::status_created(state, &s).await
}

/// A favourite that still stands notifies the author.
async fn favourited(state: &AppState, job: &Job) -> ApiResult<()> {
    let (status, Some(by)) = (job.subject_id, job.actor_id) else {
        return Ok(());
    };
    if !state.store.has_mark(Mark::Favourite, by, status).await? {
        return Ok(());
    }
    let Some(s) = still_there(state, status).await? else {
        return Ok(());
    };
    notifications::notify(
        state,
        s.account_id,
        by,
        NotificationKind::Favourite,
        Some(s.id),
    )
    .await
}

/// A follow (or request) that still stands notifies the followed account; a follow may be
/// answered by the followed account's follow-back rule.
async fn followed(state: &AppState, job: &Job) -> ApiResult<()> {
    let (follower, Some(target)) = (job.subject_id, job.target_id) else {
        return Ok(());
    };
    if state.store.is_following(follower, target).await? {
        notifications::notify(state, target, follower, NotificationKind::Follow, None).await?;
        accounts::apply_follow_back(state, follower, target).await
    } else if state.store.has_follow_request(follower, target).await? {
        let kind = NotificationKind::FollowRequest;
        notifications::notify(state, target, follower, kind, None).await
    } else {
        Ok(())
    }
}

/// An edit: the search index, watch hits, the notifications of those who reshared it, the
/// streams and, for a local status, the servers its followers are on.
async fn edited(state: &AppState, id: Id) -> ApiResult<()> {
    let Some(s) = still_there(state, id).await? else {
        return Ok(());
    };
    search::status_written(state, &s, &mentions(state, id).await?);
    watch::on_edit(state, &s).await?;
    for (account, quoted) in state.store.resharers_of(id).await? {
        let kind = if quoted {
            NotificationKind::QuotedUpdate
        } else {
            NotificationKind::Update
        };
        notifications::notify(state, account, s.account_id, kind, Some(id)).await?;
    }
    if let Err(e) = stream::edited(state, id).await {
        tracing::warn!(error = %e, "an edit was not streamed");
    }
    // Last, so that a failure above reruns the job before any delivery is queued.
    crate::app::federation::status_edited(state, &s).await
}

/// What a delete job needs of the deleted status to tell the streams that showed it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Gone {
    account_id: Id,
    visibility: i64,
    reblog_of_id: Option<Id>,
    in_reply_to_id: Option<Id>,
    in_reply_to_account_id: Option<Id>,
    mentions: Vec<Id>,
    tags: Vec<String>,
}

/// The delete job of a status about to be deleted, carrying what the streams need.
pub async fn delete_job(state: &AppState, s: &StatusRecord, now: i64) -> ApiResult<NewJob> {
    let gone = Gone {
        account_id: s.account_id,
        visibility: s.visibility,
        reblog_of_id: s.reblog_of_id,
        in_reply_to_id: s.in_reply_to_id,
        in_reply_to_account_id: s.in_reply_to_account_id,
        mentions: mentions(state, s.id).await?,
        tags: state
            .store
            .tags_of(&[s.id])
            .await?
            .into_iter()
            .map(|(_, t)| t)
            .collect(),
    };
    let payload = serde_json::to_string(&gone).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(NewJob::new(state.ids.next(), JobKind::Delete, s.id, now).carrying(payload))
}

/// A deleted status leaves the search index and the streams that may have shown it.
async fn deleted(state: &AppState, job: &Job) -> ApiResult<()> {
    search::status_deleted(state, job.subject_id);
    let Some(gone) = job
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str::<Gone>(p).ok())
    else {
        return Ok(());
    };
    let s = StatusRecord {
        id: job.subject_id,
        account_id: gone.account_id,
        visibility: gone.visibility,
        reblog_of_id: gone.reblog_of_id,
        in_reply_to_id: gone.in_reply_to_id,
        in_reply_to_account_id: gone.in_reply_to_account_id,
        ..StatusRecord::default()
    };
    if let Err(e) = stream::status_deleted(state, &s, &gone.mentions, &gone.tags).await {
        tracing::warn!(error = %e, "a deletion was not streamed");
    }
    crate::app::federation::status_deleted(
        state,
        s.id,
        s.account_id,
        s.visibility,
        s.reblog_of_id,
        &gone.mentions,
    )
    .await
}
