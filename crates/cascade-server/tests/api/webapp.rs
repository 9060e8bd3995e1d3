//! The web app at `/`: the landing page, signing in through the OAuth flow with PKCE into
//! a session cookie, the CSRF check on every form, posting and acting from forms, the
//! grouped notifications, the out-of-office and brand-watch settings, signing out, and
//! that nobody sees another's private posts. A cookie-keeping client that follows no
//! redirect by itself, so each hop and each cookie is checked.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp, User};

/// A browser without script: a cookie jar and redirects followed one by one.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
    /// Every `Set-Cookie` seen, for checking attributes.
    set_cookies: Vec<String>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
            cookies: HashMap::new(),
            set_cookies: Vec::new(),
        }
    }

    fn absolute(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            self.app.url(path)
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        // What earlier requests owe (notifications, fan-out) is done first.
        self.app.drain().await;
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let req = if cookie.is_empty() {
            req
        } else {
            req.header("cookie", cookie.join("; "))
        };
        let res = req.send().await.expect("the server answers");
        for value in res.headers().get_all("set-cookie") {
            let value = value.to_str().expect("a cookie").to_string();
            let (pair, _) = value.split_once(';').unwrap_or((&value, ""));
            let (name, v) = pair.split_once('=').expect("name=value");
            if v.is_empty() || value.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), v.to_string());
            }
            self.set_cookies.push(value);
        }
        let status = res.status();
        let headers = res.headers().clone();
        let location = headers
            .get("location")
            .map(|l| l.to_str().expect("a location").to_string());
        let body = res.text().await.expect("a body");
        Page {
            status,
            location,
            headers,
            body,
        }
    }

    /// One GET, no redirect followed.
    async fn get_once(&mut self, path: &str) -> Page {
        let req = self.client.get(self.absolute(path));
        self.send(req).await
    }

    /// A GET, following redirects as a browser would.
    async fn get(&mut self, path: &str) -> Page {
        let mut page = self.get_once(path).await;
        for _ in 0..10 {
            match page.location.clone() {
                Some(next) if page.status.is_redirection() => page = self.get_once(&next).await,
                _ => return page,
            }
        }
        panic!("too many redirects from {path}");
    }

    /// A form POST, answered by a redirect that is followed (Post/Redirect/Get) when
    /// there is one.
    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.client.post(self.absolute(path)).form(form);
        let page = self.send(req).await;
        match page.location.clone() {
            Some(next) if page.status == StatusCode::SEE_OTHER => self.get(&next).await,
            _ => page,
        }
    }

    /// The CSRF token of the signed-in pages.
    async fn csrf(&mut self) -> String {
        let page = self.get("/").await;
        hidden(&page.body, "csrf").expect("a signed-in page carries a CSRF token")
    }
}

/// The value of a hidden input of a page.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&#x2f;", "/")
            .replace("&#47;", "/")
            .replace("&amp;", "&"),
    )
}

/// Signs `user` in through the whole flow: the web app's sign-in, the authorization
/// page, the login and consent, the callback that sets the session cookie.
async fn sign_in<'a>(app: &'a TestApp, user: &User) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let start = browser.get_once("/web/sign_in").await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let authorize = start
        .location
        .expect("a redirect to the authorization page");
    assert!(authorize.starts_with("/oauth/authorize?"), "{authorize}");
    assert!(authorize.contains("code_challenge_method=S256"));
    let form = browser.get_once(&authorize).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let mut fields: Vec<(&str, String)> = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "authenticity_token",
    ]
    .iter()
    .map(|n| (*n, hidden(&form.body, n).expect("the form's hidden fields")))
    .collect();
    fields.push(("username", user.username.clone()));
    fields.push(("password", "correct horse battery".into()));
    fields.push(("decision", "approve".into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let req = browser
        .client
        .post(browser.absolute("/oauth/authorize"))
        .form(&pairs);
    let consent = browser.send(req).await;
    assert_eq!(consent.status, StatusCode::SEE_OTHER, "{}", consent.body);
    let callback = consent.location.expect("a redirect to the callback");
    assert!(callback.contains("/web/callback?code="), "{callback}");
    let back = browser.get_once(&callback).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(back.location.as_deref(), Some("/"));
    assert!(
        browser.cookies.contains_key("cascade_session"),
        "the callback sets the session cookie"
    );
    browser
}

#[tokio::test]
async fn a_visitor_gets_the_landing_page_with_sign_in() {
    let app = spawn_app().await;

    let mut visitor = Browser::new(&app);
    let page = visitor.get("/").await;

    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("href=\"/web/sign_in\""), "{}", page.body);
    assert!(page.body.contains("Trending posts"));
    assert!(!page.body.contains("Record not found"));
    assert!(page
        .headers
        .get("content-type")
        .is_some_and(|c| c.to_str().unwrap().starts_with("text/html")));
}

