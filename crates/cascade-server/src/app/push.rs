//! Web Push: a user's devices hear of their notifications through their push services.
//!
//! `owed_pushes` runs as a notification is stored. It picks the access tokens'
//! subscriptions whose alerts and policy let the notification through, coalesces bursts
//! of one notification group (at most one push per group, subscription and `coalesce_ms`;
//! the delayed one carries the group's latest state), and `notifications::notify` writes
//! the pushes to `push_deliveries` in the notification's transaction. The worker
//! (`run_worker`, woken by `AppState::push_due`) sends them: encrypted per RFC 8291,
//! signed with the instance's VAPID key, retried with exponential backoff on network
//! errors, 5xx and 429 (12 attempts at most), the subscription dropped on 404 and 410.
//! Queued rows are durable, so a crash delays pushes but loses none. While its user is
//! away (`app::away`) a subscription gets nothing; the worker sends one digest when the
//! period ends. Only the worker talks to push services.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use cascade_core::coalesce::{Coalescer, Decision};
use cascade_core::{quota, time, Id};
use cascade_store::{
    AwayRecord, NewPushDelivery, NotificationRecord, PushDelivery, PushSubscriptionRecord,
    StoreError,
};
use serde_json::json;

use crate::app::entity;
use crate::app::{statuses, Viewer};
use crate::cluster::SharedWindows;
use crate::error::{ApiError, ApiResult};
use crate::outgoing::{self, Outgoing};
use crate::state::AppState;
use crate::webpush::{self, Vapid};

/// The alerts a subscription can turn on: Mastodon 4.5's, and Cascade's `going_viral`.
pub const ALERTS: &[&str] = &[
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "quote",
    "quoted_update",
    "admin.sign_up",
    "admin.report",
    "going_viral",
];

/// Whose notifications are pushed: everyone's, the followed accounts', the followers', or
/// nobody's.
pub const POLICIES: &[&str] = &["all", "followed", "follower", "none"];

/// A delivery is given up after this many failed attempts (about 17 hours of backoff).
const MAX_ATTEMPTS: i64 = 12;
/// The first retry waits this long; each further one twice as long, at most `MAX_BACKOFF`.
const FIRST_BACKOFF_MS: i64 = 1_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;
/// How long a push service keeps an undelivered push (Mastodon's 48 hours).
const TTL_SECS: &str = "172800";
/// How long a node holds the deliveries it claimed before another node may send them
/// (on PostgreSQL): longer than a send with its 15 s timeout takes (a node claims only as
/// many as it sends at once). A node that died mid-send leaves its deliveries to the
/// others after this.
const LEASE_MS: i64 = 20_000;
/// Deliveries sent at once by the worker.
const PARALLEL: usize = 16;

/// What the push machinery keeps in memory: the VAPID key once loaded, and the windows
/// of the groups recently pushed (bounded: the coalescer drops windows that passed).
pub struct PushState {
    vapid: tokio::sync::OnceCell<Vapid>,
    coalescer: Mutex<Coalescer<(Id, String)>>,
}

impl PushState {
    pub fn new(coalesce_ms: i64) -> PushState {
        PushState {
            vapid: tokio::sync::OnceCell::new(),
            coalescer: Mutex::new(Coalescer::new(coalesce_ms)),
        }
    }

    /// The coalescing windows held in memory.
    pub fn windows(&self) -> usize {
        self.coalescer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    fn offer(&self, key: &(Id, String), now: i64) -> Decision {
        self.coalescer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .offer(key, now)
    }

    fn due(&self, key: &(Id, String), now: i64) {
        self.coalescer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .due(key, now);
    }
}

/// The instance's VAPID key pair: loaded from the store, or made and stored on first use
/// (`lib::open` asks for it at start, so it is made on the first start).
pub async fn vapid(state: &AppState) -> ApiResult<&Vapid> {
    state
        .push
        .vapid
        .get_or_try_init(|| async {
            let stored = match state.store.instance_key("vapid").await? {
                Some(pair) => pair,
                None => {
                    let (fresh, private) = Vapid::generate();
                    state
                        .store
                        .put_instance_key("vapid", &private, &fresh.public_key, time::now_millis())
                        .await?
                }
            };
            Vapid::from_private(&stored.0).map_err(|e| ApiError::Internal(e.into()))
        })
        .await
}

/// A subscription as the client asked for it.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionInput {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub standard: bool,
    pub data: DataInput,
}

