//! Turning stored records into Mastodon entities for one viewer: statuses with their
//! authors, reblogged and quoted statuses, mentions, tags and the viewer's own marks,
//! loaded in a fixed number of queries per page, whatever its length, and through the
//! record cache (`app::records`): a warm page makes none.
//!
//! Visibility is applied here, for every status rendered, so no endpoint can return a
//! status its viewer may not see: a status that fails the check is left out, a quote of one
//! is shown as `unauthorized`.
//!
//! Suspension is applied here too, from the authors' records: a suspended account's
//! statuses fail the same check (and so do reblogs of them), it is left out of account
//! lists, and on its own it renders as Mastodon shows a suspended profile. Records live at
//! most the record cache's TTL, so a suspension by another process (`cascade admin
//! suspend`) shows within it.
//! So are the viewer's content filters (`app::filters`): a page rendered for a context
//! (home, public, …) leaves out what a `hide` filter of that context matches and marks the
//! rest in `filtered`; a status rendered on its own is marked by every active filter and
//! never left out.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use cascade_core::filter::{self, Filter, FilterAction, FilterContext, FilterMatch, Searchable};
use cascade_core::timeline::Page;
use cascade_core::{time, Id, Visibility};
use cascade_store::{Account, StatusRecord};

use crate::app::entity;
use crate::app::records::{Marks, StatusEntry};
use crate::app::Viewer;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn account(state: &AppState, a: &Account) -> entity::Account {
    if a.suspended_at.is_some() {
        return suspended_account(state, a);
    }
    let (acct, uri, url) = names(state, a);
    let avatar = avatar_url(state, a);
    let header = match &a.header_key {
        Some(key) => crate::app::media::file_url(state, key),
        None => state.url("/headers/original/missing.png"),
    };
    let fields = fields(&a.fields_json);
    let mut texts: Vec<&str> = vec![&a.display_name, &a.note];
    for field in &fields {
        texts.extend([field.name.as_str(), field.value.as_str()]);
    }
    let emojis = state.emojis.used_in(&texts);
    entity::Account {
        id: a.id.to_string(),
        username: a.username.clone(),
        acct,
        display_name: a.display_name.clone(),
        locked: a.locked,
        bot: a.bot,
        discoverable: a.discoverable,
        indexable: a.discoverable,
        group: false,
        hide_collections: false,
        noindex: false,
        // Mastodon rounds account creation to the day, so it reveals no more than that.
        created_at: format!("{}T00:00:00.000Z", time::date(a.created_at)),
        note: a.note_html.clone(),
        uri,
        url,
        avatar_static: avatar.clone(),
        avatar,
        header_static: header.clone(),
        header,
        followers_count: a.followers_count,
        following_count: a.following_count,
        statuses_count: a.statuses_count,
        last_status_at: a.last_status_at.map(time::date),
        emojis,
        roles: Vec::new(),
        fields,
        source: None,
        role: None,
        cascade_away: state.away.notice(a.id),
        suspended: None,
        moved: None,
    }
}

/// The account as rendered for statuses: made once per version of its record and shared
/// by every status and reader (`app::rendered`), with the away notice, which changes with
/// the clock, added per rendering.
pub fn shared_account(
    state: &AppState,
    a: &Arc<Account>,
) -> Arc<entity::Rendered<entity::Account>> {
    let shared = state.rendered.account(a, state.emojis.generation(), || {
        let mut rendered = account(state, a);
        rendered.cascade_away = None;
        entity::Rendered::new(rendered)
    });
    match state.away.notice(a.id) {
        Some(notice) if a.suspended_at.is_none() => {
            Arc::new(entity::Rendered::new(entity::Account {
                cascade_away: Some(notice),
                ..(**shared).clone()
            }))
        }
        _ => shared,
    }
}