#[tokio::test]
async fn signing_in_keeps_the_token_in_an_http_only_cookie_and_shows_home() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.post_status(&alice, "Morning from the web app", "public")
        .await;

    let mut browser = sign_in(&app, &alice).await;
    let home = browser.get("/").await;

    let session = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("cascade_session="))
        .expect("a session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.contains("Morning from the web app"),
        "{}",
        home.body
    );
    assert!(home.body.contains("Sign out"));
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline'; script") && !csp.contains("script-src 'unsafe"));
    assert!(
        !home.body.contains("<script>"),
        "no inline script on app pages"
    );
}

#[tokio::test]
async fn a_form_without_or_with_a_wrong_csrf_token_is_refused_and_writes_nothing() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut browser = sign_in(&app, &alice).await;

    let without = browser
        .post("/web/statuses", &[("status", "forged without a token")])
        .await;
    let wrong = browser
        .post(
            "/web/statuses",
            &[
                ("status", "forged with a wrong token"),
                ("csrf", "0123456789abcdef"),
            ],
        )
        .await;
    let sign_out = browser.post("/web/sign_out", &[("csrf", "nope")]).await;

    assert_eq!(without.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(sign_out.status, StatusCode::FORBIDDEN);
    let posts = app
        .get(&alice, &format!("/api/v1/accounts/{}/statuses", alice.id))
        .await
        .ok();
    assert_eq!(posts.as_array().unwrap().len(), 0, "nothing was posted");
    assert_eq!(
        app.get(&alice, "/api/v1/accounts/verify_credentials")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn posting_replying_editing_and_deleting_from_the_forms() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut browser = sign_in(&app, &alice).await;
    let csrf = browser.csrf().await;

    let home = browser
        .post(
            "/web/statuses",
            &[
                ("csrf", &csrf),
                ("status", "Written in the compose box"),
                ("spoiler_text", "a warning"),
                ("visibility", "unlisted"),
                ("back", "/"),
            ],
        )
        .await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.contains("Written in the compose box"),
        "{}",
        home.body
    );
    assert!(home.body.contains("<summary>a warning</summary>"));
    let posts = app
        .get(&alice, &format!("/api/v1/accounts/{}/statuses", alice.id))
        .await
        .ok();
    let id = posts[0]["id"].as_str().unwrap().to_string();
    assert_eq!(posts[0]["visibility"], "unlisted");

    let thread = browser
        .post(
            "/web/statuses",
            &[
                ("csrf", &csrf),
                ("status", "And a reply to it"),
                ("in_reply_to_id", &id),
                ("back", &format!("/@alice/{id}")),
            ],
        )
        .await;
    assert_eq!(thread.status, StatusCode::OK);
    assert!(thread.body.contains("And a reply to it"), "{}", thread.body);

    let edited = browser
        .post(
            &format!("/web/statuses/{id}/edit"),
            &[("csrf", &csrf), ("status", "Written, then edited")],
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK);
    assert!(edited.body.contains("Written, then edited"));

    let after = browser
        .post(&format!("/web/statuses/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(after.status, StatusCode::OK);
    assert!(!after.body.contains("Written, then edited"));
    assert_eq!(
        app.get(&alice, &format!("/api/v1/statuses/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn following_from_a_profile_fills_home() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.post_status(&bob, "Bob posts first", "public").await;
    let mut browser = sign_in(&app, &alice).await;

    let profile = browser.get("/@bob").await;
    assert!(
        profile.body.contains(">Follow</button>"),
        "{}",
        profile.body
    );
    let csrf = hidden(&profile.body, "csrf").unwrap();
    let after = browser
        .post(
            &format!("/web/accounts/{}/follow", bob.id),
            &[("csrf", &csrf), ("back", "/@bob")],
        )
        .await;

    assert!(after.body.contains(">Unfollow</button>"), "{}", after.body);
    let rel = app
        .get(
            &alice,
            &format!("/api/v1/accounts/relationships?id[]={}", bob.id),
        )
        .await
        .ok();
    assert_eq!(rel[0]["following"], true);
    let home = browser.get("/").await;
    assert!(home.body.contains("Bob posts first"));
}

#[tokio::test]
async fn a_burst_of_favourites_is_one_notification_line_with_the_count() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let post = app.post_status(&alice, "Favourite me", "public").await;
    let id = post["id"].as_str().unwrap();
    for i in 0..5 {
        let fan = app.user(&format!("fan{i}")).await;
        app.post(&fan, &format!("/api/v1/statuses/{id}/favourite"), json!({}))
            .await
            .ok();
    }
    let mut browser = sign_in(&app, &alice).await;

    let page = browser.get("/web/notifications").await;

    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.body.matches("data-kind=\"favourite\"").count(),
        1,
        "{}",
        page.body
    );
    assert!(page.body.contains("4 others"), "{}", page.body);
    assert!(page.body.contains("(5)"));
}

#[tokio::test]
async fn the_out_of_office_reply_is_saved_from_settings() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut browser = sign_in(&app, &alice).await;
    let csrf = browser.csrf().await;

    let page = browser
        .post(
            "/web/settings/away",
            &[
                ("csrf", &csrf),
                ("message", "Back on Monday"),
                ("starts_at", ""),
                ("ends_at", "2099-01-05T09:00"),
            ],
        )
        .await;

    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Back on Monday"));
    let away = app.get(&alice, "/api/v1/cascade/away").await.ok();
    assert_eq!(away["message"], "Back on Monday");
    assert!(away["ends_at"]
        .as_str()
        .unwrap()
        .starts_with("2099-01-05T09:00"));
}

#[tokio::test]
async fn a_brand_watch_made_in_the_web_app_shows_its_hits() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut browser = sign_in(&app, &alice).await;
    let csrf = browser.csrf().await;

    let watch = browser
        .post(
            "/web/watches",
            &[
                ("csrf", &csrf),
                ("name", "Acme"),
                ("keywords", "acmewidget"),
                ("hashtags", ""),
            ],
        )
        .await;
    assert_eq!(watch.status, StatusCode::OK, "{}", watch.body);
    assert!(watch.body.contains("Watch: Acme"));
    app.post_status(&bob, "My acmewidget broke again", "public")
        .await;
    let path = format!(
        "/web/watches/{}",
        app.get(&alice, "/api/v1/cascade/watches").await.ok()[0]["id"]
            .as_str()
            .unwrap()
    );
    let page = browser.get(&path).await;

    assert!(
        page.body.contains("My acmewidget broke again"),
        "{}",
        page.body
    );
    let list = browser.get("/web/watches").await;
    assert!(
        list.body.contains("My acmewidget broke again"),
        "the unanswered queue"
    );
    let item = list
        .body
        .split("action=\"/web/watches/dismiss/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a dismiss form")
        .to_string();

    let after = browser
        .post(
            &format!("/web/watches/dismiss/{item}"),
            &[("csrf", &csrf), ("back", "/web/watches")],
        )
        .await;

    assert!(
        after.body.contains("Nothing waits for an answer"),
        "{}",
        after.body
    );
}

#[tokio::test]
async fn signing_out_revokes_the_token() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut browser = sign_in(&app, &alice).await;
    let token = browser.cookies["cascade_session"].clone();
    let csrf = browser.csrf().await;

    let after = browser.post("/web/sign_out", &[("csrf", &csrf)]).await;

    assert!(
        after.body.contains("href=\"/web/sign_in\""),
        "{}",
        after.body
    );
    assert!(!browser.cookies.contains_key("cascade_session"));
    let mut replay = Browser::new(&app);
    replay
        .cookies
        .insert("cascade_session".into(), token.clone());
    let page = replay.get("/").await;
    assert!(
        !page.body.contains("Sign out"),
        "the old cookie is signed out"
    );
    let forged = replay.post("/web/statuses", &[("status", "x")]).await;
    assert!(!forged.body.contains("Sign out"));
    let api = app
        .request(
            reqwest::Method::GET,
            "/api/v1/accounts/verify_credentials",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn private_and_direct_posts_are_never_shown_to_others() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let private = app
        .post_status(&alice, "Followers only secret", "private")
        .await;
    let direct = app.post_status(&alice, "Nobody's business", "direct").await;
    let mut browser = sign_in(&app, &carol).await;

    let profile = browser.get("/@alice").await;
    let public = browser.get("/web/public").await;
    let home = browser.get("/").await;
    let one = browser
        .get(&format!("/@alice/{}", private["id"].as_str().unwrap()))
        .await;
    let two = browser
        .get(&format!("/@alice/{}", direct["id"].as_str().unwrap()))
        .await;

    for page in [&profile, &public, &home, &one, &two] {
        assert!(!page.body.contains("Followers only secret"));
        assert!(!page.body.contains("Nobody&#x27;s business"));
        assert!(!page.body.contains("Nobody's business"));
    }
    assert_eq!(one.status, StatusCode::NOT_FOUND);
    assert_eq!(two.status, StatusCode::NOT_FOUND);
    // Alice herself sees both.
    let mut own = sign_in(&app, &alice).await;
    let mine = own.get("/@alice").await;
    assert!(mine.body.contains("Followers only secret"));
}

#[tokio::test]
async fn the_stream_takes_the_session_cookie_only_from_our_own_pages() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let browser = sign_in(&app, &alice).await;
    let cookie = format!("cascade_session={}", browser.cookies["cascade_session"]);

    let ours = app
        .client
        .get(app.url("/api/v1/streaming/user"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    let theirs = app
        .client
        .get(app.url("/api/v1/streaming/user"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();

    assert_eq!(ours.status(), StatusCode::OK);
    assert_eq!(theirs.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_visitor_signs_up_and_then_signs_in() {
    let app = spawn_app().await;
    let mut visitor = Browser::new(&app);
    let landing = visitor.get("/").await;
    assert!(landing.body.contains("href=\"/web/sign_up\""));
    let form = visitor.get("/web/sign_up").await;
    let csrf = hidden(&form.body, "csrf").unwrap();

    let mut stranger = Browser::new(&app);
    let forged = stranger
        .post(
            "/web/sign_up",
            &[
                ("csrf", &csrf),
                ("username", "mallory"),
                ("email", "mallory@example.test"),
                ("password", "correct horse battery"),
                ("agreement", "1"),
            ],
        )
        .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "no cookie, no sign-up"
    );
    let signed_up = visitor
        .post(
            "/web/sign_up",
            &[
                ("csrf", &csrf),
                ("username", "newcomer"),
                ("email", "newcomer@example.test"),
                ("password", "correct horse battery"),
                ("agreement", "1"),
            ],
        )
        .await;

    assert_eq!(signed_up.status, StatusCode::OK, "{}", signed_up.body);
    assert!(
        signed_up.body.contains("id=\"password\""),
        "on to the sign-in page"
    );
    assert!(app
        .state
        .store
        .account_by_username("mallory")
        .await
        .is_err());
    let newcomer = crate::helpers::User {
        id: String::new(),
        token: String::new(),
        username: "newcomer".into(),
    };
    let mut browser = sign_in(&app, &newcomer).await;
    assert!(browser.get("/").await.body.contains("Sign out"));
}

#[tokio::test]
async fn marking_notifications_read_clears_the_badge() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice).await;
    let mut browser = sign_in(&app, &alice).await;
    let home = browser.get("/").await;
    assert!(home.body.contains("id=\"unread\""), "{}", home.body);

    let page = browser.get("/web/notifications").await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let newest = hidden(&page.body, "last_read_id").expect("a mark-read form");
    let after = browser
        .post(
            "/web/notifications/read",
            &[("csrf", &csrf), ("last_read_id", &newest)],
        )
        .await;

    assert!(after.body.contains("followed you"), "{}", after.body);
    assert!(!after.body.contains("id=\"unread\""));
}

#[tokio::test]
async fn bookmarks_search_and_suggestions_pages_answer() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app
        .post_status(&bob, "Worth keeping for later", "public")
        .await;
    let id = post["id"].as_str().unwrap();
    let mut browser = sign_in(&app, &alice).await;
    let csrf = browser.csrf().await;

    browser
        .post(
            &format!("/web/statuses/{id}/bookmark"),
            &[("csrf", &csrf), ("back", "/web/bookmarks")],
        )
        .await;
    let bookmarks = browser.get("/web/bookmarks").await;
    let search = browser.get("/web/search?q=bob").await;
    let suggestions = browser.get("/web/suggestions").await;

    assert!(
        bookmarks.body.contains("Worth keeping for later"),
        "{}",
        bookmarks.body
    );
    assert!(bookmarks.body.contains("Remove bookmark"));
    assert!(search.body.contains("@bob"), "{}", search.body);
    assert_eq!(suggestions.status, StatusCode::OK);
}

#[tokio::test]
async fn the_notification_policy_holds_a_stranger_and_the_request_is_accepted_from_settings() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let stranger = app.user("stranger").await;
    let mut browser = sign_in(&app, &alice).await;
    let settings = browser.get("/web/settings/notifications").await;
    let csrf = hidden(&settings.body, "csrf").unwrap();

    let saved = browser
        .post(
            "/web/settings/notifications",
            &[("csrf", &csrf), ("for_not_following", "filter")],
        )
        .await;
    assert!(
        saved.body.contains("value=\"filter\" selected"),
        "{}",
        saved.body
    );
    app.post_status(&stranger, "@alice hello there", "public")
        .await;
    let held = browser.get("/web/settings/notifications").await;
    assert!(held.body.contains("@stranger"), "{}", held.body);
    let notifications = browser.get("/web/notifications").await;
    assert!(!notifications.body.contains("mentioned you"));
    let requests = app.get(&alice, "/api/v1/notifications/requests").await.ok();
    let id = requests[0]["id"].as_str().unwrap().to_string();

    let after = browser
        .post(
            &format!("/web/notifications/requests/{id}/accept"),
            &[("csrf", &csrf)],
        )
        .await;

    assert!(after.body.contains("Nothing is held"), "{}", after.body);
    let notifications = browser.get("/web/notifications").await;
    assert!(
        notifications.body.contains("mentioned you"),
        "{}",
        notifications.body
    );
}

#[tokio::test]
async fn a_direct_post_shows_in_both_conversations_and_nowhere_else() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.post_status(&alice, "@bob just between us", "direct")
        .await;

    let mut bobs = sign_in(&app, &bob).await;
    let mut carols = sign_in(&app, &carol).await;

    assert!(bobs
        .get("/web/conversations")
        .await
        .body
        .contains("just between us"));
    assert!(!carols
        .get("/web/conversations")
        .await
        .body
        .contains("just between us"));
    assert!(!carols.get("/@alice").await.body.contains("just between us"));
}

