//! Blocks of whole servers: a moderator's (`domain_blocks`, a domain and its subdomains)
//! and a person's own (`account_domain_blocks`, one domain exactly).

use cascade_core::Id;
use sqlx::FromRow;

use crate::{placeholders, read, transaction, write, Result, Store};

/// A moderator's block of a domain (Mastodon's `Admin::DomainBlock`).
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct DomainBlockRecord {
    pub id: Id,
    pub domain: String,
    /// `silence`, `suspend` or `noop`.
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: String,
    pub public_comment: String,
    pub obfuscate: bool,
    /// The time written into the limits or suspensions this block put on accounts.
    pub applied_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, domain, severity, reject_media, reject_reports, private_comment, \
     public_comment, obfuscate, applied_at, created_at, updated_at";

/// Accounts on `$1`, on any port of it, or on any of its subdomains, as a condition on
/// `accounts`.
const ON_DOMAIN: &str = "(domain = $1 OR substr(domain, 1, length($1) + 1) = $1 || ':' \
     OR (length(domain) > length($1) AND substr(domain, length(domain) - length($1)) = '.' || $1))";

/// The most blocks a server keeps in memory and lists; beyond it, the oldest are listed.
pub const MAX_DOMAIN_BLOCKS: i64 = 100_000;

impl Store {
    /// A page of the moderators' domain blocks, newest first.
    pub async fn domain_blocks(
        &self,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<DomainBlockRecord>> {
        let ascending = min_id.is_some() && max_id.is_none();
        let order = if ascending { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM domain_blocks WHERE id < $1 AND id > $2 ORDER BY id {order} LIMIT $3"
        );
        let mut rows: Vec<DomainBlockRecord> = read!(self, db => sqlx::query_as(&sql)
            .bind(max_id.unwrap_or(i64::MAX)).bind(min_id.unwrap_or(i64::MIN))
            .bind(limit as i64).fetch_all(db).await?);
        if ascending {
            rows.reverse();
        }
        Ok(rows)
    }

    /// Every domain block (at most `MAX_DOMAIN_BLOCKS`), oldest first.
    pub async fn all_domain_blocks(&self) -> Result<Vec<DomainBlockRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM domain_blocks ORDER BY id LIMIT $1");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(MAX_DOMAIN_BLOCKS).fetch_all(db).await?))
    }

    pub async fn domain_block(&self, id: Id) -> Result<DomainBlockRecord> {
        let sql = format!("SELECT {COLUMNS} FROM domain_blocks WHERE id = $1");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(id).fetch_one(db).await?))
    }

    /// Writes a block, new or changed; `Conflict` when another block has its domain.
    pub async fn put_domain_block(&self, b: &DomainBlockRecord) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO domain_blocks (id, domain, severity, reject_media, reject_reports, \
             private_comment, public_comment, obfuscate, applied_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO UPDATE SET \
             severity = excluded.severity, reject_media = excluded.reject_media, \
             reject_reports = excluded.reject_reports, private_comment = excluded.private_comment, \
             public_comment = excluded.public_comment, obfuscate = excluded.obfuscate, \
             applied_at = excluded.applied_at, updated_at = excluded.updated_at",
        ).bind(b.id).bind(&b.domain).bind(&b.severity).bind(b.reject_media).bind(b.reject_reports)
            .bind(&b.private_comment).bind(&b.public_comment).bind(b.obfuscate).bind(b.applied_at)
            .bind(b.created_at).bind(b.updated_at).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn delete_domain_block(&self, id: Id) -> Result<bool> {
        Ok(
            write!(self, db => sqlx::query("DELETE FROM domain_blocks WHERE id = $1")
            .bind(id).execute(db).await?.rows_affected())
                == 1,
        )
    }

    /// Suspends (`suspend`) or limits the accounts on `domain` and its subdomains that are
    /// not already, at `at`; returns the accounts it changed.
    pub async fn restrict_domain(&self, domain: &str, suspend: bool, at: i64) -> Result<Vec<Id>> {
        let column = if suspend {
            "suspended_at"
        } else {
            "limited_at"
        };
        let select = format!("SELECT id FROM accounts WHERE {ON_DOMAIN} AND {column} IS NULL");
        let update =
            format!("UPDATE accounts SET {column} = $2 WHERE {ON_DOMAIN} AND {column} IS NULL");
        transaction!(self, tx => {
            let ids: Vec<Id> = sqlx::query_scalar(&select).bind(domain).fetch_all(&mut *tx).await?;
            sqlx::query(&update).bind(domain).bind(at).execute(&mut *tx).await?;
            Ok(ids)
        })
    }

    /// Lifts the suspensions and limits a domain block put at `at` on the accounts of
    /// `domain` and its subdomains; returns the accounts it changed.
    pub async fn unrestrict_domain(&self, domain: &str, at: i64) -> Result<Vec<Id>> {
        let select = format!(
            "SELECT id FROM accounts WHERE {ON_DOMAIN} AND (suspended_at = $2 OR limited_at = $2)"
        );
        transaction!(self, tx => {
            let ids: Vec<Id> = sqlx::query_scalar(&select).bind(domain).bind(at)
                .fetch_all(&mut *tx).await?;
            for column in ["suspended_at", "limited_at"] {
                let update = format!("UPDATE accounts SET {column} = NULL WHERE {ON_DOMAIN} AND {column} = $2");
                sqlx::query(&update).bind(domain).bind(at).execute(&mut *tx).await?;
            }
            Ok(ids)
        })
    }

    /// A page of the domains `account` blocked, newest first, with their row ids.
    pub async fn account_domain_blocks(
        &self,
        account: Id,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<(Id, String)>> {
        let ascending = min_id.is_some() && max_id.is_none();
        let order = if ascending { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT id, domain FROM account_domain_blocks WHERE account_id = $1 AND id < $2 \
             AND id > $3 ORDER BY id {order} LIMIT $4"
        );
        let mut rows: Vec<(Id, String)> = read!(self, db => sqlx::query_as(&sql).bind(account)
            .bind(max_id.unwrap_or(i64::MAX)).bind(min_id.unwrap_or(i64::MIN))
            .bind(limit as i64).fetch_all(db).await?);
        if ascending {
            rows.reverse();
        }
        Ok(rows)
    }

    /// Records that `account` blocks `domain`; false when it already did.
    pub async fn block_domain(&self, id: Id, account: Id, domain: &str, now: i64) -> Result<bool> {
        Ok(write!(self, db => sqlx::query(
            "INSERT INTO account_domain_blocks (id, account_id, domain, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, domain) DO NOTHING",
        ).bind(id).bind(account).bind(domain).bind(now).execute(db).await?.rows_affected())
            == 1)
    }

    pub async fn unblock_domain(&self, account: Id, domain: &str) -> Result<bool> {
        Ok(write!(self, db => sqlx::query(
            "DELETE FROM account_domain_blocks WHERE account_id = $1 AND domain = $2",
        ).bind(account).bind(domain).execute(db).await?.rows_affected())
            == 1)
    }

    /// How many domains `account` blocks.
    pub async fn count_domain_blocks(&self, account: Id) -> Result<i64> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM account_domain_blocks WHERE account_id = $1",
        ).bind(account).fetch_one(db).await?))
    }

    /// The known accounts on the domains `account` blocked.
    pub async fn accounts_on_blocked_domains(&self, account: Id) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT a.id FROM accounts a JOIN account_domain_blocks d ON a.domain = d.domain \
             WHERE d.account_id = $1",
        ).bind(account).fetch_all(db).await?))
    }

    /// Which of `targets` are on a domain `account` blocked.
    pub async fn domain_blocked_among(&self, account: Id, targets: &[Id]) -> Result<Vec<Id>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT a.id FROM accounts a JOIN account_domain_blocks d ON a.domain = d.domain \
             WHERE d.account_id = $1 AND a.id IN ({})",
            placeholders(2, targets.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_scalar(&sql).bind(account);
            for t in targets {
                q = q.bind(*t);
            }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// Whether `account` blocked the domain of `other` (false for a local `other`).
    pub async fn blocks_domain_of(&self, account: Id, other: Id) -> Result<bool> {
        Ok(!self
            .domain_blocked_among(account, &[other])
            .await?
            .is_empty())
    }

    /// The accounts on `domain` that follow `account` or asked to.
    pub async fn followers_on_domain(&self, account: Id, domain: &str) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id \
             WHERE f.target_id = $1 AND a.domain = $2 \
             UNION SELECT r.account_id FROM follow_requests r JOIN accounts a ON a.id = r.account_id \
             WHERE r.target_id = $1 AND a.domain = $2",
        ).bind(account).bind(domain).fetch_all(db).await?))
    }
}