/// What every viewer sees alike of a status (`entity::StatusCommon`). The author's
/// username is part of its URLs: usernames never change.
fn common_fields(state: &AppState, e: &StatusEntry, author: &Account) -> entity::SharedStatus {
    let s = &e.record;
    let visibility = Visibility::from_code(s.visibility);
    entity::SharedStatus::new(entity::StatusCommon {
        id: s.id.to_string(),
        created_at: time::rfc3339(s.created_at),
        in_reply_to_id: s.in_reply_to_id.map(|i| i.to_string()),
        in_reply_to_account_id: s.in_reply_to_account_id.map(|i| i.to_string()),
        spoiler_text: s.spoiler_text.clone(),
        visibility: visibility.as_str().to_string(),
        language: s.language.clone(),
        uri: match &e.remote {
            Some((uri, _)) => uri.clone(),
            None => state.url(&format!("/users/{}/statuses/{}", author.username, s.id)),
        },
        url: Some(match &e.remote {
            Some((uri, url)) => url.clone().unwrap_or_else(|| uri.clone()),
            None => state.url(&format!("/@{}/{}", author.username, s.id)),
        }),
        replies_count: s.replies_count,
        reblogs_count: s.reblogs_count,
        favourites_count: s.favourites_count,
        quotes_count: s.quotes_count,
        edited_at: s.edited_at.map(time::rfc3339),
        content: s.content_html.clone(),
        application: None,
        media_attachments: e
            .media
            .iter()
            .map(|m| crate::app::media::entity(state, m))
            .collect(),
        tags: e
            .tags
            .iter()
            .map(|t| entity::Tag {
                name: t.clone(),
                url: state.url(&format!("/tags/{t}")),
            })
            .collect(),
        emojis: state.emojis.used_in(&[&s.text, &s.spoiler_text]),
        card: None,
    })
}

/// An account's `acct` (`name`, or `name@domain` when remote), actor id and profile page.
fn names(state: &AppState, a: &Account) -> (String, String, String) {
    match &a.domain {
        Some(domain) => {
            let uri = a.uri.clone().unwrap_or_default();
            let url = a.url.clone().unwrap_or_else(|| uri.clone());
            (format!("{}@{domain}", a.username), uri, url)
        }
        None => (
            a.username.clone(),
            crate::app::federation::local_actor(state, &a.username),
            state.url(&format!("/@{}", a.username)),
        ),
    }
}

/// The account's avatar: the uploaded one, or its generated default.
pub fn avatar_url(state: &AppState, a: &Account) -> String {
    match &a.avatar_key {
        Some(key) => crate::app::media::file_url(state, key),
        None => crate::app::media::default_avatar_url(state, a.id),
    }
}

/// `a` with `moved`: the account it moved to, if it moved (an inbound `Move`). Only the
/// endpoints that show one account ask: it costs a query.
pub async fn account_with_move(state: &AppState, a: &Account) -> ApiResult<entity::Account> {
    let mut shown = account(state, a);
    if let Some(to) = crate::app::federation::moves::moved_to(state, a.id).await? {
        shown.moved = Some(Box::new(account(state, &to)));
    }
    Ok(shown)
}

/// A suspended account as Mastodon shows it: who it was, `suspended: true`, and nothing
/// of its profile, counts or activity.
fn suspended_account(state: &AppState, a: &Account) -> entity::Account {
    let avatar = state.url("/avatars/original/missing.png");
    let header = state.url("/headers/original/missing.png");
    let (acct, uri, url) = names(state, a);
    entity::Account {
        id: a.id.to_string(),
        username: a.username.clone(),
        acct,
        display_name: String::new(),
        locked: false,
        bot: false,
        discoverable: false,
        indexable: false,
        group: false,
        hide_collections: false,
        noindex: true,
        created_at: format!("{}T00:00:00.000Z", time::date(a.created_at)),
        note: String::new(),
        uri,
        url,
        avatar_static: avatar.clone(),
        avatar,
        header_static: header.clone(),
        header,
        followers_count: 0,
        following_count: 0,
        statuses_count: 0,
        last_status_at: None,
        emojis: Vec::new(),
        roles: Vec::new(),
        fields: Vec::new(),
        source: None,
        role: None,
        cascade_away: None,
        suspended: Some(true),
        moved: None,
    }
}