#[tokio::test]
async fn a_locked_account_accepts_a_follow_request_from_the_web() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.request(
        reqwest::Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&alice.token),
        Some(json!({"locked": true})),
    )
    .await
    .ok();
    app.follow(&bob, &alice).await;
    let mut browser = sign_in(&app, &alice).await;

    let page = browser.get("/web/follow_requests").await;
    assert!(page.body.contains("@bob"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf").unwrap();
    let after = browser
        .post(
            &format!("/web/follow_requests/{}/authorize", bob.id),
            &[("csrf", &csrf)],
        )
        .await;

    assert!(after.body.contains("No one is waiting"), "{}", after.body);
    let rel = app
        .get(
            &bob,
            &format!("/api/v1/accounts/relationships?id[]={}", alice.id),
        )
        .await
        .ok();
    assert_eq!(rel[0]["following"], true);
}

#[tokio::test]
async fn a_hashtag_page_shows_public_posts_to_visitors() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.post_status(&alice, "Sunny #gardening day", "public")
        .await;
    app.post_status(&alice, "Quiet #gardening notes", "private")
        .await;

    let mut visitor = Browser::new(&app);
    let page = visitor.get("/tags/gardening").await;

    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Sunny"), "{}", page.body);
    assert!(!page.body.contains("Quiet"));
}

