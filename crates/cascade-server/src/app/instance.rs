//! What the instance says about itself: its rules, policies and contact (from the
//! configuration's `InstancePages`), its weekly activity, and oEmbed for its statuses.

use cascade_core::{text, time, Id, Visibility};
use serde_json::{json, Value};

use crate::config::PageText;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Weeks of activity reported, the current one first (Mastodon's 12).
pub const ACTIVITY_WEEKS: i64 = 12;

/// The rules, numbered from 1 in the order configured.
pub fn rules(state: &AppState) -> Vec<Value> {
    state
        .config
        .pages
        .rules
        .iter()
        .enumerate()
        .map(|(i, (rule, hint))| {
            json!({ "id": (i + 1).to_string(), "text": rule, "hint": hint, "translations": {} })
        })
        .collect()
}

/// A page's text as HTML: escaped, paragraphs and links, as a status is rendered.
fn html(state: &AppState, page: &PageText) -> String {
    text::render_html(
        &page.text,
        |_, _| None,
        |t| state.url(&format!("/tags/{}", t.to_lowercase())),
    )
}

/// `ExtendedDescription`: empty content when none is configured, as in Mastodon.
pub fn extended_description(state: &AppState) -> Value {
    match &state.config.pages.extended_description {
        Some(page) => {
            json!({ "updated_at": time::rfc3339(page.updated_at), "content": html(state, page) })
        }
        None => json!({ "updated_at": time::rfc3339(0), "content": "" }),
    }
}

/// `PrivacyPolicy`, or 404 when none is configured.
pub fn privacy_policy(state: &AppState) -> ApiResult<Value> {
    let page = state
        .config
        .pages
        .privacy_policy
        .as_ref()
        .ok_or(ApiError::NotFound)?;
    Ok(json!({ "updated_at": time::rfc3339(page.updated_at), "content": html(state, page) }))
}

/// `TermsOfService`, in effect since its file last changed; or 404 when none is
/// configured, or for another effective date than the current terms'.
pub fn terms_of_service(state: &AppState, date: Option<&str>) -> ApiResult<Value> {
    let page = state
        .config
        .pages
        .terms_of_service
        .as_ref()
        .ok_or(ApiError::NotFound)?;
    let effective = time::date(page.updated_at);
    if date.is_some_and(|d| d != effective) {
        return Err(ApiError::NotFound);
    }
    Ok(json!({
        "effective_date": effective,
        "effective": true,
        "content": html(state, page),
        "succeeded_by": null,
    }))
}

/// The contact address.
pub fn contact_email(state: &AppState) -> String {
    state
        .config
        .pages
        .contact_email
        .clone()
        .unwrap_or_else(|| format!("admin@{}", state.config.domain))
}

/// The contact account: the one configured, else the first account.
pub async fn contact_account(state: &AppState) -> ApiResult<Option<cascade_store::Account>> {
    if let Some(name) = &state.config.pages.contact_account {
        match state.store.account_by_username(name).await {
            Ok(a) if a.suspended_at.is_none() => return Ok(Some(a)),
            Ok(_) | Err(cascade_store::StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(state.store.first_account().await?)
}

/// The last 12 weeks (Monday to Sunday, UTC), the current one first: statuses posted,
/// accounts that signed in (were issued a token), accounts registered. Numbers are strings,
/// as in Mastodon.
pub async fn activity(state: &AppState) -> ApiResult<Vec<Value>> {
    let current = time::week_start(time::now_millis());
    let origin = current - (ACTIVITY_WEEKS - 1) * time::WEEK_MS;
    let figures = state.store.weekly_activity(origin, time::WEEK_MS).await?;
    let of = |rows: &[(i64, i64)], week: i64| {
        rows.iter()
            .find(|(w, _)| *w == week)
            .map_or(0, |(_, n)| *n)
            .to_string()
    };
    Ok((0..ACTIVITY_WEEKS)
        .rev()
        .map(|week| {
            json!({
                "week": ((origin + week * time::WEEK_MS) / 1000).to_string(),
                "statuses": of(&figures.statuses, week),
                "logins": of(&figures.logins, week),
                "registrations": of(&figures.registrations, week),
            })
        })
        .collect())
}

/// oEmbed for a status page of this instance (`/@user/id`) that anyone may see; 404 for
/// any other URL.
pub async fn oembed(state: &AppState, url: &str, maxwidth: Option<i64>) -> ApiResult<Value> {
    let path = url
        .strip_prefix(&state.url("/@"))
        .ok_or(ApiError::NotFound)?;
    let (username, id) = path.split_once('/').ok_or(ApiError::NotFound)?;
    let id: Id = id.parse().map_err(|_| ApiError::NotFound)?;
    let status = match state.store.status(id).await {
        Ok(s) => s,
        Err(cascade_store::StoreError::NotFound) => return Err(ApiError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let author = state.store.account(status.account_id).await?;
    let public = matches!(
        Visibility::from_code(status.visibility),
        Visibility::Public | Visibility::Unlisted
    );
    if !public
        || status.reblog_of_id.is_some()
        || author.suspended_at.is_some()
        || !author.username.eq_ignore_ascii_case(username)
    {
        return Err(ApiError::NotFound);
    }
    let status_url = state.url(&format!("/@{}/{}", author.username, status.id));
    let author_url = state.url(&format!("/@{}", author.username));
    let width = maxwidth.unwrap_or(400).clamp(100, 2_000);
    let name = if author.display_name.is_empty() {
        author.username.clone()
    } else {
        author.display_name.clone()
    };
    let html = format!(
        "<blockquote class=\"mastodon-embed\" style=\"max-width: {width}px;\">{}<p>— {} (<a href=\"{}\">@{}@{}</a>) <a href=\"{}\">{}</a></p></blockquote>",
        status.content_html,
        text::escape_html(&name),
        text::escape_html(&author_url),
        text::escape_html(&author.username),
        text::escape_html(&state.config.domain),
        text::escape_html(&status_url),
        time::date(status.created_at),
    );
    Ok(json!({
        "type": "rich",
        "version": "1.0",
        "title": format!("New status by {}", author.username),
        "author_name": name,
        "author_url": author_url,
        "provider_name": state.config.domain,
        "provider_url": state.url("/"),
        "cache_age": 86_400,
        "html": html,
        "width": width,
        "height": null,
    }))
}

/// The instance descriptions, rendered once and kept for `INSTANCE_TTL`: every client asks
/// for them at start, so a hug of death asks thousands of times a second, and the user
/// and status counts they carry are `COUNT(*)` over whole tables.
#[derive(Default)]
pub struct DescriptionCache {
    kept: std::sync::Mutex<Vec<(&'static str, std::time::Instant, bytes::Bytes)>>,
}

/// How long a rendered instance description is served before it is rendered again.
pub const INSTANCE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

impl DescriptionCache {
    /// The JSON kept under `key`, or what `render` makes of it now (then kept).
    pub async fn get_or_render<F>(&self, key: &'static str, render: F) -> ApiResult<bytes::Bytes>
    where
        F: std::future::Future<Output = ApiResult<Value>>,
    {
        let now = std::time::Instant::now();
        if let Some((_, _, json)) = self
            .lock()
            .iter()
            .find(|(k, at, _)| *k == key && now.duration_since(*at) < INSTANCE_TTL)
        {
            return Ok(json.clone());
        }
        let json = bytes::Bytes::from(
            serde_json::to_vec(&render.await?).map_err(|e| ApiError::Internal(e.into()))?,
        );
        let mut kept = self.lock();
        kept.retain(|(k, _, _)| *k != key);
        kept.push((key, now, json.clone()));
        Ok(json)
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, Vec<(&'static str, std::time::Instant, bytes::Bytes)>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}
