//! Spam likelihood of accounts (`core::spam`), from their signals in the store, remembered
//! while the account neither posts nor follows (its statuses and following counts are
//! unchanged) and for at most a few minutes: judging the sender of every notification of a
//! burst must not cost three queries each time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cascade_core::spam::{self, Assessment, Signals};
use cascade_core::{time, Id};
use cascade_store::Account;

use crate::error::ApiResult;
use crate::state::AppState;

/// How long an assessment is reused.
const TTL: Duration = Duration::from_secs(300);
/// Assessments kept at most; beyond it the cache starts over.
const MAX_CACHED: usize = 100_000;
/// Recent posts looked at.
const RECENT_POSTS: usize = 20;

/// A remembered assessment, and the counts it was made at.
struct Entry {
    at: Instant,
    counts: (i64, i64),
    assessment: Arc<Assessment>,
}

#[derive(Default)]
pub struct SpamCache {
    entries: Mutex<HashMap<Id, Entry>>,
}

impl SpamCache {
    /// Forgets an account's assessment: it was reported.
    pub fn forget(&self, account: Id) {
        lock(self).remove(&account);
    }

    /// Forgets every assessment: this node may have missed reports (a NATS cut).
    pub fn forget_all(&self) {
        lock(self).clear();
    }
}

/// The assessment of an account, from the cache when it is fresh.
pub async fn assess(state: &AppState, account: Id) -> ApiResult<Arc<Assessment>> {
    let record = state.store.account(account).await?;
    assess_record(state, &record).await
}

/// The same for an account record already loaded.
pub async fn assess_record(state: &AppState, record: &Account) -> ApiResult<Arc<Assessment>> {
    let account = record.id;
    let counts = (record.statuses_count, record.following_count);
    if let Some(e) = lock(&state.spam).get(&account) {
        if e.at.elapsed() < TTL && e.counts == counts {
            return Ok(e.assessment.clone());
        }
    }
    let now = time::now_millis();
    let signals = Signals {
        age_days: (now - record.created_at) as f64 / 86_400_000.0,
        followers: record.followers_count,
        following: record.following_count,
        follows_last_hour: state.store.follows_since(account, now - 3_600_000).await?,
        recent_texts: state.store.recent_texts(account, RECENT_POSTS).await?,
        reporters: state
            .store
            .reporters_since(
                account,
                now - 30 * 86_400_000,
                now - spam::REPORTER_MIN_AGE_DAYS * 86_400_000,
            )
            .await?,
    };
    let assessment = Arc::new(spam::assess(&signals));
    let mut cache = lock(&state.spam);
    if cache.len() >= MAX_CACHED {
        cache.clear();
    }
    let entry = Entry {
        at: Instant::now(),
        counts,
        assessment: assessment.clone(),
    };
    cache.insert(account, entry);
    Ok(assessment)
}

fn lock(cache: &SpamCache) -> std::sync::MutexGuard<'_, HashMap<Id, Entry>> {
    cache.entries.lock().unwrap_or_else(|p| p.into_inner())
}
