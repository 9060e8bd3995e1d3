//! Accounts (the public profile) and users (the local login behind an account).

use cascade_core::Id;
use sqlx::FromRow;

use crate::{placeholders, read, rows_placeholders, transaction, write, Result, Store, StoreError};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct Account {
    pub id: Id,
    pub username: String,
    pub display_name: String,
    pub note: String,
    pub note_html: String,
    pub fields_json: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub followers_count: i64,
    pub following_count: i64,
    pub statuses_count: i64,
    pub last_status_at: Option<i64>,
    pub created_at: i64,
    /// Whether everyone may see the view counts of this account's posts.
    pub public_view_counts: bool,
    /// When a moderator limited the account, if one did.
    pub limited_at: Option<i64>,
    /// When a moderator suspended the account, if one did.
    pub suspended_at: Option<i64>,
    /// The uploaded avatar's storage key; `None`: the generated default.
    pub avatar_key: Option<String>,
    /// The uploaded header's storage key; `None`: the default.
    pub header_key: Option<String>,
    /// When a moderator marked the account's media sensitive, if one did.
    pub sensitized_at: Option<i64>,
    /// When a moderator disabled the account's login, if one did.
    pub disabled_at: Option<i64>,
    /// Since when the sign-up waits for a moderator's approval; `None` once approved.
    pub pending_since: Option<i64>,
    /// The account's server for a remote account; `None` for a local one.
    pub domain: Option<String>,
    /// A remote account's ActivityPub actor id (a local one's is derived from its name).
    pub uri: Option<String>,
    /// A remote account's profile page.
    pub url: Option<String>,
}

const ACCOUNT_COLUMNS: &str =
    "id, username, display_name, note, note_html, fields_json, locked, bot, \
    discoverable, followers_count, following_count, statuses_count, last_status_at, created_at, public_view_counts, limited_at, suspended_at, \
    avatar_key, header_key, sensitized_at, disabled_at, pending_since, domain, uri, url";

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: Id,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub note: String,
    pub note_html: String,
    pub bot: bool,
    pub locked: bool,
    pub created_at: i64,
    /// `Some(reason)` when the sign-up waits for a moderator's approval.
    pub pending: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct UserRecord {
    pub account_id: Id,
    pub email: String,
    pub password_hash: String,
    pub default_visibility: String,
    pub default_sensitive: bool,
    pub default_language: Option<String>,
}

/// Changes to a profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountUpdate {
    pub display_name: Option<String>,
    pub note: Option<(String, String)>,
    pub fields_json: Option<String>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    pub default_visibility: Option<String>,
    pub default_sensitive: Option<bool>,
    pub default_language: Option<String>,
}

