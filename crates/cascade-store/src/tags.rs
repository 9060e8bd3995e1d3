//! Hashtags as things to follow and to count: followed tags, and each tag's daily use.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, write, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct TagRecord {
    pub id: Id,
    pub name: String,
}

/// One day of a tag's use: the day (days since the Unix epoch), statuses and accounts.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct TagDay {
    pub day: i64,
    pub uses: i64,
    pub accounts: i64,
}

impl Store {
    /// A tag by its (lowercased) name.
    pub async fn tag(&self, name: &str) -> Result<Option<TagRecord>> {
        read!(self, db => Ok(sqlx::query_as("SELECT id, name FROM tags WHERE name = $1")
            .bind(name).fetch_optional(db).await?))
    }

    /// The tag of this name, created with `new_id` if it did not exist.
    pub async fn ensure_tag(&self, new_id: Id, name: &str, now: i64) -> Result<TagRecord> {
        write!(self, db => sqlx::query("INSERT INTO tags (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(new_id).bind(name).bind(now).execute(db).await?.rows_affected());
        self.tag(name).await?.ok_or(crate::StoreError::NotFound)
    }

    /// Follows a tag; false when it was followed already.
    pub async fn follow_tag(&self, id: Id, account: Id, tag: Id, now: i64) -> Result<bool> {
        Ok(write!(self, db => sqlx::query(
            "INSERT INTO tag_follows (id, account_id, tag_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        ).bind(id).bind(account).bind(tag).bind(now).execute(db).await?.rows_affected())
            == 1)
    }

    pub async fn unfollow_tag(&self, account: Id, tag: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM tag_follows WHERE account_id = $1 AND tag_id = $2")
            .bind(account).bind(tag).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn follows_tag(&self, account: Id, tag: Id) -> Result<bool> {
        read!(self, db => Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM tag_follows WHERE account_id = $1 AND tag_id = $2",
        ).bind(account).bind(tag).fetch_one(db).await? > 0))
    }

    /// A page of the tags an account follows, newest follow first: `(follow id, tag)`.
    pub async fn followed_tags(
        &self,
        account: Id,
        below: Option<Id>,
        above: Option<Id>,
        limit: usize,
    ) -> Result<Vec<(Id, Id, String)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT f.id, t.id, t.name FROM tag_follows f JOIN tags t ON t.id = f.tag_id \
             WHERE f.account_id = $1 AND f.id < $2 AND f.id > $3 ORDER BY f.id DESC LIMIT $4",
        ).bind(account).bind(below.unwrap_or(i64::MAX)).bind(above.unwrap_or(i64::MIN)).bind(limit as i64)
        .fetch_all(db).await?))
    }

    /// The names of every tag an account follows.
    pub async fn followed_tag_names(&self, account: Id) -> Result<Vec<String>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT t.name FROM tag_follows f JOIN tags t ON t.id = f.tag_id WHERE f.account_id = $1",
        ).bind(account).fetch_all(db).await?))
    }

    /// Accounts that follow one of a status's tags.
    pub async fn tag_followers_of(&self, status: Id) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT DISTINCT f.account_id FROM tag_follows f JOIN status_tags st ON st.tag_id = f.tag_id WHERE st.status_id = $1",
        ).bind(status).fetch_all(db).await?))
    }

    /// A tag's use per day from `since` (milliseconds) on, public and unlisted statuses
    /// only, as Mastodon counts it.
    pub async fn tag_days(&self, tag: Id, since: i64) -> Result<Vec<TagDay>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT s.created_at / 86400000 AS day, COUNT(*) AS uses, COUNT(DISTINCT s.account_id) AS accounts \
             FROM status_tags st JOIN statuses s ON s.id = st.status_id \
             WHERE st.tag_id = $1 AND s.created_at >= $2 AND s.visibility <= 1 GROUP BY s.created_at / 86400000",
        ).bind(tag).bind(since).fetch_all(db).await?))
    }
}
