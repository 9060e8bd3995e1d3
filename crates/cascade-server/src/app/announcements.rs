//! Announcements: written, edited and removed by administrators (`cascade admin
//! announcements`), read, dismissed and reacted to by users.
//!
//! An announcement is shown from its creation until its `ends_at`, if it has one;
//! `starts_at` and `ends_at` also describe the event it announces, as in Mastodon. Text is
//! rendered like a status's: escaped, with links, hashtags and local mentions. Reactions
//! are single Unicode emoji (there are no custom emoji), at most 8 names per announcement.
//! Announcement events are not streamed: clients see changes when they fetch the list.

use std::collections::HashMap;

use cascade_core::text::{self, MentionLink};
use cascade_core::{limits, time, Id};
use cascade_store::{AnnouncementRecord, StoreError};

use crate::app::entity;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Characters in an announcement's text; Mastodon sets none, a status's 500 is too few for
/// an instance notice.
pub const MAX_TEXT_CHARS: usize = 5_000;

/// What an administrator writes.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub text: String,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub all_day: bool,
}

fn check(draft: &Draft) -> ApiResult<()> {
    if draft.text.trim().is_empty() {
        return Err(ApiError::unprocessable("Text can't be blank"));
    }
    if draft.text.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::unprocessable(format!(
            "Text is too long (maximum is {MAX_TEXT_CHARS} characters)"
        )));
    }
    if let (Some(start), Some(end)) = (draft.starts_at, draft.ends_at) {
        if end < start {
            return Err(ApiError::unprocessable("Ends at must be after starts at"));
        }
    }
    Ok(())
}

/// The usernames a text mentions on this instance.
fn local_mentions(state: &AppState, raw: &str) -> Vec<String> {
    text::mentions(raw)
        .into_iter()
        .filter(|(_, domain)| {
            domain
                .as_deref()
                .is_none_or(|d| d.eq_ignore_ascii_case(&state.config.domain))
        })
        .map(|(name, _)| name)
        .collect()
}

async fn content_html(state: &AppState, raw: &str) -> ApiResult<String> {
    let names = local_mentions(state, raw);
    let by_name: HashMap<String, String> = state
        .store
        .accounts_by_usernames(&names)
        .await?
        .into_iter()
        .map(|a| (a.username.to_lowercase(), a.username))
        .collect();
    Ok(text::render_html(
        raw,
        |username, _| {
            by_name
                .get(&username.to_lowercase())
                .map(|name| MentionLink {
                    url: state.url(&format!("/@{name}")),
                    username: name.clone(),
                })
        },
        |t| state.url(&format!("/tags/{}", t.to_lowercase())),
    ))
}

/// Publishes a new announcement now.
pub async fn create(state: &AppState, draft: Draft) -> ApiResult<AnnouncementRecord> {
    check(&draft)?;
    let now = time::now_millis();
    let record = AnnouncementRecord {
        id: state.ids.next(),
        content_html: content_html(state, &draft.text).await?,
        text: draft.text,
        starts_at: draft.starts_at,
        ends_at: draft.ends_at,
        all_day: draft.all_day && (draft.starts_at.is_some() || draft.ends_at.is_some()),
        published_at: now,
        updated_at: now,
    };
    state.store.save_announcement(&record).await?;
    Ok(record)
}

/// Replaces an announcement's text and times; 404 when unknown.
pub async fn edit(state: &AppState, id: Id, draft: Draft) -> ApiResult<AnnouncementRecord> {
    check(&draft)?;
    let old = state.store.announcement(id).await?;
    let record = AnnouncementRecord {
        content_html: content_html(state, &draft.text).await?,
        text: draft.text,
        starts_at: draft.starts_at,
        ends_at: draft.ends_at,
        all_day: draft.all_day && (draft.starts_at.is_some() || draft.ends_at.is_some()),
        updated_at: time::now_millis(),
        ..old
    };
    state.store.save_announcement(&record).await?;
    Ok(record)
}