#[tokio::test]
async fn the_profile_is_edited_from_settings() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut browser = sign_in(&app, &alice).await;
    let form = browser.get("/web/settings/profile").await;
    let csrf = hidden(&form.body, "csrf").unwrap();

    let profile = browser
        .post(
            "/web/settings/profile",
            &[
                ("csrf", &csrf),
                ("display_name", "Alice Liddell"),
                ("note", "Curious about #rabbits"),
                ("privacy", "private"),
                ("locked", "1"),
                ("follow_back", "1"),
                ("min_overlap", "25"),
            ],
        )
        .await;

    assert_eq!(profile.status, StatusCode::OK, "{}", profile.body);
    assert!(profile.body.contains("Alice Liddell"));
    assert!(profile.body.contains("rabbits"));
    let me = app
        .get(&alice, "/api/v1/accounts/verify_credentials")
        .await
        .ok();
    assert_eq!(me["locked"], true);
    assert_eq!(me["source"]["privacy"], "private");
    let rule = app.get(&alice, "/api/v1/cascade/follow_back").await.ok();
    assert_eq!(rule["enabled"], true);
    assert_eq!(rule["min_overlap"], 0.25);
    let too_long = "x".repeat(600);
    let refused = browser
        .post(
            "/web/settings/profile",
            &[("csrf", &csrf), ("note", &too_long)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_author_sees_going_viral_and_the_views_on_the_spread_page() {
    let app = crate::helpers::spawn_with(|c| c.viral_multiple = 1.0).await;
    let author = app.user("author").await;
    let post = app.post_status(&author, "watch this", "public").await;
    let id = post["id"].as_str().unwrap();
    for i in 0..8 {
        let r = app.user(&format!("r{i}")).await;
        for j in 0..3 {
            let f = app.user(&format!("f{i}x{j}")).await;
            app.follow(&f, &r).await;
        }
        app.post(&r, &format!("/api/v1/statuses/{id}/reblog"), json!({}))
            .await
            .ok();
    }
    let mut browser = sign_in(&app, &author).await;

    let notifications = browser.get("/web/notifications").await;
    let spread = browser.get(&format!("/@author/{id}/cascade")).await;
    let mut visitor = Browser::new(&app);
    let public_spread = visitor.get(&format!("/@author/{id}/cascade")).await;

    assert!(
        notifications.body.contains("Your post is going viral"),
        "{}",
        notifications.body
    );
    assert!(notifications
        .body
        .contains(&format!("/@author/{id}/cascade")));
    assert!(spread.body.contains("Distinct viewers"), "{}", spread.body);
    assert!(spread.body.contains(&format!("data-spread-of=\"{id}\"")));
    assert!(!public_spread.body.contains("Distinct viewers"));
    assert!(public_spread.body.contains("How this post spread"));
}

#[tokio::test]
async fn a_filter_made_in_settings_puts_matching_posts_behind_a_warning() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    let mut browser = sign_in(&app, &alice).await;
    let csrf = browser.csrf().await;

    let page = browser
        .post(
            "/web/settings/filters",
            &[
                ("csrf", &csrf),
                ("title", "Spoilers"),
                ("keywords", "finale"),
                ("filter_action", "warn"),
                ("ctx_home", "1"),
            ],
        )
        .await;
    assert!(page.body.contains("Spoilers"), "{}", page.body);
    app.post_status(&bob, "The finale was wild", "public").await;
    let home = browser.get("/").await;

    assert!(
        home.body.contains("<summary>Filtered: Spoilers</summary>"),
        "{}",
        home.body
    );
}

#[tokio::test]
async fn a_form_goes_back_only_to_a_page_of_this_site() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut browser = sign_in(&app, &alice).await;
    let csrf = browser.csrf().await;

    for back in [
        "//evil.example/",
        "/\t/evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let req = browser
            .client
            .post(app.url(&format!("/web/accounts/{}/mute", bob.id)))
            .form(&[("csrf", csrf.as_str()), ("back", back)]);
        let answer = browser.send(req).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(answer.location.as_deref(), Some("/"), "{back:?}");
    }
}

