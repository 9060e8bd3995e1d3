//! Notifications: what a user is told about (mentions, favourites, reblogs, quotes,
//! follows, edits, posts of accounts it rings the bell for, and Cascade's "going viral").

use cascade_core::{Id, NotificationKind};
use sqlx::FromRow;

use crate::jobs::{insert_jobs, NewJob};
use crate::push::{insert_push_deliveries, NewPushDelivery};
use crate::{placeholders, read, transaction, write, Arg, Range, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct NotificationRecord {
    pub id: Id,
    pub account_id: Id,
    pub from_account_id: Id,
    #[sqlx(try_from = "String")]
    pub kind: NotificationKind,
    pub status_id: Option<Id>,
    pub created_at: i64,
    /// Notifications with one key form one group in the grouped (v2) API.
    pub group_key: String,
    /// Held back by the recipient's notification policy, pending a request's acceptance.
    pub filtered: bool,
}

/// Which notifications a page lists.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    /// Only these kinds (empty: all of `default_kinds`).
    pub kinds: Vec<String>,
    pub exclude: Vec<String>,
    pub from_account: Option<Id>,
    /// Include notifications the recipient's policy filtered.
    pub include_filtered: bool,
}

const COLUMNS: &str =
    "id, account_id, from_account_id, kind, status_id, created_at, group_key, filtered";

/// Leaves out the notifications from accounts the recipient (`$1`) blocks: a block hides
/// what they did before it, as Mastodon's removal of them on blocking does.
const NOT_BLOCKED: &str =
    "from_account_id NOT IN (SELECT target_id FROM blocks WHERE account_id = $1)";

/// What a notification owes once it is stored, written in its transaction: so a stored
/// notification has its pushes and its automatic reply, and a repeated one (the same event
/// twice) adds none.
#[derive(Debug, Clone, Default)]
pub struct Owed {
    pub pushes: Vec<NewPushDelivery>,
    pub jobs: Vec<NewJob>,
}

pub(crate) fn dedup_key(kind: NotificationKind, from: Id, status: Option<Id>) -> String {
    format!(
        "{kind}:{from}:{}",
        status.map_or(String::new(), |s| s.to_string())
    )
}

/// Where a user stopped reading a timeline.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct MarkerRecord {
    pub timeline: String,
    pub last_read_id: Id,
    pub version: i64,
    pub updated_at: i64,
}

