//! Cascade's storage: one `Store` with two real backends, SQLite (the embedded default, in
//! WAL mode) and PostgreSQL, both through sqlx.
//!
//! Portable SQL is written once and run on either pool by the `read!`, `write!` and
//! `transaction!` macros, which expand a body once per backend. Where the dialects differ
//! the two versions sit side by side in the same function. The store holds no rules: it
//! answers questions and applies changes that the server's use cases decided on.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod accounts;
mod announcements;
mod annual;
mod away;
mod conversations;
mod dashboard;
mod domains;
mod emojis;
mod federation;
mod filters;
mod graph;
mod instance;
mod jobs;
mod lists;
mod media;
mod moderation;
mod moves;
mod notifications;
mod oauth;
mod polls;
mod profiles;
mod push;
mod reports;
mod scheduled;
mod search;
mod statuses;
mod suggestions;
mod tags;
mod timelines;
mod trends;
#[cfg(test)]
mod twins;
mod virality;
mod watch;

pub use accounts::{Account, AccountUpdate, NewAccount, UserRecord};
pub use announcements::{AnnouncementRecord, ReactionCount};
pub use annual::{AnnualReportRecord, YearFigures};
pub use away::AwayRecord;
pub use conversations::ConversationRecord;
pub use dashboard::{Dimension, Measure};
pub use domains::{DomainBlockRecord, MAX_DOMAIN_BLOCKS};
pub use emojis::EmojiRecord;
pub use federation::{NewRemoteAccount, RemoteActor};
pub use filters::{FilterStatusRecord, FilterUpdate, KeywordRecord};
pub use graph::{Edge, EdgeKind, NewFollow, Relationship};
pub use instance::WeeklyActivity;
pub use jobs::{Job, NewJob, JOB_LEASE_MS};
pub use lists::ListRecord;
pub use media::{removal_payload, MediaRecord, ProfileImage};
pub use moderation::{
    AccountQuery, EmailBlockRecord, IpBlockRecord, ModeratedReport, ReportQuery, WarningRecord,
};
pub use notifications::{
    GroupRow, MarkerRecord, NotificationFilter, NotificationRecord, Owed, PolicyRecord,
    RequestRecord,
};
pub use oauth::{AppRecord, AuthCode, TokenRecord};
pub use polls::{NewPollRecord, PollCounts, PollRecord, VoteOutcome};
pub use profiles::{DirectoryOrder, FeaturedTagRecord};
pub use push::{NewPushDelivery, PushDelivery, PushSubscriptionRecord};
pub use reports::ReportRecord;
pub use scheduled::ScheduledRecord;
pub use search::SearchableStatus;
pub use statuses::{
    DeletedStatus, EditRecord, Mark, NewStatusRecord, Reshare, StatusRecord, ViewerState,
};
pub use tags::{TagDay, TagRecord};
pub use timelines::{range, AccountStatusesFilter, Range};
pub use trends::{EngagementRow, LinkPost, TagUse, TrendCandidate};
pub use virality::{CascadeLink, CascadeNodeRecord, ViewsRecord};
pub use watch::{WatchItem, WatchRecord};

/// A query parameter whose type is only known at run time (dynamic `WHERE` clauses).
pub(crate) enum Arg {
    Int(cascade_core::Id),
    Text(String),
}

/// The store: a closed set of two backends, so an enum and no `dyn`.
#[derive(Clone, Debug)]
pub enum Store {
    /// SQLite allows one writer at a time. Writes go through a pool of one connection so
    /// they queue in-process instead of failing with SQLITE_BUSY; reads use their own pool
    /// and run concurrently thanks to WAL.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("record not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Db(#[source] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_string())
            }
            other => StoreError::Db(other),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Runs a body against the read pool of either backend; `$db` is bound to the pool.
macro_rules! read {
    ($store:expr, $db:ident => $body:expr) => {
        match $store {
            $crate::Store::Sqlite { read: $db, .. } => $body,
            $crate::Store::Postgres($db) => $body,
        }
    };
}

