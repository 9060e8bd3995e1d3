//! Statuses and what hangs off them: mentions, tags, edits, favourites, reblogs, bookmarks,
//! pins, quotes. Every counter changes in the same transaction as the row it counts, and
//! only when that row was really inserted or deleted, so counts stay exact under
//! concurrent requests and repeated calls.

use cascade_core::{Id, NotificationKind};
use sqlx::FromRow;

use crate::{placeholders, read, rows_placeholders, transaction, write, Result, Store};

#[derive(Debug, Clone, Default, FromRow, PartialEq, Eq)]
pub struct StatusRecord {
    pub id: Id,
    pub account_id: Id,
    pub text: String,
    pub content_html: String,
    pub spoiler_text: String,
    pub visibility: i64,
    pub sensitive: bool,
    pub language: Option<String>,
    pub in_reply_to_id: Option<Id>,
    pub in_reply_to_account_id: Option<Id>,
    pub reblog_of_id: Option<Id>,
    pub quote_of_id: Option<Id>,
    pub quote_state: Option<String>,
    pub quote_policy: String,
    pub app_id: Option<Id>,
    pub replies_count: i64,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub quotes_count: i64,
    pub edited_at: Option<i64>,
    pub created_at: i64,
}

const STATUS_COLUMNS: &str = "id, account_id, text, content_html, spoiler_text, visibility, sensitive, language, \
    in_reply_to_id, in_reply_to_account_id, reblog_of_id, quote_of_id, quote_state, quote_policy, app_id, \
    replies_count, reblogs_count, favourites_count, quotes_count, edited_at, created_at";

/// Everything written when a status is created.
#[derive(Debug, Clone)]
pub struct NewStatusRecord {
    pub status: StatusRecord,
    pub mentions: Vec<Id>,
    /// `(id for a new tag row, lowercased name)`.
    pub tags: Vec<(Id, String)>,
    pub idempotency_key: Option<String>,
    /// What the new status owes (its delivery and fan-out), written in the same
    /// transaction.
    pub jobs: Vec<crate::NewJob>,
    /// For a reblog or quote: the cascade it joins.
    pub cascade: Option<crate::CascadeLink>,
    /// The poll the status carries, if any.
    pub poll: Option<crate::NewPollRecord>,
    /// Uploads the status takes as its attachments, in order: each must be the author's
    /// and unattached, else the status is not written (`Conflict`).
    pub media: Vec<Id>,
    /// A remote status's attachments, by reference (`remote_url`, no stored file), in
    /// order; their `status_id` and `position` are set when written.
    pub remote_media: Vec<crate::MediaRecord>,
    /// A remote status's ActivityPub id and page; `None` for a local status.
    pub remote: Option<(String, Option<String>)>,
}

#[derive(Debug, Clone, FromRow)]
pub struct EditRecord {
    pub id: Id,
    pub status_id: Id,
    pub text: String,
    pub content_html: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub created_at: i64,
    /// The version's poll option titles as a JSON list; `None` without a poll.
    pub poll_options: Option<String>,
    /// The version's attachments, comma-separated ids in order.
    pub media_ids: String,
}

impl EditRecord {
    /// The version of `s` before its first edit, which its history starts with, as entry
    /// `id` (with the version's poll options and attachments).
    pub fn original(
        id: Id,
        s: &StatusRecord,
        poll_options: Option<String>,
        media_ids: String,
    ) -> EditRecord {
        EditRecord {
            id,
            status_id: s.id,
            text: s.text.clone(),
            content_html: s.content_html.clone(),
            spoiler_text: s.spoiler_text.clone(),
            sensitive: s.sensitive,
            created_at: s.created_at,
            poll_options,
            media_ids,
        }
    }
}

/// A deleted status as it was, and the quotes of it that now show it as deleted.
#[derive(Debug, Clone)]
pub struct DeletedStatus {
    pub status: StatusRecord,
    pub quotes: Vec<Id>,
}

