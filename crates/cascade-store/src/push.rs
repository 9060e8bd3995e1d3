//! Web Push: the instance's VAPID key, subscriptions (one per access token), and the
//! durable queue of deliveries the push worker drains.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, rows_placeholders, transaction, write, NotificationRecord, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct PushSubscriptionRecord {
    pub id: Id,
    pub account_id: Id,
    pub token_id: Id,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub standard: bool,
    /// The enabled notification types, space-separated.
    pub alerts: String,
    pub policy: String,
    pub created_at: i64,
}

const SUBSCRIPTION_COLUMNS: &str =
    "id, account_id, token_id, endpoint, p256dh, auth, standard, alerts, policy, created_at";

/// A push to send: for a notification (its group's latest state goes out) or a payload
/// made beforehand (an away digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPushDelivery {
    pub id: Id,
    pub subscription_id: Id,
    pub notification_id: Option<Id>,
    pub payload: Option<String>,
    /// The single delayed delivery of a burst (see the coalescer).
    pub coalesced: bool,
    pub due_at: i64,
    pub created_at: i64,
}

/// A due delivery with the subscription it goes to.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct PushDelivery {
    pub id: Id,
    pub notification_id: Option<Id>,
    pub payload: Option<String>,
    pub coalesced: bool,
    pub attempts: i64,
    pub subscription_id: Id,
    pub account_id: Id,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// Whether the subscription's token was revoked since (its subscription goes then).
    pub revoked: bool,
}