/// Runs a body against the writer of either backend.
macro_rules! write {
    ($store:expr, $db:ident => $body:expr) => {
        match $store {
            $crate::Store::Sqlite { write: $db, .. } => $body,
            $crate::Store::Postgres($db) => $body,
        }
    };
}

/// Runs a body inside one transaction on the writer; `?` in the body rolls back.
macro_rules! transaction {
    ($store:expr, $tx:ident => $body:block) => {
        match $store {
            $crate::Store::Sqlite { write, .. } => {
                let mut $tx = write.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::Store::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

pub(crate) use {read, transaction, write};

/// `$start, $start+1, ...` for `n` bound values: an `IN (...)` list both dialects accept.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, $2), ($3, $4), ...`: the VALUES of a multi-row insert of `rows` rows with
/// `columns` bound values each.
pub(crate) fn rows_placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(r * columns + 1, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// PostgreSQL connections a store keeps at most, unless told otherwise.
pub const DEFAULT_POOL: u32 = 16;

impl Store {
    /// Opens a store from a URL: `postgres://...` or `sqlite://path` (created if missing),
    /// then applies the migrations of that backend.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_pooled(url, DEFAULT_POOL).await
    }

    /// As `connect`, with at most `pool` connections to PostgreSQL (SQLite keeps its own
    /// one writer and eight readers): on a cluster, every node's pool counts against the
    /// server's `max_connections`.
    pub async fn connect_pooled(url: &str, pool: u32) -> Result<Store> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            Store::postgres(options, pool).await?
        } else {
            let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
            Store::sqlite(options).await?
        };
        store.migrate().await?;
        Ok(store)
    }

    /// A PostgreSQL store whose tables live in `schema` (created if missing): tests use one
    /// schema each, so they run in parallel against one database without seeing each other.
    pub async fn connect_postgres_schema(url: &str, schema: &str) -> Result<Store> {
        Store::connect_postgres_schema_pooled(url, schema, DEFAULT_POOL).await
    }

    /// As `connect_postgres_schema`, with at most `pool` connections.
    pub async fn connect_postgres_schema_pooled(
        url: &str,
        schema: &str,
        pool: u32,
    ) -> Result<Store> {
        let base = PgConnectOptions::from_str(url)?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(base.clone())
            .await?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .execute(&admin)
            .await?;
        admin.close().await;
        let options = base.options([("search_path", schema)]);
        let store = Store::postgres(options, pool).await?;
        store.migrate().await?;
        Ok(store)
    }

    async fn postgres(options: PgConnectOptions, pool: u32) -> Result<Store> {
        let pool = PgPoolOptions::new()
            .max_connections(pool.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(Store::Postgres(pool))
    }

    async fn sqlite(options: SqliteConnectOptions) -> Result<Store> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        // No ping before each query: a local file cannot drop a connection the way a
        // network can, and the ping cost a round trip per query.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Store::Sqlite { read, write })
    }

    async fn migrate(&self) -> Result<()> {
        match self {
            Store::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite").run(write).await?,
            Store::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite { .. } => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Each connection pool's name, open connections and idle ones: a pool with no idle
    /// connection makes the next query wait.
    pub fn pool_stats(&self) -> Vec<(&'static str, u32, usize)> {
        match self {
            Store::Sqlite { read, write } => vec![
                ("sqlite_read", read.size(), read.num_idle()),
                ("sqlite_write", write.size(), write.num_idle()),
            ],
            Store::Postgres(pool) => vec![("postgres", pool.size(), pool.num_idle())],
        }
    }

    /// Whether `close` was called: every query fails from then on.
    pub fn is_closed(&self) -> bool {
        match self {
            Store::Sqlite { read, write } => read.is_closed() || write.is_closed(),
            Store::Postgres(pool) => pool.is_closed(),
        }
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Store::Postgres(pool) => pool.close().await,
        }
    }
}
