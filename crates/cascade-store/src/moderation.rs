//! Moderation: staff roles, and the moderators' view of accounts and reports.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, transaction, write, Arg, Result, Store};

/// A report with what moderators did about it.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ModeratedReport {
    pub id: Id,
    pub account_id: Id,
    pub target_account_id: Id,
    pub category: String,
    pub comment: String,
    /// The attached statuses' ids, comma-separated.
    pub status_ids: String,
    pub created_at: i64,
    pub assigned_account_id: Option<Id>,
    pub action_taken_by_account_id: Option<Id>,
    pub action_taken_at: Option<i64>,
    pub updated_at: Option<i64>,
}

const REPORT_COLUMNS: &str =
    "id, account_id, target_account_id, category, comment, status_ids, created_at, \
     assigned_account_id, action_taken_by_account_id, action_taken_at, updated_at";

/// What a moderator did to an account and told its owner (Mastodon's `AccountWarning`).
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct WarningRecord {
    pub id: Id,
    /// The moderator; never shown to the warned account.
    pub account_id: Option<Id>,
    pub target_account_id: Id,
    /// `none`, `disable`, `mark_statuses_as_sensitive`, `delete_statuses`, `sensitive`,
    /// `silence` or `suspend`.
    pub action: String,
    pub text: String,
    pub report_id: Option<Id>,
    /// The statuses the warning is about, comma-separated.
    pub status_ids: String,
    pub created_at: i64,
}

/// A sign-up refused by the hash of its canonical email address.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct EmailBlockRecord {
    pub id: Id,
    pub canonical_email_hash: String,
    pub created_at: i64,
}

/// A client address or range and what it may not do.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct IpBlockRecord {
    pub id: Id,
    /// One address, or a range in CIDR notation.
    pub ip: String,
    /// `sign_up_requires_approval`, `sign_up_block` or `no_access`.
    pub severity: String,
    pub comment: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
}

const IP_BLOCK_COLUMNS: &str = "id, ip, severity, comment, created_at, updated_at, expires_at";

/// Which accounts a moderator lists.
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    /// `active`, `silenced` (limited), `suspended`, `pending`, `disabled` or
    /// `sensitized`; `None` for all.
    pub status: Option<String>,
    /// Username, display name or email contain this (case-insensitive).
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// Only accounts with a staff role.
    pub staff: bool,
}

/// Which reports a moderator lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportQuery {
    pub resolved: bool,
    pub account_id: Option<Id>,
    pub target_account_id: Option<Id>,
}

impl Store {
    /// Sets (or, with `None`, removes) an account's staff role; false when there is no
    /// such account.
    pub async fn set_role(&self, account: Id, role: Option<&str>, now: i64) -> Result<bool> {
        self.account(account).await?;
        match role {
            Some(role) => {
                write!(self, db => sqlx::query(
                    "INSERT INTO account_roles (account_id, role, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (account_id) DO UPDATE SET role = excluded.role",
                ).bind(account).bind(role).bind(now).execute(db).await?.rows_affected());
            }
            None => {
                write!(self, db => sqlx::query("DELETE FROM account_roles WHERE account_id = $1")
                    .bind(account).execute(db).await?.rows_affected());
            }
        }
        Ok(true)
    }

