//! Content filters: `filters`, their `filter_keywords` and `filter_statuses`. A filter is
//! always read whole (with its keywords and statuses), in three queries for any number of
//! filters.

use cascade_core::filter::{Filter, FilterAction, FilterContext, FilteredStatus, Keyword};
use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, transaction, write, Result, Store, StoreError};

#[derive(FromRow)]
struct FilterRow {
    id: Id,
    account_id: Id,
    title: String,
    context: String,
    action: String,
    expires_at: Option<i64>,
}

#[derive(FromRow)]
struct KeywordRow {
    id: Id,
    filter_id: Id,
    account_id: Id,
    keyword: String,
    whole_word: bool,
}

#[derive(FromRow)]
struct StatusRuleRow {
    id: Id,
    filter_id: Id,
    account_id: Id,
    status_id: Id,
}

impl FilterRow {
    fn into_filter(self) -> Filter {
        Filter {
            id: self.id,
            account_id: self.account_id,
            title: self.title,
            contexts: self
                .context
                .split(',')
                .filter_map(FilterContext::parse)
                .collect(),
            // Rows hold only what the use cases validated; an unknown action reads as
            // Mastodon tells clients to treat one: warn.
            action: FilterAction::parse(&self.action).unwrap_or(FilterAction::Warn),
            expires_at: self.expires_at,
            keywords: Vec::new(),
            statuses: Vec::new(),
        }
    }
}

fn contexts(f: &Filter) -> String {
    f.contexts
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A keyword rule with the filter and account it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordRecord {
    pub filter_id: Id,
    pub account_id: Id,
    pub keyword: Keyword,
}

/// A status rule with the filter and account it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterStatusRecord {
    pub filter_id: Id,
    pub account_id: Id,
    pub status: FilteredStatus,
}

/// What an update of a filter writes: its new title, contexts, action and expiry (from
/// `filter`), and the keywords to add, change and remove, all in one transaction.
#[derive(Debug, Clone)]
pub struct FilterUpdate {
    pub filter: Filter,
    pub add: Vec<Keyword>,
    pub change: Vec<Keyword>,
    pub remove: Vec<Id>,
}

const KEYWORD_SELECT: &str = "SELECT k.id, k.filter_id, f.account_id, k.keyword, k.whole_word \
    FROM filter_keywords k JOIN filters f ON f.id = k.filter_id";
const STATUS_SELECT: &str = "SELECT s.id, s.filter_id, f.account_id, s.status_id \
    FROM filter_statuses s JOIN filters f ON f.id = s.filter_id";

impl Store {
    /// Filters whose `column` (`id` or `account_id`) is `value`, whole, oldest first.
    async fn load_filters(&self, column: &str, value: Id) -> Result<Vec<Filter>> {
        let filters_sql = format!(
            "SELECT id, account_id, title, context, action, expires_at FROM filters f \
             WHERE f.{column} = $1 ORDER BY f.id"
        );
        let keywords_sql = format!("{KEYWORD_SELECT} WHERE f.{column} = $1 ORDER BY k.id");
        let statuses_sql = format!("{STATUS_SELECT} WHERE f.{column} = $1 ORDER BY s.id");
        let rows: Vec<FilterRow> =
            read!(self, db => sqlx::query_as(&filters_sql).bind(value).fetch_all(db).await?);
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let keywords: Vec<KeywordRow> =
            read!(self, db => sqlx::query_as(&keywords_sql).bind(value).fetch_all(db).await?);
        let statuses: Vec<StatusRuleRow> =
            read!(self, db => sqlx::query_as(&statuses_sql).bind(value).fetch_all(db).await?);
        let mut filters: Vec<Filter> = rows.into_iter().map(FilterRow::into_filter).collect();
        for k in keywords {
            if let Some(f) = filters.iter_mut().find(|f| f.id == k.filter_id) {
                f.keywords.push(Keyword {
                    id: k.id,
                    keyword: k.keyword,
                    whole_word: k.whole_word,
                });
            }
        }
        for s in statuses {
            if let Some(f) = filters.iter_mut().find(|f| f.id == s.filter_id) {
                f.statuses.push(FilteredStatus {
                    id: s.id,
                    status_id: s.status_id,
                });
            }
        }
        Ok(filters)
    }

    /// An account's filters, expired ones included, oldest first.
    pub async fn filters_of(&self, account: Id) -> Result<Vec<Filter>> {
        self.load_filters("account_id", account).await
    }

