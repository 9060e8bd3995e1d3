//! The public web pages a Mastodon-style server has — a profile at `/@username` and a
//! status with its replies at `/@username/:id`, with Open Graph tags — rendered on the
//! server from templates, working without JavaScript. `/@username/:id/cascade` draws
//! how the status spread (see `draw`). Pages show only what an anonymous
//! visitor may see: they render through the same visibility rule as the API. Signed in
//! (`session`), a profile and a thread are seen as that person sees them, with the
//! actions (follow, reply, delete…) as forms; the rest of the web app is in `app`.

pub mod app;
pub mod draw;
pub mod session;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use cascade_core::timeline::Page;
use cascade_store::AccountStatusesFilter;
use minijinja::{context, Environment, Value};

use crate::app::{cascade, render, statuses, timelines, Viewer};
use crate::error::ApiError;
use crate::state::AppState;
use session::MaybeSession;

/// A value for a template, through its JSON: statuses and accounts carry JSON rendered
/// once (`entity::Rendered`), which only serde_json reads back as what it stands for.
pub fn view<T: serde::Serialize + ?Sized>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(
        serde_json::to_value(value).unwrap_or_default(),
    ))
}

/// What a page may load and who may frame it. Public pages run no script at all, so none
/// is allowed (the signed-in pages set `session::APP_CONTENT_SECURITY_POLICY`, which
/// allows our own script and no other); styles are inline (the page's `<style>`, the drawing's attributes); images are
/// our own or inline. `form-action` is left out on purpose: the consent form's answer is
/// a redirect to the application, and browsers apply `form-action` to that redirect too.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'none'; \
     style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// Adds the browser-security headers to every response: a Content-Security-Policy
/// without script, no framing, no content sniffing and no referrer sent off-site. They
/// matter for HTML pages and cost nothing on JSON, so every response gets them, error
/// pages and refusals included.
pub async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::{header, HeaderValue};
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// The compiled templates, built once on first use (the web layer owns them, so the
/// composition root knows nothing of pages); HTML is escaped automatically.
pub struct Pages {
    env: Environment<'static>,
}

impl Default for Pages {
    fn default() -> Self {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../../templates/base.html")),
            (
                "status_card.html",
                include_str!("../../templates/status_card.html"),
            ),
            ("profile.html", include_str!("../../templates/profile.html")),
            ("status.html", include_str!("../../templates/status.html")),
            ("error.html", include_str!("../../templates/error.html")),
            ("cascade.html", include_str!("../../templates/cascade.html")),
            ("landing.html", include_str!("../../templates/landing.html")),
            ("home.html", include_str!("../../templates/home.html")),
            (
                "timeline.html",
                include_str!("../../templates/timeline.html"),
            ),
            ("compose.html", include_str!("../../templates/compose.html")),
            (
                "notifications.html",
                include_str!("../../templates/notifications.html"),
            ),
            ("edit.html", include_str!("../../templates/edit.html")),
            ("away.html", include_str!("../../templates/away.html")),
            ("watches.html", include_str!("../../templates/watches.html")),
            ("watch.html", include_str!("../../templates/watch.html")),
            ("search.html", include_str!("../../templates/search.html")),
            (
                "suggestions.html",
                include_str!("../../templates/suggestions.html"),
            ),
            ("sign_up.html", include_str!("../../templates/sign_up.html")),
            (
                "conversations.html",
                include_str!("../../templates/conversations.html"),
            ),
            ("policy.html", include_str!("../../templates/policy.html")),
            ("filters.html", include_str!("../../templates/filters.html")),
            ("quote.html", include_str!("../../templates/quote.html")),
            ("lists.html", include_str!("../../templates/lists.html")),
            ("list.html", include_str!("../../templates/list.html")),
            ("explore.html", include_str!("../../templates/explore.html")),
            (
                "settings.html",
                include_str!("../../templates/settings.html"),
            ),
            (
                "profile_settings.html",
                include_str!("../../templates/profile_settings.html"),
            ),
            (
                "follow_requests.html",
                include_str!("../../templates/follow_requests.html"),
            ),
        ] {
            // The templates are part of the binary; a syntax error in one is a bug that
            // the page tests catch, so it is reported at render time, not here.
            let _ = env.add_template(name, source);
        }
        Pages { env }
    }
}

/// The templates.
fn pages() -> &'static Pages {
    static PAGES: std::sync::OnceLock<Pages> = std::sync::OnceLock::new();
    PAGES.get_or_init(Pages::default)
}

impl Pages {
    /// Renders a template; a failure is logged and shown as a plain error page.
    pub fn render(&self, name: &str, ctx: minijinja::Value) -> Response {
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "page rendering failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<h1>Internal server error</h1>".to_string()),
                )
                    .into_response()
            }
        }
    }

    fn error(&self, state: &AppState, status: StatusCode, title: &str, message: &str) -> Response {
        let mut response = self.render(
            "error.html",
            context! { instance => &state.config.title, title, message },
        );
        *response.status_mut() = status;
        response
    }
}