impl Store {
    /// The markers of an account.
    pub async fn markers(&self, account: Id) -> Result<Vec<MarkerRecord>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT timeline, last_read_id, version, updated_at FROM markers WHERE account_id = $1",
        ).bind(account).fetch_all(db).await?))
    }

    /// Moves a marker, counting one more version.
    pub async fn set_marker(
        &self,
        account: Id,
        timeline: &str,
        last_read_id: Id,
        now: i64,
    ) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at) VALUES ($1, $2, $3, 0, $4) \
             ON CONFLICT (account_id, timeline) DO UPDATE SET last_read_id = excluded.last_read_id, \
             version = markers.version + 1, updated_at = excluded.updated_at",
        ).bind(account).bind(timeline).bind(last_read_id).bind(now).execute(db).await?.rows_affected());
        Ok(())
    }

    /// How many of the account's notifications of `kinds` are newer than `after`, up to
    /// `cap`.
    pub async fn count_notifications_after(
        &self,
        account: Id,
        after: Id,
        kinds: &[String],
        cap: i64,
    ) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM notifications WHERE account_id = $1 AND id > $2 AND NOT filtered \
             AND {NOT_BLOCKED} AND kind IN ({}) LIMIT $3) AS recent",
            placeholders(4, kinds.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_scalar(&sql).bind(account).bind(after).bind(cap);
            for k in kinds { q = q.bind(k); }
            Ok(q.fetch_one(db).await?)
        })
    }

    /// Records a notification with what it owes; the same event twice is recorded once
    /// (and owes nothing the second time). Returns whether it is new.
    pub async fn add_notification(&self, n: &NotificationRecord, owed: &Owed) -> Result<bool> {
        let key = dedup_key(n.kind, n.from_account_id, n.status_id);
        Ok(transaction!(self, tx => {
            let added = sqlx::query(
                "INSERT INTO notifications (id, account_id, from_account_id, kind, status_id, dedup_key, created_at, group_key, filtered) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE) ON CONFLICT (account_id, dedup_key) DO NOTHING",
            ).bind(n.id).bind(n.account_id).bind(n.from_account_id).bind(n.kind.as_str()).bind(n.status_id).bind(&key).bind(n.created_at).bind(&n.group_key)
            .execute(&mut *tx).await?.rows_affected() == 1;
            if added {
                insert_push_deliveries!(tx, &owed.pushes);
                insert_jobs!(tx, &owed.jobs);
            }
            added
        }))
    }

    /// A page of an account's notifications, newest first: the newest in the range, or
    /// the oldest with `range.oldest_first` (Mastodon's `min_id`).
    pub async fn notifications(
        &self,
        account: Id,
        f: &NotificationFilter,
        range: Range,
    ) -> Result<Vec<NotificationRecord>> {
        let mut w = Where::new(account, f);
        w.below(range.below).above(range.above);
        let limit = w.arg(Arg::Int(range.limit as i64));
        let order = if range.oldest_first { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE {} ORDER BY id {order} LIMIT {limit}",
            w.sql
        );
        let mut list: Vec<NotificationRecord> = read!(self, db => {
            let mut q = sqlx::query_as(&sql);
            for a in &w.args { q = match a { Arg::Int(v) => q.bind(*v), Arg::Text(t) => q.bind(t.clone()) }; }
            q.fetch_all(db).await?
        });
        if range.oldest_first {
            list.reverse();
        }
        Ok(list)
    }

    pub async fn notification(&self, account: Id, id: Id) -> Result<NotificationRecord> {
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE account_id = $1 AND id = $2 AND {NOT_BLOCKED}"
        );
        read!(self, db => Ok(sqlx::query_as(&sql).bind(account).bind(id).fetch_one(db).await?))
    }

    /// Dismisses one notification (or all with `None`). Returns how many went.
    pub async fn dismiss_notifications(&self, account: Id, id: Option<Id>) -> Result<u64> {
        Ok(match id {
            Some(id) => {
                write!(self, db => sqlx::query("DELETE FROM notifications WHERE account_id = $1 AND id = $2")
                .bind(account).bind(id).execute(db).await?.rows_affected())
            }
            None => {
                write!(self, db => sqlx::query("DELETE FROM notifications WHERE account_id = $1")
                .bind(account).execute(db).await?.rows_affected())
            }
        })
    }

    /// Followers of `author` that asked to be notified of its posts.
    pub async fn notified_followers(&self, author: Id) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT account_id FROM follows WHERE target_id = $1 AND notify = TRUE",
        ).bind(author).fetch_all(db).await?))
    }

    /// Accounts that reblogged or quoted a status: `(account, is_quote)`.
    pub async fn resharers_of(&self, status: Id) -> Result<Vec<(Id, bool)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT account_id, quote_of_id IS NOT NULL FROM statuses WHERE reblog_of_id = $1 OR quote_of_id = $1",
        ).bind(status).fetch_all(db).await?))
    }

    /// Reshare counts of an account's recent original posts (newest first), excluding one:
    /// the author's usual reach, against which "going viral" is judged.
    pub async fn recent_reshare_counts(
        &self,
        account: Id,
        except: Id,
        limit: usize,
    ) -> Result<Vec<i64>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT reblogs_count + quotes_count FROM statuses WHERE account_id = $1 AND id <> $2 \
             AND reblog_of_id IS NULL ORDER BY id DESC LIMIT $3",
        ).bind(account).bind(except).bind(limit as i64).fetch_all(db).await?))
    }
}

