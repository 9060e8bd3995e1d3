//! Posting, editing, deleting and acting on statuses.

use std::collections::HashMap;

use cascade_core::text::{self, MentionLink};
use cascade_core::{time, Id, NewStatus, Visibility};
use cascade_store::{Account, EditRecord, Mark, NewStatusRecord, StatusRecord, StoreError};

use crate::app::entity;
use cascade_core::job::JobKind;
use cascade_store::NewJob;

use crate::app::{delivery, render, virality, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A status as the client asked for it, before validation.
#[derive(Debug, Clone, Default)]
pub struct StatusInput {
    pub text: String,
    pub spoiler_text: String,
    pub visibility: Option<String>,
    pub sensitive: bool,
    pub language: Option<String>,
    pub in_reply_to_id: Option<Id>,
    pub quoted_status_id: Option<Id>,
    pub quote_approval_policy: Option<String>,
    pub idempotency_key: Option<String>,
    pub app_id: Option<Id>,
    /// A poll to attach (`app::polls`).
    pub poll: Option<crate::app::polls::PollInput>,
    /// The uploads to attach, in order; `None` (not sent) keeps an edited status's.
    pub media_ids: Option<Vec<String>>,
    /// On an edit, new descriptions and focal points for the attachments.
    pub media_attributes: Vec<crate::app::media::MediaAttribute>,
    /// The scheduled status being published, whose kept uploads it may attach.
    pub scheduled_id: Option<Id>,
}

/// Text rendered to HTML, with the accounts it mentions (local ones, and remote ones we
/// know or could look up) and its hashtags.
struct Rendered {
    html: String,
    mentions: Vec<Account>,
    tags: Vec<String>,
}

async fn render_text(state: &AppState, text: &str) -> ApiResult<Rendered> {
    // `None`: this server, named or not.
    let remote_domain = |domain: Option<&str>| {
        domain
            .filter(|d| !d.eq_ignore_ascii_case(&state.config.domain))
            .map(str::to_lowercase)
    };
    let (local, remote): (Vec<_>, Vec<_>) = text::mentions(text)
        .into_iter()
        .map(|(username, domain)| (username, remote_domain(domain.as_deref())))
        .partition(|(_, domain)| domain.is_none());
    let local: Vec<String> = local.into_iter().map(|(username, _)| username).collect();
    let remote: Vec<(String, String)> = remote
        .into_iter()
        .filter_map(|(username, domain)| Some((username, domain?)))
        .collect();
    let mut found = state.store.accounts_by_usernames(&local).await?;
    found.extend(crate::app::federation::mentioned(state, &remote).await?);
    let by_name: HashMap<(String, Option<String>), &Account> = found
        .iter()
        .map(|a| {
            let domain = a.domain.as_deref().map(str::to_lowercase);
            ((a.username.to_lowercase(), domain), a)
        })
        .collect();
    let html = text::render_html(
        text,
        |username, domain| {
            let a = by_name.get(&(username.to_lowercase(), remote_domain(domain)))?;
            let url = match &a.domain {
                Some(_) => a.url.clone().or_else(|| a.uri.clone())?,
                None => state.url(&format!("/@{}", a.username)),
            };
            Some(MentionLink {
                url,
                username: a.username.clone(),
            })
        },
        |tag| state.url(&format!("/tags/{}", tag.to_lowercase())),
    );
    Ok(Rendered {
        html,
        mentions: found,
        tags: text::hashtags(text),
    })
}

fn parse_visibility(v: Option<&str>, default: Visibility) -> ApiResult<Visibility> {
    match v {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::unprocessable("Visibility is not included in the list")),
    }
}

/// A status the viewer may see, or 404: the visibility rule, and an author that is known
/// and not suspended (a suspended account's posts take no favourites, reblogs, replies or
/// quotes, and show through no endpoint, edit history and source included).
pub async fn visible(state: &AppState, viewer: &Viewer, id: Id) -> ApiResult<StatusRecord> {
    let s = state.store.status(id).await?;
    let authors = state
        .records
        .accounts(&state.store, &[s.account_id], std::time::Instant::now())
        .await?;
    if authors
        .get(&s.account_id)
        .is_none_or(|a| a.suspended_at.is_some())
    {
        return Err(ApiError::NotFound);
    }
    let mentions: Vec<Id> = state
        .store
        .mentions_of(&[id])
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    if viewer.can_see(&s, &mentions) {
        Ok(s)
    } else {
        Err(ApiError::NotFound)
    }
}

pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    input: StatusInput,
) -> ApiResult<entity::Status> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    if let Some(key) = &input.idempotency_key {
        if let Some(earlier) = state.store.idempotent_status(me, key).await? {
            return render::status(state, viewer, earlier).await;
        }
    }
    let user = state.store.user(me).await?;
    let default_visibility = user
        .default_visibility
        .parse()
        .unwrap_or(Visibility::Public);
    let visibility = parse_visibility(input.visibility.as_deref(), default_visibility)?;
    let media_ids = input.media_ids.unwrap_or_default();
    let media =
        crate::app::media::for_status(state, me, &media_ids, None, input.scheduled_id).await?;
    let draft = NewStatus::parse_with_media(
        input.text,
        input.spoiler_text,
        visibility,
        input.sensitive,
        input.language,
        media.len(),
    )?;
    let parent = match input.in_reply_to_id {
        Some(id) => Some(visible(state, viewer, id).await?),
        None => None,
    };
    let quote_policy = match input.quote_approval_policy.as_deref() {
        None | Some("") => "public",
        Some(p @ ("public" | "followers" | "nobody")) => p,
        Some(_) => {
            return Err(ApiError::unprocessable(
                "Quote approval policy is not included in the list",
            ))
        }
    };
    // Quoting a reblog quotes its original, through the reblog (the reshare's parent).
    let (quoted, quoted_via) = match input.quoted_status_id {
        Some(id) => {
            let named = visible(state, viewer, id).await?;
            let (q, via) = match named.reblog_of_id {
                Some(original) => (visible(state, viewer, original).await?, Some(named.id)),
                None => (named, None),
            };
            if !Visibility::from_code(q.visibility).is_shareable() {
                return Err(ApiError::unprocessable(
                    "Quoted status is private or direct and cannot be quoted",
                ));
            }
            if !render::may_quote(viewer, &q) {
                return Err(ApiError::Forbidden(
                    "The author does not allow you to quote this status".into(),
                ));
            }
            (Some(q), via)
        }
        None => (None, None),
    };
    let rendered = render_text(state, &draft.text).await?;
    let now = time::now_millis();
    let poll = match &input.poll {
        Some(p) => Some(crate::app::polls::prepare(state, p, now)?),
        None => None,
    };
    let id = state.ids.next();
    let cascade = match &quoted {
        Some(q) => Some(virality::attribute(state, viewer, q, quoted_via, id).await?),
        None => None,
    };
    let record = NewStatusRecord {
        status: StatusRecord {
            id,
            account_id: me,
            text: draft.text,
            content_html: rendered.html,
            spoiler_text: draft.spoiler_text,
            visibility: draft.visibility.code(),
            sensitive: draft.sensitive,
            language: draft.language,
            in_reply_to_id: parent.as_ref().map(|p| p.id),
            in_reply_to_account_id: parent.as_ref().map(|p| p.account_id),
            reblog_of_id: None,
            quote_of_id: quoted.as_ref().map(|q| q.id),
            quote_state: quoted.as_ref().map(|_| "accepted".to_string()),
            quote_policy: quote_policy.to_string(),
            app_id: input.app_id,
            replies_count: 0,
            reblogs_count: 0,
            favourites_count: 0,
            quotes_count: 0,
            edited_at: None,
            created_at: now,
        },
        mentions: rendered
            .mentions
            .iter()
            .map(|a| a.id)
            .filter(|&a| a != me)
            .collect(),
        tags: rendered
            .tags
            .into_iter()
            .map(|t| (state.ids.next(), t))
            .collect(),
        idempotency_key: input.idempotency_key,
        jobs: delivery::status_jobs(state, id, now),
        cascade,
        poll,
        media,
        remote_media: Vec::new(),
        remote: None,
    };
    // Everything the status owes (notifications, conversations, the index, fan-out) is
    // written with it as jobs; a repeated idempotent request writes nothing. An upload
    // another request attached meanwhile leaves the status unwritten.
    let id = match state.store.create_status(&record).await {
        Ok(id) => id,
        Err(StoreError::Conflict(what)) if what == "media" => {
            return Err(ApiError::unprocessable(
                "A media attachment is already attached to another status",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    state.status_written(&record.status);
    render::status(state, viewer, id).await
}

/// Deletes one's own status; the response carries its source text for redrafting.
pub async fn delete(state: &AppState, viewer: &Viewer, id: Id) -> ApiResult<entity::Status> {
    let s = state.store.status(id).await?;
    if !viewer.is(s.account_id) || s.reblog_of_id.is_some() {
        return Err(ApiError::NotFound);
    }
    let mut shown = render::status(state, viewer, id).await?;
    let job = delivery::delete_job(state, &s, time::now_millis()).await?;
    // The attachments go with the status (the schema deletes their rows); their files
    // are removed by a job written in the same transaction.
    let owed: Vec<NewJob> = std::iter::once(job)
        .chain(crate::app::media::status_removal(state, id).await?)
        .collect();
    shown.text = Some(s.text);
    let deleted = state.store.delete_status(id, &owed).await?;
    state.forget(crate::cluster::Forget::Deleted(
        crate::cluster::Written::deleted(&deleted),
    ));
    state.jobs.ring();
    Ok(shown)
}

/// Changes who may quote one's own status from now on (Mastodon 4.5's
/// `interaction_policy`); quotes already made stay.
pub async fn set_quote_policy(
    state: &AppState,
    viewer: &Viewer,
    id: Id,
    policy: Option<&str>,
) -> ApiResult<entity::Status> {
    let s = visible(state, viewer, id).await?;
    if !viewer.is(s.account_id) || s.reblog_of_id.is_some() {
        return Err(ApiError::Forbidden("This action is not allowed".into()));
    }
    let policy = match policy {
        Some(p @ ("public" | "followers" | "nobody")) => p,
        None | Some("") => return Err(ApiError::unprocessable("quote_approval_policy is missing")),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "Quote approval policy is not included in the list",
            ))
        }
    };
    state.store.set_quote_policy(id, policy).await?;
    state.forget(crate::cluster::Forget::Status(id));
    render::status(state, viewer, id).await
}

