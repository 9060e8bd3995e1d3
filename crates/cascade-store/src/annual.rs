//! Annual reports: what an account did in a year, counted from its rows, and the reports
//! kept once made.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, write, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct AnnualReportRecord {
    pub account_id: Id,
    pub year: i64,
    pub data: String,
    pub schema_version: i64,
    pub created_at: i64,
    pub viewed_at: Option<i64>,
}

/// A year of one account, `[from, to)` in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YearFigures {
    /// Original posts, replies and reblogs.
    pub standalone: i64,
    pub replies: i64,
    pub reblogs: i64,
    pub polls: i64,
    /// The original posts most reblogged, favourited and replied to (id, count).
    pub top_by_reblogs: Option<(Id, i64)>,
    pub top_by_favourites: Option<(Id, i64)>,
    pub top_by_replies: Option<(Id, i64)>,
    /// (application name, statuses) largest first.
    pub apps: Vec<(String, i64)>,
    /// (account, replies to it) largest first, oneself left out.
    pub replied_to: Vec<(Id, i64)>,
    /// (account, reblogs of its posts) largest first, oneself left out.
    pub reblogged: Vec<(Id, i64)>,
    /// (tag, statuses) largest first.
    pub tags: Vec<(String, i64)>,
    /// Per month (0–11): statuses, follows made, followers gained.
    pub months: Vec<(i64, i64, i64)>,
    /// Accounts that posted less than this one in the year, and accounts that posted.
    pub posted_less: i64,
    pub posters: i64,
}

