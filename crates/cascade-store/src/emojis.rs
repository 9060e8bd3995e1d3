//! Custom emojis: the shortcodes administrators uploaded a picture for.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{read, transaction, write, Result, Store};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct EmojiRecord {
    pub id: Id,
    pub shortcode: String,
    /// The stored picture, and its still first frame (the same key for a still picture).
    pub image_key: String,
    pub static_key: String,
    pub category: Option<String>,
    pub visible_in_picker: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, shortcode, image_key, static_key, category, visible_in_picker, created_at, updated_at";

impl Store {
    /// Every custom emoji, by shortcode.
    pub async fn emojis(&self) -> Result<Vec<EmojiRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM custom_emojis ORDER BY shortcode LIMIT 100000");
        read!(self, db => Ok(sqlx::query_as(&sql).fetch_all(db).await?))
    }

    /// Adds an emoji, or replaces the one with its shortcode; answers the replaced one,
    /// whose files the caller removes.
    pub async fn put_emoji(&self, e: &EmojiRecord) -> Result<Option<EmojiRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM custom_emojis WHERE shortcode = $1");
        Ok(transaction!(self, tx => {
            let before: Option<EmojiRecord> = sqlx::query_as(&sql).bind(&e.shortcode).fetch_optional(&mut *tx).await?;
            sqlx::query("DELETE FROM custom_emojis WHERE shortcode = $1").bind(&e.shortcode).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO custom_emojis (id, shortcode, image_key, static_key, category, visible_in_picker, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            ).bind(e.id).bind(&e.shortcode).bind(&e.image_key).bind(&e.static_key).bind(&e.category)
                .bind(e.visible_in_picker).bind(before.as_ref().map_or(e.created_at, |b| b.created_at)).bind(e.updated_at)
                .execute(&mut *tx).await?;
            before
        }))
    }

    /// Removes an emoji; answers it, whose files the caller removes.
    pub async fn delete_emoji(&self, shortcode: &str) -> Result<Option<EmojiRecord>> {
        let sql = format!("DELETE FROM custom_emojis WHERE shortcode = $1 RETURNING {COLUMNS}");
        write!(self, db => Ok(sqlx::query_as(&sql).bind(shortcode).fetch_optional(db).await?))
    }
}