/// The part of a subscription that `PUT` may change.
#[derive(Debug, Clone, Default)]
pub struct DataInput {
    /// Alert names and whether they are on; unknown names are ignored, as in Mastodon.
    pub alerts: BTreeMap<String, bool>,
    pub policy: Option<String>,
}

impl DataInput {
    /// The enabled alerts, space-separated, and the policy, validated.
    fn stored(&self) -> ApiResult<(String, String)> {
        let policy = self.policy.as_deref().unwrap_or("all");
        if !POLICIES.contains(&policy) {
            return Err(ApiError::unprocessable(
                "Policy is not included in the list (all, followed, follower, none)",
            ));
        }
        let on: Vec<&str> = ALERTS
            .iter()
            .copied()
            .filter(|a| self.alerts.get(*a).copied().unwrap_or(false))
            .collect();
        Ok((on.join(" "), policy.to_string()))
    }
}

fn render(s: &PushSubscriptionRecord, server_key: &str) -> entity::WebPushSubscription {
    entity::WebPushSubscription {
        id: s.id.to_string(),
        endpoint: s.endpoint.clone(),
        standard: s.standard,
        alerts: ALERTS
            .iter()
            .map(|a| (a.to_string(), alert_on(&s.alerts, a)))
            .collect(),
        server_key: server_key.to_string(),
        policy: s.policy.clone(),
    }
}

fn alert_on(alerts: &str, kind: &str) -> bool {
    alerts.split(' ').any(|a| a == kind)
}

/// Subscribes the token's user, replacing the token's earlier subscription.
pub async fn subscribe(
    state: &AppState,
    me: Id,
    token: Id,
    input: SubscriptionInput,
) -> ApiResult<entity::WebPushSubscription> {
    if input.endpoint.len() > 2_048 {
        return Err(ApiError::unprocessable("Endpoint is too long"));
    }
    outgoing::check_url(&input.endpoint, state.config.allow_private_outgoing)
        .map_err(|e| ApiError::unprocessable(format!("Endpoint {e}")))?;
    webpush::origin(&input.endpoint)
        .map_err(|_| ApiError::unprocessable("Endpoint is not a valid http(s) URL"))?;
    webpush::check_keys(&input.p256dh, &input.auth)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let (alerts, policy) = input.data.stored()?;
    let others = state
        .store
        .push_subscriptions_of(me)
        .await?
        .iter()
        .filter(|s| s.token_id != token)
        .count();
    if others >= quota::MAX_PUSH_SUBSCRIPTIONS {
        return Err(ApiError::unprocessable(format!(
            "An account cannot have more than {} push subscriptions",
            quota::MAX_PUSH_SUBSCRIPTIONS
        )));
    }
    let record = PushSubscriptionRecord {
        id: state.ids.next(),
        account_id: me,
        token_id: token,
        endpoint: input.endpoint,
        p256dh: input.p256dh,
        auth: input.auth,
        standard: input.standard,
        alerts,
        policy,
        created_at: time::now_millis(),
    };
    state.store.replace_push_subscription(&record).await?;
    let key = vapid(state).await?;
    Ok(render(&record, &key.public_key))
}

/// The token's subscription, or 404.
pub async fn subscription(state: &AppState, token: Id) -> ApiResult<entity::WebPushSubscription> {
    let record = state.store.push_subscription(token).await?;
    let key = vapid(state).await?;
    Ok(render(&record, &key.public_key))
}