/// The author of `quoted` takes back the quote `quoting` made of it: the quoting status
/// stays, its quote shows as `revoked` and the quoted post is no longer shown in it.
pub async fn revoke_quote(
    state: &AppState,
    viewer: &Viewer,
    quoted: Id,
    quoting: Id,
) -> ApiResult<entity::Status> {
    let original = state.store.status(quoted).await?;
    if !viewer.is(original.account_id) {
        return Err(ApiError::NotFound);
    }
    let quote = state.store.status(quoting).await?;
    if quote.quote_of_id != Some(quoted) {
        return Err(ApiError::NotFound);
    }
    state.store.revoke_quote(quoted, quoting).await?;
    state.forget(crate::cluster::Forget::Status(quoting));
    state.forget(crate::cluster::Forget::Status(quoted));
    render::status(state, viewer, quoting).await
}

pub async fn edit(
    state: &AppState,
    viewer: &Viewer,
    id: Id,
    input: StatusInput,
) -> ApiResult<entity::Status> {
    let s = state.store.status(id).await?;
    if !viewer.is(s.account_id) || s.reblog_of_id.is_some() {
        return Err(ApiError::NotFound);
    }
    let visibility = Visibility::from_code(s.visibility);
    let me = s.account_id;
    let media = match &input.media_ids {
        Some(raw) => Some(crate::app::media::for_status(state, me, raw, Some(id), None).await?),
        None => None,
    };
    // The attachments before the edit: the count when they stay, and the history's record.
    let attached: Vec<Id> = state
        .store
        .media_of(&[id])
        .await?
        .iter()
        .map(|m| m.id)
        .collect();
    let media_count = media.as_ref().map_or(attached.len(), Vec::len);
    let draft = NewStatus::parse_with_media(
        input.text,
        input.spoiler_text,
        visibility,
        input.sensitive,
        input.language,
        media_count,
    )?;
    let rendered = render_text(state, &draft.text).await?;
    let joined = |ids: &mut dyn Iterator<Item = Id>| {
        ids.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
    };
    let media_before = joined(&mut attached.iter().copied());
    let media_after = match &media {
        Some(ids) => joined(&mut ids.iter().copied()),
        None => media_before.clone(),
    };
    // Checked before anything is written, applied once the edit is.
    let attributes = crate::app::media::check_attributes(&input.media_attributes, &media_after)?;
    if let Some(media) = &media {
        crate::app::media::set_for_status(state, me, id, media).await?;
    }
    let language = draft.language.clone();
    let now = time::now_millis();
    // As in Mastodon: an edit names the poll it keeps (its votes too, unless its options
    // or kind changed); an edit without one removes the poll.
    let new_poll = match &input.poll {
        Some(p) => Some(crate::app::polls::prepare(state, p, now)?),
        None => None,
    };
    let old_poll = state.store.polls_of(&[id]).await?.pop();
    let reset = match (&old_poll, &new_poll) {
        (Some(old), Some(new)) => old.options != new.options || old.multiple != new.multiple,
        _ => true,
    };
    // The version before the first edit, which the history starts with.
    let original = EditRecord::original(
        state.ids.next(),
        &s,
        old_poll.as_ref().map(|p| p.options.clone()),
        media_before,
    );
    let edit = EditRecord {
        id: state.ids.next(),
        status_id: id,
        text: draft.text,
        content_html: rendered.html,
        spoiler_text: draft.spoiler_text,
        sensitive: draft.sensitive,
        created_at: now,
        poll_options: new_poll.as_ref().map(|p| p.options.clone()),
        media_ids: media_after,
    };
    let mentions: Vec<Id> = rendered
        .mentions
        .iter()
        .map(|a| a.id)
        .filter(|&a| a != me)
        .collect();
    let tags: Vec<(Id, String)> = rendered
        .tags
        .into_iter()
        .map(|t| (state.ids.next(), t))
        .collect();
    state
        .store
        .edit_status(
            &edit,
            &original,
            &mentions,
            &tags,
            language.as_deref(),
            &[NewJob::new(state.ids.next(), JobKind::Edit, id, now)],
        )
        .await?;
    if old_poll.is_some() || new_poll.is_some() {
        state
            .store
            .replace_poll(id, me, new_poll.as_ref(), reset, now)
            .await?;
    }
    crate::app::media::apply_attributes(state, &attributes).await?;
    state.forget(crate::cluster::Forget::Status(id));
    state.jobs.ring();
    render::status(state, viewer, id).await
}