/// What the viewer has done to each of a set of statuses.
#[derive(Debug, Clone, Default)]
pub struct ViewerState {
    pub favourited: Vec<Id>,
    pub reblogged: Vec<Id>,
    pub bookmarked: Vec<Id>,
    pub pinned: Vec<Id>,
}

impl Store {
    /// Creates a status with its mentions, tags, counters and jobs in one
    /// transaction. With an idempotency key already used by the author, nothing is written
    /// and the earlier status's id is returned.
    pub async fn create_status(&self, n: &NewStatusRecord) -> Result<Id> {
        let s = &n.status;
        let id = transaction!(self, tx => {
            if let Some(key) = &n.idempotency_key {
                let earlier: Option<Id> = sqlx::query_scalar(
                    "SELECT status_id FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2",
                ).bind(s.account_id).bind(key).fetch_optional(&mut *tx).await?;
                if let Some(earlier) = earlier {
                    return Ok(earlier);
                }
                sqlx::query("INSERT INTO idempotency_keys (account_id, idem_key, status_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(s.account_id).bind(key).bind(s.id).bind(s.created_at).execute(&mut *tx).await?;
            }
            sqlx::query(&format!(
                "INSERT INTO statuses ({STATUS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 0, 0, 0, 0, NULL, $16)"
            ))
            .bind(s.id).bind(s.account_id).bind(&s.text).bind(&s.content_html).bind(&s.spoiler_text)
            .bind(s.visibility).bind(s.sensitive).bind(&s.language).bind(s.in_reply_to_id)
            .bind(s.in_reply_to_account_id).bind(s.reblog_of_id).bind(s.quote_of_id).bind(&s.quote_state)
            .bind(&s.quote_policy).bind(s.app_id).bind(s.created_at)
            .execute(&mut *tx).await?;
            for m in &n.mentions {
                sqlx::query("INSERT INTO mentions (status_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(s.id).bind(*m).execute(&mut *tx).await?;
            }
            for (position, media) in n.media.iter().enumerate() {
                let taken = sqlx::query(
                    "UPDATE media_attachments SET status_id = $1, position = $2 WHERE id = $3 AND account_id = $4 AND status_id IS NULL",
                ).bind(s.id).bind(position as i64).bind(*media).bind(s.account_id)
                    .execute(&mut *tx).await?.rows_affected();
                if taken != 1 {
                    return Err(crate::StoreError::Conflict("media".into()));
                }
            }
            for (position, m) in n.remote_media.iter().enumerate() {
                sqlx::query(crate::media::INSERT_MEDIA)
                    .bind(m.id).bind(s.account_id).bind(s.id).bind(position as i64).bind(&m.kind)
                    .bind(&m.state).bind(&m.content_type).bind(&m.file_key).bind(&m.preview_key)
                    .bind(&m.meta_json).bind(&m.description).bind(m.focus_x).bind(m.focus_y)
                    .bind(&m.blurhash).bind(m.bytes).bind(m.created_at).bind(&m.remote_url)
                    .execute(&mut *tx).await?;
            }
            if let Some(link) = &n.cascade {
                sqlx::query("UPDATE statuses SET cascade_root_id = $1, cascade_parent_id = $2, cascade_followers = $3 WHERE id = $4")
                    .bind(link.root_id).bind(link.parent_id).bind(link.followers).bind(s.id)
                    .execute(&mut *tx).await?;
            }
            for (tag_id, tag) in &n.tags {
                sqlx::query("INSERT INTO tags (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(*tag_id).bind(tag).bind(s.created_at).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO status_tags (status_id, tag_id) SELECT $1, id FROM tags WHERE name = $2 ON CONFLICT DO NOTHING")
                    .bind(s.id).bind(tag).execute(&mut *tx).await?;
            }
            if let Some(parent) = s.in_reply_to_id {
                sqlx::query("UPDATE statuses SET replies_count = replies_count + 1 WHERE id = $1").bind(parent).execute(&mut *tx).await?;
            }
            if let Some(quoted) = s.quote_of_id {
                sqlx::query("UPDATE statuses SET quotes_count = quotes_count + 1 WHERE id = $1").bind(quoted).execute(&mut *tx).await?;
            }
            if let Some(original) = s.reblog_of_id {
                sqlx::query("UPDATE statuses SET reblogs_count = reblogs_count + 1 WHERE id = $1").bind(original).execute(&mut *tx).await?;
            } else {
                sqlx::query("UPDATE accounts SET statuses_count = statuses_count + 1, last_status_at = $1 WHERE id = $2")
                    .bind(s.created_at).bind(s.account_id).execute(&mut *tx).await?;
            }
            if let Some(p) = &n.poll {
                crate::polls::insert_poll!(tx, s.id, s.account_id, s.created_at, p);
            }
            if let Some((uri, url)) = &n.remote {
                sqlx::query("INSERT INTO remote_statuses (status_id, uri, url) VALUES ($1, $2, $3)")
                    .bind(s.id).bind(uri).bind(url).execute(&mut *tx).await?;
            }
            crate::jobs::insert_jobs!(tx, &n.jobs);
            s.id
        });
        Ok(id)
    }

    pub async fn status(&self, id: Id) -> Result<StatusRecord> {
        let sql = format!("SELECT {STATUS_COLUMNS} FROM statuses WHERE id = $1");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(id).fetch_one(db).await?))
    }

