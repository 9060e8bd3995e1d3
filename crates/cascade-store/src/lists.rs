//! Lists: named subsets of the accounts one follows, each with its own timeline.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, write, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ListRecord {
    pub id: Id,
    pub account_id: Id,
    pub title: String,
    pub replies_policy: String,
    pub exclusive: bool,
}

impl Store {
    /// Writes a new list unless its owner already has `max`; false when they do.
    pub async fn create_list(&self, l: &ListRecord, now: i64, max: usize) -> Result<bool> {
        let n = write!(self, db => sqlx::query(
            "INSERT INTO lists (id, account_id, title, replies_policy, exclusive, created_at) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE (SELECT COUNT(*) FROM lists WHERE account_id = $2) < $7",
        ).bind(l.id).bind(l.account_id).bind(&l.title).bind(&l.replies_policy).bind(l.exclusive).bind(now)
        .bind(max as i64).execute(db).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn update_list(&self, l: &ListRecord) -> Result<()> {
        write!(self, db => sqlx::query(
            "UPDATE lists SET title = $1, replies_policy = $2, exclusive = $3 WHERE id = $4 AND account_id = $5",
        ).bind(&l.title).bind(&l.replies_policy).bind(l.exclusive).bind(l.id).bind(l.account_id).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn delete_list(&self, id: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM lists WHERE id = $1").bind(id).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn list(&self, id: Id) -> Result<ListRecord> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT id, account_id, title, replies_policy, exclusive FROM lists WHERE id = $1",
        ).bind(id).fetch_one(db).await?))
    }

    pub async fn lists_of(&self, account: Id) -> Result<Vec<ListRecord>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT id, account_id, title, replies_policy, exclusive FROM lists WHERE account_id = $1 ORDER BY id",
        ).bind(account).fetch_all(db).await?))
    }

    /// The owner's lists that contain `member`.
    pub async fn lists_containing(&self, owner: Id, member: Id) -> Result<Vec<ListRecord>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT l.id, l.account_id, l.title, l.replies_policy, l.exclusive FROM lists l \
             JOIN list_accounts la ON la.list_id = l.id WHERE l.account_id = $1 AND la.account_id = $2 ORDER BY l.id",
        ).bind(owner).bind(member).fetch_all(db).await?))
    }

    pub async fn add_list_member(&self, list: Id, account: Id) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO list_accounts (list_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        ).bind(list).bind(account).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn remove_list_member(&self, list: Id, account: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM list_accounts WHERE list_id = $1 AND account_id = $2")
            .bind(list).bind(account).execute(db).await?.rows_affected());
        Ok(())
    }

    /// Members of a list, newest account first, below `before`.
    pub async fn list_members(
        &self,
        list: Id,
        before: Option<Id>,
        limit: usize,
    ) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT account_id FROM list_accounts WHERE list_id = $1 AND account_id < $2 ORDER BY account_id DESC LIMIT $3",
        ).bind(list).bind(before.unwrap_or(i64::MAX)).bind(limit as i64).fetch_all(db).await?))
    }

    /// Members of the owner's exclusive lists: their posts stay out of the owner's home.
    pub async fn exclusive_list_members(&self, owner: Id) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT DISTINCT la.account_id FROM list_accounts la JOIN lists l ON l.id = la.list_id \
             WHERE l.account_id = $1 AND l.exclusive = TRUE",
        ).bind(owner).fetch_all(db).await?))
    }
}