/// Profile fields as stored (a JSON list of `{name, value}`).
pub fn fields(json: &str) -> Vec<entity::Field> {
    let parsed: Vec<(String, String)> = serde_json::from_str(json).unwrap_or_default();
    parsed
        .into_iter()
        .map(|(name, value)| entity::Field {
            name: cascade_core::text::escape_html(&name),
            value: cascade_core::text::escape_html(&value),
            verified_at: None,
        })
        .collect()
}

/// Renders accounts in the order of `ids`, leaving out unknown and suspended ones.
pub async fn accounts(state: &AppState, ids: &[Id]) -> ApiResult<Vec<entity::Account>> {
    Ok(shared_accounts(state, ids)
        .await?
        .iter()
        .map(|a| (***a).clone())
        .collect())
}

/// `accounts`, as the renderings shared by every reader (`app::rendered`).
pub async fn shared_accounts(
    state: &AppState,
    ids: &[Id],
) -> ApiResult<Vec<Arc<entity::Rendered<entity::Account>>>> {
    let found = state
        .records
        .accounts(&state.store, ids, Instant::now())
        .await?;
    Ok(ids
        .iter()
        .filter_map(|id| found.get(id))
        .filter(|a| a.suspended_at.is_none())
        .map(|a| shared_account(state, a))
        .collect())
}

/// The view counts the viewer may see: of its own statuses, of authors who made theirs
/// public, or all when the instance did. Unflushed impressions are included.
async fn view_counts(
    state: &AppState,
    viewer: &Viewer,
    statuses: &HashMap<Id, Arc<StatusEntry>>,
    accounts: &HashMap<Id, Arc<Account>>,
    now: Instant,
) -> ApiResult<HashMap<Id, entity::StatusStats>> {
    let allowed: Vec<Id> = statuses
        .values()
        .map(|e| &e.record)
        .filter(|s| s.reblog_of_id.is_none())
        .filter(|s| {
            state.config.public_view_counts
                || viewer.is(s.account_id)
                || accounts
                    .get(&s.account_id)
                    .is_some_and(|a| a.public_view_counts)
        })
        .map(|s| s.id)
        .collect();
    if allowed.is_empty() {
        return Ok(HashMap::new());
    }
    let stored = state.records.views(&state.store, &allowed, now).await?;
    Ok(allowed
        .into_iter()
        .map(|id| {
            let (views, reach) = stored.get(&id).copied().unwrap_or((0, 0));
            let views = views + state.views.unflushed(id);
            (id, entity::StatusStats { views, reach })
        })
        .collect())
}

/// Everything needed to render a set of statuses, loaded in bulk.
struct Loaded {
    statuses: HashMap<Id, Arc<StatusEntry>>,
    accounts: HashMap<Id, Arc<Account>>,
    /// The viewer's marks; empty for an anonymous viewer.
    marks: HashMap<Id, Marks>,
    /// View counts of the statuses whose counts this viewer may see.
    views: HashMap<Id, entity::StatusStats>,
    /// The automatic replies among the statuses (`app::away`).
    automatic: HashSet<Id>,
    /// The statuses in threads the viewer muted (`app::profiles`).
    muted: HashSet<Id>,
    /// The polls of the statuses that have one, by status, as the viewer sees them.
    polls: HashMap<Id, entity::Poll>,
    /// The viewer's filters (expired ones too); empty for an anonymous viewer.
    filters: Arc<Vec<Filter>>,
    /// Where the statuses are shown; `None` for a status shown on its own.
    context: Option<FilterContext>,
    /// Whether an active `hide` filter applies in the context: only then is every
    /// candidate matched, not just the statuses rendered.
    hides: bool,
    now_ms: i64,
}

/// The statuses, what they reblog, and what those quote (shallow beyond).
const ROUNDS: usize = 3;

