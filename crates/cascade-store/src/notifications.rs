//! Notifications: what a user is told about (mentions, favourites, reblogs, quotes,
//! follows, edits, posts of accounts it rings the bell for, and Cascade's "going viral").

use cascade_core::Id;
use sqlx::FromRow;

use crate::{placeholders, read, write, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct NotificationRecord {
    pub id: Id,
    pub account_id: Id,
    pub from_account_id: Id,
    pub kind: String,
    pub status_id: Option<Id>,
    pub created_at: i64,
}

/// Which notifications a page lists.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    /// Only these kinds (empty: all of `default_kinds`).
    pub kinds: Vec<String>,
    pub exclude: Vec<String>,
    pub from_account: Option<Id>,
}

const COLUMNS: &str = "id, account_id, from_account_id, kind, status_id, created_at";

fn dedup_key(kind: &str, from: Id, status: Option<Id>) -> String {
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
            "SELECT COUNT(*) FROM (SELECT 1 FROM notifications WHERE account_id = $1 AND id > $2 AND kind IN ({}) LIMIT $3) AS recent",
            placeholders(4, kinds.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_scalar(&sql).bind(account).bind(after).bind(cap);
            for k in kinds { q = q.bind(k); }
            Ok(q.fetch_one(db).await?)
        })
    }

    /// Records a notification; the same event twice is recorded once. Returns whether it
    /// is new.
    pub async fn add_notification(&self, n: &NotificationRecord) -> Result<bool> {
        let key = dedup_key(&n.kind, n.from_account_id, n.status_id);
        let added = write!(self, db => sqlx::query(
            "INSERT INTO notifications (id, account_id, from_account_id, kind, status_id, dedup_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, dedup_key) DO NOTHING",
        ).bind(n.id).bind(n.account_id).bind(n.from_account_id).bind(&n.kind).bind(n.status_id).bind(&key).bind(n.created_at)
        .execute(db).await?.rows_affected());
        Ok(added == 1)
    }

    /// Withdraws the notification of an undone action (an unfavourite, say).
    pub async fn remove_notification(
        &self,
        recipient: Id,
        kind: &str,
        from: Id,
        status: Option<Id>,
    ) -> Result<()> {
        let key = dedup_key(kind, from, status);
        write!(self, db => sqlx::query("DELETE FROM notifications WHERE account_id = $1 AND dedup_key = $2")
            .bind(recipient).bind(&key).execute(db).await?.rows_affected());
        Ok(())
    }

    /// A page of an account's notifications, newest first.
    pub async fn notifications(
        &self,
        account: Id,
        f: &NotificationFilter,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<NotificationRecord>> {
        let mut sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE account_id = $1 AND id < $2 AND id > $3"
        );
        let mut n = 3;
        if !f.kinds.is_empty() {
            sql.push_str(&format!(
                " AND kind IN ({})",
                placeholders(n + 1, f.kinds.len())
            ));
            n += f.kinds.len();
        }
        if !f.exclude.is_empty() {
            sql.push_str(&format!(
                " AND kind NOT IN ({})",
                placeholders(n + 1, f.exclude.len())
            ));
            n += f.exclude.len();
        }
        if f.from_account.is_some() {
            sql.push_str(&format!(" AND from_account_id = ${}", n + 1));
            n += 1;
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", n + 1));
        read!(self, db => {
            let mut q = sqlx::query_as(&sql).bind(account).bind(max_id.unwrap_or(i64::MAX)).bind(min_id.unwrap_or(i64::MIN));
            for k in &f.kinds { q = q.bind(k); }
            for k in &f.exclude { q = q.bind(k); }
            if let Some(a) = f.from_account { q = q.bind(a); }
            Ok(q.bind(limit as i64).fetch_all(db).await?)
        })
    }

    pub async fn notification(&self, account: Id, id: Id) -> Result<NotificationRecord> {
        let sql = format!("SELECT {COLUMNS} FROM notifications WHERE account_id = $1 AND id = $2");
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
