//! The social graph: follows, follow requests, blocks and mutes, and the relationship
//! between two accounts. Follower and following counts change in the same transaction as
//! the edge, so they are exact.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{placeholders, read, rows_placeholders, transaction, write, Result, Store};

/// One edge of a paged list: its own id (the paging key) and the account at its far end.
#[derive(Debug, Clone, Copy, FromRow, PartialEq, Eq)]
pub struct Edge {
    pub id: Id,
    pub account_id: Id,
}

/// How one account relates to another, as Mastodon's Relationship entity needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relationship {
    pub id: Id,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub followed_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub muting_expires_at: Option<i64>,
    pub requested: bool,
    pub requested_by: bool,
}

/// Which table an edge list reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    Followers,
    Following,
    Blocks,
    Mutes,
    FollowRequests,
}

/// A follow (or a request to follow) about to be written.
#[derive(Debug, Clone, Copy)]
pub struct NewFollow {
    pub id: Id,
    pub from: Id,
    pub to: Id,
    pub reblogs: bool,
    pub notify: bool,
    pub now: i64,
}

/// Ends `from`'s follow of `to` and its pending request inside the transaction `tx`, the
/// counters with the follow; evaluates to whether a follow and whether a request was
/// removed.
macro_rules! end_follow {
    ($tx:ident, $from:expr, $to:expr) => {{
        let removed = sqlx::query("DELETE FROM follows WHERE account_id = $1 AND target_id = $2")
            .bind($from)
            .bind($to)
            .execute(&mut *$tx)
            .await?
            .rows_affected()
            == 1;
        if removed {
            sqlx::query("UPDATE accounts SET following_count = following_count - 1 WHERE id = $1")
                .bind($from)
                .execute(&mut *$tx)
                .await?;
            sqlx::query("UPDATE accounts SET followers_count = followers_count - 1 WHERE id = $1")
                .bind($to)
                .execute(&mut *$tx)
                .await?;
        }
        let requested =
            sqlx::query("DELETE FROM follow_requests WHERE account_id = $1 AND target_id = $2")
                .bind($from)
                .bind($to)
                .execute(&mut *$tx)
                .await?
                .rows_affected()
                == 1;
        (removed, requested)
    }};
}

