//! Account migration: a local account's aliases (the actor ids it says it also is) and
//! where an account moved to.

use cascade_core::Id;

use crate::jobs::insert_jobs;
use crate::{read, transaction, NewJob, Result, Store};

impl Store {
    /// The actor ids a local account says it also is, oldest first.
    pub async fn account_aliases(&self, account: Id) -> Result<Vec<String>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT uri FROM account_aliases WHERE account_id = $1 ORDER BY created_at, uri",
        ).bind(account).fetch_all(db).await?))
    }

    /// Replaces a local account's aliases with `uris`, with the jobs the change owes (its
    /// actor sent to remote followers' servers).
    pub async fn set_account_aliases(
        &self,
        account: Id,
        uris: &[String],
        now: i64,
        owed: &[NewJob],
    ) -> Result<()> {
        transaction!(self, tx => {
            insert_jobs!(tx, owed);
            sqlx::query("DELETE FROM account_aliases WHERE account_id = $1")
                .bind(account).execute(&mut *tx).await?;
            for uri in uris {
                sqlx::query(
                    "INSERT INTO account_aliases (account_id, uri, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (account_id, uri) DO NOTHING",
                ).bind(account).bind(uri).bind(now).execute(&mut *tx).await?;
            }
        });
        Ok(())
    }

    /// Records that `account` moved to `to` (a later move replaces an earlier one), with
    /// the jobs the move owes (its followers moved), in one transaction.
    pub async fn set_moved(&self, account: Id, to: Id, now: i64, jobs: &[NewJob]) -> Result<()> {
        transaction!(self, tx => {
            sqlx::query(
                "INSERT INTO account_moves (account_id, moved_to_account_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (account_id) DO UPDATE SET moved_to_account_id = excluded.moved_to_account_id, created_at = excluded.created_at",
            ).bind(account).bind(to).bind(now).execute(&mut *tx).await?;
            insert_jobs!(tx, jobs);
            Ok(())
        })
    }

    /// The account `account` moved to, if it moved.
    pub async fn moved_to(&self, account: Id) -> Result<Option<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT moved_to_account_id FROM account_moves WHERE account_id = $1",
        ).bind(account).fetch_optional(db).await?))
    }

    /// The local accounts following `account`, by follow id after `after`, `limit` at most.
    pub async fn local_follower_batch(
        &self,
        account: Id,
        after: Id,
        limit: usize,
    ) -> Result<Vec<(Id, Id)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT f.id, f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id \
             WHERE f.target_id = $1 AND f.id > $2 AND a.domain IS NULL ORDER BY f.id LIMIT $3",
        ).bind(account).bind(after).bind(limit as i64).fetch_all(db).await?))
    }
}
