//! Fetching objects we do not have, by their id: a status a user pastes into search, the
//! note a peer's `Announce` or `Create` names only by id, and the parents of a reply, so
//! that threads arrive whole. Every fetch is the instance actor's signed GET through the
//! outgoing guard (https only, no private addresses, 1 MiB at most, suspended domains
//! refused), and a parent chain is followed `MAX_ANCESTORS` deep at most.
//!
//! A fetched note is believed only as its own server serves it: its id must be on the host
//! it was fetched from, and its `attributedTo` on that host too, so a server cannot make
//! us store an object in another server's or another actor's name. Only public and
//! unlisted notes are stored this way.

use cascade_core::activitypub;
use cascade_core::{text, time, Id, Visibility};
use cascade_store::{Account, MediaRecord, NewStatusRecord, StatusRecord};
use serde_json::{json, Value};

use super::inbox::{addresses, local_mentions, local_or_known_status, note_text, one_or_many};
use super::{domain_of, fetch, id_of, render_remote_text, resolve_actor, store_actor, ACTOR_TYPES};
use crate::app::delivery;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How many parents of a reply are fetched, at most, to complete its thread.
pub const MAX_ANCESTORS: usize = 5;

/// What a URL named, once resolved.
pub enum Resolved {
    Account(Account),
    Status(StatusRecord),
}

/// A note fetched from its own server and found to be its author's, with its visibility.
pub struct FetchedNote {
    pub note: Value,
    pub author: Account,
    pub visibility: Visibility,
}

fn refused(url: &str, why: &str) -> ApiError {
    ApiError::BadRequest(format!("{url}: {why}"))
}

/// Whether a URL names something on this server, which is never fetched.
fn is_ours(state: &AppState, url: &str) -> bool {
    domain_of(url).is_none_or(|d| d.eq_ignore_ascii_case(&state.config.domain))
}

fn is_note(doc: &Value) -> bool {
    matches!(
        doc.get("type").and_then(Value::as_str),
        Some("Note" | "Article" | "Question")
    )
}

/// The account or status a remote URL names: known ones are found, others fetched and
/// stored (an actor as account lookups store it, a public or unlisted note as a remote
/// status with its author). `None` when the URL names neither.
pub async fn resolve_url(state: &AppState, url: &str) -> ApiResult<Option<Resolved>> {
    if let Some(s) = local_or_known_status(state, url).await? {
        return Ok(Some(Resolved::Status(s)));
    }
    if let Some(a) = state.store.account_by_uri(url).await? {
        return Ok(Some(Resolved::Account(a)));
    }
    if is_ours(state, url) {
        return Ok(None);
    }
    let doc = fetch(state, url).await?;
    let kind = doc.get("type").and_then(Value::as_str).unwrap_or_default();
    if ACTOR_TYPES.contains(&kind) {
        let id = id_of(&doc).ok_or_else(|| refused(url, "no id"))?;
        let account = if id == url {
            let id = store_actor(state, url, &doc).await?;
            state.store.account(id).await?
        } else if domain_of(id) == domain_of(url) {
            // The page of an actor, naming its id: the actor is read from its id.
            resolve_actor(state, id).await?
        } else {
            return Err(refused(url, "the actor is another server's"));
        };
        return Ok(Some(Resolved::Account(account)));
    }
    if is_note(&doc) {
        let fetched = checked_note(state, url, doc).await?;
        return Ok(store_fetched(state, fetched).await?.map(Resolved::Status));
    }
    Ok(None)
}

/// The status a note id names: ours, a stored remote one, or fetched from its server and
/// stored, with up to `MAX_ANCESTORS` of its parents.
pub async fn resolve_note(state: &AppState, uri: &str) -> ApiResult<Option<StatusRecord>> {
    if let Some(s) = local_or_known_status(state, uri).await? {
        return Ok(Some(s));
    }
    if is_ours(state, uri) {
        return Ok(None);
    }
    let fetched = fetch_note(state, uri).await?;
    store_fetched(state, fetched).await
}

/// Fetches the note at `url` and checks it (`checked_note`).
pub async fn fetch_note(state: &AppState, url: &str) -> ApiResult<FetchedNote> {
    if is_ours(state, url) {
        return Err(refused(url, "a local object"));
    }
    let doc = fetch(state, url).await?;
    checked_note(state, url, doc).await
}

