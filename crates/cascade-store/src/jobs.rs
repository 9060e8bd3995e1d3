//! Durable background jobs: what a committed write still owes (notifications, fan-out,
//! conversations, index updates, automatic replies). A job row is written in the same
//! transaction as the change that owes it and deleted when the work is done, so a crash
//! between the two loses nothing; its `progress` column lets a worker that crashed halfway
//! through a long job resume from the last finished batch instead of starting over.

use cascade_core::job::{JobKind, Lane};
use cascade_core::Id;
use sqlx::FromRow;

use crate::{placeholders, read, write, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct Job {
    pub id: Id,
    #[sqlx(try_from = "String")]
    pub kind: JobKind,
    /// The status (or account) the job is about.
    pub subject_id: Id,
    /// Who acted (the favouriter, the follower); `None` where the subject says it.
    pub actor_id: Option<Id>,
    /// Whom or what the action was on, where the subject does not say it.
    pub target_id: Option<Id>,
    /// What the job needs that the write itself removed, as the job kind defines it.
    pub payload: Option<String>,
    pub progress: i64,
    pub attempts: i64,
    pub created_at: i64,
}

/// A job to write with the change that owes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub id: Id,
    pub kind: JobKind,
    pub subject_id: Id,
    pub actor_id: Option<Id>,
    pub target_id: Option<Id>,
    pub payload: Option<String>,
    pub created_at: i64,
}

impl NewJob {
    pub fn new(id: Id, kind: JobKind, subject_id: Id, created_at: i64) -> NewJob {
        NewJob {
            id,
            kind,
            subject_id,
            actor_id: None,
            target_id: None,
            payload: None,
            created_at,
        }
    }

    pub fn by(self, actor: Id) -> NewJob {
        NewJob {
            actor_id: Some(actor),
            ..self
        }
    }

    pub fn on(self, target: Id) -> NewJob {
        NewJob {
            target_id: Some(target),
            ..self
        }
    }

    pub fn carrying(self, payload: String) -> NewJob {
        NewJob {
            payload: Some(payload),
            ..self
        }
    }
}

/// Writes jobs inside the transaction `$tx` of the change that owes them.
macro_rules! insert_jobs {
    ($tx:ident, $jobs:expr) => {
        for j in $jobs {
            sqlx::query(
                "INSERT INTO jobs (id, kind, subject_id, actor_id, target_id, payload, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(j.id)
            .bind(j.kind.as_str())
            .bind(j.subject_id)
            .bind(j.actor_id)
            .bind(j.target_id)
            .bind(&j.payload)
            .bind(j.created_at)
            .execute(&mut *$tx)
            .await?;
        }
    };
}
pub(crate) use insert_jobs;

const COLUMNS: &str =
    "id, kind, subject_id, actor_id, target_id, payload, progress, attempts, created_at";

impl Store {
    /// The oldest pending jobs of a lane, after `after` (the last one a worker took).
    pub async fn pending_jobs(&self, lane: Lane, after: Id, limit: usize) -> Result<Vec<Job>> {
        let kinds: Vec<&str> = lane.kinds().map(JobKind::as_str).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE kind IN ({}) AND id > ${} ORDER BY id LIMIT ${}",
            placeholders(1, kinds.len()),
            kinds.len() + 1,
            kinds.len() + 2
        );
        read!(self, db => {
            let mut q = sqlx::query_as(&sql);
            for k in &kinds {
                q = q.bind(*k);
            }
            Ok(q.bind(after).bind(limit as i64).fetch_all(db).await?)
        })
    }

    /// Writes jobs on their own, for work that owes more work (a job that schedules
    /// another).
    pub async fn enqueue_jobs(&self, jobs: &[NewJob]) -> Result<()> {
        crate::transaction!(self, tx => {
            insert_jobs!(tx, jobs);
        });
        Ok(())
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

    /// Jobs waiting, by kind, with the creation time of the oldest of each kind.
    pub async fn jobs_by_kind(&self) -> Result<Vec<(String, i64, i64)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT kind, COUNT(*), MIN(created_at) FROM jobs GROUP BY kind"
        ).fetch_all(db).await?))
    }

    pub async fn count_jobs(&self) -> Result<i64> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM jobs").fetch_one(db).await?))
    }
}