pub fn routes(config: &crate::Config) -> Router<AppState> {
    let upload_limit = config.media_video_bytes.max(config.media_image_bytes) + 64 * 1024;
    Router::new()
        .route(
            "/web/media",
            post(app::upload_media).layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/web/settings/profile/pictures",
            // Two pictures and the form around them.
            post(app::profile_pictures).layer(axum::extract::DefaultBodyLimit::max(
                2 * config.media_image_bytes + 64 * 1024,
            )),
        )
        .route("/", get(app::root))
        .route("/web/app.js", get(app::script))
        .route("/web/sign_in", get(session::sign_in))
        .route("/web/callback", get(session::callback))
        .route("/web/sign_out", post(session::sign_out))
        .route("/web/public", get(app::public))
        .route("/web/tags/{tag}", get(app::tag))
        .route("/tags/{tag}", get(app::tag))
        .route("/web/notifications", get(app::notifications_page))
        .route("/web/notifications/read", post(app::notifications_read))
        .route("/web/conversations", get(app::conversations))
        .route(
            "/web/settings/notifications",
            get(app::policy_page).post(app::policy_save),
        )
        .route(
            "/web/notifications/requests/{id}/{action}",
            post(app::request_action),
        )
        .route(
            "/web/settings/profile",
            get(app::profile_page).post(app::profile_save),
        )
        .route(
            "/web/settings/filters",
            get(app::filters_page).post(app::create_filter),
        )
        .route(
            "/web/settings/filters/{id}/delete",
            post(app::delete_filter),
        )
        .route("/web/follow_requests", get(app::follow_requests))
        .route(
            "/web/follow_requests/{id}/{action}",
            post(app::follow_request_action),
        )
        .route("/web/lists", get(app::lists).post(app::create_list))
        .route(
            "/web/lists/{id}",
            get(app::list_timeline).post(app::update_list),
        )
        .route("/web/lists/{id}/delete", post(app::delete_list))
        .route("/web/lists/{id}/members", post(app::add_list_member))
        .route(
            "/web/lists/{id}/members/{account}/remove",
            post(app::remove_list_member),
        )
        .route("/web/explore", get(app::explore))
        .route("/web/settings", get(app::settings))
        .route("/web/bookmarks", get(app::bookmarks))
        .route("/web/favourites", get(app::favourites))
        .route("/web/search", get(app::search))
        .route("/web/suggestions", get(app::suggestions))
        .route(
            "/web/sign_up",
            get(session::sign_up_page).post(session::sign_up),
        )
        .route("/web/statuses", post(app::compose))
        .route(
            "/web/statuses/{id}/edit",
            get(app::edit_page).post(app::edit),
        )
        .route("/web/statuses/{id}/quote", get(app::quote_page))
        .route("/web/statuses/{id}/{action}", post(app::status_action))
        .route("/web/accounts/{id}/{action}", post(app::account_action))
        .route(
            "/web/settings/away",
            get(app::away_page).post(app::away_save),
        )
        .route(
            "/web/watches",
            get(app::watches_page).post(app::create_watch),
        )
        .route("/web/watches/{id}", get(app::watch_page))
        .route(
            "/web/watches/dismiss/{status}",
            post(app::dismiss_watch_item),
        )
        .route("/web/blurhash/{hash}", get(blurhash_placeholder))
        .route("/@{username}", get(profile_page))
        .route("/@{username}/{id}", get(status_page))
        .route("/@{username}/{id}/cascade", get(cascade_page))
}

/// `GET /web/blurhash/:hash`: a picture's blurhash as a small PNG, shown under the
/// picture on the pages while it loads (and instead of it behind a sensitive-media
/// warning). The same hash is the same picture forever.
async fn blurhash_placeholder(Path(hash): Path<String>) -> Response {
    match crate::media::image::blurhash_png(&hash) {
        Some(png) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            png,
        )
            .into_response(),
        None => ApiError::NotFound.into_response(),
    }
}

/// The answer to a form whose CSRF token is missing or wrong: nothing was written.
fn forbidden(state: &AppState) -> Response {
    pages().error(
        state,
        StatusCode::FORBIDDEN,
        "This form has expired",
        "It did not come from this site, or it is from an earlier session. Go back, reload the page and try again.",
    )
}

/// Turns an API error into a page: 404s say so, anything else is a 500 page.
fn page_error(state: &AppState, e: ApiError) -> Response {
    match e {
        ApiError::NotFound => pages().error(
            state,
            StatusCode::NOT_FOUND,
            "Not found",
            "There is nothing here, or it is not public.",
        ),
        other => {
            tracing::error!(error = %other, "page failed");
            pages().error(
                state,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again later.",
            )
        }
    }
}