pub async fn delete(state: &AppState, id: Id) -> ApiResult<()> {
    if !state.store.delete_announcement(id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

pub async fn all(state: &AppState) -> ApiResult<Vec<AnnouncementRecord>> {
    Ok(state.store.all_announcements().await?)
}

/// An announcement a user may act on: published and not ended; 404 otherwise.
async fn current(state: &AppState, id: Id) -> ApiResult<AnnouncementRecord> {
    let a = match state.store.announcement(id).await {
        Ok(a) => a,
        Err(StoreError::NotFound) => return Err(ApiError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let now = time::now_millis();
    if a.published_at > now || a.ends_at.is_some_and(|end| end <= now) {
        return Err(ApiError::NotFound);
    }
    Ok(a)
}

/// The current announcements as `me` sees them, oldest first.
pub async fn list(
    state: &AppState,
    me: Id,
    with_dismissed: bool,
) -> ApiResult<Vec<entity::Announcement>> {
    let records = state
        .store
        .current_announcements(me, time::now_millis(), with_dismissed)
        .await?;
    let ids: Vec<Id> = records.iter().map(|a| a.id).collect();
    let dismissed = state.store.dismissed_among(me, &ids).await?;
    let reactions = state.store.announcement_reactions(me, &ids).await?;
    let mut out = Vec::with_capacity(records.len());
    for a in records {
        let names = local_mentions(state, &a.text);
        let mentioned = state.store.accounts_by_usernames(&names).await?;
        out.push(entity::Announcement {
            id: a.id.to_string(),
            content: a.content_html.clone(),
            starts_at: a.starts_at.map(time::rfc3339),
            ends_at: a.ends_at.map(time::rfc3339),
            all_day: a.all_day,
            published: true,
            published_at: time::rfc3339(a.published_at),
            updated_at: time::rfc3339(a.updated_at),
            read: dismissed.contains(&a.id),
            mentions: mentioned
                .iter()
                .filter(|m| m.suspended_at.is_none())
                .map(|m| entity::Mention {
                    id: m.id.to_string(),
                    username: m.username.clone(),
                    acct: m.username.clone(),
                    url: state.url(&format!("/@{}", m.username)),
                })
                .collect(),
            statuses: Vec::new(),
            tags: text::hashtags(&a.text)
                .into_iter()
                .map(|t| entity::Tag {
                    url: state.url(&format!("/tags/{t}")),
                    name: t,
                })
                .collect(),
            emojis: Vec::new(),
            reactions: reactions
                .iter()
                .filter(|r| r.announcement_id == a.id)
                .map(|r| entity::Reaction {
                    name: r.name.clone(),
                    count: r.count,
                    me: r.me,
                })
                .collect(),
        });
    }
    Ok(out)
}

pub async fn dismiss(state: &AppState, me: Id, id: Id) -> ApiResult<()> {
    current(state, id).await?;
    state
        .store
        .dismiss_announcement(id, me, time::now_millis())
        .await?;
    Ok(())
}

/// Adds `me`'s reaction: one Unicode emoji, and at most 8 different ones per announcement.
pub async fn react(state: &AppState, me: Id, id: Id, name: &str) -> ApiResult<()> {
    current(state, id).await?;
    if !text::is_unicode_emoji(name) {
        return Err(ApiError::unprocessable("Name is not a recognized emoji"));
    }
    let max = limits::MAX_ANNOUNCEMENT_REACTIONS;
    if !state
        .store
        .add_announcement_reaction(id, me, name, max, time::now_millis())
        .await?
    {
        return Err(ApiError::unprocessable(format!(
            "Announcements may have at most {max} different reactions"
        )));
    }
    Ok(())
}

pub async fn unreact(state: &AppState, me: Id, id: Id, name: &str) -> ApiResult<()> {
    current(state, id).await?;
    state
        .store
        .remove_announcement_reaction(id, me, name)
        .await?;
    Ok(())
}
