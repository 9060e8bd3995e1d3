//! Telling users what happened to them. The jobs that writes owe (`app::delivery`) call
//! `notify` (an undone action's store write withdraws its notification); blocks, mutes and
//! the recipient's notification policy are honoured here, so no caller can forget them. A notification
//! that is let through is delivered to the recipient's streams, coalesced per group so a
//! burst of 100,000 favourites sends a handful of events.
//!
//! A filtered notification is stored but listed only on request, in its sender's request,
//! until the request is accepted (or dismissed with it). Counts in groups are exact: they
//! come from the stored rows, never from the coalesced events. Policies are cached in this
//! process's memory (`Inbox`) with no expiry: a change made through another process may
//! not show here before a restart.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use cascade_core::coalesce::{Coalescer, Decision};
use cascade_core::notification::group_key;
use cascade_core::timeline::Page;
use cascade_core::{time, Id, NotificationKind, Visibility};
use cascade_store::{NotificationFilter, NotificationRecord, Owed, PolicyRecord, RequestRecord};

use crate::app::entity;
use crate::app::{render, spam, stream, Viewer};
use crate::cluster::SharedWindows;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use cascade_store::range;

/// The names of the kinds listed when a client names none (Mastodon's).
pub fn default_kinds() -> Vec<String> {
    names(&NotificationKind::DEFAULT)
}

/// The names of the kinds that group in the v2 API when a client does not say.
pub fn default_grouped() -> Vec<String> {
    names(&NotificationKind::GROUPED)
}

fn names(kinds: &[NotificationKind]) -> Vec<String> {
    kinds.iter().map(|k| k.as_str().to_string()).collect()
}

/// How far up a thread a private mention looks for the recipient's own private mention
/// of its sender, which makes it an answer rather than unsolicited (Mastodon's depth).
const THREAD_DEPTH: usize = 100;

/// Accounts younger than this count as new for `for_new_accounts`.
const NEW_ACCOUNT_MS: i64 = 30 * 86_400_000;

/// Policies kept in memory at most; beyond it the cache starts over.
const MAX_CACHED_POLICIES: usize = 100_000;

/// The notification state that lives in memory: cached policies and the per-group
/// delivery windows of the streams.
pub struct Inbox {
    policies: Mutex<HashMap<Id, PolicyRecord>>,
    windows: Mutex<Coalescer<(Id, String)>>,
}

impl Inbox {
    pub fn new(coalesce_ms: i64) -> Inbox {
        Inbox {
            policies: Mutex::new(HashMap::new()),
            windows: Mutex::new(Coalescer::new(coalesce_ms)),
        }
    }
}

/// Mastodon's defaults: everything accepted but private mentions from strangers and
/// accounts limited by moderators, which are filtered.
pub fn default_policy() -> PolicyRecord {
    PolicyRecord {
        for_not_following: "accept".into(),
        for_not_followers: "accept".into(),
        for_new_accounts: "accept".into(),
        for_private_mentions: "filter".into(),
        for_limited_accounts: "filter".into(),
    }
}

/// The recipient's policy, from memory when it was read before.
pub async fn policy(state: &AppState, account: Id) -> ApiResult<PolicyRecord> {
    if let Some(p) = lock(&state.inbox.policies).get(&account) {
        return Ok(p.clone());
    }
    let p = state
        .store
        .notification_policy(account)
        .await?
        .unwrap_or_else(default_policy);
    let mut cache = lock(&state.inbox.policies);
    if cache.len() >= MAX_CACHED_POLICIES {
        cache.clear();
    }
    cache.insert(account, p.clone());
    Ok(p)
}

/// Forgets a cached policy another node changed.
pub fn forget_policy(state: &AppState, account: Id) {
    lock(&state.inbox.policies).remove(&account);
}

/// Forgets every cached notification policy (this node may have missed changes).
pub fn forget_policies(state: &AppState) {
    lock(&state.inbox.policies).clear();
}

/// Saves a policy; every value must be `accept`, `filter` or `drop`.
pub async fn set_policy(state: &AppState, account: Id, p: PolicyRecord) -> ApiResult<()> {
    for (name, value) in [
        ("for_not_following", &p.for_not_following),
        ("for_not_followers", &p.for_not_followers),
        ("for_new_accounts", &p.for_new_accounts),
        ("for_private_mentions", &p.for_private_mentions),
        ("for_limited_accounts", &p.for_limited_accounts),
    ] {
        if !matches!(value.as_str(), "accept" | "filter" | "drop") {
            return Err(ApiError::unprocessable(format!(
                "{name} must be accept, filter or drop"
            )));
        }
    }
    state.store.set_notification_policy(account, &p).await?;
    lock(&state.inbox.policies).insert(account, p);
    state.tell(crate::cluster::Message::Forget(
        crate::cluster::Forget::Policy(account),
    ));
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the policy does with one notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Accept,
    Filter,
    Drop,
}

