//! The web app: the landing page for visitors and, for a signed-in person, home, the
//! public and hashtag timelines, notifications grouped, the compose box with edit and
//! delete, the actions on posts and profiles, the out-of-office reply and brand watches.
//!
//! Every page is rendered here and works without script; every form is a plain POST
//! that carries the session's CSRF token and is answered with a redirect (Post/Redirect/
//! Get). Handlers call the use cases in `app` directly, as the API's handlers do, never
//! the HTTP API. `app.js` only adds live hints on top (a "new posts" bar, a badge).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cascade_core::timeline::Page;
use cascade_core::Id;
use cascade_store::{Mark, NotificationFilter};
use minijinja::{context, Value};
use serde::Deserialize;

use super::session::{MaybeSession, Session, APP_CONTENT_SECURITY_POLICY};
use super::{page_error, pages, view};
use crate::app::notifications::GroupedQuery;
use crate::app::statuses::StatusInput;
use crate::app::{accounts, away, notifications, ranked, statuses, timelines, trends, watch};
use crate::error::ApiError;
use crate::state::AppState;

/// Entries on a page of a timeline.
const PAGE_SIZE: usize = 20;

/// The script of the signed-in pages, served from the binary (same origin, so the
/// Content-Security-Policy needs no inline script).
const SCRIPT: &str = include_str!("../../templates/app.js");

/// `GET /web/app.js`.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// Renders a page of the signed-in app: the person, the CSRF token and the navigation
/// are added to `ctx`, and the page may run our own script.
pub async fn signed_in_page(
    state: &AppState,
    session: &Session,
    name: &str,
    ctx: Value,
) -> Response {
    let me = match accounts::credential_account(state, session.me).await {
        Ok(me) => me,
        Err(e) => return page_error(state, e),
    };
    let unread =
        notifications::unread_groups(state, session.me, NotificationFilter::default(), None, 99)
            .await
            .unwrap_or_default();
    let mut response = pages().render(
        name,
        context! {
            instance => &state.config.title,
            me => view(&me),
            csrf => session.csrf(),
            here => &session.here,
            unread,
            ..ctx
        },
    );
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(APP_CONTENT_SECURITY_POLICY),
    );
    // A page with a CSRF token and someone's home is never kept by a shared cache.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// Where a signed-out person who tried a signed-in page goes.
