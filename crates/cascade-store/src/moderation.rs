//! Moderation: staff roles, and the moderators' view of accounts and reports.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, write, Arg, Result, Store};

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

/// Which accounts a moderator lists.
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    /// `active`, `silenced` (limited) or `suspended`; `None` for all.
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
            Some("active") => {
                filters.push_str(" AND a.suspended_at IS NULL AND a.limited_at IS NULL")
            }
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
}