/// Replaces the alerts and policy of the token's subscription (404 without one).
pub async fn update(
    state: &AppState,
    token: Id,
    data: DataInput,
) -> ApiResult<entity::WebPushSubscription> {
    let (alerts, policy) = data.stored()?;
    if !state
        .store
        .update_push_subscription(token, &alerts, &policy)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    subscription(state, token).await
}

pub async fn unsubscribe(state: &AppState, token: Id) -> ApiResult<()> {
    Ok(state.store.delete_push_subscription(token).await?)
}

/// The pushes a new notification owes, which `notifications::notify` writes with it.
pub async fn owed_pushes(
    state: &AppState,
    record: &NotificationRecord,
) -> ApiResult<Vec<NewPushDelivery>> {
    let subscriptions = state.store.push_subscriptions_of(record.account_id).await?;
    if subscriptions.is_empty() || state.away.holds(record.account_id, record.created_at) {
        // Held pushes are counted into the digest when the period ends.
        return Ok(Vec::new());
    }
    let key = record.group_key.clone();
    let now = time::now_millis();
    // On a cluster the windows are the cluster's, so a burst through several nodes is
    // still one push per group and window.
    let shared = SharedWindows::of(state, "push");
    let mut rows = Vec::new();
    for s in subscriptions {
        if !alert_on(&s.alerts, record.kind.as_str())
            || !policy_allows(state, &s.policy, record).await?
        {
            continue;
        }
        let window = (s.id, key.clone());
        let decision = match &shared {
            Some(shared) => shared.offer(&window, now).await,
            None => state.push.offer(&window, now),
        };
        let (due_at, coalesced) = match decision {
            Decision::Now => (now, false),
            Decision::Later { at } => (at, true),
            // A delayed push of this group is queued; it will carry this notification.
            Decision::Scheduled => continue,
        };
        rows.push(NewPushDelivery {
            id: state.ids.next(),
            subscription_id: s.id,
            notification_id: Some(record.id),
            payload: None,
            coalesced,
            due_at,
            created_at: now,
        });
    }
    Ok(rows)
}

async fn policy_allows(state: &AppState, policy: &str, n: &NotificationRecord) -> ApiResult<bool> {
    Ok(match policy {
        "followed" => Viewer::load(state, Some(n.account_id))
            .await?
            .follows(n.from_account_id),
        "follower" => {
            state
                .store
                .is_following(n.from_account_id, n.account_id)
                .await?
        }
        "none" => false,
        _ => true,
    })
}

/// Runs the push worker until the process ends.
pub async fn run_worker(state: AppState) {
    let client = match Outgoing::new(state.config.allow_private_outgoing, Duration::from_secs(15)) {
        Ok(client) => client,
        Err(e) => {
            // Without the guarded client nothing may be sent; deliveries wait in the queue.
            tracing::error!(error = %e, "the push client could not be built; no pushes are sent");
            return;
        }
    };
    loop {
        let wait = match pass(&state, &client).await {
            Ok(Some(next)) => (next - time::now_millis()).clamp(0, 30_000),
            Ok(None) => 30_000,
            Err(e) => {
                tracing::warn!(error = %e, "push pass failed; retrying");
                1_000
            }
        };
        let _ = tokio::time::timeout(
            Duration::from_millis(wait as u64),
            state.push_due.notified(),
        )
        .await;
    }
}

