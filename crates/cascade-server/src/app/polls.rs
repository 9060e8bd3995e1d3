//! Polls: made with their status, voted in once per account, rendered in every status
//! that carries one, and ended by the clock (`app::clock`), which queues the voters' and
//! the author's `poll` notifications as a durable job.
//!
//! Counts come from the vote rows when a poll is rendered, so they are exact under any
//! number of concurrent votes; the store's voter row keeps an account from voting twice.

use std::collections::HashMap;

use cascade_core::job::JobKind;
use cascade_core::poll::{self, NewPoll};
use cascade_core::{time, Id, NotificationKind};
use cascade_store::{Job, NewJob, NewPollRecord, PollRecord, StoreError, VoteOutcome};

use crate::app::{entity, notifications, statuses, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A poll as a client sent it, before validation.
#[derive(Debug, Clone, Default)]
pub struct PollInput {
    pub options: Vec<String>,
    pub expires_in: Option<i64>,
    pub multiple: bool,
    pub hide_totals: bool,
}

/// Polls whose end is queued per pass of the clock.
const ENDS_PER_PASS: usize = 100;

/// Checks a poll and makes the record written with its status.
pub fn prepare(state: &AppState, input: &PollInput, now: i64) -> ApiResult<NewPollRecord> {
    let p = NewPoll::parse(
        input.options.clone(),
        input.expires_in,
        input.multiple,
        input.hide_totals,
    )
    .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    Ok(NewPollRecord {
        id: state.ids.next(),
        options: serde_json::to_string(&p.options).map_err(|e| ApiError::Internal(e.into()))?,
        multiple: p.multiple,
        hide_totals: p.hide_totals,
        expires_at: now + p.expires_in_secs * 1000,
    })
}

fn options(p: &PollRecord) -> Vec<String> {
    serde_json::from_str(&p.options).unwrap_or_default()
}

/// Renders polls for a viewer, by their status's id: counts, and the viewer's votes.
pub async fn render(
    state: &AppState,
    viewer: Option<Id>,
    polls: &[&PollRecord],
) -> ApiResult<HashMap<Id, entity::Poll>> {
    if polls.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Id> = polls.iter().map(|p| p.id).collect();
    let counts: HashMap<Id, _> = state.store.poll_counts(&ids).await?.into_iter().collect();
    let (voted, own): (Vec<Id>, Vec<(Id, i64)>) = match viewer {
        Some(me) => (
            state.store.voted_in(me, &ids).await?,
            state.store.own_votes(me, &ids).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let now = time::now_millis();
    Ok(polls
        .iter()
        .map(|p| {
            let c = counts.get(&p.id).cloned().unwrap_or_default();
            let expired = p.expires_at <= now;
            let shows_totals = !p.hide_totals || expired || viewer == Some(p.account_id);
            let titles = options(p);
            let rendered = entity::Poll {
                id: p.id.to_string(),
                expires_at: Some(time::rfc3339(p.expires_at)),
                expired,
                multiple: p.multiple,
                votes_count: c.votes.iter().map(|v| v.1).sum(),
                voters_count: p.multiple.then_some(c.voters),
                options: titles
                    .into_iter()
                    .enumerate()
                    .map(|(i, title)| entity::PollOption {
                        title,
                        votes_count: shows_totals
                            .then(|| c.votes.iter().find(|v| v.0 == i as i64).map_or(0, |v| v.1)),
                    })
                    .collect(),
                emojis: Vec::new(),
                voted: viewer.map(|me| me == p.account_id || voted.contains(&p.id)),
                own_votes: viewer.map(|_| {
                    own.iter()
                        .filter(|(poll, _)| *poll == p.id)
                        .map(|(_, c)| *c)
                        .collect()
                }),
            };
            (p.status_id, rendered)
        })
        .collect())
}

/// A poll whose status the viewer may see; 404 otherwise.
async fn visible_poll(state: &AppState, viewer: &Viewer, id: Id) -> ApiResult<PollRecord> {
    let p = match state.store.poll(id).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => return Err(ApiError::NotFound),
        Err(e) => return Err(e.into()),
    };
    statuses::visible(state, viewer, p.status_id).await?;
    Ok(p)
}

/// `GET /api/v1/polls/:id`.
pub async fn show(state: &AppState, viewer: &Viewer, id: Id) -> ApiResult<entity::Poll> {
    let p = visible_poll(state, viewer, id).await?;
    render(state, viewer.id, &[&p])
        .await?
        .remove(&p.status_id)
        .ok_or(ApiError::NotFound)
}

/// Votes in a poll the viewer may see: once, before its end, not in one's own poll.
pub async fn vote(
    state: &AppState,
    viewer: &Viewer,
    id: Id,
    choices: &[i64],
) -> ApiResult<entity::Poll> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let p = visible_poll(state, viewer, id).await?;
    if p.account_id == me {
        return Err(ApiError::unprocessable("You cannot vote in your own poll"));
    }
    poll::check_choices(choices, options(&p).len(), p.multiple)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    match state
        .store
        .vote(p.id, me, choices, time::now_millis())
        .await?
    {
        VoteOutcome::Counted => {}
        VoteOutcome::AlreadyVoted => {
            return Err(ApiError::unprocessable(
                "You have already voted on this poll",
            ))
        }
        VoteOutcome::Expired => {
            return Err(ApiError::unprocessable("The poll has already ended"));
        }
    }
    state.forget(crate::cluster::Forget::Status(p.status_id));
    show(state, viewer, id).await
}

/// Queues the end of every poll that ran out: marks it ended and writes its `PollEnded`
/// job in one transaction, so each end is announced once, whichever process gets there.
/// Returns how many ended.
pub async fn end_due(state: &AppState) -> ApiResult<usize> {
    let now = time::now_millis();
    let mut ended = 0;
    for (poll, status) in state.store.due_polls(now, ENDS_PER_PASS).await? {
        let job = NewJob::new(state.ids.next(), JobKind::PollEnded, status, now).on(poll);
        if state.store.end_poll(poll, now, &[job]).await? {
            ended += 1;
        }
    }
    if ended > 0 {
        state.jobs.ring();
    }
    Ok(ended)
}

/// The `PollEnded` job: tells each voter and the author that the poll ended. A poll
/// deleted (or edited to run again) since is left alone; `notify` writes each notification
/// once, so a rerun tells nobody twice.
pub async fn ended(state: &AppState, job: &Job) -> ApiResult<()> {
    let Some(poll) = job.target_id else {
        return Ok(());
    };
    let p = match state.store.poll(poll).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if p.ended_at.is_none() || p.expires_at > time::now_millis() {
        return Ok(());
    }
    let author = p.account_id;
    for voter in state.store.poll_voter_ids(p.id).await? {
        notifications::notify(
            state,
            voter,
            author,
            NotificationKind::Poll,
            Some(p.status_id),
        )
        .await?;
    }
    notifications::notify(
        state,
        author,
        author,
        NotificationKind::Poll,
        Some(p.status_id),
    )
    .await
}