/// The statuses with what they refer to, `rounds` levels deep, and the accounts they name.
async fn load_records(
    state: &AppState,
    ids: &[Id],
    rounds: usize,
    now: Instant,
) -> ApiResult<(HashMap<Id, Arc<StatusEntry>>, HashMap<Id, Arc<Account>>)> {
    let records = &state.records;
    let statuses = records.statuses(&state.store, ids, rounds, now).await?;
    let mut account_ids: HashSet<Id> = HashSet::new();
    for e in statuses.values() {
        account_ids.insert(e.record.account_id);
        account_ids.extend(&e.mentions);
    }
    let account_ids: Vec<Id> = account_ids.into_iter().collect();
    let accounts = records.accounts(&state.store, &account_ids, now).await?;
    Ok((statuses, accounts))
}

/// The viewer's filters, whether an active `hide` filter applies in `context`, and the
/// time they are judged at.
async fn filters_for(
    state: &AppState,
    viewer: &Viewer,
    context: Option<FilterContext>,
) -> ApiResult<(Arc<Vec<Filter>>, bool, i64)> {
    let filters = match viewer.id {
        Some(me) => state.filters.of(&state.store, me).await?,
        None => Arc::default(),
    };
    let now_ms = time::now_millis();
    let hides = context.is_some_and(|c| {
        filters
            .iter()
            .any(|f| f.action == FilterAction::Hide && f.is_active(now_ms) && f.applies_in(c))
    });
    Ok((filters, hides, now_ms))
}

async fn load(
    state: &AppState,
    viewer: &Viewer,
    ids: &[Id],
    context: Option<FilterContext>,
) -> ApiResult<Loaded> {
    let now = Instant::now();
    let records = &state.records;
    let (statuses, accounts) = load_records(state, ids, ROUNDS, now).await?;
    let marks = match viewer.id {
        Some(me) => {
            let all: Vec<Id> = statuses.keys().copied().collect();
            records.marks(&state.store, me, &all, now).await?
        }
        None => HashMap::new(),
    };
    let views = view_counts(state, viewer, &statuses, &accounts, now).await?;
    // Automatic replies are direct replies; only those are looked up, so a page without
    // any (a warm home timeline, say) costs no query for them.
    let candidates: Vec<Id> = statuses
        .values()
        .filter(|e| {
            e.record.in_reply_to_id.is_some()
                && Visibility::from_code(e.record.visibility) == Visibility::Direct
        })
        .map(|e| e.record.id)
        .collect();
    let automatic = if candidates.is_empty() {
        HashSet::new()
    } else {
        state
            .store
            .automatic_replies(&candidates)
            .await?
            .into_iter()
            .collect()
    };
    let (filters, hides, now_ms) = filters_for(state, viewer, context).await?;
    let all: Vec<Id> = statuses.keys().copied().collect();
    let muted = crate::app::profiles::in_muted_threads(state, viewer, &all).await?;
    // Votes are counted only for pages that show a poll.
    let with_polls: Vec<&cascade_store::PollRecord> =
        statuses.values().filter_map(|e| e.poll.as_ref()).collect();
    let polls = crate::app::polls::render(state, viewer.id, &with_polls).await?;
    Ok(Loaded {
        automatic,
        muted,
        polls,
        statuses,
        accounts,
        marks,
        views,
        filters,
        context,
        hides,
        now_ms,
    })
}

impl Loaded {
    /// Whether the viewer may see the status: the visibility rule, and an author that is
    /// known and not suspended.
    fn visible(&self, viewer: &Viewer, e: &StatusEntry) -> bool {
        viewer.can_see(&e.record, &e.mentions)
            && self
                .accounts
                .get(&e.record.account_id)
                .is_some_and(|a| a.suspended_at.is_none())
    }

    /// The viewer's filters that match this entry, a reblog by its original's content.
    fn matches(&self, viewer: &Viewer, e: &StatusEntry) -> Vec<(&Filter, FilterMatch)> {
        if self.filters.is_empty() {
            return Vec::new();
        }
        let proper = e
            .record
            .reblog_of_id
            .and_then(|o| self.statuses.get(&o))
            .map_or(&e.record, |o| &o.record);
        matching(
            &self.filters,
            self.context,
            self.now_ms,
            viewer.id,
            &e.record,
            proper,
        )
    }