pub async fn history(
    state: &AppState,
    viewer: &Viewer,
    id: Id,
) -> ApiResult<Vec<entity::StatusEdit>> {
    let s = visible(state, viewer, id).await?;
    let author = render::account(state, &state.store.account(s.account_id).await?);
    let edits = state.store.status_edits(id).await?;
    if edits.is_empty() {
        // Never edited: the one version is the status as it is.
        let media = state.store.media_of(&[id]).await?;
        let poll = state.store.polls_of(&[id]).await?.pop();
        let emojis = state.emojis.used_in(&[&s.text, &s.spoiler_text]);
        return Ok(vec![entity::StatusEdit {
            content: s.content_html,
            spoiler_text: s.spoiler_text,
            sensitive: s.sensitive,
            created_at: time::rfc3339(s.created_at),
            account: author,
            media_attachments: media
                .iter()
                .map(|m| crate::app::media::entity(state, m))
                .collect(),
            emojis,
            poll: poll.and_then(|p| version_poll(&p.options)),
        }]);
    }
    // Each version shows the attachments it had that still exist (an edit that dropped
    // one deleted its file).
    let ids: Vec<Id> = edits
        .iter()
        .flat_map(|e| e.media_ids.split(',').filter_map(|i| i.parse().ok()))
        .collect();
    let kept = state.store.media_by_ids(&ids).await?;
    Ok(edits
        .into_iter()
        .map(|e| entity::StatusEdit {
            media_attachments: e
                .media_ids
                .split(',')
                .filter_map(|i| i.parse::<Id>().ok())
                .filter_map(|i| kept.iter().find(|m| m.id == i))
                .map(|m| crate::app::media::entity(state, m))
                .collect(),
            emojis: state.emojis.used_in(&[&e.text, &e.spoiler_text]),
            poll: e.poll_options.as_deref().and_then(version_poll),
            content: e.content_html,
            spoiler_text: e.spoiler_text,
            sensitive: e.sensitive,
            created_at: time::rfc3339(e.created_at),
            account: author.clone(),
        })
        .collect())
}