fn verdict(value: &str) -> Verdict {
    match value {
        "filter" => Verdict::Filter,
        "drop" => Verdict::Drop,
        _ => Verdict::Accept,
    }
}

/// Applies the recipient's policy as Mastodon 4.3 does: the strictest verdict among the
/// conditions the sender meets; accepted requests and unfilterable kinds pass.
async fn judge(
    state: &AppState,
    viewer: &Viewer,
    recipient: Id,
    from: Id,
    kind: NotificationKind,
    status: Option<Id>,
) -> ApiResult<Verdict> {
    if kind.is_unfilterable() || recipient == from {
        return Ok(Verdict::Accept);
    }
    let p = policy(state, recipient).await?;
    let follows_sender = viewer.follows(from);
    let mut worst = Verdict::Accept;
    let mut consider = |applies: bool, value: &str| {
        if applies {
            worst = worst.max(verdict(value));
        }
    };
    consider(!follows_sender, &p.for_not_following);
    if verdict(&p.for_not_followers) != Verdict::Accept {
        let followed_by = state.store.is_following(from, recipient).await?;
        consider(!followed_by, &p.for_not_followers);
    }
    if verdict(&p.for_new_accounts) != Verdict::Accept
        || verdict(&p.for_limited_accounts) != Verdict::Accept
    {
        let sender = state.store.account(from).await?;
        let young = time::now_millis() - sender.created_at < NEW_ACCOUNT_MS;
        consider(young && !follows_sender, &p.for_new_accounts);
        // Limited by a moderator, or likely spam: both are "limited accounts", and an
        // account one follows is let through either way.
        let limited = !follows_sender
            && (sender.limited_at.is_some()
                || spam::assess_record(state, &sender).await?.is_spam());
        consider(limited, &p.for_limited_accounts);
    }
    if kind == NotificationKind::Mention
        && verdict(&p.for_private_mentions) != Verdict::Accept
        && !follows_sender
    {
        if let Some(id) = status {
            let s = state.store.status(id).await?;
            // Private mentions are direct ones; followers-only posts are not private.
            if Visibility::from_code(s.visibility) == Visibility::Direct {
                let answers_me = answers(state, s.in_reply_to_id, recipient, from).await?;
                consider(!answers_me, &p.for_private_mentions);
            }
        }
    }
    if worst != Verdict::Accept && state.store.notifications_permitted(recipient, from).await? {
        return Ok(Verdict::Accept);
    }
    Ok(worst)
}