    /// Whether a `hide` filter of this page's context leaves the entry out.
    fn filtered_out(&self, viewer: &Viewer, e: &StatusEntry) -> bool {
        self.hides
            && self
                .matches(viewer, e)
                .iter()
                .any(|(f, _)| f.action == FilterAction::Hide)
    }

    /// Whether a timeline shows this entry: visible, its author known, and for a reblog
    /// an original that is visible and not by a hidden account; then `keep` decides.
    fn shows(
        &self,
        viewer: &Viewer,
        id: Id,
        keep: &impl Fn(&StatusRecord, Option<&StatusRecord>) -> bool,
    ) -> bool {
        let Some(e) = self.statuses.get(&id) else {
            return false;
        };
        let s = &e.record;
        if !self.visible(viewer, e) || !self.accounts.contains_key(&s.account_id) {
            return false;
        }
        let original = match s.reblog_of_id {
            Some(o) => match self.statuses.get(&o) {
                Some(r) if self.visible(viewer, r) && !viewer.hides(r.record.account_id) => {
                    Some(&r.record)
                }
                _ => return false,
            },
            None => None,
        };
        keep(s, original) && !self.filtered_out(viewer, e)
    }

    /// Renders one status; `None` when the viewer may not see it (or its reblogged
    /// original), or it refers to records that no longer exist.
    fn status(
        &self,
        state: &AppState,
        viewer: &Viewer,
        id: Id,
        depth: u8,
    ) -> Option<entity::Status> {
        let e = self.statuses.get(&id)?;
        if !self.visible(viewer, e) {
            return None;
        }
        let s = &e.record;
        let author = self.accounts.get(&s.account_id)?;
        let reblog = match s.reblog_of_id {
            Some(original) => Some(Box::new(self.status(state, viewer, original, depth)?)),
            None => None,
        };
        let quote = s.quote_of_id.map(|quoted| {
            let shown = self
                .statuses
                .get(&quoted)
                .is_some_and(|q| self.visible(viewer, q));
            let state_name = match s.quote_state.as_deref() {
                Some("deleted") => "deleted".to_string(),
                _ if self.statuses.contains_key(&quoted) && !shown => "unauthorized".to_string(),
                Some(other) => other.to_string(),
                None => "accepted".to_string(),
            };
            if depth == 0 {
                entity::Quote::Full {
                    quoted_status: if state_name == "accepted" {
                        self.status(state, viewer, quoted, depth + 1).map(Box::new)
                    } else {
                        None
                    },
                    state: state_name,
                }
            } else {
                entity::Quote::Shallow {
                    quoted_status_id: (state_name == "accepted").then(|| quoted.to_string()),
                    state: state_name,
                }
            }
        });
        let mentions = e
            .mentions
            .iter()
            .filter_map(|a| self.accounts.get(a))
            .map(|a| {
                let (acct, _, url) = names(state, a);
                entity::Mention {
                    id: a.id.to_string(),
                    username: a.username.clone(),
                    acct,
                    url,
                }
            })
            .collect();
        let marks = self.marks.get(&s.id).copied().unwrap_or_default();
        let has = |mark: bool| viewer.id.map(|_| mark);
        let common = state.rendered.status(e, state.emojis.generation(), || {
            common_fields(state, e, author)
        });
        Some(entity::Status {
            common,
            // A moderator's `sensitive` action covers the account's media, old and new.
            sensitive: s.sensitive || (author.sensitized_at.is_some() && !e.media.is_empty()),
            favourited: has(marks.favourited),
            reblogged: has(marks.reblogged),
            muted: has(self.muted.contains(&s.id)),
            bookmarked: has(marks.bookmarked),
            pinned: has(marks.pinned),
            filtered: viewer.id.map(|_| {
                self.matches(viewer, e)
                    .into_iter()
                    .map(|(f, m)| crate::app::filters::result(f, m))
                    .collect()
            }),
            reblog,
            account: shared_account(state, author),
            mentions,
            poll: self
                .polls
                .get(&s.id)
                .and_then(|p| serde_json::to_value(p).ok()),
            quote,
            quote_approval: quote_approval(viewer, s),
            cascade: entity::StatusExtension::new(
                self.views.get(&s.id).cloned(),
                self.automatic.contains(&s.id),
            ),
            text: None,
        })
    }
}