impl Store {
    /// Creates or updates a follow, with the jobs a new one owes. Returns true when the
    /// follow is new.
    pub async fn follow(&self, f: NewFollow, owed: &[crate::NewJob]) -> Result<bool> {
        let NewFollow {
            id,
            from,
            to,
            reblogs,
            notify,
            now,
        } = f;
        let inserted = transaction!(self, tx => {
            let inserted = sqlx::query(
                "INSERT INTO follows (id, account_id, target_id, show_reblogs, notify, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, target_id) DO NOTHING",
            )
            .bind(id).bind(from).bind(to).bind(reblogs).bind(notify).bind(now)
            .execute(&mut *tx).await?.rows_affected() == 1;
            if inserted {
                crate::jobs::insert_jobs!(tx, owed);
                sqlx::query("UPDATE accounts SET following_count = following_count + 1 WHERE id = $1").bind(from).execute(&mut *tx).await?;
                sqlx::query("UPDATE accounts SET followers_count = followers_count + 1 WHERE id = $1").bind(to).execute(&mut *tx).await?;
            } else {
                sqlx::query("UPDATE follows SET show_reblogs = $1, notify = $2 WHERE account_id = $3 AND target_id = $4")
                    .bind(reblogs).bind(notify).bind(from).bind(to).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM follow_requests WHERE account_id = $1 AND target_id = $2").bind(from).bind(to).execute(&mut *tx).await?;
            inserted
        });
        Ok(inserted)
    }

    /// Records a request to follow a locked account (or updates its options), with the
    /// jobs a new one owes. Returns true when the request is new.
    pub async fn request_follow(&self, f: NewFollow, owed: &[crate::NewJob]) -> Result<bool> {
        let NewFollow {
            id,
            from,
            to,
            reblogs,
            notify,
            now,
        } = f;
        let inserted = transaction!(self, tx => {
            let existed: Option<Id> = sqlx::query_scalar("SELECT id FROM follow_requests WHERE account_id = $1 AND target_id = $2")
                .bind(from).bind(to).fetch_optional(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO follow_requests (id, account_id, target_id, show_reblogs, notify, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, target_id) \
                 DO UPDATE SET show_reblogs = excluded.show_reblogs, notify = excluded.notify",
            )
            .bind(id).bind(from).bind(to).bind(reblogs).bind(notify).bind(now)
            .execute(&mut *tx).await?;
            if existed.is_none() {
                crate::jobs::insert_jobs!(tx, owed);
            }
            existed.is_none()
        });
        Ok(inserted)
    }

    /// Turns a pending request into a follow, with the jobs the answer owes (an Accept to
    /// a remote follower). Returns false when there was no request.
    pub async fn accept_follow_request(
        &self,
        follow_id: Id,
        from: Id,
        to: Id,
        now: i64,
        owed: &[crate::NewJob],
    ) -> Result<bool> {
        let request: Option<(bool, bool)> = read!(self, db => sqlx::query_as(
            "SELECT show_reblogs, notify FROM follow_requests WHERE account_id = $1 AND target_id = $2",
        ).bind(from).bind(to).fetch_optional(db).await?);
        match request {
            Some((reblogs, notify)) => {
                let f = NewFollow {
                    id: follow_id,
                    from,
                    to,
                    reblogs,
                    notify,
                    now,
                };
                self.follow(f, owed).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Removes a pending request, with the jobs its refusal owes (a Reject to a remote
    /// follower), written only when there was one. Returns false when there was none.
    pub async fn delete_follow_request(
        &self,
        from: Id,
        to: Id,
        owed: &[crate::NewJob],
    ) -> Result<bool> {
        let removed = transaction!(self, tx => {
            let n = sqlx::query("DELETE FROM follow_requests WHERE account_id = $1 AND target_id = $2")
                .bind(from).bind(to).execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                crate::jobs::insert_jobs!(tx, owed);
            }
            n == 1
        });
        Ok(removed)
    }

    /// Removes a follow (and a pending request). Returns true when a follow was removed.
    pub async fn unfollow(&self, from: Id, to: Id) -> Result<bool> {
        Ok(self.unfollow_owing(from, to, &[]).await?.0)
    }

    /// Removes a follow and a pending request, with the jobs the end of either owes (an
    /// Undo to a remote account), written only when one of them was there. Returns
    /// whether a follow and whether a request was removed.
    pub async fn unfollow_owing(
        &self,
        from: Id,
        to: Id,
        owed: &[crate::NewJob],
    ) -> Result<(bool, bool)> {
        let removed = transaction!(self, tx => {
            let (removed, requested) = end_follow!(tx, from, to);
            if removed || requested {
                crate::jobs::insert_jobs!(tx, owed);
            }
            (removed, requested)
        });
        Ok(removed)
    }

    /// Blocks an account, in one transaction with the jobs a new block owes (a Block sent
    /// to a remote account): both follows between the two and pending requests end.
    /// Returns true when the block is new; blocking again writes nothing.
    pub async fn block(
        &self,
        id: Id,
        from: Id,
        to: Id,
        now: i64,
        owed: &[crate::NewJob],
    ) -> Result<bool> {
        let inserted = transaction!(self, tx => {
            end_follow!(tx, from, to);
            end_follow!(tx, to, from);
            let inserted = sqlx::query(
                "INSERT INTO blocks (id, account_id, target_id, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (account_id, target_id) DO NOTHING",
            ).bind(id).bind(from).bind(to).bind(now).execute(&mut *tx).await?.rows_affected() == 1;
            if inserted {
                crate::jobs::insert_jobs!(tx, owed);
            }
            inserted
        });
        Ok(inserted)
    }

    /// Lifts a block, in one transaction with the jobs lifting it owes (the Undo of a
    /// Block sent to a remote account), written only when there was a block. Returns
    /// whether there was one.
    pub async fn unblock(&self, from: Id, to: Id, owed: &[crate::NewJob]) -> Result<bool> {
        let removed = transaction!(self, tx => {
            let removed = sqlx::query("DELETE FROM blocks WHERE account_id = $1 AND target_id = $2")
                .bind(from).bind(to).execute(&mut *tx).await?.rows_affected() == 1;
            if removed {
                crate::jobs::insert_jobs!(tx, owed);
            }
            removed
        });
        Ok(removed)
    }

    pub async fn mute(
        &self,
        id: Id,
        from: Id,
        to: Id,
        notifications: bool,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO mutes (id, account_id, target_id, hide_notifications, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, target_id) \
             DO UPDATE SET hide_notifications = excluded.hide_notifications, expires_at = excluded.expires_at",
        ).bind(id).bind(from).bind(to).bind(notifications).bind(expires_at).bind(now).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn unmute(&self, from: Id, to: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM mutes WHERE account_id = $1 AND target_id = $2")
            .bind(from).bind(to).execute(db).await?.rows_affected());
        Ok(())
    }

    /// The viewer's relationships to each of `targets`, in the order given.
    pub async fn relationships(
        &self,
        viewer: Id,
        targets: &[Id],
        now: i64,
    ) -> Result<Vec<Relationship>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let list = placeholders(2, targets.len());
        // One query per table keeps the SQL portable; each is an index lookup.
        let sql_out = |table: &str, extra: &str| {
            format!("SELECT target_id{extra} FROM {table} WHERE account_id = $1 AND target_id IN ({list})")
        };
        let sql_in = |table: &str| {
            format!(
                "SELECT account_id FROM {table} WHERE target_id = $1 AND account_id IN ({list})"
            )
        };
        let following: Vec<(Id, bool, bool)> = read!(self, db => {
            let sql = sql_out("follows", ", show_reblogs, notify");
            let mut q = sqlx::query_as(&sql).bind(viewer);
            for t in targets { q = q.bind(*t); }
            q.fetch_all(db).await?
        });
        let mutes: Vec<(Id, bool, Option<i64>)> = read!(self, db => {
            let sql = sql_out("mutes", ", hide_notifications, expires_at");
            let mut q = sqlx::query_as(&sql).bind(viewer);
            for t in targets { q = q.bind(*t); }
            q.fetch_all(db).await?
        });
        let mut single = Vec::new();
        for sql in [
            sql_out("blocks", ""),
            sql_out("follow_requests", ""),
            sql_in("follows"),
            sql_in("blocks"),
            sql_in("follow_requests"),
        ] {
            let ids: Vec<Id> = read!(self, db => {
                let mut q = sqlx::query_scalar(&sql).bind(viewer);
                for t in targets { q = q.bind(*t); }
                q.fetch_all(db).await?
            });
            single.push(ids);
        }
        let [blocking, requested, followed_by, blocked_by, requested_by] = &single[..] else {
            unreachable!()
        };
        Ok(targets
            .iter()
            .map(|&id| {
                let follow = following.iter().find(|f| f.0 == id);
                let mute = mutes
                    .iter()
                    .find(|m| m.0 == id && m.2.is_none_or(|e| e > now));
                Relationship {
                    id,
                    following: follow.is_some(),
                    showing_reblogs: follow.is_some_and(|f| f.1),
                    notifying: follow.is_some_and(|f| f.2),
                    followed_by: followed_by.contains(&id),
                    blocking: blocking.contains(&id),
                    blocked_by: blocked_by.contains(&id),
                    muting: mute.is_some(),
                    muting_notifications: mute.is_some_and(|m| m.1),
                    muting_expires_at: mute.and_then(|m| m.2),
                    requested: requested.contains(&id),
                    requested_by: requested_by.contains(&id),
                }
            })
            .collect())
    }

    /// How many follow requests wait for `target`'s answer.
    pub async fn count_follow_requests(&self, target: Id) -> Result<i64> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM follow_requests WHERE target_id = $1")
            .bind(target).fetch_one(db).await?))
    }

    /// A page of edges of one account, newest first, bounded by edge ids.
    pub async fn edges(
        &self,
        kind: EdgeKind,
        account: Id,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<Edge>> {
        let (table, mine, other) = match kind {
            EdgeKind::Followers => ("follows", "target_id", "account_id"),
            EdgeKind::Following => ("follows", "account_id", "target_id"),
            EdgeKind::Blocks => ("blocks", "account_id", "target_id"),
            EdgeKind::Mutes => ("mutes", "account_id", "target_id"),
            EdgeKind::FollowRequests => ("follow_requests", "target_id", "account_id"),
        };
        let (order, outer) = if min_id.is_some() && max_id.is_none() {
            ("ASC", true)
        } else {
            ("DESC", false)
        };
        let sql = format!(
            "SELECT id, {other} AS account_id FROM {table} WHERE {mine} = $1 AND id < $2 AND id > $3 ORDER BY id {order} LIMIT $4"
        );
        let mut edges: Vec<Edge> = read!(self, db => sqlx::query_as(&sql)
            .bind(account).bind(max_id.unwrap_or(i64::MAX)).bind(min_id.unwrap_or(i64::MIN)).bind(limit as i64)
            .fetch_all(db).await?);
        if outer {
            edges.reverse();
        }
        Ok(edges)
    }

    /// Followers of `author` with ids above `after`, in id order: the fan-out's batches.
    pub async fn follower_batch(&self, author: Id, after: Id, limit: usize) -> Result<Vec<Edge>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT id, account_id FROM follows WHERE target_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        ).bind(author).bind(after).bind(limit as i64).fetch_all(db).await?))
    }

    /// Everyone `account` follows, with the follow's `reblogs` flag.
    pub async fn following_ids(&self, account: Id) -> Result<Vec<(Id, bool)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT target_id, show_reblogs FROM follows WHERE account_id = $1",
        ).bind(account).fetch_all(db).await?))
    }

    /// Accounts `account` follows that have more than `threshold` followers: the authors
    /// merged into its home timeline at read time.
    pub async fn followed_celebrities(&self, account: Id, threshold: i64) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT f.target_id FROM follows f JOIN accounts a ON a.id = f.target_id \
             WHERE f.account_id = $1 AND a.followers_count > $2",
        ).bind(account).bind(threshold).fetch_all(db).await?))
    }

    /// Accounts the viewer blocks or is blocked by, and the known accounts on the domains
    /// the viewer blocked: nothing of theirs reaches the viewer.
    pub async fn blocked_ids(&self, viewer: Id) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT target_id FROM blocks WHERE account_id = $1 UNION SELECT account_id FROM blocks WHERE target_id = $1 \
             UNION SELECT a.id FROM accounts a JOIN account_domain_blocks d ON a.domain = d.domain WHERE d.account_id = $1",
        ).bind(viewer).fetch_all(db).await?))
    }

    /// Accounts the viewer has muted, with mutes that have not expired, and when each
    /// timed mute ends.
    pub async fn muted_ids(&self, viewer: Id, now: i64) -> Result<Vec<(Id, Option<i64>)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT target_id, expires_at FROM mutes WHERE account_id = $1 AND (expires_at IS NULL OR expires_at > $2)",
        ).bind(viewer).bind(now).fetch_all(db).await?))
    }

    /// Whether either account blocks the other, or the domain of the other.
    pub async fn blocked_either_way(&self, a: Id, b: Id) -> Result<bool> {
        let n: i64 = read!(self, db => sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM blocks WHERE (account_id = $1 AND target_id = $2) OR (account_id = $2 AND target_id = $1)) \
             + (SELECT COUNT(*) FROM account_domain_blocks d JOIN accounts a ON a.domain = d.domain \
                WHERE (d.account_id = $1 AND a.id = $2) OR (d.account_id = $2 AND a.id = $1))",
        ).bind(a).bind(b).fetch_one(db).await?);
        Ok(n > 0)
    }

    pub async fn has_follow_request(&self, from: Id, to: Id) -> Result<bool> {
        read!(self, db => Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM follow_requests WHERE account_id = $1 AND target_id = $2",
        ).bind(from).bind(to).fetch_one(db).await? > 0))
    }

    pub async fn is_following(&self, from: Id, to: Id) -> Result<bool> {
        let n: i64 = read!(self, db => sqlx::query_scalar(
            "SELECT COUNT(*) FROM follows WHERE account_id = $1 AND target_id = $2",
        ).bind(from).bind(to).fetch_one(db).await?);
        Ok(n > 0)
    }

    /// Accounts the viewer follows that also follow `target`.
    pub async fn familiar_followers(
        &self,
        viewer: Id,
        target: Id,
        limit: usize,
    ) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT a.target_id FROM follows a JOIN follows b ON b.account_id = a.target_id \
             WHERE a.account_id = $1 AND b.target_id = $2 AND a.target_id <> $1 ORDER BY a.id DESC LIMIT $3",
        ).bind(viewer).bind(target).bind(limit as i64).fetch_all(db).await?))
    }

    /// Bulk insert of follows for the demo world and benchmarks; counts are recomputed
    /// afterwards with `recount_follows`.
    pub async fn insert_follows_bulk(&self, edges: &[(Id, Id, Id, i64)]) -> Result<()> {
        for chunk in edges.chunks(200) {
            let sql = format!(
                "INSERT INTO follows (id, account_id, target_id, created_at) VALUES {} ON CONFLICT (account_id, target_id) DO NOTHING",
                rows_placeholders(chunk.len(), 4)
            );
            write!(self, db => {
                let mut q = sqlx::query(&sql);
                for (id, from, to, at) in chunk { q = q.bind(*id).bind(*from).bind(*to).bind(*at); }
                q.execute(db).await?;
            });
        }
        Ok(())
    }

    /// Recomputes every account's follower and following counts from the edges.
    pub async fn recount_follows(&self) -> Result<()> {
        write!(self, db => {
            sqlx::query("UPDATE accounts SET followers_count = (SELECT COUNT(*) FROM follows WHERE target_id = accounts.id), \
                         following_count = (SELECT COUNT(*) FROM follows WHERE account_id = accounts.id)")
                .execute(db).await?;
        });
        Ok(())
    }
}
