//! What the virality features store: each reshare's place in its cascade, impressions and
//! distinct-viewer sketches per status, hourly view counts, and the sketch of accounts a
//! cascade reached. Sketches are opaque bytes here; the server merges them.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{placeholders, read, transaction, write, Result, Store};

/// A status's place in a cascade, written with the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CascadeLink {
    /// The original status at the root of the cascade.
    pub root_id: Id,
    /// The status the resharer saw it through (the root, or a reshare of it).
    pub parent_id: Id,
    /// The resharer's follower count when it reshared.
    pub followers: i64,
}

/// One node of a cascade as stored: the root or a reshare of it.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct CascadeNodeRecord {
    pub id: Id,
    pub account_id: Id,
    pub parent_id: Option<Id>,
    pub reblog_of_id: Option<Id>,
    pub quote_of_id: Option<Id>,
    pub created_at: i64,
    pub followers: i64,
    pub exposed: Option<i64>,
    pub visibility: i64,
}

/// Stored view counts of a status.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ViewsRecord {
    pub status_id: Id,
    pub views: i64,
    pub reach: i64,
    pub viewers: Vec<u8>,
}

impl Store {
    /// The root and every reshare of a cascade, in id (time) order. Reblogs of reblogs
    /// do not exist (a reblog of a reblog reblogs the original), so the nodes are the root,
    /// its reblogs and quotes, and reblogs and quotes of those quotes.
    pub async fn cascade_nodes(&self, root: Id) -> Result<Vec<CascadeNodeRecord>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT s.id, s.account_id, s.cascade_parent_id AS parent_id, s.reblog_of_id, s.quote_of_id, s.created_at, \
                    CASE WHEN s.id = $1 THEN a.followers_count ELSE s.cascade_followers END AS followers, \
                    s.cascade_exposed AS exposed, s.visibility \
             FROM statuses s JOIN accounts a ON a.id = s.account_id \
             WHERE s.id = $1 OR s.cascade_root_id = $1 ORDER BY s.id",
        ).bind(root).fetch_all(db).await?))
    }

    /// The cascade a status belongs to: its root's id (itself for a root).
    pub async fn cascade_root_of(&self, id: Id) -> Result<Id> {
        let root: Option<Id> = read!(self, db => sqlx::query_scalar(
            "SELECT cascade_root_id FROM statuses WHERE id = $1",
        ).bind(id).fetch_one(db).await?);
        Ok(root.unwrap_or(id))
    }

    /// The latest reshare of `original` (a reblog or quote of it) before `before` by one
    /// of `accounts`: the Goel et al. inference of where a resharer saw the post.
    pub async fn latest_reshare_by(
        &self,
        original: Id,
        accounts: &[Id],
        before: Id,
    ) -> Result<Option<Id>> {
        let mut best: Option<Id> = None;
        for chunk in accounts.chunks(500) {
            let sql = format!(
                "SELECT MAX(id) FROM statuses WHERE (reblog_of_id = $1 OR quote_of_id = $1) AND id < $2 AND account_id IN ({})",
                placeholders(3, chunk.len())
            );
            let found: Option<Id> = read!(self, db => {
                let mut q = sqlx::query_scalar(&sql).bind(original).bind(before);
                for a in chunk { q = q.bind(*a); }
                q.fetch_one(db).await?
            });
            best = best.max(found);
        }
        Ok(best)
    }

    /// Among `entries` (a home timeline), the newest reblog or quote of `original`: the
    /// entry that delivered it to the reader.
    pub async fn delivering_entry(&self, entries: &[Id], original: Id) -> Result<Option<Id>> {
        let mut best: Option<Id> = None;
        for chunk in entries.chunks(500) {
            let sql = format!(
                "SELECT MAX(id) FROM statuses WHERE (reblog_of_id = $1 OR quote_of_id = $1) AND id IN ({})",
                placeholders(2, chunk.len())
            );
            let found: Option<Id> = read!(self, db => {
                let mut q = sqlx::query_scalar(&sql).bind(original);
                for e in chunk { q = q.bind(*e); }
                q.fetch_one(db).await?
            });
            best = best.max(found);
        }
        Ok(best)
    }

    /// Sets the cascade links (and, where known, the accounts each exposed) of statuses
    /// written without them: the demo world's bulk reshares.
    pub async fn set_cascade_links(
        &self,
        links: &[(Id, Option<CascadeLink>, Option<i64>)],
    ) -> Result<()> {
        for chunk in links.chunks(500) {
            transaction!(self, tx => {
                for (id, link, exposed) in chunk {
                    if let Some(link) = link {
                        sqlx::query("UPDATE statuses SET cascade_root_id = $1, cascade_parent_id = $2, cascade_followers = $3 WHERE id = $4")
                            .bind(link.root_id).bind(link.parent_id).bind(link.followers).bind(*id)
                            .execute(&mut *tx).await?;
                    }
                    sqlx::query("UPDATE statuses SET cascade_exposed = $1 WHERE id = $2")
                        .bind(*exposed).bind(*id).execute(&mut *tx).await?;
                }
            });
        }
        Ok(())
    }

    /// Records how many new accounts a reshare exposed its cascade to.
    pub async fn set_exposed(&self, status: Id, exposed: i64) -> Result<()> {
        write!(self, db => sqlx::query("UPDATE statuses SET cascade_exposed = $1 WHERE id = $2")
            .bind(exposed).bind(status).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn exposure_sketch(&self, root: Id) -> Result<Option<Vec<u8>>> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT sketch FROM cascade_exposure WHERE root_id = $1")
            .bind(root).fetch_optional(db).await?))
    }

    /// Merges `add` into a cascade's stored exposure sketch under the row's lock, so that
    /// fan-outs of one cascade on several nodes never overwrite each other's reach (the
    /// row is made empty first, so two first merges take turns too). Returns the stored
    /// estimate before and after.
    pub async fn merge_exposure_sketch(&self, root: Id, add: &[u8]) -> Result<(u64, u64)> {
        use cascade_core::hll::HyperLogLog;
        let lock = match self {
            Store::Postgres(_) => " FOR UPDATE",
            Store::Sqlite { .. } => "",
        };
        let select = format!("SELECT sketch FROM cascade_exposure WHERE root_id = $1{lock}");
        let empty = HyperLogLog::new().to_bytes();
        let out: (u64, u64);
        transaction!(self, tx => {
            sqlx::query(
                "INSERT INTO cascade_exposure (root_id, sketch) VALUES ($1, $2) \
                 ON CONFLICT (root_id) DO NOTHING",
            )
            .bind(root).bind(&empty).execute(&mut *tx).await?;
            let stored: Vec<u8> = sqlx::query_scalar(&select).bind(root).fetch_one(&mut *tx).await?;
            let mut sketch = HyperLogLog::from_bytes(&stored).unwrap_or_default();
            let before = sketch.estimate();
            if let Ok(add) = HyperLogLog::from_bytes(add) {
                // Both use the default precision, so merging cannot fail.
                let _ = sketch.merge(&add);
            }
            sqlx::query("UPDATE cascade_exposure SET sketch = $1 WHERE root_id = $2")
                .bind(sketch.to_bytes()).bind(root).execute(&mut *tx).await?;
            out = (before, sketch.estimate());
        });
        Ok(out)
    }

    pub async fn save_exposure_sketch(&self, root: Id, sketch: &[u8]) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO cascade_exposure (root_id, sketch) VALUES ($1, $2) \
             ON CONFLICT (root_id) DO UPDATE SET sketch = excluded.sketch",
        ).bind(root).bind(sketch).execute(db).await?.rows_affected());
        Ok(())
    }

    /// Stored view counts of the given statuses (absent ones have none yet).
    pub async fn views(&self, ids: &[Id], with_sketch: bool) -> Result<Vec<ViewsRecord>> {
        let mut out = Vec::new();
        let sketch = if with_sketch {
            "viewers"
        } else {
            "CAST('' AS BLOB) AS viewers"
        };
        for chunk in ids.chunks(500) {
            let sql = match self {
                Store::Postgres(_) => format!(
                    "SELECT status_id, views, reach, {} FROM status_views WHERE status_id IN ({})",
                    if with_sketch { "viewers" } else { "CAST('' AS BYTEA) AS viewers" },
                    placeholders(1, chunk.len())
                ),
                Store::Sqlite { .. } => format!(
                    "SELECT status_id, views, reach, {sketch} FROM status_views WHERE status_id IN ({})",
                    placeholders(1, chunk.len())
                ),
            };
            let rows: Vec<ViewsRecord> = read!(self, db => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk { q = q.bind(*id); }
                q.fetch_all(db).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Adds buffered impressions to the stored ones: each record's `views` is added to the
    /// stored count and its `viewers` sketch merged into the stored sketch, under the
    /// row's lock, so several nodes flushing the same status lose nothing (never a total
    /// read earlier and written back). Rows are locked in id order, so two flushes never
    /// deadlock. Returns the stored totals; statuses deleted meanwhile are skipped.
    pub async fn add_views(
        &self,
        adds: &[ViewsRecord],
        hours: &[(Id, i64, i64)],
    ) -> Result<Vec<ViewsRecord>> {
        let mut adds: Vec<&ViewsRecord> = adds.iter().collect();
        adds.sort_by_key(|v| v.status_id);
        let lock = match self {
            Store::Postgres(_) => " FOR UPDATE",
            Store::Sqlite { .. } => "",
        };
        let select = format!("SELECT viewers FROM status_views WHERE status_id = $1{lock}");
        let empty = cascade_core::hll::HyperLogLog::new().to_bytes();
        let mut totals = Vec::with_capacity(adds.len());
        transaction!(self, tx => {
            for v in &adds {
                // An empty row first, so that two first flushes of a status take turns
                // at its lock too.
                sqlx::query(
                    "INSERT INTO status_views (status_id, views, reach, viewers) \
                     SELECT $1, 0, 0, $2 WHERE EXISTS (SELECT 1 FROM statuses WHERE id = $1) \
                     ON CONFLICT (status_id) DO NOTHING",
                )
                .bind(v.status_id).bind(&empty)
                .execute(&mut *tx).await?;
                let stored: Option<Vec<u8>> = sqlx::query_scalar(&select)
                    .bind(v.status_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                // No row: the status was deleted meanwhile.
                let Some(stored) = stored else { continue };
                let mut sketch = cascade_core::hll::HyperLogLog::from_bytes(&stored)
                    .unwrap_or_default();
                if let Ok(pending) = cascade_core::hll::HyperLogLog::from_bytes(&v.viewers) {
                    // Both use the default precision, so merging cannot fail.
                    let _ = sketch.merge(&pending);
                }
                let reach = sketch.estimate() as i64;
                let viewers = sketch.to_bytes();
                let views: i64 = sqlx::query_scalar(
                    "UPDATE status_views SET views = views + $1, reach = $2, viewers = $3 \
                     WHERE status_id = $4 RETURNING views",
                )
                .bind(v.views).bind(reach).bind(&viewers).bind(v.status_id)
                .fetch_one(&mut *tx).await?;
                totals.push(ViewsRecord { status_id: v.status_id, views, reach, viewers });
            }
            for (status, hour, delta) in hours {
                sqlx::query(
                    "INSERT INTO status_view_hours (status_id, hour, views) \
                     SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM statuses WHERE id = $1) \
                     ON CONFLICT (status_id, hour) DO UPDATE SET views = status_view_hours.views + excluded.views",
                )
                .bind(*status).bind(*hour).bind(*delta)
                .execute(&mut *tx).await?;
            }
        });
        Ok(totals)
    }

    /// Hourly views of the given statuses: `(hour start in ms, views)` summed over them.
    pub async fn view_hours(&self, ids: &[Id]) -> Result<Vec<(i64, i64)>> {
        let mut totals: std::collections::BTreeMap<i64, i64> = Default::default();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT hour, views FROM status_view_hours WHERE status_id IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<(i64, i64)> = read!(self, db => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk { q = q.bind(*id); }
                q.fetch_all(db).await?
            });
            for (hour, views) in rows {
                *totals.entry(hour).or_default() += views;
            }
        }
        Ok(totals.into_iter().collect())
    }

    pub async fn set_public_view_counts(&self, account: Id, public: bool) -> Result<()> {
        write!(self, db => sqlx::query("UPDATE accounts SET public_view_counts = $1 WHERE id = $2")
            .bind(public).bind(account).execute(db).await?.rows_affected());
        Ok(())
    }
}
