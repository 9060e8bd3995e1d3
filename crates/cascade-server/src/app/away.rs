//! Out of office (a Cascade extension): a user sets an away period with a message. While it
//! lasts, each account that writes to them privately (a direct message, or a mention in a
//! private post) gets one automatic direct reply per period, their profile says they are
//! away, and their Web Push deliveries are held for one digest when the period ends (see
//! `app::push`).
//!
//! Automatic replies never answer automatic replies, so two away users cannot talk to each
//! other forever; and one per sender and period is enforced by the store's primary key,
//! not by a check before the insert. Current periods are kept in memory (`AwayBook`) so
//! rendering an account needs no query; it is loaded at start and changed by this
//! process's own writes, so a period set through another process shows here only after a
//! restart.

use std::collections::HashMap;
use std::sync::RwLock;

use cascade_core::job::JobKind;
use cascade_core::{text, time, Id, NotificationKind, Visibility};
use cascade_store::{AwayRecord, Job, NewJob, NotificationRecord, StoreError};
use serde::{Deserialize, Serialize};

use crate::app::entity;
use crate::app::statuses::{self, StatusInput};
use crate::app::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The longest away message: with the sender's `@username` before it, the reply must fit a
/// status.
pub const MAX_MESSAGE_CHARS: usize = 400;

/// The current and coming away periods by account, as stored: loaded at start, updated on
/// every change. Small: one entry per user who set a period that has not been digested.
#[derive(Default)]
pub struct AwayBook {
    periods: RwLock<HashMap<Id, AwayRecord>>,
}

impl AwayBook {
    /// The account's period if it is under way at `at` (milliseconds).
    pub fn active(&self, account: Id, at: i64) -> Option<AwayRecord> {
        let periods = self.periods.read().unwrap_or_else(|p| p.into_inner());
        periods
            .get(&account)
            .filter(|p| p.starts_at <= at && at < p.ends_at)
            .cloned()
    }

    /// Whether the account's pushes are held at `at`.
    pub fn holds(&self, account: Id, at: i64) -> bool {
        self.active(account, at).is_some()
    }

    /// What the account's profile shows while the account is away.
    pub fn notice(&self, account: Id) -> Option<entity::AwayNotice> {
        self.active(account, time::now_millis())
            .map(|p| entity::AwayNotice {
                message: p.message,
                ends_at: time::rfc3339(p.ends_at),
            })
    }

    fn put(&self, period: AwayRecord) {
        let mut periods = self.periods.write().unwrap_or_else(|p| p.into_inner());
        periods.insert(period.account_id, period);
    }

    /// Forgets the account's period `id` (digested, or replaced meanwhile: then kept).
    pub fn forget(&self, account: Id, id: Id) {
        let mut periods = self.periods.write().unwrap_or_else(|p| p.into_inner());
        if periods.get(&account).is_some_and(|p| p.id == id) {
            periods.remove(&account);
        }
    }

    fn end(&self, account: Id) {
        let mut periods = self.periods.write().unwrap_or_else(|p| p.into_inner());
        periods.remove(&account);
    }
}

/// Loads the periods not over yet into memory, replacing what is there: called before
/// serving, and again after this node missed the other nodes' messages.
pub async fn load(state: &AppState) -> Result<(), StoreError> {
    let periods: HashMap<Id, AwayRecord> = state
        .store
        .current_away_periods(time::now_millis())
        .await?
        .into_iter()
        .map(|p| (p.account_id, p))
        .collect();
    *state
        .away
        .periods
        .write()
        .unwrap_or_else(|p| p.into_inner()) = periods;
    Ok(())
}

/// Tells the other nodes an account's period changed.
pub fn tell(state: &AppState, account: Id) {
    state.tell(crate::cluster::Message::Forget(
        crate::cluster::Forget::Away(account),
    ));
}

/// Reads an account's period again after another node changed it.
pub async fn reload(state: &AppState, account: Id) {
    match state.store.current_away(account, time::now_millis()).await {
        Ok(Some(period)) => state.away.put(period),
        Ok(None) => state.away.end(account),
        Err(e) => tracing::warn!(error = %e, "an away period changed elsewhere was not read"),
    }
}

/// An away period as the client asked for it.
#[derive(Debug, Clone, Default)]
pub struct AwayInput {
    pub message: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
}

fn render(p: &AwayRecord, now: i64) -> entity::Away {
    entity::Away {
        id: p.id.to_string(),
        message: p.message.clone(),
        starts_at: time::rfc3339(p.starts_at),
        ends_at: time::rfc3339(p.ends_at),
        active: p.starts_at <= now && now < p.ends_at,
    }
}

fn instant(field: &str, value: &str) -> ApiResult<i64> {
    time::parse_rfc3339(value.trim())
        .ok_or_else(|| ApiError::unprocessable(format!("{field} is not an RFC 3339 time")))
}

