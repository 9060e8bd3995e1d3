//! Reports that users file against accounts.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, transaction, write, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ReportRecord {
    pub id: Id,
    pub account_id: Id,
    pub target_account_id: Id,
    pub category: String,
    pub comment: String,
    /// The attached statuses' ids, comma-separated.
    pub status_ids: String,
    pub created_at: i64,
}

impl Store {
    /// Writes a report with what it owes (the `Flag` forwarding it to the reported
    /// account's server), in one transaction: a report is never forwarded without being
    /// kept, nor kept with its forwarding lost.
    pub async fn create_report(&self, r: &ReportRecord, owed: &[crate::NewJob]) -> Result<()> {
        transaction!(self, tx => {
            sqlx::query(
                "INSERT INTO reports (id, account_id, target_account_id, category, comment, status_ids, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            ).bind(r.id).bind(r.account_id).bind(r.target_account_id).bind(&r.category).bind(&r.comment)
            .bind(&r.status_ids).bind(r.created_at).execute(&mut *tx).await?;
            crate::jobs::insert_jobs!(tx, owed);
        });
        Ok(())
    }

    /// How many distinct accounts reported `target` since `since`, counting only
    /// reporters created at `reporters_before` or earlier and not suspended.
    pub async fn reporters_since(
        &self,
        target: Id,
        since: i64,
        reporters_before: i64,
    ) -> Result<i64> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT COUNT(DISTINCT r.account_id) FROM reports r JOIN accounts a ON a.id = r.account_id \
             WHERE r.target_account_id = $1 AND r.created_at >= $2 \
             AND a.created_at <= $3 AND a.suspended_at IS NULL",
        ).bind(target).bind(since).bind(reporters_before).fetch_one(db).await?))
    }

    /// The newest reports, for moderators.
    pub async fn recent_reports(&self, limit: usize) -> Result<Vec<ReportRecord>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT id, account_id, target_account_id, category, comment, status_ids, created_at FROM reports ORDER BY id DESC LIMIT $1",
        ).bind(limit as i64).fetch_all(db).await?))
    }

    /// Suspends an account (or, with `None`, lifts it). False when there is no such account.
    pub async fn set_suspended(&self, account: Id, at: Option<i64>) -> Result<bool> {
        Ok(
            write!(self, db => sqlx::query("UPDATE accounts SET suspended_at = $1 WHERE id = $2")
            .bind(at).bind(account).execute(db).await?.rows_affected())
                == 1,
        )
    }
}