/// Digests the away periods that ended, sends the deliveries that are due, and says when
/// the next one is.
async fn pass(state: &AppState, client: &Outgoing) -> Result<Option<i64>, StoreError> {
    loop {
        let ended = state
            .store
            .ended_away_periods(time::now_millis(), 32)
            .await?;
        if ended.is_empty() {
            break;
        }
        for period in ended {
            digest(state, &period).await?;
        }
    }
    loop {
        let due = state
            .store
            .claim_push_deliveries(time::now_millis(), PARALLEL, LEASE_MS)
            .await?;
        if due.is_empty() {
            break;
        }
        let mut running = tokio::task::JoinSet::new();
        for job in due {
            if running.len() >= PARALLEL {
                running.join_next().await;
            }
            let (state, client) = (state.clone(), client.clone());
            running.spawn(async move {
                let id = job.id;
                if let Err(e) = deliver(&state, &client, job).await {
                    // The store failed: leave the row for the next pass, a little later.
                    tracing::warn!(delivery = id, error = %e, "push delivery failed");
                    let later = time::now_millis() + FIRST_BACKOFF_MS;
                    let _ = state.store.retry_push_delivery(id, later).await;
                }
            });
        }
        while running.join_next().await.is_some() {}
    }
    let next = [
        state.store.next_push_wake().await?,
        state.store.next_away_end().await?,
    ];
    Ok(next.into_iter().flatten().min())
}

/// Sends one delivery and records the outcome.
async fn deliver(state: &AppState, client: &Outgoing, job: PushDelivery) -> ApiResult<()> {
    if job.revoked {
        // Mastodon deletes a token's subscription with the token.
        return Ok(state
            .store
            .drop_push_subscription(job.subscription_id)
            .await?);
    }
    let payload = match (&job.payload, job.notification_id) {
        (Some(ready), _) => Some(ready.clone()),
        (None, Some(id)) => match state.store.notification(job.account_id, id).await {
            Ok(n) => {
                if job.coalesced && job.attempts == 0 {
                    // The group's window restarts now; the next event waits for it.
                    let window = (job.subscription_id, n.group_key.clone());
                    match SharedWindows::of(state, "push") {
                        Some(shared) => {
                            shared.due(&window, time::now_millis()).await;
                        }
                        None => state.push.due(&window, time::now_millis()),
                    }
                }
                latest_payload(state, &n).await?
            }
            // Withdrawn (an unfavourite) or dismissed: nothing to tell any more.
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        (None, None) => None,
    };
    let Some(payload) = payload else {
        return Ok(state.store.finish_push_delivery(job.id).await?);
    };
    let request = match signed_request(state, client, &job, payload.as_bytes()).await {
        Ok(r) => r,
        Err(e) if e.is::<outgoing::OutgoingError>() => {
            // Stored before the guard existed, or by a server that allowed it: never sent.
            tracing::warn!(subscription = job.subscription_id, error = %e, "push endpoint refused; subscription dropped");
            return Ok(state
                .store
                .drop_push_subscription(job.subscription_id)
                .await?);
        }
        Err(e) => {
            tracing::warn!(subscription = job.subscription_id, error = %e, "push cannot be encrypted; dropped");
            return Ok(state.store.finish_push_delivery(job.id).await?);
        }
    };
    let outcome = request.send().await;
    let now = time::now_millis();
    let retry_after = match &outcome {
        Ok(r) if r.status().is_success() => {
            state.metrics.push("delivered");
            return Ok(state.store.finish_push_delivery(job.id).await?);
        }
        Ok(r) if matches!(r.status().as_u16(), 404 | 410) => {
            state.metrics.push("gone");
            tracing::info!(
                subscription = job.subscription_id,
                "push service forgot the subscription; dropped"
            );
            return Ok(state
                .store
                .drop_push_subscription(job.subscription_id)
                .await?);
        }
        Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
            state.metrics.push("retry");
            r.headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
                .map(|secs| secs.saturating_mul(1_000))
        }
        Ok(r) => {
            state.metrics.push("refused");
            tracing::warn!(subscription = job.subscription_id, status = %r.status(), "push refused; dropped");
            return Ok(state.store.finish_push_delivery(job.id).await?);
        }
        Err(e) => {
            state.metrics.push("unreachable");
            tracing::debug!(subscription = job.subscription_id, error = %e, "push service unreachable");
            None
        }
    };
    if job.attempts + 1 >= MAX_ATTEMPTS {
        state.metrics.push("given_up");
        tracing::warn!(
            subscription = job.subscription_id,
            "push given up after {MAX_ATTEMPTS} attempts"
        );
        return Ok(state.store.finish_push_delivery(job.id).await?);
    }
    let backoff = FIRST_BACKOFF_MS
        .saturating_mul(1 << job.attempts.clamp(0, 32))
        .max(retry_after.unwrap_or(0))
        .min(MAX_BACKOFF_MS);
    Ok(state
        .store
        .retry_push_delivery(job.id, now + backoff)
        .await?)
}