impl Store {
    pub async fn annual_reports(&self, account: Id) -> Result<Vec<AnnualReportRecord>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT account_id, year, data, schema_version, created_at, viewed_at FROM annual_reports \
             WHERE account_id = $1 ORDER BY year DESC",
        ).bind(account).fetch_all(db).await?))
    }

    /// Keeps a report; a report made meanwhile for the same year stays.
    pub async fn put_annual_report(&self, r: &AnnualReportRecord) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO annual_reports (account_id, year, data, schema_version, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, year) DO NOTHING",
        ).bind(r.account_id).bind(r.year).bind(&r.data).bind(r.schema_version).bind(r.created_at)
            .execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn read_annual_report(&self, account: Id, year: i64, now: i64) -> Result<bool> {
        Ok(write!(self, db => sqlx::query(
            "UPDATE annual_reports SET viewed_at = $1 WHERE account_id = $2 AND year = $3",
        ).bind(now).bind(account).bind(year).execute(db).await?.rows_affected())
            == 1)
    }

    /// Statuses (reblogs included) the account wrote in `[from, to)`.
    pub async fn statuses_in(&self, account: Id, from: i64, to: i64) -> Result<i64> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM statuses WHERE account_id = $1 AND created_at >= $2 AND created_at < $3",
        ).bind(account).bind(from).bind(to).fetch_one(db).await?))
    }

    /// Everything an annual report says, counted over `[from, to)`; `month_ms` gives the
    /// start of each month (12 + 1 boundaries).
    pub async fn year_figures(
        &self,
        account: Id,
        from: i64,
        to: i64,
        months: &[i64; 13],
    ) -> Result<YearFigures> {
        let mut f = YearFigures::default();
        let own = "FROM statuses WHERE account_id = $1 AND created_at >= $2 AND created_at < $3";
        let (standalone, replies, reblogs): (i64, i64, i64) = read!(self, db => sqlx::query_as(&format!(
            "SELECT \
               COALESCE(SUM(CASE WHEN reblog_of_id IS NULL AND in_reply_to_id IS NULL THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN reblog_of_id IS NULL AND in_reply_to_id IS NOT NULL THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN reblog_of_id IS NOT NULL THEN 1 ELSE 0 END), 0) {own}"
        )).bind(account).bind(from).bind(to).fetch_one(db).await?);
        (f.standalone, f.replies, f.reblogs) = (standalone, replies, reblogs);
        f.polls = read!(self, db => sqlx::query_scalar(
            "SELECT COUNT(*) FROM polls p JOIN statuses s ON s.id = p.status_id \
             WHERE s.account_id = $1 AND s.created_at >= $2 AND s.created_at < $3",
        ).bind(account).bind(from).bind(to).fetch_one(db).await?);
        for (column, slot) in [
            ("reblogs_count", &mut f.top_by_reblogs),
            ("favourites_count", &mut f.top_by_favourites),
            ("replies_count", &mut f.top_by_replies),
        ] {
            let sql = format!("SELECT id, {column} {own} AND reblog_of_id IS NULL AND {column} > 0 ORDER BY {column} DESC, id LIMIT 1");
            *slot = read!(self, db => sqlx::query_as(&sql).bind(account).bind(from).bind(to).fetch_optional(db).await?);
        }
        f.apps = read!(self, db => sqlx::query_as(
            "SELECT a.name, COUNT(*) AS n FROM statuses s JOIN apps a ON a.id = s.app_id \
             WHERE s.account_id = $1 AND s.created_at >= $2 AND s.created_at < $3 AND s.reblog_of_id IS NULL \
             GROUP BY a.name ORDER BY n DESC, a.name LIMIT 5",
        ).bind(account).bind(from).bind(to).fetch_all(db).await?);
        f.replied_to = read!(self, db => sqlx::query_as(
            "SELECT in_reply_to_account_id, COUNT(*) AS n FROM statuses WHERE account_id = $1 AND created_at >= $2 \
             AND created_at < $3 AND in_reply_to_account_id IS NOT NULL AND in_reply_to_account_id <> $1 \
             GROUP BY in_reply_to_account_id ORDER BY n DESC, in_reply_to_account_id LIMIT 3",
        ).bind(account).bind(from).bind(to).fetch_all(db).await?);
        f.reblogged = read!(self, db => sqlx::query_as(
            "SELECT o.account_id, COUNT(*) AS n FROM statuses s JOIN statuses o ON o.id = s.reblog_of_id \
             WHERE s.account_id = $1 AND s.created_at >= $2 AND s.created_at < $3 AND o.account_id <> $1 \
             GROUP BY o.account_id ORDER BY n DESC, o.account_id LIMIT 3",
        ).bind(account).bind(from).bind(to).fetch_all(db).await?);
        f.tags = read!(self, db => sqlx::query_as(
            "SELECT t.name, COUNT(*) AS n FROM status_tags st JOIN statuses s ON s.id = st.status_id \
             JOIN tags t ON t.id = st.tag_id WHERE s.account_id = $1 AND s.created_at >= $2 AND s.created_at < $3 \
             GROUP BY t.name ORDER BY n DESC, t.name LIMIT 5",
        ).bind(account).bind(from).bind(to).fetch_all(db).await?);
        for m in 0..12 {
            let (start, end) = (months[m], months[m + 1]);
            let statuses = self.statuses_in(account, start, end).await?;
            let (following, followers): (i64, i64) = read!(self, db => sqlx::query_as(
                "SELECT \
                   (SELECT COUNT(*) FROM follows WHERE account_id = $1 AND created_at >= $2 AND created_at < $3), \
                   (SELECT COUNT(*) FROM follows WHERE target_id = $1 AND created_at >= $2 AND created_at < $3)",
            ).bind(account).bind(start).bind(end).fetch_one(db).await?);
            f.months.push((statuses, following, followers));
        }
        let mine = f.standalone + f.replies + f.reblogs;
        (f.posted_less, f.posters) = read!(self, db => sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN n < $3 THEN 1 ELSE 0 END), 0), COUNT(*) FROM \
             (SELECT account_id, COUNT(*) AS n FROM statuses WHERE created_at >= $1 AND created_at < $2 GROUP BY account_id) t",
        ).bind(from).bind(to).bind(mine).fetch_one(db).await?);
        Ok(f)
    }
}