impl Store {
    /// Creates an account and its user in one transaction. A taken username or email is a
    /// `Conflict` naming which.
    pub async fn create_account(&self, a: &NewAccount) -> Result<Account> {
        if self.account_by_username(&a.username).await.is_ok() {
            return Err(StoreError::Conflict("username".into()));
        }
        if self.user_by_login(&a.email).await.is_ok() {
            return Err(StoreError::Conflict("email".into()));
        }
        transaction!(self, tx => {
            sqlx::query(
                "INSERT INTO accounts (id, username, display_name, note, note_html, bot, locked, created_at, \
                 pending_since, sign_up_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(a.id).bind(&a.username).bind(&a.display_name).bind(&a.note).bind(&a.note_html)
            .bind(a.bot).bind(a.locked).bind(a.created_at)
            .bind(a.pending.as_ref().map(|_| a.created_at)).bind(a.pending.as_deref())
            .execute(&mut *tx).await?;
            sqlx::query("INSERT INTO users (account_id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)")
                .bind(a.id).bind(&a.email).bind(&a.password_hash).bind(a.created_at)
                .execute(&mut *tx).await?;
        });
        self.account(a.id).await
    }

    pub async fn account(&self, id: Id) -> Result<Account> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(id).fetch_one(db).await?))
    }

    /// Accounts by id, in no particular order; unknown ids are left out.
    pub async fn accounts(&self, ids: &[Id]) -> Result<Vec<Account>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<Account> = read!(self, db => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk { q = q.bind(*id); }
                q.fetch_all(db).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// The local account with this username (remote accounts share usernames).
    pub async fn account_by_username(&self, username: &str) -> Result<Account> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE lower(username) = lower($1) AND domain IS NULL"
        );
        read!(self, db => Ok(sqlx::query_as(&sql).bind(username).fetch_one(db).await?))
    }

    /// Local accounts whose usernames are among `names` (case-insensitive): mention
    /// resolution.
    pub async fn accounts_by_usernames(&self, names: &[String]) -> Result<Vec<Account>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let lowered: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE domain IS NULL AND lower(username) IN ({})",
            placeholders(1, lowered.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_as(&sql);
            for n in &lowered { q = q.bind(n); }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// The user with this email or username.
    pub async fn user_by_login(&self, login: &str) -> Result<UserRecord> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT u.account_id, u.email, u.password_hash, u.default_visibility, u.default_sensitive, u.default_language \
             FROM users u JOIN accounts a ON a.id = u.account_id \
             WHERE lower(u.email) = lower($1) OR lower(a.username) = lower($1)",
        ).bind(login).fetch_one(db).await?))
    }

    pub async fn user(&self, account_id: Id) -> Result<UserRecord> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT account_id, email, password_hash, default_visibility, default_sensitive, default_language \
             FROM users WHERE account_id = $1",
        ).bind(account_id).fetch_one(db).await?))
    }

    /// Applies a profile update, with the jobs it owes (its actor sent to remote
    /// followers' servers) in the same transaction.
    pub async fn update_account(
        &self,
        id: Id,
        u: &AccountUpdate,
        owed: &[crate::NewJob],
    ) -> Result<Account> {
        transaction!(self, tx => {
            crate::jobs::insert_jobs!(tx, owed);
            if let Some(v) = &u.display_name {
                sqlx::query("UPDATE accounts SET display_name = $1 WHERE id = $2").bind(v).bind(id).execute(&mut *tx).await?;
            }
            if let Some((note, html)) = &u.note {
                sqlx::query("UPDATE accounts SET note = $1, note_html = $2 WHERE id = $3").bind(note).bind(html).bind(id).execute(&mut *tx).await?;
            }
            if let Some(v) = &u.fields_json {
                sqlx::query("UPDATE accounts SET fields_json = $1 WHERE id = $2").bind(v).bind(id).execute(&mut *tx).await?;
            }
            for (column, value) in [("locked", u.locked), ("bot", u.bot), ("discoverable", u.discoverable)] {
                if let Some(v) = value {
                    sqlx::query(&format!("UPDATE accounts SET {column} = $1 WHERE id = $2")).bind(v).bind(id).execute(&mut *tx).await?;
                }
            }
            if let Some(v) = &u.default_visibility {
                sqlx::query("UPDATE users SET default_visibility = $1 WHERE account_id = $2").bind(v).bind(id).execute(&mut *tx).await?;
            }
            if let Some(v) = u.default_sensitive {
                sqlx::query("UPDATE users SET default_sensitive = $1 WHERE account_id = $2").bind(v).bind(id).execute(&mut *tx).await?;
            }
            if let Some(v) = &u.default_language {
                sqlx::query("UPDATE users SET default_language = $1 WHERE account_id = $2").bind(v).bind(id).execute(&mut *tx).await?;
            }
        });
        self.account(id).await
    }

    pub async fn count_users(&self) -> Result<i64> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(db).await?))
    }

    pub async fn count_local_statuses(&self) -> Result<i64> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM statuses WHERE reblog_of_id IS NULL \
            AND account_id IN (SELECT id FROM accounts WHERE domain IS NULL)").fetch_one(db).await?))
    }

    /// Accounts with the most followers: the demo's hint and the instance's contact.
    pub async fn first_account(&self) -> Result<Option<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE domain IS NULL ORDER BY id LIMIT 1"
        );
        read!(self, db => Ok(sqlx::query_as(&sql).fetch_optional(db).await?))
    }

    /// Bulk insert for the demo world and benchmarks: accounts without users.
    pub async fn insert_accounts_bulk(&self, accounts: &[(Id, String, String, i64)]) -> Result<()> {
        for chunk in accounts.chunks(200) {
            let sql = format!(
                "INSERT INTO accounts (id, username, display_name, created_at) VALUES {}",
                rows_placeholders(chunk.len(), 4)
            );
            write!(self, db => {
                let mut q = sqlx::query(&sql);
                for (id, username, display, created) in chunk {
                    q = q.bind(*id).bind(username).bind(display).bind(*created);
                }
                q.execute(db).await?;
            });
        }
        Ok(())
    }

    /// Limits an account (its notifications fall under the recipients' policy for limited
    /// accounts) or, with `None`, lifts the limit. False when there is no such account.
    pub async fn set_limited(&self, account: Id, at: Option<i64>) -> Result<bool> {
        Ok(
            write!(self, db => sqlx::query("UPDATE accounts SET limited_at = $1 WHERE id = $2")
            .bind(at).bind(account).execute(db).await?.rows_affected())
                == 1,
        )
    }

    /// How many accounts `account` started following since `since`.
    pub async fn follows_since(&self, account: Id, since: i64) -> Result<i64> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM follows WHERE account_id = $1 AND created_at > $2",
        ).bind(account).bind(since).fetch_one(db).await?))
    }

    /// The texts of an account's latest original posts, newest first.
    pub async fn recent_texts(&self, account: Id, limit: usize) -> Result<Vec<String>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT text FROM statuses WHERE account_id = $1 AND reblog_of_id IS NULL ORDER BY id DESC LIMIT $2",
        ).bind(account).bind(limit as i64).fetch_all(db).await?))
    }
}