fn to_sign_in() -> Response {
    Redirect::to("/web/sign_in").into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct TimelineQuery {
    max_id: Option<String>,
    /// `ranked` for the ranked home feed.
    view: Option<String>,
    /// The ranked feed's cursor.
    cursor: Option<String>,
    /// An upload waiting in the compose box.
    media: Option<String>,
}

impl TimelineQuery {
    fn page(&self) -> Page {
        Page {
            max_id: self.max_id.as_deref().and_then(|m| m.parse().ok()),
            limit: PAGE_SIZE,
            ..Page::default()
        }
    }
}

/// `GET /`: home for a signed-in person, the landing page for a visitor.
pub async fn root(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(q): Query<TimelineQuery>,
) -> Response {
    match session {
        Some(session) => home(&state, &session, &q).await,
        None => landing(&state).await,
    }
}

async fn landing(state: &AppState) -> Response {
    let result = async {
        let viewer = crate::app::Viewer::anonymous();
        let posts = trends::statuses(state, &viewer, 0, 10).await?;
        let tags = trends::tags(state, 0, 10);
        let rules: Vec<String> = state
            .config
            .pages
            .rules
            .iter()
            .map(|(text, _)| text.clone())
            .collect();
        let description = crate::app::instance::extended_description(state);
        Ok::<_, ApiError>(pages().render(
            "landing.html",
            context! {
                instance => &state.config.title,
                description => description.get("content").and_then(|c| c.as_str()).unwrap_or_default(),
                rules,
                registrations_open => state.config.registrations_open,
                posts => view(&posts),
                tags => view(&tags),
            },
        ))
    }
    .await;
    result.unwrap_or_else(|e| page_error(state, e))
}

async fn home(state: &AppState, session: &Session, q: &TimelineQuery) -> Response {
    let ranked = q.view.as_deref() == Some("ranked");
    let result = async {
        let (posts, next) = if ranked {
            let cursor = q.cursor.as_deref().and_then(|c| c.parse().ok());
            let (posts, next) = ranked::home(state, &session.viewer, cursor, PAGE_SIZE).await?;
            (posts, next.map(|c| format!("/?view=ranked&cursor={c}")))
        } else {
            let (posts, keys) = timelines::home(state, &session.viewer, q.page()).await?;
            let next = (keys.len() >= PAGE_SIZE)
                .then(|| keys.last().map(|k| format!("/?max_id={k}")))
                .flatten();
            (posts, next)
        };
        Ok::<_, ApiError>((posts, next))
    }
    .await;
    // An upload of one's own waiting to be attached, shown with its alt text.
    let attached = match q.media.as_deref().and_then(|m| m.parse::<Id>().ok()) {
        Some(id) => crate::app::media::own(state, session.me, id)
            .await
            .ok()
            .map(|m| crate::app::media::entity(state, &m)),
        None => None,
    };
    match result {
        Ok((posts, next)) => {
            signed_in_page(
                state,
                session,
                "home.html",
                context! {
                    title => "Home",
                    attached => view(&attached),
                    ranked,
                    stream => "user",
                    statuses => view(&posts),
                    next,
                },
            )
            .await
        }
        Err(e) => page_error(state, e),
    }
}

/// `GET /web/public`: the local public timeline.
pub async fn public(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(q): Query<TimelineQuery>,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    match timelines::public(&state, &session.viewer, q.page()).await {
        Ok((posts, keys)) => {
            let next = (keys.len() >= PAGE_SIZE)
                .then(|| keys.last().map(|k| format!("/web/public?max_id={k}")))
                .flatten();
            signed_in_page(
                &state,
                &session,
                "timeline.html",
                context! {
                    title => "Public",
                    stream => "public",
                    statuses => view(&posts),
                    next,
                },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

/// `GET /web/tags/:tag` (and `/tags/:tag`, where posts link hashtags): a hashtag's
/// timeline, for visitors too (public posts only, through the visibility rule).
pub async fn tag(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(tag): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> Response {
    let anonymous = crate::app::Viewer::anonymous();
    let viewer = session.as_ref().map_or(&anonymous, |s| &*s.viewer);
    let (posts, keys) = match timelines::tag(&state, viewer, &tag, q.page(), None).await {
        Ok(found) => found,
        Err(e) => return page_error(&state, e),
    };
    let next = (keys.len() >= PAGE_SIZE)
        .then(|| {
            keys.last().map(|k| {
                format!(
                    "/web/tags/{}?max_id={k}",
                    form_urlencoded::byte_serialize(tag.as_bytes()).collect::<String>()
                )
            })
        })
        .flatten();
    let ctx = context! {
        instance => &state.config.title,
        title => format!("#{tag}"),
        statuses => view(&posts),
        next,
    };
    match session {
        Some(session) => signed_in_page(&state, &session, "timeline.html", ctx).await,
        None => pages().render("timeline.html", ctx),
    }
}

/// `GET /web/notifications`: the notifications grouped as the v2 API groups them.
pub async fn notifications_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(q): Query<TimelineQuery>,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    // The web app knows Cascade's own kinds, so it asks for all of them by name.
    let filter = NotificationFilter {
        kinds: cascade_core::notification::NotificationKind::ALL
            .iter()
            .map(|k| k.as_str().to_string())
            .collect(),
        ..NotificationFilter::default()
    };
    let query = GroupedQuery {
        filter,
        grouped: None,
        page: q.page(),
        partial_avatars: false,
    };
    let (body, bounds) = match notifications::grouped(&state, &session.viewer, query).await {
        Ok(found) => found,
        Err(e) => return page_error(&state, e),
    };
    let accounts: HashMap<&str, &crate::app::entity::Account> =
        body.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
    let posts: HashMap<&str, &crate::app::entity::Status> =
        body.statuses.iter().map(|s| (s.id.as_str(), s)).collect();
    let groups: Vec<Value> = body
        .notification_groups
        .iter()
        .map(|g| {
            let faces: Vec<&crate::app::entity::Account> = g
                .sample_account_ids
                .iter()
                .filter_map(|id| accounts.get(id.as_str()).copied())
                .collect();
            let status = g.status_id.as_deref().and_then(|id| posts.get(id).copied());
            context! {
                kind => &g.kind,
                count => g.notifications_count,
                others => g.notifications_count - 1,
                at => &g.latest_page_notification_at,
                accounts => view(&faces),
                status => view(&status),
            }
        })
        .collect();
    let next = (body.notification_groups.len() >= PAGE_SIZE)
        .then(|| {
            bounds
                .last()
                .map(|k| format!("/web/notifications?max_id={k}"))
        })
        .flatten();
    signed_in_page(
        &state,
        &session,
        "notifications.html",
        context! {
            title => "Notifications",
            stream => "user",
            newest => body.notification_groups.iter().map(|g| g.most_recent_notification_id.clone()).max_by_key(|i| i.parse::<i64>().unwrap_or(0)),
            groups,
            next,
        },
    )
    .await
}

/// What the compose and edit forms send.
#[derive(Debug, Default, Deserialize)]
pub struct ComposeForm {
    csrf: Option<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    spoiler_text: String,
    visibility: Option<String>,
    in_reply_to_id: Option<String>,
    quoted_status_id: Option<String>,
    /// An upload to attach (one, from the upload form).
    media_id: Option<String>,
    /// Where to go afterwards (a path of ours).
    back: Option<String>,
}

/// A path of this site to go back to; anything else (another site, a scheme) is home.
fn back_to(back: Option<&str>) -> String {
    match back {
        // Only a path of ours: no scheme-relative `//host`, and no backslash, space or
        // control character, which browsers drop or read as a slash.
        Some(b)
            if b.starts_with('/')
                && !b.starts_with("//")
                && b.chars().all(|c| c.is_ascii_graphic() && c != '\\') =>
        {
            b.into()
        }
        _ => "/".into(),
    }
}

/// Checks the session and the form's CSRF token before any write: a signed-out POST goes
/// to sign in, a forged one is refused with 403 and writes nothing.
fn checked(
    state: &AppState,
    session: Option<Session>,
    csrf: Option<&str>,
) -> Result<Session, Box<Response>> {
    let Some(session) = session else {
        return Err(Box::new(to_sign_in()));
    };
    if !session.csrf_ok(csrf) {
        return Err(Box::new(super::forbidden(state)));
    }
    Ok(session)
}

/// A refused write (too long, no such post…) as a page that says why.
fn refused(state: &AppState, e: ApiError) -> Response {
    match e {
        ApiError::Unprocessable(message) => pages().error(
            state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "That did not work",
            &message,
        ),
        ApiError::Forbidden(message) => {
            pages().error(state, StatusCode::FORBIDDEN, "Not allowed", &message)
        }
        other => page_error(state, other),
    }
}

/// `POST /web/statuses`: posts from the compose box.
pub async fn compose(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    axum::Form(form): axum::Form<ComposeForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let input = StatusInput {
        text: form.status,
        spoiler_text: form.spoiler_text,
        visibility: form.visibility.filter(|v| !v.is_empty()),
        in_reply_to_id: form.in_reply_to_id.as_deref().and_then(|i| i.parse().ok()),
        quoted_status_id: form
            .quoted_status_id
            .as_deref()
            .and_then(|i| i.parse().ok()),
        media_ids: form.media_id.filter(|m| !m.is_empty()).map(|m| vec![m]),
        ..StatusInput::default()
    };
    match statuses::create(&state, &session.viewer, input).await {
        Ok(_) => Redirect::to(&back_to(form.back.as_deref())).into_response(),
        Err(e) => refused(&state, e),
    }
}

/// An id from a path: anything that is not one is not found.
fn path_id(id: &str) -> Result<Id, ApiError> {
    id.parse().map_err(|_| ApiError::NotFound)
}

/// `GET /web/statuses/:id/edit`: the edit form, filled with the post's source.
pub async fn edit_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<String>,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    let result = async {
        let id = path_id(&id)?;
        let source = state.store.status(id).await?;
        if source.account_id != session.me || source.reblog_of_id.is_some() {
            return Err(ApiError::NotFound);
        }
        Ok(source)
    }
    .await;
    match result {
        Ok(source) => {
            signed_in_page(
                &state,
                &session,
                "edit.html",
                context! {
                    title => "Edit post",
                    id => source.id.to_string(),
                    text => source.text,
                    spoiler_text => source.spoiler_text,
                },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

/// `POST /web/statuses/:id/edit`.
pub async fn edit(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ComposeForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let result = async {
        let id = path_id(&id)?;
        let input = StatusInput {
            text: form.status,
            spoiler_text: form.spoiler_text,
            ..StatusInput::default()
        };
        statuses::edit(&state, &session.viewer, id, input).await
    }
    .await;
    match result {
        Ok(s) => Redirect::to(&format!("/@{}/{}", s.account.username, s.id)).into_response(),
        Err(e) => refused(&state, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    csrf: Option<String>,
    back: Option<String>,
}

/// `POST /web/statuses/:id/:action`: delete, favourite, reblog, bookmark and their undos.
pub async fn status_action(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path((id, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<ActionForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let viewer = &session.viewer;
    let result = async {
        let id = path_id(&id)?;
        match action.as_str() {
            "delete" => statuses::delete(&state, viewer, id).await,
            "favourite" => statuses::mark(&state, viewer, id, Mark::Favourite).await,
            "unfavourite" => statuses::unmark(&state, viewer, id, Mark::Favourite).await,
            "bookmark" => statuses::mark(&state, viewer, id, Mark::Bookmark).await,
            "unbookmark" => statuses::unmark(&state, viewer, id, Mark::Bookmark).await,
            "reblog" => statuses::reblog(&state, viewer, id, None).await,
            "unreblog" => statuses::unreblog(&state, viewer, id).await,
            _ => Err(ApiError::NotFound),
        }
    }
    .await;
    match result {
        // A deleted post's page is gone: go home rather than back to it.
        Ok(_) if action == "delete" => Redirect::to("/").into_response(),
        Ok(_) => Redirect::to(&back_to(form.back.as_deref())).into_response(),
        Err(e) => refused(&state, e),
    }
}

/// `POST /web/accounts/:id/:action`: follow, unfollow, block, unblock, mute, unmute.
pub async fn account_action(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path((id, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<ActionForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let me = session.me;
    let result = async {
        let target: Id = id.parse().map_err(|_| ApiError::NotFound)?;
        match action.as_str() {
            "follow" => accounts::follow(&state, me, target, true, false).await,
            "unfollow" => accounts::unfollow(&state, me, target).await,
            "block" => accounts::block(&state, me, target).await,
            "unblock" => accounts::unblock(&state, me, target).await,
            "mute" => accounts::mute(&state, me, target, true, None).await,
            "unmute" => accounts::unmute(&state, me, target).await,
            _ => Err(ApiError::NotFound),
        }
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&back_to(form.back.as_deref())).into_response(),
        Err(e) => refused(&state, e),
    }
}

/// `GET /web/settings/away`: the out-of-office reply.
pub async fn away_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    // No reply set is a 404 from the use case: the form is then empty.
    let current = away::get(&state, session.me).await.ok();
    signed_in_page(
        &state,
        &session,
        "away.html",
        context! { title => "Out of office", away => view(&current) },
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct AwayForm {
    csrf: Option<String>,
    message: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    /// `clear` to remove the reply.
    action: Option<String>,
}

/// A `datetime-local` value (`2026-12-07T10:00`, taken as UTC) or an RFC 3339 time.
fn rfc3339(value: Option<String>) -> Option<String> {
    let v = value?.trim().to_string();
    if v.is_empty() {
        return None;
    }
    Some(match v.len() {
        16 => format!("{v}:00Z"),
        19 => format!("{v}Z"),
        _ => v,
    })
}

/// `POST /web/settings/away`.
pub async fn away_save(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    axum::Form(form): axum::Form<AwayForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let result = if form.action.as_deref() == Some("clear") {
        away::clear(&state, session.me).await
    } else {
        let input = away::AwayInput {
            message: form.message,
            starts_at: rfc3339(form.starts_at),
            ends_at: rfc3339(form.ends_at),
        };
        away::set(&state, session.me, input).await.map(|_| ())
    };
    match result {
        Ok(()) => Redirect::to("/web/settings/away").into_response(),
        Err(e) => refused(&state, e),
    }
}

/// `GET /web/watches`: the brand watches and the unanswered queue of them all.
pub async fn watches_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    let result = async {
        let list = watch::list(&state, session.me).await?;
        let (queue, _) = watch::unanswered(&state, &session.viewer, None, Page::default()).await?;
        Ok::<_, ApiError>((list, queue))
    }
    .await;
    match result {
        Ok((list, queue)) => {
            signed_in_page(
                &state,
                &session,
                "watches.html",
                context! {
                    title => "Brand watches",
                    watches => view(&list),
                    queue => view(&queue),
                },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

/// `GET /web/watches/:id`: one watch's timeline and its unanswered queue.
pub async fn watch_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<String>,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    let result = async {
        let id: Id = id.parse().map_err(|_| ApiError::NotFound)?;
        let found = watch::get(&state, session.me, id).await?;
        let (hits, _) = watch::timeline(&state, &session.viewer, id, Page::default()).await?;
        let (queue, _) =
            watch::unanswered(&state, &session.viewer, Some(id), Page::default()).await?;
        let stats = watch::stats(&state, &session.viewer, watch::StatsInput::default()).await?;
        let mine = stats.watches.into_iter().find(|w| w.watch_id == found.id);
        Ok::<_, ApiError>((found, hits, queue, mine))
    }
    .await;
    match result {
        Ok((found, hits, queue, stats)) => {
            signed_in_page(
                &state,
                &session,
                "watch.html",
                context! {
                    title => format!("Watch: {}", found.name),
                    stream => "watch",
                    stream_watch => &found.id,
                    watch => view(&found),
                    statuses => view(&hits),
                    queue => view(&queue),
                    stats => view(&stats),
                },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct WatchForm {
    csrf: Option<String>,
    name: Option<String>,
    /// Comma- or line-separated.
    #[serde(default)]
    keywords: String,
    #[serde(default)]
    hashtags: String,
    mentions: Option<String>,
}

fn terms(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(|t| t.trim().trim_start_matches('#').to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// `POST /web/watches`: creates a watch.
pub async fn create_watch(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    axum::Form(form): axum::Form<WatchForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let input = watch::WatchInput {
        name: form.name,
        keywords: Some(terms(&form.keywords)),
        hashtags: Some(terms(&form.hashtags)),
        mentions: Some(form.mentions.is_some()),
    };
    match watch::create(&state, session.me, input).await {
        Ok(w) => Redirect::to(&format!("/web/watches/{}", w.id)).into_response(),
        Err(e) => refused(&state, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ReadForm {
    csrf: Option<String>,
    last_read_id: Option<String>,
}

/// `POST /web/notifications/read`: moves the notifications marker to the newest one the
/// page showed, which clears the badge (a page view writes nothing by itself).
pub async fn notifications_read(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    axum::Form(form): axum::Form<ReadForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let Some(id) = form.last_read_id.and_then(|i| i.parse::<Id>().ok()) else {
        return Redirect::to("/web/notifications").into_response();
    };
    let now = cascade_core::time::now_millis();
    match state
        .store
        .set_marker(session.me, "notifications", id, now)
        .await
    {
        Ok(_) => Redirect::to("/web/notifications").into_response(),
        Err(e) => page_error(&state, e.into()),
    }
}

/// `GET /web/bookmarks` and `GET /web/favourites`: what the person marked, newest first.
async fn marked(state: &AppState, session: &Session, mark: Mark, q: &TimelineQuery) -> Response {
    let (title, path) = match mark {
        Mark::Bookmark => ("Bookmarks", "/web/bookmarks"),
        _ => ("Favourites", "/web/favourites"),
    };
    let result = async {
        let rows = state
            .store
            .marks(mark, session.me, q.page().max_id, None, PAGE_SIZE)
            .await?;
        let ids: Vec<Id> = rows.iter().map(|r| r.1).collect();
        let posts = crate::app::render::statuses(state, &session.viewer, &ids).await?;
        let next = (rows.len() >= PAGE_SIZE)
            .then(|| rows.last().map(|r| format!("{path}?max_id={}", r.0)))
            .flatten();
        Ok::<_, ApiError>((posts, next))
    }
    .await;
    match result {
        Ok((posts, next)) => {
            signed_in_page(
                state,
                session,
                "timeline.html",
                context! { title, statuses => view(&posts), next },
            )
            .await
        }
        Err(e) => page_error(state, e),
    }
}

pub async fn bookmarks(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(q): Query<TimelineQuery>,
) -> Response {
    match session {
        Some(session) => marked(&state, &session, Mark::Bookmark, &q).await,
        None => to_sign_in(),
    }
}

pub async fn favourites(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(q): Query<TimelineQuery>,
) -> Response {
    match session {
        Some(session) => marked(&state, &session, Mark::Favourite, &q).await,
        None => to_sign_in(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `GET /web/search?q=`: accounts, hashtags and posts.
pub async fn search(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(q): Query<SearchQuery>,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    let text = q.q.unwrap_or_default();
    let found = if text.trim().is_empty() {
        None
    } else {
        let input = crate::app::search::SearchInput {
            q: Some(text.clone()),
            limit: Some(PAGE_SIZE),
            ..Default::default()
        };
        match crate::app::search::search(&state, &session.viewer, input).await {
            Ok(found) => Some(found),
            Err(e) => return refused(&state, e),
        }
    };
    signed_in_page(
        &state,
        &session,
        "search.html",
        context! { title => "Search", q => text, found => view(&found) },
    )
    .await
}

/// `GET /web/suggestions`: whom to follow, with the shared interests that explain it.
pub async fn suggestions(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    match crate::app::suggestions::suggest(&state, &session.viewer, PAGE_SIZE).await {
        Ok(list) => {
            signed_in_page(
                &state,
                &session,
                "suggestions.html",
                context! { title => "Who to follow", suggestions => view(&list) },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

/// `GET /web/conversations`: the direct conversations, newest first.
pub async fn conversations(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    let page = Page {
        limit: PAGE_SIZE,
        ..Page::default()
    };
    match crate::app::conversations::list(&state, &session.viewer, page).await {
        Ok((list, _)) => {
            signed_in_page(
                &state,
                &session,
                "conversations.html",
                context! { title => "Conversations", conversations => view(&list) },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

/// `GET /web/settings/notifications`: the notification policy and the requests it held.
pub async fn policy_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    let result = async {
        let policy = notifications::render_policy(&state, session.me).await?;
        let page = Page {
            limit: PAGE_SIZE,
            ..Page::default()
        };
        let records = state
            .store
            .notification_requests(session.me, cascade_store::range(&page))
            .await?;
        let requests = notifications::render_requests(&state, &session.viewer, &records).await?;
        Ok::<_, ApiError>((policy, requests))
    }
    .await;
    match result {
        Ok((policy, requests)) => {
            signed_in_page(
                &state,
                &session,
                "policy.html",
                context! {
                    title => "Notification settings",
                    policy => view(&policy),
                    requests => view(&requests),
                },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PolicyForm {
    csrf: Option<String>,
    for_not_following: Option<String>,
    for_not_followers: Option<String>,
    for_new_accounts: Option<String>,
    for_private_mentions: Option<String>,
    for_limited_accounts: Option<String>,
}

/// `POST /web/settings/notifications`: changes the policy's values that were sent.
pub async fn policy_save(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    axum::Form(form): axum::Form<PolicyForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let result = async {
        let mut p = notifications::policy(&state, session.me).await?;
        for (slot, value) in [
            (&mut p.for_not_following, form.for_not_following),
            (&mut p.for_not_followers, form.for_not_followers),
            (&mut p.for_new_accounts, form.for_new_accounts),
            (&mut p.for_private_mentions, form.for_private_mentions),
            (&mut p.for_limited_accounts, form.for_limited_accounts),
        ] {
            if let Some(v) = value {
                *slot = v;
            }
        }
        notifications::set_policy(&state, session.me, p).await
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/web/settings/notifications").into_response(),
        Err(e) => refused(&state, e),
    }
}

/// `POST /web/notifications/requests/:id/:action`: accept or dismiss a held request.
pub async fn request_action(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path((id, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<ActionForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let result = async {
        let id: Id = id.parse().map_err(|_| ApiError::NotFound)?;
        let changed = match action.as_str() {
            "accept" => {
                state
                    .store
                    .accept_notification_requests(session.me, &[id])
                    .await?
            }
            "dismiss" => {
                state
                    .store
                    .dismiss_notification_requests(session.me, &[id])
                    .await?
            }
            _ => 0,
        };
        if changed == 0 {
            return Err(ApiError::NotFound);
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/web/settings/notifications").into_response(),
        Err(e) => refused(&state, e),
    }
}

/// `GET /web/follow_requests`: who asked to follow a locked account.
pub async fn follow_requests(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    let result = async {
        let edges = state
            .store
            .edges(
                cascade_store::EdgeKind::FollowRequests,
                session.me,
                None,
                None,
                80,
            )
            .await?;
        let ids: Vec<Id> = edges.iter().map(|e| e.account_id).collect();
        crate::app::render::accounts(&state, &ids).await
    }
    .await;
    match result {
        Ok(list) => {
            signed_in_page(
                &state,
                &session,
                "follow_requests.html",
                context! { title => "Follow requests", accounts => view(&list) },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

/// `POST /web/follow_requests/:id/:action`: authorize or reject a follow request.
pub async fn follow_request_action(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path((id, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<ActionForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let me = session.me;
    let result = async {
        let from: Id = id.parse().map_err(|_| ApiError::NotFound)?;
        let done = match action.as_str() {
            "authorize" => {
                crate::app::accounts::answer_follow_request(&state, me, from, true).await?
            }
            "reject" => {
                crate::app::accounts::answer_follow_request(&state, me, from, false).await?
            }
            _ => false,
        };
        if !done {
            return Err(ApiError::NotFound);
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/web/follow_requests").into_response(),
        Err(e) => refused(&state, e),
    }
}

/// `GET /web/settings/profile`: the profile (name, bio, locked, default visibility) and
/// the follow-back rule.
pub async fn profile_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    match crate::app::suggestions::follow_back_rule(&state, session.me).await {
        Ok(rule) => {
            signed_in_page(
                &state,
                &session,
                "profile_settings.html",
                context! { title => "Edit profile", rule => view(&rule) },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ProfileForm {
    csrf: Option<String>,
    display_name: Option<String>,
    note: Option<String>,
    locked: Option<String>,
    privacy: Option<String>,
    follow_back: Option<String>,
    /// The follow-back rule's interest overlap, in percent.
    min_overlap: Option<String>,
}

/// `POST /web/settings/profile`.
pub async fn profile_save(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    axum::Form(form): axum::Form<ProfileForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let me = session.me;
    let result = async {
        let mut update = cascade_store::AccountUpdate::default();
        accounts::profile_text(&state, &mut update, form.display_name, form.note)?;
        update.locked = Some(form.locked.is_some());
        if let Some(privacy) = form.privacy.filter(|p| !p.is_empty()) {
            privacy
                .parse::<cascade_core::Visibility>()
                .map_err(|_| ApiError::unprocessable("Privacy is not included in the list"))?;
            update.default_visibility = Some(privacy);
        }
        let min = match form.min_overlap.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => Some(
                p.parse::<f64>()
                    .map_err(|_| ApiError::unprocessable("The overlap is a percentage"))?
                    / 100.0,
            ),
            _ => None,
        };
        crate::app::suggestions::set_follow_back_rule(&state, me, form.follow_back.is_some(), min)
            .await?;
        accounts::update_profile(&state, me, &update).await
    }
    .await;
    match result {
        Ok(account) => Redirect::to(&format!("/@{}", account.username)).into_response(),
        Err(e) => refused(&state, e),
    }
}

/// `GET /web/settings/filters`: content filters, and a form for a new one.
pub async fn filters_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    match crate::app::filters::list(&state, session.me).await {
        Ok(list) => {
            signed_in_page(
                &state,
                &session,
                "filters.html",
                context! { title => "Filters", filters => view(&list) },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct FilterForm {
    csrf: Option<String>,
    title: Option<String>,
    /// Comma-separated.
    #[serde(default)]
    keywords: String,
    filter_action: Option<String>,
    ctx_home: Option<String>,
    ctx_notifications: Option<String>,
    ctx_public: Option<String>,
    ctx_thread: Option<String>,
    ctx_account: Option<String>,
}

/// `POST /web/settings/filters`: creates a filter.
pub async fn create_filter(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    axum::Form(form): axum::Form<FilterForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let context: Vec<String> = [
        ("home", &form.ctx_home),
        ("notifications", &form.ctx_notifications),
        ("public", &form.ctx_public),
        ("thread", &form.ctx_thread),
        ("account", &form.ctx_account),
    ]
    .iter()
    .filter(|(_, on)| on.is_some())
    .map(|(name, _)| name.to_string())
    .collect();
    let input = crate::app::filters::FilterInput {
        title: form.title,
        context: Some(context),
        filter_action: form.filter_action,
        expires_in: None,
        keywords: terms(&form.keywords)
            .into_iter()
            .map(|k| crate::app::filters::KeywordInput {
                id: None,
                keyword: Some(k),
                whole_word: Some(true),
                destroy: false,
            })
            .collect(),
    };
    match crate::app::filters::create(&state, session.me, input).await {
        Ok(_) => Redirect::to("/web/settings/filters").into_response(),
        Err(e) => refused(&state, e),
    }
}

/// `POST /web/settings/filters/:id/delete`.
pub async fn delete_filter(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ActionForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let result = match path_id(&id) {
        Ok(id) => crate::app::filters::delete(&state, session.me, id).await,
        Err(e) => Err(e),
    };
    written(&state, result, |()| "/web/settings/filters".into())
}

/// `GET /web/statuses/:id/quote`: the compose box with the quoted post above it.
pub async fn quote_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<String>,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    let result = async {
        let id = path_id(&id)?;
        crate::app::render::status(&state, &session.viewer, id).await
    }
    .await;
    match result {
        Ok(quoted) => {
            signed_in_page(
                &state,
                &session,
                "quote.html",
                context! { title => "Quote", status => view(&quoted) },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

/// `GET /web/lists`: the person's lists, each a timeline, and a form for a new one.
pub async fn lists(State(state): State<AppState>, MaybeSession(session): MaybeSession) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    match state.store.lists_of(session.me).await {
        Ok(found) => {
            let found: Vec<Value> = found
                .iter()
                .map(|l| context! { id => l.id.to_string(), title => &l.title })
                .collect();
            signed_in_page(
                &state,
                &session,
                "lists.html",
                context! { title => "Lists", lists => found },
            )
            .await
        }
        Err(e) => page_error(&state, e.into()),
    }
}

/// The fields of the forms that make and change a list.
#[derive(Debug, Default, Deserialize)]
pub struct ListForm {
    csrf: Option<String>,
    title: Option<String>,
    replies_policy: Option<String>,
    exclusive: Option<String>,
}

impl ListForm {
    fn change(self) -> crate::app::lists::ListChange {
        crate::app::lists::ListChange {
            title: self.title,
            replies_policy: self.replies_policy.filter(|p| !p.is_empty()),
            exclusive: Some(self.exclusive.is_some()),
        }
    }
}

/// The answer to a form's write: a redirect to `to` once it is done, or a page that says
/// why it was refused.
fn written<T>(
    state: &AppState,
    result: Result<T, ApiError>,
    to: impl FnOnce(T) -> String,
) -> Response {
    match result {
        Ok(done) => Redirect::to(&to(done)).into_response(),
        Err(e) => refused(state, e),
    }
}

fn list_page(list: Id) -> String {
    format!("/web/lists/{list}")
}

/// `POST /web/lists`: makes a list and opens it.
pub async fn create_list(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    axum::Form(form): axum::Form<ListForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let result = crate::app::lists::create(&state, session.me, form.change()).await;
    written(&state, result, |list| list_page(list.id))
}

/// `POST /web/lists/:id`: renames a list or changes its policies.
pub async fn update_list(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ListForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let result = match path_id(&id) {
        Ok(id) => crate::app::lists::update(&state, session.me, id, form.change()).await,
        Err(e) => Err(e),
    };
    written(&state, result, |list| list_page(list.id))
}

/// `POST /web/lists/:id/delete`.
pub async fn delete_list(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ActionForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let result = match path_id(&id) {
        Ok(id) => crate::app::lists::delete(&state, session.me, id).await,
        Err(e) => Err(e),
    };
    written(&state, result, |()| "/web/lists".into())
}

#[derive(Debug, Default, Deserialize)]
pub struct MemberForm {
    csrf: Option<String>,
    /// `name` or `@name`: someone the person follows.
    account: Option<String>,
}

/// `POST /web/lists/:id/members`: adds someone the person follows, by name.
pub async fn add_list_member(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<MemberForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let result = async {
        let id = path_id(&id)?;
        let name = form.account.unwrap_or_default();
        let name = name.trim().trim_start_matches('@');
        let account = match state.store.account_by_username(name).await {
            Ok(a) => a,
            Err(cascade_store::StoreError::NotFound) => {
                return Err(ApiError::unprocessable(format!(
                    "No one here is called @{name}"
                )))
            }
            Err(e) => return Err(e.into()),
        };
        crate::app::lists::add_members(&state, session.me, id, &[account.id]).await?;
        Ok(id)
    }
    .await;
    written(&state, result, list_page)
}

/// `POST /web/lists/:id/members/:account/remove`.
pub async fn remove_list_member(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path((id, account)): Path<(String, String)>,
    axum::Form(form): axum::Form<ActionForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let result = async {
        let (id, account) = (path_id(&id)?, path_id(&account)?);
        crate::app::lists::remove_members(&state, session.me, id, &[account]).await?;
        Ok(id)
    }
    .await;
    written(&state, result, list_page)
}

/// `GET /web/lists/:id`: a list's timeline, its members and its settings.
pub async fn list_timeline(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    let result = async {
        let id: Id = id.parse().map_err(|_| ApiError::NotFound)?;
        let list = crate::app::lists::own(&state, session.me, id).await?;
        let (posts, keys) = timelines::list(&state, &session.viewer, id, q.page()).await?;
        let members = crate::app::lists::members(&state, session.me, id, None, 200).await?;
        let members = crate::app::render::accounts(&state, &members).await?;
        Ok::<_, ApiError>((list, posts, keys, members))
    }
    .await;
    match result {
        Ok((list, posts, keys, members)) => {
            let next = (keys.len() >= PAGE_SIZE)
                .then(|| {
                    keys.last()
                        .map(|k| format!("/web/lists/{}?max_id={k}", list.id))
                })
                .flatten();
            signed_in_page(
                &state,
                &session,
                "list.html",
                context! {
                    title => format!("List: {}", list.title),
                    list => context! {
                        id => list.id.to_string(),
                        title => &list.title,
                        replies_policy => &list.replies_policy,
                        exclusive => list.exclusive,
                    },
                    members => view(&members),
                    statuses => view(&posts),
                    next,
                },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

/// `GET /web/explore`: what is trending: posts, tags and links.
pub async fn explore(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    match trends::statuses(&state, &session.viewer, 0, PAGE_SIZE).await {
        Ok(posts) => {
            let tags = trends::tags(&state, 0, 10);
            let links = trends::links(&state, 0, 10);
            signed_in_page(
                &state,
                &session,
                "explore.html",
                context! {
                    title => "Explore",
                    statuses => view(&posts),
                    tags => view(&tags),
                    links => view(&links),
                },
            )
            .await
        }
        Err(e) => page_error(&state, e),
    }
}

/// `POST /web/media` (multipart: `csrf`, `file`, `description`): uploads a picture, video
/// or sound with its alt text, then goes home with it waiting in the compose box. Two
/// steps, so the compose form stays a plain form that works without script.
pub async fn upload_media(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    let limit = state
        .config
        .media_video_bytes
        .max(state.config.media_image_bytes);
    let read = async {
        let mut form = read_multipart(multipart, limit, &["file"]).await?;
        let upload = crate::app::media::Upload {
            description: form.text.remove("description"),
            bytes: form
                .files
                .remove("file")
                .ok_or_else(|| ApiError::unprocessable("Choose a file to attach"))?,
            ..Default::default()
        };
        Ok::<_, ApiError>((form.text.remove("csrf"), upload))
    }
    .await;
    let (csrf, upload) = match read {
        Ok(found) => found,
        Err(e) => return refused(&state, e),
    };
    // The token is checked before anything is stored.
    if !session.csrf_ok(csrf.as_deref()) {
        return super::forbidden(&state);
    }
    match crate::app::media::upload(&state, session.me, upload).await {
        Ok(record) => Redirect::to(&format!("/?media={}", record.id)).into_response(),
        Err(e) => refused(&state, e),
    }
}

/// A multipart form read whole: its text fields, and its files (those named in `files`,
/// each within `limit` bytes; an empty file is no file).
struct MultipartForm {
    text: HashMap<String, String>,
    files: HashMap<String, Vec<u8>>,
}

async fn read_multipart(
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
    limit: usize,
    files: &[&str],
) -> Result<MultipartForm, ApiError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::BadRequest(format!("The form is malformed: {e}"))
    };
    let mut multipart = multipart.map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut form = MultipartForm {
        text: HashMap::new(),
        files: HashMap::new(),
    };
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if files.contains(&name.as_str()) {
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if bytes.len() + chunk.len() > limit {
                    return Err(ApiError::TooLarge);
                }
                bytes.extend_from_slice(&chunk);
            }
            if !bytes.is_empty() {
                form.files.insert(name, bytes);
            }
        } else if form.text.len() < 32 {
            let text = field.text().await.map_err(bad)?;
            form.text.insert(name, text);
        } else {
            return Err(ApiError::BadRequest("The form has too many fields".into()));
        }
    }
    Ok(form)
}

/// `POST /web/settings/profile/pictures` (multipart: `csrf`, `avatar`, `header`, and
/// `remove_avatar`, `remove_header`): sets or removes the profile's pictures, cropped
/// and scaled as the API's `update_credentials` does.
pub async fn profile_pictures(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    let limit = state.config.media_image_bytes;
    let mut form = match read_multipart(multipart, limit, &["avatar", "header"]).await {
        Ok(form) => form,
        Err(e) => return refused(&state, e),
    };
    // The token is checked before anything is stored.
    if !session.csrf_ok(form.text.get("csrf").map(String::as_str)) {
        return super::forbidden(&state);
    }
    let result = async {
        use cascade_store::ProfileImage;
        for (field, which) in [
            ("avatar", ProfileImage::Avatar),
            ("header", ProfileImage::Header),
        ] {
            if let Some(bytes) = form.files.remove(field) {
                crate::app::media::set_profile_image(&state, session.me, which, Some(bytes))
                    .await?;
            } else if form.text.contains_key(&format!("remove_{field}")) {
                crate::app::media::set_profile_image(&state, session.me, which, None).await?;
            }
        }
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/web/settings/profile").into_response(),
        Err(e) => refused(&state, e),
    }
}

/// `POST /web/watches/dismiss/:status`: takes an item out of the unanswered queues
/// without replying.
pub async fn dismiss_watch_item(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(status): Path<String>,
    axum::Form(form): axum::Form<ActionForm>,
) -> Response {
    let session = match checked(&state, session, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let result = async {
        let status: Id = status.parse().map_err(|_| ApiError::NotFound)?;
        watch::dismiss(&state, &session.viewer, None, status).await
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&back_to(form.back.as_deref())).into_response(),
        Err(e) => refused(&state, e),
    }
}

/// `GET /web/settings`: the settings pages, one link each (the navigation stays short
/// on a phone).
pub async fn settings(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Response {
    let Some(session) = session else {
        return to_sign_in();
    };
    signed_in_page(
        &state,
        &session,
        "settings.html",
        context! { title => "Settings" },
    )
    .await
}
