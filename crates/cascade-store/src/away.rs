//! Out-of-office periods (a Cascade extension) and the automatic replies sent during them.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, transaction, write, NewPushDelivery, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct AwayRecord {
    pub id: Id,
    pub account_id: Id,
    pub message: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_at: i64,
}

const COLUMNS: &str = "id, account_id, message, starts_at, ends_at, created_at";

/// Ends the account's current period at `now` (one that has not begun goes entirely).
macro_rules! end_current {
    ($tx:ident, $account:expr, $now:expr) => {{
        let dropped = sqlx::query(
            "DELETE FROM away_periods WHERE account_id = $1 AND starts_at > $2 AND ends_at > $2",
        )
        .bind($account)
        .bind($now)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        let ended = sqlx::query(
            "UPDATE away_periods SET ends_at = $2 WHERE account_id = $1 AND ends_at > $2",
        )
        .bind($account)
        .bind($now)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        dropped + ended
    }};
}

impl Store {
    /// Starts a new away period, ending the account's current one (whose digest then goes
    /// out), in one transaction.
    pub async fn set_away(&self, a: &AwayRecord) -> Result<()> {
        transaction!(self, tx => {
            let _ended = end_current!(tx, a.account_id, a.created_at);
            sqlx::query(&format!("INSERT INTO away_periods ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
                .bind(a.id).bind(a.account_id).bind(&a.message).bind(a.starts_at).bind(a.ends_at).bind(a.created_at)
                .execute(&mut *tx).await?;
        });
        Ok(())
    }

    /// Ends the account's current period now. Returns whether there was one.
    pub async fn clear_away(&self, account: Id, now: i64) -> Result<bool> {
        let n = transaction!(self, tx => { end_current!(tx, account, now) });
        Ok(n > 0)
    }

    /// The account's current (or coming) period.
    pub async fn current_away(&self, account: Id, now: i64) -> Result<Option<AwayRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM away_periods WHERE account_id = $1 AND ends_at > $2 ORDER BY id DESC LIMIT 1"
        );
        read!(self, db => Ok(sqlx::query_as(&sql).bind(account).bind(now).fetch_optional(db).await?))
    }

    /// Every period not over at `now`: what the server keeps in memory.
    pub async fn current_away_periods(&self, now: i64) -> Result<Vec<AwayRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM away_periods WHERE ends_at > $1 ORDER BY id");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(now).fetch_all(db).await?))
    }

    /// Periods over at `now` whose digest is still to be made.
    pub async fn ended_away_periods(&self, now: i64, limit: usize) -> Result<Vec<AwayRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM away_periods WHERE ends_at <= $1 ORDER BY ends_at LIMIT $2"
        );
        read!(self, db => Ok(sqlx::query_as(&sql).bind(now).bind(limit as i64).fetch_all(db).await?))
    }

    /// When the next period ends, if any is open.
    pub async fn next_away_end(&self) -> Result<Option<i64>> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT MIN(ends_at) FROM away_periods").fetch_one(db).await?))
    }

    /// Queues a period's digest pushes and forgets the period, in one transaction, so a
    /// crash neither loses the digest nor sends it twice.
    pub async fn finish_away_period(&self, id: Id, digests: &[NewPushDelivery]) -> Result<()> {
        transaction!(self, tx => {
            for d in digests {
                sqlx::query(
                    "INSERT INTO push_deliveries (id, subscription_id, notification_id, payload, coalesced, due_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(d.id).bind(d.subscription_id).bind(d.notification_id).bind(&d.payload)
                .bind(d.coalesced).bind(d.due_at).bind(d.created_at)
                .execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM away_periods WHERE id = $1").bind(id).execute(&mut *tx).await?;
        });
        Ok(())
    }

    /// Claims the one automatic reply of a period to a sender. False when it was claimed
    /// already: the primary key decides, so of concurrent messages exactly one wins.
    pub async fn claim_away_reply(
        &self,
        period: Id,
        sender: Id,
        account: Id,
        message: Id,
        now: i64,
    ) -> Result<bool> {
        let n = write!(self, db => sqlx::query(
            "INSERT INTO away_replies (period_id, sender_id, account_id, message_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (period_id, sender_id) DO NOTHING",
        ).bind(period).bind(sender).bind(account).bind(message).bind(now).execute(db).await?.rows_affected());
        Ok(n == 1)
    }

    /// The claim of a period's reply to a sender: the message it answers and, once posted,
    /// the reply.
    pub async fn away_claim(&self, period: Id, sender: Id) -> Result<Option<(Id, Option<Id>)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT message_id, reply_id FROM away_replies WHERE period_id = $1 AND sender_id = $2",
        ).bind(period).bind(sender).fetch_optional(db).await?))
    }

    /// Records the status that answered a claimed reply.
    pub async fn set_away_reply(&self, period: Id, sender: Id, reply: Id) -> Result<()> {
        write!(self, db => sqlx::query(
            "UPDATE away_replies SET reply_id = $1 WHERE period_id = $2 AND sender_id = $3",
        ).bind(reply).bind(period).bind(sender).execute(db).await?.rows_affected());
        Ok(())
    }

    /// Whether a status is an automatic reply: recorded as one, or being posted as one
    /// (claimed by its author for the status it replies to, not yet recorded).
    pub async fn is_automatic_reply(
        &self,
        status: Id,
        author: Id,
        in_reply_to: Option<Id>,
    ) -> Result<bool> {
        read!(self, db => Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM away_replies WHERE reply_id = $1 \
             OR (reply_id IS NULL AND account_id = $2 AND message_id = $3)",
        ).bind(status).bind(author).bind(in_reply_to).fetch_one(db).await? > 0))
    }

    /// Which of these statuses are automatic replies.
    pub async fn automatic_replies(&self, ids: &[Id]) -> Result<Vec<Id>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT reply_id FROM away_replies WHERE reply_id IN ({})",
            crate::placeholders(1, ids.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_scalar(&sql);
            for id in ids { q = q.bind(*id); }
            Ok(q.fetch_all(db).await?)
        })
    }
}