/// The `WHERE` clause of a query over one account's notifications, with its parameters.
struct Where {
    sql: String,
    args: Vec<Arg>,
}

impl Where {
    fn new(account: Id, f: &NotificationFilter) -> Where {
        let mut w = Where {
            sql: format!("account_id = $1 AND {NOT_BLOCKED}"),
            args: vec![Arg::Int(account)],
        };
        if !f.include_filtered {
            w.sql.push_str(" AND NOT filtered");
        }
        let kinds = w.list(&f.kinds);
        if !f.kinds.is_empty() {
            w.sql.push_str(&format!(" AND kind IN ({kinds})"));
        }
        let exclude = w.list(&f.exclude);
        if !f.exclude.is_empty() {
            w.sql.push_str(&format!(" AND kind NOT IN ({exclude})"));
        }
        if let Some(from) = f.from_account {
            let p = w.arg(Arg::Int(from));
            w.sql.push_str(&format!(" AND from_account_id = {p}"));
        }
        w
    }

    /// Adds a parameter; returns its placeholder.
    fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    /// Adds text parameters; returns their placeholders, comma-separated.
    fn list(&mut self, items: &[String]) -> String {
        items
            .iter()
            .map(|t| self.arg(Arg::Text(t.clone())))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn below(&mut self, id: Option<Id>) -> &mut Where {
        if let Some(id) = id {
            let p = self.arg(Arg::Int(id));
            self.sql.push_str(&format!(" AND id < {p}"));
        }
        self
    }

    fn above(&mut self, id: Option<Id>) -> &mut Where {
        if let Some(id) = id {
            let p = self.arg(Arg::Int(id));
            self.sql.push_str(&format!(" AND id > {p}"));
        }
        self
    }

    fn at_least(&mut self, id: Option<Id>) -> &mut Where {
        if let Some(id) = id {
            let p = self.arg(Arg::Int(id));
            self.sql.push_str(&format!(" AND id >= {p}"));
        }
        self
    }

    /// The group a row falls in when only `grouped` kinds group: the others stand alone.
    fn group_expr(&mut self, grouped: &[String]) -> String {
        if grouped.is_empty() {
            return "'ungrouped-' || id".into();
        }
        let kinds = self.list(grouped);
        format!("CASE WHEN kind IN ({kinds}) THEN group_key ELSE 'ungrouped-' || id END")
    }
}

/// One notification group within a page: its key, its newest and oldest notification
/// there, and how many it holds there.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct GroupRow {
    pub group_key: String,
    pub latest: Id,
    pub oldest: Id,
    pub count: i64,
}

/// A user's notification policy (Mastodon 4.3): `accept`, `filter` or `drop` per kind of
/// sender.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct PolicyRecord {
    pub for_not_following: String,
    pub for_not_followers: String,
    pub for_new_accounts: String,
    pub for_private_mentions: String,
    pub for_limited_accounts: String,
}

/// The filtered notifications of one sender, waiting for the recipient's decision.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct RequestRecord {
    pub id: Id,
    pub account_id: Id,
    pub from_account_id: Id,
    pub last_status_id: Option<Id>,
    pub notifications_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const REQUEST_SELECT: &str = "SELECT r.id, r.account_id, r.from_account_id, r.last_status_id, \
    (SELECT COUNT(*) FROM notifications n WHERE n.account_id = r.account_id AND n.from_account_id = r.from_account_id AND n.filtered) AS notifications_count, \
    r.created_at, r.updated_at FROM notification_requests r";

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(t) => q.bind(t.clone()),
            };
        }
        q
    }};
}

