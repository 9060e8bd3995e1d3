//! What search asks of the store: accounts and tags by name, and statuses in id or edit
//! order to fill the full-text index, which lives outside the database.

use cascade_core::Id;

use crate::{read, Result, StatusRecord, Store, TagRecord};

/// A status as the full-text index needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchableStatus {
    pub status: StatusRecord,
    pub mentions: Vec<Id>,
}

/// `text` for a `LIKE` pattern: `%`, `_` and the escape character itself taken literally.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Store {
    /// Accounts whose username or display name starts with `q`, or whose display name
    /// has a word starting with it (case-insensitive), not suspended: the exact username
    /// first, then the most followed. With `followed_by`, only accounts it follows.
    pub async fn search_accounts(
        &self,
        q: &str,
        followed_by: Option<Id>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Id>> {
        let q = q.to_lowercase();
        let prefix = format!("{}%", like_literal(&q));
        let word = format!("% {}%", like_literal(&q));
        let following = if followed_by.is_some() {
            "AND id IN (SELECT target_id FROM follows WHERE account_id = $4)"
        } else {
            "AND $4 IS NOT NULL"
        };
        let sql = format!(
            "SELECT id FROM accounts WHERE suspended_at IS NULL \
             AND (lower(username) LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE $1 ESCAPE '\\' \
             OR lower(display_name) LIKE $2 ESCAPE '\\') {following} \
             ORDER BY CASE WHEN lower(username) = $3 THEN 0 ELSE 1 END, followers_count DESC, id \
             LIMIT $5 OFFSET $6"
        );
        read!(self, db => Ok(sqlx::query_scalar(&sql)
            .bind(&prefix).bind(&word).bind(&q).bind(followed_by.unwrap_or(0))
            .bind(limit as i64).bind(offset as i64)
            .fetch_all(db).await?))
    }

    /// Tags whose (lowercased) name starts with `prefix`: the exact name first, then the
    /// shortest.
    pub async fn search_tags(
        &self,
        prefix: &str,
        viewer: Option<Id>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<TagRecord>> {
        let pattern = format!("{}%", like_literal(prefix));
        // Only tags someone used in a public or unlisted post, or that the viewer follows:
        // a tag used only in private or direct posts would tell a stranger what those say.
        read!(self, db => Ok(sqlx::query_as(
            "SELECT id, name FROM tags WHERE name LIKE $1 ESCAPE '\\' \
             AND (EXISTS (SELECT 1 FROM status_tags st JOIN statuses s ON s.id = st.status_id \
                          WHERE st.tag_id = tags.id AND s.visibility <= 1) \
                  OR EXISTS (SELECT 1 FROM tag_follows f WHERE f.tag_id = tags.id AND f.account_id = $5)) \
             ORDER BY CASE WHEN name = $2 THEN 0 ELSE 1 END, length(name), name LIMIT $3 OFFSET $4",
        ).bind(&pattern).bind(prefix).bind(limit as i64).bind(offset as i64).bind(viewer.unwrap_or(0))
            .fetch_all(db).await?))
    }

    /// Up to `limit` statuses with an id above `after`, in id order, with their mentions;
    /// reblogs are left out (they have no text of their own).
    pub async fn searchable_after(&self, after: Id, limit: usize) -> Result<Vec<SearchableStatus>> {
        let ids: Vec<Id> = read!(self, db => sqlx::query_scalar(
            "SELECT id FROM statuses WHERE id > $1 AND reblog_of_id IS NULL ORDER BY id LIMIT $2",
        ).bind(after).bind(limit as i64).fetch_all(db).await?);
        self.searchable(&ids).await
    }

    /// Up to `limit` statuses edited after `since` (milliseconds), and at or after the
    /// status `from`, in id order: one page of the edits to catch up with.
    pub async fn searchable_edited_since(
        &self,
        since: i64,
        from: Id,
        limit: usize,
    ) -> Result<Vec<SearchableStatus>> {
        let ids: Vec<Id> = read!(self, db => sqlx::query_scalar(
            "SELECT id FROM statuses WHERE edited_at > $1 AND id >= $2 AND reblog_of_id IS NULL ORDER BY id LIMIT $3",
        ).bind(since).bind(from).bind(limit as i64).fetch_all(db).await?);
        self.searchable(&ids).await
    }

    async fn searchable(&self, ids: &[Id]) -> Result<Vec<SearchableStatus>> {
        let mut statuses = self.statuses(ids).await?;
        statuses.sort_by_key(|s| s.id);
        let mut mentions: std::collections::HashMap<Id, Vec<Id>> = Default::default();
        for (status, account) in self.mentions_of(ids).await? {
            mentions.entry(status).or_default().push(account);
        }
        Ok(statuses
            .into_iter()
            .map(|status| SearchableStatus {
                mentions: mentions.remove(&status.id).unwrap_or_default(),
                status,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::like_literal;

    #[test]
    fn like_wildcards_are_taken_literally() {
        assert_eq!(like_literal("a_b%c\\"), "a\\_b\\%c\\\\");
    }
}
