//! Custom emojis: administrators upload a picture for a `:shortcode:`, and every status,
//! display name and bio that uses it lists it in `emojis`, as Mastodon renders them.
//!
//! The emojis are few and read on every rendering, so each process keeps them all in
//! memory (`EmojiBook`): a change made here applies at once, on the other nodes of a
//! cluster as soon as they hear of it (`Forget::Emojis`), and one made by another process
//! (the CLI) within `REFRESH`, when `run_refresher` reads them again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use cascade_core::media::Format;
use cascade_core::time;
use cascade_store::EmojiRecord;
use serde_json::{json, Value};

use crate::app::media::{discard, file_url, invalid, put, settle};
use crate::error::{ApiError, ApiResult};
use crate::media::storage::new_key;
use crate::state::AppState;

/// How often a process reads the emojis again, for changes made by another.
pub const REFRESH: Duration = Duration::from_secs(30);
/// The largest emoji file accepted, as Mastodon's limit.
pub const MAX_BYTES: usize = 256 * 1024;

/// The rendered emojis by shortcode.
#[derive(Default)]
pub struct EmojiBook {
    current: RwLock<Arc<HashMap<String, Value>>>,
    /// Moves each time the emojis are read again, so that renderings made with the old
    /// ones are made again (`app::rendered`).
    generation: AtomicU64,
}

impl EmojiBook {
    fn all(&self) -> Arc<HashMap<String, Value>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Which reading of the emojis is in use.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The emojis `:used:` in these texts, each once, in the order first used.
    pub fn used_in(&self, texts: &[&str]) -> Vec<Value> {
        let all = self.all();
        if all.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<Value> = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for text in texts {
            for code in shortcodes(text) {
                if let Some(emoji) = all.get(code) {
                    if !seen.contains(&code) {
                        seen.push(code);
                        found.push(emoji.clone());
                    }
                }
            }
        }
        found
    }
}

/// The `:shortcode:`s in a text: letters, digits and `_`, at least two.
fn shortcodes(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || loop {
        let start = rest.find(':')?;
        let after = &rest[start + 1..];
        let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        match end {
            Some(end) if after[end..].starts_with(':') && end >= 2 => {
                rest = &after[end + 1..];
                return Some(&after[..end]);
            }
            _ => rest = after,
        }
    })
}

