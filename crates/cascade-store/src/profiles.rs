//! What an account keeps about others and shows on its profile: private notes, endorsed
//! accounts, featured hashtags; the threads it muted; and the profile directory.

use cascade_core::Id;
use sqlx::FromRow;

use crate::graph::Edge;
use crate::{placeholders, read, write, Result, Store};

/// A featured hashtag with the featuring account's use of it (public and unlisted
/// statuses, as Mastodon counts).
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct FeaturedTagRecord {
    pub id: Id,
    pub tag_id: Id,
    pub name: String,
    pub statuses_count: i64,
    pub last_status_at: Option<i64>,
}

/// How the directory is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryOrder {
    /// Most recently posted first; accounts that never posted last.
    Active,
    /// Newest accounts first.
    New,
}

/// How deep a thread is walked up to its first status; Mastodon's conversations have no
/// depth, but a reply chain deeper than this is treated as starting here.
const MAX_THREAD_DEPTH: i64 = 1_000;

impl Store {
    /// Sets (or, with an empty comment, removes) `account`'s private note on `target`.
    pub async fn set_account_note(
        &self,
        account: Id,
        target: Id,
        comment: &str,
        now: i64,
    ) -> Result<()> {
        if comment.is_empty() {
            write!(self, db => sqlx::query("DELETE FROM account_notes WHERE account_id = $1 AND target_id = $2")
                .bind(account).bind(target).execute(db).await?.rows_affected());
        } else {
            write!(self, db => sqlx::query(
                "INSERT INTO account_notes (account_id, target_id, comment, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (account_id, target_id) DO UPDATE SET comment = excluded.comment, updated_at = excluded.updated_at",
            ).bind(account).bind(target).bind(comment).bind(now).execute(db).await?.rows_affected());
        }
        Ok(())
    }