/// A note document fetched from `url`, believed only if its id is on the host it came
/// from and its author lives there too (an actor cannot claim another server's objects),
/// and only if it is public or unlisted. Its author is fetched when unknown.
async fn checked_note(state: &AppState, url: &str, note: Value) -> ApiResult<FetchedNote> {
    if !is_note(&note) {
        return Err(refused(url, "not a note"));
    }
    let id = note
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| refused(url, "the note has no id"))?;
    let host = domain_of(url);
    if domain_of(id) != host {
        return Err(refused(url, "the note names another server's id"));
    }
    let author = one_or_many(note.get("attributedTo"))
        .iter()
        .find_map(id_of)
        .ok_or_else(|| refused(url, "the note has no author"))?;
    if domain_of(author) != host {
        return Err(refused(
            url,
            "the note is attributed to another server's actor",
        ));
    }
    let author = resolve_actor(state, author).await?;
    let followers = state
        .store
        .remote_actor(author.id)
        .await?
        .and_then(|r| r.followers_url);
    let visibility = activitypub::visibility_of(
        &addresses(note.get("to")),
        &addresses(note.get("cc")),
        followers.as_deref(),
    );
    if !matches!(visibility, Visibility::Public | Visibility::Unlisted) {
        return Err(refused(url, "the note is neither public nor unlisted"));
    }
    Ok(FetchedNote {
        note,
        author,
        visibility,
    })
}

/// Stores a fetched note (unless it is known under the id it names itself by), its
/// missing parents first.
async fn store_fetched(state: &AppState, f: FetchedNote) -> ApiResult<Option<StatusRecord>> {
    let uri = id_of(&f.note).unwrap_or_default();
    if let Some(s) = local_or_known_status(state, uri).await? {
        return Ok(Some(s));
    }
    let parent = match f.note.get("inReplyTo").and_then(id_of) {
        Some(p) => ancestors(state, p).await?,
        None => None,
    };
    let mentions = local_mentions(state, &f.note).await?;
    store_note(
        state,
        &f.author,
        &f.note,
        f.visibility,
        parent.as_ref(),
        mentions,
    )
    .await
    .map(Some)
}

/// The status a reply's `inReplyTo` names, fetching and storing the missing ones of the
/// chain above it, `MAX_ANCESTORS` at most. A parent that cannot be fetched (gone, private,
/// forged, on a suspended domain) ends the chain there: the reply stays unlinked.
pub async fn ancestors(state: &AppState, parent: &str) -> ApiResult<Option<StatusRecord>> {
    let mut chain: Vec<FetchedNote> = Vec::new();
    let mut top: Option<StatusRecord> = None;
    let mut next = Some(parent.to_string());
    while let Some(uri) = next.take() {
        if let Some(s) = local_or_known_status(state, &uri).await? {
            top = Some(s);
            break;
        }
        if chain.len() == MAX_ANCESTORS || is_ours(state, &uri) {
            break;
        }
        match fetch_note(state, &uri).await {
            Ok(f) => {
                next = f.note.get("inReplyTo").and_then(id_of).map(str::to_string);
                chain.push(f);
            }
            Err(e @ ApiError::Internal(_)) => return Err(e),
            Err(e) => {
                tracing::info!(%uri, error = %e, "a parent could not be fetched");
                break;
            }
        }
    }
    // Stored oldest first, each under the one above it.
    for f in chain.into_iter().rev() {
        let mentions = local_mentions(state, &f.note).await?;
        let stored = store_note(
            state,
            &f.author,
            &f.note,
            f.visibility,
            top.as_ref(),
            mentions,
        )
        .await?;
        top = Some(stored);
    }
    Ok(top)
}

/// Characters of a remote attachment's description we keep (Mastodon's limit).
const MAX_DESCRIPTION_CHARS: usize = 1_500;
/// Bytes of a remote attachment's URL or media type we keep; longer ones are dropped.
const MAX_ATTACHMENT_URL_BYTES: usize = 2_048;

/// A URL given as itself or as a `Link` with an `href`.
fn link_href(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v.get("href").and_then(Value::as_str))
}

