//! View counting. Every time a status is served for display (a timeline page, the status
//! itself, a thread, an account's posts) it earns one impression, and a signed-in viewer is
//! added to the status's HyperLogLog sketch of distinct viewers.
//!
//! Counting adds no database write to a read: impressions collect in memory and a
//! background task flushes them in batches every [`FLUSH_INTERVAL`]. A crash loses at
//! most the impressions of the last interval. Anonymous impressions count as views but
//! not as distinct viewers (they have no stable identity we are willing to keep). No one
//! can learn *who* viewed: the sketch keeps only the maxima of hashed identities.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use cascade_core::hll::HyperLogLog;
use cascade_core::Id;
use cascade_store::{StoreError, ViewsRecord};

use crate::state::AppState;

/// How often buffered impressions are written.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(2);
/// Distinct viewers kept as plain ids per status before switching to a sketch.
const FEW: usize = 1_024;
/// Statuses with pending impressions beyond which a flush is due at once.
const MAX_PENDING: usize = 50_000;
const HOUR_MS: i64 = 3_600_000;

enum Viewers {
    Few(HashSet<u64>),
    Many(Box<HyperLogLog>),
}

struct Pending {
    views: i64,
    viewers: Viewers,
    hours: BTreeMap<i64, i64>,
}

impl Default for Pending {
    fn default() -> Self {
        Pending {
            views: 0,
            viewers: Viewers::Few(HashSet::new()),
            hours: BTreeMap::new(),
        }
    }
}

impl Pending {
    fn add_viewer(&mut self, viewer: u64) {
        match &mut self.viewers {
            Viewers::Few(ids) => {
                ids.insert(viewer);
                if ids.len() > FEW {
                    let mut sketch = HyperLogLog::new();
                    for id in ids.iter() {
                        sketch.add(*id);
                    }
                    self.viewers = Viewers::Many(Box::new(sketch));
                }
            }
            Viewers::Many(sketch) => sketch.add(viewer),
        }
    }

    fn into_sketch(self, mut sketch: HyperLogLog) -> HyperLogLog {
        match self.viewers {
            Viewers::Few(ids) => ids.into_iter().for_each(|id| sketch.add(id)),
            Viewers::Many(pending) => {
                // Both sketches use the default precision, so merging cannot fail.
                let _ = sketch.merge(&pending);
            }
        }
        sketch
    }
}

/// Impressions not yet written.
#[derive(Default)]
pub struct ViewBuffer {
    pending: Mutex<HashMap<Id, Pending>>,
}

impl ViewBuffer {
    /// Counts one impression of each status for `viewer`. Returns whether the buffer is
    /// full enough that a flush is due now.
    pub fn record(&self, statuses: &[Id], viewer: Option<Id>, now_ms: i64) -> bool {
        let hour = now_ms - now_ms.rem_euclid(HOUR_MS);
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for &id in statuses {
            let p = pending.entry(id).or_default();
            p.views += 1;
            *p.hours.entry(hour).or_default() += 1;
            if let Some(v) = viewer {
                p.add_viewer(v as u64);
            }
        }
        pending.len() >= MAX_PENDING
    }

    /// Impressions of a status not yet flushed.
    pub fn unflushed(&self, id: Id) -> i64 {
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.get(&id).map_or(0, |p| p.views)
    }

    fn take(&self) -> HashMap<Id, Pending> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Writes the buffered impressions: merges each status's pending viewers into its stored
/// sketch and adds the counts, in one transaction per batch.
pub async fn flush(state: &AppState) -> Result<(), StoreError> {
    let pending = state.views.take();
    if pending.is_empty() {
        return Ok(());
    }
    // What this process counted is added to the stored counts, never written over them:
    // several nodes flush the same statuses.
    let mut adds = Vec::with_capacity(pending.len());
    let mut hours = Vec::new();
    for (id, p) in pending {
        hours.extend(p.hours.iter().map(|(&h, &n)| (id, h, n)));
        let views = p.views;
        let sketch = p.into_sketch(HyperLogLog::default());
        adds.push(ViewsRecord {
            status_id: id,
            views,
            reach: 0,
            viewers: sketch.to_bytes(),
        });
    }
    let totals = state.store.add_views(&adds, &hours).await?;
    state.records.views_saved(&totals);
    state.tell(crate::cluster::Message::Forget(
        crate::cluster::Forget::Views(totals.iter().map(|t| t.status_id).collect()),
    ));
    Ok(())
}

/// Flushes impressions until the process ends.
pub async fn run_flusher(state: AppState) {
    loop {
        let _ = tokio::time::timeout(FLUSH_INTERVAL, state.views_due.notified()).await;
        if let Err(e) = flush(&state).await {
            tracing::warn!(error = %e, "flushing view counts failed; they are lost");
        }
    }
}