/// Plain text of a status's HTML, for descriptions.
fn plain(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.replace("</p><p>", " ").replace("<br />", " ").chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

async fn profile_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(username): Path<String>,
) -> Response {
    let result = async {
        let account = state.store.account_by_username(&username).await?;
        let viewer = match &session {
            Some(s) => (*s.viewer).clone(),
            None => Viewer::anonymous(),
        };
        let filter = AccountStatusesFilter {
            exclude_replies: true,
            ..Default::default()
        };
        let (statuses, _) =
            timelines::account(&state, &viewer, account.id, &filter, Page::default()).await?;
        let rendered = render::account(&state, &account);
        let note_text = plain(&rendered.note);
        let relationship = match &session {
            Some(s) if s.me != account.id => {
                Some(crate::app::accounts::relationship(&state, s.me, account.id).await?)
            }
            _ => None,
        };
        let ctx = context! {
            instance => &state.config.title,
            account => view(&rendered),
            statuses => view(&statuses),
            relationship => view(&relationship),
            note_text,
        };
        Ok::<_, ApiError>(ctx)
    }
    .await;
    match (result, &session) {
        (Ok(ctx), Some(s)) => app::signed_in_page(&state, s, "profile.html", ctx).await,
        (Ok(ctx), None) => pages().render("profile.html", ctx),
        (Err(e), _) => page_error(&state, e),
    }
}

async fn status_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path((username, id)): Path<(String, String)>,
) -> Response {
    let result = async {
        let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
        let viewer = match &session {
            Some(s) => (*s.viewer).clone(),
            None => Viewer::anonymous(),
        };
        let status = render::status(&state, &viewer, id).await?;
        if !status.account.username.eq_ignore_ascii_case(&username) || status.reblog.is_some() {
            return Err(ApiError::NotFound);
        }
        let context = statuses::context(&state, &viewer, id).await?;
        let text = plain(&status.content);
        Ok(context! {
            instance => &state.config.title,
            status => view(&status),
            text,
            ancestors => view(&context.ancestors),
            replies => view(&context.descendants),
        })
    }
    .await;
    match (result, &session) {
        (Ok(ctx), Some(s)) => app::signed_in_page(&state, s, "status.html", ctx).await,
        (Ok(ctx), None) => pages().render("status.html", ctx),
        (Err(e), _) => page_error(&state, e),
    }
}

/// A bucket width in words, for the chart's legend.
fn bucket_words(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{} day{}", s / 86_400, if s == 86_400 { "" } else { "s" }),
        s if s % 3_600 == 0 => format!("{} hour{}", s / 3_600, if s == 3_600 { "" } else { "s" }),
        s => format!("{} minutes", s / 60),
    }
}

async fn cascade_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path((username, id)): Path<(String, String)>,
) -> Response {
    let result = async {
        let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
        // Signed in, the author sees the views, and the page listens for reshares.
        let viewer = match &session {
            Some(s) => (*s.viewer).clone(),
            None => Viewer::anonymous(),
        };
        let m = cascade::measure(&state, &viewer, id).await?;
        if !m.root.account.username.eq_ignore_ascii_case(&username) {
            return Err(ApiError::NotFound);
        }
        let label = |account: i64| {
            m.accounts
                .get(&account)
                .map(|a| a.acct.clone())
                .unwrap_or_default()
        };
        // The page shows the statistics; the tree is drawn from `m.tree`.
        let (json, _) = cascade::to_json(&state, &m, cascade::NodePage::first(0));
        let (drawn, hidden) = draw::nearest(&m.tree, draw::MAX_DRAWN_NODES);
        let tree_svg = draw::tree_svg(&drawn, &hidden, &m.stats, label);
        let activity_svg = draw::activity_svg(&m.stats, m.views.is_some());
        Ok(context! {
                stream => "spread",
                spread_of => m.root.id.clone(),
                instance => &state.config.title,
                root => view(&m.root),
                status => view(&m.root),
                // Plain numbers, some of them not finite (an unbounded prediction), which a
                // trip through JSON would turn into nulls.
                stats => Value::from(minijinja::value::Serde(&json.stats)),
                views => Value::from(minijinja::value::Serde(&m.views)),
                prediction => Value::from(minijinja::value::Serde(&json.prediction)),
                url => &json.url,
                bucket => bucket_words(m.stats.buckets.width_ms / 1000),
                tree_svg,
                activity_svg,
                drawn => drawn.size(),
                total => m.tree.size(),
        })
    }
    .await;
    match (result, &session) {
        (Ok(ctx), Some(s)) => app::signed_in_page(&state, s, "cascade.html", ctx).await,
        (Ok(ctx), None) => pages().render("cascade.html", ctx),
        (Err(e), _) => page_error(&state, e),
    }
}