/// Whether a thread, from the status `parent` up, holds a direct status of `recipient`
/// that mentions `sender`: then the sender's private mention answers a conversation the
/// recipient began, however deep.
async fn answers(
    state: &AppState,
    mut parent: Option<Id>,
    recipient: Id,
    sender: Id,
) -> ApiResult<bool> {
    for _ in 0..THREAD_DEPTH {
        let Some(id) = parent else {
            return Ok(false);
        };
        let s = match state.store.status(id).await {
            Ok(s) => s,
            Err(cascade_store::StoreError::NotFound) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        if s.account_id == recipient
            && Visibility::from_code(s.visibility) == Visibility::Direct
            && state
                .store
                .mentions_of(&[s.id])
                .await?
                .iter()
                .any(|&(_, account)| account == sender)
        {
            return Ok(true);
        }
        parent = s.in_reply_to_id;
    }
    Ok(false)
}

/// Notifies `recipient` that `from` did `kind` (on `status`), unless it is about oneself,
/// the recipient blocks, is blocked by or has muted `from` (or the status's thread), or its
/// policy drops it; a filtered notification waits in a request from `from`. The
/// notification is written with what it owes (its pushes, an automatic reply) in one
/// transaction, once per event: a job that runs again notifies nobody twice.
pub async fn notify(
    state: &AppState,
    recipient: Id,
    from: Id,
    kind: NotificationKind,
    status: Option<Id>,
) -> ApiResult<()> {
    if recipient == from && !kind.may_be_about_oneself() {
        return Ok(());
    }
    let viewer = Viewer::load(state, Some(recipient)).await?;
    if viewer.blocked.contains(&from) || viewer.muted.contains(&from) {
        return Ok(());
    }
    // Nothing from a thread the recipient muted (`/api/v1/statuses/:id/mute`).
    if let Some(about) = status {
        let muted = crate::app::profiles::in_muted_threads(state, &viewer, &[about]).await?;
        if !muted.is_empty() {
            return Ok(());
        }
    }
    let id = state.ids.next();
    let now = time::now_millis();
    let record = NotificationRecord {
        id,
        account_id: recipient,
        from_account_id: from,
        kind,
        status_id: status,
        created_at: now,
        group_key: group_key(kind, status, id, now),
        filtered: false,
    };
    let verdict = judge(state, &viewer, recipient, from, kind, status).await?;
    if verdict == Verdict::Drop {
        return Ok(());
    }
    // A filtered private message still gets the away reply (a dropped one none), but no
    // push.
    let mut owed = Owed {
        pushes: Vec::new(),
        jobs: crate::app::away::owed_reply(state, &record)
            .into_iter()
            .collect(),
    };
    let added = if verdict == Verdict::Filter {
        let record = NotificationRecord {
            filtered: true,
            ..record.clone()
        };
        state
            .store
            .add_filtered_notification(&record, state.ids.next(), &owed)
            .await?
    } else {
        owed.pushes = crate::app::push::owed_pushes(state, &record).await?;
        state.store.add_notification(&record, &owed).await?
    };
    if added {
        if !owed.pushes.is_empty() {
            state.push_due.notify_one();
        }
        if !owed.jobs.is_empty() {
            state.jobs.ring();
        }
        if verdict == Verdict::Accept {
            delivered(state, record);
        }
    }
    Ok(())
}

/// Sends a stored notification to the recipient's streams: at once, or — inside a burst
/// of one group — once per coalescing window, carrying the group's latest notification.
fn delivered(state: &AppState, record: NotificationRecord) {
    let r = record.account_id;
    let listening = state.clustered()
        || state.streams.has(&stream::Channel::User(r))
        || state.streams.has(&stream::Channel::Notifications(r));
    if !listening {
        return;
    }
    let key = (r, record.group_key.clone());
    let now = time::now_millis();
    if let Some(shared) = SharedWindows::of(state, "coalesce") {
        // The window is the cluster's: the first node to offer a burst's event sends it,
        // one node sends the burst's latest when the window ends, the others nothing.
        let state = state.clone();
        tokio::spawn(async move {
            match shared.offer(&key, now).await {
                Decision::Now => stream_notification(&state, &record).await,
                Decision::Later { at } => {
                    tokio::time::sleep(Duration::from_millis((at - now).max(0) as u64)).await;
                    if shared.due(&key, time::now_millis()).await {
                        stream_latest(&state, &key).await;
                    }
                }
                Decision::Scheduled => {}
            }
        });
        return;
    }
    let decision = lock(&state.inbox.windows).offer(&key, now);
    let state = state.clone();
    match decision {
        Decision::Now => {
            tokio::spawn(async move {
                if let Err(e) = stream::notification(&state, &record).await {
                    tracing::warn!(error = %e, "a notification event was not streamed");
                }
            });
        }
        Decision::Later { at } => {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis((at - now).max(0) as u64)).await;
                if !lock(&state.inbox.windows).due(&key, time::now_millis()) {
                    return;
                }
                let latest = state.store.latest_in_group(key.0, &key.1).await;
                if let Ok(Some(latest)) = latest {
                    if let Err(e) = stream::notification(&state, &latest).await {
                        tracing::warn!(error = %e, "a notification event was not streamed");
                    }
                }
            });
        }
        Decision::Scheduled => {}
    }
}

async fn stream_notification(state: &AppState, record: &NotificationRecord) {
    if let Err(e) = stream::notification(state, record).await {
        tracing::warn!(error = %e, "a notification event was not streamed");
    }
}

async fn stream_latest(state: &AppState, key: &(Id, String)) {
    if let Ok(Some(latest)) = state.store.latest_in_group(key.0, &key.1).await {
        stream_notification(state, &latest).await;
    }
}

/// Where notifications show statuses, for the recipient's content filters.
const NOTIFICATIONS: cascade_core::filter::FilterContext =
    cascade_core::filter::FilterContext::Notifications;