#[tokio::test]
async fn the_ranked_home_says_why_and_the_public_timeline_shows_local_posts() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    app.post_status(&bob, "Ranked by engagement", "public")
        .await;
    let mut browser = sign_in(&app, &alice).await;

    let ranked = browser.get("/?view=ranked").await;
    let public = browser.get("/web/public").await;

    assert!(
        ranked.body.contains("Ranked by engagement"),
        "{}",
        ranked.body
    );
    assert!(ranked.body.contains("Why here:"), "{}", ranked.body);
    assert!(public.body.contains("Ranked by engagement"));
}

#[tokio::test]
async fn quoting_a_post_from_the_web_links_it_into_its_cascade() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app.post_status(&bob, "Quotable words", "public").await;
    let id = post["id"].as_str().unwrap();
    let mut browser = sign_in(&app, &alice).await;

    let page = browser.get(&format!("/web/statuses/{id}/quote")).await;
    assert!(page.body.contains("Quotable words"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf").unwrap();
    let home = browser
        .post(
            "/web/statuses",
            &[
                ("csrf", &csrf),
                ("status", "So true"),
                ("quoted_status_id", id),
                ("back", "/"),
            ],
        )
        .await;

    assert!(home.body.contains("So true"), "{}", home.body);
    assert!(home.body.contains("Open the quoted post"));
    let quoted = app.get_anon(&format!("/api/v1/statuses/{id}")).await.ok();
    assert_eq!(quoted["quotes_count"], 1);
}

#[tokio::test]
async fn a_list_made_elsewhere_reads_as_a_timeline_and_explore_answers() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob).await;
    let list = app
        .post(&alice, "/api/v1/lists", json!({"title": "Close friends"}))
        .await
        .ok();
    let id = list["id"].as_str().unwrap();
    app.post(
        &alice,
        &format!("/api/v1/lists/{id}/accounts"),
        json!({"account_ids": [bob.id]}),
    )
    .await
    .ok();
    app.post_status(&bob, "For the list", "public").await;
    let mut browser = sign_in(&app, &alice).await;

    let lists = browser.get("/web/lists").await;
    let timeline = browser.get(&format!("/web/lists/{id}")).await;
    let explore = browser.get("/web/explore").await;

    assert!(lists.body.contains("Close friends"), "{}", lists.body);
    assert!(timeline.body.contains("For the list"), "{}", timeline.body);
    assert_eq!(explore.status, StatusCode::OK);
}