/// Who may quote a status, as Mastodon 4.5 reports it.
fn quote_approval(viewer: &Viewer, s: &StatusRecord) -> entity::QuoteApproval {
    let automatic: &'static [&'static str] = match effective_quote_policy(s) {
        "public" => &["public"],
        "followers" => &["followers"],
        _ => &[],
    };
    let current_user = match viewer.id {
        None => "unknown",
        Some(_) if may_quote(viewer, s) => "automatic",
        Some(_) => "denied",
    };
    entity::QuoteApproval {
        automatic,
        manual: &[],
        current_user,
    }
}

/// Private and direct posts can never be quoted, whatever their stored policy.
pub fn effective_quote_policy(s: &StatusRecord) -> &str {
    if Visibility::from_code(s.visibility).is_shareable() && s.reblog_of_id.is_none() {
        s.quote_policy.as_str()
    } else {
        "nobody"
    }
}

/// Whether the viewer may quote the status without approval.
pub fn may_quote(viewer: &Viewer, s: &StatusRecord) -> bool {
    let shareable = Visibility::from_code(s.visibility).is_shareable() && s.reblog_of_id.is_none();
    if viewer.is(s.account_id) {
        return shareable;
    }
    match effective_quote_policy(s) {
        "public" => true,
        "followers" => viewer.follows(s.account_id),
        _ => false,
    }
}

/// What of the viewer's `filters` match `status` (whose original, for a reblog, is
/// `proper`) in `context`. A viewer's own posts are never filtered.
pub fn matching<'a>(
    filters: &'a [Filter],
    context: Option<FilterContext>,
    now_ms: i64,
    viewer: Option<Id>,
    status: &StatusRecord,
    proper: &StatusRecord,
) -> Vec<(&'a Filter, FilterMatch)> {
    if filters.is_empty() || viewer == Some(proper.account_id) {
        return Vec::new();
    }
    let text = Searchable::new(&proper.spoiler_text, &proper.text);
    let ids: &[Id] = if proper.id == status.id {
        &[status.id]
    } else {
        &[status.id, proper.id]
    };
    filter::apply(filters, context, now_ms, &text, ids)
}

/// Renders statuses in the order of `ids`, leaving out those the viewer may not see; each
/// is marked by every active filter of the viewer's, as a status shown on its own is.
pub async fn statuses(
    state: &AppState,
    viewer: &Viewer,
    ids: &[Id],
) -> ApiResult<Vec<entity::Status>> {
    render_statuses(state, viewer, ids, None).await
}

/// Renders statuses shown in `context` (a thread, notifications) in the order of `ids`,
/// leaving out those the viewer may not see and those a `hide` filter of the context
/// matches.
pub async fn statuses_in(
    state: &AppState,
    viewer: &Viewer,
    ids: &[Id],
    context: FilterContext,
) -> ApiResult<Vec<entity::Status>> {
    render_statuses(state, viewer, ids, Some(context)).await
}

async fn render_statuses(
    state: &AppState,
    viewer: &Viewer,
    ids: &[Id],
    context: Option<FilterContext>,
) -> ApiResult<Vec<entity::Status>> {
    let loaded = load(state, viewer, ids, context).await?;
    Ok(ids
        .iter()
        .filter(|id| {
            loaded
                .statuses
                .get(id)
                .is_some_and(|e| !loaded.filtered_out(viewer, e))
        })
        .filter_map(|&id| loaded.status(state, viewer, id, 0))
        .collect())
}