impl Store {
    /// The stored key pair `name` as `(private, public)`, if it was made.
    pub async fn instance_key(&self, name: &str) -> Result<Option<(String, String)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT private_key, public_key FROM instance_keys WHERE name = $1",
        ).bind(name).fetch_optional(db).await?))
    }

    /// Stores a key pair unless one of that name exists, and returns the one stored: when
    /// two processes start at once, both end up with the first key written.
    pub async fn put_instance_key(
        &self,
        name: &str,
        private: &str,
        public: &str,
        now: i64,
    ) -> Result<(String, String)> {
        write!(self, db => sqlx::query(
            "INSERT INTO instance_keys (name, private_key, public_key, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        ).bind(name).bind(private).bind(public).bind(now).execute(db).await?.rows_affected());
        write!(self, db => Ok(sqlx::query_as(
            "SELECT private_key, public_key FROM instance_keys WHERE name = $1",
        ).bind(name).fetch_one(db).await?))
    }

    /// Replaces the subscription of the record's token (Mastodon deletes the old one).
    pub async fn replace_push_subscription(&self, s: &PushSubscriptionRecord) -> Result<()> {
        transaction!(self, tx => {
            sqlx::query("DELETE FROM push_subscriptions WHERE token_id = $1")
                .bind(s.token_id).execute(&mut *tx).await?;
            sqlx::query(&format!(
                "INSERT INTO push_subscriptions ({SUBSCRIPTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(s.id).bind(s.account_id).bind(s.token_id).bind(&s.endpoint).bind(&s.p256dh)
            .bind(&s.auth).bind(s.standard).bind(&s.alerts).bind(&s.policy).bind(s.created_at)
            .execute(&mut *tx).await?;
        });
        Ok(())
    }

    /// The subscription of a token.
    pub async fn push_subscription(&self, token: Id) -> Result<PushSubscriptionRecord> {
        let sql =
            format!("SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE token_id = $1");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(token).fetch_one(db).await?))
    }

    /// Changes what a token's subscription alerts on; false when it has none.
    pub async fn update_push_subscription(
        &self,
        token: Id,
        alerts: &str,
        policy: &str,
    ) -> Result<bool> {
        let n = write!(self, db => sqlx::query(
            "UPDATE push_subscriptions SET alerts = $1, policy = $2 WHERE token_id = $3",
        ).bind(alerts).bind(policy).bind(token).execute(db).await?.rows_affected());
        Ok(n > 0)
    }

    /// Deletes a token's subscription with its pending deliveries.
    pub async fn delete_push_subscription(&self, token: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM push_subscriptions WHERE token_id = $1")
            .bind(token).execute(db).await?.rows_affected());
        Ok(())
    }

    /// Deletes a subscription the push service no longer knows (404 or 410).
    pub async fn drop_push_subscription(&self, id: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
            .bind(id).execute(db).await?.rows_affected());
        Ok(())
    }

    /// The subscriptions of an account whose tokens are live.
    pub async fn push_subscriptions_of(&self, account: Id) -> Result<Vec<PushSubscriptionRecord>> {
        let sql = format!(
            "SELECT {} FROM push_subscriptions p JOIN tokens t ON t.id = p.token_id \
             WHERE p.account_id = $1 AND t.revoked_at IS NULL ORDER BY p.id",
            SUBSCRIPTION_COLUMNS
                .split(", ")
                .map(|c| format!("p.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        read!(self, db => Ok(sqlx::query_as(&sql).bind(account).fetch_all(db).await?))
    }

    /// Queues deliveries on their own (an away period's digest, a retry).
    pub async fn enqueue_push_deliveries(&self, rows: &[NewPushDelivery]) -> Result<()> {
        for chunk in rows.chunks(100) {
            let sql = format!(
                "INSERT INTO push_deliveries (id, subscription_id, notification_id, payload, coalesced, due_at, created_at) VALUES {}",
                rows_placeholders(chunk.len(), 7)
            );
            write!(self, db => {
                let mut q = sqlx::query(&sql);
                for d in chunk {
                    q = q.bind(d.id).bind(d.subscription_id).bind(d.notification_id).bind(&d.payload)
                        .bind(d.coalesced).bind(d.due_at).bind(d.created_at);
                }
                q.execute(db).await?;
            });
        }
        Ok(())
    }

    /// Deliveries due at `now`, the earliest first.
    pub async fn due_push_deliveries(&self, now: i64, limit: usize) -> Result<Vec<PushDelivery>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT d.id, d.notification_id, d.payload, d.coalesced, d.attempts, d.subscription_id, \
             p.account_id, p.endpoint, p.p256dh, p.auth, t.revoked_at IS NOT NULL AS revoked \
             FROM push_deliveries d JOIN push_subscriptions p ON p.id = d.subscription_id \
             JOIN tokens t ON t.id = p.token_id WHERE d.due_at <= $1 ORDER BY d.due_at, d.id LIMIT $2",
        ).bind(now).bind(limit as i64).fetch_all(db).await?))
    }

    /// Claims the deliveries due at `now`, the earliest first, for `lease_ms`: on
    /// PostgreSQL, rows no other node holds (`FOR UPDATE SKIP LOCKED`, and a claim not run
    /// out), so two nodes' workers never send one delivery; the claimer deletes a sent
    /// one, or sets its retry (which ends the claim), and one whose claimer died is sent
    /// by another node when the claim runs out. On SQLite (one process, one worker) it is
    /// `due_push_deliveries`.
    pub async fn claim_push_deliveries(
        &self,
        now: i64,
        limit: usize,
        lease_ms: i64,
    ) -> Result<Vec<PushDelivery>> {
        let Store::Postgres(db) = self else {
            return self.due_push_deliveries(now, limit).await;
        };
        Ok(sqlx::query_as(
            "WITH claimed AS (\
               UPDATE push_deliveries SET claimed_until = $2 WHERE id IN (\
                 SELECT id FROM push_deliveries WHERE due_at <= $1 \
                 AND (claimed_until IS NULL OR claimed_until < $1) \
                 ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
               RETURNING id, notification_id, payload, coalesced, attempts, subscription_id) \
             SELECT d.id, d.notification_id, d.payload, d.coalesced, d.attempts, d.subscription_id, \
             p.account_id, p.endpoint, p.p256dh, p.auth, t.revoked_at IS NOT NULL AS revoked \
             FROM claimed d JOIN push_subscriptions p ON p.id = d.subscription_id \
             JOIN tokens t ON t.id = p.token_id ORDER BY d.id",
        )
        .bind(now)
        .bind(now + lease_ms)
        .bind(limit as i64)
        .fetch_all(db)
        .await?)
    }

    /// When this node's push worker should look again: the earliest time a queued
    /// delivery is due and not held by another node's claim.
    pub async fn next_push_wake(&self) -> Result<Option<i64>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT MIN(CASE WHEN claimed_until IS NOT NULL AND claimed_until > due_at \
             THEN claimed_until ELSE due_at END) FROM push_deliveries",
        )
        .fetch_one(db).await?))
    }

    /// The earliest time a queued delivery is due, if any is queued.
    pub async fn next_push_due(&self) -> Result<Option<i64>> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT MIN(due_at) FROM push_deliveries")
            .fetch_one(db).await?))
    }

    /// Forgets a delivery: sent, or given up on.
    pub async fn finish_push_delivery(&self, id: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM push_deliveries WHERE id = $1")
            .bind(id).execute(db).await?.rows_affected());
        Ok(())
    }

    /// Counts a failed attempt and tries again at `due_at`.
    pub async fn retry_push_delivery(&self, id: Id, due_at: i64) -> Result<()> {
        write!(self, db => sqlx::query(
            "UPDATE push_deliveries SET attempts = attempts + 1, due_at = $1, claimed_until = NULL \
             WHERE id = $2",
        ).bind(due_at).bind(id).execute(db).await?.rows_affected());
        Ok(())
    }

    /// A notification group as it stands: its newest notification (not filtered) and how
    /// many it holds.
    pub async fn notification_group(
        &self,
        account: Id,
        group_key: &str,
    ) -> Result<(Option<NotificationRecord>, i64)> {
        let latest = self.latest_in_group(account, group_key).await?;
        let count = read!(self, db => sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE account_id = $1 AND group_key = $2 AND NOT filtered",
        ).bind(account).bind(group_key).fetch_one(db).await?);
        Ok((latest, count))
    }

    /// How many notifications of each kind an account got in `[from, until)` from the
    /// accounts a push `policy` lets through, with the newest one's id.
    pub async fn notification_counts(
        &self,
        account: Id,
        from: i64,
        until: i64,
        policy: &str,
    ) -> Result<(Vec<(String, i64)>, Option<Id>)> {
        let who = match policy {
            "followed" => " AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = $1 AND f.target_id = n.from_account_id)",
            "follower" => " AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = n.from_account_id AND f.target_id = $1)",
            "none" => " AND FALSE",
            _ => "",
        };
        let filter = format!(
            "n.account_id = $1 AND NOT n.filtered AND n.created_at >= $2 AND n.created_at < $3{who}"
        );
        let counts =
            format!("SELECT n.kind, COUNT(*) FROM notifications n WHERE {filter} GROUP BY n.kind");
        let newest = format!("SELECT MAX(n.id) FROM notifications n WHERE {filter}");
        read!(self, db => {
            let counts: Vec<(String, i64)> = sqlx::query_as(&counts)
                .bind(account).bind(from).bind(until).fetch_all(db).await?;
            let newest: Option<Id> = sqlx::query_scalar(&newest)
                .bind(account).bind(from).bind(until).fetch_one(db).await?;
            Ok((counts, newest))
        })
    }
}

/// Writes push deliveries inside the transaction `$tx` of the notification that owes them.
macro_rules! insert_push_deliveries {
    ($tx:ident, $rows:expr) => {
        for d in $rows {
            sqlx::query(
                "INSERT INTO push_deliveries (id, subscription_id, notification_id, payload, coalesced, due_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(d.id).bind(d.subscription_id).bind(d.notification_id).bind(&d.payload)
            .bind(d.coalesced).bind(d.due_at).bind(d.created_at)
            .execute(&mut *$tx).await?;
        }
    };
}
pub(crate) use insert_push_deliveries;