    /// `account`'s notes on each of `targets` that has one.
    pub async fn account_notes(&self, account: Id, targets: &[Id]) -> Result<Vec<(Id, String)>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT target_id, comment FROM account_notes WHERE account_id = $1 AND target_id IN ({})",
            placeholders(2, targets.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_as(&sql).bind(account);
            for t in targets { q = q.bind(*t); }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// Endorses `target` on `account`'s profile; false when it already was.
    pub async fn endorse(&self, id: Id, account: Id, target: Id, now: i64) -> Result<bool> {
        Ok(write!(self, db => sqlx::query(
            "INSERT INTO endorsements (id, account_id, target_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, target_id) DO NOTHING",
        ).bind(id).bind(account).bind(target).bind(now).execute(db).await?.rows_affected())
            == 1)
    }

    /// Ends an endorsement, either way round when `both` (a block ends both).
    pub async fn unendorse(&self, account: Id, target: Id, both: bool) -> Result<()> {
        let sql = if both {
            "DELETE FROM endorsements WHERE (account_id = $1 AND target_id = $2) OR (account_id = $2 AND target_id = $1)"
        } else {
            "DELETE FROM endorsements WHERE account_id = $1 AND target_id = $2"
        };
        write!(self, db => sqlx::query(sql).bind(account).bind(target).execute(db).await?.rows_affected());
        Ok(())
    }

    /// Which of `targets` `account` endorses.
    pub async fn endorsed_among(&self, account: Id, targets: &[Id]) -> Result<Vec<Id>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT target_id FROM endorsements WHERE account_id = $1 AND target_id IN ({})",
            placeholders(2, targets.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_scalar(&sql).bind(account);
            for t in targets { q = q.bind(*t); }
            Ok(q.fetch_all(db).await?)
        })
    }

    pub async fn count_endorsements(&self, account: Id) -> Result<i64> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM endorsements WHERE account_id = $1")
            .bind(account).fetch_one(db).await?))
    }

    /// A page of the accounts `account` endorses, newest endorsement first, keyed by the
    /// endorsement's id.
    pub async fn endorsements(
        &self,
        account: Id,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<Edge>> {
        let ascending = min_id.is_some() && max_id.is_none();
        let order = if ascending { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT id, target_id AS account_id FROM endorsements WHERE account_id = $1 AND id < $2 AND id > $3 \
             ORDER BY id {order} LIMIT $4"
        );
        let mut edges: Vec<Edge> = read!(self, db => sqlx::query_as(&sql)
            .bind(account).bind(max_id.unwrap_or(i64::MAX)).bind(min_id.unwrap_or(i64::MIN)).bind(limit as i64)
            .fetch_all(db).await?);
        if ascending {
            edges.reverse();
        }
        Ok(edges)
    }

    /// Features a hashtag on `account`'s profile; false when it already was.
    pub async fn feature_tag(&self, id: Id, account: Id, tag: Id, now: i64) -> Result<bool> {
        Ok(write!(self, db => sqlx::query(
            "INSERT INTO featured_tags (id, account_id, tag_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, tag_id) DO NOTHING",
        ).bind(id).bind(account).bind(tag).bind(now).execute(db).await?.rows_affected())
            == 1)
    }

    /// Stops featuring a hashtag, by the featured tag's id; false when `account` has no
    /// such featured tag.
    pub async fn delete_featured_tag(&self, account: Id, id: Id) -> Result<bool> {
        Ok(
            write!(self, db => sqlx::query("DELETE FROM featured_tags WHERE account_id = $1 AND id = $2")
            .bind(account).bind(id).execute(db).await?.rows_affected())
                == 1,
        )
    }

    /// Stops featuring a hashtag, by the tag's id.
    pub async fn unfeature_tag(&self, account: Id, tag: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM featured_tags WHERE account_id = $1 AND tag_id = $2")
            .bind(account).bind(tag).execute(db).await?.rows_affected());
        Ok(())
    }

    /// `account`'s featured hashtags, oldest first, with its use of each.
    pub async fn featured_tags(&self, account: Id) -> Result<Vec<FeaturedTagRecord>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT f.id, f.tag_id, t.name, \
             (SELECT COUNT(*) FROM statuses s JOIN status_tags st ON st.status_id = s.id \
              WHERE s.account_id = f.account_id AND st.tag_id = f.tag_id AND s.visibility <= 1) AS statuses_count, \
             (SELECT MAX(s.created_at) FROM statuses s JOIN status_tags st ON st.status_id = s.id \
              WHERE s.account_id = f.account_id AND st.tag_id = f.tag_id AND s.visibility <= 1) AS last_status_at \
             FROM featured_tags f JOIN tags t ON t.id = f.tag_id WHERE f.account_id = $1 ORDER BY f.id",
        ).bind(account).fetch_all(db).await?))
    }

    /// The hashtags `account` used most in its latest `recent` statuses, most used first,
    /// leaving out those it features: `(tag id, name)`.
    pub async fn featured_tag_suggestions(
        &self,
        account: Id,
        recent: usize,
        limit: usize,
    ) -> Result<Vec<(Id, String)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT t.id, t.name FROM tags t JOIN status_tags st ON st.tag_id = t.id \
             JOIN (SELECT id FROM statuses WHERE account_id = $1 AND reblog_of_id IS NULL ORDER BY id DESC LIMIT $2) s \
             ON s.id = st.status_id \
             WHERE NOT EXISTS (SELECT 1 FROM featured_tags f WHERE f.account_id = $1 AND f.tag_id = t.id) \
             GROUP BY t.id, t.name ORDER BY COUNT(*) DESC, MAX(st.status_id) DESC LIMIT $3",
        ).bind(account).bind(recent as i64).bind(limit as i64).fetch_all(db).await?))
    }

    /// Which of `tags` `account` features.
    pub async fn featured_among(&self, account: Id, tags: &[Id]) -> Result<Vec<Id>> {
        if tags.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT tag_id FROM featured_tags WHERE account_id = $1 AND tag_id IN ({})",
            placeholders(2, tags.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_scalar(&sql).bind(account);
            for t in tags { q = q.bind(*t); }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// The first status of each status's thread (the status itself when it replies to
    /// nothing, or to a status that is gone): `(status, root)` for each of `ids` known.
    pub async fn thread_roots(&self, ids: &[Id]) -> Result<Vec<(Id, Id)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Walk up from each status; the root is the deepest step whose status exists.
        let sql = format!(
            "WITH RECURSIVE up (start_id, id, parent_id, depth) AS ( \
               SELECT id, id, in_reply_to_id, 0 FROM statuses WHERE id IN ({}) \
               UNION ALL \
               SELECT up.start_id, s.id, s.in_reply_to_id, up.depth + 1 FROM up JOIN statuses s ON s.id = up.parent_id \
               WHERE up.depth < {MAX_THREAD_DEPTH} \
             ) \
             SELECT start_id, id FROM up u WHERE depth = (SELECT MAX(depth) FROM up v WHERE v.start_id = u.start_id)",
            placeholders(1, ids.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_as(&sql);
            for id in ids { q = q.bind(*id); }
            Ok(q.fetch_all(db).await?)
        })
    }

    pub async fn mute_thread(&self, account: Id, root: Id, now: i64) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO thread_mutes (account_id, root_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id, root_id) DO NOTHING",
        ).bind(account).bind(root).bind(now).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn unmute_thread(&self, account: Id, root: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM thread_mutes WHERE account_id = $1 AND root_id = $2")
            .bind(account).bind(root).execute(db).await?.rows_affected());
        Ok(())
    }

    /// Which of the thread `roots` `account` muted.
    pub async fn muted_threads_among(&self, account: Id, roots: &[Id]) -> Result<Vec<Id>> {
        if roots.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT root_id FROM thread_mutes WHERE account_id = $1 AND root_id IN ({})",
            placeholders(2, roots.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_scalar(&sql).bind(account);
            for r in roots { q = q.bind(*r); }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// The roots of every thread `account` muted.
    pub async fn muted_thread_roots(&self, account: Id) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT root_id FROM thread_mutes WHERE account_id = $1")
            .bind(account).fetch_all(db).await?))
    }

    /// A page of the profile directory: discoverable accounts that are not suspended,
    /// leaving out those `viewer` blocks, is blocked by or mutes.
    pub async fn directory(
        &self,
        viewer: Option<Id>,
        order: DirectoryOrder,
        offset: usize,
        limit: usize,
        now: i64,
    ) -> Result<Vec<Id>> {
        let order_by = match order {
            DirectoryOrder::Active => {
                "CASE WHEN a.last_status_at IS NULL THEN 1 ELSE 0 END, a.last_status_at DESC, a.id DESC"
            }
            DirectoryOrder::New => "a.id DESC",
        };
        let sql = format!(
            "SELECT a.id FROM accounts a WHERE a.discoverable = TRUE AND a.suspended_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = $1 AND b.target_id = a.id) \
                             OR (b.account_id = a.id AND b.target_id = $1)) \
             AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = $1 AND m.target_id = a.id \
                             AND (m.expires_at IS NULL OR m.expires_at > $4)) \
             ORDER BY {order_by} LIMIT $2 OFFSET $3"
        );
        read!(self, db => Ok(sqlx::query_scalar(&sql)
            .bind(viewer.unwrap_or(0)).bind(limit as i64).bind(offset as i64).bind(now)
            .fetch_all(db).await?))
    }
}
