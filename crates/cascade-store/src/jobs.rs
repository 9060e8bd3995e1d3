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

/// How long a claimed job is held before another worker may claim it: the worker renews
/// it while the job runs (`renew_claims`, a third of the lease apart, and each time the
/// job saves progress), so only a node that died (or stalled that long) loses it.
pub const JOB_LEASE_MS: i64 = 10_000;

const COLUMNS: &str =
    "id, kind, subject_id, actor_id, target_id, payload, progress, attempts, created_at";

impl Store {
    /// The oldest pending jobs of a lane, after `after` (the last one a worker took).
    pub async fn pending_jobs(&self, lane: Lane, after: Id, limit: usize) -> Result<Vec<Job>> {
        let kinds: Vec<&str> = lane.kinds().map(JobKind::as_str).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE kind IN ({}) AND id > ${} \
             AND (run_after IS NULL OR run_after <= ${}) ORDER BY id LIMIT ${}",
            placeholders(1, kinds.len()),
            kinds.len() + 1,
            kinds.len() + 2,
            kinds.len() + 3
        );
        let now = cascade_core::time::now_millis();
        read!(self, db => {
            let mut q = sqlx::query_as(&sql);
            for k in &kinds {
                q = q.bind(*k);
            }
            Ok(q.bind(after).bind(now).bind(limit as i64).fetch_all(db).await?)
        })
    }

    /// Claims the oldest pending jobs of a lane after `after` for `node`: on PostgreSQL,
    /// rows no other worker holds (`FOR UPDATE SKIP LOCKED`) and whose lease is free or ran
    /// out, each held for `JOB_LEASE_MS`, so several nodes never run one job at once. On
    /// SQLite (one process, one worker) it is `pending_jobs`.
    pub async fn claim_jobs(
        &self,
        lane: Lane,
        after: Id,
        limit: usize,
        node: &str,
    ) -> Result<Vec<Job>> {
        let Store::Postgres(db) = self else {
            return self.pending_jobs(lane, after, limit).await;
        };
        let kinds: Vec<&str> = lane.kinds().map(JobKind::as_str).collect();
        let n = kinds.len();
        let sql = format!(
            "UPDATE jobs SET claimed_by = ${}, claimed_until = ${} WHERE id IN (\
               SELECT id FROM jobs WHERE kind IN ({}) AND id > ${} \
               AND (claimed_until IS NULL OR claimed_until < ${}) \
               AND (run_after IS NULL OR run_after <= ${}) \
               ORDER BY id LIMIT ${} FOR UPDATE SKIP LOCKED) \
             RETURNING {COLUMNS}",
            n + 1,
            n + 2,
            placeholders(1, n),
            n + 3,
            n + 4,
            n + 4,
            n + 5,
        );
        let now = cascade_core::time::now_millis();
        let mut q = sqlx::query_as(&sql);
        for k in &kinds {
            q = q.bind(*k);
        }
        let mut jobs: Vec<Job> = q
            .bind(node)
            .bind(now + JOB_LEASE_MS)
            .bind(after)
            .bind(now)
            .bind(limit as i64)
            .fetch_all(db)
            .await?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// Renews `node`'s leases on these jobs (those still pending): it is still at them.
    pub async fn renew_claims(&self, ids: &[Id], node: &str) -> Result<()> {
        let Store::Postgres(db) = self else {
            return Ok(());
        };
        sqlx::query("UPDATE jobs SET claimed_until = $1 WHERE claimed_by = $2 AND id = ANY($3)")
            .bind(cascade_core::time::now_millis() + JOB_LEASE_MS)
            .bind(node)
            .bind(ids)
            .execute(db)
            .await?;
        Ok(())
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
        // Saving progress renews a claimed job's lease: the worker is alive.
        let until = cascade_core::time::now_millis() + JOB_LEASE_MS;
        write!(self, db => sqlx::query(
            "UPDATE jobs SET progress = $1, \
             claimed_until = CASE WHEN claimed_until IS NULL THEN NULL ELSE $3 END WHERE id = $2"
        ).bind(progress).bind(id).bind(until).execute(db).await?.rows_affected());
        Ok(())
    }

    /// Counts a failed attempt; the job is let go, so a later pass (of any node) tries it
    /// again, not before `retry_at` when there is one.
    pub async fn job_failed(&self, id: Id, retry_at: Option<i64>) -> Result<()> {
        write!(self, db => sqlx::query(
            "UPDATE jobs SET attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL, run_after = $2 WHERE id = $1"
        ).bind(id).bind(retry_at).execute(db).await?.rows_affected());
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