impl Store {
    /// The `limit` groups whose newest notification matching `f` lies between `above` and
    /// `below`, newest first: `(group key, newest id)`. Kinds outside `grouped` stand alone.
    pub async fn notification_groups(
        &self,
        account: Id,
        f: &NotificationFilter,
        grouped: &[String],
        below: Option<Id>,
        above: Option<Id>,
        limit: usize,
    ) -> Result<Vec<(String, Id)>> {
        let mut w = Where::new(account, f);
        w.below(below).above(above);
        let gk = w.group_expr(grouped);
        let limit = w.arg(Arg::Int(limit as i64));
        let sql = format!(
            "SELECT gk, MAX(id) AS latest FROM (SELECT id, {gk} AS gk FROM notifications WHERE {}) AS n \
             GROUP BY gk ORDER BY latest DESC LIMIT {limit}",
            w.sql
        );
        read!(self, db => Ok(bind_all!(sqlx::query_as(&sql), &w.args).fetch_all(db).await?))
    }

    /// The `limit` groups first met going up from `above` (exclusive) towards `below`,
    /// oldest first: `(group key, oldest id)`. The page Mastodon's `min_id` asks for.
    pub async fn notification_groups_upwards(
        &self,
        account: Id,
        f: &NotificationFilter,
        grouped: &[String],
        below: Option<Id>,
        above: Option<Id>,
        limit: usize,
    ) -> Result<Vec<(String, Id)>> {
        let mut w = Where::new(account, f);
        w.below(below).above(above);
        let gk = w.group_expr(grouped);
        let limit = w.arg(Arg::Int(limit as i64));
        let sql = format!(
            "SELECT gk, MIN(id) AS first FROM (SELECT id, {gk} AS gk FROM notifications WHERE {}) AS n \
             GROUP BY gk ORDER BY first ASC LIMIT {limit}",
            w.sql
        );
        read!(self, db => Ok(bind_all!(sqlx::query_as(&sql), &w.args).fetch_all(db).await?))
    }

