//! The job worker: performs what committed writes owe (`app::delivery`), lane by lane, so
//! that a notification never waits behind a walk over a million followers. Jobs are read
//! from the durable `jobs` table in id order and deleted once done; a job that fails is
//! retried on a later pass, five times at most (deliveries to other servers back off for
//! about two days: `JobKind::retry_delay_ms`). Nothing here decides what a job does.
//! On PostgreSQL, several nodes' workers share the table: each claims a job for a lease
//! before it runs it (`Store::claim_jobs`), so one job runs on one node at a time, and a
//! job whose node died is claimed again once its lease runs out.

use std::time::Duration;

use cascade_core::job::Lane;
use cascade_core::Id;
use cascade_store::{Job, StoreError};
use futures_util::stream::{self, StreamExt};

use crate::app::delivery;
use crate::state::AppState;

/// Jobs read per query.
const BATCH: usize = 64;
/// Effects jobs run at once: they wait mostly on the store, and may run in any order.
const CONCURRENT_EFFECTS: usize = 8;
/// Fan-out jobs at once: a burst of reshares (each a walk over the resharer's followers)
/// must not hold a celebrity's post back until every one of them is done.
const CONCURRENT_FANOUTS: usize = 4;
/// Deliveries to other servers at once: each waits on the network, not on the store.
const CONCURRENT_DELIVERIES: usize = 8;

/// Runs the worker's lanes until the process ends.
pub async fn run(state: AppState) {
    let lanes = Lane::ALL.map(|lane| {
        let state = state.clone();
        tokio::spawn(async move { run_lane(&state, lane).await })
    });
    for lane in lanes {
        let _ = lane.await;
    }
}

async fn run_lane(state: &AppState, lane: Lane) {
    loop {
        if let Err(e) = drain_lane(state, lane).await {
            tracing::warn!(error = %e, ?lane, "a pass over the jobs failed; retrying");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), state.jobs.wait(lane)).await;
    }
}

/// Runs pending jobs until none is left. Tests and benchmarks call this to make the
/// consequences of their writes deterministic.
pub async fn drain(state: &AppState) -> Result<(), StoreError> {
    // Effects may write more jobs (an automatic reply owes its delivery and fan-out), and
    // a failed job waits for the next pass: go on until every lane is empty.
    loop {
        for lane in Lane::ALL {
            drain_lane(state, lane).await?;
        }
        let mut left = false;
        for lane in Lane::ALL {
            left |= !state.store.pending_jobs(lane, 0, 1).await?.is_empty();
        }
        if !left {
            return Ok(());
        }
    }
}

/// One pass over a lane: every job pending at its start, and those written meanwhile.
async fn drain_lane(state: &AppState, lane: Lane) -> Result<(), StoreError> {
    let mut after: Id = 0;
    loop {
        let width = match lane {
            Lane::Fanout => CONCURRENT_FANOUTS,
            Lane::Effects => CONCURRENT_EFFECTS,
            Lane::Outbox => CONCURRENT_DELIVERIES,
        };
        // On PostgreSQL a pass claims only what it runs at once: a claimed job waits for
        // no one else's, so its lease covers its own run, not the batch's.
        let take = if state.store.backend() == "postgres" {
            width
        } else {
            BATCH
        };
        let jobs = state
            .store
            .claim_jobs(lane, after, take, &state.node)
            .await?;
        let Some(last) = jobs.last() else {
            return Ok(());
        };
        after = last.id;
        let ids: Vec<Id> = jobs.iter().map(|j| j.id).collect();
        let run = stream::iter(jobs)
            .map(|job| async move { perform(state, &job).await })
            .buffer_unordered(width)
            .collect::<Vec<Result<(), StoreError>>>();
        // While the claimed jobs run, their leases are renewed, so that no other node
        // takes a long one over; a node that dies stops renewing.
        let renew = async {
            let every = Duration::from_millis(cascade_store::JOB_LEASE_MS as u64 / 3);
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = state.store.renew_claims(&ids, &state.node).await {
                    tracing::warn!(error = %e, "the leases of running jobs were not renewed");
                }
            }
        };
        let outcomes = tokio::select! {
            outcomes = run => outcomes,
            _ = renew => unreachable!("renewing never ends"),
        };
        outcomes.into_iter().collect::<Result<(), StoreError>>()?;
    }
}

/// Performs a job and deletes it; a failure counts an attempt, and the last one gives up.
async fn perform(state: &AppState, job: &Job) -> Result<(), StoreError> {
    match delivery::run(state, job).await {
        Ok(()) => {
            state.store.finish_job(job.id).await?;
            let lane = job.kind.lane();
            let latency = cascade_core::time::now_millis() - job.created_at;
            state.jobs.done(lane, latency);
            let lane_name = match lane {
                Lane::Fanout => "fanout",
                Lane::Effects => "effects",
                Lane::Outbox => "outbox",
            };
            state
                .metrics
                .job_done(job.kind.as_str(), lane_name, latency);
            Ok(())
        }
        Err(e) => {
            tracing::warn!(job = job.id, kind = %job.kind, error = %e, "a job failed");
            state.metrics.job_failed(job.kind.as_str());
            let attempts = job.attempts + 1;
            let retry_at = job
                .kind
                .retry_delay_ms(attempts)
                .map(|delay| cascade_core::time::now_millis() + delay);
            state.store.job_failed(job.id, retry_at).await?;
            if attempts >= job.kind.max_attempts() {
                tracing::error!(job = job.id, kind = %job.kind, "a job failed too often; giving up");
                state.store.finish_job(job.id).await?;
            }
            Ok(())
        }
    }
}