/// A version's poll as the history shows it: its options' titles.
fn version_poll(options: &str) -> Option<serde_json::Value> {
    let titles: Vec<String> = serde_json::from_str(options).ok()?;
    let options: Vec<serde_json::Value> = titles
        .into_iter()
        .map(|title| serde_json::json!({"title": title}))
        .collect();
    Some(serde_json::json!({"options": options}))
}

/// Favourites, bookmarks or pins a status the viewer can see. Repeating is harmless.
pub async fn mark(
    state: &AppState,
    viewer: &Viewer,
    id: Id,
    mark: Mark,
) -> ApiResult<entity::Status> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let s = visible(state, viewer, id).await?;
    // Acting on a reblog acts on the original, as Mastodon clients expect.
    let target = match s.reblog_of_id {
        Some(original) => visible(state, viewer, original).await?,
        None => s,
    };
    if mark == Mark::Pin {
        if target.account_id != me {
            return Err(ApiError::unprocessable(
                "You can only pin your own statuses",
            ));
        }
        if Visibility::from_code(target.visibility) == Visibility::Direct {
            return Err(ApiError::unprocessable("Direct messages cannot be pinned"));
        }
        let pinned = state.store.marks(Mark::Pin, me, None, None, 6).await?;
        if pinned.len() >= 5 && !pinned.iter().any(|(_, s)| *s == target.id) {
            return Err(ApiError::unprocessable(
                "You have already pinned the maximum number of statuses",
            ));
        }
    }
    let now = time::now_millis();
    // A favourite owes its author's notification and, when the author is remote, a Like.
    let mut owed: Vec<NewJob> = Vec::new();
    if mark == Mark::Favourite {
        owed.push(NewJob::new(state.ids.next(), JobKind::Favourite, target.id, now).by(me));
        owed.extend(crate::app::federation::like_job(state, me, &target, false).await?);
    }
    let added = state
        .store
        .add_mark(mark, state.ids.next(), me, target.id, now, &owed)
        .await?;
    state.forget(crate::cluster::Forget::Marked {
        account: me,
        status: target.id,
    });
    if added && !owed.is_empty() {
        state.jobs.ring();
    }
    render::status(state, viewer, target.id).await
}

pub async fn unmark(
    state: &AppState,
    viewer: &Viewer,
    id: Id,
    mark: Mark,
) -> ApiResult<entity::Status> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let s = visible(state, viewer, id).await?;
    let target = s.reblog_of_id.unwrap_or(s.id);
    // An unfavourite withdraws the author's notification in the same transaction and, when
    // the author is remote, owes the Undo of the Like.
    let owed: Vec<NewJob> = match mark {
        Mark::Favourite => {
            let original = state.store.status(target).await?;
            crate::app::federation::like_job(state, me, &original, true)
                .await?
                .into_iter()
                .collect()
        }
        _ => Vec::new(),
    };
    if state.store.remove_mark(mark, me, target, &owed).await? && !owed.is_empty() {
        state.jobs.ring();
    }
    state.forget(crate::cluster::Forget::Marked {
        account: me,
        status: target,
    });
    render::status(state, viewer, target).await
}

/// Reblogs a status (the original, when given a reblog). Reblogging twice returns the
/// first reblog.
pub async fn reblog(
    state: &AppState,
    viewer: &Viewer,
    id: Id,
    visibility: Option<&str>,
) -> ApiResult<entity::Status> {
    let created = write_reblog(state, viewer, id, visibility, None).await?;
    render::status(state, viewer, created).await
}

