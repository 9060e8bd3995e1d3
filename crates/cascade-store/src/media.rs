//! Media attachments and profile pictures: the rows that name stored files. Every change
//! that drops a row (or a profile picture) writes, in its own transaction, the job that
//! removes the files, so a crash leaves neither a row without its file nor a file that no
//! job will ever remove.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{placeholders, read, transaction, write, Result, Store, StoreError};

#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct MediaRecord {
    pub id: Id,
    pub account_id: Id,
    pub status_id: Option<Id>,
    pub position: i64,
    /// `image`, `gifv`, `video` or `audio`.
    pub kind: String,
    /// `processing`, `ready` or `failed`.
    pub state: String,
    pub content_type: String,
    pub file_key: Option<String>,
    pub preview_key: Option<String>,
    pub meta_json: String,
    pub description: String,
    pub focus_x: Option<f64>,
    pub focus_y: Option<f64>,
    pub blurhash: Option<String>,
    pub bytes: i64,
    pub created_at: i64,
    /// A remote status's attachment: the file's URL on its server (not fetched here).
    pub remote_url: Option<String>,
}

impl MediaRecord {
    /// The storage keys of its files.
    pub fn keys(&self) -> Vec<String> {
        [&self.file_key, &self.preview_key]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }
}

// `Eq` for the record caches that hold statuses with their media (focus is never NaN).
impl Eq for MediaRecord {}

const COLUMNS: &str = "id, account_id, status_id, position, kind, state, content_type, file_key, \
    preview_key, meta_json, description, focus_x, focus_y, blurhash, bytes, created_at, remote_url";

/// Inserts a whole media row, every column of `COLUMNS` bound in order.
pub(crate) const INSERT_MEDIA: &str = "INSERT INTO media_attachments (id, account_id, status_id, \
    position, kind, state, content_type, file_key, preview_key, meta_json, description, focus_x, \
    focus_y, blurhash, bytes, created_at, remote_url) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";

/// Which profile picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileImage {
    Avatar,
    Header,
}

impl ProfileImage {
    fn column(self) -> &'static str {
        match self {
            ProfileImage::Avatar => "avatar_key",
            ProfileImage::Header => "header_key",
        }
    }
}

impl Store {
    /// Stores a new upload's row with the jobs it owes, unless the account's media would
    /// then take more than `quota` bytes: `false`, and nothing written.
    pub async fn insert_media(
        &self,
        m: &MediaRecord,
        quota: i64,
        owed: &[crate::NewJob],
    ) -> Result<bool> {
        let sql = format!(
            "INSERT INTO media_attachments ({COLUMNS}) SELECT $1, $2, NULL, 0, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $16 \
             WHERE (SELECT COALESCE(SUM(bytes), 0) FROM media_attachments WHERE account_id = $2) + $13 <= $15"
        );
        let inserted = transaction!(self, tx => {
            let inserted = sqlx::query(&sql)
                .bind(m.id).bind(m.account_id).bind(&m.kind).bind(&m.state).bind(&m.content_type)
                .bind(&m.file_key).bind(&m.preview_key).bind(&m.meta_json).bind(&m.description)
                .bind(m.focus_x).bind(m.focus_y).bind(&m.blurhash).bind(m.bytes).bind(m.created_at)
                .bind(quota).bind(&m.remote_url)
                .execute(&mut *tx).await?.rows_affected() == 1;
            if inserted {
                crate::jobs::insert_jobs!(tx, owed);
            }
            inserted
        });
        Ok(inserted)
    }