/// Renders notifications for their recipient, leaving out those whose status it can no
/// longer see or a `hide` filter of the notifications context matches.
pub async fn render_all(
    state: &AppState,
    viewer: &Viewer,
    records: &[NotificationRecord],
) -> ApiResult<Vec<entity::Notification>> {
    let status_ids: Vec<Id> = records.iter().filter_map(|n| n.status_id).collect();
    let statuses = by_id(
        render::statuses_in(state, viewer, &status_ids, NOTIFICATIONS).await?,
        |s| &s.id,
    );
    let account_ids: Vec<Id> = records.iter().map(|n| n.from_account_id).collect();
    let accounts = by_id(render::shared_accounts(state, &account_ids).await?, |a| {
        &a.id
    });
    Ok(records
        .iter()
        .filter_map(|n| {
            let status = match n.status_id {
                Some(id) => Some(statuses.get(&id.to_string())?.clone()),
                None => None,
            };
            Some(entity::Notification {
                id: n.id.to_string(),
                kind: n.kind.as_str().to_string(),
                group_key: n.group_key.clone(),
                created_at: time::rfc3339(n.created_at),
                account: accounts.get(&n.from_account_id.to_string())?.clone(),
                status,
            })
        })
        .collect())
}

fn by_id<T>(items: Vec<T>, id: impl Fn(&T) -> &String) -> HashMap<String, T> {
    items.into_iter().map(|t| (id(&t).clone(), t)).collect()
}

/// The kinds a filter lists: those asked for, or the default ones.
fn with_default_kinds(mut filter: NotificationFilter) -> NotificationFilter {
    if filter.kinds.is_empty() {
        filter.kinds = default_kinds();
    }
    filter
}

/// The page of notifications a client asked for.
pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    filter: NotificationFilter,
    page: Page,
) -> ApiResult<Vec<entity::Notification>> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let filter = with_default_kinds(filter);
    let records = state.store.notifications(me, &filter, range(&page)).await?;
    render_all(state, viewer, &records).await
}

/// What a grouped (v2) page asks for.
#[derive(Debug, Clone, Default)]
pub struct GroupedQuery {
    pub filter: NotificationFilter,
    /// The kinds that may group; `None` for the default ones.
    pub grouped: Option<Vec<String>>,
    /// `limit` counts groups; with `min_id` the page is the first groups going up.
    pub page: Page,
    /// Render all but each group's latest account in the short form.
    pub partial_avatars: bool,
}

/// A page of notification groups, and its paging bounds (newest and oldest ids covered).
///
/// A page covers one id range and counts every notification in it: going down (the
/// default), from `max_id` to the newest notification of its last group; going up
/// (`min_id`), from `min_id` to the first notification of its last group. Every
/// notification in the range belongs to one of the page's groups, and the `Link` header
/// continues right past the range, so paging either way counts each notification once.
pub async fn grouped(
    state: &AppState,
    viewer: &Viewer,
    q: GroupedQuery,
) -> ApiResult<(entity::GroupedNotifications, Vec<Id>)> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let filter = with_default_kinds(q.filter);
    let grouped: Vec<String> = q.grouped.unwrap_or_else(default_grouped);
    let page = q.page;
    let full = |n: usize| n == page.limit;
    // The range `[lower, below)` the page covers, and its groups.
    let (keys, below, lower) = if page.oldest_first() {
        let firsts = state
            .store
            .notification_groups_upwards(
                me,
                &filter,
                &grouped,
                page.max_id,
                page.lower(),
                page.limit,
            )
            .await?;
        let below = match firsts.last() {
            Some(last) if full(firsts.len()) => Some(last.1 + 1),
            _ => page.max_id,
        };
        let keys: Vec<String> = firsts.into_iter().map(|f| f.0).collect();
        (keys, below, page.lower().map(|m| m.saturating_add(1)))
    } else {
        let heads = state
            .store
            .notification_groups(me, &filter, &grouped, page.max_id, page.lower(), page.limit)
            .await?;
        let lower = match heads.last() {
            Some(last) if full(heads.len()) => Some(last.1),
            _ => page.lower().map(|m| m.saturating_add(1)),
        };
        let keys: Vec<String> = heads.into_iter().map(|h| h.0).collect();
        (keys, page.max_id, lower)
    };
    let mut rows = state
        .store
        .group_rows(me, &filter, &grouped, &keys, below, lower)
        .await?;
    rows.sort_by_key(|r| std::cmp::Reverse(r.latest));
    let heads: Vec<(String, Id)> = rows
        .iter()
        .map(|r| (r.group_key.clone(), r.latest))
        .collect();
    let oldest = rows.iter().map(|r| r.oldest).min();
    let rows: HashMap<String, cascade_store::GroupRow> =
        rows.into_iter().map(|r| (r.group_key.clone(), r)).collect();
    let latest_ids: Vec<Id> = heads.iter().map(|h| h.1).collect();
    let latest: HashMap<Id, NotificationRecord> = state
        .store
        .notifications_by_ids(me, &latest_ids)
        .await?
        .into_iter()
        .map(|n| (n.id, n))
        .collect();
    let mut groups = Vec::new();
    for (key, head) in &heads {
        let (Some(row), Some(n)) = (rows.get(key), latest.get(head)) else {
            continue;
        };
        let samples = if row.count > 1 {
            state
                .store
                .group_accounts(me, &filter, key, below, lower, 8)
                .await?
        } else {
            vec![n.from_account_id]
        };
        groups.push((row.clone(), n.clone(), samples));
    }
    let body = render_groups(state, viewer, groups, q.partial_avatars).await?;
    // `next` continues below the oldest notification counted, `prev` above the newest.
    let bounds = match (heads.first(), oldest) {
        (Some(first), Some(oldest)) => vec![first.1, oldest],
        _ => Vec::new(),
    };
    Ok((body, bounds))
}