#[tokio::test]
async fn lists_are_made_filled_renamed_and_deleted_from_the_web() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&alice, &bob).await;
    app.post_status(&bob, "Bob for the list", "public").await;
    let mut browser = sign_in(&app, &alice).await;
    let csrf = browser.csrf().await;

    let forged = browser
        .post("/web/lists", &[("csrf", "wrong"), ("title", "Forged")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let made = browser
        .post(
            "/web/lists",
            &[
                ("csrf", &csrf),
                ("title", "Neighbours"),
                ("replies_policy", "followed"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let lists = app.get(&alice, "/api/v1/lists").await.ok();
    assert_eq!(lists[0]["title"], "Neighbours");
    assert_eq!(lists[0]["replies_policy"], "followed");
    let id = lists[0]["id"].as_str().unwrap().to_string();
    let page = format!("/web/lists/{id}");

    let added = browser
        .post(
            &format!("{page}/members"),
            &[("csrf", &csrf), ("account", "@bob")],
        )
        .await;
    let stranger = browser
        .post(
            &format!("{page}/members"),
            &[("csrf", &csrf), ("account", "carol")],
        )
        .await;
    let nobody = browser
        .post(
            &format!("{page}/members"),
            &[("csrf", &csrf), ("account", "nobody")],
        )
        .await;

    assert!(added.body.contains("@bob"), "{}", added.body);
    assert!(added.body.contains("Bob for the list"), "{}", added.body);
    assert_eq!(stranger.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stranger.body.contains("only add accounts you follow"));
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    let members = app
        .get(&alice, &format!("/api/v1/lists/{id}/accounts"))
        .await
        .ok();
    let members: Vec<&str> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(members, vec![bob.id.as_str()], "carol is no member");
    let _ = carol;

    let renamed = browser
        .post(
            &page,
            &[
                ("csrf", &csrf),
                ("title", "Street"),
                ("replies_policy", "none"),
                ("exclusive", "1"),
            ],
        )
        .await;
    assert!(renamed.body.contains("List: Street"), "{}", renamed.body);
    let list = app.get(&alice, &format!("/api/v1/lists/{id}")).await.ok();
    assert_eq!(list["title"], "Street");
    assert_eq!(list["replies_policy"], "none");
    assert_eq!(list["exclusive"], true);
    let blank = browser
        .post(&page, &[("csrf", &csrf), ("title", " ")])
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);

    let removed = browser
        .post(
            &format!("{page}/members/{}/remove", bob.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(!removed.body.contains("@bob"), "{}", removed.body);
    let members = app
        .get(&alice, &format!("/api/v1/lists/{id}/accounts"))
        .await
        .ok();
    assert_eq!(members, json!([]));

    // Someone else's list is not found, and cannot be deleted.
    let mut other = sign_in(&app, &bob).await;
    let other_csrf = other.csrf().await;
    assert_eq!(other.get(&page).await.status, StatusCode::NOT_FOUND);
    let theirs = other
        .post(&format!("{page}/delete"), &[("csrf", &other_csrf)])
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    let deleted = browser
        .post(&format!("{page}/delete"), &[("csrf", &csrf)])
        .await;
    assert!(deleted.body.contains("No lists yet"), "{}", deleted.body);
    assert_eq!(app.get(&alice, "/api/v1/lists").await.ok(), json!([]));
}

#[tokio::test]
async fn the_avatar_and_header_are_uploaded_and_removed_from_settings() {
    use crate::helpers::{multipart, Part};
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut browser = sign_in(&app, &alice).await;
    let csrf = browser.csrf().await;
    let before = app
        .get(&alice, "/api/v1/accounts/verify_credentials")
        .await
        .ok();
    let settings = browser.get("/web/settings/profile").await;
    assert!(settings.body.contains("enctype=\"multipart/form-data\""));

    let send = |csrf: String, parts: Vec<(&'static str, Vec<u8>)>| {
        let mut all = vec![Part::text("csrf", &csrf)];
        for (name, bytes) in parts {
            if bytes.is_empty() {
                all.push(Part::text(name, "1"));
            } else {
                all.push(Part::file(name, "picture.png", "image/png", bytes));
            }
        }
        multipart(&all)
    };
    let (forged, forged_type) = send("wrong".into(), vec![("avatar", png())]);
    let req = browser
        .client
        .post(app.url("/web/settings/profile/pictures"))
        .header("content-type", forged_type)
        .body(forged);
    assert_eq!(browser.send(req).await.status, StatusCode::FORBIDDEN);
    let unchanged = app
        .get(&alice, "/api/v1/accounts/verify_credentials")
        .await
        .ok();
    assert_eq!(
        unchanged["avatar"], before["avatar"],
        "a forged form stores nothing"
    );

    let (body, content_type) = send(csrf.clone(), vec![("avatar", png()), ("header", png())]);
    let req = browser
        .client
        .post(app.url("/web/settings/profile/pictures"))
        .header("content-type", content_type)
        .body(body);
    let saved = browser.send(req).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let after = app
        .get(&alice, "/api/v1/accounts/verify_credentials")
        .await
        .ok();
    let avatar = after["avatar"].as_str().unwrap();
    assert_ne!(after["avatar"], before["avatar"]);
    assert!(!after["header"].as_str().unwrap().ends_with("missing.png"));
    let served = reqwest::get(avatar).await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    let picture = image::load_from_memory(&served.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (picture.width(), picture.height()),
        (24, 24),
        "the avatar is cropped square"
    );
    let page = browser.get("/web/settings/profile").await;
    assert!(
        page.body.replace("&#x2f;", "/").contains(avatar),
        "{}",
        page.body
    );

    let (body, content_type) = send(csrf.clone(), vec![("remove_header", Vec::new())]);
    let req = browser
        .client
        .post(app.url("/web/settings/profile/pictures"))
        .header("content-type", content_type)
        .body(body);
    assert_eq!(browser.send(req).await.status, StatusCode::SEE_OTHER);
    let removed = app
        .get(&alice, "/api/v1/accounts/verify_credentials")
        .await
        .ok();
    assert!(removed["header"].as_str().unwrap().ends_with("missing.png"));
    assert_eq!(removed["avatar"], after["avatar"], "the avatar stays");

    let (body, content_type) = send(csrf, vec![("avatar", b"<script>".to_vec())]);
    let req = browser
        .client
        .post(app.url("/web/settings/profile/pictures"))
        .header("content-type", content_type)
        .body(body);
    assert_eq!(
        browser.send(req).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

/// A small PNG of one colour.
fn png() -> Vec<u8> {
    use image::ImageEncoder;
    let img = image::RgbaImage::from_pixel(32, 24, image::Rgba([40, 120, 200, 255]));
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&img, 32, 24, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

#[tokio::test]
async fn a_picture_with_alt_text_is_uploaded_then_posted_from_the_compose_box() {
    use crate::helpers::{multipart, Part};
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut browser = sign_in(&app, &alice).await;
    let csrf = browser.csrf().await;

    let (forged, forged_type) = multipart(&[
        Part::text("csrf", "wrong"),
        Part::file("file", "sky.png", "image/png", png()),
        Part::text("description", "A blue square"),
    ]);
    let req = browser
        .client
        .post(app.url("/web/media"))
        .header("content-type", forged_type)
        .body(forged);
    assert_eq!(browser.send(req).await.status, StatusCode::FORBIDDEN);
    let (body, content_type) = multipart(&[
        Part::text("csrf", &csrf),
        Part::file("file", "sky.png", "image/png", png()),
        Part::text("description", "A blue square"),
    ]);
    let req = browser
        .client
        .post(app.url("/web/media"))
        .header("content-type", content_type)
        .body(body);
    let uploaded = browser.send(req).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER);
    let home = browser.get(uploaded.location.as_deref().unwrap()).await;
    let media_id = hidden(&home.body, "media_id").expect("the upload waits in the compose box");
    assert!(home.body.contains("A blue square"));

    let posted = browser
        .post(
            "/web/statuses",
            &[
                ("csrf", &csrf),
                ("status", "Look at this sky"),
                ("media_id", &media_id),
                ("back", "/"),
            ],
        )
        .await;

    assert!(posted.body.contains("Look at this sky"), "{}", posted.body);
    assert!(
        posted.body.contains("alt=\"A blue square\""),
        "{}",
        posted.body
    );
    let posts = app
        .get(&alice, &format!("/api/v1/accounts/{}/statuses", alice.id))
        .await
        .ok();
    assert_eq!(
        posts.as_array().unwrap().len(),
        1,
        "one post, with the one accepted upload"
    );
    // The picture's blurhash stands under it while it loads, drawn by the server.
    let start = posted
        .body
        .find("/web/blurhash/")
        .expect("a blurhash placeholder");
    let end = start + posted.body[start..].find('"').unwrap();
    let placeholder = reqwest::get(app.url(&posted.body[start..end].replace("&amp;", "&")))
        .await
        .unwrap();
    assert_eq!(placeholder.status(), StatusCode::OK);
    assert_eq!(placeholder.headers()["content-type"], "image/png");
    assert!(placeholder.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let drawn = image::load_from_memory(&placeholder.bytes().await.unwrap()).unwrap();
    assert_eq!((drawn.width(), drawn.height()), (32, 32));
    let not_one = reqwest::get(app.url("/web/blurhash/not-a-hash"))
        .await
        .unwrap();
    assert_eq!(not_one.status(), StatusCode::NOT_FOUND);

    // Sensitive media waits behind a warning, its placeholder with it.
    let picture = crate::media::upload(&app, &alice, png(), "sky.png", "image/png").await;
    let sensitive = app
        .post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "Careful", "media_ids": [picture["id"]], "sensitive": true}),
        )
        .await
        .ok();
    let page = browser
        .get(&format!("/@alice/{}", sensitive["id"].as_str().unwrap()))
        .await;
    let warning = page
        .body
        .find("<details class=\"sensitive\">")
        .expect("a warning before the media");
    assert!(page.body[warning..].find("/web/blurhash/").is_some());
    assert_eq!(
        posts[0]["media_attachments"][0]["description"],
        "A blue square"
    );
}

#[tokio::test]
async fn over_https_the_sign_in_cookie_is_secure_and_the_callback_is_https() {
    let app = crate::helpers::spawn_with(|c| c.base_url = "https://cascade.example".into()).await;
    let mut browser = Browser::new(&app);

    let start = browser.get_once("/web/sign_in").await;

    let cookie = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("cascade_sign_in="))
        .expect("the sign-in cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(start
        .location
        .unwrap()
        .contains("redirect_uri=https%3A%2F%2Fcascade.example%2Fweb%2Fcallback"));
}

#[tokio::test]
async fn the_settings_page_links_every_settings_page_and_each_answers() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut browser = sign_in(&app, &alice).await;

    let settings = browser.get("/web/settings").await;

    for path in [
        "/web/settings/profile",
        "/web/settings/away",
        "/web/settings/notifications",
        "/web/settings/filters",
        "/web/follow_requests",
        "/web/favourites",
    ] {
        assert!(
            settings.body.contains(&format!("href=\"{path}\"")),
            "{path}"
        );
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    }
}