/// Renders one status, or 404 when the viewer may not see it.
pub async fn status(state: &AppState, viewer: &Viewer, id: Id) -> ApiResult<entity::Status> {
    statuses(state, viewer, &[id])
        .await?
        .pop()
        .ok_or(crate::error::ApiError::NotFound)
}

/// Renders a timeline page: the statuses among `candidates` (newest first) that the viewer
/// may see and that `keep` accepts — given the status and, for a reblog, its original —
/// cut to `page`. Everything is loaded once, whatever the filters drop. Returns the
/// rendered statuses and their ids (the paging keys). Content filters mark the statuses
/// as on their own; timelines use `page_in`, which applies them for their context.
pub async fn page(
    state: &AppState,
    viewer: &Viewer,
    candidates: &[Id],
    page: &Page,
    keep: impl Fn(&StatusRecord, Option<&StatusRecord>) -> bool,
) -> ApiResult<(Vec<entity::Status>, Vec<Id>)> {
    render_page(state, viewer, candidates, page, None, keep).await
}

/// `page` for a timeline shown in `context`: a status a `hide` filter of the context
/// matches is left out before the page is cut, so pages stay full and gapless.
pub async fn page_in(
    state: &AppState,
    viewer: &Viewer,
    candidates: &[Id],
    page: &Page,
    context: FilterContext,
    keep: impl Fn(&StatusRecord, Option<&StatusRecord>) -> bool,
) -> ApiResult<(Vec<entity::Status>, Vec<Id>)> {
    render_page(state, viewer, candidates, page, Some(context), keep).await
}

async fn render_page(
    state: &AppState,
    viewer: &Viewer,
    candidates: &[Id],
    page: &Page,
    context: Option<FilterContext>,
    keep: impl Fn(&StatusRecord, Option<&StatusRecord>) -> bool,
) -> ApiResult<(Vec<entity::Status>, Vec<Id>)> {
    let loaded = load(state, viewer, candidates, context).await?;
    let shown: Vec<Id> = candidates
        .iter()
        .copied()
        .filter(|&id| loaded.shows(viewer, id, &keep))
        .collect();
    let ids = page.take(shown);
    let statuses = ids
        .iter()
        .filter_map(|&id| loaded.status(state, viewer, id, 0))
        .collect();
    Ok((statuses, ids))
}

/// The records of timeline candidates the viewer would be shown, without rendering them:
/// what the ranked feed weighs before it picks a page.
pub struct Showable {
    /// The candidates a timeline would show, in the given order.
    pub ids: Vec<Id>,
    /// Their records and those of what they reblog and quote.
    pub statuses: HashMap<Id, Arc<StatusEntry>>,
    pub accounts: HashMap<Id, Arc<Account>>,
}

/// The candidates that `page_in` would show in `context` with the same `keep`, and their
/// records.
pub async fn showable(
    state: &AppState,
    viewer: &Viewer,
    candidates: &[Id],
    context: FilterContext,
    keep: impl Fn(&StatusRecord, Option<&StatusRecord>) -> bool,
) -> ApiResult<Showable> {
    // Whether a timeline shows an entry depends on it and what it reblogs, not on quotes.
    let (statuses, accounts) = load_records(state, candidates, 2, Instant::now()).await?;
    let (filters, hides, now_ms) = filters_for(state, viewer, Some(context)).await?;
    let loaded = Loaded {
        statuses,
        accounts,
        marks: HashMap::new(),
        views: HashMap::new(),
        automatic: HashSet::new(),
        muted: HashSet::new(),
        polls: HashMap::new(),
        filters,
        context: Some(context),
        hides,
        now_ms,
    };
    let ids = candidates
        .iter()
        .copied()
        .filter(|&id| loaded.shows(viewer, id, &keep))
        .collect();
    Ok(Showable {
        ids,
        statuses: loaded.statuses,
        accounts: loaded.accounts,
    })
}