/// The encrypted, VAPID-signed POST of a payload to the subscription's endpoint.
async fn signed_request(
    state: &AppState,
    client: &Outgoing,
    job: &PushDelivery,
    payload: &[u8],
) -> anyhow::Result<reqwest::RequestBuilder> {
    let key = vapid(state)
        .await
        .map_err(|e| anyhow::anyhow!("no VAPID key: {e}"))?;
    let body = webpush::encrypt(payload, &job.p256dh, &job.auth)?;
    let subject = format!("mailto:admin@{}", state.config.domain);
    let authorization = key.authorization(&job.endpoint, &subject, time::now_millis() / 1000)?;
    Ok(client
        .post(&job.endpoint)?
        .header(reqwest::header::AUTHORIZATION, authorization)
        .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .header("TTL", TTL_SECS)
        .header("Urgency", "normal")
        .body(body))
}

/// The payload for a notification's group as it stands now: its newest notification,
/// and how many the group holds. `None` when the group is empty (all withdrawn), or when
/// the recipient could not see the notification's status through the API (a
/// followers-only quote of their post by someone they do not follow, a suspended author):
/// the API leaves such notifications out, so a push must not carry them either.
async fn latest_payload(state: &AppState, n: &NotificationRecord) -> ApiResult<Option<String>> {
    let (latest, count) = if n.group_key.starts_with("ungrouped-") {
        (Some(n.clone()), 1)
    } else {
        state
            .store
            .notification_group(n.account_id, &n.group_key)
            .await?
    };
    let Some(latest) = latest else {
        return Ok(None);
    };
    if let Some(status) = latest.status_id {
        let recipient = Viewer::load(state, Some(n.account_id)).await?;
        match statuses::visible(state, &recipient, status).await {
            Ok(_) => {}
            Err(ApiError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    let from = match state.store.account(latest.from_account_id).await {
        Ok(a) => a,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let name = if from.display_name.trim().is_empty() {
        from.username.clone()
    } else {
        from.display_name.clone()
    };
    let body = if count > 1 {
        let others = count - 1;
        let what = match latest.kind.as_str() {
            "favourite" => "favourited your post",
            "reblog" => "boosted your post",
            _ => "followed you",
        };
        let plural = if others == 1 { "other" } else { "others" };
        format!("{name} and {} {plural} {what}", thousands(others))
    } else {
        excerpt(state, &latest, &from).await?
    };
    Ok(Some(
        json!({
            "notification_id": latest.id,
            "notification_type": latest.kind.as_str(),
            "title": title(latest.kind.as_str(), &name),
            "body": body,
            "icon": crate::app::render::avatar_url(state, &from),
            "preferred_locale": locale(state, n.account_id).await?,
        })
        .to_string(),
    ))
}

/// What a push's title says, as Mastodon's English notification subjects do.
fn title(kind: &str, name: &str) -> String {
    match kind {
        "mention" => format!("You were mentioned by {name}"),
        "status" => format!("{name} just posted"),
        "reblog" => format!("{name} boosted your post"),
        "follow" => format!("{name} is now following you"),
        "follow_request" => format!("Pending follower: {name}"),
        "favourite" => format!("{name} favourited your post"),
        "update" => format!("{name} edited a post"),
        "quote" => format!("{name} quoted your post"),
        "quoted_update" => format!("{name} edited a post you quoted"),
        "poll" => "A poll you voted in or created has ended".to_string(),
        "going_viral" => "Your post is going viral".to_string(),
        other => format!("New notification: {other}"),
    }
}

/// The body of a single notification: its status's text (its content warning, if any), or
/// the account's bio for follows, cut to 140 characters.
async fn excerpt(
    state: &AppState,
    n: &NotificationRecord,
    from: &cascade_store::Account,
) -> Result<String, StoreError> {
    let text = match n.status_id {
        Some(id) => match state.store.status(id).await {
            Ok(s) if !s.spoiler_text.is_empty() => s.spoiler_text,
            Ok(s) => s.text,
            Err(StoreError::NotFound) => String::new(),
            Err(e) => return Err(e),
        },
        None => from.note.clone(),
    };
    Ok(truncate(&text, 140))
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

async fn locale(state: &AppState, account: Id) -> Result<String, StoreError> {
    Ok(match state.store.user(account).await {
        Ok(u) => u.default_language.unwrap_or_else(|| "en".to_string()),
        Err(StoreError::NotFound) => "en".to_string(),
        Err(e) => return Err(e),
    })
}

/// `1999` as `1,999`.
fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let (head, rest) = digits.split_at((digits.len() - 1) % 3 + 1);
    let mut out = head.to_string();
    for group in rest.as_bytes().chunks(3) {
        out.push(',');
        out.push_str(std::str::from_utf8(group).unwrap_or_default());
    }
    out
}

/// The words of a digest, in this order: (kind, singular, plural).
const DIGEST_WORDS: &[(&str, &str, &str)] = &[
    ("mention", "mention", "mentions"),
    ("favourite", "favourite", "favourites"),
    ("reblog", "boost", "boosts"),
    ("follow", "new follower", "new followers"),
    ("follow_request", "follow request", "follow requests"),
    ("quote", "quote", "quotes"),
    ("status", "new post", "new posts"),
    ("update", "edited post", "edited posts"),
    ("quoted_update", "edited quoted post", "edited quoted posts"),
    ("poll", "ended poll", "ended polls"),
    ("going_viral", "post going viral", "posts going viral"),
];

/// Queues the one digest push per subscription for a period that ended: how many
/// notifications of each kind it held (those the subscription's alerts and policy let
/// through), then forgets the period.
async fn digest(state: &AppState, period: &AwayRecord) -> Result<(), StoreError> {
    let now = time::now_millis();
    let mut rows = Vec::new();
    for s in state.store.push_subscriptions_of(period.account_id).await? {
        let (counts, newest) = state
            .store
            .notification_counts(
                period.account_id,
                period.starts_at,
                period.ends_at,
                &s.policy,
            )
            .await?;
        let counts: BTreeMap<String, i64> = counts
            .into_iter()
            .filter(|(kind, _)| alert_on(&s.alerts, kind))
            .collect();
        let parts: Vec<String> = DIGEST_WORDS
            .iter()
            .filter_map(|(kind, one, many)| {
                let n = *counts.get(*kind)?;
                Some(format!(
                    "{} {}",
                    thousands(n),
                    if n == 1 { one } else { many }
                ))
            })
            .collect();
        if parts.is_empty() {
            continue;
        }
        let payload = json!({
            "notification_id": newest,
            "notification_type": "away_digest",
            "title": "Welcome back",
            "body": format!("While you were away: {}", parts.join(", ")),
            "icon": crate::app::render::avatar_url(state, &state.store.account(period.account_id).await?),
            "preferred_locale": locale(state, period.account_id).await?,
        });
        rows.push(NewPushDelivery {
            id: state.ids.next(),
            subscription_id: s.id,
            notification_id: None,
            payload: Some(payload.to_string()),
            coalesced: false,
            due_at: now,
            created_at: now,
        });
    }
    state.store.finish_away_period(period.id, &rows).await?;
    state.away.forget(period.account_id, period.id);
    crate::app::away::tell(state, period.account_id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_thousands_separators() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1_999), "1,999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
