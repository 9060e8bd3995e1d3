//! The figures of the moderators' dashboard (Mastodon's admin measures and dimensions):
//! counts per day, and the largest groups of a kind, over a period of `created_at`
//! milliseconds `[from, to)`.

use cascade_core::Id;

use crate::{read, Result, Store};

const DAY_MS: i64 = 86_400_000;

/// What a measure counts per day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Local accounts created.
    NewUsers,
    /// Distinct accounts that posted or favourited.
    ActiveUsers,
    /// Favourites, reblogs and replies.
    Interactions,
    OpenedReports,
    ResolvedReports,
    /// Distinct accounts that used the tag.
    TagAccounts(Id),
    /// Statuses with the tag.
    TagUses(Id),
}

/// What a dimension groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Statuses by language.
    Languages,
    /// Statuses by the application that posted them (`None`: no application).
    Sources,
    /// Statuses with the tag, by language.
    TagLanguages(Id),
}

impl Measure {
    /// The rows counted: `(account, day)` per event, in one sub-select.
    fn events(self) -> String {
        let day = |column: &str| format!("{column} / {DAY_MS}");
        match self {
            Measure::NewUsers => format!(
                "SELECT a.id AS who, {} AS day FROM accounts a JOIN users u ON u.account_id = a.id \
                 WHERE a.created_at >= $1 AND a.created_at < $2",
                day("a.created_at")
            ),
            Measure::ActiveUsers => format!(
                "SELECT account_id AS who, {} AS day FROM statuses WHERE created_at >= $1 AND created_at < $2 \
                 UNION ALL SELECT account_id, {} FROM favourites WHERE created_at >= $1 AND created_at < $2",
                day("created_at"),
                day("created_at")
            ),
            Measure::Interactions => format!(
                "SELECT account_id AS who, {} AS day FROM favourites WHERE created_at >= $1 AND created_at < $2 \
                 UNION ALL SELECT account_id, {} FROM statuses WHERE created_at >= $1 AND created_at < $2 \
                 AND (reblog_of_id IS NOT NULL OR in_reply_to_id IS NOT NULL)",
                day("created_at"),
                day("created_at")
            ),
            Measure::OpenedReports => format!(
                "SELECT account_id AS who, {} AS day FROM reports WHERE created_at >= $1 AND created_at < $2",
                day("created_at")
            ),
            Measure::ResolvedReports => format!(
                "SELECT account_id AS who, {} AS day FROM reports \
                 WHERE action_taken_at >= $1 AND action_taken_at < $2",
                day("action_taken_at")
            ),
            Measure::TagAccounts(tag) | Measure::TagUses(tag) => format!(
                "SELECT s.account_id AS who, {} AS day FROM status_tags t JOIN statuses s ON s.id = t.status_id \
                 WHERE t.tag_id = {tag} AND s.created_at >= $1 AND s.created_at < $2",
                day("s.created_at")
            ),
        }
    }

    /// Whether the measure counts accounts rather than events.
    fn distinct(self) -> bool {
        matches!(self, Measure::ActiveUsers | Measure::TagAccounts(_))
    }
}

impl Store {
    /// `(day number since the epoch, count)` for the days that have any, and the total
    /// over the whole period (distinct accounts for the measures that count accounts).
    pub async fn measure(&self, m: Measure, from: i64, to: i64) -> Result<(Vec<(i64, i64)>, i64)> {
        let events = m.events();
        let count = if m.distinct() {
            "COUNT(DISTINCT who)"
        } else {
            "COUNT(*)"
        };
        let daily = format!("SELECT day, {count} FROM ({events}) e GROUP BY day ORDER BY day");
        let total = format!("SELECT {count} FROM ({events}) e");
        let days: Vec<(i64, i64)> =
            read!(self, db => sqlx::query_as(&daily).bind(from).bind(to).fetch_all(db).await?);
        let total: i64 =
            read!(self, db => sqlx::query_scalar(&total).bind(from).bind(to).fetch_one(db).await?);
        Ok((days, total))
    }

    /// The largest groups of a dimension over the period, largest first.
    pub async fn dimension(
        &self,
        d: Dimension,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Result<Vec<(Option<String>, i64)>> {
        let sql = match d {
            Dimension::Languages => "SELECT language, COUNT(*) AS n FROM statuses WHERE created_at >= $1 AND created_at < $2 \
                AND language IS NOT NULL GROUP BY language ORDER BY n DESC, language LIMIT $3".to_string(),
            Dimension::Sources => "SELECT a.name, COUNT(*) AS n FROM statuses s LEFT JOIN apps a ON a.id = s.app_id \
                WHERE s.created_at >= $1 AND s.created_at < $2 AND s.reblog_of_id IS NULL GROUP BY a.name ORDER BY n DESC, a.name LIMIT $3".to_string(),
            Dimension::TagLanguages(tag) => format!("SELECT s.language, COUNT(*) AS n FROM status_tags t JOIN statuses s ON s.id = t.status_id \
                WHERE t.tag_id = {tag} AND s.created_at >= $1 AND s.created_at < $2 AND s.language IS NOT NULL \
                GROUP BY s.language ORDER BY n DESC, s.language LIMIT $3"),
        };
        read!(self, db => Ok(sqlx::query_as(&sql).bind(from).bind(to).bind(limit as i64).fetch_all(db).await?))
    }

    /// Statuses written in the period (the one server there is, until federation).
    pub async fn statuses_between(&self, from: i64, to: i64) -> Result<i64> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM statuses WHERE created_at >= $1 AND created_at < $2",
        ).bind(from).bind(to).fetch_one(db).await?))
    }

    /// The database's size in bytes, and the stored media's.
    pub async fn space_usage(&self) -> Result<(i64, i64)> {
        let media: i64 = read!(self, db => sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM media_attachments",
        ).fetch_one(db).await?);
        let database: i64 = match self {
            Store::Sqlite { read, .. } => {
                let pages: i64 = sqlx::query_scalar("SELECT page_count FROM pragma_page_count()")
                    .fetch_one(read)
                    .await?;
                let size: i64 = sqlx::query_scalar("SELECT page_size FROM pragma_page_size()")
                    .fetch_one(read)
                    .await?;
                pages * size
            }
            Store::Postgres(pool) => {
                sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(pool)
                    .await?
            }
        };
        Ok((database, media))
    }

    /// The database engine and its version.
    pub async fn database_version(&self) -> Result<(&'static str, String)> {
        Ok(match self {
            Store::Sqlite { read, .. } => (
                "sqlite",
                sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(read)
                    .await?,
            ),
            Store::Postgres(pool) => (
                "postgresql",
                sqlx::query_scalar("SHOW server_version")
                    .fetch_one(pool)
                    .await?,
            ),
        })
    }
}