    pub async fn role(&self, account: Id) -> Result<Option<String>> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT role FROM account_roles WHERE account_id = $1")
            .bind(account).fetch_optional(db).await?))
    }

    /// A page of accounts for moderators, newest first by id.
    pub async fn moderated_accounts(
        &self,
        q: &AccountQuery,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<Id>> {
        let mut args = vec![
            Arg::Int(max_id.unwrap_or(i64::MAX)),
            Arg::Int(min_id.unwrap_or(i64::MIN)),
        ];
        let mut filters = String::new();
        match q.status.as_deref() {
            Some("active") => filters.push_str(
                " AND a.suspended_at IS NULL AND a.limited_at IS NULL AND a.pending_since IS NULL",
            ),
            Some("pending") => filters.push_str(" AND a.pending_since IS NOT NULL"),
            Some("disabled") => filters.push_str(" AND a.disabled_at IS NOT NULL"),
            Some("sensitized") => filters.push_str(" AND a.sensitized_at IS NOT NULL"),
            Some("silenced") => filters.push_str(" AND a.limited_at IS NOT NULL"),
            Some("suspended") => filters.push_str(" AND a.suspended_at IS NOT NULL"),
            _ => {}
        }
        for (column, value) in [
            ("a.username", &q.username),
            ("a.display_name", &q.display_name),
            ("u.email", &q.email),
        ] {
            if let Some(v) = value {
                args.push(Arg::Text(format!("%{}%", v.to_lowercase())));
                filters.push_str(&format!(" AND lower({column}) LIKE ${}", args.len()));
            }
        }
        if q.staff {
            filters
                .push_str(" AND EXISTS (SELECT 1 FROM account_roles r WHERE r.account_id = a.id)");
        }
        let ascending = min_id.is_some() && max_id.is_none();
        let order = if ascending { "ASC" } else { "DESC" };
        args.push(Arg::Int(limit as i64));
        let sql = format!(
            "SELECT a.id FROM accounts a JOIN users u ON u.account_id = a.id \
             WHERE a.id < $1 AND a.id > $2{filters} ORDER BY a.id {order} LIMIT ${}",
            args.len()
        );
        let mut ids: Vec<Id> = read!(self, db => {
            let mut query = sqlx::query_scalar(&sql);
            for a in &args {
                query = match a {
                    Arg::Int(i) => query.bind(*i),
                    Arg::Text(t) => query.bind(t.clone()),
                };
            }
            query.fetch_all(db).await?
        });
        if ascending {
            ids.reverse();
        }
        Ok(ids)
    }

    pub async fn moderated_report(&self, id: Id) -> Result<ModeratedReport> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(id).fetch_one(db).await?))
    }

    /// A page of reports for moderators, newest first by id.
    pub async fn moderated_reports(
        &self,
        q: ReportQuery,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<ModeratedReport>> {
        let resolved = if q.resolved {
            "action_taken_at IS NOT NULL"
        } else {
            "action_taken_at IS NULL"
        };
        let ascending = min_id.is_some() && max_id.is_none();
        let order = if ascending { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE {resolved} AND id < $1 AND id > $2 \
             AND ($3 = 0 OR account_id = $3) AND ($4 = 0 OR target_account_id = $4) \
             ORDER BY id {order} LIMIT $5"
        );
        let mut rows: Vec<ModeratedReport> = read!(self, db => sqlx::query_as(&sql)
            .bind(max_id.unwrap_or(i64::MAX)).bind(min_id.unwrap_or(i64::MIN))
            .bind(q.account_id.unwrap_or(0)).bind(q.target_account_id.unwrap_or(0)).bind(limit as i64)
            .fetch_all(db).await?);
        if ascending {
            rows.reverse();
        }
        Ok(rows)
    }

    /// Assigns a report to a moderator (or, with `None`, to nobody).
    pub async fn assign_report(&self, id: Id, to: Option<Id>, now: i64) -> Result<bool> {
        Ok(write!(self, db => sqlx::query(
            "UPDATE reports SET assigned_account_id = $1, updated_at = $2 WHERE id = $3",
        ).bind(to).bind(now).bind(id).execute(db).await?.rows_affected())
            == 1)
    }

    /// Resolves a report by `by` (or, with `None`, reopens it).
    pub async fn resolve_report(&self, id: Id, by: Option<Id>, now: i64) -> Result<bool> {
        let at = by.map(|_| now);
        Ok(write!(self, db => sqlx::query(
            "UPDATE reports SET action_taken_by_account_id = $1, action_taken_at = $2, updated_at = $3 WHERE id = $4",
        ).bind(by).bind(at).bind(now).bind(id).execute(db).await?.rows_affected())
            == 1)
    }

    /// Marks an account's media sensitive (`Some(when)`) or lifts the mark.
    pub async fn set_sensitized(&self, account: Id, at: Option<i64>) -> Result<bool> {
        Ok(
            write!(self, db => sqlx::query("UPDATE accounts SET sensitized_at = $1 WHERE id = $2")
            .bind(at).bind(account).execute(db).await?.rows_affected())
                == 1,
        )
    }

    /// Disables an account's login (`Some(when)`) or enables it again.
    pub async fn set_disabled(&self, account: Id, at: Option<i64>) -> Result<bool> {
        Ok(
            write!(self, db => sqlx::query("UPDATE accounts SET disabled_at = $1 WHERE id = $2")
            .bind(at).bind(account).execute(db).await?.rows_affected())
                == 1,
        )
    }

    /// Approves a waiting sign-up; false when the account waits for nothing.
    pub async fn approve_account(&self, account: Id) -> Result<bool> {
        Ok(write!(self, db => sqlx::query(
            "UPDATE accounts SET pending_since = NULL WHERE id = $1 AND pending_since IS NOT NULL",
        ).bind(account).execute(db).await?.rows_affected())
            == 1)
    }

    /// Rejects a waiting sign-up: the account and its login are deleted (a waiting
    /// account has written nothing else). False when the account waits for nothing.
    pub async fn reject_account(&self, account: Id) -> Result<bool> {
        Ok(transaction!(self, tx => {
            let waiting: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM accounts WHERE id = $1 AND pending_since IS NOT NULL",
            ).bind(account).fetch_optional(&mut *tx).await?;
            if waiting.is_some() {
                sqlx::query("DELETE FROM tokens WHERE account_id = $1").bind(account).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM accounts WHERE id = $1").bind(account).execute(&mut *tx).await?;
            }
            waiting.is_some()
        }))
    }

    /// Why a waiting sign-up asked to join.
    pub async fn sign_up_reason(&self, account: Id) -> Result<Option<String>> {
        read!(self, db => Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT sign_up_reason FROM accounts WHERE id = $1",
        ).bind(account).fetch_optional(db).await?.flatten()))
    }

    pub async fn insert_warning(&self, w: &WarningRecord) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO account_warnings (id, account_id, target_account_id, action, text, report_id, status_ids, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        ).bind(w.id).bind(w.account_id).bind(w.target_account_id).bind(&w.action).bind(&w.text)
            .bind(w.report_id).bind(&w.status_ids).bind(w.created_at).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn warning(&self, id: Id) -> Result<WarningRecord> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT id, account_id, target_account_id, action, text, report_id, status_ids, created_at \
             FROM account_warnings WHERE id = $1",
        ).bind(id).fetch_one(db).await?))
    }

    /// The warnings an account received, newest first.
    pub async fn warnings_of(&self, account: Id) -> Result<Vec<WarningRecord>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT id, account_id, target_account_id, action, text, report_id, status_ids, created_at \
             FROM account_warnings WHERE target_account_id = $1 ORDER BY id DESC LIMIT 200",
        ).bind(account).fetch_all(db).await?))
    }

    /// A page of canonical email blocks, newest first.
    pub async fn email_blocks(
        &self,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<EmailBlockRecord>> {
        let ascending = min_id.is_some() && max_id.is_none();
        let order = if ascending { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT id, canonical_email_hash, created_at FROM canonical_email_blocks \
                           WHERE id < $1 AND id > $2 ORDER BY id {order} LIMIT $3"
        );
        let mut rows: Vec<EmailBlockRecord> = read!(self, db => sqlx::query_as(&sql)
            .bind(max_id.unwrap_or(i64::MAX)).bind(min_id.unwrap_or(i64::MIN)).bind(limit as i64).fetch_all(db).await?);
        if ascending {
            rows.reverse();
        }
        Ok(rows)
    }

    pub async fn email_block(&self, id: Id) -> Result<EmailBlockRecord> {
        read!(self, db => Ok(sqlx::query_as("SELECT id, canonical_email_hash, created_at FROM canonical_email_blocks WHERE id = $1")
            .bind(id).fetch_one(db).await?))
    }

    /// The blocks on this canonical hash (none or one).
    pub async fn email_blocks_matching(&self, hash: &str) -> Result<Vec<EmailBlockRecord>> {
        read!(self, db => Ok(sqlx::query_as("SELECT id, canonical_email_hash, created_at FROM canonical_email_blocks WHERE canonical_email_hash = $1")
            .bind(hash).fetch_all(db).await?))
    }

    /// Adds a block; `Conflict` when the hash is blocked already.
    pub async fn insert_email_block(&self, b: &EmailBlockRecord) -> Result<()> {
        let added = write!(self, db => sqlx::query(
            "INSERT INTO canonical_email_blocks (id, canonical_email_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (canonical_email_hash) DO NOTHING",
        ).bind(b.id).bind(&b.canonical_email_hash).bind(b.created_at).execute(db).await?.rows_affected());
        if added == 0 {
            return Err(crate::StoreError::Conflict("canonical_email_hash".into()));
        }
        Ok(())
    }

    pub async fn delete_email_block(&self, id: Id) -> Result<bool> {
        Ok(
            write!(self, db => sqlx::query("DELETE FROM canonical_email_blocks WHERE id = $1")
            .bind(id).execute(db).await?.rows_affected())
                == 1,
        )
    }

    /// A page of IP blocks, newest first.
    pub async fn ip_blocks(
        &self,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<IpBlockRecord>> {
        let ascending = min_id.is_some() && max_id.is_none();
        let order = if ascending { "ASC" } else { "DESC" };
        let sql = format!("SELECT {IP_BLOCK_COLUMNS} FROM ip_blocks WHERE id < $1 AND id > $2 ORDER BY id {order} LIMIT $3");
        let mut rows: Vec<IpBlockRecord> = read!(self, db => sqlx::query_as(&sql)
            .bind(max_id.unwrap_or(i64::MAX)).bind(min_id.unwrap_or(i64::MIN)).bind(limit as i64).fetch_all(db).await?);
        if ascending {
            rows.reverse();
        }
        Ok(rows)
    }

    /// Every IP block that has not expired at `now`.
    pub async fn live_ip_blocks(&self, now: i64) -> Result<Vec<IpBlockRecord>> {
        let sql = format!("SELECT {IP_BLOCK_COLUMNS} FROM ip_blocks WHERE expires_at IS NULL OR expires_at > $1 ORDER BY id LIMIT 100000");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(now).fetch_all(db).await?))
    }

    pub async fn ip_block(&self, id: Id) -> Result<IpBlockRecord> {
        let sql = format!("SELECT {IP_BLOCK_COLUMNS} FROM ip_blocks WHERE id = $1");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(id).fetch_one(db).await?))
    }

    /// Writes a block, new or changed.
    pub async fn put_ip_block(&self, b: &IpBlockRecord) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO ip_blocks (id, ip, severity, comment, created_at, updated_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET ip = excluded.ip, \
             severity = excluded.severity, comment = excluded.comment, updated_at = excluded.updated_at, \
             expires_at = excluded.expires_at",
        ).bind(b.id).bind(&b.ip).bind(&b.severity).bind(&b.comment).bind(b.created_at).bind(b.updated_at)
            .bind(b.expires_at).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn delete_ip_block(&self, id: Id) -> Result<bool> {
        Ok(
            write!(self, db => sqlx::query("DELETE FROM ip_blocks WHERE id = $1")
            .bind(id).execute(db).await?.rows_affected())
                == 1,
        )
    }
}