/// Writes the viewer's reblog of the status `id` (of its original, when it is a reblog)
/// and returns the reblog's id. `announce` is the id of the `Announce` when the viewer is
/// a remote account whose server told us of its reblog (`federation::inbox`): it becomes
/// the reblog's `uri`, by which an `Undo` may name it.
pub async fn write_reblog(
    state: &AppState,
    viewer: &Viewer,
    id: Id,
    visibility: Option<&str>,
    announce: Option<&str>,
) -> ApiResult<Id> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let s = visible(state, viewer, id).await?;
    // Reblogging a reblog reblogs its original, through the reblog the client named.
    let (original, acted_on) = match s.reblog_of_id {
        Some(o) => (visible(state, viewer, o).await?, Some(s.id)),
        None => (s, None),
    };
    let original_visibility = Visibility::from_code(original.visibility);
    if !original_visibility.is_shareable() {
        return Err(ApiError::Forbidden(
            "This status cannot be reblogged".into(),
        ));
    }
    if let Some(existing) = state.store.reblog_by(me, original.id).await? {
        return Ok(existing);
    }
    let visibility = parse_visibility(visibility, Visibility::Public)?;
    if visibility == Visibility::Direct {
        return Err(ApiError::unprocessable(
            "Visibility of a reblog cannot be direct",
        ));
    }
    let now = time::now_millis();
    let id = state.ids.next();
    let cascade = virality::attribute(state, viewer, &original, acted_on, id).await?;
    let record = NewStatusRecord {
        status: StatusRecord {
            id,
            account_id: me,
            text: String::new(),
            content_html: String::new(),
            spoiler_text: String::new(),
            visibility: visibility.max(original_visibility).code(),
            sensitive: false,
            language: None,
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            reblog_of_id: Some(original.id),
            quote_of_id: None,
            quote_state: None,
            quote_policy: "nobody".into(),
            app_id: None,
            replies_count: 0,
            reblogs_count: 0,
            favourites_count: 0,
            quotes_count: 0,
            edited_at: None,
            created_at: now,
        },
        mentions: Vec::new(),
        tags: Vec::new(),
        idempotency_key: None,
        jobs: delivery::status_jobs(state, id, now),
        cascade: Some(cascade),
        poll: None,
        media: Vec::new(),
        remote_media: Vec::new(),
        remote: announce.map(|uri| (uri.to_string(), None)),
    };
    let created = match state.store.create_status(&record).await {
        Ok(created) => created,
        // Two concurrent reblogs by one account: the store's check lost the race, the
        // reblog exists; answer with it.
        Err(StoreError::Conflict(_)) => state
            .store
            .reblog_by(me, original.id)
            .await?
            .ok_or(ApiError::NotFound)?,
        Err(e) => return Err(e.into()),
    };
    state.status_written(&record.status);
    Ok(created)
}

pub async fn unreblog(state: &AppState, viewer: &Viewer, id: Id) -> ApiResult<entity::Status> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let s = visible(state, viewer, id).await?;
    let original = s.reblog_of_id.unwrap_or(s.id);
    if let Some(mine) = state.store.reblog_by(me, original).await? {
        // Deleting the reblog withdraws the original author's notification with it.
        let job = delivery::delete_job(state, &state.store.status(mine).await?, time::now_millis())
            .await?;
        let deleted = state.store.delete_status(mine, &[job]).await?;
        state.forget(crate::cluster::Forget::Deleted(
            crate::cluster::Written::deleted(&deleted),
        ));
        state.jobs.ring();
    }
    render::status(state, viewer, original).await
}

/// Ancestors and descendants the viewer may see and does not filter out.
pub async fn context(state: &AppState, viewer: &Viewer, id: Id) -> ApiResult<entity::Context> {
    use cascade_core::filter::FilterContext::Thread;
    visible(state, viewer, id).await?;
    let (up, down) = state.store.thread(id).await?;
    let keep = |list: Vec<entity::Status>| -> Vec<entity::Status> {
        list.into_iter()
            .filter(|s| s.account.id.parse::<Id>().is_ok_and(|a| !viewer.hides(a)))
            .collect()
    };
    Ok(entity::Context {
        ancestors: keep(render::statuses_in(state, viewer, &up, Thread).await?),
        descendants: keep(render::statuses_in(state, viewer, &down, Thread).await?),
    })
}
