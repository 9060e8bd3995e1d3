//! Direct conversations: each participant's view of the direct statuses exchanged within
//! one set of accounts, with the latest status and whether it is unread.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, write, Range, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ConversationRecord {
    pub id: Id,
    pub account_id: Id,
    /// The other participants' ids, sorted and comma-separated.
    pub participants: String,
    pub last_status_id: Option<Id>,
    pub unread: bool,
}

const COLUMNS: &str = "id, account_id, participants, last_status_id, unread";

impl Store {
    /// Puts a new direct status at the top of `account`'s conversation with
    /// `participants`, opening it (with `new_id`) when there was none.
    pub async fn touch_conversation(
        &self,
        new_id: Id,
        account: Id,
        participants: &str,
        status: Id,
        unread: bool,
    ) -> Result<ConversationRecord> {
        let sql = format!(
            "INSERT INTO conversations (id, account_id, participants, last_status_id, unread) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (account_id, participants) DO UPDATE SET last_status_id = excluded.last_status_id, \
             unread = excluded.unread RETURNING {COLUMNS}"
        );
        write!(self, db => Ok(sqlx::query_as(&sql).bind(new_id).bind(account).bind(participants)
            .bind(status).bind(unread).fetch_one(db).await?))
    }

    /// A page of conversations, the most recently active first, paged by latest status
    /// (the oldest of the range with `range.oldest_first`). Conversations with an account
    /// the owner blocks are left out, as Mastodon removes them on blocking.
    pub async fn conversations(
        &self,
        account: Id,
        range: Range,
    ) -> Result<Vec<ConversationRecord>> {
        let order = if range.oldest_first { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM conversations c WHERE account_id = $1 AND last_status_id < $2 AND last_status_id > $3 \
             AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = $1 \
             AND ',' || c.participants || ',' LIKE '%,' || CAST(b.target_id AS TEXT) || ',%') \
             ORDER BY last_status_id {order} LIMIT $4"
        );
        let mut list: Vec<ConversationRecord> = read!(self, db => sqlx::query_as(&sql).bind(account)
            .bind(range.below.unwrap_or(i64::MAX)).bind(range.above.unwrap_or(i64::MIN))
            .bind(range.limit as i64).fetch_all(db).await?);
        if range.oldest_first {
            list.reverse();
        }
        Ok(list)
    }

    pub async fn conversation(&self, account: Id, id: Id) -> Result<ConversationRecord> {
        let sql = format!("SELECT {COLUMNS} FROM conversations WHERE account_id = $1 AND id = $2");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(account).bind(id).fetch_one(db).await?))
    }

    /// Marks a conversation read; false when it does not exist.
    pub async fn read_conversation(&self, account: Id, id: Id) -> Result<bool> {
        Ok(
            write!(self, db => sqlx::query("UPDATE conversations SET unread = FALSE WHERE account_id = $1 AND id = $2")
            .bind(account).bind(id).execute(db).await?.rows_affected())
                == 1,
        )
    }

    /// Removes a conversation from the account's list (a new message brings it back).
    pub async fn remove_conversation(&self, account: Id, id: Id) -> Result<bool> {
        Ok(
            write!(self, db => sqlx::query("DELETE FROM conversations WHERE account_id = $1 AND id = $2")
            .bind(account).bind(id).execute(db).await?.rows_affected())
                == 1,
        )
    }
}