/// One group in full: every notification of the key counts.
pub async fn group(
    state: &AppState,
    viewer: &Viewer,
    key: &str,
) -> ApiResult<entity::GroupedNotifications> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let n = state
        .store
        .latest_in_group(me, key)
        .await?
        .ok_or(ApiError::NotFound)?;
    let filter = NotificationFilter::default();
    let keys = [key.to_string()];
    let all_kinds = [n.kind.as_str().to_string()];
    let row = state
        .store
        .group_rows(me, &filter, &all_kinds, &keys, None, None)
        .await?
        .pop()
        .ok_or(ApiError::NotFound)?;
    let samples = state
        .store
        .group_accounts(me, &filter, key, None, None, 8)
        .await?;
    let body = render_groups(state, viewer, vec![(row, n, samples)], false).await?;
    if body.notification_groups.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(body)
}

/// The accounts behind a group, most recent first.
pub async fn group_accounts(
    state: &AppState,
    viewer: &Viewer,
    key: &str,
    limit: usize,
) -> ApiResult<Vec<entity::Account>> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    state
        .store
        .latest_in_group(me, key)
        .await?
        .ok_or(ApiError::NotFound)?;
    let ids = state
        .store
        .group_accounts(me, &NotificationFilter::default(), key, None, None, limit)
        .await?;
    render::accounts(state, &ids).await
}

/// Renders groups with the accounts and statuses they cite; groups whose status the
/// viewer can no longer see are left out.
async fn render_groups(
    state: &AppState,
    viewer: &Viewer,
    groups: Vec<(cascade_store::GroupRow, NotificationRecord, Vec<Id>)>,
    partial_avatars: bool,
) -> ApiResult<entity::GroupedNotifications> {
    // Favourites and reblogs of one status cite it once.
    let mut status_ids: Vec<Id> = Vec::new();
    for id in groups.iter().filter_map(|g| g.1.status_id) {
        if !status_ids.contains(&id) {
            status_ids.push(id);
        }
    }
    let statuses = render::statuses_in(state, viewer, &status_ids, NOTIFICATIONS).await?;
    let visible: HashSet<&String> = statuses.iter().map(|s| &s.id).collect();
    let groups: Vec<_> = groups
        .into_iter()
        .filter(|g| {
            g.1.status_id
                .is_none_or(|s| visible.contains(&s.to_string()))
        })
        .collect();
    let mut account_ids: Vec<Id> = Vec::new();
    let mut full: HashSet<Id> = HashSet::new();
    for (_, n, samples) in &groups {
        full.insert(n.from_account_id);
        for &a in samples.iter().chain([&n.from_account_id]) {
            if !account_ids.contains(&a) {
                account_ids.push(a);
            }
        }
    }
    let rendered = render::accounts(state, &account_ids).await?;
    // Accounts rendering left out (suspended ones) leave the samples too, and a group
    // with no sample left (a follow by a suspended account, say) leaves the page.
    let shown: HashSet<String> = rendered.iter().map(|a| a.id.clone()).collect();
    let (accounts, partial) = if partial_avatars {
        let (f, p): (Vec<_>, Vec<_>) = rendered
            .into_iter()
            .partition(|a| a.id.parse().is_ok_and(|id: Id| full.contains(&id)));
        (f, Some(p.into_iter().map(partial_account).collect()))
    } else {
        (rendered, None)
    };
    let notification_groups = groups
        .into_iter()
        .map(|(row, n, samples)| {
            let samples: Vec<String> = samples
                .iter()
                .map(|a| a.to_string())
                .filter(|a| shown.contains(a))
                .collect();
            (row, n, samples)
        })
        .filter(|(_, _, samples)| !samples.is_empty())
        .map(|(row, n, samples)| entity::NotificationGroup {
            group_key: row.group_key,
            notifications_count: row.count,
            kind: n.kind.as_str().to_string(),
            most_recent_notification_id: n.id.to_string(),
            page_min_id: Some(row.oldest.to_string()),
            page_max_id: Some(row.latest.to_string()),
            latest_page_notification_at: Some(time::rfc3339(n.created_at)),
            sample_account_ids: samples,
            status_id: n.status_id.map(|s| s.to_string()),
        })
        .collect();
    Ok(entity::GroupedNotifications {
        accounts,
        partial_accounts: partial,
        statuses,
        notification_groups,
    })
}

