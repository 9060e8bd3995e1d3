//! What follow suggestions are made of: followers not followed back, friends of friends,
//! the accounts that use a user's hashtags, the public posts that say what an account is
//! about, dismissals and the follow-back rule.

use cascade_core::Id;

use crate::{placeholders, read, write, Result, Store};

impl Store {
    /// Followers of `account` it does not follow back, newest follow first.
    pub async fn unreciprocated_followers(&self, account: Id, limit: usize) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT f.account_id FROM follows f WHERE f.target_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM follows b WHERE b.account_id = $1 AND b.target_id = f.account_id) \
             ORDER BY f.id DESC LIMIT $2",
        ).bind(account).bind(limit as i64).fetch_all(db).await?))
    }

    /// Accounts followed by the accounts `account` follows, that it does not follow
    /// itself, with how many of its follows follow each; most shared first.
    pub async fn friends_of_friends(&self, account: Id, limit: usize) -> Result<Vec<(Id, i64)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT f2.target_id, COUNT(*) AS n FROM follows f1 \
             JOIN follows f2 ON f2.account_id = f1.target_id \
             WHERE f1.account_id = $1 AND f2.target_id <> $1 AND NOT EXISTS \
             (SELECT 1 FROM follows m WHERE m.account_id = $1 AND m.target_id = f2.target_id) \
             GROUP BY f2.target_id ORDER BY n DESC, f2.target_id DESC LIMIT $2",
        ).bind(account).bind(limit as i64).fetch_all(db).await?))
    }

    /// Accounts other than `account` that used any of `tags` in a public post since
    /// `since` (ms), with how many of the tags each used; most tags, then most followed,
    /// first.
    pub async fn tag_users(
        &self,
        account: Id,
        tags: &[String],
        since: i64,
        limit: usize,
    ) -> Result<Vec<(Id, i64)>> {
        if tags.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT s.account_id, COUNT(DISTINCT st.tag_id) AS n FROM status_tags st \
             JOIN tags t ON t.id = st.tag_id JOIN statuses s ON s.id = st.status_id \
             JOIN accounts a ON a.id = s.account_id \
             WHERE t.name IN ({}) AND s.visibility = 0 AND s.created_at > $1 AND s.account_id <> $2 \
             GROUP BY s.account_id, a.followers_count ORDER BY n DESC, a.followers_count DESC LIMIT $3",
            placeholders(4, tags.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_as(&sql).bind(since).bind(account).bind(limit as i64);
            for t in tags {
                q = q.bind(t);
            }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// The newest `per` original public or unlisted posts of each account, as
    /// `(account, status, text)`: what an account talks about, from what anyone may read.
    pub async fn interest_posts(
        &self,
        accounts: &[Id],
        per: usize,
    ) -> Result<Vec<(Id, Id, String)>> {
        let mut out = Vec::new();
        for chunk in accounts.chunks(200) {
            let sql = format!(
                "SELECT account_id, id, text FROM (SELECT account_id, id, text, \
                 ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY id DESC) AS n FROM statuses \
                 WHERE account_id IN ({}) AND reblog_of_id IS NULL AND visibility <= 1) recent \
                 WHERE n <= $1",
                placeholders(2, chunk.len())
            );
            let rows: Vec<(Id, Id, String)> = read!(self, db => {
                let mut q = sqlx::query_as(&sql).bind(per as i64);
                for a in chunk {
                    q = q.bind(*a);
                }
                q.fetch_all(db).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    pub async fn dismissed_suggestions(&self, account: Id) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT target_id FROM suggestion_dismissals WHERE account_id = $1",
        ).bind(account).fetch_all(db).await?))
    }

    pub async fn dismiss_suggestion(&self, account: Id, target: Id, now: i64) -> Result<()> {
        write!(self, db => sqlx::query(
            "INSERT INTO suggestion_dismissals (account_id, target_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id, target_id) DO NOTHING",
        ).bind(account).bind(target).bind(now).execute(db).await?.rows_affected());
        Ok(())
    }

    /// The overlap from which `account` follows new followers back, if it turned the
    /// rule on.
    pub async fn follow_back_rule(&self, account: Id) -> Result<Option<f64>> {
        let rule: Option<Option<f64>> = read!(self, db => sqlx::query_scalar(
            "SELECT follow_back_min_overlap FROM accounts WHERE id = $1",
        ).bind(account).fetch_optional(db).await?);
        rule.ok_or(crate::StoreError::NotFound)
    }

    pub async fn set_follow_back_rule(&self, account: Id, min_overlap: Option<f64>) -> Result<()> {
        let n = write!(self, db => sqlx::query(
            "UPDATE accounts SET follow_back_min_overlap = $1 WHERE id = $2",
        ).bind(min_overlap).bind(account).execute(db).await?.rows_affected());
        if n == 0 {
            return Err(crate::StoreError::NotFound);
        }
        Ok(())
    }
}
