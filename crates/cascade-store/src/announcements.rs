//! Announcements from the administrators, and each user's dismissals and reactions.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{placeholders, read, transaction, write, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct AnnouncementRecord {
    pub id: Id,
    /// What the administrator wrote; `content_html` is its rendering.
    pub text: String,
    pub content_html: String,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub all_day: bool,
    pub published_at: i64,
    pub updated_at: i64,
}

/// One reaction name on an announcement: how many accounts chose it, and whether the
/// viewer did.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ReactionCount {
    pub announcement_id: Id,
    pub name: String,
    pub count: i64,
    pub me: bool,
}

const COLUMNS: &str =
    "id, text, content_html, starts_at, ends_at, all_day, published_at, updated_at";

impl Store {
    /// Writes an announcement, new or changed (same id).
    pub async fn save_announcement(&self, a: &AnnouncementRecord) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO announcements (id, text, content_html, starts_at, ends_at, all_day, published_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET text = excluded.text, \
             content_html = excluded.content_html, starts_at = excluded.starts_at, ends_at = excluded.ends_at, \
             all_day = excluded.all_day, updated_at = excluded.updated_at",
        )
        .bind(a.id).bind(&a.text).bind(&a.content_html).bind(a.starts_at).bind(a.ends_at)
        .bind(a.all_day).bind(a.published_at).bind(a.updated_at)
        .execute(db).await?.rows_affected());
        Ok(())
    }

    /// Removes an announcement with its dismissals and reactions; false when unknown.
    pub async fn delete_announcement(&self, id: Id) -> Result<bool> {
        let removed = transaction!(self, tx => {
            sqlx::query("DELETE FROM announcement_reactions WHERE announcement_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM announcement_dismissals WHERE announcement_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM announcements WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected() == 1
        });
        Ok(removed)
    }

    pub async fn announcement(&self, id: Id) -> Result<AnnouncementRecord> {
        let sql = format!("SELECT {COLUMNS} FROM announcements WHERE id = $1");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(id).fetch_one(db).await?))
    }

    /// Every announcement, oldest first (the administrators' list).
    pub async fn all_announcements(&self) -> Result<Vec<AnnouncementRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM announcements ORDER BY id");
        read!(self, db => Ok(sqlx::query_as(&sql).fetch_all(db).await?))
    }

    /// The announcements shown at `now`: published and not ended, oldest first, and
    /// (unless `with_dismissed`) not dismissed by `account`.
    pub async fn current_announcements(
        &self,
        account: Id,
        now: i64,
        with_dismissed: bool,
    ) -> Result<Vec<AnnouncementRecord>> {
        let dismissed = if with_dismissed {
            // Always true; it keeps `$1` in the query, so both spellings bind alike.
            "$1 = $1"
        } else {
            "NOT EXISTS (SELECT 1 FROM announcement_dismissals d WHERE d.announcement_id = a.id AND d.account_id = $1)"
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM announcements a WHERE published_at <= $2 AND (ends_at IS NULL OR ends_at > $2) \
             AND {dismissed} ORDER BY id"
        );
        read!(self, db => Ok(sqlx::query_as(&sql).bind(account).bind(now).fetch_all(db).await?))
    }

    /// Which of `ids` `account` dismissed.
    pub async fn dismissed_among(&self, account: Id, ids: &[Id]) -> Result<Vec<Id>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT announcement_id FROM announcement_dismissals WHERE account_id = $1 AND announcement_id IN ({})",
            placeholders(2, ids.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_scalar(&sql).bind(account);
            for id in ids { q = q.bind(*id); }
            Ok(q.fetch_all(db).await?)
        })
    }

    pub async fn dismiss_announcement(&self, id: Id, account: Id, now: i64) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO announcement_dismissals (announcement_id, account_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (announcement_id, account_id) DO NOTHING",
        ).bind(id).bind(account).bind(now).execute(db).await?.rows_affected());
        Ok(())
    }

    /// The reactions on each of `ids`, by name, in the order first chosen.
    pub async fn announcement_reactions(
        &self,
        account: Id,
        ids: &[Id],
    ) -> Result<Vec<ReactionCount>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT announcement_id, name, COUNT(*) AS count, \
             MAX(CASE WHEN account_id = $1 THEN 1 ELSE 0 END) = 1 AS me \
             FROM announcement_reactions WHERE announcement_id IN ({}) \
             GROUP BY announcement_id, name ORDER BY MIN(created_at), name",
            placeholders(2, ids.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_as(&sql).bind(account);
            for id in ids { q = q.bind(*id); }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// Adds `account`'s reaction `name` unless the announcement already has `max_names`
    /// other names; returns false when it has (the reaction is refused). Checked and
    /// written in one transaction.
    pub async fn add_announcement_reaction(
        &self,
        id: Id,
        account: Id,
        name: &str,
        max_names: usize,
        now: i64,
    ) -> Result<bool> {
        let added = transaction!(self, tx => {
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT name FROM announcement_reactions WHERE announcement_id = $1",
            ).bind(id).fetch_all(&mut *tx).await?;
            if names.iter().any(|n| n == name) || names.len() < max_names {
                sqlx::query(
                    "INSERT INTO announcement_reactions (announcement_id, account_id, name, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (announcement_id, account_id, name) DO NOTHING",
                ).bind(id).bind(account).bind(name).bind(now).execute(&mut *tx).await?;
                true
            } else {
                false
            }
        });
        Ok(added)
    }

    pub async fn remove_announcement_reaction(
        &self,
        id: Id,
        account: Id,
        name: &str,
    ) -> Result<()> {
        write!(self, db => sqlx::query(
            "DELETE FROM announcement_reactions WHERE announcement_id = $1 AND account_id = $2 AND name = $3",
        ).bind(id).bind(account).bind(name).execute(db).await?.rows_affected());
        Ok(())
    }
}