/// Whether a shortcode is one Mastodon accepts.
pub fn valid_shortcode(code: &str) -> bool {
    code.len() >= 2
        && code.len() <= 64
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn entity(state: &AppState, e: &EmojiRecord) -> Value {
    json!({
        "shortcode": e.shortcode,
        "url": file_url(state, &e.image_key),
        "static_url": file_url(state, &e.static_key),
        "visible_in_picker": e.visible_in_picker,
        "category": e.category,
    })
}

/// Reads the emojis from the store into this process's book.
pub async fn reload(state: &AppState) -> ApiResult<()> {
    let rows = state.store.emojis().await?;
    let rendered = rows
        .iter()
        .map(|e| (e.shortcode.clone(), entity(state, e)))
        .collect();
    let mut current = state
        .emojis
        .current
        .write()
        .unwrap_or_else(|p| p.into_inner());
    let changed = **current != rendered;
    *current = Arc::new(rendered);
    if changed {
        state.emojis.generation.fetch_add(1, Ordering::AcqRel);
    }
    Ok(())
}

/// Reads the emojis now and every `REFRESH`, for as long as the server runs.
pub async fn run_refresher(state: AppState) {
    loop {
        if let Err(e) = reload(&state).await {
            tracing::warn!(error = %e, "the custom emojis could not be read");
        }
        tokio::time::sleep(REFRESH).await;
    }
}

/// `GET /api/v1/custom_emojis`: every emoji, by shortcode.
pub fn list(state: &AppState) -> Vec<Value> {
    let mut all: Vec<Value> = state.emojis.all().values().cloned().collect();
    all.sort_by(|a, b| a["shortcode"].as_str().cmp(&b["shortcode"].as_str()));
    all
}

/// What an administrator uploads.
pub struct NewEmoji {
    pub shortcode: String,
    pub bytes: Vec<u8>,
    pub category: Option<String>,
    pub visible_in_picker: bool,
}

/// Adds an emoji, or replaces the one with its shortcode: a PNG, GIF or WebP picture of
/// at most 256 KiB, stored without metadata (an animated GIF stays animated).
pub async fn add(state: &AppState, new: NewEmoji) -> ApiResult<Value> {
    if !valid_shortcode(&new.shortcode) {
        return Err(ApiError::unprocessable(
            "Shortcode must be 2 to 64 letters, digits or underscores",
        ));
    }
    let category = new
        .category
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if category.as_ref().is_some_and(|c| c.chars().count() > 64) {
        return Err(ApiError::unprocessable(
            "Category is too long (maximum is 64 characters)",
        ));
    }
    if new.bytes.len() > MAX_BYTES {
        return Err(ApiError::unprocessable(
            "Image must be smaller than 256 KiB",
        ));
    }
    let format = Format::sniff(&new.bytes)
        .filter(|f| matches!(f, Format::Png | Format::Gif | Format::Webp))
        .ok_or_else(|| ApiError::unprocessable("Image must be a PNG, GIF or WebP picture"))?;
    let bytes = new.bytes;
    let (image, still) = state
        .media
        .process(move || crate::media::image::emoji(&bytes, format))
        .await
        .map_err(ApiError::Internal)?
        .map_err(invalid)?;
    let image_key = new_key('e', image.format.extension());
    put(state, &image_key, &image.bytes).await?;
    let static_key = match still {
        Some(still) => {
            let key = new_key('e', still.format.extension());
            if let Err(e) = put(state, &key, &still.bytes).await {
                discard(state, std::slice::from_ref(&image_key)).await;
                return Err(e);
            }
            key
        }
        None => image_key.clone(),
    };
    let now = time::now_millis();
    let record = EmojiRecord {
        id: state.ids.next(),
        shortcode: new.shortcode,
        image_key,
        static_key,
        category,
        visible_in_picker: new.visible_in_picker,
        created_at: now,
        updated_at: now,
    };
    let put_emoji = state.store.put_emoji(&record).await;
    if put_emoji.is_err() {
        discard(state, &files(&record)).await;
    }
    settle(state, &files(&record)).await;
    let replaced = put_emoji?;
    if let Some(old) = replaced {
        discard(state, &files(&old)).await;
    }
    changed(state).await?;
    Ok(entity(state, &record))
}

/// Removes an emoji and its files; 404 for an unknown shortcode.
pub async fn remove(state: &AppState, shortcode: &str) -> ApiResult<()> {
    let removed = state
        .store
        .delete_emoji(shortcode)
        .await?
        .ok_or(ApiError::NotFound)?;
    discard(state, &files(&removed)).await;
    changed(state).await
}

/// Reads the emojis again here, and has every other node do the same.
async fn changed(state: &AppState) -> ApiResult<()> {
    reload(state).await?;
    state.forget(crate::cluster::Forget::Emojis);
    Ok(())
}

fn files(e: &EmojiRecord) -> Vec<String> {
    let mut keys = vec![e.image_key.clone()];
    if e.static_key != e.image_key {
        keys.push(e.static_key.clone());
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcodes_are_found_between_colons() {
        let found: Vec<&str> =
            shortcodes("hi :wave: and :a: :ok_hand::x2: 10:30: :: :no").collect();
        assert_eq!(found, ["wave", "ok_hand", "x2", "30"]);
        assert!(valid_shortcode("blob_cat_2"));
        assert!(!valid_shortcode("a"));
        assert!(!valid_shortcode("no-dash"));
    }
}