    pub async fn media(&self, id: Id) -> Result<MediaRecord> {
        let sql = format!("SELECT {COLUMNS} FROM media_attachments WHERE id = $1");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(id).fetch_one(db).await?))
    }

    /// Media by id, in no particular order; unknown ids are left out.
    pub async fn media_by_ids(&self, ids: &[Id]) -> Result<Vec<MediaRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM media_attachments WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_as(&sql);
            for id in ids { q = q.bind(*id); }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// The attachments of each status, by status and position.
    pub async fn media_of(&self, statuses: &[Id]) -> Result<Vec<MediaRecord>> {
        let mut out = Vec::new();
        for chunk in statuses.chunks(500) {
            let sql = format!(
                "SELECT {COLUMNS} FROM media_attachments WHERE status_id IN ({}) ORDER BY status_id, position",
                placeholders(1, chunk.len())
            );
            let rows: Vec<MediaRecord> = read!(self, db => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk { q = q.bind(*id); }
                q.fetch_all(db).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Changes what the owner may change: the description and the focal point.
    pub async fn update_media(
        &self,
        id: Id,
        description: Option<&str>,
        focus: Option<(f64, f64)>,
    ) -> Result<()> {
        write!(self, db => {
            if let Some(d) = description {
                sqlx::query("UPDATE media_attachments SET description = $1 WHERE id = $2")
                    .bind(d).bind(id).execute(db).await?;
            }
            if let Some((x, y)) = focus {
                sqlx::query("UPDATE media_attachments SET focus_x = $1, focus_y = $2 WHERE id = $3")
                    .bind(x).bind(y).bind(id).execute(db).await?;
            }
        });
        Ok(())
    }

    /// Records the outcome of processing that ran after the upload (video, audio);
    /// `false` when the upload is gone.
    pub async fn finish_media(&self, m: &MediaRecord) -> Result<bool> {
        let updated = write!(self, db => sqlx::query(
            "UPDATE media_attachments SET state = $1, content_type = $2, file_key = $3, preview_key = $4, \
             meta_json = $5, blurhash = $6, bytes = $7 WHERE id = $8",
        ).bind(&m.state).bind(&m.content_type).bind(&m.file_key).bind(&m.preview_key)
            .bind(&m.meta_json).bind(&m.blurhash).bind(m.bytes).bind(m.id)
            .execute(db).await?.rows_affected());
        Ok(updated == 1)
    }

    /// Deletes an upload that no status took, with the job that removes its files.
    /// `false` when it was attached (or gone) meanwhile: nothing written.
    pub async fn delete_unattached_media(&self, id: Id, owed: &crate::NewJob) -> Result<bool> {
        let deleted = transaction!(self, tx => {
            let deleted = sqlx::query("DELETE FROM media_attachments WHERE id = $1 AND status_id IS NULL")
                .bind(id).execute(&mut *tx).await?.rows_affected() == 1;
            if deleted {
                crate::jobs::insert_jobs!(tx, std::slice::from_ref(owed));
            }
            deleted
        });
        Ok(deleted)
    }

    /// Records that files are about to be written under `keys` (before writing them).
    pub async fn record_media_intents(&self, keys: &[&str], now: i64) -> Result<()> {
        for key in keys {
            write!(self, db => sqlx::query(
                "INSERT INTO media_intents (file_key, created_at) VALUES ($1, $2) ON CONFLICT (file_key) DO NOTHING",
            ).bind(*key).bind(now).execute(db).await.map(drop)?);
        }
        Ok(())
    }

    /// Forgets intents whose files a committed row now names (or that were removed).
    pub async fn settle_media_intents(&self, keys: &[String]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "DELETE FROM media_intents WHERE file_key IN ({})",
            placeholders(1, keys.len())
        );
        write!(self, db => {
            let mut q = sqlx::query(&sql);
            for key in keys { q = q.bind(key); }
            q.execute(db).await.map(drop)?
        });
        Ok(())
    }

    /// Intents recorded before `before` and never settled, oldest first.
    pub async fn stale_media_intents(&self, before: i64, limit: usize) -> Result<Vec<String>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT file_key FROM media_intents WHERE created_at < $1 ORDER BY created_at LIMIT $2",
        ).bind(before).bind(limit as i64).fetch_all(db).await?))
    }

    /// Whether a row names the stored file `key`: an attachment, a profile picture, a
    /// custom emoji, or a job still to process or remove it.
    pub async fn media_key_in_use(&self, key: &str) -> Result<bool> {
        read!(self, db => Ok(sqlx::query_scalar::<_, i64>(
            "SELECT CAST(CASE WHEN \
               EXISTS (SELECT 1 FROM media_attachments WHERE file_key = $1 OR preview_key = $1) \
               OR EXISTS (SELECT 1 FROM accounts WHERE avatar_key = $1 OR header_key = $1) \
               OR EXISTS (SELECT 1 FROM custom_emojis WHERE image_key = $1 OR static_key = $1) \
               OR EXISTS (SELECT 1 FROM jobs WHERE payload = $1) \
             THEN 1 ELSE 0 END AS BIGINT)",
        ).bind(key).fetch_one(db).await? == 1))
    }

    /// Uploads no status took that were made before `before`, oldest first.
    pub async fn stale_unattached_media(
        &self,
        before: i64,
        limit: usize,
    ) -> Result<Vec<MediaRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM media_attachments WHERE status_id IS NULL AND scheduled_status_id IS NULL \
             AND created_at < $1 ORDER BY created_at LIMIT $2"
        );
        read!(self, db => Ok(sqlx::query_as(&sql).bind(before).bind(limit as i64).fetch_all(db).await?))
    }

    /// Which of these uploads a scheduled status keeps: `(upload, scheduled status)`.
    pub async fn media_reservations(&self, ids: &[Id]) -> Result<Vec<(Id, Id)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, scheduled_status_id FROM media_attachments WHERE scheduled_status_id IS NOT NULL AND id IN ({})",
            crate::placeholders(1, ids.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_as(&sql);
            for id in ids { q = q.bind(*id); }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// The uploads a scheduled status keeps.
    pub async fn media_of_scheduled(&self, scheduled: Id) -> Result<Vec<MediaRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM media_attachments WHERE scheduled_status_id = $1 ORDER BY id"
        );
        read!(self, db => Ok(sqlx::query_as(&sql).bind(scheduled).fetch_all(db).await?))
    }

    /// Bytes of media the account stores.
    pub async fn media_bytes(&self, account: Id) -> Result<i64> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM media_attachments WHERE account_id = $1",
        ).bind(account).fetch_one(db).await?))
    }

    /// Makes `media` (in order) the attachments of an existing status: the ones it had
    /// and no longer lists are deleted, with `owed` (the job that removes their files: the
    /// store sets its payload to their keys, and writes it only when there are any). Each listed upload must be the account's and
    /// unattached or already this status's, else `Conflict` and nothing changes.
    pub async fn set_status_media(
        &self,
        status: Id,
        account: Id,
        media: &[Id],
        owed: crate::NewJob,
    ) -> Result<Vec<MediaRecord>> {
        let removed = transaction!(self, tx => {
            for (position, id) in media.iter().enumerate() {
                let taken = sqlx::query(
                    "UPDATE media_attachments SET status_id = $1, position = $2 \
                     WHERE id = $3 AND account_id = $4 AND (status_id IS NULL OR status_id = $1)",
                ).bind(status).bind(position as i64).bind(*id).bind(account)
                    .execute(&mut *tx).await?.rows_affected();
                if taken != 1 {
                    return Err(StoreError::Conflict("media".into()));
                }
            }
            let sql = format!("SELECT {COLUMNS} FROM media_attachments WHERE status_id = $1");
            let had: Vec<MediaRecord> = sqlx::query_as(&sql).bind(status).fetch_all(&mut *tx).await?;
            let removed: Vec<MediaRecord> = had.into_iter().filter(|m| !media.contains(&m.id)).collect();
            for m in &removed {
                sqlx::query("DELETE FROM media_attachments WHERE id = $1").bind(m.id).execute(&mut *tx).await?;
            }
            if !removed.is_empty() {
                let keys: Vec<String> = removed.iter().flat_map(MediaRecord::keys).collect();
                let job = owed.carrying(removal_payload(&keys));
                crate::jobs::insert_jobs!(tx, std::slice::from_ref(&job));
            }
            removed
        });
        Ok(removed)
    }

    /// Sets (or, with `None`, clears) a profile picture. `owed` is the job that removes the
    /// previous picture's file: the store sets its payload to the previous key and writes
    /// it in the same transaction, when there was one. Returns the previous key.
    pub async fn set_profile_image(
        &self,
        account: Id,
        which: ProfileImage,
        key: Option<&str>,
        owed: crate::NewJob,
    ) -> Result<Option<String>> {
        let column = which.column();
        let previous = transaction!(self, tx => {
            let previous: Option<String> = sqlx::query_scalar(&format!("SELECT {column} FROM accounts WHERE id = $1"))
                .bind(account).fetch_one(&mut *tx).await?;
            sqlx::query(&format!("UPDATE accounts SET {column} = $1 WHERE id = $2"))
                .bind(key).bind(account).execute(&mut *tx).await?;
            if let Some(old) = &previous {
                let job = owed.carrying(removal_payload(std::slice::from_ref(old)));
                crate::jobs::insert_jobs!(tx, std::slice::from_ref(&job));
            }
            previous
        });
        Ok(previous)
    }
}

/// The payload of a `remove_media` job: the storage keys, one a line.
pub fn removal_payload(keys: &[String]) -> String {
    keys.join("\n")
}
