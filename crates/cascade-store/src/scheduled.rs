//! Scheduled statuses: posted later by the clock. The row is the promise: it stays until
//! the status is published, so a restart loses none.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, transaction, write, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ScheduledRecord {
    pub id: Id,
    pub account_id: Id,
    pub scheduled_at: i64,
    /// The status's parameters, as JSON (the server's to read).
    pub params: String,
    pub idem_key: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, account_id, scheduled_at, params, idem_key, created_at";

impl Store {
    /// Writes a scheduled status; with an idempotency key `account` used before, nothing
    /// is written and the earlier one's id is returned.
    pub async fn schedule_status(&self, s: &ScheduledRecord, media: &[Id]) -> Result<Id> {
        let reserve = format!(
            "UPDATE media_attachments SET scheduled_status_id = $1 WHERE status_id IS NULL \
             AND scheduled_status_id IS NULL AND id IN ({})",
            crate::placeholders(2, media.len().max(1))
        );
        transaction!(self, tx => {
            let added = sqlx::query(
                "INSERT INTO scheduled_statuses (id, account_id, scheduled_at, params, idem_key, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(s.id).bind(s.account_id).bind(s.scheduled_at).bind(&s.params).bind(&s.idem_key).bind(s.created_at)
            .execute(&mut *tx).await?.rows_affected();
            // The uploads are kept for it, all or none: one another status took first
            // refuses the whole scheduling.
            if added == 1 && !media.is_empty() {
                let mut q = sqlx::query(&reserve).bind(s.id);
                for id in media { q = q.bind(*id); }
                if q.execute(&mut *tx).await?.rows_affected() != media.len() as u64 {
                    return Err(crate::StoreError::Conflict("media".into()));
                }
            }
        });
        match &s.idem_key {
            Some(key) => read!(self, db => Ok(sqlx::query_scalar(
                "SELECT id FROM scheduled_statuses WHERE account_id = $1 AND idem_key = $2",
            ).bind(s.account_id).bind(key).fetch_optional(db).await?.unwrap_or(s.id))),
            None => Ok(s.id),
        }
    }

    /// One of `account`'s scheduled statuses.
    pub async fn scheduled_status(&self, account: Id, id: Id) -> Result<ScheduledRecord> {
        let sql =
            format!("SELECT {COLUMNS} FROM scheduled_statuses WHERE id = $1 AND account_id = $2");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(id).bind(account).fetch_one(db).await?))
    }

    /// A page of `account`'s scheduled statuses, newest first by id.
    pub async fn scheduled_statuses(
        &self,
        account: Id,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<ScheduledRecord>> {
        let ascending = min_id.is_some() && max_id.is_none();
        let order = if ascending { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM scheduled_statuses WHERE account_id = $1 AND id < $2 AND id > $3 \
             ORDER BY id {order} LIMIT $4"
        );
        let mut rows: Vec<ScheduledRecord> = read!(self, db => sqlx::query_as(&sql)
            .bind(account).bind(max_id.unwrap_or(i64::MAX)).bind(min_id.unwrap_or(i64::MIN)).bind(limit as i64)
            .fetch_all(db).await?);
        if ascending {
            rows.reverse();
        }
        Ok(rows)
    }

    /// How many statuses `account` has scheduled in all, and between `from` and `to`.
    pub async fn count_scheduled(&self, account: Id, from: i64, to: i64) -> Result<(i64, i64)> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN scheduled_at >= $2 AND scheduled_at < $3 THEN 1 ELSE 0 END), 0) \
             FROM scheduled_statuses WHERE account_id = $1",
        ).bind(account).bind(from).bind(to).fetch_one(db).await?))
    }

    /// Moves one of `account`'s scheduled statuses; false when it has none of that id.
    pub async fn reschedule(&self, account: Id, id: Id, at: i64) -> Result<bool> {
        Ok(write!(self, db => sqlx::query(
            "UPDATE scheduled_statuses SET scheduled_at = $1 WHERE id = $2 AND account_id = $3",
        ).bind(at).bind(id).bind(account).execute(db).await?.rows_affected())
            == 1)
    }

    /// Removes one of `account`'s scheduled statuses; false when it has none of that id.
    pub async fn cancel_scheduled(&self, account: Id, id: Id) -> Result<bool> {
        Ok(transaction!(self, tx => {
            let removed = sqlx::query("DELETE FROM scheduled_statuses WHERE id = $1 AND account_id = $2")
                .bind(id).bind(account).execute(&mut *tx).await?.rows_affected();
            // Its uploads become unattached again, for the sweep to take in time.
            sqlx::query("UPDATE media_attachments SET scheduled_status_id = NULL WHERE scheduled_status_id = $1")
                .bind(id).execute(&mut *tx).await?;
            removed
        }) == 1)
    }

    /// The scheduled statuses due by `now`, earliest first.
    pub async fn due_scheduled(&self, now: i64, limit: usize) -> Result<Vec<ScheduledRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM scheduled_statuses WHERE scheduled_at <= $1 ORDER BY scheduled_at, id LIMIT $2"
        );
        read!(self, db => Ok(sqlx::query_as(&sql).bind(now).bind(limit as i64).fetch_all(db).await?))
    }

    /// Forgets a scheduled status once it is published (or can never be).
    pub async fn scheduled_done(&self, id: Id) -> Result<()> {
        transaction!(self, tx => {
            sqlx::query("DELETE FROM scheduled_statuses WHERE id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("UPDATE media_attachments SET scheduled_status_id = NULL WHERE scheduled_status_id = $1")
                .bind(id).execute(&mut *tx).await?;
        });
        Ok(())
    }
}
