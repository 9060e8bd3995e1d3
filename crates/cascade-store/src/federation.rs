//! What federation keeps: local accounts' key pairs, remote actors (an `accounts` row with
//! a domain, plus how to reach and verify it), remote statuses' ActivityPub ids, and the
//! remote audience of a local account (its followers' inboxes).

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, transaction, write, Account, Result, Store, StoreError};

/// How to deliver to a remote actor and verify what it signs.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct RemoteActor {
    pub account_id: Id,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub followers_url: Option<String>,
    pub key_id: String,
    pub public_key_pem: String,
    pub fetched_at: i64,
}

/// A remote account as its actor document describes it, about to be stored.
#[derive(Debug, Clone)]
pub struct NewRemoteAccount {
    /// The id to use when the actor is new.
    pub id: Id,
    pub username: String,
    pub domain: String,
    pub uri: String,
    pub url: Option<String>,
    pub display_name: String,
    pub note: String,
    pub note_html: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub created_at: i64,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub followers_url: Option<String>,
    pub key_id: String,
    pub public_key_pem: String,
    pub fetched_at: i64,
}

const ACTOR_COLUMNS: &str =
    "account_id, inbox, shared_inbox, followers_url, key_id, public_key_pem, fetched_at";

impl Store {
    /// A local account's key pair, `(public PEM, private PEM)`, if it has one yet.
    pub async fn account_key(&self, account: Id) -> Result<Option<(String, String)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT public_key_pem, private_key_pem FROM account_keys WHERE account_id = $1",
        ).bind(account).fetch_optional(db).await?))
    }

    /// Stores a key pair unless the account has one, and returns the one stored: two
    /// requests that made a key at once both end up with the first.
    pub async fn put_account_key(
        &self,
        account: Id,
        public: &str,
        private: &str,
        now: i64,
    ) -> Result<(String, String)> {
        write!(self, db => sqlx::query(
            "INSERT INTO account_keys (account_id, public_key_pem, private_key_pem, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id) DO NOTHING",
        ).bind(account).bind(public).bind(private).bind(now).execute(db).await?.rows_affected());
        self.account_key(account).await?.ok_or(StoreError::NotFound)
    }

    /// Creates or refreshes a remote account from its actor document; returns its id.
    pub async fn upsert_remote_account(&self, a: &NewRemoteAccount) -> Result<Id> {
        let id = transaction!(self, tx => {
            let known: Option<Id> = sqlx::query_scalar("SELECT id FROM accounts WHERE uri = $1")
                .bind(&a.uri).fetch_optional(&mut *tx).await?;
            let id = match known {
                Some(id) => {
                    sqlx::query(
                        "UPDATE accounts SET username = $1, url = $2, display_name = $3, note = $4, note_html = $5, \
                         locked = $6, bot = $7, discoverable = $8 WHERE id = $9",
                    )
                    .bind(&a.username).bind(&a.url).bind(&a.display_name).bind(&a.note).bind(&a.note_html)
                    .bind(a.locked).bind(a.bot).bind(a.discoverable).bind(id)
                    .execute(&mut *tx).await?;
                    id
                }
                None => {
                    sqlx::query(
                        "INSERT INTO accounts (id, username, domain, uri, url, display_name, note, note_html, \
                         locked, bot, discoverable, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(a.id).bind(&a.username).bind(&a.domain).bind(&a.uri).bind(&a.url)
                    .bind(&a.display_name).bind(&a.note).bind(&a.note_html)
                    .bind(a.locked).bind(a.bot).bind(a.discoverable).bind(a.created_at)
                    .execute(&mut *tx).await?;
                    a.id
                }
            };
            sqlx::query(
                "INSERT INTO remote_actors (account_id, inbox, shared_inbox, followers_url, key_id, public_key_pem, fetched_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id) DO UPDATE SET \
                 inbox = excluded.inbox, shared_inbox = excluded.shared_inbox, followers_url = excluded.followers_url, \
                 key_id = excluded.key_id, public_key_pem = excluded.public_key_pem, fetched_at = excluded.fetched_at",
            )
            .bind(id).bind(&a.inbox).bind(&a.shared_inbox).bind(&a.followers_url)
            .bind(&a.key_id).bind(&a.public_key_pem).bind(a.fetched_at)
            .execute(&mut *tx).await?;
            id
        });
        Ok(id)
    }

    pub async fn remote_actor(&self, account: Id) -> Result<Option<RemoteActor>> {
        let sql = format!("SELECT {ACTOR_COLUMNS} FROM remote_actors WHERE account_id = $1");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(account).fetch_optional(db).await?))
    }

    /// The remote actor whose key this is, if it is known.
    pub async fn remote_actor_by_key(&self, key_id: &str) -> Result<Option<RemoteActor>> {
        let sql = format!("SELECT {ACTOR_COLUMNS} FROM remote_actors WHERE key_id = $1");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(key_id).fetch_optional(db).await?))
    }

    /// The remote account with this actor id.
    pub async fn account_by_uri(&self, uri: &str) -> Result<Option<Account>> {
        let id: Option<Id> = read!(self, db => sqlx::query_scalar("SELECT id FROM accounts WHERE uri = $1")
            .bind(uri).fetch_optional(db).await?);
        match id {
            Some(id) => Ok(Some(self.account(id).await?)),
            None => Ok(None),
        }
    }

    /// The remote account `username@domain`, if it is known.
    pub async fn remote_account_by_acct(
        &self,
        username: &str,
        domain: &str,
    ) -> Result<Option<Account>> {
        let id: Option<Id> = read!(self, db => sqlx::query_scalar(
            "SELECT id FROM accounts WHERE lower(username) = lower($1) AND lower(domain) = lower($2)",
        ).bind(username).bind(domain).fetch_optional(db).await?);
        match id {
            Some(id) => Ok(Some(self.account(id).await?)),
            None => Ok(None),
        }
    }

    /// The inboxes that reach a local account's remote followers: each server's shared
    /// inbox once, or the follower's own inbox when its server has none.
    pub async fn remote_follower_inboxes(&self, account: Id) -> Result<Vec<String>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT DISTINCT COALESCE(r.shared_inbox, r.inbox) FROM follows f \
             JOIN remote_actors r ON r.account_id = f.account_id WHERE f.target_id = $1 \
             ORDER BY 1",
        ).bind(account).fetch_all(db).await?))
    }

    /// The local status or remote status with this ActivityPub id, for remote ones.
    pub async fn status_by_uri(&self, uri: &str) -> Result<Option<Id>> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT status_id FROM remote_statuses WHERE uri = $1")
            .bind(uri).fetch_optional(db).await?))
    }

    /// A remote status's ActivityPub id and page.
    pub async fn remote_status(&self, id: Id) -> Result<Option<(String, Option<String>)>> {
        read!(self, db => Ok(sqlx::query_as("SELECT uri, url FROM remote_statuses WHERE status_id = $1")
            .bind(id).fetch_optional(db).await?))
    }

    /// The ActivityPub ids and pages of those of `ids` that are remote statuses.
    pub async fn remote_statuses_of(
        &self,
        ids: &[Id],
    ) -> Result<Vec<(Id, String, Option<String>)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT status_id, uri, url FROM remote_statuses WHERE status_id IN ({})",
                crate::placeholders(1, chunk.len())
            );
            let rows: Vec<(Id, String, Option<String>)> = read!(self, db => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk { q = q.bind(*id); }
                q.fetch_all(db).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Remembers the id of the remote Follow behind a pending request.
    pub async fn set_follow_request_uri(&self, from: Id, to: Id, uri: &str) -> Result<()> {
        write!(self, db => sqlx::query(
            "UPDATE follow_requests SET uri = $1 WHERE account_id = $2 AND target_id = $3",
        ).bind(uri).bind(from).bind(to).execute(db).await?.rows_affected());
        Ok(())
    }

    /// The id of the remote Follow behind a pending request, if it came from afar.
    pub async fn follow_request_uri(&self, from: Id, to: Id) -> Result<Option<String>> {
        let uri: Option<Option<String>> = read!(self, db => sqlx::query_scalar(
            "SELECT uri FROM follow_requests WHERE account_id = $1 AND target_id = $2",
        ).bind(from).bind(to).fetch_optional(db).await?);
        Ok(uri.flatten())
    }

    /// Records a signature (by its digest) as accepted until `expires_at`; false when it
    /// was already: the request is a replay.
    pub async fn note_signature(&self, digest: &str, expires_at: i64) -> Result<bool> {
        Ok(write!(self, db => sqlx::query(
            "INSERT INTO seen_signatures (digest, expires_at) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING",
        ).bind(digest).bind(expires_at).execute(db).await?.rows_affected())
            == 1)
    }

    /// Forgets the signatures that expired by `now`; returns how many.
    pub async fn sweep_signatures(&self, now: i64) -> Result<u64> {
        Ok(
            write!(self, db => sqlx::query("DELETE FROM seen_signatures WHERE expires_at <= $1")
            .bind(now).execute(db).await?.rows_affected()),
        )
    }
}