fn partial_account(a: entity::Account) -> entity::PartialAccount {
    entity::PartialAccount {
        id: a.id,
        acct: a.acct,
        url: a.url,
        avatar: a.avatar,
        avatar_static: a.avatar_static,
        locked: a.locked,
        bot: a.bot,
    }
}

/// Groups with a notification newer than the notifications marker, up to `cap`.
pub async fn unread_groups(
    state: &AppState,
    me: Id,
    filter: NotificationFilter,
    grouped: Option<Vec<String>>,
    cap: i64,
) -> ApiResult<i64> {
    let after = marker(state, me).await?;
    let filter = with_default_kinds(filter);
    let grouped = grouped.unwrap_or_else(default_grouped);
    Ok(state
        .store
        .count_groups_after(me, after, &filter, &grouped, cap)
        .await?)
}

/// Where the user stopped reading notifications (0: nowhere yet).
pub async fn marker(state: &AppState, me: Id) -> ApiResult<Id> {
    Ok(state
        .store
        .markers(me)
        .await?
        .into_iter()
        .find(|m| m.timeline == "notifications")
        .map_or(0, |m| m.last_read_id))
}

/// The policy with its summary of what waits in requests.
pub async fn render_policy(state: &AppState, me: Id) -> ApiResult<entity::NotificationPolicy> {
    let p = policy(state, me).await?;
    let (requests, notifications) = state.store.filtered_summary(me).await?;
    Ok(entity::NotificationPolicy {
        for_not_following: p.for_not_following,
        for_not_followers: p.for_not_followers,
        for_new_accounts: p.for_new_accounts,
        for_private_mentions: p.for_private_mentions,
        for_limited_accounts: p.for_limited_accounts,
        summary: entity::PolicySummary {
            pending_requests_count: requests,
            pending_notifications_count: notifications,
        },
    })
}

/// Renders notification requests; those whose sender the viewer now blocks are left out.
pub async fn render_requests(
    state: &AppState,
    viewer: &Viewer,
    records: &[RequestRecord],
) -> ApiResult<Vec<entity::NotificationRequest>> {
    let account_ids: Vec<Id> = records.iter().map(|r| r.from_account_id).collect();
    let accounts = by_id(render::accounts(state, &account_ids).await?, |a| &a.id);
    let status_ids: Vec<Id> = records.iter().filter_map(|r| r.last_status_id).collect();
    let statuses = by_id(render::statuses(state, viewer, &status_ids).await?, |s| {
        &s.id
    });
    Ok(records
        .iter()
        .filter(|r| !viewer.blocked.contains(&r.from_account_id))
        .filter_map(|r| {
            Some(entity::NotificationRequest {
                id: r.id.to_string(),
                created_at: time::rfc3339(r.created_at),
                updated_at: time::rfc3339(r.updated_at),
                account: accounts.get(&r.from_account_id.to_string())?.clone(),
                notifications_count: r.notifications_count.to_string(),
                last_status: r
                    .last_status_id
                    .and_then(|s| statuses.get(&s.to_string()).cloned()),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strictest_verdict_wins() {
        assert!(verdict("drop") > verdict("filter"));
        assert!(verdict("filter") > verdict("accept"));
        assert_eq!(verdict("nonsense"), Verdict::Accept);
    }
}