/// A remote note's attachments (`Document`, `Image`, `Video`, `Audio`), the first
/// `media::MAX_ATTACHMENTS` as Mastodon keeps them, by reference: their `url` on their
/// server (http(s) only), media type, description (`name`), blurhash, size and focal
/// point. Nothing is fetched; the client loads the file from its server.
fn attachments(state: &AppState, author: Id, note: &Value, now: i64) -> Vec<MediaRecord> {
    one_or_many(note.get("attachment"))
        .iter()
        .filter_map(|a| {
            let url = match a.get("url")? {
                Value::Array(links) => links.iter().find_map(link_href)?,
                one => link_href(one)?,
            };
            let scheme_ok = url.starts_with("https://")
                || (state.config.allow_private_outgoing && url.starts_with("http://"));
            if !scheme_ok || url.len() > MAX_ATTACHMENT_URL_BYTES {
                return None;
            }
            let media_type = a
                .get("mediaType")
                .and_then(Value::as_str)
                .filter(|t| t.len() <= 255)
                .unwrap_or_default();
            let kind = match media_type.split('/').next() {
                Some("image") => "image",
                Some("video") => "video",
                Some("audio") => "audio",
                _ => "unknown",
            };
            let side = |k: &str| {
                a.get(k)
                    .and_then(Value::as_u64)
                    .filter(|n| (1..=65_535).contains(n))
                    .map(|n| n as u32)
            };
            let meta = match (side("width"), side("height")) {
                (Some(w), Some(h)) => json!({ "original": crate::app::media::size_meta(w, h) }),
                _ => json!({}),
            };
            let focus = a
                .get("focalPoint")
                .and_then(Value::as_array)
                .and_then(|p| Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?)))
                .filter(|(x, y)| (-1.0..=1.0).contains(x) && (-1.0..=1.0).contains(y));
            const BASE83: &str =
                "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
            let blurhash = a
                .get("blurhash")
                .and_then(Value::as_str)
                .filter(|b| (6..=100).contains(&b.len()) && b.chars().all(|c| BASE83.contains(c)));
            Some(MediaRecord {
                id: state.ids.next(),
                account_id: author,
                status_id: None,
                position: 0,
                kind: kind.to_string(),
                state: "ready".to_string(),
                content_type: media_type.to_string(),
                file_key: None,
                preview_key: None,
                meta_json: meta.to_string(),
                description: a
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .chars()
                    .take(MAX_DESCRIPTION_CHARS)
                    .collect(),
                focus_x: focus.map(|f| f.0),
                focus_y: focus.map(|f| f.1),
                blurhash: blurhash.map(str::to_string),
                bytes: 0,
                created_at: now,
                remote_url: Some(url.to_string()),
            })
        })
        .take(cascade_core::media::MAX_ATTACHMENTS)
        .collect()
}

/// Writes a remote note by `author` as a status, replying to `parent`, with its
/// mentions of local accounts and its hashtags; it reaches timelines as any post does.
/// The same note stored at once by another request is the one returned.
pub async fn store_note(
    state: &AppState,
    author: &Account,
    note: &Value,
    visibility: Visibility,
    parent: Option<&StatusRecord>,
    mentions: Vec<Id>,
) -> ApiResult<StatusRecord> {
    let uri = id_of(note).unwrap_or_default().to_string();
    let (text, spoiler, sensitive) = note_text(note);
    let now = time::now_millis();
    let id = state.ids.next();
    let tags: Vec<(Id, String)> = text::hashtags(&text)
        .into_iter()
        .map(|t| (state.ids.next(), t))
        .collect();
    let record = NewStatusRecord {
        status: StatusRecord {
            id,
            account_id: author.id,
            content_html: render_remote_text(state, &text),
            text,
            spoiler_text: spoiler,
            visibility: visibility.code(),
            sensitive,
            language: None,
            in_reply_to_id: parent.map(|p| p.id),
            in_reply_to_account_id: parent.map(|p| p.account_id),
            quote_policy: (if visibility == Visibility::Public {
                "public"
            } else {
                "nobody"
            })
            .to_string(),
            created_at: note
                .get("published")
                .and_then(Value::as_str)
                .and_then(time::parse_rfc3339)
                .map_or(now, |t| t.min(now)),
            ..StatusRecord::default()
        },
        mentions,
        tags,
        idempotency_key: None,
        jobs: delivery::status_jobs(state, id, now),
        cascade: None,
        poll: None,
        media: Vec::new(),
        remote_media: attachments(state, author.id, note, now),
        remote: Some((
            uri.clone(),
            note.get("url").and_then(id_of).map(str::to_string),
        )),
    };
    match state.store.create_status(&record).await {
        Ok(_) => {}
        // The same note, stored twice at once: the other request stored it.
        Err(cascade_store::StoreError::Conflict(_)) => {
            return local_or_known_status(state, &uri)
                .await?
                .ok_or(ApiError::NotFound);
        }
        Err(e) => return Err(e.into()),
    }
    state.status_written(&record.status);
    state.jobs.ring();
    Ok(record.status)
}
