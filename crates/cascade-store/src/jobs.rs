//! Durable background jobs. A job row is written in the same transaction as the change
//! that needs it and deleted when the work is done; its `progress` column lets a worker
//! that crashed halfway resume from the last finished batch instead of starting over.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, write, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct Job {
    pub id: Id,
    pub kind: String,
    pub subject_id: Id,
    pub progress: i64,
    pub attempts: i64,
}

impl Store {
    /// The oldest pending jobs.
    pub async fn pending_jobs(&self, limit: usize) -> Result<Vec<Job>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT id, kind, subject_id, progress, attempts FROM jobs ORDER BY id LIMIT $1",
        ).bind(limit as i64).fetch_all(db).await?))
    }

    pub async fn job_progress(&self, id: Id, progress: i64) -> Result<()> {
        write!(self, db => sqlx::query("UPDATE jobs SET progress = $1 WHERE id = $2").bind(progress).bind(id).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn job_failed(&self, id: Id) -> Result<()> {
        write!(self, db => sqlx::query("UPDATE jobs SET attempts = attempts + 1 WHERE id = $1").bind(id).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn finish_job(&self, id: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM jobs WHERE id = $1").bind(id).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn count_jobs(&self) -> Result<i64> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM jobs").fetch_one(db).await?))
    }
}
