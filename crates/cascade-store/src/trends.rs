//! What trend recomputation reads: recent engagement events, the statuses that may trend,
//! and recent uses of tags and links. Everything here is bounded below by an id, and ids
//! are time-ordered, so each query walks a primary key range rather than the whole table.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{placeholders, read, rows_placeholders, write, Result, Store};

/// One favourite, reply, reblog or quote (`kind`: `f`, `p`, `r`, `q`) of `status_id`.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct EngagementRow {
    pub kind: String,
    pub status_id: Id,
    pub account_id: Id,
    pub created_at: i64,
}

/// A status that may trend: public, not sensitive, no content warning, not a reblog.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct TrendCandidate {
    pub id: Id,
    pub account_id: Id,
    pub created_at: i64,
}

/// An account's use of a tag on one day (days since the epoch), with its number of posts.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct TagUse {
    pub tag_id: Id,
    pub name: String,
    pub day: i64,
    pub account_id: Id,
    pub uses: i64,
}

/// A public post that may contain links, for the link trends.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct LinkPost {
    pub account_id: Id,
    pub created_at: i64,
    pub text: String,
}

/// Public, not sensitive, no content warning, original: what may trend.
const TRENDABLE: &str =
    "s.visibility = 0 AND s.sensitive = FALSE AND s.spoiler_text = '' AND s.reblog_of_id IS NULL";

impl Store {
    /// Every favourite, reply, reblog and quote whose id is at least `since_id`.
    pub async fn engagements_since(&self, since_id: Id) -> Result<Vec<EngagementRow>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT 'f' AS kind, status_id, account_id, created_at FROM favourites WHERE id >= $1 \
             UNION ALL SELECT 'r', reblog_of_id, account_id, created_at FROM statuses \
               WHERE id >= $1 AND reblog_of_id IS NOT NULL \
             UNION ALL SELECT 'q', quote_of_id, account_id, created_at FROM statuses \
               WHERE id >= $1 AND quote_of_id IS NOT NULL \
             UNION ALL SELECT 'p', in_reply_to_id, account_id, created_at FROM statuses \
               WHERE id >= $1 AND in_reply_to_id IS NOT NULL",
        ).bind(since_id).fetch_all(db).await?))
    }

    /// The statuses among `ids` that may trend and are at least `since_id`; others are
    /// left out.
    pub async fn trend_candidates(&self, ids: &[Id], since_id: Id) -> Result<Vec<TrendCandidate>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT s.id, s.account_id, s.created_at FROM statuses s \
                 WHERE s.id >= $1 AND {TRENDABLE} AND s.id IN ({})",
                placeholders(2, chunk.len())
            );
            let rows: Vec<TrendCandidate> = read!(self, db => {
                let mut q = sqlx::query_as(&sql).bind(since_id);
                for id in chunk { q = q.bind(*id); }
                q.fetch_all(db).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Who used which tag on which day, in statuses that may trend from `since_id` on.
    pub async fn tag_uses_since(&self, since_id: Id) -> Result<Vec<TagUse>> {
        let sql = format!(
            "SELECT st.tag_id, t.name, s.created_at / 86400000 AS day, s.account_id, COUNT(*) AS uses \
             FROM statuses s JOIN status_tags st ON st.status_id = s.id JOIN tags t ON t.id = st.tag_id \
             WHERE s.id >= $1 AND {TRENDABLE} \
             GROUP BY st.tag_id, t.name, s.created_at / 86400000, s.account_id"
        );
        read!(self, db => Ok(sqlx::query_as(&sql).bind(since_id).fetch_all(db).await?))
    }

    /// Statuses that may trend from `since_id` on and mention a URL scheme in their text.
    pub async fn link_posts_since(&self, since_id: Id) -> Result<Vec<LinkPost>> {
        let sql = format!(
            "SELECT s.account_id, s.created_at, s.text FROM statuses s \
             WHERE s.id >= $1 AND {TRENDABLE} AND s.text LIKE '%http%'"
        );
        read!(self, db => Ok(sqlx::query_as(&sql).bind(since_id).fetch_all(db).await?))
    }

    /// Distinct reporters per reported account, for reports since `since` (milliseconds),
    /// counting only reporters created at `reporters_before` or earlier and not suspended.
    pub async fn reporter_counts_since(
        &self,
        since: i64,
        reporters_before: i64,
    ) -> Result<Vec<(Id, i64)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT r.target_account_id, COUNT(DISTINCT r.account_id) FROM reports r \
             JOIN accounts a ON a.id = r.account_id \
             WHERE r.created_at >= $1 AND a.created_at <= $2 AND a.suspended_at IS NULL \
             GROUP BY r.target_account_id",
        ).bind(since).bind(reporters_before).fetch_all(db).await?))
    }

    /// Follows started per account since `since_id`.
    pub async fn follow_counts_since(&self, since_id: Id) -> Result<Vec<(Id, i64)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT account_id, COUNT(*) FROM follows WHERE id >= $1 GROUP BY account_id",
        ).bind(since_id).fetch_all(db).await?))
    }

    /// Bulk insert of favourites `(id, account, status, created_at)` for benchmarks and
    /// tests; counters are left alone (`recount_statuses` fixes them).
    pub async fn insert_favourites_bulk(&self, rows: &[(Id, Id, Id, i64)]) -> Result<()> {
        for chunk in rows.chunks(200) {
            let sql = format!(
                "INSERT INTO favourites (id, account_id, status_id, created_at) VALUES {}",
                rows_placeholders(chunk.len(), 4)
            );
            write!(self, db => {
                let mut q = sqlx::query(&sql);
                for (id, account, status, at) in chunk { q = q.bind(*id).bind(*account).bind(*status).bind(*at); }
                q.execute(db).await?;
            });
        }
        Ok(())
    }

    /// Bulk insert of `(status, tag)` links for benchmarks and tests.
    pub async fn insert_status_tags_bulk(&self, rows: &[(Id, Id)]) -> Result<()> {
        for chunk in rows.chunks(400) {
            let sql = format!(
                "INSERT INTO status_tags (status_id, tag_id) VALUES {}",
                rows_placeholders(chunk.len(), 2)
            );
            write!(self, db => {
                let mut q = sqlx::query(&sql);
                for (status, tag) in chunk { q = q.bind(*status).bind(*tag); }
                q.execute(db).await?;
            });
        }
        Ok(())
    }
}
