//! Brand watch (a Cascade extension): saved watches, the statuses they matched (hits), and
//! the owner's unanswered queue and reply times, read from those hits and the owner's
//! mentions. The store decides nothing: which statuses match is the server's (and core's)
//! business; here they are written and read by index.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{placeholders, read, transaction, write, Arg, Range, Result, Store};

/// A saved watch. Terms are stored normalized (see `cascade_core::watch::Terms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchRecord {
    pub id: Id,
    pub account_id: Id,
    pub name: String,
    pub keywords: Vec<String>,
    pub hashtags: Vec<String>,
    pub mentions: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(FromRow)]
struct WatchRow {
    id: Id,
    account_id: Id,
    name: String,
    keywords: String,
    hashtags: String,
    mentions: bool,
    created_at: i64,
    updated_at: i64,
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

impl From<WatchRow> for WatchRecord {
    fn from(r: WatchRow) -> WatchRecord {
        WatchRecord {
            id: r.id,
            account_id: r.account_id,
            name: r.name,
            keywords: lines(&r.keywords),
            hashtags: lines(&r.hashtags),
            mentions: r.mentions,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// An item of an owner's queue as the statistics need it: when it was posted and when the
/// owner first replied to it.
#[derive(Debug, Clone, Copy, FromRow, PartialEq, Eq)]
pub struct WatchItem {
    pub status_id: Id,
    pub created_at: i64,
    pub replied_at: Option<i64>,
}

const COLUMNS: &str = "id, account_id, name, keywords, hashtags, mentions, created_at, updated_at";

/// The statuses of an owner's queue (`$1` the owner): hits of all their watches and the
/// statuses that mention them.
const ALL_ITEMS: &str = "SELECT status_id FROM watch_hits WHERE account_id = $1 \
     UNION SELECT status_id FROM mentions WHERE account_id = $1";

/// What is still waiting for the owner (`$1`): not their own, not a reblog, not replied
/// to by them, not dismissed.
const OPEN: &str = "s.account_id <> $1 AND s.reblog_of_id IS NULL \
     AND NOT EXISTS (SELECT 1 FROM statuses r WHERE r.in_reply_to_id = s.id AND r.account_id = $1) \
     AND NOT EXISTS (SELECT 1 FROM watch_dismissals d WHERE d.account_id = $1 AND d.status_id = s.id)";

impl Store {
    /// Saves a new watch unless its owner has `max` already; returns whether it was saved.
    pub async fn create_watch(&self, w: &WatchRecord, max: usize) -> Result<bool> {
        let n = write!(self, db => sqlx::query(&format!(
            "INSERT INTO watches ({COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
             WHERE (SELECT COUNT(*) FROM watches WHERE account_id = $2) < $9"
        ))
        .bind(w.id).bind(w.account_id).bind(&w.name).bind(w.keywords.join("\n"))
        .bind(w.hashtags.join("\n")).bind(w.mentions).bind(w.created_at).bind(w.updated_at)
        .bind(max as i64)
        .execute(db).await?.rows_affected());
        Ok(n == 1)
    }

    /// Replaces a watch's name and terms (the owner's watch only: `NotFound` otherwise).
    pub async fn update_watch(&self, w: &WatchRecord) -> Result<()> {
        let n = write!(self, db => sqlx::query(
            "UPDATE watches SET name = $1, keywords = $2, hashtags = $3, mentions = $4, updated_at = $5 \
             WHERE id = $6 AND account_id = $7",
        )
        .bind(&w.name).bind(w.keywords.join("\n")).bind(w.hashtags.join("\n")).bind(w.mentions)
        .bind(w.updated_at).bind(w.id).bind(w.account_id)
        .execute(db).await?.rows_affected());
        if n == 0 {
            return Err(crate::StoreError::NotFound);
        }
        Ok(())
    }

    /// Deletes the owner's watch and its hits; `NotFound` when it is not theirs.
    pub async fn delete_watch(&self, id: Id, owner: Id) -> Result<()> {
        let n = write!(self, db => sqlx::query("DELETE FROM watches WHERE id = $1 AND account_id = $2")
            .bind(id).bind(owner).execute(db).await?.rows_affected());
        if n == 0 {
            return Err(crate::StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn watch(&self, id: Id) -> Result<WatchRecord> {
        let sql = format!("SELECT {COLUMNS} FROM watches WHERE id = $1");
        let row: WatchRow = read!(self, db => sqlx::query_as(&sql).bind(id).fetch_one(db).await?);
        Ok(row.into())
    }

    /// An account's watches, oldest first.
    pub async fn watches_of(&self, owner: Id) -> Result<Vec<WatchRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM watches WHERE account_id = $1 ORDER BY id");
        let rows: Vec<WatchRow> =
            read!(self, db => sqlx::query_as(&sql).bind(owner).fetch_all(db).await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Every watch: what the server's match index is built from at start.
    pub async fn all_watches(&self) -> Result<Vec<WatchRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM watches ORDER BY id");
        let rows: Vec<WatchRow> = read!(self, db => sqlx::query_as(&sql).fetch_all(db).await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Records that a status matched these `(watch, owner)`s; a repeated hit (an edit that
    /// still matches) is kept once. Returns the watches whose hit is new.
    pub async fn add_watch_hits(
        &self,
        status: Id,
        created_at: i64,
        hits: &[(Id, Id)],
    ) -> Result<Vec<Id>> {
        let new = transaction!(self, tx => {
            let mut new = Vec::new();
            for &(watch, owner) in hits {
                let n = sqlx::query(
                    "INSERT INTO watch_hits (watch_id, status_id, account_id, created_at) \
                     SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM watches WHERE id = $1) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(watch).bind(status).bind(owner).bind(created_at)
                .execute(&mut *tx).await?.rows_affected();
                if n == 1 {
                    new.push(watch);
                }
            }
            new
        });
        Ok(new)
    }

    /// A watch's matched statuses, by id range, leaving out `hidden` authors.
    pub async fn watch_timeline(&self, watch: Id, hidden: &[Id], range: Range) -> Result<Vec<Id>> {
        self.status_ids(
            "JOIN watch_hits h ON h.status_id = s.id",
            "h.watch_id = $1",
            vec![Arg::Int(watch)],
            hidden,
            range,
        )
        .await
    }

    /// The owner's open items, newest first within the range: of one watch, or of all
    /// their watches and mentions.
    pub async fn unanswered(
        &self,
        owner: Id,
        watch: Option<Id>,
        hidden: &[Id],
        range: Range,
    ) -> Result<Vec<Id>> {
        let (cond, args) = match watch {
            Some(w) => (
                format!(
                    "s.id IN (SELECT status_id FROM watch_hits WHERE watch_id = $2) AND {OPEN}"
                ),
                vec![Arg::Int(owner), Arg::Int(w)],
            ),
            None => (
                format!("s.id IN ({ALL_ITEMS}) AND {OPEN}"),
                vec![Arg::Int(owner)],
            ),
        };
        self.status_ids("", &cond, args, hidden, range).await
    }

    /// Whether a status is an item of the owner's queue (a hit or a mention), answered or
    /// not.
    pub async fn is_watch_item(&self, owner: Id, status: Id) -> Result<bool> {
        let sql = format!("SELECT COUNT(*) FROM ({ALL_ITEMS}) i WHERE i.status_id = $2");
        let n: i64 = read!(self, db => sqlx::query_scalar(&sql).bind(owner).bind(status).fetch_one(db).await?);
        Ok(n > 0)
    }

    /// Takes an item out of the owner's queue without a reply.
    pub async fn dismiss_watch_item(&self, owner: Id, status: Id, now: i64) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO watch_dismissals (account_id, status_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        ).bind(owner).bind(status).bind(now).execute(db).await?.rows_affected());
        Ok(())
    }

    /// `(status_id, watch_id)` of the owner's hits among `ids`.
    pub async fn hit_watches(&self, owner: Id, ids: &[Id]) -> Result<Vec<(Id, Id)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT status_id, watch_id FROM watch_hits WHERE account_id = $1 AND status_id IN ({}) \
             ORDER BY watch_id",
            placeholders(2, ids.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_as(&sql).bind(owner);
            for id in ids { q = q.bind(*id); }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// The owner's items posted in `[since, until)` by authors not `hidden`, with the
    /// owner's first reply to each: what the response-time statistics are computed from.
    pub async fn watch_items_between(
        &self,
        owner: Id,
        since: i64,
        until: i64,
        hidden: &[Id],
    ) -> Result<Vec<WatchItem>> {
        // Ids encode a time no earlier than their status's created_at, so the smallest id
        // of `since` (a minute early, for clock steps) bounds both index scans from below.
        let from = cascade_core::id::floor_for_millis(since.saturating_sub(60_000));
        let mut sql = String::from(
            "SELECT s.id AS status_id, s.created_at, \
               (SELECT MIN(r.created_at) FROM statuses r WHERE r.in_reply_to_id = s.id AND r.account_id = $1) AS replied_at \
             FROM statuses s WHERE s.id IN (\
               SELECT status_id FROM watch_hits WHERE account_id = $1 AND status_id >= $4 \
               UNION SELECT status_id FROM mentions WHERE account_id = $1 AND status_id >= $4) \
             AND s.account_id <> $1 AND s.reblog_of_id IS NULL AND s.created_at >= $2 AND s.created_at < $3",
        );
        if !hidden.is_empty() {
            sql.push_str(&format!(
                " AND s.account_id NOT IN ({})",
                placeholders(5, hidden.len())
            ));
        }
        sql.push_str(" ORDER BY s.id");
        read!(self, db => {
            let mut q = sqlx::query_as(&sql).bind(owner).bind(since).bind(until).bind(from);
            for h in hidden { q = q.bind(*h); }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// `(watch_id, status_id)` of the owner's hits on statuses posted in `[since, until)`.
    pub async fn watch_hits_between(
        &self,
        owner: Id,
        since: i64,
        until: i64,
    ) -> Result<Vec<(Id, Id)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT watch_id, status_id FROM watch_hits WHERE account_id = $1 AND created_at >= $2 AND created_at < $3",
        ).bind(owner).bind(since).bind(until).fetch_all(db).await?))
    }
}