/// Sets the user's away period; a current one ends now (its digest goes out) and the new
/// one starts afresh, with fresh automatic replies.
pub async fn set(state: &AppState, me: Id, input: AwayInput) -> ApiResult<entity::Away> {
    let now = time::now_millis();
    let message = input.message.unwrap_or_default().trim().to_string();
    if message.is_empty() {
        return Err(ApiError::unprocessable("message can't be blank"));
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::unprocessable(format!(
            "message is too long (maximum is {MAX_MESSAGE_CHARS} characters)"
        )));
    }
    if !text::mentions(&message).is_empty() {
        // Every automatic reply would mention them too.
        return Err(ApiError::unprocessable("message cannot mention accounts"));
    }
    let ends_at = match input.ends_at.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(v) => instant("ends_at", v)?,
        None => return Err(ApiError::unprocessable("ends_at can't be blank")),
    };
    let starts_at = match input.starts_at.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(v) => instant("starts_at", v)?,
        None => now,
    };
    if ends_at <= starts_at {
        return Err(ApiError::unprocessable("ends_at must be after starts_at"));
    }
    if ends_at <= now {
        return Err(ApiError::unprocessable("ends_at must be in the future"));
    }
    let period = AwayRecord {
        id: state.ids.next(),
        account_id: me,
        message,
        starts_at,
        ends_at,
        created_at: now,
    };
    state.store.set_away(&period).await?;
    state.away.put(period.clone());
    tell(state, me);
    // The replaced period, if any, ended: its digest is due.
    state.push_due.notify_one();
    Ok(render(&period, now))
}

/// The user's current or coming away period, or 404.
pub async fn get(state: &AppState, me: Id) -> ApiResult<entity::Away> {
    let now = time::now_millis();
    match state.store.current_away(me, now).await? {
        Some(p) => Ok(render(&p, now)),
        None => Err(ApiError::NotFound),
    }
}

/// Ends the user's away period now; held pushes go out as the digest.
pub async fn clear(state: &AppState, me: Id) -> ApiResult<()> {
    let now = time::now_millis();
    state.store.clear_away(me, now).await?;
    state.away.end(me);
    tell(state, me);
    state.push_due.notify_one();
    Ok(())
}

/// The automatic reply a new notification owes, written with it: for a mention while the
/// recipient is away. Whether the message was private, and whether it was itself an
/// automatic reply, the job decides.
pub fn owed_reply(state: &AppState, record: &NotificationRecord) -> Option<NewJob> {
    if record.kind != NotificationKind::Mention {
        return None;
    }
    let period = state.away.active(record.account_id, record.created_at)?;
    let message = record.status_id?;
    let owed = Owed {
        period: period.id,
        message: period.message,
    };
    let payload = serde_json::to_string(&owed).ok()?;
    Some(
        NewJob::new(
            state.ids.next(),
            JobKind::AwayReply,
            message,
            record.created_at,
        )
        .by(record.account_id)
        .on(record.from_account_id)
        .carrying(payload),
    )
}

/// What an automatic-reply job carries of the period that owes it (which may have ended
/// by the time the job runs).
#[derive(Debug, Serialize, Deserialize)]
struct Owed {
    period: Id,
    message: String,
}

/// Answers a private message to an away user (the job of its notification). At most one
/// reply per period and sender, claimed before posting; the reply is posted with an
/// idempotency key of the claim, so a job run again after a crash finishes the same reply
/// instead of posting a second.
pub async fn reply(state: &AppState, job: &Job) -> ApiResult<()> {
    let (Some(me), Some(sender)) = (job.actor_id, job.target_id) else {
        return Ok(());
    };
    let Some(owed) = job
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str::<Owed>(p).ok())
    else {
        return Ok(());
    };
    let message = match state.store.status(job.subject_id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if !matches!(
        Visibility::from_code(message.visibility),
        Visibility::Direct | Visibility::Private
    ) {
        return Ok(());
    }
    if state
        .store
        .is_automatic_reply(message.id, message.account_id, message.in_reply_to_id)
        .await?
    {
        return Ok(());
    }
    let viewer = Viewer::load(state, Some(me)).await?;
    if viewer.blocked.contains(&sender) || viewer.muted.contains(&sender) {
        return Ok(());
    }
    state
        .store
        .claim_away_reply(owed.period, sender, me, message.id, time::now_millis())
        .await?;
    // The claim is this message's, and its reply not recorded yet: post it (again).
    match state.store.away_claim(owed.period, sender).await? {
        Some((claimed, None)) if claimed == message.id => {}
        _ => return Ok(()),
    }
    let input = StatusInput {
        text: format!(
            "@{} {}",
            state.store.account(sender).await?.username,
            owed.message
        ),
        visibility: Some("direct".into()),
        in_reply_to_id: Some(message.id),
        idempotency_key: Some(format!("away-{}-{sender}", owed.period)),
        ..StatusInput::default()
    };
    let status = statuses::create(state, &viewer, input).await?;
    let id = status.id.parse().map_err(|_| ApiError::NotFound)?;
    state.store.set_away_reply(owed.period, sender, id).await?;
    Ok(())
}