    /// Counts and bounds of the given groups over the notifications with ids in
    /// `[at_least, below)`.
    #[allow(clippy::too_many_arguments)]
    pub async fn group_rows(
        &self,
        account: Id,
        f: &NotificationFilter,
        grouped: &[String],
        keys: &[String],
        below: Option<Id>,
        at_least: Option<Id>,
    ) -> Result<Vec<GroupRow>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut w = Where::new(account, f);
        w.below(below).at_least(at_least);
        let gk = w.group_expr(grouped);
        let keys = w.list(keys);
        let sql = format!(
            "SELECT gk AS group_key, MAX(id) AS latest, MIN(id) AS oldest, COUNT(*) AS count \
             FROM (SELECT id, {gk} AS gk FROM notifications WHERE {}) AS n WHERE gk IN ({keys}) GROUP BY gk",
            w.sql
        );
        read!(self, db => Ok(bind_all!(sqlx::query_as(&sql), &w.args).fetch_all(db).await?))
    }

    /// The accounts behind a group's notifications matching `f` with ids in
    /// `[at_least, below)`, most recent first, up to `limit`.
    pub async fn group_accounts(
        &self,
        account: Id,
        f: &NotificationFilter,
        group_key: &str,
        below: Option<Id>,
        at_least: Option<Id>,
        limit: usize,
    ) -> Result<Vec<Id>> {
        let mut w = Where::new(account, f);
        w.below(below).at_least(at_least);
        let key = w.arg(Arg::Text(group_key.into()));
        let limit = w.arg(Arg::Int(limit as i64));
        let sql = format!(
            "SELECT from_account_id FROM notifications WHERE {} AND group_key = {key} \
             GROUP BY from_account_id ORDER BY MAX(id) DESC LIMIT {limit}",
            w.sql
        );
        read!(self, db => Ok(bind_all!(sqlx::query_scalar(&sql), &w.args).fetch_all(db).await?))
    }

    /// Notifications by id, of one account.
    pub async fn notifications_by_ids(
        &self,
        account: Id,
        ids: &[Id],
    ) -> Result<Vec<NotificationRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE account_id = $1 AND id IN ({})",
            placeholders(2, ids.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_as(&sql).bind(account);
            for id in ids { q = q.bind(*id); }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// The newest notification of a group that the policy let through.
    pub async fn latest_in_group(
        &self,
        account: Id,
        group_key: &str,
    ) -> Result<Option<NotificationRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE account_id = $1 AND group_key = $2 AND NOT filtered \
             AND {NOT_BLOCKED} ORDER BY id DESC LIMIT 1"
        );
        read!(self, db => Ok(sqlx::query_as(&sql).bind(account).bind(group_key).fetch_optional(db).await?))
    }

    /// Dismisses every notification of a group; returns how many went.
    pub async fn dismiss_group(&self, account: Id, group_key: &str) -> Result<u64> {
        Ok(write!(self, db => sqlx::query(
            "DELETE FROM notifications WHERE account_id = $1 AND group_key = $2 AND NOT filtered",
        ).bind(account).bind(group_key).execute(db).await?.rows_affected()))
    }

    /// How many groups have a notification of `kinds` newer than `after`, up to `cap`.
    pub async fn count_groups_after(
        &self,
        account: Id,
        after: Id,
        f: &NotificationFilter,
        grouped: &[String],
        cap: i64,
    ) -> Result<i64> {
        let mut w = Where::new(account, f);
        w.above(Some(after));
        let gk = w.group_expr(grouped);
        let cap = w.arg(Arg::Int(cap));
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT DISTINCT {gk} FROM notifications WHERE {} LIMIT {cap}) AS g",
            w.sql
        );
        read!(self, db => Ok(bind_all!(sqlx::query_scalar(&sql), &w.args).fetch_one(db).await?))
    }

    /// A user's notification policy, if it ever set one.
    pub async fn notification_policy(&self, account: Id) -> Result<Option<PolicyRecord>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT for_not_following, for_not_followers, for_new_accounts, for_private_mentions, for_limited_accounts \
             FROM notification_policies WHERE account_id = $1",
        ).bind(account).fetch_optional(db).await?))
    }

    pub async fn set_notification_policy(&self, account: Id, p: &PolicyRecord) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO notification_policies (account_id, for_not_following, for_not_followers, for_new_accounts, \
             for_private_mentions, for_limited_accounts) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id) DO UPDATE SET \
             for_not_following = excluded.for_not_following, for_not_followers = excluded.for_not_followers, \
             for_new_accounts = excluded.for_new_accounts, for_private_mentions = excluded.for_private_mentions, \
             for_limited_accounts = excluded.for_limited_accounts",
        ).bind(account).bind(&p.for_not_following).bind(&p.for_not_followers).bind(&p.for_new_accounts)
        .bind(&p.for_private_mentions).bind(&p.for_limited_accounts).execute(db).await?.rows_affected());
        Ok(())
    }

    /// Whether the user accepted a request from this sender, so nothing of its is filtered.
    pub async fn notifications_permitted(&self, account: Id, from: Id) -> Result<bool> {
        read!(self, db => Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM notification_permissions WHERE account_id = $1 AND from_account_id = $2",
        ).bind(account).bind(from).fetch_one(db).await? > 0))
    }

    /// Records a notification the policy filtered, and opens (or updates) the sender's
    /// request. Returns whether the notification is new.
    pub async fn add_filtered_notification(
        &self,
        n: &NotificationRecord,
        request_id: Id,
        owed: &Owed,
    ) -> Result<bool> {
        let key = dedup_key(n.kind, n.from_account_id, n.status_id);
        Ok(transaction!(self, tx => {
            let added = sqlx::query(
                "INSERT INTO notifications (id, account_id, from_account_id, kind, status_id, dedup_key, created_at, group_key, filtered) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE) ON CONFLICT (account_id, dedup_key) DO NOTHING",
            ).bind(n.id).bind(n.account_id).bind(n.from_account_id).bind(n.kind.as_str()).bind(n.status_id).bind(&key)
            .bind(n.created_at).bind(&n.group_key).execute(&mut *tx).await?.rows_affected() == 1;
            if added {
                insert_push_deliveries!(tx, &owed.pushes);
                insert_jobs!(tx, &owed.jobs);
                sqlx::query(
                    "INSERT INTO notification_requests (id, account_id, from_account_id, last_status_id, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (account_id, from_account_id) DO UPDATE SET \
                     last_status_id = COALESCE(excluded.last_status_id, notification_requests.last_status_id), \
                     updated_at = excluded.updated_at",
                ).bind(request_id).bind(n.account_id).bind(n.from_account_id).bind(n.status_id).bind(n.created_at)
                .execute(&mut *tx).await?;
            }
            added
        }))
    }

    /// A page of a user's notification requests, newest first (the oldest of the range
    /// with `range.oldest_first`).
    pub async fn notification_requests(
        &self,
        account: Id,
        range: Range,
    ) -> Result<Vec<RequestRecord>> {
        let order = if range.oldest_first { "ASC" } else { "DESC" };
        let sql = format!(
            "{REQUEST_SELECT} WHERE r.account_id = $1 AND r.id < $2 AND r.id > $3 ORDER BY r.id {order} LIMIT $4"
        );
        let mut list: Vec<RequestRecord> = read!(self, db => sqlx::query_as(&sql).bind(account)
            .bind(range.below.unwrap_or(i64::MAX)).bind(range.above.unwrap_or(i64::MIN))
            .bind(range.limit as i64).fetch_all(db).await?);
        if range.oldest_first {
            list.reverse();
        }
        Ok(list)
    }

    pub async fn notification_request(&self, account: Id, id: Id) -> Result<RequestRecord> {
        let sql = format!("{REQUEST_SELECT} WHERE r.account_id = $1 AND r.id = $2");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(account).bind(id).fetch_one(db).await?))
    }

    /// Accepts requests: their notifications join the list and their senders are never
    /// filtered again. Returns how many requests there were.
    pub async fn accept_notification_requests(&self, account: Id, ids: &[Id]) -> Result<u64> {
        self.close_requests(account, ids, true).await
    }

    /// Dismisses requests with their filtered notifications.
    pub async fn dismiss_notification_requests(&self, account: Id, ids: &[Id]) -> Result<u64> {
        self.close_requests(account, ids, false).await
    }

    async fn close_requests(&self, account: Id, ids: &[Id], accept: bool) -> Result<u64> {
        let mut closed = 0;
        for &id in ids {
            closed += transaction!(self, tx => {
                let from: Option<Id> = sqlx::query_scalar(
                    "DELETE FROM notification_requests WHERE account_id = $1 AND id = $2 RETURNING from_account_id",
                ).bind(account).bind(id).fetch_optional(&mut *tx).await?;
                if let Some(from) = from {
                    if accept {
                        sqlx::query("UPDATE notifications SET filtered = FALSE WHERE account_id = $1 AND from_account_id = $2 AND filtered")
                            .bind(account).bind(from).execute(&mut *tx).await?;
                        sqlx::query("INSERT INTO notification_permissions (account_id, from_account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                            .bind(account).bind(from).execute(&mut *tx).await?;
                    } else {
                        sqlx::query("DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2 AND filtered")
                            .bind(account).bind(from).execute(&mut *tx).await?;
                    }
                }
                u64::from(from.is_some())
            });
        }
        Ok(closed)
    }

    /// Pending requests and the notifications they hold, for the policy's summary.
    pub async fn filtered_summary(&self, account: Id) -> Result<(i64, i64)> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM notification_requests WHERE account_id = $1), \
             (SELECT COUNT(*) FROM notifications WHERE account_id = $1 AND filtered)",
        ).bind(account).fetch_one(db).await?))
    }
}