    pub async fn filter(&self, id: Id) -> Result<Filter> {
        self.load_filters("id", id)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// Writes a new filter with its keywords (a new filter has no status rules yet),
    /// unless its owner already has `max` filters; false when they do.
    pub async fn create_filter(&self, f: &Filter, now: i64, max: usize) -> Result<bool> {
        let created;
        transaction!(self, tx => {
            created = sqlx::query(
                "INSERT INTO filters (id, account_id, title, context, action, expires_at, created_at) \
                 SELECT $1, $2, $3, $4, $5, $6, $7 \
                 WHERE (SELECT COUNT(*) FROM filters WHERE account_id = $2) < $8",
            )
            .bind(f.id).bind(f.account_id).bind(&f.title).bind(contexts(f))
            .bind(f.action.as_str()).bind(f.expires_at).bind(now).bind(max as i64)
            .execute(&mut *tx).await?.rows_affected() == 1;
            if !created {
                return Ok(false);
            }
            for k in &f.keywords {
                sqlx::query(
                    "INSERT INTO filter_keywords (id, filter_id, keyword, whole_word) VALUES ($1, $2, $3, $4)",
                )
                .bind(k.id).bind(f.id).bind(&k.keyword).bind(k.whole_word)
                .execute(&mut *tx).await?;
            }
        });
        Ok(created)
    }

    /// Applies an update of a filter and its keywords in one transaction. Keyword changes
    /// and removals only touch keywords of this filter.
    pub async fn update_filter(&self, u: &FilterUpdate) -> Result<()> {
        let f = &u.filter;
        transaction!(self, tx => {
            sqlx::query(
                "UPDATE filters SET title = $1, context = $2, action = $3, expires_at = $4 WHERE id = $5",
            )
            .bind(&f.title).bind(contexts(f)).bind(f.action.as_str()).bind(f.expires_at).bind(f.id)
            .execute(&mut *tx).await?;
            for id in &u.remove {
                sqlx::query("DELETE FROM filter_keywords WHERE id = $1 AND filter_id = $2")
                    .bind(id).bind(f.id).execute(&mut *tx).await?;
            }
            for k in &u.change {
                sqlx::query(
                    "UPDATE filter_keywords SET keyword = $1, whole_word = $2 WHERE id = $3 AND filter_id = $4",
                )
                .bind(&k.keyword).bind(k.whole_word).bind(k.id).bind(f.id)
                .execute(&mut *tx).await?;
            }
            for k in &u.add {
                sqlx::query(
                    "INSERT INTO filter_keywords (id, filter_id, keyword, whole_word) VALUES ($1, $2, $3, $4)",
                )
                .bind(k.id).bind(f.id).bind(&k.keyword).bind(k.whole_word)
                .execute(&mut *tx).await?;
            }
        });
        Ok(())
    }

    /// Sets when a filter expires (`None`: never).
    pub async fn set_filter_expiry(&self, id: Id, expires_at: Option<i64>) -> Result<()> {
        write!(self, db => sqlx::query("UPDATE filters SET expires_at = $1 WHERE id = $2")
            .bind(expires_at).bind(id).execute(db).await?.rows_affected());
        Ok(())
    }

    /// Deletes a filter with its keywords and status rules.
    pub async fn delete_filter(&self, id: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM filters WHERE id = $1")
            .bind(id).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn filter_keyword(&self, id: Id) -> Result<KeywordRecord> {
        let sql = format!("{KEYWORD_SELECT} WHERE k.id = $1");
        let row: KeywordRow = read!(self, db => sqlx::query_as(&sql).bind(id).fetch_one(db).await?);
        Ok(KeywordRecord {
            filter_id: row.filter_id,
            account_id: row.account_id,
            keyword: Keyword {
                id: row.id,
                keyword: row.keyword,
                whole_word: row.whole_word,
            },
        })
    }

    /// Adds a keyword unless the filter already has `max`; false when it does.
    pub async fn add_filter_keyword(&self, filter: Id, k: &Keyword, max: usize) -> Result<bool> {
        let n = write!(self, db => sqlx::query(
            "INSERT INTO filter_keywords (id, filter_id, keyword, whole_word) SELECT $1, $2, $3, $4 \
             WHERE (SELECT COUNT(*) FROM filter_keywords WHERE filter_id = $2) < $5",
        ).bind(k.id).bind(filter).bind(&k.keyword).bind(k.whole_word).bind(max as i64)
        .execute(db).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn update_filter_keyword(&self, k: &Keyword) -> Result<()> {
        write!(self, db => sqlx::query("UPDATE filter_keywords SET keyword = $1, whole_word = $2 WHERE id = $3")
            .bind(&k.keyword).bind(k.whole_word).bind(k.id).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn delete_filter_keyword(&self, id: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM filter_keywords WHERE id = $1")
            .bind(id).execute(db).await?.rows_affected());
        Ok(())
    }

    pub async fn filter_status(&self, id: Id) -> Result<FilterStatusRecord> {
        let sql = format!("{STATUS_SELECT} WHERE s.id = $1");
        let row: StatusRuleRow =
            read!(self, db => sqlx::query_as(&sql).bind(id).fetch_one(db).await?);
        Ok(FilterStatusRecord {
            filter_id: row.filter_id,
            account_id: row.account_id,
            status: FilteredStatus {
                id: row.id,
                status_id: row.status_id,
            },
        })
    }

    /// Adds a status rule; a status already in the filter is a `Conflict("Status")`.
    pub async fn add_filter_status(&self, filter: Id, s: &FilteredStatus) -> Result<()> {
        let done = write!(self, db => sqlx::query(
            "INSERT INTO filter_statuses (id, filter_id, status_id) VALUES ($1, $2, $3)",
        ).bind(s.id).bind(filter).bind(s.status_id).execute(db).await.map(|r| r.rows_affected()));
        match done {
            Ok(_) => Ok(()),
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict(_) => Err(StoreError::Conflict("Status".into())),
                other => Err(other),
            },
        }
    }

    pub async fn delete_filter_status(&self, id: Id) -> Result<()> {
        write!(self, db => sqlx::query("DELETE FROM filter_statuses WHERE id = $1")
            .bind(id).execute(db).await?.rows_affected());
        Ok(())
    }
}