    /// Statuses by id, in no particular order; unknown ids are left out.
    pub async fn statuses(&self, ids: &[Id]) -> Result<Vec<StatusRecord>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT {STATUS_COLUMNS} FROM statuses WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<StatusRecord> = read!(self, db => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk { q = q.bind(*id); }
                q.fetch_all(db).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// `(status_id, account_id)` of the mentions of each status.
    pub async fn mentions_of(&self, ids: &[Id]) -> Result<Vec<(Id, Id)>> {
        self.pairs_in(
            "SELECT status_id, account_id FROM mentions WHERE status_id IN",
            ids,
        )
        .await
    }

    /// `(status_id, tag name)` of each status's tags.
    pub async fn tags_of(&self, ids: &[Id]) -> Result<Vec<(Id, String)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT st.status_id, t.name FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<(Id, String)> = read!(self, db => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk { q = q.bind(*id); }
                q.fetch_all(db).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    async fn pairs_in(&self, prefix: &str, ids: &[Id]) -> Result<Vec<(Id, Id)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!("{prefix} ({})", placeholders(1, chunk.len()));
            let rows: Vec<(Id, Id)> = read!(self, db => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk { q = q.bind(*id); }
                q.fetch_all(db).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// What `viewer` has done to each of `ids`.
    pub async fn viewer_state(&self, viewer: Id, ids: &[Id]) -> Result<ViewerState> {
        if ids.is_empty() {
            return Ok(ViewerState::default());
        }
        let mut state = ViewerState::default();
        for chunk in ids.chunks(500) {
            // One round trip for the four marks: each part reuses the same parameters.
            let list = placeholders(2, chunk.len());
            let sql = format!(
                "SELECT CAST(0 AS BIGINT), status_id FROM favourites WHERE account_id = $1 AND status_id IN ({list}) \
                 UNION ALL SELECT CAST(1 AS BIGINT), reblog_of_id FROM statuses WHERE account_id = $1 AND reblog_of_id IN ({list}) \
                 UNION ALL SELECT CAST(2 AS BIGINT), status_id FROM bookmarks WHERE account_id = $1 AND status_id IN ({list}) \
                 UNION ALL SELECT CAST(3 AS BIGINT), status_id FROM pins WHERE account_id = $1 AND status_id IN ({list})"
            );
            let rows: Vec<(i64, Id)> = read!(self, db => {
                let mut q = sqlx::query_as(&sql).bind(viewer);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(db).await?
            });
            for (kind, id) in rows {
                match kind {
                    0 => state.favourited.push(id),
                    1 => state.reblogged.push(id),
                    2 => state.bookmarked.push(id),
                    _ => state.pinned.push(id),
                }
            }
        }
        Ok(state)
    }

    /// The viewer's reblog of a status, if any.
    pub async fn reblog_by(&self, account: Id, original: Id) -> Result<Option<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT id FROM statuses WHERE account_id = $1 AND reblog_of_id = $2",
        ).bind(account).bind(original).fetch_optional(db).await?))
    }

    /// Deletes a status (and, through the schema, its reblogs, mentions, favourites...),
    /// keeping the counters of what it pointed at exact. Returns what it deleted and the
    /// quotes of it, whose quote state changed, so that caches can forget them.
    /// Deletes a status with what it owes (`owed`, written only when it was there to
    /// delete); deleting a reblog withdraws the original author's notification of it.
    pub async fn delete_status(&self, id: Id, owed: &[crate::NewJob]) -> Result<DeletedStatus> {
        let s = self.status(id).await?;
        let quotes = transaction!(self, tx => {
            let removed = sqlx::query("DELETE FROM statuses WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            let mut quotes = Vec::new();
            if removed == 1 {
                crate::jobs::insert_jobs!(tx, owed);
                if let Some(parent) = s.in_reply_to_id {
                    sqlx::query("UPDATE statuses SET replies_count = replies_count - 1 WHERE id = $1 AND replies_count > 0").bind(parent).execute(&mut *tx).await?;
                }
                if let Some(quoted) = s.quote_of_id {
                    sqlx::query("UPDATE statuses SET quotes_count = quotes_count - 1 WHERE id = $1 AND quotes_count > 0").bind(quoted).execute(&mut *tx).await?;
                }
                if let Some(original) = s.reblog_of_id {
                    sqlx::query("UPDATE statuses SET reblogs_count = reblogs_count - 1 WHERE id = $1 AND reblogs_count > 0").bind(original).execute(&mut *tx).await?;
                    let withdrawn = crate::notifications::dedup_key(NotificationKind::Reblog, s.account_id, Some(original));
                    sqlx::query("DELETE FROM notifications WHERE account_id = (SELECT account_id FROM statuses WHERE id = $1) AND dedup_key = $2")
                        .bind(original).bind(&withdrawn).execute(&mut *tx).await?;
                } else {
                    sqlx::query("UPDATE accounts SET statuses_count = statuses_count - 1 WHERE id = $1 AND statuses_count > 0").bind(s.account_id).execute(&mut *tx).await?;
                }
                // Quotes of a deleted post keep existing but show it as gone.
                quotes = sqlx::query_scalar("UPDATE statuses SET quote_state = 'deleted' WHERE quote_of_id = $1 RETURNING id")
                    .bind(id).fetch_all(&mut *tx).await?;
            }
            quotes
        });
        Ok(DeletedStatus { status: s, quotes })
    }

    /// Sets who may quote a status from now on (`public`, `followers` or `nobody`); quotes
    /// already made stay.
    pub async fn set_quote_policy(&self, id: Id, policy: &str) -> Result<()> {
        write!(self, db => {
            sqlx::query("UPDATE statuses SET quote_policy = $1 WHERE id = $2")
                .bind(policy).bind(id).execute(db).await?;
        });
        Ok(())
    }

    /// The quoted author takes back a quote of their status: the quoting status keeps its
    /// text but no longer shows the quoted one. True when `quoting` quoted `quoted` and was
    /// not already revoked.
    pub async fn revoke_quote(&self, quoted: Id, quoting: Id) -> Result<bool> {
        let changed = transaction!(self, tx => {
            let changed = sqlx::query("UPDATE statuses SET quote_state = 'revoked' WHERE id = $1 AND quote_of_id = $2 \
                         AND (quote_state IS NULL OR quote_state = 'accepted')")
                .bind(quoting).bind(quoted).execute(&mut *tx).await?.rows_affected();
            if changed == 1 {
                sqlx::query("UPDATE statuses SET quotes_count = quotes_count - 1 WHERE id = $1 AND quotes_count > 0")
                    .bind(quoted).execute(&mut *tx).await?;
            }
            changed
        });
        Ok(changed == 1)
    }

    /// Replaces a status's text, keeping the previous version in its history. The first
    /// edit also records `original`, the version before it, as Mastodon's history shows it.
    pub async fn edit_status(
        &self,
        edit: &EditRecord,
        original: &EditRecord,
        mentions: &[Id],
        tags: &[(Id, String)],
        language: Option<&str>,
        owed: &[crate::NewJob],
    ) -> Result<()> {
        let before = self.status(edit.status_id).await?;
        transaction!(self, tx => {
            crate::jobs::insert_jobs!(tx, owed);
            let versions: &[&EditRecord] = if before.edited_at.is_none() { &[original, edit] } else { &[edit] };
            for v in versions {
                sqlx::query("INSERT INTO status_edits (id, status_id, text, content_html, spoiler_text, sensitive, created_at, \
                             poll_options, media_ids) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(v.id).bind(edit.status_id).bind(&v.text).bind(&v.content_html)
                    .bind(&v.spoiler_text).bind(v.sensitive).bind(v.created_at).bind(&v.poll_options).bind(&v.media_ids)
                    .execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE statuses SET text = $1, content_html = $2, spoiler_text = $3, sensitive = $4, edited_at = $5 WHERE id = $6")
                .bind(&edit.text).bind(&edit.content_html).bind(&edit.spoiler_text).bind(edit.sensitive)
                .bind(edit.created_at).bind(edit.status_id)
                .execute(&mut *tx).await?;
            if let Some(language) = language {
                sqlx::query("UPDATE statuses SET language = $1 WHERE id = $2").bind(language).bind(edit.status_id).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM mentions WHERE status_id = $1").bind(edit.status_id).execute(&mut *tx).await?;
            for m in mentions {
                sqlx::query("INSERT INTO mentions (status_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(edit.status_id).bind(*m).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM status_tags WHERE status_id = $1").bind(edit.status_id).execute(&mut *tx).await?;
            for (tag_id, tag) in tags {
                sqlx::query("INSERT INTO tags (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(*tag_id).bind(tag).bind(edit.created_at).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO status_tags (status_id, tag_id) SELECT $1, id FROM tags WHERE name = $2 ON CONFLICT DO NOTHING")
                    .bind(edit.status_id).bind(tag).execute(&mut *tx).await?;
            }
        });
        Ok(())
    }

    pub async fn status_edits(&self, id: Id) -> Result<Vec<EditRecord>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT id, status_id, text, content_html, spoiler_text, sensitive, created_at, poll_options, media_ids \
             FROM status_edits WHERE status_id = $1 ORDER BY created_at, id",
        ).bind(id).fetch_all(db).await?))
    }

    /// Adds a row to `favourites`, `bookmarks` or `pins`; favourites also count. Returns
    /// whether a row was added (false when it was already there).
    pub async fn add_mark(
        &self,
        mark: Mark,
        id: Id,
        account: Id,
        status: Id,
        now: i64,
        owed: &[crate::NewJob],
    ) -> Result<bool> {
        let table = mark.table();
        let added = transaction!(self, tx => {
            let added = sqlx::query(&format!(
                "INSERT INTO {table} (id, account_id, status_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, status_id) DO NOTHING"
            )).bind(id).bind(account).bind(status).bind(now).execute(&mut *tx).await?.rows_affected() == 1;
            if added && mark == Mark::Favourite {
                sqlx::query("UPDATE statuses SET favourites_count = favourites_count + 1 WHERE id = $1").bind(status).execute(&mut *tx).await?;
            }
            if added {
                crate::jobs::insert_jobs!(tx, owed);
            }
            added
        });
        Ok(added)
    }

    /// Whether an account has marked a status (favourited it, say).
    pub async fn has_mark(&self, mark: Mark, account: Id, status: Id) -> Result<bool> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE account_id = $1 AND status_id = $2",
            mark.table()
        );
        read!(self, db => Ok(sqlx::query_scalar::<_, i64>(&sql).bind(account).bind(status).fetch_one(db).await? > 0))
    }

    /// Removes a mark with what its removal owes (`owed`, written only when there was a
    /// mark to remove); an unfavourite withdraws the author's notification with it.
    pub async fn remove_mark(
        &self,
        mark: Mark,
        account: Id,
        status: Id,
        owed: &[crate::NewJob],
    ) -> Result<bool> {
        let table = mark.table();
        let withdrawn =
            crate::notifications::dedup_key(NotificationKind::Favourite, account, Some(status));
        let removed = transaction!(self, tx => {
            let removed = sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1 AND status_id = $2"))
                .bind(account).bind(status).execute(&mut *tx).await?.rows_affected() == 1;
            if removed && mark == Mark::Favourite {
                sqlx::query("UPDATE statuses SET favourites_count = favourites_count - 1 WHERE id = $1").bind(status).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM notifications WHERE account_id = (SELECT account_id FROM statuses WHERE id = $1) AND dedup_key = $2")
                    .bind(status).bind(&withdrawn).execute(&mut *tx).await?;
            }
            if removed {
                crate::jobs::insert_jobs!(tx, owed);
            }
            removed
        });
        Ok(removed)
    }

    /// A page of the viewer's marks (favourites or bookmarks), newest first: `(mark id,
    /// status id)`.
    pub async fn marks(
        &self,
        mark: Mark,
        account: Id,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<(Id, Id)>> {
        let table = mark.table();
        let sql = format!("SELECT id, status_id FROM {table} WHERE account_id = $1 AND id < $2 AND id > $3 ORDER BY id DESC LIMIT $4");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(account).bind(max_id.unwrap_or(i64::MAX)).bind(min_id.unwrap_or(i64::MIN)).bind(limit as i64).fetch_all(db).await?))
    }

    /// Who favourited a status, newest first: `(favourite id, account id)`.
    pub async fn favourited_by(
        &self,
        status: Id,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<(Id, Id)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT id, account_id FROM favourites WHERE status_id = $1 AND id < $2 AND id > $3 ORDER BY id DESC LIMIT $4",
        ).bind(status).bind(max_id.unwrap_or(i64::MAX)).bind(min_id.unwrap_or(i64::MIN)).bind(limit as i64).fetch_all(db).await?))
    }

    /// Reblogs (or accepted quotes) of a status, newest first: `(status id, account id)`.
    pub async fn reshares_of(
        &self,
        column: Reshare,
        status: Id,
        max_id: Option<Id>,
        min_id: Option<Id>,
        limit: usize,
    ) -> Result<Vec<(Id, Id)>> {
        // A revoked quote is no longer one of the status's quotes.
        let column = match column {
            Reshare::Reblog => "reblog_of_id",
            Reshare::Quote => "(quote_state IS NULL OR quote_state = 'accepted') AND quote_of_id",
        };
        let sql = format!("SELECT id, account_id FROM statuses WHERE {column} = $1 AND id < $2 AND id > $3 ORDER BY id DESC LIMIT $4");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(status).bind(max_id.unwrap_or(i64::MAX)).bind(min_id.unwrap_or(i64::MIN)).bind(limit as i64).fetch_all(db).await?))
    }

    /// The ancestors of a status (oldest first) and all its descendants (in id order).
    pub async fn thread(&self, id: Id) -> Result<(Vec<Id>, Vec<Id>)> {
        let ancestors: Vec<Id> = read!(self, db => sqlx::query_scalar(
            "WITH RECURSIVE up(id, parent, depth) AS ( \
                SELECT id, in_reply_to_id, 0 FROM statuses WHERE id = $1 \
                UNION ALL SELECT s.id, s.in_reply_to_id, up.depth + 1 FROM statuses s JOIN up ON s.id = up.parent WHERE up.depth < 200) \
             SELECT id FROM up WHERE id <> $1 ORDER BY depth DESC",
        ).bind(id).fetch_all(db).await?);
        let descendants: Vec<Id> = read!(self, db => sqlx::query_scalar(
            "WITH RECURSIVE down(id, depth) AS ( \
                SELECT id, 0 FROM statuses WHERE id = $1 \
                UNION ALL SELECT s.id, down.depth + 1 FROM statuses s JOIN down ON s.in_reply_to_id = down.id WHERE down.depth < 200) \
             SELECT id FROM down WHERE id <> $1 ORDER BY id LIMIT 4000",
        ).bind(id).fetch_all(db).await?);
        Ok((ancestors, descendants))
    }

    /// The earlier status of this author with this idempotency key, if any.
    pub async fn idempotent_status(&self, account: Id, key: &str) -> Result<Option<Id>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT status_id FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2",
        ).bind(account).bind(key).fetch_optional(db).await?))
    }

    /// Bulk insert of plain statuses for the demo world and benchmarks. No fan-out jobs
    /// are written: callers rebuild timelines from the store.
    pub async fn insert_statuses_bulk(&self, rows: &[StatusRecord]) -> Result<()> {
        for chunk in rows.chunks(100) {
            write!(self, db => {
                let sql = format!(
                    "INSERT INTO statuses (id, account_id, text, content_html, visibility, reblog_of_id, quote_of_id, quote_state, in_reply_to_id, created_at) VALUES {}",
                    rows_placeholders(chunk.len(), 10)
                );
                let mut q = sqlx::query(&sql);
                for s in chunk {
                    q = q.bind(s.id).bind(s.account_id).bind(&s.text).bind(&s.content_html).bind(s.visibility)
                        .bind(s.reblog_of_id).bind(s.quote_of_id).bind(&s.quote_state).bind(s.in_reply_to_id).bind(s.created_at);
                }
                q.execute(db).await?;
            });
        }
        Ok(())
    }

    /// Refreshes the query planner's statistics of every table: after a bulk load, before
    /// the database's own autovacuum (PostgreSQL) would, or ever (SQLite), so that queries
    /// are planned for the rows that are there.
    pub async fn analyze(&self) -> Result<()> {
        write!(self, db => sqlx::query("ANALYZE").execute(db).await?.rows_affected());
        Ok(())
    }

    /// Recomputes every status and account counter from the rows they count.
    pub async fn recount_statuses(&self) -> Result<()> {
        write!(self, db => {
            sqlx::query("UPDATE statuses SET \
                reblogs_count = (SELECT COUNT(*) FROM statuses r WHERE r.reblog_of_id = statuses.id), \
                quotes_count = (SELECT COUNT(*) FROM statuses q WHERE q.quote_of_id = statuses.id AND (q.quote_state IS NULL OR q.quote_state = 'accepted')), \
                replies_count = (SELECT COUNT(*) FROM statuses c WHERE c.in_reply_to_id = statuses.id), \
                favourites_count = (SELECT COUNT(*) FROM favourites f WHERE f.status_id = statuses.id)")
                .execute(db).await?;
            sqlx::query("UPDATE accounts SET \
                statuses_count = (SELECT COUNT(*) FROM statuses s WHERE s.account_id = accounts.id AND s.reblog_of_id IS NULL), \
                last_status_at = (SELECT MAX(created_at) FROM statuses s WHERE s.account_id = accounts.id)")
                .execute(db).await?;
        });
        Ok(())
    }
}

/// A per-account mark on a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Favourite,
    Bookmark,
    Pin,
}

impl Mark {
    fn table(self) -> &'static str {
        match self {
            Mark::Favourite => "favourites",
            Mark::Bookmark => "bookmarks",
            Mark::Pin => "pins",
        }
    }
}

/// The two ways of resharing a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reshare {
    Reblog,
    Quote,
}
